/**
 * The graph forms of the scalings, loss weightings, denoiser and standard diffusion loss equal their host forms
 * (≤ 1e-6 per element, relative) on σ from 0.002 to 700: through the float64 interpreter and through ONNX Runtime.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { denoiseGraph, makeVDenoiser } from '../../src/diffusion/denoiser.ts';
import { standardDiffusionLoss } from '../../src/diffusion/loss.ts';
import {
  graphLossWeighting,
  hostLossWeighting,
  LOSS_WEIGHTING_KINDS,
  type LossWeightingConfig,
} from '../../src/diffusion/loss-weighting.ts';
import { graphScaling, hostScaling, SCALING_KINDS, type ScalingConfig } from '../../src/diffusion/scalings.ts';
import { GraphBuilder, type SymTensor } from '../../src/graph/builder.ts';
import { interpret } from '../../src/graph/interpret.ts';
import type { Graph } from '../../src/graph/ir.ts';
import * as op from '../../src/graph/ops/index.ts';
import type { Engine } from '../../src/runtime/engine.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { createTestEngine } from '../helpers/engine.ts';
import { randn } from '../helpers/random.ts';

/** 0.002 … 700, log-spaced, plus 1 and SVD's schedule ends, as float32 values. */
const SIGMAS = Float32Array.from(
  [...Array.from({ length: 41 }, (_, i) => 0.002 * (700 / 0.002) ** (i / 40)), 1, 0.0020000036, 700.0001220703125],
  Math.fround,
);
const N = SIGMAS.length;
const TOL = 1e-6;

const SCALINGS: ScalingConfig[] = [
  { kind: 'v-edm-c-noise' },
  { kind: 'edm', sigmaData: 0.5 },
  { kind: 'edm', sigmaData: 1.3 },
];
const WEIGHTINGS: LossWeightingConfig[] = [
  { kind: 'v' },
  { kind: 'edm', sigmaData: 0.5 },
  { kind: 'edm', sigmaData: 1.3 },
  { kind: 'eps' },
  { kind: 'unit' },
];

/** max over elements of |mine − ref| / |ref| (|mine − ref| where ref = 0). */
function maxRel(mine: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.equal(mine.length, ref.length);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(mine[i] - ref[i]);
    worst = Math.max(worst, ref[i] === 0 ? d : d / Math.abs(ref[i]));
  }
  return worst;
}

/** A graph of σ [N, 1, 1, 1] with the given outputs. */
function sigmaGraph(outputs: (sigma: SymTensor) => Record<string, SymTensor>): Graph {
  const b = new GraphBuilder('graph_form');
  const sigma = b.input('sigma', [N, 1, 1, 1]);
  for (const [name, v] of Object.entries(outputs(sigma))) b.output(name, v);
  return b.build();
}

const sigmaFeed = { sigma: new HostTensor('float32', [N, 1, 1, 1], SIGMAS) };
const label = (c: { kind: string; sigmaData?: number }) => (c.sigmaData ? `${c.kind}(σ_d ${c.sigmaData})` : c.kind);

let engine: Engine;
before(async () => {
  engine = await createTestEngine();
});
after(async () => {
  await engine.dispose();
});

describe('scalings: graph form = host form', () => {
  test('every kind is covered', () => {
    assert.deepEqual(new Set(SCALINGS.map((s) => s.kind)), new Set(SCALING_KINDS));
  });
  for (const config of SCALINGS) {
    test(label(config), async () => {
      const graph = sigmaGraph((s) => ({ ...graphScaling(config)(s) }));
      const host = hostScaling(config)(SIGMAS);
      const f64 = interpret(graph, sigmaFeed);
      const ort = await engine.run(graph, sigmaFeed);
      for (const k of ['cSkip', 'cOut', 'cIn', 'cNoise'] as const) {
        assert.deepEqual(f64[k].shape, [N, 1, 1, 1]);
        const e64 = maxRel(f64[k].data, host[k]);
        const eOrt = maxRel(ort[k].data as Float32Array, host[k]);
        assert.ok(e64 <= TOL, `${k} (interpreter): ${e64}`);
        assert.ok(eOrt <= TOL, `${k} (ORT): ${eOrt}`);
      }
    });
  }
});

