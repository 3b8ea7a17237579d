/**
 * Captioners from user-supplied ONNX exports: an encoder–decoder pair run with greedy decoding in TypeScript, in the
 * layout Hugging Face Optimum writes (`optimum-cli export onnx --task image-to-text | text2text-generation
 * --no-post-process DIR`), so a user points `svd curate` at the export folder. The contract (README, "Captions"):
 *
 * - `encoder_model.onnx`: `pixel_values` float32 [1, 3, H, W] (image captioner) or [1, T, 3, H, W] (video
 *   captioner: T frames sampled uniformly over the clip), or `input_ids` int64 [1, L] (+ `attention_mask` int64
 *   [1, L] when declared; summariser) → `last_hidden_state` float32 [1, S, D] (or the first output).
 * - `decoder_model.onnx` (no past key values): `input_ids` int64 [1, t], `encoder_hidden_states` float32 [1, S, D]
 *   (+ `encoder_attention_mask` int64 [1, S], `attention_mask` int64 [1, t] when declared) → `logits` float32
 *   [1, t, V] (or the first output). Any other input (past key values, `use_cache_branch`) is refused.
 * - `vocab.json` (+ `merges.txt` for a summariser's input): byte-level BPE (GPT-2 / BART family).
 * - optional `config.json` / `generation_config.json` (token ids: `decoder_start_token_id`, `eos_token_id`,
 *   `forced_bos_token_id`, `bos_token_id`, `pad_token_id`, also inside a `decoder` sub-config; `max_length` /
 *   `max_new_tokens`), `preprocessor_config.json` (`size`, `crop_size`, `do_center_crop`, `image_mean`,
 *   `image_std`, `rescale_factor`), and `captioner.json` overriding any of them plus `encoder`, `decoder` (file
 *   names), `frames` (video), `prompt` (summariser; default "{image}. {video}."), `add_special_tokens`.
 *
 * Decoding: ids = [decoder_start] (+ forced BOS); repeat: logits of the last position → argmax (the first maximum)
 * → stop at EOS or after `max_new_tokens` (default max_length − 1, else 40). The caption is the generated ids
 * without special tokens, BPE-decoded and trimmed.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FileModelInt64Tensor, type FileModelTensor, OnnxFileModel } from '../../runtime/onnx-file-model.ts';
import { ByteLevelBpe } from './byte-level-bpe.ts';
import type { FrameSpec, ImageCaptioner, RgbFrame, Summariser, VideoCaptioner } from './captioner.ts';

export class CaptionerError extends Error {
  override name = 'CaptionerError';
}

type Json = Record<string, unknown>;

async function readJson(path: string): Promise<Json | undefined> {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Json;
  } catch (e) {
    throw new CaptionerError(`${path}: not JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

/** The first of the sources that has `key` (as a number, or a list of numbers). */
function pick(sources: readonly (Json | undefined)[], key: string): number[] | undefined {
  for (const s of sources) {
    const v = s?.[key];
    if (typeof v === 'number') return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
    if (v === null) return [];
  }
  return undefined;
}

interface Settings {
  start: number[];
  eos: Set<number>;
  special: Set<number>;
  maxNewTokens: number;
  bos?: number;
  addSpecial: boolean;
}

function ones(n: number): FileModelInt64Tensor {
  return { data: new BigInt64Array(n).fill(1n), dims: [1, n] };
}

/** An ONNX encoder–decoder with greedy decoding (the shared part of the three captioner kinds). */
export class OnnxEncoderDecoder {
  private constructor(
    readonly dir: string,
    readonly encoder: OnnxFileModel,
    readonly decoder: OnnxFileModel,
    readonly bpe: ByteLevelBpe,
    readonly settings: Settings,
    readonly options: Json,
    readonly preprocessor: Json | undefined,
  ) {}

