/**
 * A CLIP model (image and text towers from a user-given checkpoint, src/models/clip/clip-checkpoint.ts) run in an
 * {@link Engine} of its own, loaded once per process: raw image embeddings of frames at the tower's input size
 * (normalised with the checkpoint's mean / std), the text embedding of a text, and cosine similarity. Used by the
 * curation CLIP stages (src/curation/clip) and by evaluation's CLIP score (src/eval).
 */
import { GraphBuilder } from '../../graph/builder.ts';
import type { Graph } from '../../graph/ir.ts';
import { Params } from '../../nn/params.ts';
import { Engine } from '../../runtime/engine.ts';
import { HostTensor } from '../../tensor/host-tensor.ts';
import { CLIP_IMAGE_PREFIX, CLIP_TEXT_PREFIX, type ClipModelConfig, loadClipCheckpoint } from './clip-checkpoint.ts';
import { clipTextPoolIndex, clipTextTransformer } from './text-transformer.ts';
import type { ClipTokenizer } from './tokenizer.ts';
import { clipVisionTransformer } from './vision-transformer.ts';

/** An interleaved RGB frame (uint8, row-major). */
export interface ClipFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface ClipScorerOptions {
  /** Engine intra-op threads (default: all cores). */
  threads?: number;
  /** Load the text tower (default true; it is needed only for text–image similarity). */
  text?: boolean;
}

export class ClipScorer {
  private readonly imageGraphs = new Map<number, Graph>();
  private textGraph?: Graph;

  private constructor(
    readonly checkpoint: string,
    readonly config: ClipModelConfig,
    private readonly engine: Engine,
    readonly tokenizer: ClipTokenizer | undefined,
  ) {}

  /** Loads a checkpoint folder or file (see src/models/clip/clip-checkpoint.ts for the accepted layouts). */
  static async load(checkpoint: string, opts: ClipScorerOptions = {}): Promise<ClipScorer> {
    const ck = await loadClipCheckpoint(checkpoint, { text: opts.text });
    const engine = await Engine.create({ provider: 'cpu', threads: opts.threads });
    try {
      await engine.setWeights(Object.fromEntries(ck.weights), { transfer: true });
    } catch (e) {
      await engine.dispose();
      throw e;
    }
    return new ClipScorer(checkpoint, ck.config, engine, ck.tokenizer);
  }

  /** Width of the embeddings (the image tower's projection). */
  get embedDim(): number {
    return this.config.vision.outputDim;
  }

  /** Why text–image similarity cannot be computed with this checkpoint, or undefined when it can. */
  get textUnavailable(): string | undefined {
    if (!this.config.text) return 'the CLIP checkpoint has no text tower';
    if (!this.tokenizer) {
      return 'the CLIP checkpoint folder has no vocabulary (vocab.json + merges.txt or bpe_simple_vocab_16e6.txt.gz)';
    }
    return undefined;
  }

  /** The frames the image tower takes: its input size, scaled to cover and centre-cropped. */
  get frame() {
    const s = this.config.vision.imageSize;
    return { width: s, height: s, fit: 'cover' as const };
  }

  /** Raw (unnormalised) image embeddings of frames at the tower's input size. */
  async embedImages(frames: readonly ClipFrame[]): Promise<Float32Array[]> {
    const s = this.config.vision.imageSize;
    const { mean, std } = this.config;
    const n = frames.length;
    const pixels = new Float32Array(n * 3 * s * s);
    frames.forEach((f, k) => {
      if (f.width !== s || f.height !== s)
        throw new RangeError(`CLIP frames must be ${s}×${s}, got ${f.width}×${f.height}`);
      for (let c = 0; c < 3; c++) {
        const base = (k * 3 + c) * s * s;
        for (let i = 0; i < s * s; i++) pixels[base + i] = (f.data[i * 3 + c] / 255 - mean[c]) / std[c];
      }
    });
    let graph = this.imageGraphs.get(n);
    if (!graph) {
      graph = this.buildImageGraph(n);
      this.imageGraphs.set(n, graph);
    }
    const out = (await this.engine.run(graph, { x: new HostTensor('float32', [n, 3, s, s], pixels) })).y;
    const d = this.embedDim;
    const data = out.data as Float32Array;
    return Array.from({ length: n }, (_, k) => data.slice(k * d, (k + 1) * d));
  }

  private buildImageGraph(n: number): Graph {
    const s = this.config.vision.imageSize;
    const b = new GraphBuilder('clip_image');
    const p = new Params(b).pp(CLIP_IMAGE_PREFIX);
    b.output('y', clipVisionTransformer(p, b.input('x', [n, 3, s, s]), this.config.vision));
    return b.build();
  }

  /** The raw text embedding of one text (the text tower on its tokens). */
  async embedText(text: string): Promise<Float32Array> {
    const why = this.textUnavailable;
    if (why) throw new Error(why);
    const cfg = this.config.text!;
    const ids = this.tokenizer!.tokenize([text], cfg.contextLength);
    if (!this.textGraph) {
      const b = new GraphBuilder('clip_text');
      const p = new Params(b).pp(CLIP_TEXT_PREFIX);
      const y = clipTextTransformer(
        p,
        b.input('ids', [1, cfg.contextLength], 'int64'),
        b.input('pool', [1], 'int64'),
        cfg,
      );
      b.output('y', y);
      this.textGraph = b.build();
    }
    const out = (await this.engine.run(this.textGraph, { ids, pool: clipTextPoolIndex(ids) })).y;
    return Float32Array.from(out.data as Float32Array);
  }

  async release(): Promise<void> {
    await this.engine.dispose();
  }
}

/** Cosine similarity of two embeddings (both L2-normalised, then the dot product), in float64. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}
