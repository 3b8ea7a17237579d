/**
 * sgm FrozenOpenCLIPImageEmbedder.preprocess (kornia 0.6.9 antialiased bicubic resize + CLIP normalisation):
 * the two op goldens (one axis downscaled each), the pipeline's 64×64 image (upscaled only), the antialias plan
 * against the manifest, and a both-axes downscale (576×1024, the SVD size) against a float64 host re-computation.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { GraphBuilder } from '../../../src/graph/builder.ts';
import {
  CLIP_MEAN,
  CLIP_STD,
  clipPreprocess,
  gaussianKernel1d,
  korniaAntialiasPlan,
  torchBicubicTaps,
} from '../../../src/models/clip/preprocess.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { assertClose, relError } from '../../helpers/compare.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { GOLDEN_DIR, loadGolden } from '../../helpers/golden.ts';
import { PARITY } from '../../helpers/parity-bounds.ts';
import { uniform } from '../../helpers/random.ts';

interface OpManifestEntry {
  name: string;
  config: { antialias_factors_hw: number[]; gaussian_sigma_hw: number[]; gaussian_kernel_size_hw: number[] };
}

function preprocessGraph(shape: readonly number[]) {
  const b = new GraphBuilder('clip_preprocess');
  b.output('y', clipPreprocess(b.input('x', shape)));
  return b.build();
}

// ---- float64 host re-computation of the reference steps (independent of the graph code) ----

function blurAxis(x: Float64Array, shape: readonly number[], axis: 2 | 3, taps: ArrayLike<number>): Float64Array {
  const [n, c, h, w] = shape;
  const r = (taps.length - 1) / 2;
  const len = axis === 3 ? w : h;
  const reflect = (i: number) => (i < 0 ? -i : i >= len ? 2 * (len - 1) - i : i);
  const out = new Float64Array(x.length);
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        let s = 0;
        for (let k = 0; k < taps.length; k++) {
          const ii = axis === 2 ? reflect(i + k - r) : i;
          const jj = axis === 3 ? reflect(j + k - r) : j;
          s += taps[k] * x[(p * h + ii) * w + jj];
        }
        out[(p * h + i) * w + j] = s;
      }
    }
  }
  return out;
}

/** Keys bicubic (A = −0.75), align_corners=True, clamped taps, in exact float64 coordinates and weights. */
function exactBicubicTaps(inLen: number, outLen: number): Taps {
  const A = -0.75;
  const k1 = (t: number) => ((A + 2) * t - (A + 3)) * t * t + 1;
  const k2 = (t: number) => ((A * t - 5 * A) * t + 8 * A) * t - 4 * A;
  const index = new Int32Array(outLen * 4);
  const weight = new Float64Array(outLen * 4);
  for (let o = 0; o < outLen; o++) {
    const src = outLen > 1 ? (o * (inLen - 1)) / (outLen - 1) : 0;
    const i0 = Math.floor(src);
    const t = src - i0;
    weight.set([k2(t + 1), k1(t), k1(1 - t), k2(2 - t)], 4 * o);
    for (let j = 0; j < 4; j++) index[4 * o + j] = Math.min(Math.max(i0 - 1 + j, 0), inLen - 1);
  }
  return { index, weight };
}

/** Bicubic taps along one axis: 4 input indices and weights per output position. */
interface Taps {
  index: ArrayLike<number>;
  weight: ArrayLike<number>;
}
type TapsOf = (inLen: number, outLen: number) => Taps;

/** The reference steps on the host in float64, with the bicubic taps of `tapsOf`. */
function referencePreprocess(x: HostTensor, size: number, tapsOf: TapsOf): HostTensor {
  const [n, c, h, w] = x.shape;
  let data: Float64Array = Float64Array.from(x.data as Float32Array);
  const plan = korniaAntialiasPlan([h, w], [size, size]);
  if (plan.blur) {
    data = blurAxis(data, [n, c, h, w], 3, plan.x.taps);
    data = blurAxis(data, [n, c, h, w], 2, plan.y.taps);
  }
  const wy = tapsOf(h, size);
  const wx = tapsOf(w, size);
  const out = new Float32Array(n * c * size * size);
  for (let p = 0; p < n * c; p++) {
    const ch = p % c;
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        let s = 0;
        for (let a = 0; a < 4; a++) {
          for (let b = 0; b < 4; b++) {
            const wgt = wy.weight[4 * i + a] * wx.weight[4 * j + b];
            s += wgt * data[(p * h + wy.index[4 * i + a]) * w + wx.index[4 * j + b]];
          }
        }
        out[(p * size + i) * size + j] = ((s + 1) / 2 - CLIP_MEAN[ch]) / CLIP_STD[ch];
      }
    }
  }
  return new HostTensor('float32', [n, c, size, size], out);
}

