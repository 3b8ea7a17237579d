/**
 * Fitting a LoRA file to a model: every module it names must be an adaptable weight of the model (kohya name →
 * sgm key through the model's own keys, `names.ts`) with factor shapes that match that weight; otherwise one line,
 * `LoRA x.safetensors does not fit this model: …`.
 *
 * The base-model hash recorded in the file (`base_model_hash`, see `save.ts`) is only compared, never enforced:
 * a LoRA trained on one checkpoint is routinely applied to a fine-tune or a re-saved copy of it (fp16, diffusers
 * round trip), whose bytes — hence hash — differ while every shape fits. A mismatch is therefore a warning;
 * a shape or name mismatch, which would be garbage, is the error.
 */
import { loraFactorShapes } from '../../nn/lora.ts';
import { formatShape, type Shape, shapesEqual } from '../../tensor/shape.ts';
import { doesNotFit, shortList } from './errors.ts';
import type { LoraFile, LoraModule } from './file.ts';
import { type AdaptableWeight, adaptableWeights, LORA_UNET_PREFIX } from './names.ts';
import { LORA_METADATA } from './save.ts';

/** A LoRA file checked against a model, with the scale it is applied at. */
export interface FittedLora {
  readonly file: LoraFile;
  /** The user's multiplier (`--lora FILE:SCALE`; 1 by default). */
  readonly scale: number;
  readonly modules: readonly FittedModule[];
}

export interface FittedModule {
  readonly module: LoraModule;
  readonly weight: AdaptableWeight;
  /** (alpha / rank) · scale: the multiplier of up·down. */
  readonly factor: number;
}

/** Checks `file` against a model's parameters (key → shape); throws a one-line LoraError when it does not fit. */
export function fitLora(file: LoraFile, shapes: ReadonlyMap<string, Shape>, scale = 1): FittedLora {
  const weights = adaptableWeights(shapes);
  const unknown: string[] = [];
  const misshapen: string[] = [];
  const modules: FittedModule[] = [];
  for (const m of file.modules.values()) {
    const w = weights.get(m.name);
    if (!w) {
      unknown.push(m.name);
      continue;
    }
    const want = loraFactorShapes(w.shape, m.rank);
    if (!shapesEqual(want.down, m.down) || !shapesEqual(want.up, m.up)) {
      misshapen.push(`${m.name} has ${formatShape(m.down)}·${formatShape(m.up)} for a ${formatShape(w.shape)} weight`);
      continue;
    }
    modules.push({ module: m, weight: w, factor: (m.alpha / m.rank) * scale });
  }
  const problems: string[] = [];
  if (unknown.length > 0) {
    const te = unknown.some((n) => !n.startsWith(LORA_UNET_PREFIX)) ? ' (only lora_unet_* modules exist in SVD)' : '';
    problems.push(`${unknown.length} modules name weights it does not have${te}: ${shortList(unknown)}`);
  }
  if (misshapen.length > 0) problems.push(`${misshapen.length} modules have other shapes: ${shortList(misshapen, 2)}`);
  if (problems.length > 0) throw doesNotFit(file.path, problems.join('; '));
  return { file, scale, modules };
}

/** A warning line when the file records a base-model hash other than `sha256` (see the file comment); else none. */
export function baseHashNotice(file: LoraFile, sha256: string): string | undefined {
  const recorded = file.metadata[LORA_METADATA.baseModelHash];
  if (recorded === undefined || recorded === sha256) return undefined;
  const name = file.metadata[LORA_METADATA.baseModel];
  return (
    `LoRA ${file.path} was trained on another base checkpoint${name ? ` (${name})` : ''}: sha256 ` +
    `${recorded.slice(0, 12)}…, this one is ${sha256.slice(0, 12)}…; applying it anyway (the shapes fit)`
  );
}
