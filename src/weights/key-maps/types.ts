/** Results of the sgm ⇄ diffusers key rules. Keys are relative to a component's prefix unless a rule says otherwise. */
import type { KeyTransform } from './transforms.ts';

/** Where one sgm tensor goes: one target key per part (`split` gives several), and the byte transform. */
export interface TargetMapping {
  readonly keys: readonly string[];
  readonly transform: KeyTransform;
}

/** Where one target tensor comes from: the sgm key, which part of it (0 unless `split`), and the byte transform. */
export interface SourceMapping {
  readonly key: string;
  readonly part: number;
  readonly transform: KeyTransform;
}
