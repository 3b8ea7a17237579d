/** Sampling configuration from the sgm YAML structure: defaults, every supported target, injection, errors. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  guiderFromSgm,
  makeGuider,
  runSampler,
  samplerConfigFromSgm,
  scalingFromSgm,
} from '../../src/diffusion/config.ts';
import type { CfgDenoiser } from '../../src/diffusion/guiders.ts';
import { edmScaling, vScalingEdmCNoise } from '../../src/diffusion/scalings.ts';
import { PRESETS } from '../../src/models/presets.ts';

const M = 'sgm.modules.diffusionmodules';
const edm = (params: Record<string, unknown> = {}) => ({ target: `${M}.discretizer.EDMDiscretization`, params });

describe('samplerConfigFromSgm', () => {
  test('the svd and svd-xt presets, with the script-injected steps and frames', () => {
    const svd = samplerConfigFromSgm(PRESETS.svd.engineConfig.params.sampler_config, { numSteps: 25, numFrames: 14 });
    assert.deepEqual(svd, {
      kind: 'euler',
      numSteps: 25,
      discretization: { sigmaMin: 0.002, sigmaMax: 700, rho: 7 },
      guider: { kind: 'linear', minScale: 1, maxScale: 2.5, numFrames: 14, additionalCondKeys: [] },
      sChurn: 0,
      sTmin: 0,
      sTmax: Number.POSITIVE_INFINITY,
      sNoise: 1,
    });
    const xt = samplerConfigFromSgm(PRESETS['svd-xt'].engineConfig.params.sampler_config, {
      numSteps: 30,
      numFrames: 25,
    });
    assert.deepEqual(xt.guider, { kind: 'linear', minScale: 1.5, maxScale: 3, numFrames: 25, additionalCondKeys: [] });
    const sv3d = samplerConfigFromSgm(PRESETS['sv3d-u'].engineConfig.params.sampler_config, {
      numSteps: 50,
      numFrames: 21,
    });
    assert.deepEqual(sv3d.guider, {
      kind: 'triangle',
      minScale: 1,
      maxScale: 2.5,
      numFrames: 21,
      period: [1],
      periodFusing: 'max',
      additionalCondKeys: [],
    });
  });

  test("sgm's defaults and the other samplers", () => {
    const heun = samplerConfigFromSgm({
      target: `${M}.sampling.HeunEDMSampler`,
      params: { num_steps: 10, discretization_config: edm(), s_churn: 0.5, s_tmax: 'inf' },
    });
    assert.equal(heun.kind, 'heun');
    assert.deepEqual(heun.discretization, { sigmaMin: 0.002, sigmaMax: 80, rho: 7 }); // EDMDiscretization defaults
    assert.deepEqual(heun.guider, { kind: 'identity' }); // no guider_config: IdentityGuider
    assert.equal(heun.sChurn, 0.5);
    assert.equal(heun.sTmax, Number.POSITIVE_INFINITY);
    const dpm = samplerConfigFromSgm(
      {
        target: `${M}.sampling.DPMPP2MSampler`,
        params: {
          discretization_config: edm({ sigma_min: 0.01, rho: 5 }),
          guider_config: { target: `${M}.guiders.VanillaCFG`, params: { scale: 5 } },
        },
      },
      { numSteps: 12 },
    );
    assert.equal(dpm.kind, 'dpmpp2m');
    assert.equal(dpm.numSteps, 12);
    assert.deepEqual(dpm.discretization, { sigmaMin: 0.01, sigmaMax: 80, rho: 5 });
    assert.deepEqual(dpm.guider, { kind: 'vanilla', scale: 5 });
  });

  test('unsupported or incomplete configs are errors', () => {
    const sampler =
      (params: Record<string, unknown>, target = `${M}.sampling.EulerEDMSampler`) =>
      () =>
        samplerConfigFromSgm({ target, params: { discretization_config: edm(), ...params } });
    assert.throws(sampler({}, `${M}.sampling.EulerAncestralSampler`), /not supported/);
    assert.throws(sampler({}), /num_steps must be given/);
    assert.throws(sampler({ num_steps: 0 }), /integer ≥ 1/);
    assert.throws(
      sampler({ num_steps: 4, discretization_config: { target: `${M}.discretizer.LegacyDDPMDiscretization` } }),
      /EDMDiscretization only/,
    );
    assert.throws(() => guiderFromSgm({ target: `${M}.guiders.LinearPredictionGuider`, params: {} }, 14), /max_scale/);
    assert.throws(
      () => guiderFromSgm({ target: `${M}.guiders.LinearPredictionGuider`, params: { max_scale: 2 } }),
      /num_frames/,
    );
    assert.throws(() => guiderFromSgm({ target: `${M}.guiders.TrapezoidPredictionGuider` }), /not supported/);
    assert.throws(
      () =>
        guiderFromSgm(
          { target: `${M}.guiders.TrianglePredictionGuider`, params: { max_scale: 2, period_fusing: 'min' } },
          5,
        ),
      /period_fusing/,
    );
  });
});

test('scalingFromSgm', () => {
  const denoiser = (scaling: Record<string, unknown>) => ({
    target: `${M}.denoiser.Denoiser`,
    params: { scaling_config: scaling },
  });
  assert.equal(scalingFromSgm(PRESETS.svd.engineConfig.params.denoiser_config), vScalingEdmCNoise);
  const e = scalingFromSgm(denoiser({ target: `${M}.denoiser_scaling.EDMScaling`, params: { sigma_data: 1.5 } }));
  assert.deepEqual(e([2, 0.5]), edmScaling([2, 0.5], 1.5));
  assert.throws(() => scalingFromSgm(denoiser({ target: `${M}.denoiser_scaling.EpsScaling` })), /not supported/);
  assert.throws(() => scalingFromSgm({ target: `${M}.denoiser.DiscreteDenoiser` }), /not supported/);
});

test('makeGuider and runSampler without guidance call only the conditional rows', async () => {
  assert.equal(makeGuider({ kind: 'identity' }), null);
  const rows: number[] = [];
  const batch: CfgDenoiser = async (x, sigma, firstRow) => {
    rows.push(firstRow);
    return x.map((v) => v / (1 + sigma[0] * sigma[0]));
  };
  const config = samplerConfigFromSgm({
    target: `${M}.sampling.DPMPP2MSampler`,
    params: { num_steps: 3, discretization_config: edm() },
  });
  await runSampler(config, batch, new Float32Array([10, 20]), { rows: 2 });
  assert.deepEqual(rows, [2, 2, 2]);
});
