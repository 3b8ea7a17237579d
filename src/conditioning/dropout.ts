/**
 * Conditioning dropout for training (sgm `GeneralConditioner.forward`, `ucg_rate`): each embedder with a rate > 0
 * keeps its output for a sample with probability 1 − rate (`torch.bernoulli((1 − ucg_rate)·ones(N))`), so the model
 * also learns the unconditional prediction that classifier-free guidance needs. The masks are drawn here from the
 * project's Philox RNG (stream `ucg.<index>`, one uniform per sample) and fed to the conditioner graph as
 * `keep.<index>` (src/models/conditioner/conditioner.ts).
 */
import { keepInputName } from '../models/conditioner/conditioner.ts';
import type { EmbedderSpec } from '../models/description.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import type { Rng } from '../tensor/rng.ts';

/** The embedders that drop out (ucg_rate > 0). */
export function droppingEmbedders(embedders: readonly EmbedderSpec[]): EmbedderSpec[] {
  return embedders.filter((e) => e.ucgRate > 0);
}

/**
 * `keep.<index>` [rows] masks for the embedders with ucg_rate > 0: 1 keeps, 0 drops. `rows` is the number of rows of
 * that embedder's output; `offset` is the position of the first sample in the run's sample order, so a mask depends
 * only on (seed, embedder, sample), not on how samples are batched.
 */
export function dropoutMasks(
  embedders: readonly EmbedderSpec[],
  rng: Rng,
  rows: number,
  offset = 0,
): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const e of droppingEmbedders(embedders)) {
    if (e.ucgRate > 1) throw new RangeError(`embedder ${e.index} (${e.inputKey}): ucg_rate ${e.ucgRate} is above 1`);
    const u = rng.uniform(`ucg.${e.index}`, rows, offset);
    const keep = new Float32Array(rows);
    for (let i = 0; i < rows; i++) keep[i] = u[i] < 1 - e.ucgRate ? 1 : 0;
    out[keepInputName(e)] = new HostTensor('float32', [rows], keep);
  }
  return out;
}
