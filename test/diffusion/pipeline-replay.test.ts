/**
 * The reference sampler trace of golden/pipeline-tiny (EulerEDMSampler, 4 steps, LinearPredictionGuider 1.0 → 2.5
 * over 4 frames) replayed through this layer: a batch denoiser that returns the reference's `step.<i>.denoised_raw`
 * (the Denoiser output for the CFG batch [uncond; cond]) must reproduce `sigmas`, `x_init`, `step.<i>.denoised`,
 * `step.<i>.x` and `latent`. The golden rule allows 1e-4; the float32 emulation gives 0 (bit for bit).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { runSampler, samplerConfigFromSgm } from '../../src/diffusion/config.ts';
import { type CfgDenoiser, guidedDenoiser, linearPredictionGuider } from '../../src/diffusion/guiders.ts';
import { sampleEuler } from '../../src/diffusion/samplers.ts';
import { edmSigmas, scaleInitialNoise } from '../../src/diffusion/schedule.ts';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import { GOLDEN_DIR, loadGolden } from '../helpers/golden.ts';
import { relErr } from './helpers.ts';

const FRAMES = 4;
const STEPS = 4;
let run: Map<string, HostTensor>;
const data = (name: string): Float32Array => {
  const t = run.get(name);
  if (!t) throw new Error(`golden tensor ${name} missing`);
  return t.data as Float32Array;
};

before(async () => {
  run = await loadGolden('pipeline-tiny/run.safetensors');
});

/** Serves the rows [firstRow, firstRow + rows) of the reference's CFG-batch output for the current step. */
function replay(stepOf: () => number): CfgDenoiser {
  return async (x, sigma, firstRow) => {
    assert.ok(
      sigma.every((s) => s === data('sigmas')[stepOf()]),
      'σ of the step',
    );
    const raw = data(`step.${stepOf()}.denoised_raw`);
    const size = x.length / sigma.length;
    return raw.slice(firstRow * size, (firstRow + sigma.length) * size);
  };
}

test('Euler + linear guider replay the reference trace bit for bit', async () => {
  const errors: Record<string, number> = {};
  const sigmas = edmSigmas(STEPS);
  errors.sigmas = relErr(sigmas, data('sigmas'));
  const x = scaleInitialNoise(data('noise.init'), sigmas[0]);
  errors.x_init = relErr(x, data('x_init'));
  for (const split of [false, true]) {
    let step = 0;
    const denoiser = guidedDenoiser(
      replay(() => step),
      linearPredictionGuider(1.0, 2.5, FRAMES),
      { split },
    );
    const latent = await sampleEuler(denoiser, x, sigmas, {
      rows: FRAMES,
      onStep: ({ i, x: xi, denoised }) => {
        errors[`step.${i}.denoised`] = relErr(denoised, data(`step.${i}.denoised`));
        errors[`step.${i}.x`] = relErr(xi, data(`step.${i}.x`));
        step = i + 1;
      },
    });
    errors.latent = relErr(latent, data('latent'));
    for (const [name, e] of Object.entries(errors)) assert.equal(e, 0, `${name} (split ${split}): ${e}`);
  }
});

test('the same run from the pipeline-tiny sampler_config', async () => {
  const config = JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-tiny/config.json`, 'utf8'));
  const sampler = samplerConfigFromSgm(config.engine_config.params.sampler_config, {
    numSteps: STEPS,
    numFrames: FRAMES,
  });
  assert.deepEqual(sampler.discretization, { sigmaMin: 0.002, sigmaMax: 700, rho: 7 });
  assert.equal(sampler.kind, 'euler');
  let step = 0;
  const latent = await runSampler(
    sampler,
    replay(() => step),
    data('x_init'),
    {
      rows: FRAMES,
      onStep: ({ i }) => {
        step = i + 1;
      },
    },
  );
  assert.equal(relErr(latent, data('latent')), 0);
});
