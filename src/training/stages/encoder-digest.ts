/**
 * A digest of the first-stage encoder's weights. The latent cache's folder is named by it, so that latents made by
 * another encoder (an earlier autoencoder run, a smoke test from fresh weights) are never read as hits: cached
 * moments are only valid for the encoder that made them. The same weights encode differently under another GroupNorm
 * group count (`AutoencoderConfig.normGroups`; svd-mini's 16), so a count other than the reference's 32 is hashed too
 * (the digests of 32-group encoders are those of before the field).
 */
import { createHash } from 'node:crypto';
import type { Graph } from '../../graph/ir.ts';
import type { SvdModel } from '../../models/description.ts';
import { VAE_DEFAULT_NORM_GROUPS } from '../../models/vae/config.ts';
import { firstStageEncoderGraph } from '../../models/vae/first-stage-encoder.ts';
import type { CheckpointSource } from '../../weights/index.ts';

/** The GroupNorm group counts of an encoder graph other than the reference's 32, in node order ('' for none). */
function nonDefaultNormGroups(graph: Graph): string {
  const groups = graph.nodes.filter((n) => n.op === 'GroupNorm').map((n) => n.attrs.numGroups);
  return groups.some((g) => g !== VAE_DEFAULT_NORM_GROUPS) ? `norm-groups:${groups.join(',')}\n` : '';
}

/** sha256 over the encoder's weight names, shapes and float32 values (and non-32 norm groups), as 12 hex digits. */
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
  hash.update(nonDefaultNormGroups(graph));
  for (const name of names) {
    const t = await source.read(name);
    hash.update(`${name}:${t.dtype}:[${t.shape.join(',')}]\n`);
    hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digest('hex').slice(0, 12);
}
