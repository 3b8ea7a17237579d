/**
 * The first-stage encoder read through the conditioning autoencoder's. An SVD checkpoint holds the VAE encoder twice:
 * `first_stage_model.encoder` (training encodes its clips with it) and `conditioner.embedders.N.encoder.encoder`
 * (sgm `VideoPredictionEmbedderWithEncoder`: inference encodes the conditioning frame with it). The reference ignores
 * the first copy at inference (`inferenceIgnoreGroups`), so a checkpoint pruned for generation may leave it out, as
 * svd-mini's shipped file does (2.3 MB of its 40 MB budget; scripts/svd-mini/export.ts). Training from such a file —
 * a LoRA or a fine-tune of the shipped model — reads the conditioner's tensors under the first stage's keys.
 */
import type { ParamTree } from '../nn/params.ts';
import type { CheckpointSource } from '../weights/index.ts';
import { FIRST_STAGE_PREFIX } from './declare-params.ts';
import { condEncoderPrefix, type SvdModel } from './description.ts';

const FIRST_STAGE_ENCODER = `${FIRST_STAGE_PREFIX}.encoder.`;

/** The conditioning autoencoder's key (under `cond`, e.g. `conditioner.embedders.3.encoder`) of a first-stage encoder key. */
export function encoderTwinKey(cond: string, firstStageKey: string): string {
  return `${cond}.encoder.${firstStageKey.slice(FIRST_STAGE_ENCODER.length)}`;
}

/** Whether `key` is a first-stage encoder tensor. */
export function isFirstStageEncoderKey(key: string): boolean {
  return key.startsWith(FIRST_STAGE_ENCODER);
}

/**
 * Where each first-stage encoder key is read from when the checkpoint lacks every one of them and the conditioning
 * autoencoder has the same tensors (same names under its `encoder.`, same shapes); undefined when it has them, or
 * when the conditioner's encoder cannot stand in (then the keys stay missing, as before).
 */
export function tiedEncoderKeys(
  entries: ReadonlyMap<string, { shape: readonly number[] }>,
  model: SvdModel,
  tree: ParamTree,
): Map<string, string> | undefined {
  const cond = condEncoderPrefix(model);
  const own = [...tree.shapes.keys()].filter(isFirstStageEncoderKey);
  if (!cond || own.length === 0 || own.some((k) => entries.has(k))) return undefined;
  const tied = new Map<string, string>();
  for (const k of own) {
    const from = encoderTwinKey(cond, k);
    const stored = entries.get(from);
    if (!stored || stored.shape.join() !== tree.shapes.get(k)!.join()) return undefined;
    tied.set(k, from);
  }
  return tied;
}

/**
 * `source` reading each key of `tied` (first-stage key → conditioner key) from its twin. `entries()` stays what the
 * file holds, so an export of the trained weights leaves the first-stage encoder out again.
 */
export function withTiedKeys(source: CheckpointSource, tied: ReadonlyMap<string, string>): CheckpointSource {
  return {
    path: source.path,
    layout: source.layout,
    metadata: source.metadata,
    entries: () => source.entries(),
    read: (key) => source.read(tied.get(key) ?? key),
    readStored: (key) => source.readStored(tied.get(key) ?? key),
    close: () => source.close(),
  };
}
