/**
 * Naive float64 reference interpreter: one obviously-correct loop kernel per ONNX operator the models use. It is the
 * oracle for ONNX lowerings and gradient checks, so clarity beats speed.
 */
export * from './attention.ts';
export * from './cast.ts';
export * from './conv.ts';
export * from './elementwise.ts';
export * from './erf.ts';
export * from './matmul.ts';
export * from './norm.ts';
export * from './reduce.ts';
export * from './resize.ts';
export * from './shape-ops.ts';
export * from './tensor.ts';
