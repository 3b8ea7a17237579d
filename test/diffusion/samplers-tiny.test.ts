/**
 * Reference parity of the samplers on a real network: test/fixtures/golden/samplers-tiny (sgm @ 059d8e9:
 * `EulerEDMSampler` with churn, `HeunEDMSampler`, `DPMPP2MSampler`, 4 steps each) on the denoiser of pipeline-tiny,
 * D = LinearPredictionGuider ∘ CFG batch [uncond; cond] ∘ VScalingWithEDMcNoise ∘ F, F = the tiny UNet wrapped by
 * `svdNetworkGraph` with the `model.diffusion_model.*` weights of pipeline-tiny's checkpoint. Each sampler's config
 * comes from its `sampler_config` in the manifest through `samplerConfigFromSgm`, and the loop is `runSampler`, fed
 * the reference's churn noise. Every step tensor of the manifest must satisfy the golden rule (≤ 1e-4 relative to
 * max|ref|), σ̂ per step and the number of network evaluations must equal the manifest's.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { runSampler, samplerConfigFromSgm, samplerSigmas, scalingFromSgm } from '../../src/diffusion/config.ts';
import { makeVDenoiser } from '../../src/diffusion/denoiser.ts';
import type { CfgDenoiser } from '../../src/diffusion/guiders.ts';
import type { StepInfo } from '../../src/diffusion/samplers.ts';
import { scaleInitialNoise } from '../../src/diffusion/schedule.ts';
import type { Graph } from '../../src/graph/ir.ts';
import { svdNetworkGraph, UNET_PREFIX } from '../../src/models/svd-network.ts';
import { videoUNetConfigFromSgm } from '../../src/models/unet/config.ts';
import type { Engine } from '../../src/runtime/engine.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { SafetensorsFile } from '../../src/weights/index.ts';
import { assertClose } from '../helpers/compare.ts';
import { createTestEngine } from '../helpers/engine.ts';
import { GOLDEN_DIR, loadGolden } from '../helpers/golden.ts';

const TOL = 1e-4;
const manifest = JSON.parse(readFileSync(`${GOLDEN_DIR}samplers-tiny/manifest.json`, 'utf8'));
const engineConfig = JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-tiny/config.json`, 'utf8')).engine_config.params;
const T: number = manifest.run.num_frames;
const SAMPLERS = ['euler_churn', 'heun', 'dpmpp2m'] as const;

let engine: Engine;
let run: Map<string, HostTensor>;
let graph: Graph;
let latentShape: number[];
/** The CFG batch's conditioning, rows [uncond (T); cond (T)]. */
let cfgFeeds: Record<string, HostTensor>;

const golden = (name: string): HostTensor => {
  const t = run.get(name);
  if (!t) throw new Error(`golden tensor ${name} missing`);
  return t;
};

/** `t` ([1, …] or [T, …]) repeated to T rows, as the sampling script repeats the conditioning over the frames. */
function overFrames(t: HostTensor): Float32Array {
  const data = t.data as Float32Array;
  if (t.shape[0] === T) return data;
  assert.equal(t.shape[0], 1);
  const out = new Float32Array(T * data.length);
  for (let r = 0; r < T; r++) out.set(data, r * data.length);
  return out;
}

/** [uncond; cond] of one conditioning key, 2T rows. */
function cfgBatch(key: string): HostTensor {
  const u = overFrames(golden(`uncond.${key}`));
  const c = overFrames(golden(`cond.${key}`));
  const data = new Float32Array(u.length + c.length);
  data.set(u);
  data.set(c, u.length);
  return new HostTensor('float32', [2 * T, ...golden(`cond.${key}`).shape.slice(1)], data);
}

before(async () => {
  run = await loadGolden('samplers-tiny/run.safetensors');
  latentShape = [...golden('noise.init').shape];
  const [, , h, w] = latentShape;
  graph = svdNetworkGraph(videoUNetConfigFromSgm(engineConfig.network_config.params), 2 * T, T, h, w);
  cfgFeeds = {
    context: cfgBatch('crossattn'),
    y: cfgBatch('vector'),
    concat: cfgBatch('concat'),
    image_only_indicator: new HostTensor('float32', [2, T], new Float32Array(2 * T)),
  };
  const weights = new Map<string, HostTensor>();
  const file = await SafetensorsFile.open(`${GOLDEN_DIR}pipeline-tiny/checkpoint.safetensors`);
  try {
    for (const name of file.names()) if (name.startsWith(`${UNET_PREFIX}.`)) weights.set(name, await file.read(name));
  } finally {
    await file.close();
  }
  engine = await createTestEngine();
  await engine.setWeights(weights);
});
after(async () => {
  await engine?.dispose();
});

