/**
 * The diffusion layer (k-diffusion style; it knows no model): EDM schedule, denoiser scalings and the denoiser
 * contract, CFG guiders, samplers, loss weightings, the standard diffusion loss and training σ sampling, and their
 * config from the sgm YAML. Scalings, weightings, the denoiser and the loss have graph forms (src/graph); the rest is
 * host-side.
 */
export * from './config.ts';
export * from './consistency.ts';
export * from './denoiser.ts';
export * from './guiders.ts';
export * from './linspace.ts';
export * from './loss.ts';
export * from './loss-weighting.ts';
export * from './samplers.ts';
export * from './scalings.ts';
export * from './schedule.ts';
export * from './sigma-sampling.ts';
