/**
 * Intermediate taps: builders report module outputs under their reference module path (the checkpoint key prefix of
 * the module, e.g. `first_stage_model.decoder.mid.block_1`; a suffix `:input` marks a module's first input), so a
 * test can expose them as graph outputs and compare them with the reference's forward-hook dumps.
 */
import type { SymTensor } from '../../graph/builder.ts';

export type Tap = (path: string, value: SymTensor) => void;

export interface BuildOptions {
  /** Receives named intermediates; omit in production graphs. */
  tap?: Tap;
}
