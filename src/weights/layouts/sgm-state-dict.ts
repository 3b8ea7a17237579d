/**
 * The sgm state-dict keys and shapes an SVD checkpoint has for a given `SvdCheckpointConfig`, enumerated from the
 * reference module trees (the single-file layout of the released `svd*.safetensors`):
 * - `model.diffusion_model.*` — `sgm/modules/diffusionmodules/video_model.py::VideoUNet`;
 * - `first_stage_model.{encoder,decoder}.*` — `model.py::Encoder` + `autoencoding/temporal_ae.py::VideoDecoder`;
 * - `conditioner.embedders.3.encoder.*` — `sgm/models/autoencoder.py::AutoencoderKLModeOnly` (Encoder, plain
 *   Decoder, quant_conv, post_quant_conv);
 * - `conditioner.embedders.0.open_clip.model.visual.*` — open_clip `VisionTransformer`, and the text-side leftovers
 *   `token_embedding`, `positional_embedding`, `ln_final`, `text_projection`, `logit_scale`.
 * The result is what a strict check expects (`checkKeys(entries, expected)`); order follows the module trees.
 */
import type { Shape } from '../../tensor/shape.ts';
import {
  type AutoencoderDims,
  type ClipDims,
  type SvdCheckpointConfig,
  unetAttentionHeads,
  unetLevelHasAttention,
  type VideoUNetDims,
} from './model-config.ts';

export const SGM_PREFIXES = {
  unet: 'model.diffusion_model.',
  firstStageEncoder: 'first_stage_model.encoder.',
  firstStageDecoder: 'first_stage_model.decoder.',
  condEncoder: 'conditioner.embedders.3.encoder.',
  clip: 'conditioner.embedders.0.open_clip.model.',
  clipVisual: 'conditioner.embedders.0.open_clip.model.visual.',
} as const;

/** Collects `key → shape` under a module prefix (`p.pp('x')` nests like the reference module tree). */
class Dict {
  constructor(
    readonly out: Map<string, Shape>,
    readonly prefix: string,
  ) {}

  pp(name: string | number): Dict {
    return new Dict(this.out, `${this.prefix}${name}.`);
  }

  add(name: string, shape: Shape): void {
    this.out.set(`${this.prefix}${name}`, shape);
  }

  /** weight + optional bias of a layer. */
  layer(name: string, weight: Shape, bias = true): void {
    this.add(`${name}.weight`, weight);
    if (bias) this.add(`${name}.bias`, [weight[0]]);
  }

  norm(name: string, channels: number): void {
    this.add(`${name}.weight`, [channels]);
    this.add(`${name}.bias`, [channels]);
  }
}

