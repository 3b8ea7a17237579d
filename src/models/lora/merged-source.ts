/**
 * Host-side merging: a CheckpointSource decorator that returns W + Σ factor · reshape(up · down) for the weights the
 * LoRAs adapt (factor = (alpha / rank) · scale) and the base tensors unchanged for every other key — the same
 * arithmetic as the graph-level `withLora` (`src/nn/lora.ts`), done once per weight when it is read. Generation
 * uses this form: the UNet graph and its sessions stay those of the base model, the weights are merged as the stage
 * loads them (one weight at a time, no extra engine memory), and no per-step cost is added; `svd lora merge` writes
 * the same source out.
 *
 * The update is accumulated in float64 per row and added to the float32 weight once (one rounding). A LoRA with
 * scale 0 is skipped, so it gives the base bytes exactly.
 */
import { fromFloat32 } from '../../tensor/half.ts';
import { HostTensor } from '../../tensor/host-tensor.ts';
import type { Shape } from '../../tensor/shape.ts';
import type { CheckpointSource } from '../../weights/checkpoint-source.ts';
import type { FittedLora, FittedModule } from './fit.ts';

/** One low-rank term: up [out, rank, 1…] and down [rank, in, …k] as flat float32, with its factor. */
export interface LoraTerm {
  readonly up: Float32Array;
  readonly down: Float32Array;
  readonly rank: number;
  readonly factor: number;
}

/** w (a weight of `shape`, flat, float32) += Σ factor · (up as [out, rank]) · (down as [rank, in·∏k]), in place. */
export function addLoraTerms(w: Float32Array, shape: Shape, terms: readonly LoraTerm[]): void {
  const out = shape[0];
  const cols = w.length / out;
  const acc = new Float64Array(cols);
  for (let o = 0; o < out; o++) {
    acc.fill(0);
    for (const t of terms) {
      for (let r = 0; r < t.rank; r++) {
        const u = t.factor * t.up[o * t.rank + r];
        if (u === 0) continue;
        const d = r * cols;
        for (let j = 0; j < cols; j++) acc[j] += u * t.down[d + j];
      }
    }
    const row = o * cols;
    for (let j = 0; j < cols; j++) w[row + j] += acc[j];
  }
}

export interface MergedSourceOptions {
  /** Added to the base's metadata. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Whether `close()` also closes the base (default true; the LoRA files are always closed). */
  readonly closeBase?: boolean;
}

/** `base` with `loras` merged into the weights they adapt. */
export function loraMergedSource(
  base: CheckpointSource,
  loras: readonly FittedLora[],
  options: MergedSourceOptions = {},
): CheckpointSource {
  const byKey = new Map<string, { lora: FittedLora; module: FittedModule }[]>();
  for (const lora of loras) {
    if (lora.scale === 0) continue;
    for (const module of lora.modules) {
      const list = byKey.get(module.weight.key) ?? [];
      list.push({ lora, module });
      byKey.set(module.weight.key, list);
    }
  }
  const read = async (key: string): Promise<HostTensor> => {
    const list = byKey.get(key);
    const w = await base.read(key);
    if (!list) return w;
    if (w.dtype !== 'float32') throw new TypeError(`LoRA merge: ${key} is ${w.dtype}, not floating point`);
    const terms: LoraTerm[] = [];
    for (const { lora, module } of list) {
      const name = module.module.name;
      const [up, down] = [await lora.file.read(name, 'up'), await lora.file.read(name, 'down')];
      terms.push({ up: up.data, down: down.data, rank: module.module.rank, factor: module.factor });
    }
    const data = Float32Array.from(w.data as Float32Array); // the base tensor is not ours to change
    addLoraTerms(data, w.shape, terms);
    return new HostTensor('float32', w.shape, data);
  };
  return {
    path: base.path,
    layout: base.layout,
    metadata: { ...base.metadata, ...options.metadata },
    entries: () => base.entries(),
    read,
    readStored: async (key) => {
      if (!byKey.has(key)) return base.readStored(key);
      const dtype = base.entries().get(key)?.dtype;
      const merged = await read(key);
      return dtype === 'float16' || dtype === 'bfloat16' ? fromFloat32(merged, dtype) : merged;
    },
    close: async () => {
      for (const l of loras) await l.file.close();
      if (options.closeBase !== false) await base.close();
    },
  };
}
