/**
 * Loading a model's weights strictly: the checkpoint (sgm single file or diffusers folder, any of fp32/fp16/bf16) must
 * hold exactly the keys and shapes the model declares, apart from the groups the reference also ignores (open_clip
 * text-tower leftovers, `first_stage_model.encoder`, the conditioning autoencoder's decoder — placed by the model's
 * embedder indices); otherwise a CheckpointError lists the missing, unexpected and wrong-shape keys. Tensors are read
 * lazily, one at a time, upcast to float32 and moved into the engine's weight store without a copy.
 */
import type { ParamTree } from '../nn/params.ts';
import type { Engine } from '../runtime/engine.ts';
import { type CheckpointSource, checkKeys, openCheckpoint } from '../weights/index.ts';
import { declareModelParams, inferenceIgnoreGroups } from './declare-params.ts';
import type { SvdModel } from './description.ts';

export interface ModelWeights {
  source: CheckpointSource;
  /** Every parameter of the model (key → shape). */
  tree: ParamTree;
}

/** Opens a checkpoint and checks it against the model; reads no tensor data. */
export async function openModelWeights(
  path: string,
  model: SvdModel,
  opts: { onNotice?: (line: string) => void } = {},
): Promise<ModelWeights> {
  const source = await openCheckpoint(path);
  try {
    const tree = declareModelParams(model);
    checkKeys(source.entries(), tree, { ignore: inferenceIgnoreGroups(model), onNotice: opts.onNotice, label: path });
    return { source, tree };
  } catch (e) {
    await source.close();
    throw e;
  }
}

/** Reads the given keys (float32) into the engine's weight store, skipping those already there. */
export async function loadWeightsInto(
  engine: Engine,
  source: CheckpointSource,
  keys: Iterable<string>,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  const todo = [...new Set(keys)].filter((k) => !engine.hasWeight(k));
  for (let i = 0; i < todo.length; i++) {
    const t = await source.read(todo[i]);
    await engine.setWeights({ [todo[i]]: t }, { transfer: true });
    onProgress?.(i + 1, todo.length);
  }
}
