/**
 * A user-given CLIP checkpoint (both towers), with its configuration read from the checkpoint itself — never a
 * hard-coded ViT-H: the LAION aesthetic head needs OpenAI's ViT-L/14 (QuickGELU, 768-d), SVD's conditioner uses
 * ViT-H/14 (GELU, 1024-d), and both are described by the files that come with their weights.
 *
 * Accepted layouts (a folder, or a `.safetensors` file whose folder holds the rest):
 * - **open_clip**: `open_clip_config.json` (`{model_cfg, preprocess_cfg}`, as open_clip's hub export writes it) or a
 *   bare open_clip model config (`{embed_dim, vision_cfg, text_cfg, quick_gelu}`, e.g. `ViT-L-14.json`) as
 *   `open_clip_config.json` or `config.json`; weights `open_clip_model.safetensors` (or the folder's only
 *   `.safetensors`) with `CLIP.state_dict()` keys (`visual.*`, `token_embedding.weight`, …; `text.*` for
 *   `CustomTextCLIP`); vocabulary `bpe_simple_vocab_16e6.txt.gz` (open_clip ships it in its package, not in
 *   checkpoints: put it in the folder) or `vocab.json` + `merges.txt`.
 * - **transformers** `CLIPModel` (e.g. `openai/clip-vit-large-patch14`): `config.json` (`text_config`,
 *   `vision_config`, `projection_dim`), `model.safetensors`, `vocab.json` + `merges.txt`, optional
 *   `preprocessor_config.json` (image mean/std). `CLIPVisionModelWithProjection` folders (image tower only) work too.
 *
 * Weights are renamed to open_clip's keys as they are read (`visual.*` for the image tower, `text.*` for the text
 * tower), fp16/bf16 upcast to float32, and checked against every parameter the towers declare: a missing or
 * wrong-shaped tensor is a {@link ClipCheckpointError} naming it.
 */
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GraphBuilder } from '../../graph/builder.ts';
import { Params } from '../../nn/params.ts';
import { toFloat32 } from '../../tensor/half.ts';
import type { HostTensor } from '../../tensor/host-tensor.ts';
import { formatShape } from '../../tensor/shape.ts';
import {
  CLIP_DERIVED_HF_KEYS,
  CLIP_TEXT_DERIVED_HF_KEYS,
  clipKeyFromHf,
  clipTextKeyFromHf,
  fromTargetParts,
  type SourceMapping,
} from '../../weights/key-maps/index.ts';
import { SafetensorsFile } from '../../weights/safetensors-reader.ts';
import { type ClipActivation, type ClipVisionConfig, validateClipVisionConfig } from './config.ts';
import { CLIP_MEAN, CLIP_STD } from './preprocess.ts';
import { type ClipTextConfig, clipTextTransformer, validateClipTextConfig } from './text-transformer.ts';
import { ClipTokenizer } from './tokenizer.ts';
import { clipVisionTransformer } from './vision-transformer.ts';

export class ClipCheckpointError extends Error {
  override name = 'ClipCheckpointError';
}

export interface ClipModelConfig {
  /** The image tower (its `outputDim` is the shared embedding width). */
  vision: ClipVisionConfig;
  /** The text tower; absent for an image-only checkpoint. */
  text?: ClipTextConfig;
  /** Per-channel normalisation of the [0, 1] image (OpenAI's mean / std unless the checkpoint says otherwise). */
  mean: readonly number[];
  std: readonly number[];
}

export interface ClipCheckpointFiles {
  layout: 'open_clip' | 'transformers';
  weights: string;
  config: string;
  preprocessor?: string;
  vocab?: { vocabJson?: string; mergesTxt?: string; bpeGz?: string };
}

/** Prefixes of the two towers in the weights a {@link ClipCheckpoint} holds. */
export const CLIP_IMAGE_PREFIX = 'visual';
export const CLIP_TEXT_PREFIX = 'text';

type Json = Record<string, unknown>;

function num(obj: Json, key: string, fallback: number | undefined, where: string): number {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ClipCheckpointError(`${where}: "${key}" must be a number`);
  return v;
}