  static async load(dir: string, opts: { threads?: number } = {}): Promise<OnnxEncoderDecoder> {
    if (!existsSync(dir)) throw new CaptionerError(`captioner folder ${dir} does not exist`);
    const own = (await readJson(join(dir, 'captioner.json'))) ?? {};
    const config = await readJson(join(dir, 'config.json'));
    const generation = await readJson(join(dir, 'generation_config.json'));
    const preprocessor = await readJson(join(dir, 'preprocessor_config.json'));
    const sources = [own, generation, config, config?.decoder as Json | undefined];
    const vocab = join(dir, 'vocab.json');
    if (!existsSync(vocab))
      throw new CaptionerError(`${dir}: no vocab.json (the byte-level BPE vocabulary to decode with)`);
    const merges = join(dir, 'merges.txt');
    const bpe = await ByteLevelBpe.load(vocab, existsSync(merges) ? merges : undefined);
    const eos = pick(sources, 'eos_token_id') ?? [];
    const bos = pick(sources, 'bos_token_id')?.[0];
    const start = pick(sources, 'decoder_start_token_id') ?? (bos !== undefined ? [bos] : undefined);
    if (!start || start.length === 0) {
      throw new CaptionerError(`${dir}: no decoder_start_token_id (or bos_token_id) in captioner.json / config.json`);
    }
    if (eos.length === 0) throw new CaptionerError(`${dir}: no eos_token_id in captioner.json / config.json`);
    const forced = pick(sources, 'forced_bos_token_id')?.[0];
    const pad = pick(sources, 'pad_token_id')?.[0];
    const maxNew =
      pick([own, generation], 'max_new_tokens')?.[0] ??
      (pick(sources, 'max_length')?.[0] !== undefined ? pick(sources, 'max_length')![0] - 1 : 40);
    const settings: Settings = {
      start: forced !== undefined ? [start[0], forced] : [start[0]],
      eos: new Set(eos),
      special: new Set([
        ...start,
        ...eos,
        ...(forced !== undefined ? [forced] : []),
        ...(pad !== undefined ? [pad] : []),
        ...(bos !== undefined ? [bos] : []),
      ]),
      maxNewTokens: Math.max(1, Math.min(512, maxNew)),
      bos,
      addSpecial: own.add_special_tokens !== false,
    };
    const file = (key: string, fallback: string) =>
      join(dir, typeof own[key] === 'string' ? (own[key] as string) : fallback);
    const encoder = await OnnxFileModel.load(file('encoder', 'encoder_model.onnx'), opts);
    const decoder = await OnnxFileModel.load(file('decoder', 'decoder_model.onnx'), opts);
    const known = new Set(['input_ids', 'encoder_hidden_states', 'encoder_attention_mask', 'attention_mask']);
    const extra = decoder.inputNames.filter((n) => !known.has(n));
    if (
      extra.length > 0 ||
      !decoder.inputNames.includes('input_ids') ||
      !decoder.inputNames.includes('encoder_hidden_states')
    ) {
      throw new CaptionerError(
        `${decoder.path}: the decoder must take input_ids and encoder_hidden_states (and optionally attention masks)${extra.length ? `, not ${extra.join(', ')} (export without past key values: decoder_model.onnx)` : ''}`,
      );
    }
    return new OnnxEncoderDecoder(dir, encoder, decoder, bpe, settings, own, preprocessor);
  }

  /** What the encoder takes: pixels of rank 4 (image) or 5 (video), or token ids (text). */
  get inputKind(): 'image' | 'video' | 'text' {
    if (this.encoder.inputNames.includes('pixel_values')) {
      const info = this.encoder.inputInfo('pixel_values');
      return info && info.dims.length === 5 ? 'video' : 'image';
    }
    if (this.encoder.inputNames.includes('input_ids')) return 'text';
    throw new CaptionerError(
      `${this.encoder.path}: the encoder takes ${this.encoder.inputNames.join(', ')}; expected pixel_values or input_ids`,
    );
  }

  private static output(out: Record<string, FileModelTensor>, name: string): FileModelTensor {
    return out[name] ?? Object.values(out)[0];
  }

  /** Encoder states for pixel values or token ids. */
  async encode(feeds: Record<string, FileModelTensor | FileModelInt64Tensor>): Promise<FileModelTensor> {
    const h = OnnxEncoderDecoder.output(await this.encoder.run(feeds), 'last_hidden_state');
    if (h.dims.length !== 3)
      throw new CaptionerError(`${this.encoder.path}: last_hidden_state must be [1, S, D], got [${h.dims}]`);
    return h;
  }

