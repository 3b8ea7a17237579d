/** A model config in the reference's structure that cannot be read: the message names the file and the JSON path. */
export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
  constructor(
    message: string,
    /** `unreadable`: the file is missing or cannot be read (a failure, exit 1); `invalid`: its content is wrong. */
    readonly problem: 'unreadable' | 'invalid' = 'invalid',
  ) {
    super(message);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the reference's YAML/JSON structure, checked field by field by the adapter
export type Json = Record<string, any>;
