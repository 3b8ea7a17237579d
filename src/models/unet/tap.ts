/**
 * Reporting of intermediates (for parity tests and debugging): each module reports its output under its module path
 * relative to the UNet root (the forward-hook naming of `unet-tiny/intermediates.safetensors`, e.g.
 * `input_blocks.1.0.time_stack`), with the suffix `:input` for a module's first input.
 */
import type { SymTensor } from '../../graph/builder.ts';
import type { Params } from '../../nn/params.ts';

/** Receives an intermediate by name; e.g. marks it as an extra graph output. */
export type CaptureFn = (name: string, value: SymTensor) => void;

export class Tap {
  /** `root` = the Params of the UNet (keys `<root.prefix>.input_blocks...`). */
  constructor(
    private readonly root: Params,
    private readonly fn?: CaptureFn,
  ) {}

  get active(): boolean {
    return this.fn !== undefined;
  }

  /**
   * Reports `value` as the output of module `p` (or its first input with `suffix` ':input'). A function is only
   * called when capturing, so values built just for reporting never enter an ordinary graph.
   */
  at(p: Params, value: SymTensor | (() => SymTensor), suffix = ''): void {
    if (!this.fn) return;
    const prefix = this.root.prefix;
    const path = prefix === '' ? p.prefix : p.prefix.slice(prefix.length + 1);
    this.fn(path + suffix, typeof value === 'function' ? value() : value);
  }

  /** Reports a value that is no module's output (e.g. `t_emb`, `emb`) under a fixed name. */
  named(name: string, value: SymTensor): void {
    this.fn?.(name, value);
  }
}
