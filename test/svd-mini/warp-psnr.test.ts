/**
 * The warping PSNR of scripts/svd-mini/warp-psnr.ts tells a rigid pan (explained by its flow) from frames whose
 * texture changes from one to the next at a similar flow magnitude.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { warpPsnr } from '../../scripts/svd-mini/warp-psnr.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';

const W = 96;
const H = 96;
const T = 5;

/** A smooth colour texture (sums of sinusoids) seen through a window moved by (dx, dy) pixels; `phase` changes it. */
function texture(dx: number, dy: number, phase: number): Float32Array {
  const out = new Float32Array(3 * H * W);
  for (let k = 0; k < 3; k++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const X = x + dx;
        const Y = y + dy;
        const v =
          0.5 +
          0.2 * Math.sin(0.21 * X + 0.13 * Y + k + phase) +
          0.15 * Math.cos(0.09 * X - 0.17 * Y + 2 * k + 1.7 * phase) +
          0.1 * Math.sin(0.31 * X * Math.cos(phase) + 0.05 * Y);
        out[(k * H + y) * W + x] = v;
      }
    }
  }
  return out;
}

function video(frame: (t: number) => Float32Array): HostTensor<'float32'> {
  const data = new Float32Array(T * 3 * H * W);
  for (let t = 0; t < T; t++) data.set(frame(t), t * 3 * H * W);
  return new HostTensor('float32', [T, 3, H, W], data);
}

test('warpPsnr: a still video and a rigid pan score high, a changing texture scores low', () => {
  const still = warpPsnr(video(() => texture(0, 0, 0)));
  const pan = warpPsnr(video((t) => texture(1.5 * t, 0.5 * t, 0)));
  const boiling = warpPsnr(video((t) => texture(0, 0, 0.6 * t)));
  assert.equal(still.pairs.length, T - 1);
  assert.ok(still.mean > 60, `still ${still.mean}`);
  assert.ok(pan.mean > 30, `pan ${pan.mean}`);
  assert.ok(boiling.mean < pan.mean - 10, `boiling ${boiling.mean} vs pan ${pan.mean}`);
  assert.throws(() => warpPsnr(new HostTensor('float32', [1, 3, 4, 4], new Float32Array(48))), /T ≥ 2/);
});
