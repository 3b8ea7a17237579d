/**
 * The conditioning batch of image-to-video, as `simple_video_sample.py` builds it (svd-spec.md §2.1): the clean frame
 * (`cond_frames_without_noise`, CLIP), the noise-augmented frame `cond_frames = image + cond_aug·ε` (VAE encoder), and
 * one micro-condition per frame (`fps_id`, `motion_bucket_id`, `cond_aug`; for a multi-view orbit `polars_rad` and
 * `azimuths_rad`, ./orbit.ts). Only the keys the model's embedders read
 * are returned; a model that needs a key image-to-video does not provide is an error naming it.
 */
import type { EmbedderSpec } from '../models/description.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import { type OrbitAngles, orbitBatchEntries } from './orbit.ts';

export interface MicroConditions {
  /** Frames T: each micro-condition is repeated once per frame. */
  frames: number;
  fpsId: number;
  motionBucketId: number;
  condAug: number;
  /** A multi-view orbit's camera (SV3D_p: `polars_rad`, `azimuths_rad`; ./orbit.ts). */
  orbit?: OrbitAngles;
}

/** `image + cond_aug · noise`, with torch's rounding: the Python scalar is cast to float32 before the multiply. */
export function augmentCondFrames(image: HostTensor, noise: HostTensor, condAug: number): HostTensor<'float32'> {
  if (image.shape.join() !== noise.shape.join()) {
    throw new Error(`cond_noise must be [${image.shape.join(', ')}], got [${noise.shape.join(', ')}]`);
  }
  const aug = Math.fround(condAug);
  const x = image.data as Float32Array;
  const n = noise.data as Float32Array;
  return new HostTensor(
    'float32',
    image.shape,
    x.map((v, i) => Math.fround(v + Math.fround(aug * n[i]))),
  );
}

/** The batch for the model's embedders: image [1, 3, H, W] in [−1, 1], its conditioning noise, micro-conditions. */
export function imageToVideoBatch(
  embedders: readonly EmbedderSpec[],
  image: HostTensor,
  condNoise: HostTensor,
  micro: MicroConditions,
): Record<string, HostTensor> {
  const T = micro.frames;
  const available: Record<string, () => HostTensor> = {
    cond_frames_without_noise: () => image,
    cond_frames: () => augmentCondFrames(image, condNoise, micro.condAug),
    fps_id: () => HostTensor.int64([T], new Array(T).fill(micro.fpsId)),
    motion_bucket_id: () => HostTensor.int64([T], new Array(T).fill(micro.motionBucketId)),
    cond_aug: () => HostTensor.float32([T], new Array(T).fill(micro.condAug)),
  };
  if (micro.orbit) {
    if (micro.orbit.polarsRad.length !== T) {
      throw new Error(`the orbit has ${micro.orbit.polarsRad.length} views for ${T} frames`);
    }
    for (const [k, t] of Object.entries(orbitBatchEntries(micro.orbit))) available[k] = () => t;
  }
  const batch: Record<string, HostTensor> = {};
  for (const e of embedders) {
    const make = available[e.inputKey];
    if (!make) {
      throw new Error(
        `this model needs the conditioning input "${e.inputKey}", which ${micro.orbit ? 'an orbit' : 'image-to-video'} does not provide` +
          (e.inputKey.endsWith('_rad') ? ' (a multi-view camera input: use svd orbit)' : ''),
      );
    }
    batch[e.inputKey] = make();
  }
  return batch;
}
