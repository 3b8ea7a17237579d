/**
 * Synthetic training clips for tests: the golden 64×64 input photo panned by a per-sample velocity (camera motion with
 * a known speed), frames [T, 3, H, W] in [−1, 1]. A provider in the run's order: sample i of epoch e is clip
 * (permuted i), its position { index } resumes exactly.
 */

import { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { Rng } from '../../../src/tensor/rng.ts';
import type { SampleProvider } from '../../../src/training/run/train-run.ts';
import type { TrainConfig } from '../../../src/training/stages/config.ts';
import type { TrainSample } from '../../../src/training/stages/step-batch.ts';
import { loadImageTensor } from '../../../src/video/image-io.ts';
import { GOLDEN_DIR } from '../../helpers/golden.ts';

const CLIPS = 8;

/** Clip k: the photo shifted by (k − 3)·2 px per frame horizontally, wrapping around. */
function panningClip(photo: HostTensor, k: number, frames: number): HostTensor {
  const [, c, h, w] = photo.shape;
  const src = photo.data as Float32Array;
  const out = new Float32Array(frames * c * h * w);
  const v = (k - 3) * 2;
  for (let t = 0; t < frames; t++) {
    const dx = (((v * t) % w) + w) % w;
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) out[((t * c + ch) * h + y) * w + x] = src[(ch * h + y) * w + ((x + dx) % w)];
      }
    }
  }
  return new HostTensor('float32', [frames, c, h, w], out);
}

export async function panningClips(config: TrainConfig, position?: unknown): Promise<SampleProvider> {
  const photo = await loadImageTensor(`${GOLDEN_DIR}pipeline-tiny/input.png`);
  let index = (position as { index?: number } | undefined)?.index ?? 0;
  const rng = new Rng(config.seed);
  const orderOf = (epoch: number) => {
    const keys = rng.uint32(`order.${epoch}`, CLIPS);
    return [...keys.keys()].sort((a, b) => keys[a] - keys[b]);
  };
  return {
    async next() {
      const epoch = Math.floor(index / CLIPS);
      const k = orderOf(epoch)[index % CLIPS];
      index++;
      const sample: TrainSample = {
        id: `pan-${k}`,
        frames: panningClip(photo, k, config.data.frames),
        fpsId: 6,
        motionBucketId: 20 * k,
      };
      return { sample };
    },
    position: () => ({ index }),
  };
}