function activationOf(v: unknown, where: string): ClipActivation | undefined {
  if (v === 'quick_gelu') return 'quick_gelu';
  if (v === 'gelu' || v === undefined) return undefined;
  throw new ClipCheckpointError(`${where}: activation ${JSON.stringify(v)} is not supported (gelu, quick_gelu)`);
}

function refuse(cfg: Json, where: string, unsupported: Record<string, (v: unknown) => boolean>): void {
  for (const [k, bad] of Object.entries(unsupported)) {
    if (cfg[k] !== undefined && cfg[k] !== null && bad(cfg[k])) {
      throw new ClipCheckpointError(`${where}: "${k}": ${JSON.stringify(cfg[k])} is not supported by this CLIP tower`);
    }
  }
}

const truthy = (v: unknown) => v !== false && v !== 0 && v !== '';

/** An open_clip model config (`{embed_dim, vision_cfg, text_cfg, quick_gelu}`) → our configuration. */
export function clipConfigFromOpenClip(
  modelCfg: Json,
  where = 'open_clip config',
): Omit<ClipModelConfig, 'mean' | 'std'> {
  const embed = num(modelCfg, 'embed_dim', undefined, where);
  const act = modelCfg.quick_gelu === true ? ('quick_gelu' as const) : undefined;
  const v = modelCfg.vision_cfg as Json | undefined;
  if (!v) throw new ClipCheckpointError(`${where}: no "vision_cfg"`);
  const vw = `${where} vision_cfg`;
  refuse(v, vw, {
    timm_model_name: truthy,
    attentional_pool: truthy,
    no_ln_pre: truthy,
    final_ln_after_pool: truthy,
    ls_init_value: () => true,
    pool_type: (x) => x !== 'tok',
    pos_embed_type: (x) => x !== 'learnable',
    block_type: (x) => x !== 'default',
    qk_norm: truthy,
    scaled_cosine_attn: truthy,
    scale_heads: truthy,
    scale_attn_inner: truthy,
    scale_attn: truthy,
    scale_fc: truthy,
    act_kwargs: () => true,
  });
  if (Array.isArray(v.layers)) throw new ClipCheckpointError(`${vw}: ResNet image towers are not supported`);
  const image = Array.isArray(v.image_size) ? (v.image_size as number[]) : [num(v, 'image_size', 224, vw)];
  if (image.some((s) => s !== image[0])) throw new ClipCheckpointError(`${vw}: only square images are supported`);
  const width = num(v, 'width', 768, vw);
  const eps = ((v.norm_kwargs as Json | undefined)?.eps as number | undefined) ?? 1e-5;
  const vision: ClipVisionConfig = {
    imageSize: image[0],
    patchSize: num(v, 'patch_size', 16, vw),
    width,
    layers: num(v, 'layers', 12, vw),
    heads: width / num(v, 'head_width', 64, vw),
    mlpRatio: num(v, 'mlp_ratio', 4, vw),
    outputDim: embed,
    layerNormEps: eps,
    ...(act ? { activation: act } : {}),
  };
  validateClipVisionConfig(vision);
  const t = modelCfg.text_cfg as Json | undefined;
  if (!t) return { vision };
  const tw = `${where} text_cfg`;
  refuse(t, tw, {
    hf_model_name: truthy,
    embed_cls: truthy,
    no_causal_mask: truthy,
    final_ln_after_pool: truthy,
    ls_init_value: () => true,
    pool_type: (x) => x !== 'argmax',
    proj_type: (x) => x !== 'linear',
    proj_bias: truthy,
    block_type: (x) => x !== 'default',
    qk_norm: truthy,
    scaled_cosine_attn: truthy,
    scale_heads: truthy,
    scale_attn_inner: truthy,
    scale_attn: truthy,
    scale_fc: truthy,
    act_kwargs: () => true,
  });
  const text: ClipTextConfig = {
    contextLength: num(t, 'context_length', 77, tw),
    vocabSize: num(t, 'vocab_size', 49408, tw),
    width: num(t, 'width', 512, tw),
    heads: num(t, 'heads', 8, tw),
    layers: num(t, 'layers', 12, tw),
    mlpRatio: num(t, 'mlp_ratio', 4, tw),
    outputDim: embed,
    layerNormEps: ((t.norm_kwargs as Json | undefined)?.eps as number | undefined) ?? 1e-5,
    ...(act ? { activation: act } : {}),
  };
  validateClipTextConfig(text);
  return { vision, text };
}

