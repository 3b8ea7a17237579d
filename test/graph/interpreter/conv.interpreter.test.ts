import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ConvOptions,
  concat,
  conv,
  convTranspose,
  f64,
  pad,
  slice,
} from '../../../src/graph/interpreter/index.ts';
import { assertClose, dot, iota, randomTensor, rng } from './helpers.ts';

// x[r, c] = 4r + c + 1 (the numbers 1..16), w = [[1,2,3],[4,5,6],[7,8,9]].
const x44 = iota([1, 1, 4, 4], 1);
const w33 = iota([1, 1, 3, 3], 1);

test('conv 3×3 on a 1-channel 4×4 input, by hand', () => {
  // out[0,0] = Σ w[a,b]·(4a + b + 1) = 4·63 + 51 + 45 = 348; shifting by (i, j) adds Σw·(4i + j) = 45·(4i + j).
  assertClose(conv(x44, w33, undefined), { shape: [1, 1, 2, 2], data: [348, 393, 528, 573] });
  assertClose(conv(x44, w33, f64([1], [0.5])), { shape: [1, 1, 2, 2], data: [348.5, 393.5, 528.5, 573.5] });
});

test('conv stride 2 with padding 1, by hand', () => {
  // out[0,0] = 5·1 + 6·2 + 8·5 + 9·6; out[0,1] = 4·2+5·3+6·4 + 7·6+8·7+9·8; out[1,0] = 2·5+3·6 + 5·9+6·10 + 8·13+9·14.
  const y = conv(x44, w33, undefined, { strides: [2, 2], pads: [1, 1, 1, 1] });
  assertClose(y, { shape: [1, 1, 2, 2], data: [111, 217, 363, 573] });
});

test('conv dilation 2, by hand', () => {
  // x[r, c] = 5r + c + 1 on 6×5; taps at (2a, 2b): Σ w·(10a + 2b + 1) = 630 + 102 + 45 = 777; next row adds 5·45.
  const x = iota([1, 1, 6, 5], 1);
  assertClose(conv(x, w33, undefined, { dilations: [2, 2] }), { shape: [1, 1, 2, 1], data: [777, 1002] });
});

test('conv 1-D with asymmetric pads, by hand', () => {
  // padded [0, 0, 1, 2, 3, 4] ⋆ [1, 10, 100]
  const y = conv(f64([1, 1, 4], [1, 2, 3, 4]), f64([1, 1, 3], [1, 10, 100]), undefined, { pads: [2, 0] });
  assertClose(y, { shape: [1, 1, 4], data: [100, 210, 321, 432] });
  assertClose(conv(f64([1, 1, 4], [1, 2, 3, 4]), f64([1, 1, 3], [1, 10, 100]), undefined, { pads: [0, 2] }), {
    shape: [1, 1, 4],
    data: [321, 432, 43, 4],
  });
});

test('conv groups 2 (depthwise), by hand', () => {
  const x = f64([1, 2, 3], [1, 2, 3, 4, 5, 6]);
  const w = f64([2, 1, 2], [1, 1, 1, -1]);
  const y = conv(x, w, f64([2], [10, 20]), { group: 2 });
  assertClose(y, { shape: [1, 2, 2], data: [13, 15, 19, 19] });
});

test('conv 3-D, by hand', () => {
  // 2×2×2 input 1..8 against kernel 1..8: Σ i².
  assertClose(conv(iota([1, 1, 2, 2, 2], 1), iota([1, 1, 2, 2, 2], 1), undefined), {
    shape: [1, 1, 1, 1, 1],
    data: [204],
  });
  // Ones 2×2×2 with a ones 2×2×2 kernel and pads 1: each output counts the overlap (1 corner, 2 edge, 4 face, 8 centre).
  const ones = f64([1, 1, 2, 2, 2], new Array(8).fill(1));
  const y = conv(ones, ones, undefined, { pads: [1, 1, 1, 1, 1, 1] });
  const expected: number[] = [];
  for (let a = 0; a < 3; a++)
    for (let b = 0; b < 3; b++)
      for (let c = 0; c < 3; c++) expected.push((a === 1 ? 2 : 1) * (b === 1 ? 2 : 1) * (c === 1 ? 2 : 1));
  assertClose(y, { shape: [1, 1, 3, 3, 3], data: expected });
});

