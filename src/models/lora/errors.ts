/** A LoRA problem, reported as one line: a file that is not a LoRA, does not fit the model, or a bad target. */
export class LoraError extends Error {
  override name = 'LoraError';
}

/** `LoRA x.safetensors does not fit this model: <reason>`. */
export function doesNotFit(path: string, reason: string): LoraError {
  return new LoraError(`LoRA ${path} does not fit this model: ${reason}`);
}

/** `n items (a, b, c, … and k more)`: a list kept to one short line. */
export function shortList(items: readonly string[], max = 3): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown}, … and ${items.length - max} more` : shown;
}