/**
 * A transformers CLIP `config.json` → our configuration: `CLIPModel` (`text_config`, `vision_config`,
 * `projection_dim`) or `CLIPVisionModelWithProjection` (`model_type: clip_vision_model`). Missing fields take
 * transformers' defaults (CLIPTextConfig: 512 wide, 8 heads, 12 layers, 77 tokens, quick_gelu; CLIPVisionConfig:
 * 768 wide, 12 heads, 12 layers, 224 px, patch 32, quick_gelu; projection_dim 512).
 */
export function clipConfigFromTransformers(cfg: Json, where = 'config.json'): Omit<ClipModelConfig, 'mean' | 'std'> {
  const visionOnly = cfg.model_type === 'clip_vision_model';
  const v = (visionOnly ? cfg : cfg.vision_config) as Json | undefined;
  if (!v) throw new ClipCheckpointError(`${where}: no "vision_config" (not a CLIP config)`);
  const projection = num(cfg, 'projection_dim', 512, where);
  const vw = `${where} vision_config`;
  const vWidth = num(v, 'hidden_size', 768, vw);
  const vision: ClipVisionConfig = {
    imageSize: num(v, 'image_size', 224, vw),
    patchSize: num(v, 'patch_size', 32, vw),
    width: vWidth,
    layers: num(v, 'num_hidden_layers', 12, vw),
    heads: num(v, 'num_attention_heads', 12, vw),
    mlpRatio: num(v, 'intermediate_size', 3072, vw) / vWidth,
    outputDim: projection,
    layerNormEps: num(v, 'layer_norm_eps', 1e-5, vw),
    ...(activationOf(v.hidden_act ?? 'quick_gelu', vw) ? { activation: 'quick_gelu' as const } : {}),
  };
  validateClipVisionConfig(vision);
  const t = (visionOnly ? undefined : cfg.text_config) as Json | undefined;
  if (!t) return { vision };
  const tw = `${where} text_config`;
  const tWidth = num(t, 'hidden_size', 512, tw);
  const text: ClipTextConfig = {
    contextLength: num(t, 'max_position_embeddings', 77, tw),
    vocabSize: num(t, 'vocab_size', 49408, tw),
    width: tWidth,
    heads: num(t, 'num_attention_heads', 8, tw),
    layers: num(t, 'num_hidden_layers', 12, tw),
    mlpRatio: num(t, 'intermediate_size', 2048, tw) / tWidth,
    outputDim: projection,
    layerNormEps: num(t, 'layer_norm_eps', 1e-5, tw),
    ...(activationOf(t.hidden_act ?? 'quick_gelu', tw) ? { activation: 'quick_gelu' as const } : {}),
  };
  validateClipTextConfig(text);
  return { vision, text };
}

