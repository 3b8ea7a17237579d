/** Opening the LoRAs a generation or a merge names, fitted to the model, and the record of them in outputs. */
import type { Shape } from '../../tensor/shape.ts';
import { LoraFile } from './file.ts';
import { baseHashNotice, type FittedLora, fitLora } from './fit.ts';
import { LORA_METADATA } from './save.ts';
import type { LoraSpec } from './spec.ts';

export interface OpenLorasOptions {
  /** sha256 of the base checkpoint (`checkpointHash`): a LoRA recording another one gets a notice. */
  readonly baseHash?: string;
  readonly onNotice?: (line: string) => void;
}

/**
 * Opens and fits each LoRA to a model's parameters (key → shape); throws the first one-line LoraError (a file that
 * is missing, not a LoRA, or does not fit), closing what was opened.
 */
export async function openLoras(
  specs: readonly LoraSpec[],
  shapes: ReadonlyMap<string, Shape>,
  options: OpenLorasOptions = {},
): Promise<FittedLora[]> {
  const out: FittedLora[] = [];
  try {
    for (const spec of specs) {
      const file = await LoraFile.open(spec.path);
      try {
        out.push(fitLora(file, shapes, spec.scale));
      } catch (e) {
        await file.close();
        throw e;
      }
      const notice = options.baseHash === undefined ? undefined : baseHashNotice(file, options.baseHash);
      if (notice) options.onNotice?.(notice);
    }
    return out;
  } catch (e) {
    for (const l of out) await l.file.close();
    throw e;
  }
}

/** What a sidecar or a merged checkpoint records about the LoRAs applied. */
export interface LoraRecord {
  readonly file: string;
  readonly scale: number;
  readonly modules: number;
  readonly rank: number[];
  readonly alpha: number[];
  readonly baseModelHash?: string;
}

export function loraRecords(loras: readonly FittedLora[]): LoraRecord[] {
  const distinct = (xs: number[]) => [...new Set(xs)];
  return loras.map((l) => ({
    file: l.file.path,
    scale: l.scale,
    modules: l.modules.length,
    rank: distinct(l.modules.map((m) => m.module.rank)),
    alpha: distinct(l.modules.map((m) => m.module.alpha)),
    ...(l.file.metadata[LORA_METADATA.baseModelHash]
      ? { baseModelHash: l.file.metadata[LORA_METADATA.baseModelHash] }
      : {}),
  }));
}
