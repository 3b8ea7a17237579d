/** Shapes are readonly arrays of non-negative integers; `[]` is a scalar (one element). */
export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar). */
export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function isValidShape(shape: unknown): shape is Shape {
  return Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0);
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Row-major strides in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}
