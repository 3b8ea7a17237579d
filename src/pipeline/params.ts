/** Parameters of one image-to-video generation, with the model's defaults (its preset or config). */
import type { GuiderKind, SamplerKind } from '../diffusion/config.ts';
import type { SamplingDefaults } from '../models/description.ts';

export interface GenerateParams {
  frames: number;
  steps: number;
  /** Frame-rate conditioning id; the reference conditions on fps − 1 (svd-spec §7 item 11). */
  fpsId: number;
  motionBucketId: number;
  condAug: number;
  minCfg: number;
  maxCfg: number;
  guider: GuiderKind;
  sampler: SamplerKind;
  seed: number;
  /** Frames per decoder call (`decoding_t`); the result depends on it (temporal context stops at chunk borders). */
  decodeChunk: number;
  /** Run the unconditional and conditional halves of the CFG batch as two UNet calls (exact; less memory). */
  splitCfg: boolean;
  sigmaMin: number;
  sigmaMax: number;
  rho: number;
  /** EDM stochastic churn (Euler and Heun; 0 = off, the reference's default). */
  sChurn: number;
  sTmin: number;
  sTmax: number;
  sNoise: number;
}

export function defaultParams(s: SamplingDefaults): GenerateParams {
  return {
    frames: s.numFrames,
    steps: s.numSteps,
    fpsId: s.fpsId,
    motionBucketId: s.motionBucketId,
    condAug: s.condAug,
    minCfg: s.minCfg,
    maxCfg: s.maxCfg,
    guider: s.guider,
    sampler: s.sampler ?? 'euler',
    seed: 23,
    decodeChunk: s.decodeChunk,
    splitCfg: false,
    sigmaMin: s.sigmaMin,
    sigmaMax: s.sigmaMax,
    rho: s.rho,
    sChurn: 0,
    sTmin: 0,
    sTmax: Number.POSITIVE_INFINITY,
    sNoise: 1,
  };
}
