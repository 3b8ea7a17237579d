/**
 * Reading a LoRA file (safetensors, kohya tensor names — see `names.ts`): the header is checked at open (every tensor
 * is `<module>.lora_down.weight`, `<module>.lora_up.weight` or `<module>.alpha`, both factors present, ranks agree,
 * floating point), the alpha scalars are read, and the factors are read on demand as float32.
 */
import { toFloat32 } from '../../tensor/half.ts';
import type { HostTensor } from '../../tensor/host-tensor.ts';
import { formatShape, numel, type Shape } from '../../tensor/shape.ts';
import { SafetensorsFile } from '../../weights/safetensors-reader.ts';
import { LoraError, shortList } from './errors.ts';
import { LORA_ALPHA, LORA_DOWN, LORA_UP } from './names.ts';

/** One adapted module of a LoRA file. */
export interface LoraModule {
  /** kohya module name, e.g. `lora_unet_middle_block_1_time_stack_0_attn1_to_q`. */
  readonly name: string;
  readonly down: Shape;
  readonly up: Shape;
  readonly rank: number;
  /** The stored alpha, or the rank when the file has none (or 0), as kohya reads it: scale alpha / rank. */
  readonly alpha: number;
}

const FLOAT = new Set(['float32', 'float16', 'bfloat16']);
const SUFFIXES = [LORA_DOWN, LORA_UP, LORA_ALPHA];

export class LoraFile {
  private constructor(
    readonly path: string,
    private readonly file: SafetensorsFile,
    /** By kohya module name, in file order. */
    readonly modules: ReadonlyMap<string, LoraModule>,
  ) {}

  /** The file's `__metadata__`. */
  get metadata(): Readonly<Record<string, string>> {
    return this.file.metadata;
  }

  /** Opens and checks a LoRA file; throws a one-line LoraError. */
  static async open(path: string): Promise<LoraFile> {
    let file: SafetensorsFile;
    try {
      file = await SafetensorsFile.open(path);
    } catch (e) {
      throw new LoraError(`LoRA ${(e as Error).message}`);
    }
    try {
      return new LoraFile(path, file, await readModules(path, file));
    } catch (e) {
      await file.close();
      throw e;
    }
  }

  /** One factor of a module, as float32. */
  async read(name: string, which: 'down' | 'up'): Promise<HostTensor<'float32'>> {
    return toFloat32(await this.file.read(name + (which === 'down' ? LORA_DOWN : LORA_UP)));
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

async function readModules(path: string, file: SafetensorsFile): Promise<Map<string, LoraModule>> {
  const bad = (reason: string) => new LoraError(`LoRA ${path} is not a kohya-style LoRA file: ${reason}`);
  const parts = new Map<string, { down?: Shape; up?: Shape; alpha?: string }>();
  const foreign: string[] = [];
  for (const tensor of file.names()) {
    const suffix = SUFFIXES.find((s) => tensor.endsWith(s) && tensor.length > s.length);
    if (!suffix) {
      foreign.push(tensor);
      continue;
    }
    const info = file.info(tensor);
    if (!FLOAT.has(info.dtype)) throw bad(`tensor "${tensor}" is ${info.dtype}, not floating point`);
    const name = tensor.slice(0, -suffix.length);
    const p = parts.get(name) ?? {};
    if (suffix === LORA_DOWN) p.down = info.shape;
    else if (suffix === LORA_UP) p.up = info.shape;
    else p.alpha = tensor;
    parts.set(name, p);
  }
  if (foreign.length > 0) {
    throw bad(
      `${foreign.length} tensors are not <module>${LORA_DOWN}, ${LORA_UP} or ${LORA_ALPHA} (${shortList(foreign)})`,
    );
  }
  if (parts.size === 0) throw bad('it holds no tensors');
  const modules = new Map<string, LoraModule>();
  for (const [name, p] of parts) {
    if (!p.down || !p.up) throw bad(`${name} has no ${p.down ? 'lora_up' : 'lora_down'} weight`);
    const rank = p.down[0];
    const upOk =
      p.up.length === p.down.length && p.up[1] === rank && p.up.slice(2).every((d) => d === 1) && p.down.length >= 2;
    if (!upOk || rank < 1) {
      throw bad(`${name}: lora_down ${formatShape(p.down)} and lora_up ${formatShape(p.up)} are not a rank-r pair`);
    }
    let alpha = rank;
    if (p.alpha !== undefined) {
      const t = toFloat32(await file.read(p.alpha));
      if (numel(t.shape) !== 1 || !Number.isFinite(t.data[0])) throw bad(`${p.alpha} is not a finite scalar`);
      if (t.data[0] !== 0) alpha = t.data[0];
    }
    modules.set(name, { name, down: p.down, up: p.up, rank, alpha });
  }
  return modules;
}
