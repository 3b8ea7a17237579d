/**
 * LoRA sets for the graph-level path (`withLora` in `src/nn/lora.ts`): a new LoRA for training, named by the kohya
 * convention, or the LoRA files fitted to a model, with their factors as engine weights.
 */
import { type LoraAdapter, LoraSet } from '../../nn/lora.ts';
import type { HostTensor } from '../../tensor/host-tensor.ts';
import type { Shape } from '../../tensor/shape.ts';
import { LoraError } from './errors.ts';
import type { FittedLora } from './fit.ts';
import { LORA_DOWN, LORA_UP } from './names.ts';
import { DEFAULT_LORA_TARGETS, resolveLoraTargets } from './targets.ts';

export interface NewLoraOptions {
  /** Module-path globs (default: the temporal attention, `DEFAULT_LORA_TARGETS`). */
  readonly targets?: readonly string[];
  readonly rank: number;
  /** Default: the rank (factor 1). */
  readonly alpha?: number;
}

/**
 * A new LoRA on a model's parameters (key → shape, e.g. `declareModelParams(model).shapes`): one adapter per
 * targeted weight, factors named `lora_unet_<path>.lora_down.weight` / `.lora_up.weight` (what `saveLora` writes).
 */
export function createLoraSet(shapes: ReadonlyMap<string, Shape>, options: NewLoraOptions): LoraSet {
  const { rank } = options;
  if (!Number.isSafeInteger(rank) || rank < 1) throw new LoraError(`LoRA rank must be a positive integer, got ${rank}`);
  const alpha = options.alpha ?? rank;
  if (!Number.isFinite(alpha) || alpha <= 0) throw new LoraError(`LoRA alpha must be a positive number, got ${alpha}`);
  const targets = resolveLoraTargets(shapes, options.targets ?? DEFAULT_LORA_TARGETS);
  return new LoraSet(
    targets.map((w) => ({
      base: w.key,
      shape: w.shape,
      down: w.name + LORA_DOWN,
      up: w.name + LORA_UP,
      rank,
      factor: alpha / rank,
    })),
  );
}

/** Engine weight name of a factor of LoRA `index` of `count` (several files name the same modules). */
export function loraInputName(tensor: string, index: number, count: number): string {
  return count === 1 ? tensor : `lora${index}:${tensor}`;
}

/** The adapters of fitted LoRA files (graph-level application); scale-0 files are left out. */
export function fittedLoraSet(loras: readonly FittedLora[]): LoraSet {
  const adapters: LoraAdapter[] = [];
  loras.forEach((l, i) => {
    if (l.scale === 0) return;
    for (const m of l.modules) {
      adapters.push({
        base: m.weight.key,
        shape: m.weight.shape,
        down: loraInputName(m.module.name + LORA_DOWN, i, loras.length),
        up: loraInputName(m.module.name + LORA_UP, i, loras.length),
        rank: m.module.rank,
        factor: m.factor,
      });
    }
  });
  return new LoraSet(adapters);
}

/** The factors of `fittedLoraSet(loras)` as float32 tensors by engine weight name (to `engine.setWeights`). */
export async function readLoraFactors(loras: readonly FittedLora[]): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (let i = 0; i < loras.length; i++) {
    const l = loras[i];
    if (l.scale === 0) continue;
    for (const m of l.modules) {
      const name = m.module.name;
      out.set(loraInputName(name + LORA_DOWN, i, loras.length), await l.file.read(name, 'down'));
      out.set(loraInputName(name + LORA_UP, i, loras.length), await l.file.read(name, 'up'));
    }
  }
  return out;
}
