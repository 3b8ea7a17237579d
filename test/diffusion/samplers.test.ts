/**
 * Samplers on denoisers with closed-form answers. For data ~ N(μ, s²) per element the exact denoiser is
 * D(x, σ) = (s²·x + σ²·μ)/(s² + σ²), and the probability-flow ODE dx/dσ = (x − D)/σ carries x_T at σ_max to
 * x₀ = μ + (x_T − μ)·s/√(s² + σ_max²). Euler converges to it at first order, Heun and DPM++(2M) at second order.
 * Also: hand-computed traces (churn with fixed noise, Heun, DPM++(2M)), onStep, and abort between denoiser calls.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Denoiser } from '../../src/diffusion/denoiser.ts';
import { type StepInfo, sampleDpmpp2m, sampleEuler, sampleHeun } from '../../src/diffusion/samplers.ts';
import { edmSigmas, scaleInitialNoise } from '../../src/diffusion/schedule.ts';
import { relErr } from './helpers.ts';

const MU = 0.3;
const S = 0.5;
const NOISE = new Float32Array([1, -1.5, 0.25, 2]);

const gaussianDenoiser: Denoiser = async (x, sigma) => {
  const size = x.length / sigma.length;
  return x.map((v, i) => {
    const q = sigma[Math.floor(i / size)];
    return (S * S * v + q * q * MU) / (S * S + q * q);
  });
};

/** max |x_N − x₀| after N steps of the SVD schedule (σ_max = 700, ρ = 7) from x_T = noise·√(1+σ₀²). */
async function finalError(sampler: typeof sampleEuler, steps: number): Promise<number> {
  const sigmas = edmSigmas(steps);
  const xT = scaleInitialNoise(NOISE, sigmas[0]);
  const out = await sampler(gaussianDenoiser, xT, sigmas);
  let err = 0;
  for (let i = 0; i < out.length; i++) {
    const exact = MU + ((xT[i] - MU) * S) / Math.sqrt(S * S + sigmas[0] * sigmas[0]);
    err = Math.max(err, Math.abs(out[i] - exact));
  }
  return err;
}

describe('convergence to the exact ODE solution (μ = 0.3, s = 0.5, σ_max = 700, ρ = 7)', () => {
  const STEPS = [40, 80, 160, 320];
  // Measured errors (max over 4 elements, |x_T| up to 1400); each doubling of N divides them by ≈2 (Euler) or ≈4.
  const cases = [
    { name: 'Euler', sampler: sampleEuler, errors: [1.013e-1, 5.136e-2, 2.586e-2, 1.298e-2], ratio: [1.9, 2.1] },
    { name: 'Heun', sampler: sampleHeun, errors: [2.155e-2, 5.035e-3, 1.212e-3, 2.915e-4], ratio: [3.9, 4.6] },
    { name: 'DPM++(2M)', sampler: sampleDpmpp2m, errors: [2.367e-2, 5.263e-3, 1.238e-3, 2.958e-4], ratio: [3.9, 4.6] },
  ] as const;
  for (const { name, sampler, errors, ratio } of cases) {
    test(`${name}: error ~ N^-${ratio[0] < 3 ? 1 : 2}`, async () => {
      const measured: number[] = [];
      for (const n of STEPS) measured.push(await finalError(sampler, n));
      measured.forEach((e, k) => {
        assert.ok(Math.abs(e / errors[k] - 1) < 0.03, `${name}-${STEPS[k]}: error ${e.toExponential(3)}`);
      });
      for (let k = 1; k < measured.length; k++) {
        const r = measured[k - 1] / measured[k];
        assert.ok(r >= ratio[0] && r <= ratio[1], `${name} ${STEPS[k - 1]}→${STEPS[k]}: ratio ${r.toFixed(2)}`);
      }
    });
  }
});