  /** Greedy decoding from encoder states → generated ids (without the start tokens and EOS). */
  async generate(states: FileModelTensor): Promise<number[]> {
    const ids = [...this.settings.start];
    const s = states.dims[1];
    const generated: number[] = [];
    for (let step = 0; step < this.settings.maxNewTokens; step++) {
      const feeds: Record<string, FileModelTensor | FileModelInt64Tensor> = {
        input_ids: { data: BigInt64Array.from(ids, BigInt), dims: [1, ids.length] },
        encoder_hidden_states: states,
      };
      if (this.decoder.inputNames.includes('encoder_attention_mask')) feeds.encoder_attention_mask = ones(s);
      if (this.decoder.inputNames.includes('attention_mask')) feeds.attention_mask = ones(ids.length);
      const logits = OnnxEncoderDecoder.output(await this.decoder.run(feeds), 'logits');
      const v = logits.dims[logits.dims.length - 1];
      const t = logits.dims.length === 3 ? logits.dims[1] : 1;
      const row = logits.data.subarray((t - 1) * v, t * v); // the last position
      let best = 0;
      for (let i = 1; i < v; i++) if (row[i] > row[best]) best = i;
      if (this.settings.eos.has(best)) break;
      ids.push(best);
      generated.push(best);
    }
    return generated;
  }

  /** Generated ids → caption text (special tokens dropped, trimmed). */
  text(ids: readonly number[]): string {
    return this.bpe.decode(ids, this.settings.special).trim();
  }

  /** The frames the encoder wants, from captioner.json `image`, preprocessor_config.json, or its input shape. */
  frameSpec(): { spec: FrameSpec; mean: number[]; std: number[]; rescale: number } {
    const img = (this.options.image as Json | undefined) ?? {};
    const pre = this.preprocessor ?? {};
    const dims = this.encoder.inputInfo('pixel_values')?.dims ?? [];
    const crop = pre.do_center_crop === true && pre.crop_size !== undefined;
    const sizeOf = (v: unknown): [number, number] | undefined => {
      if (typeof v === 'number') return [v, v];
      const o = v as Json | undefined;
      if (typeof o?.height === 'number' && typeof o?.width === 'number') return [o.height, o.width];
      if (typeof o?.shortest_edge === 'number') return [o.shortest_edge, o.shortest_edge];
      return undefined;
    };
    const [h, w] =
      (typeof img.height === 'number' && typeof img.width === 'number' ? [img.height, img.width] : undefined) ??
      sizeOf(img.size) ??
      (crop ? sizeOf(pre.crop_size) : sizeOf(pre.size)) ??
      (typeof dims.at(-2) === 'number' && typeof dims.at(-1) === 'number'
        ? [dims.at(-2) as number, dims.at(-1) as number]
        : [224, 224]);
    const shortest = typeof (pre.size as Json | undefined)?.shortest_edge === 'number'; // resize + crop to a square
    const fit = img.fit === 'cover' || img.fit === 'squash' ? img.fit : crop || shortest ? 'cover' : 'squash';
    const norm = (pre.do_normalize ?? true) !== false;
    const mean =
      (img.mean as number[] | undefined) ??
      (norm ? ((pre.image_mean as number[] | undefined) ?? [0.5, 0.5, 0.5]) : [0, 0, 0]);
    const std =
      (img.std as number[] | undefined) ??
      (norm ? ((pre.image_std as number[] | undefined) ?? [0.5, 0.5, 0.5]) : [1, 1, 1]);
    const rescale =
      typeof img.rescale_factor === 'number'
        ? img.rescale_factor
        : pre.do_rescale === false
          ? 1
          : typeof pre.rescale_factor === 'number'
            ? pre.rescale_factor
            : 1 / 255;
    return { spec: { width: w, height: h, fit }, mean, std, rescale };
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.decoder.release()]);
  }
}

/** Frames (HWC uint8) → pixel values [N·3·H·W] (CHW per frame): (v · rescale − mean) / std. */
function pixels(frames: readonly RgbFrame[], mean: number[], std: number[], rescale: number): Float32Array {
  const { width: w, height: h } = frames[0];
  const out = new Float32Array(frames.length * 3 * h * w);
  frames.forEach((f, n) => {
    if (f.width !== w || f.height !== h) throw new CaptionerError('frames of different sizes');
    for (let c = 0; c < 3; c++) {
      const base = (n * 3 + c) * h * w;
      for (let i = 0; i < h * w; i++) out[base + i] = (f.data[i * 3 + c] * rescale - mean[c]) / std[c];
    }
  });
  return out;
}

