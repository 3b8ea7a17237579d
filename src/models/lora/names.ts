/**
 * LoRA tensor names: the kohya convention (kohya-ss/sd-scripts, `networks/lora.py`: `LoRANetwork.LORA_PREFIX_UNET =
 * "lora_unet"`, `lora_name = (prefix + "." + module_name).replace(".", "_")`, and `LoRAModule` registers the
 * submodules `lora_down`, `lora_up` and the buffer `alpha`; checked with the `search` tool against the repository's
 * `networks/lora.py`). For SDXL that module name is the sgm-layout path (`input_blocks.4.1.transformer_blocks.0.
 * attn1.to_q`), and svd-ts keys are sgm paths too, so for the sgm key `model.diffusion_model.<path>.weight`:
 *
 *     lora_unet_<path with . replaced by _>.lora_down.weight   [rank, in, …k]
 *     lora_unet_<path with . replaced by _>.lora_up.weight     [out, rank, 1, …]
 *     lora_unet_<path with . replaced by _>.alpha              [] (scalar; absent = rank, as kohya reads it)
 *
 * The name loses the dots, so it is mapped back through the model's own keys (as kohya does, by enumerating the
 * model's modules), never by guessing where the dots were.
 */
import type { Shape } from '../../tensor/shape.ts';
import { UNET_PREFIX } from '../svd-network.ts';
import { LoraError } from './errors.ts';

export const LORA_UNET_PREFIX = 'lora_unet_';
export const LORA_DOWN = '.lora_down.weight';
export const LORA_UP = '.lora_up.weight';
export const LORA_ALPHA = '.alpha';

/** A weight LoRA can adapt: `<module>.weight` of rank ≥ 2 under the UNet. */
export interface AdaptableWeight {
  /** Module path, e.g. `model.diffusion_model.middle_block.1.time_stack.0.attn1.to_q`. */
  readonly module: string;
  /** `<module>.weight`. */
  readonly key: string;
  readonly shape: Shape;
  /** kohya module name, e.g. `lora_unet_middle_block_1_time_stack_0_attn1_to_q`. */
  readonly name: string;
}

/** The kohya module name of an sgm module path under the UNet; undefined elsewhere. */
export function kohyaModuleName(module: string): string | undefined {
  const unet = `${UNET_PREFIX}.`;
  if (!module.startsWith(unet)) return undefined;
  return LORA_UNET_PREFIX + module.slice(unet.length).replace(/\./g, '_');
}

/** Every adaptable weight of a model (key → shape), by kohya module name. */
export function adaptableWeights(shapes: ReadonlyMap<string, Shape>): Map<string, AdaptableWeight> {
  const out = new Map<string, AdaptableWeight>();
  for (const [key, shape] of shapes) {
    if (!key.endsWith('.weight') || shape.length < 2) continue;
    const module = key.slice(0, -'.weight'.length);
    const name = kohyaModuleName(module);
    if (name === undefined) continue;
    const other = out.get(name);
    if (other) throw new LoraError(`LoRA names collide: ${other.key} and ${key} are both ${name}`);
    out.set(name, { module, key, shape, name });
  }
  return out;
}
