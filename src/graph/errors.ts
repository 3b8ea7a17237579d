import { formatShape, type Shape } from '../tensor/shape.ts';

/** A shape or dtype error, thrown at the op call that caused it. */
export class ShapeError extends Error {
  override name = 'ShapeError';
  constructor(
    readonly op: string,
    detail: string,
  ) {
    super(`${op}: ${detail}`);
  }

  static mismatch(op: string, what: string, a: Shape, b: Shape): ShapeError {
    return new ShapeError(op, `${what}: ${formatShape(a)} vs ${formatShape(b)}`);
  }
}

/** Misuse of the graph API (unknown op, value from another graph, duplicate names). */
export class GraphError extends Error {
  override name = 'GraphError';
}
