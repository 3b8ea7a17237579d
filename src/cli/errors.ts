/** A user-facing CLI failure: printed as one line (no stack trace) with its exit code. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Bad usage or a value out of range: exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(message, 2);
}
