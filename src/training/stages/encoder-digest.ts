/**
 * A digest of the first-stage encoder's weights. The latent cache's folder is named by it, so that latents made by
 * another encoder (an earlier autoencoder run, a smoke test from fresh weights) are never read as hits: cached
 * moments are only valid for the encoder that made them.
 */
import { createHash } from 'node:crypto';
import type { SvdModel } from '../../models/description.ts';
import { firstStageEncoderGraph } from '../../models/vae/first-stage-encoder.ts';
import type { CheckpointSource } from '../../weights/index.ts';

/** sha256 over the encoder's weight names, shapes and float32 values, as 12 hex digits. */
export async function encoderDigest(
  model: SvdModel,
  source: CheckpointSource,
  size: { width: number; height: number },
): Promise<string> {
  const graph = firstStageEncoderGraph(model, 1, size.height, size.width);
  const names = graph.inputs
    .filter((i) => i.kind === 'weight')
    .map((i) => i.name)
    .sort();
  const hash = createHash('sha256');
  for (const name of names) {
    const t = await source.read(name);
    hash.update(`${name}:${t.dtype}:[${t.shape.join(',')}]\n`);
    hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digest('hex').slice(0, 12);
}
