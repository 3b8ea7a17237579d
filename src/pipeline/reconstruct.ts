/**
 * The first stage's own reconstruction of frames: encode (the posterior mean, as sgm `AutoencodingEngine.encode` with
 * `DiagonalGaussianRegularizer(sample=False)`), scale by the model's scale factor, and decode as generation does
 * (`decode_first_stage`: z / scale_factor, `decodeChunk` frames per call). What the autoencoder alone can give back of
 * an image: the ceiling of how well a generated first frame can reproduce its input (issue 11's evidence reports
 * both).
 */
import type { SvdModel } from '../models/description.ts';
import { firstStageEncoderGraph } from '../models/vae/first-stage-encoder.ts';
import type { Engine } from '../runtime/engine.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import type { CheckpointSource } from '../weights/index.ts';
import { planMemory } from './memory-estimate.ts';
import { StageRunner } from './stage-runner.ts';
import { decodeVideos } from './stages/decoding.ts';

/** frames [T, 3, H, W] in [−1, 1] → the first-stage posterior mean [T, z, H/8, W/8] (unscaled). */
export async function encodeFrames(
  runner: StageRunner,
  model: SvdModel,
  frames: HostTensor<'float32'>,
): Promise<HostTensor<'float32'>> {
  const [t, c, h, w] = frames.shape;
  if (c !== 3) throw new RangeError(`encodeFrames: expected [T, 3, H, W] frames, got [${frames.shape.join(', ')}]`);
  const encoder = firstStageEncoderGraph(model, t, h, w);
  return runner.withGraphs(
    [encoder],
    async () => (await runner.run(encoder, { frames })).mean as HostTensor<'float32'>,
  );
}

/**
 * frames [T, 3, H, W] in [−1, 1] (one clip: the temporal decoder sees the T frames together) → the autoencoder's
 * reconstruction [T, 3, H, W] in [0, 1].
 */
export async function reconstructFrames(
  engine: Engine,
  model: SvdModel,
  weights: CheckpointSource,
  frames: HostTensor<'float32'>,
): Promise<HostTensor<'float32'>> {
  const [t, , h, w] = frames.shape;
  const runner = new StageRunner(engine, weights, planMemory(model, t, h, w, t, false));
  const mean = await encodeFrames(runner, model, frames);
  // decode_first_stage divides by the scale factor: the latent it expects is mean · scale_factor.
  const z = (mean.data as Float32Array).map((v) => v * model.scaleFactor);
  const [decoded] = await decodeVideos(runner, model, [new HostTensor('float32', mean.shape, z)], [t]);
  return decoded;
}
