/** Parameters of one image-to-video generation, with the released models' defaults from the preset. */
import type { SamplingDefaults } from '../models/presets.ts';

export type GuiderKind = 'linear' | 'triangle' | 'vanilla';
export type SamplerKind = 'euler' | 'heun' | 'dpmpp-2m';

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
    sampler: 'euler',
    seed: 23,
    decodeChunk: s.decodeChunk,
    splitCfg: false,
    sigmaMin: s.sigmaMin,
    sigmaMax: s.sigmaMax,
    rho: s.rho,
  };
}