describe('loss weightings: graph form = host form', () => {
  test('every kind is covered', () => {
    assert.deepEqual(new Set(WEIGHTINGS.map((w) => w.kind)), new Set(LOSS_WEIGHTING_KINDS));
  });
  for (const config of WEIGHTINGS) {
    test(label(config), async () => {
      const graph = sigmaGraph((s) => ({ w: graphLossWeighting(config)(s) }));
      const host = hostLossWeighting(config)(SIGMAS);
      const f64 = interpret(graph, sigmaFeed).w;
      const ort = (await engine.run(graph, sigmaFeed)).w;
      assert.deepEqual(f64.shape, [N, 1, 1, 1]);
      assert.deepEqual([...ort.shape], [N, 1, 1, 1]);
      assert.ok(maxRel(f64.data, host) <= TOL, `interpreter: ${maxRel(f64.data, host)}`);
      assert.ok(maxRel(ort.data as Float32Array, host) <= TOL, `ORT: ${maxRel(ort.data as Float32Array, host)}`);
    });
  }
});

/** A stand-in network F with per-row dependence on c_noise: F(u, c) = 0.7·u − 0.2·c (c broadcast over the row). */
const fakeNetworkGraph = (xScaled: SymTensor, cNoise: SymTensor) =>
  op.sub(op.mul(xScaled, 0.7), op.mul(op.reshape(cNoise, [cNoise.shape[0], 1, 1, 1]), 0.2));
const fakeNetworkHost = async (xScaled: Float32Array, cNoise: Float32Array) => {
  const size = xScaled.length / cNoise.length;
  return xScaled.map((u, i) => 0.7 * u - 0.2 * cNoise[Math.floor(i / size)]);
};

describe('denoiser and standard diffusion loss: graph form = host form', () => {
  const shape = [N, 2, 3, 3];
  const x0 = randn(shape);
  const noise = randn(shape);
  const feeds = { x0, noise, sigma: new HostTensor('float32', [N], SIGMAS) };

  for (const scaling of SCALINGS) {
    test(`denoiseGraph, ${label(scaling)}`, async () => {
      const b = new GraphBuilder('denoise');
      b.output('d', denoiseGraph(fakeNetworkGraph, b.input('x0', shape), b.input('sigma', [N]), scaling));
      const mine = interpret(b.build(), feeds).d.data;
      const ref = await makeVDenoiser(fakeNetworkHost, scaling)(x0.data, SIGMAS);
      // x·c_skip and F·c_out nearly cancel at some σ: compare relative to the row's scale.
      const size = mine.length / N;
      for (let r = 0; r < N; r++) {
        const a = mine.subarray(r * size, (r + 1) * size);
        const e = ref.subarray(r * size, (r + 1) * size);
        let d = 0;
        let s = 0;
        for (let i = 0; i < size; i++) {
          d = Math.max(d, Math.abs(a[i] - e[i]));
          s = Math.max(s, Math.abs(e[i]));
        }
        assert.ok(d <= TOL * s, `row ${r} (σ ${SIGMAS[r]}): ${d / s}`);
      }
    });
  }

  for (const scaling of SCALINGS) {
    for (const weighting of WEIGHTINGS) {
      test(`standardDiffusionLoss, ${label(scaling)} × ${label(weighting)}`, async () => {
        const b = new GraphBuilder('loss');
        const out = standardDiffusionLoss(
          fakeNetworkGraph,
          { x0: b.input('x0', shape), sigma: b.input('sigma', [N]), noise: b.input('noise', shape) },
          { scaling, weighting },
        );
        b.output('loss', out.loss);
        b.output('per_sample', out.perSample);
        const r = interpret(b.build(), feeds);
        // Host: x_noisy = x0 + noise·σ; D by the host denoiser; λ by the host weighting; mean of λ·(D − x0)².
        const size = x0.data.length / N;
        const noisy = x0.data.map((v, i) => v + noise.data[i] * SIGMAS[Math.floor(i / size)]);
        const d = await makeVDenoiser(fakeNetworkHost, scaling)(noisy, SIGMAS);
        const w = hostLossWeighting(weighting)(SIGMAS);
        const perSample = new Float64Array(N);
        for (let i = 0; i < d.length; i++) {
          const row = Math.floor(i / size);
          perSample[row] += (w[row] * (d[i] - x0.data[i]) ** 2) / size;
        }
        const loss = perSample.reduce((a, v) => a + v, 0) / N;
        // The squared error of a difference of nearly equal terms: looser than the factors themselves.
        assert.ok(maxRel(r.per_sample.data, perSample) <= 1e-4, `per sample: ${maxRel(r.per_sample.data, perSample)}`);
        assert.ok(Math.abs(r.loss.data[0] - loss) <= 1e-5 * loss, `loss ${r.loss.data[0]} vs ${loss}`);
      });
    }
  }
});