/** All keys of the checkpoint: UNet, first stage, conditioning encoder, CLIP tower and text leftovers. */
export function svdCheckpointShapes(config: SvdCheckpointConfig): Map<string, Shape> {
  const out = new Map<string, Shape>();
  for (const part of [
    clipTextLeftoverShapes(config.clip),
    clipVisualShapes(config.clip),
    condEncoderShapes(config),
    firstStageShapes(config.firstStage),
    videoUNetShapes(config.unet),
  ]) {
    for (const [k, s] of part) out.set(k, s);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// VideoUNet

/** `model.diffusion_model.*` of `VideoUNet`. */
export function videoUNetShapes(u: VideoUNetDims, prefix: string = SGM_PREFIXES.unet): Map<string, Shape> {
  const out = new Map<string, Shape>();
  const root = new Dict(out, prefix);
  const mc = u.modelChannels;
  const embDim = mc * 4;
  root.layer('time_embed.0', [embDim, mc]);
  root.layer('time_embed.2', [embDim, embDim]);
  if (u.admInChannels !== undefined) {
    root.layer('label_emb.0.0', [embDim, u.admInChannels]);
    root.layer('label_emb.0.2', [embDim, embDim]);
  }
  root.layer('input_blocks.0.0', [mc, u.inChannels, 3, 3]);

  const skips: number[] = [mc];
  let ch = mc;
  let block = 1;
  const levels = u.channelMult.length;
  for (let level = 0; level < levels; level++) {
    const out_ = mc * u.channelMult[level];
    for (let r = 0; r < u.numResBlocks[level]; r++) {
      const b = root.pp('input_blocks').pp(block);
      videoResBlock(b.pp(0), ch, out_, embDim, u);
      ch = out_;
      if (unetLevelHasAttention(u, level)) spatialVideoTransformer(b.pp(1), ch, u.transformerDepth[level], u);
      skips.push(ch);
      block++;
    }
    if (level !== levels - 1) {
      root.pp('input_blocks').pp(block).pp(0).layer('op', [ch, ch, 3, 3]);
      skips.push(ch);
      block++;
    }
  }

  const middle = root.pp('middle_block');
  videoResBlock(middle.pp(0), ch, ch, embDim, u);
  spatialVideoTransformer(middle.pp(1), ch, u.transformerDepthMiddle, u);
  videoResBlock(middle.pp(2), ch, ch, embDim, u);

  block = 0;
  for (let level = levels - 1; level >= 0; level--) {
    const out_ = mc * u.channelMult[level];
    for (let r = 0; r <= u.numResBlocks[level]; r++) {
      const b = root.pp('output_blocks').pp(block);
      const skip = skips.pop() ?? 0;
      videoResBlock(b.pp(0), ch + skip, out_, embDim, u);
      ch = out_;
      let sub = 1;
      if (unetLevelHasAttention(u, level)) {
        spatialVideoTransformer(b.pp(sub), ch, u.transformerDepth[level], u);
        sub++;
      }
      if (level > 0 && r === u.numResBlocks[level]) b.pp(sub).layer('conv', [ch, ch, 3, 3]);
      block++;
    }
  }
  root.norm('out.0', ch);
  root.layer('out.2', [u.outChannels, mc, 3, 3]);
  return out;
}

/** `video_model.py::VideoResBlock`: a ResBlock, its temporal `time_stack` ResBlock (3-D kernel), `time_mixer`. */
function videoResBlock(d: Dict, cin: number, cout: number, embDim: number, u: VideoUNetDims): void {
  resBlock(d, cin, cout, embDim, [3, 3]);
  resBlock(d.pp('time_stack'), cout, cout, embDim, u.videoKernelSize);
  d.add('time_mixer.mix_factor', [1]);
}

/** `openaimodel.py::ResBlock` with the 1×1 conv skip when the channel count changes. */
function resBlock(d: Dict, cin: number, cout: number, embDim: number, kernel: readonly number[]): void {
  d.norm('in_layers.0', cin);
  d.layer('in_layers.2', [cout, cin, ...kernel]);
  d.layer('emb_layers.1', [cout, embDim]);
  d.norm('out_layers.0', cout);
  d.layer('out_layers.3', [cout, cout, ...kernel]);
  if (cin !== cout) d.layer('skip_connection', [cout, cin, ...kernel.map(() => 1)]);
}

/** `video_attention.py::SpatialVideoTransformer`. */
function spatialVideoTransformer(d: Dict, ch: number, depth: number, u: VideoUNetDims): void {
  const { heads, dimHead } = unetAttentionHeads(u, ch);
  const inner = heads * dimHead;
  d.norm('norm', ch);
  d.layer('proj_in', u.useLinearInTransformer ? [inner, ch] : [inner, ch, 1, 1]);
  for (let i = 0; i < depth; i++) {
    const t = d.pp('transformer_blocks').pp(i);
    attention(t.pp('attn1'), inner, inner);
    feedForward(t.pp('ff'), inner);
    attention(t.pp('attn2'), inner, u.contextDim);
    for (const n of ['norm1', 'norm2', 'norm3']) t.norm(n, inner);
  }
  d.layer('proj_out', u.useLinearInTransformer ? [ch, inner] : [ch, inner, 1, 1]);
  for (let i = 0; i < depth; i++) {
    const t = d.pp('time_stack').pp(i);
    if (u.extraFfMixLayer) {
      t.norm('norm_in', inner);
      feedForward(t.pp('ff_in'), inner);
    }
    attention(t.pp('attn1'), inner, inner);
    feedForward(t.pp('ff'), inner);
    t.norm('norm2', inner);
    attention(t.pp('attn2'), inner, u.contextDim);
    t.norm('norm1', inner);
    t.norm('norm3', inner);
  }
  d.layer('time_pos_embed.0', [ch * 4, ch]);
  d.layer('time_pos_embed.2', [ch, ch * 4]);
  d.add('time_mixer.mix_factor', [1]);
}

/** `attention.py::CrossAttention`: bias-free q, k, v; `to_out.0` with bias. */
function attention(d: Dict, inner: number, contextDim: number): void {
  d.layer('to_q', [inner, inner], false);
  d.layer('to_k', [inner, contextDim], false);
  d.layer('to_v', [inner, contextDim], false);
  d.layer('to_out.0', [inner, inner]);
}

/** `attention.py::FeedForward` with GEGLU (mult 4): `net.0.proj` [8·dim, dim], `net.2` [dim, 4·dim]. */
function feedForward(d: Dict, dim: number): void {
  d.layer('net.0.proj', [dim * 8, dim]);
  d.layer('net.2', [dim, dim * 4]);
}

// ---------------------------------------------------------------------------------------------------------------
// Autoencoders

/** `first_stage_model.*` of `AutoencodingEngine`: Encoder + VideoDecoder, no quant convs. */
export function firstStageShapes(dims: AutoencoderDims): Map<string, Shape> {
  const out = new Map<string, Shape>();
  encoder(new Dict(out, SGM_PREFIXES.firstStageEncoder), dims);
  decoder(new Dict(out, SGM_PREFIXES.firstStageDecoder), dims, true);
  return out;
}

/** `conditioner.embedders.3.encoder.*` of `AutoencoderKLModeOnly`: Encoder, Decoder, quant_conv, post_quant_conv. */
export function condEncoderShapes(config: SvdCheckpointConfig): Map<string, Shape> {
  const out = new Map<string, Shape>();
  const { embedDim, dims } = config.condEncoder;
  const root = new Dict(out, SGM_PREFIXES.condEncoder);
  encoder(root.pp('encoder'), dims);
  decoder(root.pp('decoder'), dims, false);
  const moments = dims.doubleZ ? 2 : 1;
  root.layer('quant_conv', [moments * embedDim, moments * dims.zChannels, 1, 1]);
  root.layer('post_quant_conv', [dims.zChannels, embedDim, 1, 1]);
  return out;
}

/** `model.py::Encoder`. */
function encoder(d: Dict, dims: AutoencoderDims): void {
  const levels = dims.chMult.length;
  d.layer('conv_in', [dims.ch, dims.inChannels, 3, 3]);
  let ch = dims.ch;
  for (let level = 0; level < levels; level++) {
    const out = dims.ch * dims.chMult[level];
    for (let j = 0; j < dims.numResBlocks; j++) {
      resnetBlock(d.pp('down').pp(level).pp('block').pp(j), ch, out, false);
      ch = out;
    }
    if (level !== levels - 1) d.pp('down').pp(level).layer('downsample.conv', [ch, ch, 3, 3]);
  }
  mid(d.pp('mid'), ch, false);
  d.norm('norm_out', ch);
  d.layer('conv_out', [dims.doubleZ ? 2 * dims.zChannels : dims.zChannels, ch, 3, 3]);
}

/** `model.py::Decoder`, or `temporal_ae.py::VideoDecoder` (VideoResBlocks, `conv_out.time_mix_conv`) when `video`. */
function decoder(d: Dict, dims: AutoencoderDims, video: boolean): void {
  const levels = dims.chMult.length;
  let ch = dims.ch * dims.chMult[levels - 1];
  d.layer('conv_in', [ch, dims.zChannels, 3, 3]);
  mid(d.pp('mid'), ch, video, dims.videoKernelSize);
  for (let level = levels - 1; level >= 0; level--) {
    const out = dims.ch * dims.chMult[level];
    for (let j = 0; j <= dims.numResBlocks; j++) {
      resnetBlock(d.pp('up').pp(level).pp('block').pp(j), ch, out, video, dims.videoKernelSize);
      ch = out;
    }
    if (level !== 0) d.pp('up').pp(level).layer('upsample.conv', [ch, ch, 3, 3]);
  }
  d.norm('norm_out', ch);
  d.layer('conv_out', [dims.outCh, ch, 3, 3]);
  if (video) d.layer('conv_out.time_mix_conv', [dims.outCh, dims.outCh, ...dims.videoKernelSize]);
}

function mid(d: Dict, ch: number, video: boolean, kernel: readonly number[] = [3, 1, 1]): void {
  resnetBlock(d.pp('block_1'), ch, ch, video, kernel);
  const attn = d.pp('attn_1');
  attn.norm('norm', ch);
  for (const n of ['q', 'k', 'v', 'proj_out']) attn.layer(n, [ch, ch, 1, 1]);
  resnetBlock(d.pp('block_2'), ch, ch, video, kernel);
}

/** `model.py::ResnetBlock` (no time embedding); as `temporal_ae.py::VideoResBlock` it adds `time_stack`, `mix_factor`. */
function resnetBlock(d: Dict, cin: number, cout: number, video: boolean, kernel: readonly number[] = [3, 1, 1]): void {
  if (video) d.add('mix_factor', [1]);
  d.norm('norm1', cin);
  d.layer('conv1', [cout, cin, 3, 3]);
  d.norm('norm2', cout);
  d.layer('conv2', [cout, cout, 3, 3]);
  if (cin !== cout) d.layer('nin_shortcut', [cout, cin, 1, 1]);
  if (video) {
    const t = d.pp('time_stack');
    t.norm('in_layers.0', cout);
    t.layer('in_layers.2', [cout, cout, ...kernel]);
    t.norm('out_layers.0', cout);
    t.layer('out_layers.3', [cout, cout, ...kernel]);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// CLIP

/** `conditioner.embedders.0.open_clip.model.visual.*` of open_clip's `VisionTransformer`. */
export function clipVisualShapes(c: ClipDims): Map<string, Shape> {
  const out = new Map<string, Shape>();
  const d = new Dict(out, SGM_PREFIXES.clipVisual);
  const w = c.width;
  const grid = Math.floor(c.imageSize / c.patchSize);
  const mlp = Math.floor(w * c.mlpRatio);
  d.add('class_embedding', [w]);
  d.add('positional_embedding', [grid * grid + 1, w]);
  d.add('proj', [w, c.embedDim]);
  d.layer('conv1', [w, 3, c.patchSize, c.patchSize], false);
  d.norm('ln_pre', w);
  for (let i = 0; i < c.layers; i++) {
    const r = d.pp('transformer.resblocks').pp(i);
    r.norm('ln_1', w);
    r.add('attn.in_proj_weight', [3 * w, w]);
    r.add('attn.in_proj_bias', [3 * w]);
    r.layer('attn.out_proj', [w, w]);
    r.norm('ln_2', w);
    r.layer('mlp.c_fc', [mlp, w]);
    r.layer('mlp.c_proj', [w, mlp]);
  }
  d.norm('ln_post', w);
  return out;
}

/** The open_clip text-side parameters sgm leaves in the checkpoint (empty when `c.text` is unknown). */
export function clipTextLeftoverShapes(c: ClipDims): Map<string, Shape> {
  const out = new Map<string, Shape>();
  if (!c.text) return out;
  const d = new Dict(out, SGM_PREFIXES.clip);
  d.add('positional_embedding', [c.text.contextLength, c.text.width]);
  d.add('text_projection', [c.text.width, c.embedDim]);
  d.add('logit_scale', []);
  d.add('token_embedding.weight', [c.text.vocabSize, c.text.width]);
  d.norm('ln_final', c.text.width);
  return out;
}
