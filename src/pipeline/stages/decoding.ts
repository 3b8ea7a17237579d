/**
 * Stage 6 of image-to-video: `decode_first_stage` — z / scale_factor decoded `decodeChunk` frames at a time (the
 * script's `decoding_t`), then frames = clamp((x + 1)/2, 0, 1). The temporal VideoDecoder sees each chunk as a clip
 * (temporal context stops at chunk borders); the per-frame image decoders (image-decoder presets, sv3d-u) decode
 * frames independently, so there the chunk only bounds memory. One chunking loop serves both (VideoDecodeRunner);
 * the decoder's weights are loaded once for every video and released afterwards.
 */

import type { Graph } from '../../graph/ir.ts';
import { FIRST_STAGE_PREFIX } from '../../models/declare-params.ts';
import type { SvdModel } from '../../models/description.ts';
import { decodeAutoencoderKL } from '../../models/vae/autoencoder.ts';
import { type ChunkDecoderBuilder, VideoDecodeRunner } from '../../models/vae/chunked-decode.ts';
import type { AutoencoderConfig } from '../../models/vae/config.ts';
import { buildDecoder } from '../../models/vae/decoder.ts';
import { HostTensor } from '../../tensor/host-tensor.ts';
import type { StageRunner } from '../stage-runner.ts';

/** The decode runner of the model's first stage: the decoder, its prefix and its latent width. */
export function firstStageDecoder(model: SvdModel, runner: StageRunner, decodeChunk: number): VideoDecodeRunner {
  const fs = model.firstStage;
  let config: AutoencoderConfig;
  let prefix: string;
  let build: ChunkDecoderBuilder | undefined;
  if (fs.kind === 'autoencoder-kl') {
    // AutoencoderKL.decode: post_quant_conv then the image decoder, under first_stage_model.
    config = { ...fs.kl.ddconfig, zChannels: fs.kl.embedDim };
    prefix = FIRST_STAGE_PREFIX;
    build = (p, z) => decodeAutoencoderKL(p, z, fs.kl);
  } else {
    config = fs.decoder;
    prefix = `${FIRST_STAGE_PREFIX}.decoder`;
    if (!fs.videoDecoder) build = (p, z) => buildDecoder(p, z, fs.decoder);
  }
  return new VideoDecodeRunner(runner, { config, build, prefix, scaleFactor: model.scaleFactor, decodeChunk });
}

/** Frames [T, 3, H, W] in [0, 1] from decoder output x in [−1, 1]: clamp((x + 1)/2), float32 as torch. */
export function toUnitFrames(decoded: HostTensor): HostTensor<'float32'> {
  const d = decoded.data as Float32Array;
  const frames = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) frames[i] = Math.min(Math.max(Math.fround(Math.fround(d[i] + 1) / 2), 0), 1);
  return new HostTensor('float32', decoded.shape, frames);
}

/**
 * Frames [T, 3, H, W] with the last one replaced by the input image [1, 3, H, W] in [−1, 1], as the SV3D script does
 * before the clamp (`samples_x[-1:] = cond_frames_without_noise`): clamp((image + 1)/2) in float32.
 */
export function withInputAsLastFrame(frames: HostTensor<'float32'>, image: HostTensor): HostTensor<'float32'> {
  const [T, C, H, W] = frames.shape;
  if (image.shape.join() !== [1, C, H, W].join()) {
    throw new Error(
      `the input image [${image.shape.join(', ')}] does not match the frames [${frames.shape.join(', ')}]`,
    );
  }
  const out = new Float32Array(frames.data as Float32Array);
  out.set(toUnitFrames(image).data as Float32Array, (T - 1) * C * H * W);
  return new HostTensor('float32', frames.shape, out);
}

/** Decodes every latent [T, C, h, w] (chunks of `decodeChunk[i]` frames) → frames in [0, 1], in order. */
export async function decodeVideos(
  runner: StageRunner,
  model: SvdModel,
  latents: readonly HostTensor<'float32'>[],
  decodeChunk: readonly number[],
  signal?: AbortSignal,
): Promise<HostTensor<'float32'>[]> {
  const byChunk = new Map<number, VideoDecodeRunner>();
  const decoders = latents.map((_, i) => {
    let d = byChunk.get(decodeChunk[i]);
    if (!d) {
      d = firstStageDecoder(model, runner, decodeChunk[i]);
      byChunk.set(decodeChunk[i], d);
    }
    return d;
  });
  const graphs = new Set<Graph>();
  latents.forEach((z, i) => {
    const [n, , h, w] = z.shape;
    for (const g of decoders[i].graphsFor(n, h, w)) graphs.add(g);
  });
  return runner.withGraphs(graphs, async () => {
    const out: HostTensor<'float32'>[] = [];
    for (let i = 0; i < latents.length; i++) {
      signal?.throwIfAborted();
      out.push(toUnitFrames(await decoders[i].decode(latents[i])));
    }
    return out;
  });
}
