/** Sampling configuration from the sgm YAML structure: defaults, every supported target, injection, errors. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  GUIDER_KINDS,
  guiderFromSgm,
  lossWeightingFromSgm,
  makeGuider,
  runSampler,
  SAMPLER_KINDS,
  type SamplerChoices,
  samplerConfig,
  samplerConfigFromSgm,
  samplerSigmas,
  scalingFromSgm,
} from '../../src/diffusion/config.ts';
import type { CfgDenoiser } from '../../src/diffusion/guiders.ts';
import { edmWeighting } from '../../src/diffusion/loss-weighting.ts';
import type { StepInfo } from '../../src/diffusion/samplers.ts';
import { edmScaling, hostScaling } from '../../src/diffusion/scalings.ts';
import { edmSigmas } from '../../src/diffusion/schedule.ts';

const M = 'sgm.modules.diffusionmodules';
const edm = (params: Record<string, unknown> = {}) => ({ target: `${M}.discretizer.EDMDiscretization`, params });
/** `sampler_config` of the released sampling YAMLs (scripts/sampling/configs/{svd,svd_xt,sv3d_u}.yaml). */
const yamlSampler = (guider: Record<string, unknown>) => ({
  target: `${M}.sampling.EulerEDMSampler`,
  params: { discretization_config: edm({ sigma_max: 700.0 }), guider_config: guider },
});
const SVD_SAMPLER = yamlSampler({
  target: `${M}.guiders.LinearPredictionGuider`,
  params: { max_scale: 2.5, min_scale: 1.0 },
});
const SVD_XT_SAMPLER = yamlSampler({
  target: `${M}.guiders.LinearPredictionGuider`,
  params: { max_scale: 3.0, min_scale: 1.5 },
});
const SV3D_SAMPLER = yamlSampler({ target: `${M}.guiders.TrianglePredictionGuider`, params: { max_scale: 2.5 } });
const SVD_DENOISER = {
  target: `${M}.denoiser.Denoiser`,
  params: { scaling_config: { target: `${M}.denoiser_scaling.VScalingWithEDMcNoise` } },
};

