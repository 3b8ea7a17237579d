/**
 * `SvdCheckpointConfig` from the reference's own configuration: `{ engine_config, clip_arch }`, where
 * `engine_config` is the sgm YAML `model:` section as JSON (`sgm.models.diffusion.DiffusionEngine` params:
 * `network_config` → `VideoUNet`, `first_stage_config` → `AutoencodingEngine` with `encoder_config` /
 * `decoder_config`, `conditioner_config.emb_models` with the `cond_frames` `VideoPredictionEmbedderWithEncoder`)
 * and `clip_arch` the open_clip ViT dims (`vision: { image_size, patch_size, width, layers, heads, mlp_ratio }`,
 * `embed_dim`, `text: { width, context_length, vocab_size }`). An `arch: "ViT-H-14"` embedder needs no `clip_arch`.
 */
import { CheckpointFormatError } from '../checkpoint-errors.ts';
import {
  type AutoencoderDims,
  type ClipDims,
  SVD_CHECKPOINT_CONFIG,
  type SvdCheckpointConfig,
  VIT_H_14,
  type VideoUNetDims,
} from './model-config.ts';

type Json = Record<string, unknown>;

/** Reads fields with clear errors naming the JSON path. */
class Reader {
  constructor(
    readonly label: string,
    readonly path: string,
    readonly value: Json,
  ) {}

  fail(problem: string): never {
    throw new CheckpointFormatError(this.label, 'bad-config', `${this.path}: ${problem}`);
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  obj(key: string): Reader {
    const v = this.value[key];
    if (!isObject(v)) this.fail(`"${key}" must be an object`);
    return new Reader(this.label, `${this.path}.${key}`, v);
  }

  num(key: string, fallback?: number): number {
    const v = this.value[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`"${key}" must be a number`);
    return v;
  }

  int(key: string, fallback?: number): number {
    const v = this.num(key, fallback);
    if (!Number.isInteger(v)) this.fail(`"${key}" must be an integer`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.value[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') this.fail(`"${key}" must be true or false`);
    return v;
  }

  ints(key: string, fallback?: readonly number[]): number[] {
    const v = this.value[key];
    if (v === undefined && fallback !== undefined) return [...fallback];
    if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x))) this.fail(`"${key}" must be a list of integers`);
    return v as number[];
  }

  /** An int or a list of ints, expanded to `n` entries. */
  perLevel(key: string, n: number, fallback?: number): number[] {
    const v = this.value[key];
    if (v === undefined && fallback !== undefined) return Array(n).fill(fallback);
    if (Number.isInteger(v)) return Array(n).fill(v);
    const list = this.ints(key);
    if (list.length !== n) this.fail(`"${key}" has ${list.length} entries, expected ${n} (one per level)`);
    return list;
  }

