export * from './config.ts';
export * from './image-embedder.ts';
export * from './vision-transformer.ts';