describe('samplerConfigFromSgm', () => {
  test('the svd, svd-xt and sv3d YAMLs, with the script-injected steps and frames', () => {
    const svd = samplerConfigFromSgm(SVD_SAMPLER, { numSteps: 25, numFrames: 14 });
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
    const xt = samplerConfigFromSgm(SVD_XT_SAMPLER, { numSteps: 30, numFrames: 25 });
    assert.deepEqual(xt.guider, { kind: 'linear', minScale: 1.5, maxScale: 3, numFrames: 25, additionalCondKeys: [] });
    const sv3d = samplerConfigFromSgm(SV3D_SAMPLER, { numSteps: 50, numFrames: 21 });
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
    assert.equal(dpm.kind, 'dpmpp-2m');
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
  assert.deepEqual(scalingFromSgm(SVD_DENOISER), { kind: 'v-edm-c-noise' });
  const e = scalingFromSgm(denoiser({ target: `${M}.denoiser_scaling.EDMScaling`, params: { sigma_data: 1.5 } }));
  assert.deepEqual(e, { kind: 'edm', sigmaData: 1.5 });
  assert.deepEqual(hostScaling(e)([2, 0.5]), edmScaling([2, 0.5], 1.5));
  assert.deepEqual(scalingFromSgm(denoiser({ target: `${M}.denoiser_scaling.EDMScaling` })), {
    kind: 'edm',
    sigmaData: 0.5,
  });
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

test('lossWeightingFromSgm', () => {
  const w = (name: string, params?: Record<string, unknown>) =>
    lossWeightingFromSgm({ target: `${M}.loss_weighting.${name}`, params });
  assert.deepEqual(w('VWeighting'), { kind: 'v' });
  assert.deepEqual(w('EDMWeighting'), { kind: 'edm', sigmaData: 0.5 });
  assert.deepEqual(w('EDMWeighting', { sigma_data: 1.2 }), { kind: 'edm', sigmaData: 1.2 });
  assert.deepEqual(w('EpsWeighting'), { kind: 'eps' });
  assert.deepEqual(w('UnitWeighting'), { kind: 'unit' });
  assert.ok(edmWeighting([1], 1.2)[0] > 0);
  assert.throws(() => w('SomeWeighting'), /not supported/);
});

describe('samplerConfig (plain choices)', () => {
  const discretization = { sigmaMin: 0.002, sigmaMax: 700, rho: 7 };

  test('the kinds: the CLI spelling, every guider', () => {
    assert.deepEqual([...SAMPLER_KINDS], ['euler', 'heun', 'dpmpp-2m', 'lcm']);
    assert.deepEqual([...GUIDER_KINDS], ['identity', 'vanilla', 'linear', 'triangle']);
  });

  test('equals samplerConfigFromSgm for the same choices, with sgm defaults filled in', () => {
    const choices: SamplerChoices = {
      sampler: 'euler',
      numSteps: 25,
      discretization,
      guider: { kind: 'linear', minScale: 1, maxScale: 2.5, numFrames: 14 },
    };
    assert.deepEqual(samplerConfig(choices), samplerConfigFromSgm(SVD_SAMPLER, { numSteps: 25, numFrames: 14 }));
    assert.deepEqual(
      samplerConfig({ ...choices, guider: { kind: 'triangle', maxScale: 2.5, numFrames: 21 }, numSteps: 50 }),
      samplerConfigFromSgm(SV3D_SAMPLER, { numSteps: 50, numFrames: 21 }),
    );
    // The churn of the golden samplers-tiny Euler run.
    const churn = { sChurn: 1.2, sTmin: 0.05, sTmax: 100, sNoise: 1.007 };
    const sgm = samplerConfigFromSgm({
      target: `${M}.sampling.EulerEDMSampler`,
      params: {
        num_steps: 4,
        discretization_config: edm({ sigma_max: 700 }),
        s_churn: 1.2,
        s_tmin: 0.05,
        s_tmax: 100.0,
        s_noise: 1.007,
      },
    });
    assert.deepEqual(samplerConfig({ sampler: 'euler', numSteps: 4, discretization, churn }), sgm);
  });

  test('defaults: identity guider, no churn; vanilla takes maxScale when scale is not given', () => {
    const c = samplerConfig({ sampler: 'heun', numSteps: 3, discretization });
    assert.deepEqual(c.guider, { kind: 'identity' });
    assert.deepEqual([c.sChurn, c.sTmin, c.sTmax, c.sNoise], [0, 0, Number.POSITIVE_INFINITY, 1]);
    const v = samplerConfig({
      sampler: 'dpmpp-2m',
      numSteps: 3,
      discretization,
      guider: { kind: 'vanilla', maxScale: 3 },
    });
    assert.deepEqual(v.guider, { kind: 'vanilla', scale: 3 });
    const v2 = samplerConfig({
      sampler: 'dpmpp-2m',
      numSteps: 3,
      discretization,
      guider: { kind: 'vanilla', scale: 5, maxScale: 3 },
    });
    assert.deepEqual(v2.guider, { kind: 'vanilla', scale: 5 });
    const t = samplerConfig({
      sampler: 'euler',
      numSteps: 3,
      discretization,
      guider: { kind: 'triangle', maxScale: 2, numFrames: 5, period: 0.5, periodFusing: 'mean' },
    });
    assert.deepEqual(t.guider, {
      kind: 'triangle',
      minScale: 1,
      maxScale: 2,
      numFrames: 5,
      period: [0.5],
      periodFusing: 'mean',
      additionalCondKeys: [],
    });
    assert.deepEqual(samplerSigmas(c), edmSigmas(3, discretization));
  });

  test('invalid choices are errors', () => {
    const base: SamplerChoices = { sampler: 'euler', numSteps: 4, discretization };
    const bad = (over: Partial<SamplerChoices>) => () => samplerConfig({ ...base, ...over });
    assert.throws(bad({ sampler: 'dpmpp2m' as never }), /unknown sampler/);
    assert.throws(bad({ numSteps: 0 }), /integer ≥ 1/);
    assert.throws(bad({ numSteps: 2.5 }), /integer ≥ 1/);
    assert.throws(bad({ discretization: { sigmaMin: 1, sigmaMax: 0.5, rho: 7 } }), /sigmaMin < sigmaMax/);
    assert.throws(bad({ guider: { kind: 'linear', numFrames: 4 } }), /maxScale must be given/);
    assert.throws(bad({ guider: { kind: 'linear', maxScale: 2 } }), /numFrames must be given/);
    assert.throws(bad({ guider: { kind: 'triangle', maxScale: 2, numFrames: 0 } }), /numFrames must be an integer/);
    assert.throws(bad({ guider: { kind: 'vanilla' } }), /scale must be given/);
    assert.throws(bad({ guider: { kind: 'triangle', maxScale: 2, numFrames: 4, period: [] } }), /period/);
    assert.throws(bad({ guider: { kind: 'trapezoid' as never } }), /unknown guider/);
    assert.throws(bad({ churn: { sChurn: -1 } }), /sChurn/);
    assert.throws(bad({ sampler: 'dpmpp-2m', churn: { sChurn: 1 } }), /no churn/);
  });
});

describe('runSampler passes the pipeline options through', () => {
  const discretization = { sigmaMin: 0.002, sigmaMax: 80, rho: 7 };
  const shrink: CfgDenoiser = async (x, sigma) => x.map((v, i) => v / (1 + sigma[i % sigma.length] ** 2));

  test('churn noise (per step), rows, onStep with x̂, splitCfg', async () => {
    const config = samplerConfig({
      sampler: 'euler',
      numSteps: 4,
      discretization,
      guider: { kind: 'vanilla', scale: 2 },
      churn: { sChurn: 1.2, sTmin: 0.05, sTmax: 50 },
    });
    const drawn: number[] = [];
    const steps: StepInfo[] = [];
    const calls: number[] = [];
    const batch: CfgDenoiser = async (x, sigma, firstRow) => {
      calls.push(firstRow);
      return shrink(x, sigma, firstRow);
    };
    const x = new Float32Array([1, -2, 3, 4]);
    const run = (splitCfg: boolean) =>
      runSampler(config, batch, x, {
        rows: 2,
        splitCfg,
        noise: (step) => {
          drawn.push(step);
          return new Float32Array(4).fill(0.5);
        },
        onStep: (info) => {
          steps.push(info);
        },
      });
    const a = await run(false);
    assert.deepEqual(calls, [0, 0, 0, 0]); // one 2N-row call per step
    assert.deepEqual(drawn, [1, 2]); // σ 80 > s_tmax and σ 0.002 < s_tmin do not churn
    assert.equal(steps.length, 4);
    for (const s of steps) {
      assert.ok(s.xHat instanceof Float32Array);
      assert.equal(s.xEuler, undefined);
      assert.equal(s.sigmaHat === s.sigma, !drawn.includes(s.i));
    }
    calls.length = 0;
    const b = await run(true);
    assert.deepEqual(calls, [0, 2, 0, 2, 0, 2, 0, 2]); // the uncond and cond halves separately
    assert.deepEqual(b, a);
  });

  test('a churning step without a noise source is an error; the abort signal is honoured', async () => {
    const config = samplerConfig({ sampler: 'heun', numSteps: 3, discretization, churn: { sChurn: 1 } });
    await assert.rejects(runSampler(config, shrink, new Float32Array(2), { rows: 1 }), /no noise source/);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      runSampler(samplerConfig({ sampler: 'dpmpp-2m', numSteps: 3, discretization }), shrink, new Float32Array(2), {
        signal: controller.signal,
      }),
      /abort/i,
    );
  });

  test('Heun reports its second evaluation', async () => {
    const config = samplerConfig({ sampler: 'heun', numSteps: 3, discretization });
    const steps: StepInfo[] = [];
    await runSampler(config, shrink, new Float32Array([1, 2]), { onStep: (s) => void steps.push(s) });
    assert.deepEqual(
      steps.map((s) => [s.xEuler !== undefined, s.denoised2 !== undefined]),
      [
        [true, true],
        [true, true],
        [false, false], // the last step (to σ = 0) is a plain Euler step
      ],
    );
  });
});
