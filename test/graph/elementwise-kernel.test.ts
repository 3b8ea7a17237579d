/**
 * Fused elementwise kernels (src/graph/elementwise-kernel.ts): the WebAssembly SIMD form and the JS form give the same
 * bits, equal to float32 arithmetic op by op; lengths that are not a multiple of the lanes or of a chunk; in-place
 * writes after all reads; what the compiler refuses.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { compileElementwiseKernel, instantiateKernel } from '../../src/graph/elementwise-kernel.ts';
import * as op from '../../src/graph/ops/index.ts';

/** a ← (a·s − b)/√(b² + 0.5) − (−a); b ← a (the old a: stores come after every read); c ← −0. */
function kernel() {
  const b = new GraphBuilder('k');
  const x = b.input('a', []);
  const y = b.input('b', []);
  b.input('c', []); // written only
  const s = b.input('s', []);
  const top = op.sub(op.mul(x, s), y);
  const out = op.sub(op.div(top, op.sqrt(op.add(op.mul(y, y), 0.5))), op.neg(x));
  b.output('next:a', out);
  b.output('next:b', x);
  b.output('next:c', b.constant(-0));
  return compileElementwiseKernel({
    graph: b.build(),
    elements: ['a', 'b', 'c'],
    writes: { 'next:a': 'a', 'next:b': 'b', 'next:c': 'c' },
  });
}

test('SIMD and JS forms: same bits, float32 op by op, any length', () => {
  const k = kernel();
  assert.deepEqual(k.scalars, ['s']);
  const simd = instantiateKernel(k);
  const js = instantiateKernel(k, { simd: false });
  const f = Math.fround;
  for (const n of [1, 3, 4, 4097, 9001]) {
    const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1) * 100);
    const b = Float32Array.from({ length: n }, (_, i) => Math.cos(3 * i) * 1e-3);
    const c = new Float32Array(n).fill(7);
    const s = 0.1; // not a float32: the kernel rounds it
    const one = [a.slice(), b.slice(), c.slice()];
    const two = [a.slice(), b.slice(), c.slice()];
    simd(one, [s], n);
    js(two, [s], n);
    for (let j = 0; j < 3; j++) {
      assert.ok(Buffer.from(one[j].buffer).equals(Buffer.from(two[j].buffer)), `array ${j}, n = ${n}`);
    }
    for (const i of [0, n - 1]) {
      const want = f(f(f(f(a[i] * f(s)) - b[i]) / f(Math.sqrt(f(f(b[i] * b[i]) + 0.5)))) - -a[i]);
      assert.equal(one[0][i], want, `a[${i}]`);
      assert.equal(one[1][i], a[i], `b[${i}] is the old a`);
      assert.ok(Object.is(one[2][i], -0), `c[${i}]`);
    }
  }
});

test('the compiler refuses tensors, unsupported ops and outputs that write no element', () => {
  const tensor = new GraphBuilder('t');
  tensor.output('next:a', op.neg(tensor.input('a', [2])));
  assert.throws(
    () => compileElementwiseKernel({ graph: tensor.build(), elements: ['a'], writes: { 'next:a': 'a' } }),
    /every value must be a float32 scalar/,
  );
  const exp = new GraphBuilder('e');
  exp.output('next:a', op.exp(exp.input('a', [])));
  assert.throws(
    () => compileElementwiseKernel({ graph: exp.build(), elements: ['a'], writes: { 'next:a': 'a' } }),
    /op Exp is not supported/,
  );
  const loose = new GraphBuilder('l');
  loose.output('y', op.neg(loose.input('a', [])));
  assert.throws(
    () => compileElementwiseKernel({ graph: loose.build(), elements: ['a'], writes: {} }),
    /output "y" must write an element input/,
  );
});
