/**
 * Parameter initialisation for training stages.
 *
 * Stage II adds temporal layers to an image model (VideoLDM layout, paper §3.2). They are initialised so that the
 * video network starts out equal to the image model frame by frame: every temporal branch ends in a residual whose
 * last projection is zero (the temporal ResBlock's `out_layers.3`, each temporal transformer block's `attn1.to_out`,
 * `attn2.to_out`, `ff.net.2`, `ff_in.net.2`) and the frame-position embedding added before the temporal blocks
 * (`time_pos_embed.2`) is zero, so each temporal branch returns its input and the learned blend
 * α·spatial + (1 − α)·temporal is the spatial output whatever α is. Other weights are drawn N(0, 1/fan_in) from the
 * run's seed, norms start at (1, 0), `mix_factor` at the config's `merge_factor` (sgm `AlphaBlender` init).
 */
import type { SvdModel } from '../../models/description.ts';
import type { ParamTree } from '../../nn/params.ts';
import { HostTensor } from '../../tensor/host-tensor.ts';
import { Rng } from '../../tensor/rng.ts';
import { numel } from '../../tensor/shape.ts';
import { globToRegExp, TEMPORAL_PARAM_PATTERNS } from '../freeze.ts';

/** The last projections of the temporal branches and the frame-position embedding: zero at the start of Stage II. */
export const TEMPORAL_ZERO_PATTERNS: readonly string[] = [
  '**.time_stack.out_layers.3.*',
  '**.time_stack.*.attn1.to_out.0.*',
  '**.time_stack.*.attn2.to_out.0.*',
  '**.time_stack.*.ff.net.2.*',
  '**.time_stack.*.ff_in.net.2.*',
  '**.time_pos_embed.2.*',
];

/** Norm parameters (GroupNorm / LayerNorm), by the reference's module names. */
const NORM_PATTERNS = ['**.norm*.*', '**.in_layers.0.*', '**.out_layers.0.*', '**.out.0.*', '**.ln_*.*'];

export interface InitOptions {
  seed: number;
  /** Initial `mix_factor` (sgm `merge_factor`, 0.5). */
  mergeFactor: number;
  /** Keys initialised to zero. */
  zero?: readonly string[];
}

/** A fresh value for parameter `key` of `shape`. */
export function initParam(
  key: string,
  shape: readonly number[],
  opts: InitOptions,
  rng = new Rng(opts.seed),
): HostTensor {
  const matches = (patterns: readonly string[]) => patterns.some((p) => globToRegExp(p).test(key));
  if (key.endsWith('mix_factor')) return HostTensor.float32(shape, new Array(numel(shape)).fill(opts.mergeFactor));
  if (matches(opts.zero ?? [])) return HostTensor.zeros('float32', shape);
  if (matches(NORM_PATTERNS) || shape.length <= 1) {
    const isScale = key.endsWith('.weight') && matches(NORM_PATTERNS);
    return isScale ? HostTensor.float32(shape, new Array(numel(shape)).fill(1)) : HostTensor.zeros('float32', shape);
  }
  const t = rng.randn(`init.${key}`, shape);
  const std = 1 / Math.sqrt(numel(shape) / shape[0]); // N(0, 1/fan_in)
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) d[i] *= std;
  return t;
}

/** The temporal layers of `tree` initialised for Stage II (see the module comment). */
export function initTemporalLayers(tree: ParamTree, opts: Omit<InitOptions, 'zero'>): Map<string, HostTensor> {
  const rng = new Rng(opts.seed);
  const temporal = TEMPORAL_PARAM_PATTERNS.map(globToRegExp);
  const out = new Map<string, HostTensor>();
  for (const [key, shape] of tree.shapes) {
    if (!temporal.some((r) => r.test(key))) continue;
    out.set(key, initParam(key, shape, { ...opts, zero: TEMPORAL_ZERO_PATTERNS }, rng));
  }
  return out;
}

/**
 * The first-stage encoder's `conv_out` bias for the log-variance half of its 2·z outputs (sgm `Encoder` with
 * `double_z`: mean channels first, then log-variance) set to `value` (config `model.logvarInit`).
 */
export function setLogvarBias(weights: Map<string, HostTensor<'float32'>>, model: SvdModel, value: number): void {
  const key = 'first_stage_model.encoder.conv_out.bias';
  const bias = weights.get(key);
  const fs = model.firstStage;
  if (!bias || fs.kind !== 'autoencoding-engine' || !fs.encoder?.doubleZ) {
    throw new Error(`model.logvarInit: ${model.name} has no first-stage encoder with a log-variance output (${key})`);
  }
  const z = fs.encoder.zChannels;
  (bias.data as Float32Array).fill(value, z, 2 * z); // [2z]: mean | logvar
}

/** The video decoder's output `time_mix_conv` (sgm `AE3DConv`, temporal_ae.py), when the model has one. */
export const DECODER_TIME_MIX_CONV = 'first_stage_model.decoder.conv_out.time_mix_conv';

/**
 * A fresh video decoder made to start as the image decoder frame by frame, as Stage II starts the video UNet (paper
 * §3.2): its output `time_mix_conv` — a Conv3d over the RGB output with kernel [k, 1, 1] and no residual — becomes the
 * identity (the centre tap 1 on the diagonal, everything else and the bias 0); its temporal res blocks already start
 * as their identity path (`time_stack.out_layers.3` is a zero_module). PyTorch's default init there mixes the colour
 * channels of neighbouring frames at random: measured on svd-mini, 500 steps later the map was still scrambled
 * (the output's green drawn mostly from the neighbours' red and blue) and the decoder gave back photos without hue,
 * worse at T = 1 than at the trained T. Returns whether the model has the layer.
 */
export function initDecoderTimeMixAsIdentity(weights: Map<string, HostTensor<'float32'>>): boolean {
  const w = weights.get(`${DECODER_TIME_MIX_CONV}.weight`);
  const b = weights.get(`${DECODER_TIME_MIX_CONV}.bias`);
  if (!w || !b) return false;
  const [out, inC, k] = w.shape; // [C, C, k, 1, 1]
  const d = w.data as Float32Array;
  d.fill(0);
  for (let c = 0; c < Math.min(out, inC); c++) d[(c * inC + c) * k + Math.floor(k / 2)] = 1;
  (b.data as Float32Array).fill(0);
  return true;
}

/**
 * The first-stage encoder's `conv_in` with its response to colour differences scaled by `gain` (config
 * `model.colourInitGain`): each output channel's and tap's weights over (R, G, B) keep their mean and have their
 * deviation from it multiplied by `gain`.
 */
export function scaleEncoderColourInit(weights: Map<string, HostTensor<'float32'>>, gain: number): void {
  const key = 'first_stage_model.encoder.conv_in.weight';
  const w = weights.get(key);
  if (w?.shape[1] !== 3) throw new Error(`model.colourInitGain: no RGB ${key}`);
  const [out, , kh, kw] = w.shape; // [C, 3, kh, kw]
  const taps = kh * kw;
  const d = w.data as Float32Array;
  for (let o = 0; o < out; o++) {
    for (let t = 0; t < taps; t++) {
      const at = [0, 1, 2].map((c) => (o * 3 + c) * taps + t);
      const mean = (d[at[0]] + d[at[1]] + d[at[2]]) / 3;
      for (const i of at) d[i] = mean + gain * (d[i] - mean);
    }
  }
}
