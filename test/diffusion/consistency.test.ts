/**
 * The AnimateLCM-SVD consistency sampler against vectors made by running AnimateLCM's own scheduler
 * (test/fixtures/animatelcm/scheduler.json, scripts/make-animatelcm-vectors.py): the schedules for 1–8 steps, the
 * initial noise scale, and a 4-step trajectory fed the reference's network outputs and noise.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { runSampler, samplerConfig, samplerSigmas } from '../../src/diffusion/config.ts';
import { consistencyInitNoiseSigma, consistencySchedule, sampleConsistency } from '../../src/diffusion/consistency.ts';
import { makeVDenoiser } from '../../src/diffusion/denoiser.ts';
import { scaleInitialNoise } from '../../src/diffusion/schedule.ts';

interface Step {
  timestep: number;
  networkInput: number[];
  networkOutput: number[];
  noise: number[];
  prevSample: number[];
}

const VECTORS = JSON.parse(readFileSync(new URL('../fixtures/animatelcm/scheduler.json', import.meta.url), 'utf8')) as {
  initNoiseSigma: number;
  schedules: { steps: number; sigmas: number[]; timesteps: number[] }[];
  trajectory: { rows: number; start: number[]; initial: number[]; steps: Step[] };
};

describe('AnimateLCM-SVD consistency sampler (reference: AnimateLCMSVDStochasticIterativeScheduler)', () => {
  test('schedules for 1, 2, 3, 4, 6 and 8 steps: σ exact in float32, timesteps within 1e-15', () => {
    assert.equal(VECTORS.schedules.length, 6);
    for (const ref of VECTORS.schedules) {
      const { sigmas, timesteps } = consistencySchedule(ref.steps);
      assert.deepEqual([...sigmas], ref.sigmas, `${ref.steps} steps: sigmas`);
      assert.equal(timesteps.length, ref.timesteps.length);
      timesteps.forEach((t, i) => {
        assert.ok(Math.abs(t - ref.timesteps[i]) <= 1e-15 * Math.abs(ref.timesteps[i]), `${ref.steps} steps: t[${i}]`);
      });
    }
  });

  test('the 4-step schedule: 700 → 128.56 → 13.678 → 0.49688 → 0 (the ramp stops at 30/39, not at σ_min)', () => {
    const { sigmas } = consistencySchedule(4);
    assert.deepEqual(
      [...sigmas].map((s) => Number(s.toPrecision(5))),
      [700, 128.56, 13.678, 0.49688, 0],
    );
    assert.throws(() => consistencySchedule(41), /from 1 to 40/);
    assert.throws(() => consistencySchedule(0), /from 1 to 40/);
  });

  test('initial noise: start · √(σ_max² + 1) as the pipeline scales it', () => {
    const m = consistencyInitNoiseSigma();
    assert.equal(m, Math.fround(VECTORS.initNoiseSigma));
    const { start, initial } = VECTORS.trajectory;
    assert.deepEqual(
      start.map((v) => Math.fround(v * m)),
      initial,
    );
  });

  test('4 steps fed the reference network outputs and noise reproduce every prev_sample exactly', async () => {
    const { rows, initial, steps } = VECTORS.trajectory;
    const { sigmas, timesteps } = consistencySchedule(4);
    let call = 0;
    let maxInputErr = 0;
    // The network: checks its input (x/√(σ²+1); ours multiplies by the reciprocal, the reference divides: ≤ 1 ulp)
    // and noise input (0.25·ln σ; the reference's float64 timestep, which the UNet casts to float32), then returns the
    // reference's output for that step.
    const network = async (xScaled: Float32Array, cNoise: Float32Array) => {
      const ref = steps[call];
      for (const c of cNoise) assert.equal(c, Math.fround(timesteps[call]), `step ${call}: c_noise`);
      assert.equal(Math.fround(ref.timestep), Math.fround(timesteps[call]));
      xScaled.forEach((v, i) => {
        const r = ref.networkInput[i];
        maxInputErr = Math.max(maxInputErr, Math.abs(v - r) / Math.max(Math.abs(r), 1e-30));
      });
      call++;
      return Float32Array.from(ref.networkOutput);
    };
    const seen: number[] = [];
    const out = await sampleConsistency(makeVDenoiser(network), Float32Array.from(initial), sigmas, {
      rows,
      noise: (i) => Float32Array.from(steps[i].noise),
      onStep: (info) => {
        seen.push(info.i);
        assert.deepEqual([...info.x], steps[info.i].prevSample, `step ${info.i}: prev_sample`);
      },
    });
    assert.equal(call, 4, 'one network call per step');
    assert.deepEqual(seen, [0, 1, 2, 3]);
    assert.ok(maxInputErr <= 1.2e-7, `network input: relative error ${maxInputErr.toExponential(2)} (≤ 1 ulp)`);
    assert.deepEqual([...out], steps[3].prevSample);
  });

  test('the last step returns the denoised estimate (no noise asked for); a missing noise source is an error', async () => {
    const identity = async (x: Float32Array) => Float32Array.from(x, (v) => v * 0.5);
    const asked: number[] = [];
    const out = await sampleConsistency(identity, Float32Array.of(2, 4), [10, 0], {
      noise: (i) => {
        asked.push(i);
        return Float32Array.of(0, 0);
      },
    });
    assert.deepEqual([...out], [1, 2]);
    assert.deepEqual(asked, []);
    await assert.rejects(sampleConsistency(identity, Float32Array.of(2, 4), [10, 1, 0]), /no noise source/);
  });

  test('--sampler lcm through runSampler (what generate runs): the schedule, the initial noise and the 4-step trajectory', async () => {
    const config = samplerConfig({
      sampler: 'lcm',
      numSteps: 4,
      discretization: { sigmaMin: 0.002, sigmaMax: 700, rho: 7 },
      guider: { kind: 'identity' },
    });
    const sigmas = samplerSigmas(config);
    assert.deepEqual([...sigmas], [...consistencySchedule(4).sigmas]);
    const { rows, start, initial, steps } = VECTORS.trajectory;
    assert.deepEqual([...scaleInitialNoise(Float32Array.from(start), sigmas[0])], initial);
    let call = 0;
    const calls: number[] = [];
    // CfgDenoiser: without guidance only the conditional rows are asked for (firstRow = rows), once per step
    const batch = makeVDenoiser<[number]>(async (_x, cNoise, firstRow) => {
      calls.push(firstRow, cNoise.length);
      return Float32Array.from(steps[call++].networkOutput);
    });
    const out = await runSampler(config, batch, Float32Array.from(initial), {
      rows,
      noise: (i) => Float32Array.from(steps[i].noise),
    });
    assert.deepEqual([...out], steps[3].prevSample);
    assert.deepEqual(calls, [rows, rows, rows, rows, rows, rows, rows, rows]);
    assert.throws(
      () => samplerConfig({ ...config, sampler: 'lcm', numSteps: 41, discretization: config.discretization }),
      /lcm: at most 40 steps/,
    );
    assert.throws(
      () => samplerConfig({ sampler: 'lcm', numSteps: 4, discretization: config.discretization, churn: { sChurn: 1 } }),
      /lcm has no churn/,
    );
  });
});
