/**
 * Loading a model's weights strictly: the checkpoint (sgm single file or diffusers folder, any of fp32/fp16/bf16) must
 * hold exactly the keys and shapes the model declares, apart from the groups the reference also ignores (open_clip
 * text-tower leftovers, `first_stage_model.encoder`, the conditioning autoencoder's decoder — placed by the model's
 * embedder indices); otherwise a CheckpointMismatchError (a CheckpointError) says what the checkpoint looks like and
 * what to pass instead, with every disagreeing key in its `details`. Tensors are read lazily, one at a time, upcast to
 * float32 and moved into the engine's weight store without a copy.
 */
import type { ParamTree } from '../nn/params.ts';
import type { Engine } from '../runtime/engine.ts';
import { CheckpointError, type CheckpointSource, checkKeys, openCheckpoint } from '../weights/index.ts';
import { explainMismatch, type ModelOrigin } from './checkpoint-mismatch.ts';
import { declareModelParams, inferenceIgnoreGroups } from './declare-params.ts';
import type { SvdModel } from './description.ts';
import { PRESETS } from './presets.ts';
import { tiedEncoderKeys, withTiedKeys } from './tied-encoder.ts';

export interface ModelWeights {
  /** The checkpoint, reading a left-out first-stage encoder through the conditioner's (`tied-encoder.ts`). */
  source: CheckpointSource;
  /** Whether the first-stage encoder is read through the conditioning autoencoder's. */
  tiedEncoder: boolean;
  /** Every parameter of the model (key → shape). */
  tree: ParamTree;
}

export interface OpenWeightsOptions {
  onNotice?: (line: string) => void;
  /** How the model was chosen, for the advice of a mismatch (default: the preset it is, else a --config model). */
  origin?: ModelOrigin;
}

/** Opens a checkpoint and checks it against the model; reads no tensor data. */
export async function openModelWeights(
  path: string,
  model: SvdModel,
  opts: OpenWeightsOptions = {},
): Promise<ModelWeights> {
  const source = await openCheckpoint(path);
  try {
    const tree = declareModelParams(model);
    checkKeys(source.entries(), tree, { ignore: inferenceIgnoreGroups(model), onNotice: opts.onNotice, label: path });
    const tied = tiedEncoderKeys(source.entries(), model, tree);
    return { source: tied ? withTiedKeys(source, tied) : source, tree, tiedEncoder: tied !== undefined };
  } catch (e) {
    const entries = source.entries();
    await source.close();
    if (!(e instanceof CheckpointError)) throw e;
    const origin: ModelOrigin =
      opts.origin ??
      (PRESETS[model.name] === model ? { kind: 'preset', name: model.name } : { kind: 'config', config: model.name });
    throw explainMismatch(e, path, entries, model, origin);
  }
}

/** Keys being read into each engine now: a second loader of the same key waits for the first instead of sending it twice. */
const loading = new WeakMap<Engine, Map<string, Promise<void>>>();

/**
 * Reads the given keys (float32) into the engine's weight store, skipping those already there. Concurrent calls for
 * overlapping keys (a training step's graphs and the latent cache's encoder being prepared at once) read and send each
 * key once: the later caller waits for the earlier one's transfer.
 */
export async function loadWeightsInto(
  engine: Engine,
  source: CheckpointSource,
  keys: Iterable<string>,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  let inflight = loading.get(engine);
  if (!inflight) {
    inflight = new Map();
    loading.set(engine, inflight);
  }
  const todo = [...new Set(keys)].filter((k) => !engine.hasWeight(k));
  for (let i = 0; i < todo.length; i++) {
    const key = todo[i];
    const other = inflight.get(key);
    if (other) await other;
    else if (!engine.hasWeight(key)) {
      const load = (async () => {
        const t = await source.read(key);
        await engine.setWeights({ [key]: t }, { transfer: true });
      })();
      inflight.set(key, load);
      try {
        await load;
      } finally {
        inflight.delete(key);
      }
    }
    onProgress?.(i + 1, todo.length);
  }
}
