/**
 * `sgm/models/diffusion.py::DiffusionEngine.decode_first_stage` for the video first stage: z ← (1/scale_factor)·z,
 * then rows of z [(b t), z, h, w] are decoded `decodeChunk` at a time (`en_and_decode_n_samples_a_time`, the script's
 * `decoding_t`; default: all rows), each chunk with `timesteps` = its length, and the outputs concatenated. Temporal
 * context never crosses a chunk border (svd_xt with 25 frames and chunks of 14 ⇒ 14 + 11).
 *
 * As in the reference, chunks are taken over rows of the (b t) batch; with b = 1 (the SVD script) rows are frames.
 * One graph is traced per distinct chunk length (and latent size) and reused; the decoder weights must already be in
 * the engine's weight store under `prefix`. The same loop serves the per-frame image decoders (`build`), whose frames
 * are independent: there chunks only bound memory.
 */
import { GraphBuilder, type SymTensor } from '../../graph/builder.ts';
import type { Graph } from '../../graph/ir.ts';
import * as op from '../../graph/ops/index.ts';
import { Params } from '../../nn/params.ts';
import type { GraphRunner } from '../../runtime/engine.ts';
import { HostTensor } from '../../tensor/host-tensor.ts';
import type { AutoencoderConfig } from './config.ts';
import { buildVideoDecoder } from './video-decoder.ts';

export interface FrameChunk {
  start: number;
  length: number;
}

/** The reference's chunking: ceil(n / chunk) consecutive chunks of `chunk` rows, the last one shorter. */
export function frameChunks(numRows: number, chunk: number): FrameChunk[] {
  if (!Number.isInteger(numRows) || numRows < 1) throw new RangeError(`need ≥ 1 latent rows, got ${numRows}`);
  if (!Number.isInteger(chunk) || chunk < 1)
    throw new RangeError(`decode chunk must be a positive integer, got ${chunk}`);
  const out: FrameChunk[] = [];
  for (let start = 0; start < numRows; start += chunk) out.push({ start, length: Math.min(chunk, numRows - start) });
  return out;
}

/** Builds the decoder of one chunk: p at the decoder's prefix, z [t, zChannels, h, w] (already unscaled) → frames. */
export type ChunkDecoderBuilder = (p: Params, z: SymTensor, chunkLength: number) => SymTensor;

export interface VideoDecodeOptions {
  /** The VideoDecoder config (e.g. SVD_VIDEO_DECODER_CONFIG); its zChannels size the input. */
  config: AutoencoderConfig;
  /** Another decoder for the chunks (default: the temporal VideoDecoder of `config`). */
  build?: ChunkDecoderBuilder;
  /** `scale_factor`: z is multiplied by 1/scaleFactor before decoding (0.18215 for SVD; 1 = use z as given). */
  scaleFactor: number;
  /** Rows per decoder call (`decoding_t`); default: all rows in one call. */
  decodeChunk?: number;
  /** Checkpoint prefix of the decoder weights; default `first_stage_model.decoder`. */
  prefix?: string;
}

/** Traces and caches one decoder graph per chunk shape; decodes whole latents chunk by chunk. */
export class VideoDecodeRunner {
  private readonly graphs = new Map<string, Graph>();
  readonly prefix: string;

  constructor(
    private readonly runner: GraphRunner,
    readonly options: VideoDecodeOptions,
  ) {
    this.prefix = options.prefix ?? 'first_stage_model.decoder';
  }

  /** The graphs a decode of `rows` latent rows of size h×w runs (one per distinct chunk length). */
  graphsFor(rows: number, h: number, w: number): Graph[] {
    const lengths = new Set(frameChunks(rows, this.options.decodeChunk ?? rows).map((c) => c.length));
    return [...lengths].map((len) => this.graphFor(len, h, w));
  }

  /** Number of distinct graphs traced so far. */
  get graphCount(): number {
    return this.graphs.size;
  }

  /** The graph decoding one chunk: input `z` [t, z, h, w] → output `frames` [t, outCh, 8h, 8w] (for 4 levels). */
  graphFor(chunkLength: number, h: number, w: number): Graph {
    const key = `${chunkLength}x${h}x${w}`;
    let g = this.graphs.get(key);
    if (!g) {
      const cfg = this.options.config;
      const b = new GraphBuilder(`${this.options.build ? 'decoder' : 'video_decoder'}_t${chunkLength}`);
      let z = b.input('z', [chunkLength, cfg.zChannels, h, w]);
      if (this.options.scaleFactor !== 1) z = op.mul(z, 1 / this.options.scaleFactor); // float32(1/scale)·z, as torch
      const p = new Params(b, this.prefix);
      const build = this.options.build ?? ((pp, zz, t) => buildVideoDecoder(pp, zz, cfg, t));
      b.output('frames', build(p, z, chunkLength));
      g = b.build();
      this.graphs.set(key, g);
    }
    return g;
  }

  /** z [(b t), z, h, w] float32 → frames [(b t), outCh, H, W]. */
  async decode(z: HostTensor): Promise<HostTensor<'float32'>> {
    if (z.dtype !== 'float32' || z.shape.length !== 4) throw new Error(`decode: need float32 [N, z, h, w], got ${z}`);
    const [n, c, h, w] = z.shape;
    const rowSize = c * h * w;
    const data = z.data as Float32Array;
    const parts: HostTensor[] = [];
    for (const { start, length } of frameChunks(n, this.options.decodeChunk ?? n)) {
      const chunk = new HostTensor(
        'float32',
        [length, c, h, w],
        data.slice(start * rowSize, (start + length) * rowSize),
      );
      const out = await this.runner.run(this.graphFor(length, h, w), { z: chunk });
      parts.push(out.frames);
    }
    return concatRows(parts);
  }
}

/** Concatenates float32 tensors along dim 0. */
function concatRows(parts: readonly HostTensor[]): HostTensor<'float32'> {
  const rest = parts[0].shape.slice(1);
  const rows = parts.reduce((s, p) => s + p.shape[0], 0);
  const out = new Float32Array(parts.reduce((s, p) => s + p.size, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p.data as Float32Array, offset);
    offset += p.size;
  }
  return new HostTensor('float32', [rows, ...rest], out);
}

/** One-shot `decode_first_stage`: a VideoDecodeRunner used once. Keep a runner to reuse its graphs across calls. */
export function decodeFirstStage(runner: GraphRunner, z: HostTensor, options: VideoDecodeOptions): Promise<HostTensor> {
  return new VideoDecodeRunner(runner, options).decode(z);
}
