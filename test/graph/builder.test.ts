/** Tracing: shapes and dtypes are inferred at each call; errors name the op and the shapes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { GraphError, ShapeError } from '../../src/graph/errors.ts';
import * as op from '../../src/graph/ops/index.ts';

test('output shapes are inferred as the graph is built', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 4, 16, 16]);
  const y = op.conv(x, b.weight('w', [8, 4, 3, 3]), undefined, { stride: 2, padding: 1 });
  assert.deepEqual(y.shape, [2, 8, 8, 8]);
  const z = op.reshape(op.transpose(y, [0, 2, 3, 1]), [2, -1, 8]);
  assert.deepEqual(z.shape, [2, 64, 8]);
  assert.deepEqual(op.attention(z, z, z, 2).shape, [2, 64, 8]);
  assert.deepEqual(op.sum(z, 1, true).shape, [2, 1, 8]);
  assert.deepEqual(op.slice(z, [1], [-1], [1], [3]).shape, [2, 21, 8]);
  assert.deepEqual(op.resize(y, [5, 7], { mode: 'cubic', alignCorners: true }).shape, [2, 8, 5, 7]);
  assert.equal(op.greater(z, 0).dtype, 'bool');
});

test('shape errors are thrown at the call that caused them, naming the op and both shapes', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 4, 16, 16]);
  assert.throws(
    () => op.conv(x, b.weight('w', [8, 3, 3, 3])),
    (e: Error) => e instanceof ShapeError && /^Conv: .*\[2, 4, 16, 16\].*\[8, 3, 3, 3\]/.test(e.message),
  );
  assert.throws(
    () => op.matmul(b.input('a', [3, 5]), b.input('c', [4, 2])),
    /MatMul: inner dimensions differ: \[3, 5\] @ \[4, 2\]/,
  );
  assert.throws(() => op.add(b.input('p', [3, 5]), b.input('q', [4])), /Add: cannot broadcast \[3, 5\] with \[4\]/);
  assert.throws(() => op.reshape(x, [3, -1]), /Reshape: cannot reshape \[2, 4, 16, 16\] to \[3, -1\]/);
  assert.throws(() => op.groupNorm(x, 3), /GroupNorm: 4 channels do not split into 3 groups/);
  assert.throws(() => op.concat([x, b.input('r', [2, 5, 16, 15])], 1), /Concat: shapes differ off axis 1/);
  assert.throws(() => op.pad(x, [0, 0, 16, 0, 0, 0, 0, 0], { mode: 'reflect' }), /Pad: reflect padding/);
  assert.throws(() => op.add(x, b.input('i', [1], 'int64')), /Add: dtype mismatch: float32 vs int64/);
  assert.throws(
    () => op.attention(b.input('s', [1, 4, 6]), b.input('t', [1, 4, 6]), b.input('u', [1, 4, 6]), 4),
    /Attention: .* do not fit 4 heads/,
  );
});

test('graph misuse is a GraphError', () => {
  const b = new GraphBuilder();
  const other = new GraphBuilder();
  b.weight('w', [2]);
  assert.throws(() => b.weight('w', [3]), GraphError);
  assert.throws(() => op.add(b.input('x', [2]), other.input('y', [2])), /belongs to another graph/);
  assert.throws(() => b.build(), /has no outputs/);
  assert.throws(() => b.output('w', op.add(b.weight('w', [2]), 1)), /output "w" has the name of an input/);
});