describe('CLIP preprocessing (kornia 0.6.9 resize + normalize)', () => {
  let engine: Engine;
  before(async () => {
    engine = await createTestEngine();
  });
  after(async () => {
    await engine.dispose();
  });

  test('gaussian taps: kornia formula, normalised, symmetric', () => {
    const g = gaussianKernel1d(5, 1.1071428571428572);
    const raw = [-2, -1, 0, 1, 2].map((x) => Math.exp(-(x * x) / (2 * 1.1071428571428572 ** 2)));
    const sum = raw.reduce((a, v) => a + v, 0);
    for (const [i, v] of raw.entries()) assert.ok(Math.abs(g[i] - v / sum) < 1e-7, `tap ${i}`);
    assert.equal(g[0], g[4]);
    assert.ok(Math.abs(g.reduce((a, v) => a + v, 0) - 1) < 1e-6);
    assert.deepEqual([...gaussianKernel1d(3, 0.001)], [0, 1, 0]);
  });

  test('antialias plans match the op manifest (factors, sigmas, kernel sizes) and the SVD size', () => {
    const manifest = JSON.parse(readFileSync(`${GOLDEN_DIR}ops/manifest.json`, 'utf8')) as { ops: OpManifestEntry[] };
    for (const [name, hw] of [
      ['clip_preprocess_32x720', [32, 720]],
      ['clip_preprocess_1024x48', [1024, 48]],
    ] as const) {
      const cfg = manifest.ops.find((o) => o.name === name)!.config;
      const plan = korniaAntialiasPlan(hw, [224, 224]);
      assert.equal(plan.blur, true, name);
      assert.deepEqual([plan.y.factor, plan.x.factor], cfg.antialias_factors_hw, name);
      assert.deepEqual([plan.y.sigma, plan.x.sigma], cfg.gaussian_sigma_hw, name);
      assert.deepEqual([plan.y.kernelSize, plan.x.kernelSize], cfg.gaussian_kernel_size_hw, name);
    }
    // svd-spec.md §2.2: 576×1024 → σ = (0.7857143, 1.7857143), ks = (3, 7); both passes are real blurs.
    const svd = korniaAntialiasPlan([576, 1024], [224, 224]);
    assert.ok(Math.abs(svd.y.sigma - 0.7857143) < 1e-7 && Math.abs(svd.x.sigma - 1.7857143) < 1e-7);
    assert.deepEqual([svd.y.kernelSize, svd.x.kernelSize, svd.y.identity, svd.x.identity], [3, 7, false, false]);
    // Upscaling only (the pipeline's 64×64 image): no blur.
    assert.equal(korniaAntialiasPlan([64, 64], [224, 224]).blur, false);
  });

  for (const name of ['clip_preprocess_32x720', 'clip_preprocess_1024x48']) {
    test(`golden ops/${name}`, async () => {
      const g = await loadGolden(`ops/${name}.safetensors`);
      const x = g.get('input.x')!;
      const out = await engine.run(preprocessGraph(x.shape), { x });
      const e = assertClose(out.y, g.get('output')!, PARITY.clipPreprocess, name);
      console.log(`  ${name}: relative error ${e.toExponential(3)}`);
    });
  }

  test('golden pipeline-tiny clip.preprocessed (64×64, upscale only)', async () => {
    const run = await loadGolden('pipeline-tiny/run.safetensors');
    const x = run.get('input.image')!;
    const out = await engine.run(preprocessGraph(x.shape), { x });
    const e = assertClose(out.y, run.get('clip.preprocessed')!, PARITY.clipPreprocess, 'clip.preprocessed');
    console.log(`  clip.preprocessed: relative error ${e.toExponential(3)}`);
  });

  test('576×1024 (both axes downscaled) matches a float64 host re-computation with the same taps', async () => {
    const x = uniform([1, 3, 576, 1024], -1, 1);
    const out = await engine.run(preprocessGraph(x.shape), { x });
    const e = assertClose(out.y, referencePreprocess(x, 224, torchBicubicTaps), 1e-5, '576x1024');
    // Exact float64 Keys coordinates/weights differ from PyTorch's float32 ones by ~2e-5 on white noise (the
    // steepest possible input): same semantics, different rounding.
    const exact = relError(out.y, referencePreprocess(x, 224, exactBicubicTaps));
    assert.ok(exact < 1e-4, `vs exact float64 bicubic: ${exact}`);
    console.log(
      `  576x1024 vs host (torch taps): ${e.toExponential(3)}; vs exact float64 taps: ${exact.toExponential(3)}`,
    );
  });

  test('torch bicubic taps: clamped indices, weights within float32 rounding of the exact Keys weights', () => {
    for (const [inLen, outLen] of [
      [64, 224],
      [720, 224],
      [1024, 224],
      [224, 224],
    ]) {
      const t = torchBicubicTaps(inLen, outLen);
      const ex = exactBicubicTaps(inLen, outLen);
      for (let o = 0; o < outLen; o++) {
        let sum = 0;
        for (let j = 0; j < 4; j++) {
          const k = 4 * o + j;
          sum += t.weight[k];
          assert.ok(t.index[k] >= 0 && t.index[k] < inLen);
          // A float32 coordinate ulp near 1024 is 6e-5 pixel; the Keys kernel's slope is at most ~1.3.
          if (t.index[k] === ex.index[k])
            assert.ok(Math.abs(t.weight[k] - ex.weight[k]) < 2e-4, `${inLen}->${outLen} ${k}`);
        }
        assert.ok(Math.abs(sum - 1) < 1e-5, `weights of ${o} sum to ${sum}`);
      }
    }
    // Same size: the identity ([0, 1, 0, 0] at every position).
    const id = torchBicubicTaps(5, 5);
    assert.deepEqual([...id.weight.slice(8, 12)], [0, 1, 0, 0]);
  });

  test('224×224 input is only normalised (kornia returns the input unchanged)', async () => {
    const x = uniform([2, 3, 224, 224], -1, 1);
    const out = await engine.run(preprocessGraph(x.shape), { x });
    assertClose(out.y, referencePreprocess(x, 224, torchBicubicTaps), 1e-6, '224x224');
  });
});