describe('hand-computed traces', () => {
  const halve: Denoiser = async (x) => x.map((v) => v / 2); // D(x, σ) = x/2
  const sigmas = new Float32Array([2, 1, 0]);

  test('Euler with churn and fixed noise (two steps)', async () => {
    // s_churn 0.5 over n = 2 steps: γ = min(0.25, √2 − 1) = 0.25, σ̂ = 1.25·σ, √(σ̂² − σ²) = 0.75·σ.
    // Step 0: σ = 2, σ̂ = 2.5; x = [4, −1] + [1, −2]·1.5 = [5.5, −4]; d = (x − x/2)/2.5 = [1.1, −0.8];
    //         x += (1 − 2.5)·d → [3.85, −2.8].
    // Step 1: σ = 1, σ̂ = 1.25; x += [0.5, 1]·0.75 → [4.225, −2.05]; D = [2.1125, −1.025]; d = (x − D)/1.25;
    //         x += (0 − 1.25)·d → [2.1125, −1.025] (= D: the last step lands on the estimate).
    const eps = [new Float32Array([1, -2]), new Float32Array([0.5, 1])];
    const seen: number[] = [];
    const inputs: Float32Array[] = [];
    const denoiser: Denoiser = async (x, sigma) => {
      seen.push(sigma[0]);
      inputs.push(x);
      return halve(x, sigma);
    };
    const xs: Float32Array[] = [];
    const out = await sampleEuler(denoiser, new Float32Array([4, -1]), sigmas, {
      sChurn: 0.5,
      noise: (i) => eps[i],
      onStep: ({ x }) => {
        xs.push(x);
      },
    });
    assert.deepEqual(seen, [2.5, 1.25]);
    assert.ok(relErr(inputs[0], [5.5, -4]) <= 1e-6);
    assert.ok(relErr(xs[0], [3.85, -2.8]) <= 1e-6);
    assert.ok(relErr(inputs[1], [4.225, -2.05]) <= 1e-6);
    assert.ok(relErr(out, [2.1125, -1.025]) <= 1e-6);

    // s_tmin = 1.5 leaves step 1 (σ = 1) without churn: x = [3.85, −2.8], D = x/2, x − 1·(x − D) = D.
    const used: number[] = [];
    const out2 = await sampleEuler(halve, new Float32Array([4, -1]), sigmas, {
      sChurn: 0.5,
      sTmin: 1.5,
      noise: (i) => {
        used.push(i);
        return eps[i];
      },
    });
    assert.deepEqual(used, [0]);
    assert.ok(relErr(out2, [1.925, -1.4]) <= 1e-6);
    // s_noise scales ε: with s_noise 0 only σ̂ changes.
    const out3 = await sampleEuler(halve, new Float32Array([4]), new Float32Array([2, 0]), {
      sChurn: 0.5, // n = 1: γ = min(0.5, √2 − 1) = √2 − 1, σ̂ = 2√2
      sNoise: 0,
      noise: () => new Float32Array([100]),
    });
    assert.ok(relErr(out3, [2]) <= 1e-6);
  });

  test('churn needs a noise source', async () => {
    await assert.rejects(sampleEuler(halve, new Float32Array([1]), sigmas, { sChurn: 1 }), /no noise source/);
  });

  test('Heun: trapezoidal correction, plain Euler on the step to 0', async () => {
    // Step 0: d = (4 − 2)/2 = 1, Euler to 3; D(3, 1) = 1.5, d' = 1.5; x = 4 − (1 + 1.5)/2 = 2.75.
    // Step 1 (to σ = 0): x = D(2.75) = 1.375. Denoiser calls at σ = 2, 1, 1.
    const seen: number[] = [];
    const out = await sampleHeun(
      async (x, sigma) => {
        seen.push(sigma[0]);
        return halve(x, sigma);
      },
      new Float32Array([4]),
      sigmas,
    );
    assert.deepEqual(seen, [2, 1, 1]);
    assert.deepEqual(Array.from(out), [1.375]);
  });

  test('DPM++(2M): first order, then the 2nd-order extrapolation, then x = D at σ = 0', async () => {
    // σ = 4, 2, 1, 0 (h = ln 2 each, r = 1). Step 0: x = (σ₁/σ₀)·x − (e^{−h} − 1)·D = 0.5·8 + 0.5·4 = 6.
    // Step 1: D = 3, D' = 1.5·3 − 0.5·4 = 2.5; x = 0.5·6 + 0.5·2.5 = 4.25. Step 2: x = D = 2.125.
    const xs: number[] = [];
    const out = await sampleDpmpp2m(halve, new Float32Array([8]), new Float32Array([4, 2, 1, 0]), {
      onStep: ({ x }) => {
        xs.push(x[0]);
      },
    });
    assert.ok(relErr(xs, [6, 4.25, 2.125]) <= 1e-6);
    assert.equal(out[0], xs[2]);
  });
});

describe('loop contract', () => {
  const samplers = [
    { name: 'Euler', run: sampleEuler, calls: (n: number) => n },
    { name: 'Heun', run: sampleHeun, calls: (n: number) => 2 * n - 1 },
    { name: 'DPM++(2M)', run: sampleDpmpp2m, calls: (n: number) => n },
  ] as const;

  for (const { name, run, calls } of samplers) {
    test(`${name}: onStep n times, σ per row, x not modified`, async () => {
      const sigmas = edmSigmas(6);
      const x = Float32Array.from({ length: 3 * 4 }, (_, i) => (i - 6) * 100);
      const copy = x.slice();
      const steps: StepInfo[] = [];
      let count = 0;
      const out = await run(
        async (xi, sigma) => {
          count++;
          assert.equal(sigma.length, 3);
          assert.ok(sigma.every((s) => s === sigma[0]));
          return gaussianDenoiser(xi, sigma);
        },
        x,
        sigmas,
        {
          rows: 3,
          onStep: (info) => {
            steps.push(info);
          },
        },
      );
      assert.equal(count, calls(6));
      assert.deepEqual(
        steps.map((s) => [s.i, s.n, s.sigma, s.sigmaNext]),
        [0, 1, 2, 3, 4, 5].map((i) => [i, 6, sigmas[i], sigmas[i + 1]]),
      );
      assert.equal(steps[5].x, out);
      assert.deepEqual(Array.from(x), Array.from(copy));
      await assert.rejects(run(gaussianDenoiser, x, sigmas, { rows: 5 }), RangeError);
    });

    test(`${name}: an AbortSignal stops the loop between denoiser calls`, async () => {
      const controller = new AbortController();
      let count = 0;
      const denoiser: Denoiser = async (xi, sigma) => {
        count++;
        if (count === 2) controller.abort(new Error('stop'));
        return gaussianDenoiser(xi, sigma);
      };
      await assert.rejects(
        run(denoiser, new Float32Array([1, 2]), edmSigmas(5), { signal: controller.signal }),
        /stop/,
      );
      assert.equal(count, 2);
      count = 0;
      await assert.rejects(run(denoiser, new Float32Array([1, 2]), edmSigmas(5), { signal: AbortSignal.abort() }), {
        name: 'AbortError',
      });
      assert.equal(count, 0);
    });
  }
});
