import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invertSmall, LeastSquares } from '../../src/tensor/small-matrix.ts';

test('invertSmall: a matrix times its inverse is the identity (pivoting past a zero on the diagonal)', () => {
  const m = [
    [0, 2, 1],
    [1, 1, 0],
    [3, 0, 2],
  ];
  const inv = invertSmall(m);
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) {
      const v = m[r].reduce((s, x, k) => s + x * inv[k][c], 0);
      assert.ok(Math.abs(v - (r === c ? 1 : 0)) < 1e-12, `(${r}, ${c}) = ${v}`);
    }
});

test('LeastSquares: recovers an exact linear map and fits noisy rows to their least-squares solution', () => {
  // y = [2a₀ − a₁ + 0.5, a₁ + 3] from rows (a₀, a₁, 1)
  const exact = new LeastSquares(3, 2);
  const noisy = new LeastSquares(3, 2);
  let s = 1;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31) * 2 - 1;
  };
  for (let i = 0; i < 200; i++) {
    const a = [rand(), rand(), 1];
    const y = [2 * a[0] - a[1] + 0.5, a[1] + 3];
    exact.add(a, y);
    noisy.add(a, [y[0] + 0.01 * rand(), y[1] + 0.01 * rand()]);
  }
  assert.equal(exact.rows, 200);
  const want = [
    [2, 0],
    [-1, 1],
    [0.5, 3],
  ];
  const f = exact.solve(0, 0);
  const g = noisy.solve();
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 2; c++) {
      assert.ok(Math.abs(f[r][c] - want[r][c]) < 1e-9, `exact F[${r}][${c}] = ${f[r][c]}`);
      assert.ok(Math.abs(g[r][c] - want[r][c]) < 0.01, `noisy F[${r}][${c}] = ${g[r][c]}`);
    }
});

test('LeastSquares: an unused input column gets 0 through the ridge instead of a singular system', () => {
  const ls = new LeastSquares(2, 1);
  for (const x of [1, 2, 3]) ls.add([x, 0], [4 * x]);
  const f = ls.solve();
  assert.ok(Math.abs(f[0][0] - 4) < 1e-4, `${f[0][0]}`);
  assert.equal(f[1][0], 0);
});
