/** Decoder output → uint8 frames: clamp((x+1)/2) in float32, ×255 in float32, truncated like numpy's astype(uint8). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { decodedToFrames, decoderToUnit, framesProblem, unitToUint8 } from '../../src/video/frames.ts';

/** The reference semantics for a value already in [0, 1] space: `(x·255) | 0` on float32, after the clamp. */
const reference = (v: number) => Math.fround(Math.fround(Math.min(Math.max(Math.fround(v), 0), 1)) * 255) | 0;

test('unit values truncate: 0.999999 → 254, 1.0000001 → 255 (clamped), −0.5 → 0, 0.5 → 127 (not 128)', () => {
  const cases: [number, number][] = [
    [0.999999, 254],
    [1.0000001, 255],
    [-0.5, 0],
    [0.5, 127],
    [0, 0],
    [1, 255],
    [1 / 255, 1],
    [254.9 / 255, 254],
  ];
  for (const [v, want] of cases) {
    const clamped = Math.min(Math.max(v, 0), 1);
    assert.equal(unitToUint8(clamped), want, `v = ${v}`);
    assert.equal(unitToUint8(clamped), reference(v), `v = ${v} vs (x·255)|0`);
  }
});

test('decoder values: clamp((x+1)/2, 0, 1) then truncation', () => {
  const cases: [number, number][] = [
    [-1, 0],
    [-2, 0], // below range → clamped
    [0, 127], // 0.5·255 = 127.5 → 127
    [1, 255],
    [1.0000002, 255], // above range → clamped
    [0.999998, 254], // (x+1)/2 = 0.999999
    [Number.NaN, 0],
  ];
  for (const [x, want] of cases) assert.equal(unitToUint8(decoderToUnit(x)), want, `x = ${x}`);
  assert.equal(decoderToUnit(0.999998), Math.fround(Math.fround(1.999998) / 2));
});

test('[T, 3, H, W] planar becomes [T][H, W, 3] interleaved', () => {
  // T=2, H=1, W=2; value encodes (t, c, w) so the layout is checkable after the transform
  const t = 2;
  const values: number[] = [];
  const expected = [new Uint8Array(6), new Uint8Array(6)];
  for (let f = 0; f < t; f++) {
    for (let c = 0; c < 3; c++) {
      for (let w = 0; w < 2; w++) {
        const u8 = f * 100 + c * 10 + w; // a byte value
        values.push(((u8 + 0.5) / 255) * 2 - 1);
        expected[f][w * 3 + c] = u8;
      }
    }
  }
  const frames = decodedToFrames(HostTensor.float32([t, 3, 1, 2], values));
  assert.equal(frames.width, 2);
  assert.equal(frames.height, 1);
  assert.deepEqual(frames.data, expected);
  assert.deepEqual(decodedToFrames(HostTensor.float32([1, t, 3, 1, 2], values)).data, expected);
  assert.throws(() => decodedToFrames(HostTensor.float32([2, 4, 1, 1], new Array(8).fill(0))), /\[T, 3, H, W\]/);
});

test('framesProblem names wrong frame sizes', () => {
  assert.equal(framesProblem({ width: 2, height: 1, data: [new Uint8Array(6)] }), undefined);
  assert.match(framesProblem({ width: 2, height: 1, data: [] }) ?? '', /no frames/);
  assert.match(framesProblem({ width: 2, height: 1, data: [new Uint8Array(6), new Uint8Array(5)] }) ?? '', /frame 1/);
  assert.match(framesProblem({ width: 0, height: 1, data: [new Uint8Array(0)] }) ?? '', /not positive/);
});
