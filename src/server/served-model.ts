/**
 * The model a server (or a worker) runs, from its command line: `--checkpoint` with `--config` or `--preset`, or,
 * without `--checkpoint`, the model that ships in the repository (svd-mini, src/models/shipped.ts). Only the shipped
 * model has camera-motion LoRAs: when it is served (by default or by naming its checkpoint), requests may ask for them
 * by name (`lora: zoom-in:0.8`) and the names map to its files; any other model serves none.
 */
import { resolve } from 'node:path';
import { findShippedModel, type ShippedModel } from '../models/shipped.ts';
import type { ModelChoice } from '../pipeline/request.ts';

export interface ServedModel {
  readonly choice: ModelChoice;
  /** The model's camera-motion LoRAs: name → file (empty for a model without them). */
  readonly loras: ReadonlyMap<string, string>;
  /** Whether this is the shipped model. */
  readonly shipped: boolean;
}

/** The command line asks for a model that cannot be served; the message names the option. */
export class ServedModelError extends Error {
  override name = 'ServedModelError';
}

export interface ServedModelFlags {
  readonly checkpoint?: string;
  readonly config?: string;
  readonly preset?: string;
}

const NO_LORAS: ReadonlyMap<string, string> = new Map();

/**
 * The served model for the flags; `shipped` is the repository's model (default: looked up on disk; null: none).
 * Throws a ServedModelError when no checkpoint is given and none ships, or when the flags ask for another model
 * without its weights.
 */
export function servedModel(flags: ServedModelFlags, shipped?: ShippedModel | null): ServedModel {
  const mini = shipped === undefined ? findShippedModel() : (shipped ?? undefined);
  const { checkpoint, config, preset } = flags;
  if (config !== undefined && preset !== undefined) throw new ServedModelError('either --config or --preset, not both');
  if (checkpoint === undefined) {
    if (!mini) {
      throw new ServedModelError(
        '--checkpoint is required (the model every job runs): the shipped model (models/svd-mini/) is not here',
      );
    }
    if (config !== undefined) throw new ServedModelError('--config needs --checkpoint: the weights of that model');
    if (preset !== undefined && preset !== mini.preset) {
      throw new ServedModelError(`--preset ${preset} needs --checkpoint: its weights do not ship with svd-ts`);
    }
    return { choice: { checkpoint: mini.checkpoint, preset: mini.preset }, loras: mini.loras, shipped: true };
  }
  const isShipped =
    mini !== undefined &&
    resolve(checkpoint) === resolve(mini.checkpoint) &&
    config === undefined &&
    (preset === undefined || preset === mini.preset);
  if (isShipped) return { choice: { checkpoint, preset: mini.preset }, loras: mini.loras, shipped: true };
  return {
    // Without --preset: a diffusers folder's own configs, else svd-xt (src/pipeline/resolve-model.ts).
    choice: { checkpoint, config, preset: config === undefined ? preset : undefined },
    loras: NO_LORAS,
    shipped: false,
  };
}
