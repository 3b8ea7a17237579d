/** `FILE[:SCALE]`, as `svd generate --lora` and `svd lora merge` take a LoRA. */

export interface LoraSpec {
  readonly path: string;
  /** Multiplier of the LoRA's update (default 1; 0 = off; negative values invert it). */
  readonly scale: number;
}

/**
 * Splits `FILE[:SCALE]` at the last `:` when what follows is a number, or when FILE ends in `.safetensors` (then a
 * non-number is a bad scale); otherwise the whole text is the path. Undefined for an empty path or a bad scale.
 */
export function parseLoraSpec(text: string): LoraSpec | undefined {
  const m = /^(.*):([^:/\\]*)$/.exec(text);
  let path = text;
  let scale = 1;
  if (m) {
    const n = m[2].trim() === '' ? Number.NaN : Number(m[2]);
    if (Number.isFinite(n)) [path, scale] = [m[1], n];
    else if (m[1].toLowerCase().endsWith('.safetensors')) return undefined;
  }
  return path.trim() === '' ? undefined : { path, scale };
}
