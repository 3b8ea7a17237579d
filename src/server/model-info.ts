/**
 * `GET /v1/model`: what the served model offers a client — its name, its camera-motion LoRAs (the names the `lora`
 * field takes; empty for a model without them, and the page then shows no camera selector), the values a job gets
 * when a field is left out, and the server's limits.
 */
import type { SvdModel } from '../models/description.ts';
import type { ServerLimits } from './limits.ts';

export interface ModelInfo {
  readonly name: string;
  readonly cameraLoras: readonly string[];
  readonly defaults: {
    readonly frames: number;
    readonly steps: number;
    readonly fps: number;
    readonly motionBucket: number;
    readonly minCfg: number;
    readonly maxCfg: number;
    readonly size: string;
  };
  readonly limits: Omit<ServerLimits, 'maxQueued'>;
}

export function modelInfo(model: SvdModel, loras: ReadonlyMap<string, string>, limits: ServerLimits): ModelInfo {
  const s = model.sampling;
  const { maxQueued: _queued, ...requestLimits } = limits;
  return {
    name: model.name,
    cameraLoras: [...loras.keys()],
    defaults: {
      frames: s.numFrames,
      steps: s.numSteps,
      fps: s.fpsId + 1,
      motionBucket: s.motionBucketId,
      minCfg: s.minCfg,
      maxCfg: s.maxCfg,
      size: `${s.size[0]}x${s.size[1]}`,
    },
    limits: requestLimits,
  };
}
