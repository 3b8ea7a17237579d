/** Shared test utilities for the diffusion layer. */
import { readFileSync } from 'node:fs';
import { GOLDEN_DIR } from '../helpers/golden.ts';

// biome-ignore lint/suspicious/noExplicitAny: golden JSON
export const schedulesJson: Record<string, any> = JSON.parse(readFileSync(`${GOLDEN_DIR}schedules.json`, 'utf8'));

/** IEEE-754 bit pattern of a float32 value, as `schedules.json` writes it ("442f0002"). */
export function f32Hex(value: number): string {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value);
  return view.getUint32(0).toString(16).padStart(8, '0');
}

export function hexes(values: ArrayLike<number>): string[] {
  return Array.from(values, f32Hex);
}

/** max|a − b| / max|b| (the golden rule) over plain arrays. */
export function relErr(mine: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (mine.length !== ref.length) throw new Error(`length ${mine.length} vs ${ref.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(mine[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
