/** All graph ops. Importing this module registers every primitive. */
export * from './attention.ts';
export * from './backward-ops.ts';
export * from './composite.ts';
export * from './elementwise.ts';
export * from './linalg.ts';
export * from './norm.ts';
export * from './reduce.ts';
export * from './resize.ts';
export * from './shape-ops.ts';
