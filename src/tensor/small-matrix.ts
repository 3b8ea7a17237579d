/** Small dense matrices on the host, in double precision (normal equations of a few unknowns). */

/** Inverse of a small non-singular matrix (Gauss–Jordan with partial pivoting). */
export function invertSmall(m: readonly (readonly number[])[]): number[][] {
  const n = m.length;
  const a = m.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    const d = a[c][c];
    for (let j = 0; j < 2 * n; j++) a[c][j] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r][c];
      if (f !== 0) for (let j = 0; j < 2 * n; j++) a[r][j] -= f * a[c][j];
    }
  }
  return a.map((row) => row.slice(n));
}

/**
 * Linear least squares Y ≈ A·F from rows added one at a time, through the normal equations:
 * F = (AᵀA + R)⁻¹ AᵀY with a small ridge R on the diagonal (relative to each column's AᵀA, plus an absolute floor) so
 * that unused or collinear columns of A still give a solution.
 */
export class LeastSquares {
  /** AᵀA [inputs, inputs], row-major. */
  private readonly ata: Float64Array;
  /** AᵀY [inputs, outputs], row-major. */
  private readonly aty: Float64Array;
  rows = 0;

  constructor(
    readonly inputs: number,
    readonly outputs: number,
  ) {
    this.ata = new Float64Array(inputs * inputs);
    this.aty = new Float64Array(inputs * outputs);
  }

  /** One row: a [inputs], y [outputs]. */
  add(a: ArrayLike<number>, y: ArrayLike<number>): void {
    const { inputs: n, outputs: k } = this;
    for (let r = 0; r < n; r++) {
      const ar = a[r];
      if (ar === 0) continue;
      for (let c = 0; c < n; c++) this.ata[r * n + c] += ar * a[c];
      for (let j = 0; j < k; j++) this.aty[r * k + j] += ar * y[j];
    }
    this.rows++;
  }

  /** F [inputs][outputs]. */
  solve(relativeRidge = 1e-6, absoluteRidge = 1e-9): number[][] {
    const { inputs: n, outputs: k, ata, aty } = this;
    const inv = invertSmall(
      Array.from({ length: n }, (_, r) =>
        Array.from(
          { length: n },
          (_, c) => ata[r * n + c] + (r === c ? relativeRidge * ata[r * n + r] + absoluteRidge : 0),
        ),
      ),
    );
    return inv.map((row) =>
      Array.from({ length: k }, (_, j) => row.reduce((acc, v, c) => acc + v * aty[c * k + j], 0)),
    );
  }
}
