/** A training config for the tiny golden model on 64×64 synthetic clips (30 steps, lr 3e-3; LoRA 1e-2). */
import { resolveTrainConfig, type StageKind } from '../../../src/training/stages/config.ts';
import { GOLDEN_DIR } from '../../helpers/golden.ts';

const G = `${GOLDEN_DIR}pipeline-tiny/`;

export function tinyConfig(stage: StageKind, extra: Record<string, unknown> = {}) {
  return resolveTrainConfig({
    stage,
    model: { preset: undefined, config: `${G}config.json`, init: `${G}checkpoint.safetensors` },
    data: {
      ...(stage === 'image' ? { images: 'synthetic' } : { videos: 'synthetic' }),
      frames: stage === 'image' ? 1 : 4,
      width: 64,
      height: 64,
      fps: [7],
    },
    steps: 30,
    lr: stage === 'lora' ? 1e-2 : 3e-3,
    warmupSteps: 0,
    ema: 0,
    threads: 2,
    validation: { every: 10, seeds: [1], steps: 2 },
    checkpoint: { every: 100, keep: 1 },
    ...extra,
  });
}
