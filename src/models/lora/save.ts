/**
 * Writing a LoRA file: kohya tensor names (`names.ts`) — per module `lora_down.weight`, `lora_up.weight` and a scalar
 * `alpha` — and a `__metadata__` that says what it is and what it was trained on:
 *
 * | key | value |
 * |---|---|
 * | `format` | `svd-ts-lora` |
 * | `rank`, `alpha` | the network's rank and alpha (decimal strings) |
 * | `targets` | the target globs, as a JSON array |
 * | `base_model_hash`, `base_model_hash_scope` | `checkpointHash` of the base checkpoint (`src/weights/checkpoint-hash.ts`) |
 * | `base_model` | the base model's name (preset or config) |
 * | `ss_network_module`, `ss_network_dim`, `ss_network_alpha` | as kohya's `train_network.py` writes them (`networks.lora`, rank, alpha; str() of each) |
 *
 * Every value is a string (safetensors metadata is a string map). The file is written under a temporary name and
 * renamed when complete.
 */
import { HostTensor } from '../../tensor/host-tensor.ts';
import { writeSafetensors } from '../../weights/safetensors-writer.ts';
import { LoraError } from './errors.ts';
import { LORA_ALPHA, LORA_DOWN, LORA_UP } from './names.ts';

export const LORA_FORMAT = 'svd-ts-lora';

/** Metadata keys of a LoRA file. */
export const LORA_METADATA = {
  format: 'format',
  rank: 'rank',
  alpha: 'alpha',
  targets: 'targets',
  baseModelHash: 'base_model_hash',
  baseModelHashScope: 'base_model_hash_scope',
  baseModel: 'base_model',
} as const;

export interface LoraMeta {
  readonly rank: number;
  /** Default: the rank (scale 1). */
  readonly alpha?: number;
  readonly targets: readonly string[];
  /** `checkpointHash(base).sha256` and its scope. */
  readonly baseModelHash?: string;
  readonly baseModelHashScope?: string;
  readonly baseModel?: string;
  /** More metadata (training settings, …); the keys above win. */
  readonly extra?: Readonly<Record<string, string>>;
}

/** The `__metadata__` of a LoRA file. */
export function loraMetadata(meta: LoraMeta): Record<string, string> {
  const alpha = meta.alpha ?? meta.rank;
  const m: Record<string, string> = {
    ...meta.extra,
    [LORA_METADATA.format]: LORA_FORMAT,
    [LORA_METADATA.rank]: String(meta.rank),
    [LORA_METADATA.alpha]: String(alpha),
    [LORA_METADATA.targets]: JSON.stringify(meta.targets),
    ss_network_module: 'networks.lora',
    ss_network_dim: String(meta.rank),
    ss_network_alpha: String(alpha),
  };
  if (meta.baseModelHash !== undefined) m[LORA_METADATA.baseModelHash] = meta.baseModelHash;
  if (meta.baseModelHashScope !== undefined) m[LORA_METADATA.baseModelHashScope] = meta.baseModelHashScope;
  if (meta.baseModel !== undefined) m[LORA_METADATA.baseModel] = meta.baseModel;
  return m;
}

/**
 * Writes the LoRA factors `values` (tensor name → value, the names of `createLoraSet`: `<module>.lora_down.weight`,
 * `<module>.lora_up.weight`), adding each module's `alpha` scalar, with the metadata above. Only LoRA tensors are
 * written; anything else in `values` is an error.
 */
export async function saveLora(path: string, values: ReadonlyMap<string, HostTensor>, meta: LoraMeta): Promise<void> {
  const alpha = meta.alpha ?? meta.rank;
  const modules: string[] = [];
  for (const name of values.keys()) {
    if (name.endsWith(LORA_DOWN)) modules.push(name.slice(0, -LORA_DOWN.length));
    else if (!name.endsWith(LORA_UP)) throw new LoraError(`saveLora: "${name}" is not a LoRA factor name`);
  }
  const out = new Map<string, HostTensor>();
  for (const m of modules) {
    const down = values.get(m + LORA_DOWN)!;
    const up = values.get(m + LORA_UP);
    if (!up) throw new LoraError(`saveLora: ${m} has no ${LORA_UP.slice(1)}`);
    out.set(m + LORA_DOWN, down);
    out.set(m + LORA_UP, up);
    out.set(m + LORA_ALPHA, HostTensor.float32([], [alpha]));
  }
  if (out.size !== values.size + modules.length) throw new LoraError('saveLora: a lora_up has no lora_down');
  await writeSafetensors(path, out, loraMetadata(meta));
}
