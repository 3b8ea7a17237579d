/** A model config in the reference's structure that cannot be read: the message names the file and the JSON path. */
export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}

// biome-ignore lint/suspicious/noExplicitAny: the reference's YAML/JSON structure, checked field by field by the adapter
export type Json = Record<string, any>;
