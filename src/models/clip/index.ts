export * from './clip-checkpoint.ts';
export * from './config.ts';
export * from './image-embedder.ts';
export * from './text-transformer.ts';
export * from './tokenizer.ts';
export * from './vision-transformer.ts';
