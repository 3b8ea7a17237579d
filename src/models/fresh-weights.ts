/**
 * Fresh weights for a model description — what a from-scratch training run starts from (the shipped svd-mini model):
 * every parameter of `declareModelParams(model)`, initialised as the reference's modules initialise themselves under
 * PyTorch 1.13, with a seeded Philox generator (one stream per key, so a key's values do not depend on the others):
 *
 * - Linear / Conv weights (≥ 2-D): `kaiming_uniform_(a=√5)`, i.e. U(±1/√fan_in), fan_in = in · ∏ kernel; their
 *   biases U(±1/√fan_in) (torch.nn.Linear / _ConvNd `reset_parameters`).
 * - GroupNorm / LayerNorm: weight 1, bias 0 (a 1-D `weight` is a norm's).
 * - sgm `zero_module`: the last conv of every UNet ResBlock (`out_layers.3`, also in the temporal `time_stack`s of the
 *   UNet and the video decoder), every UNet SpatialTransformer's `proj_out`, and the UNet's final conv (`out.2`) start
 *   at 0 (openaimodel.py / video_model.py), so a fresh UNet outputs 0 and each block starts as its identity path.
 * - AlphaBlender `mix_factor`: the UNet's `merge_factor` (video_model.py, learned_with_images) and the video decoder's
 *   `alpha` (temporal_ae.py, learned).
 * - open_clip VisionTransformer: class/positional embedding and `proj` = width^−½ · N(0, 1); attention `in_proj_weight`
 *   xavier_uniform, `in_proj_bias` and `out_proj.bias` 0 (torch.nn.MultiheadAttention `_reset_parameters`).
 */

import { HostTensor } from '../tensor/host-tensor.ts';
import { Rng } from '../tensor/rng.ts';
import type { Shape } from '../tensor/shape.ts';
import type { CheckpointEntry, CheckpointSource } from '../weights/checkpoint-source.ts';
import { declareModelParams } from './declare-params.ts';
import type { SvdModel } from './description.ts';

/** Which initialiser a parameter gets, and its argument. */
export type FreshInit =
  | { kind: 'uniform'; bound: number }
  | { kind: 'normal'; std: number }
  | { kind: 'constant'; value: number };

const UNET_ZERO = [/\.out_layers\.3\.(weight|bias)$/, /\.out\.2\.(weight|bias)$/, /\.proj_out\.(weight|bias)$/];

function fanIn(shape: Shape): number {
  return shape.slice(1).reduce((a, d) => a * d, 1);
}

/** The initialiser of one parameter (see the module comment); `shapes` resolves a bias's weight. */
export function freshInit(
  key: string,
  shape: Shape,
  shapes: ReadonlyMap<string, Shape>,
  opts: { unetMergeFactor: number; decoderAlpha: number },
): FreshInit {
  const inUnet = key.startsWith('model.diffusion_model.');
  if (key.endsWith('mix_factor')) return { kind: 'constant', value: inUnet ? opts.unetMergeFactor : opts.decoderAlpha };
  if (inUnet && UNET_ZERO.some((r) => r.test(key))) return { kind: 'constant', value: 0 };
  if (/\.time_stack\.out_layers\.3\.(weight|bias)$/.test(key)) return { kind: 'constant', value: 0 };
  // open_clip
  if (/\.(class_embedding|positional_embedding)$/.test(key) || /\.visual\.proj$/.test(key)) {
    const width = key.endsWith('proj') ? shape[0] : shape[shape.length - 1];
    return { kind: 'normal', std: width ** -0.5 };
  }
  if (key.endsWith('.in_proj_weight')) {
    const [out, inp] = shape;
    return { kind: 'uniform', bound: Math.sqrt(6 / (inp + out)) }; // xavier_uniform_ on the stacked [3E, E] tensor
  }
  if (key.endsWith('.in_proj_bias') || key.endsWith('.out_proj.bias')) return { kind: 'constant', value: 0 };
  if (shape.length >= 2) return { kind: 'uniform', bound: 1 / Math.sqrt(fanIn(shape)) };
  if (key.endsWith('.weight')) return { kind: 'constant', value: 1 }; // a norm's scale
  if (key.endsWith('.bias')) {
    const w = shapes.get(`${key.slice(0, -'bias'.length)}weight`);
    if (!w || w.length < 2) return { kind: 'constant', value: 0 }; // a norm's shift
    return { kind: 'uniform', bound: 1 / Math.sqrt(fanIn(w)) };
  }
  return { kind: 'normal', std: 0.02 };
}

/** Every parameter of `model`, freshly initialised with `seed`. */
export function freshWeights(model: SvdModel, seed: number): Map<string, HostTensor<'float32'>> {
  const shapes = declareModelParams(model).shapes;
  const rng = new Rng(seed);
  // the video decoder's alpha: temporal_ae.py's default 0.0 (no released config sets it)
  const opts = { unetMergeFactor: model.unet.mergeFactor, decoderAlpha: 0 };
  const out = new Map<string, HostTensor<'float32'>>();
  for (const [key, shape] of shapes) {
    const n = shape.reduce((a, d) => a * d, 1);
    const init = freshInit(key, shape, shapes, opts);
    let data: Float32Array;
    if (init.kind === 'constant') data = new Float32Array(n).fill(init.value);
    else if (init.kind === 'normal') {
      data = rng.normal(key, n);
      for (let i = 0; i < n; i++) data[i] *= init.std;
    } else {
      data = rng.uniform(key, n);
      for (let i = 0; i < n; i++) data[i] = (2 * data[i] - 1) * init.bound;
    }
    out.set(key, new HostTensor('float32', shape, data));
  }
  return out;
}

/** {@link freshWeights} as a checkpoint source (the start of a from-scratch training run). */
export function freshCheckpoint(
  model: SvdModel,
  seed: number,
  adjust?: (weights: Map<string, HostTensor<'float32'>>) => void,
): CheckpointSource {
  const weights = freshWeights(model, seed);
  adjust?.(weights);
  const entries = new Map<string, CheckpointEntry>();
  for (const [k, t] of weights) entries.set(k, { dtype: 'float32', shape: t.shape });
  const read = async (key: string): Promise<HostTensor> => {
    const t = weights.get(key);
    if (!t) throw new Error(`fresh weights: no parameter "${key}"`);
    // a copy, as a file source gives: callers may transfer the buffer to the engine
    return new HostTensor('float32', t.shape, (t.data as Float32Array).slice());
  };
  return {
    path: `<fresh seed ${seed}>`,
    layout: 'sgm',
    metadata: {},
    entries: () => new Map(entries),
    read,
    readStored: read,
    close: async () => {},
  };
}
