export * from './alpha-blender.ts';
export * from './attention.ts';
export * from './feed-forward.ts';
export * from './layers.ts';
export * from './params.ts';
export * from './timestep-embedding.ts';