/** The reference denoiser of the CFG batch (one UNet call on 2T rows), counting network evaluations. */
function cfgDenoiser(counter: { calls: number; raw?: Float32Array[] }): CfgDenoiser {
  const [, c, h, w] = latentShape;
  const vDenoiser = makeVDenoiser<[number]>(async (xScaled, cNoise, firstRow) => {
    assert.equal(firstRow, 0, 'the test graph takes the whole CFG batch');
    assert.equal(cNoise.length, 2 * T);
    counter.calls++;
    const out = await engine.run(graph, {
      ...cfgFeeds,
      x: new HostTensor('float32', [2 * T, c, h, w], xScaled),
      timesteps: new HostTensor('float32', [2 * T], cNoise),
    });
    return out.out.data as Float32Array;
  }, scalingFromSgm(engineConfig.denoiser_config));
  return async (x, sigma, firstRow) => {
    const d = await vDenoiser(x, sigma, firstRow);
    counter.raw?.push(d);
    return d;
  };
}

const tensor = (data: Float32Array) => new HostTensor('float32', latentShape, data);

describe('samplers-tiny parity', () => {
  for (const name of SAMPLERS) {
    test(name, async (t) => {
      const spec = manifest.samplers[name];
      const config = samplerConfigFromSgm(spec.sampler_config, { numFrames: T });
      const sigmas = samplerSigmas(config);
      assert.deepEqual(Array.from(sigmas), manifest.run.sigmas);
      assertClose(new HostTensor('float32', [sigmas.length], sigmas), golden('sigmas'), 1e-5, 'sigmas');
      const x = scaleInitialNoise(golden('noise.init').data as Float32Array, sigmas[0]);
      assertClose(tensor(x), golden('x_init'), 1e-5, 'x_init');

      const errors: Record<string, number> = {};
      const check = (key: string, mine: Float32Array | undefined) => {
        assert.ok(mine, `${key}: not reported by the sampler`);
        errors[key] = assertClose(tensor(mine), golden(key), TOL, key);
      };
      const counter = { calls: 0 };
      const drawn: number[] = [];
      const sigmaHat: number[] = [];
      const latent = await runSampler(config, cfgDenoiser(counter), x, {
        rows: T,
        noise: (step) => {
          drawn.push(step);
          return golden(`noise.churn.${step}`).data as Float32Array;
        },
        onStep: (info: StepInfo) => {
          const p = `${name}.step.${info.i}`;
          sigmaHat.push(info.sigmaHat);
          check(`${p}.denoised`, info.denoised);
          check(`${p}.x`, info.x);
          if (run.has(`${p}.x_hat`)) check(`${p}.x_hat`, info.xHat);
          if (run.has(`${p}.x_euler`)) check(`${p}.x_euler`, info.xEuler);
          if (run.has(`${p}.denoised_2`)) check(`${p}.denoised_2`, info.denoised2);
          if (name === 'heun') assert.equal(info.xEuler !== undefined, run.has(`${p}.x_euler`), `${p}: 2nd evaluation`);
        },
      });
      check(`${name}.latent`, latent);

      // Every tensor of this sampler in the golden run was compared.
      const expected = [...run.keys()].filter((k) => k.startsWith(`${name}.`)).sort();
      assert.deepEqual(Object.keys(errors).sort(), expected);
      assert.deepEqual(sigmaHat, spec.sigma_hat);
      assert.deepEqual(drawn, spec.churn_steps);
      assert.equal(counter.calls, spec.network_evaluations);
      const worst = Math.max(...Object.values(errors));
      const worstKey = Object.keys(errors).find((k) => errors[k] === worst);
      t.diagnostic(`${name}: max relative error ${worst.toExponential(2)} (${worstKey}), ${counter.calls} evaluations`);
    });
  }

  test('Euler without churn reproduces pipeline-tiny (CFG batch, every step, latent)', async (t) => {
    const pipeline = await loadGolden('pipeline-tiny/run.safetensors');
    const config = samplerConfigFromSgm(engineConfig.sampler_config, { numSteps: 4, numFrames: T });
    const counter = { calls: 0, raw: [] as Float32Array[] };
    let worst = 0;
    const close = (mine: Float32Array, key: string) => {
      const ref = pipeline.get(key)!;
      worst = Math.max(worst, assertClose(new HostTensor('float32', ref.shape, mine), ref, TOL, key));
    };
    const x = scaleInitialNoise(golden('noise.init').data as Float32Array, samplerSigmas(config)[0]);
    const latent = await runSampler(config, cfgDenoiser(counter), x, {
      rows: T,
      onStep: ({ i, x: xi, denoised }) => {
        close(counter.raw[i], `step.${i}.denoised_raw`);
        close(denoised, `step.${i}.denoised`);
        close(xi, `step.${i}.x`);
      },
    });
    close(latent, 'latent');
    assert.equal(counter.calls, 4);
    t.diagnostic(`euler (no churn) vs pipeline-tiny: max relative error ${worst.toExponential(2)}`);
  });
});