async function readJson(path: string): Promise<Json> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Json;
  } catch (e) {
    throw new ClipCheckpointError(`${path}: cannot read the JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

/** Finds the config, weights and vocabulary of a checkpoint folder (or of the folder of a `.safetensors` file). */
export async function findClipCheckpointFiles(path: string): Promise<ClipCheckpointFiles> {
  if (!existsSync(path)) throw new ClipCheckpointError(`CLIP checkpoint ${path} does not exist`);
  const isDir = statSync(path).isDirectory();
  const dir = isDir ? path : dirname(path);
  const names = new Set(await readdir(dir));
  const at = (n: string) => (names.has(n) ? join(dir, n) : undefined);
  const ocConfig = at('open_clip_config.json');
  const hfConfig = at('config.json');
  const config = ocConfig ?? hfConfig;
  if (!config) {
    throw new ClipCheckpointError(
      `${dir}: no open_clip_config.json or config.json beside the CLIP weights (the tower sizes come from it)`,
    );
  }
  const json = await readJson(config);
  const layout = ocConfig || json.model_cfg || json.vision_cfg ? 'open_clip' : 'transformers';
  let weights: string | undefined;
  if (!isDir) weights = path;
  else {
    weights = at(layout === 'open_clip' ? 'open_clip_model.safetensors' : 'model.safetensors');
    if (!weights) {
      const all = [...names].filter((n) => n.endsWith('.safetensors'));
      if (all.length === 1) weights = join(dir, all[0]);
      else {
        throw new ClipCheckpointError(
          `${dir}: ${all.length === 0 ? 'no .safetensors weights' : `several .safetensors files (${all.join(', ')}): give the file`}`,
        );
      }
    }
  }
  const vocabJson = at('vocab.json');
  const mergesTxt = at('merges.txt');
  const bpeGz =
    at('bpe_simple_vocab_16e6.txt.gz') ?? [...names].filter((n) => n.endsWith('.txt.gz')).map((n) => join(dir, n))[0];
  const vocab = (vocabJson && mergesTxt) || bpeGz ? { vocabJson, mergesTxt, bpeGz } : undefined;
  return { layout, weights, config, preprocessor: at('preprocessor_config.json'), vocab };
}

/** Reads the configuration (tower sizes, activation, image mean/std) of a checkpoint's files. */
export async function readClipConfig(files: ClipCheckpointFiles): Promise<ClipModelConfig> {
  const json = await readJson(files.config);
  let mean: readonly number[] = CLIP_MEAN;
  let std: readonly number[] = CLIP_STD;
  let towers: Omit<ClipModelConfig, 'mean' | 'std'>;
  if (files.layout === 'open_clip') {
    towers = clipConfigFromOpenClip((json.model_cfg as Json | undefined) ?? json, basename(files.config));
    const pre = json.preprocess_cfg as Json | undefined;
    if (Array.isArray(pre?.mean) && Array.isArray(pre?.std)) [mean, std] = [pre.mean as number[], pre.std as number[]];
  } else {
    towers = clipConfigFromTransformers(json, basename(files.config));
    if (files.preprocessor) {
      const pre = await readJson(files.preprocessor);
      if (Array.isArray(pre.image_mean) && Array.isArray(pre.image_std)) {
        [mean, std] = [pre.image_mean as number[], pre.image_std as number[]];
      }
    }
  }
  if (mean.length !== 3 || std.length !== 3)
    throw new ClipCheckpointError(`${files.config}: image mean/std need 3 values`);
  return { ...towers, mean, std };
}

/** Every parameter key and shape the towers declare, under {@link CLIP_IMAGE_PREFIX} / {@link CLIP_TEXT_PREFIX}. */
export function clipParamShapes(
  cfg: ClipModelConfig,
  towers: { image?: boolean; text?: boolean } = {},
): Map<string, string> {
  const b = new GraphBuilder('clip_shapes');
  const root = new Params(b);
  if (towers.image !== false) {
    const s = cfg.vision.imageSize;
    clipVisionTransformer(root.pp(CLIP_IMAGE_PREFIX), b.input('x', [1, 3, s, s]), cfg.vision);
  }
  if (towers.text !== false && cfg.text) {
    const ids = b.input('ids', [1, cfg.text.contextLength], 'int64');
    clipTextTransformer(root.pp(CLIP_TEXT_PREFIX), ids, b.input('pool', [1], 'int64'), cfg.text);
  }
  return new Map([...root.tree.shapes].map(([k, s]) => [k, formatShape(s)]));
}

/** The open_clip key (under our tower prefixes) a checkpoint tensor is read into, or undefined (ignored). */
function mapKey(layout: ClipCheckpointFiles['layout'], key: string, textRoot: string): SourceMapping | undefined {
  if (layout === 'open_clip') {
    if (key.startsWith('visual.')) return { key, part: 0, transform: { kind: 'copy' } };
    if (textRoot && key.startsWith(textRoot)) {
      return { key: `${CLIP_TEXT_PREFIX}.${key.slice(textRoot.length)}`, part: 0, transform: { kind: 'copy' } };
    }
    if (!textRoot && /^(token_embedding|positional_embedding|transformer\.|ln_final|text_projection)/.test(key)) {
      return { key: `${CLIP_TEXT_PREFIX}.${key}`, part: 0, transform: { kind: 'copy' } };
    }
    return undefined;
  }
  if (CLIP_DERIVED_HF_KEYS.includes(key) || CLIP_TEXT_DERIVED_HF_KEYS.includes(key)) return undefined;
  if (key.startsWith('vision_model.') || key === 'visual_projection.weight') {
    const m = clipKeyFromHf(key);
    return m && { ...m, key: `${CLIP_IMAGE_PREFIX}.${m.key}` };
  }
  if (key.startsWith('text_model.') || key === 'text_projection.weight') {
    const m = clipTextKeyFromHf(key);
    return m && { ...m, key: `${CLIP_TEXT_PREFIX}.${m.key}` };
  }
  return undefined;
}

/** A loaded CLIP checkpoint: configuration, float32 weights under open_clip keys, and the tokenizer when present. */
export interface ClipCheckpoint {
  files: ClipCheckpointFiles;
  config: ClipModelConfig;
  weights: Map<string, HostTensor>;
  tokenizer?: ClipTokenizer;
}

/**
 * Loads a CLIP checkpoint (folder or `.safetensors` file): config, the towers' weights (strictly checked), and the
 * tokenizer when the folder has a vocabulary. `towers.text: false` skips the text tower (and its weights).
 */
export async function loadClipCheckpoint(path: string, towers: { text?: boolean } = {}): Promise<ClipCheckpoint> {
  const files = await findClipCheckpointFiles(path);
  const config = await readClipConfig(files);
  const wantText = towers.text !== false && config.text !== undefined;
  const expected = clipParamShapes(config, { text: wantText });
  const file = await SafetensorsFile.open(files.weights);
  const weights = new Map<string, HostTensor>();
  try {
    const names = file.names();
    const textRoot = names.some((n) => n.startsWith('text.token_embedding.')) ? 'text.' : '';
    const parts = new Map<string, { mapping: SourceMapping; tensors: HostTensor[] }>();
    for (const name of names) {
      const m = mapKey(files.layout, name, textRoot);
      if (!m || !expected.has(m.key)) continue;
      const t = toFloat32(await file.read(name));
      if (m.transform.kind === 'copy') {
        weights.set(m.key, t);
        continue;
      }
      const entry = parts.get(m.key) ?? { mapping: m, tensors: [] };
      entry.tensors[m.part] = t;
      parts.set(m.key, entry);
    }
    for (const [key, { mapping, tensors }] of parts) {
      const n = mapping.transform.kind === 'split' ? mapping.transform.parts : 1;
      if (tensors.filter(Boolean).length !== n) continue; // reported as missing below
      weights.set(key, fromTargetParts(tensors, mapping.transform));
    }
  } finally {
    await file.close();
  }
  const problems: string[] = [];
  for (const [key, shape] of expected) {
    const t = weights.get(key);
    if (!t) problems.push(`missing ${key} ${shape}`);
    else if (formatShape(t.shape) !== shape) problems.push(`${key}: ${formatShape(t.shape)}, expected ${shape}`);
  }
  if (problems.length > 0) {
    const head = problems.slice(0, 8).join('; ');
    throw new ClipCheckpointError(
      `${files.weights} does not fit its ${basename(files.config)} (${files.layout} layout): ${head}${problems.length > 8 ? `; … ${problems.length - 8} more` : ''}`,
    );
  }
  const tokenizer = wantText && files.vocab ? await ClipTokenizer.load(files.vocab) : undefined;
  if (tokenizer && config.text && tokenizer.vocabSize > config.text.vocabSize) {
    throw new ClipCheckpointError(
      `${tokenizer.source}: ${tokenizer.vocabSize} tokens, but the text tower embeds ${config.text.vocabSize}`,
    );
  }
  return { files, config: wantText ? config : { ...config, text: undefined }, weights, tokenizer };
}