test('conv with asymmetric pads equals explicit zero padding then conv', () => {
  const r = rng(7);
  const x = randomTensor([2, 3, 5, 6], r);
  const w = randomTensor([4, 3, 3, 2], r);
  const pads = [0, 2, 1, 1]; // top 0, left 2, bottom 1, right 1
  const padded = pad(x, [0, 0, 0, 2, 0, 0, 1, 1], 'constant', 0);
  assertClose(conv(x, w, undefined, { pads, strides: [2, 1] }), conv(padded, w, undefined, { strides: [2, 1] }), 1e-13);
  const x3 = randomTensor([1, 2, 3, 4, 3], r);
  const w3 = randomTensor([2, 2, 2, 2, 2], r);
  const p3 = pad(x3, [0, 0, 1, 0, 2, 0, 0, 0, 1, 1], 'constant', 0);
  assertClose(conv(x3, w3, undefined, { pads: [1, 0, 2, 0, 1, 1] }), conv(p3, w3, undefined), 1e-13);
});

test('grouped conv equals per-group convs concatenated', () => {
  const r = rng(8);
  const x = randomTensor([2, 4, 5, 5], r);
  const w = randomTensor([6, 2, 3, 3], r);
  const b = randomTensor([6], r);
  const y = conv(x, w, b, { group: 2, pads: [1, 1, 1, 1] });
  const parts = [0, 1].map((g) =>
    conv(
      slice(x, [2 * g], [2 * g + 2], [1]),
      slice(w, [3 * g], [3 * g + 3], [0]),
      slice(b, [3 * g], [3 * g + 3], [0]),
      { pads: [1, 1, 1, 1] },
    ),
  );
  assertClose(y, concat(parts, 1), 1e-13);
});

test('convTranspose 1-D, by hand', () => {
  const x = f64([1, 1, 2], [1, 2]);
  const w = f64([1, 1, 3], [1, 1, 1]);
  assertClose(convTranspose(x, w, undefined, { strides: [2] }), { shape: [1, 1, 5], data: [1, 1, 3, 2, 2] });
  assertClose(convTranspose(x, w, f64([1], [10]), { strides: [2], pads: [1, 1] }), {
    shape: [1, 1, 3],
    data: [11, 13, 12],
  });
  assertClose(convTranspose(x, w, undefined, { strides: [2], outputPadding: [1] }), {
    shape: [1, 1, 6],
    data: [1, 1, 3, 2, 2, 0],
  });
});

/** <conv(x, w), y> = <x, convTranspose(y, w)> with outputPadding chosen so the transpose lands on x's shape. */
function checkAdjoint(xShape: number[], wShape: number[], opts: ConvOptions, seed: number): void {
  const r = rng(seed);
  const x = randomTensor(xShape, r);
  const w = randomTensor(wShape, r);
  const cx = conv(x, w, undefined, opts);
  const y = randomTensor(cx.shape, r);
  const nd = xShape.length - 2;
  const st = opts.strides ?? new Array(nd).fill(1);
  const dl = opts.dilations ?? new Array(nd).fill(1);
  const pd = opts.pads ?? new Array(2 * nd).fill(0);
  const outputPadding = xShape.slice(2).map((s, i) => {
    const base = st[i] * (cx.shape[2 + i] - 1) + (wShape[2 + i] - 1) * dl[i] + 1 - pd[i] - pd[i + nd];
    return s - base;
  });
  // ONNX requires 0 <= output_padding < max(stride, dilation); the configs below respect it.
  for (let i = 0; i < nd; i++) {
    assert.ok(outputPadding[i] >= 0 && outputPadding[i] < Math.max(st[i], dl[i]), `outputPadding ${outputPadding}`);
  }
  const ty = convTranspose(y, w, undefined, { ...opts, outputPadding });
  assert.deepEqual(ty.shape, xShape);
  const lhs = dot(cx, y);
  const rhs = dot(x, ty);
  assert.ok(Math.abs(lhs - rhs) <= 1e-12 * Math.max(1, Math.abs(lhs)), `${lhs} vs ${rhs}`);
}

test('convTranspose is the adjoint of conv (1-D, 2-D, 3-D; strides, dilations, asymmetric pads, groups)', () => {
  checkAdjoint([2, 4, 11], [6, 2, 3], { strides: [2], dilations: [2], pads: [1, 2], group: 2 }, 1);
  checkAdjoint([1, 4, 9, 10], [4, 2, 3, 2], { strides: [2, 3], dilations: [1, 2], pads: [1, 0, 2, 1], group: 2 }, 2);
  checkAdjoint([2, 3, 5, 6, 4], [2, 3, 3, 3, 2], { strides: [2, 2, 1], pads: [1, 1, 0, 1, 0, 1] }, 3);
  checkAdjoint([1, 2, 7, 7], [4, 1, 3, 3], { group: 2, pads: [1, 1, 1, 1] }, 4);
});