class OnnxImageCaptioner implements ImageCaptioner {
  readonly kind = 'image';
  readonly frame: FrameSpec;
  private readonly prep: ReturnType<OnnxEncoderDecoder['frameSpec']>;
  constructor(private readonly model: OnnxEncoderDecoder) {
    this.prep = model.frameSpec();
    this.frame = this.prep.spec;
  }
  get name(): string {
    return this.model.dir;
  }
  async caption(frame: RgbFrame): Promise<string> {
    const { mean, std, rescale } = this.prep;
    const data = pixels([frame], mean, std, rescale);
    const states = await this.model.encode({ pixel_values: { data, dims: [1, 3, frame.height, frame.width] } });
    return this.model.text(await this.model.generate(states));
  }
  release(): Promise<void> {
    return this.model.release();
  }
}

class OnnxVideoCaptioner implements VideoCaptioner {
  readonly kind = 'video';
  readonly frame: FrameSpec;
  readonly frames: number;
  private readonly prep: ReturnType<OnnxEncoderDecoder['frameSpec']>;
  constructor(private readonly model: OnnxEncoderDecoder) {
    this.prep = model.frameSpec();
    this.frame = this.prep.spec;
    const t = model.encoder.inputInfo('pixel_values')?.dims[1];
    const own = model.options.frames;
    this.frames = typeof t === 'number' && t > 0 ? t : typeof own === 'number' && own > 0 ? own : 8;
  }
  get name(): string {
    return this.model.dir;
  }
  async caption(frames: readonly RgbFrame[]): Promise<string> {
    if (frames.length !== this.frames)
      throw new CaptionerError(`${this.name} takes ${this.frames} frames, got ${frames.length}`);
    const { mean, std, rescale } = this.prep;
    const data = pixels(frames, mean, std, rescale);
    const dims = [1, frames.length, 3, frames[0].height, frames[0].width];
    const states = await this.model.encode({ pixel_values: { data, dims } });
    return this.model.text(await this.model.generate(states));
  }
  release(): Promise<void> {
    return this.model.release();
  }
}

class OnnxSummariser implements Summariser {
  readonly kind = 'summariser';
  constructor(private readonly model: OnnxEncoderDecoder) {}
  get name(): string {
    return this.model.dir;
  }
  async summarise(captions: { image: string; video: string }): Promise<string> {
    const template = typeof this.model.options.prompt === 'string' ? this.model.options.prompt : '{image}. {video}.';
    const text = template.replaceAll('{image}', captions.image).replaceAll('{video}', captions.video);
    const { settings } = this.model;
    let ids = this.model.bpe.encode(text);
    const eos = [...settings.eos][0];
    if (settings.addSpecial && settings.bos !== undefined) ids = [settings.bos, ...ids, eos];
    const feeds: Record<string, FileModelInt64Tensor> = {
      input_ids: { data: BigInt64Array.from(ids, BigInt), dims: [1, ids.length] },
    };
    if (this.model.encoder.inputNames.includes('attention_mask')) feeds.attention_mask = ones(ids.length);
    const states = await this.model.encode(feeds);
    return this.model.text(await this.model.generate(states));
  }
  release(): Promise<void> {
    return this.model.release();
  }
}

/** Loads a captioner folder as the given role; a folder whose encoder does not fit the role is a CaptionerError. */
export async function loadOnnxCaptioner(
  dir: string,
  role: 'image',
  opts?: { threads?: number },
): Promise<ImageCaptioner>;
export async function loadOnnxCaptioner(
  dir: string,
  role: 'video',
  opts?: { threads?: number },
): Promise<VideoCaptioner>;
export async function loadOnnxCaptioner(
  dir: string,
  role: 'summariser',
  opts?: { threads?: number },
): Promise<Summariser>;
export async function loadOnnxCaptioner(
  dir: string,
  role: 'image' | 'video' | 'summariser',
  opts: { threads?: number } = {},
): Promise<ImageCaptioner | VideoCaptioner | Summariser> {
  const model = await OnnxEncoderDecoder.load(dir, opts);
  const kind = model.inputKind;
  const want = { image: 'image', video: 'video', summariser: 'text' }[role];
  if (kind !== want) {
    await model.release();
    const what = {
      image: 'pixel_values [1, 3, H, W]',
      video: 'pixel_values [1, T, 3, H, W]',
      text: 'input_ids [1, L]',
    };
    throw new CaptionerError(
      `${dir}: its encoder takes ${what[kind]}, ${{ image: 'an image captioner', video: 'a video captioner', summariser: 'a summariser' }[role]} needs ${what[want as keyof typeof what]} (see README, Captions)`,
    );
  }
  if (role === 'image') return new OnnxImageCaptioner(model);
  if (role === 'video') return new OnnxVideoCaptioner(model);
  return new OnnxSummariser(model);
}
