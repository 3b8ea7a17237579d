/** An HTTP error with a status and a JSON body `{ error, issues? }`; thrown by handlers, rendered by the router. */
export interface FieldIssue {
  readonly field: string;
  readonly value?: unknown;
  readonly expected: string;
}

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: readonly FieldIssue[],
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

/** 422 with field-level issues. */
export function fieldError(issues: readonly FieldIssue[]): HttpError {
  const text = issues
    .map((i) => (i.value === undefined ? `${i.field}: ${i.expected}` : `${i.field}: expected ${i.expected}`))
    .join('; ');
  return new HttpError(422, text, issues);
}