  kernel(key: string): [number, number, number] {
    const v = this.value[key];
    if (v === undefined) return [3, 1, 1];
    if (Number.isInteger(v)) return [v as number, v as number, v as number];
    const k = this.ints(key);
    if (k.length !== 3) this.fail(`"${key}" must have 3 entries`);
    return [k[0], k[1], k[2]];
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses `{ engine_config, clip_arch }` (or a bare `engine_config`). `label` names the source in errors
 * (e.g. the `--config` path). Throws a CheckpointFormatError with code 'bad-config'.
 */
export function checkpointConfigFromReference(json: unknown, label = '<config>'): SvdCheckpointConfig {
  if (!isObject(json)) throw new CheckpointFormatError(label, 'bad-config', 'the config must be a JSON object');
  const root = new Reader(label, '$', json);
  const engine = root.has('engine_config') ? root.obj('engine_config') : root;
  const params = engine.obj('params');
  const unet = unetDims(params.obj('network_config').obj('params'));
  const firstStage = params.obj('first_stage_config').obj('params');
  const decoder = firstStage.obj('decoder_config');
  const decoderTarget = String(decoder.value.target ?? '');
  if (!decoderTarget.endsWith('VideoDecoder')) {
    decoder.fail(`first stage decoder is "${decoderTarget}"; only the temporal VideoDecoder layout is supported`);
  }
  const embedders = params.obj('conditioner_config').obj('params');
  const models = embedders.value.emb_models;
  if (!Array.isArray(models)) return embedders.fail('"emb_models" must be a list');
  const embedder = (inputKey: string): Reader => {
    const i = models.findIndex((m: unknown) => isObject(m) && m.input_key === inputKey);
    if (i < 0) embedders.fail(`no embedder with input_key "${inputKey}"`);
    return new Reader(label, `${embedders.path}.emb_models[${i}]`, models[i] as Json);
  };
  const condEncoder = embedder('cond_frames').obj('params').obj('encoder_config').obj('params');
  const clipEmbedder = embedder('cond_frames_without_noise').obj('params');
  const clipParams = clipEmbedder.has('open_clip_embedding_config')
    ? clipEmbedder.obj('open_clip_embedding_config').obj('params')
    : clipEmbedder;
  const arch = typeof clipParams.value.arch === 'string' ? clipParams.value.arch : 'ViT-H-14';
  let clip: ClipDims;
  if (root.has('clip_arch')) clip = clipDims(root.obj('clip_arch'));
  else if (arch === 'ViT-H-14') clip = VIT_H_14;
  else return root.fail(`open_clip arch "${arch}" needs a "clip_arch" entry with its dims`);
  const guider = params.has('sampler_config') ? guiderNumFrames(params.obj('sampler_config')) : undefined;
  const firstStageDims = autoencoderDims(decoder.obj('params'));
  return {
    unet,
    firstStage: firstStageDims,
    condEncoder: { embedDim: condEncoder.int('embed_dim'), dims: autoencoderDims(condEncoder.obj('ddconfig')) },
    clip,
    scaleFactor: params.num('scale_factor', 1),
    microCondDim: embedder('fps_id').obj('params').int('outdim'),
    numFrames: guider ?? SVD_CHECKPOINT_CONFIG.numFrames,
    sampleSize: firstStageDims.resolution,
  };
}

function unetDims(p: Reader): VideoUNetDims {
  const channelMult = p.ints('channel_mult');
  const levels = channelMult.length;
  const transformerDepth = p.perLevel('transformer_depth', levels, 1);
  const numClasses = p.value.num_classes;
  if (numClasses !== undefined && numClasses !== null && numClasses !== 'sequential') {
    p.fail(`num_classes "${String(numClasses)}" is not supported (only "sequential")`);
  }
  return {
    inChannels: p.int('in_channels'),
    outChannels: p.int('out_channels'),
    modelChannels: p.int('model_channels'),
    channelMult,
    numResBlocks: p.perLevel('num_res_blocks', levels),
    attentionResolutions: p.ints('attention_resolutions'),
    numHeadChannels: p.int('num_head_channels', -1),
    numHeads: p.int('num_heads', -1),
    transformerDepth,
    transformerDepthMiddle: p.int('transformer_depth_middle', transformerDepth[levels - 1]),
    contextDim: p.int('context_dim'),
    admInChannels: numClasses === 'sequential' ? p.int('adm_in_channels') : undefined,
    useLinearInTransformer: p.bool('use_linear_in_transformer', false),
    extraFfMixLayer: p.bool('extra_ff_mix_layer', false),
    videoKernelSize: p.kernel('video_kernel_size'),
  };
}

function autoencoderDims(p: Reader): AutoencoderDims {
  const attnResolutions = p.ints('attn_resolutions', []);
  if (attnResolutions.length > 0) p.fail('attn_resolutions must be empty (no attention inside the levels)');
  return {
    ch: p.int('ch'),
    chMult: p.ints('ch_mult'),
    numResBlocks: p.int('num_res_blocks'),
    zChannels: p.int('z_channels'),
    doubleZ: p.bool('double_z', true),
    inChannels: p.int('in_channels'),
    outCh: p.int('out_ch'),
    attnResolutions,
    resolution: p.int('resolution'),
    videoKernelSize: p.kernel('video_kernel_size'),
  };
}

function clipDims(p: Reader): ClipDims {
  const vision = p.obj('vision');
  const text = p.has('text') ? p.obj('text') : undefined;
  return {
    imageSize: vision.int('image_size'),
    patchSize: vision.int('patch_size'),
    width: vision.int('width'),
    layers: vision.int('layers'),
    heads: vision.has('heads') ? vision.int('heads') : vision.int('width') / vision.int('head_width', 64),
    mlpRatio: vision.num('mlp_ratio', 4),
    embedDim: p.int('embed_dim'),
    text: text && {
      width: text.int('width'),
      contextLength: text.int('context_length'),
      vocabSize: text.int('vocab_size'),
    },
  };
}

function guiderNumFrames(sampler: Reader): number | undefined {
  const params = sampler.has('params') ? sampler.obj('params') : undefined;
  const guider = params?.has('guider_config') ? params.obj('guider_config') : undefined;
  const guiderParams = guider?.has('params') ? guider.obj('params') : undefined;
  return guiderParams?.has('num_frames') ? guiderParams.int('num_frames') : undefined;
}
