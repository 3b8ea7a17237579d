/**
 * samplers-tiny through the CLI, as the manifest's `running_through_the_cli` commands: Heun, DPM++(2M) and Euler with
 * churn (noise file with `churn_noise.<step>`) reproduce the reference's trace step by step, and the final latent
 * (golden rule ≤ 1e-4; the conditioning is recomputed from the image).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import { SafetensorsFile } from '../../src/weights/index.ts';
import { assertClose } from '../helpers/compare.ts';
import { GOLDEN_DIR, loadGolden } from '../helpers/golden.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const P = `${GOLDEN_DIR}pipeline-tiny/`;
const S = `${GOLDEN_DIR}samplers-tiny/`;
const COMMON = [
  ...['--checkpoint', `${P}checkpoint.safetensors`, '--config', `${P}config.json`, '--image', `${P}input.png`],
  ...['--size', 'native', '--frames', '4', '--steps', '4', '--fps-id', '6', '--motion-bucket', '127'],
  ...['--cond-aug', '0.02', '--min-cfg', '1.0', '--max-cfg', '2.5', '--decode-chunk', '2', '--threads', '2'],
];
const SAMPLERS: Record<string, string[]> = {
  heun: ['--sampler', 'heun', '--noise', `${P}noise.safetensors`],
  dpmpp2m: ['--sampler', 'dpmpp-2m', '--noise', `${P}noise.safetensors`],
  euler_churn: [
    ...['--sampler', 'euler', '--s-churn', '1.2', '--s-tmin', '0.05', '--s-tmax', '100.0', '--s-noise', '1.007'],
    ...['--noise', `${S}noise.safetensors`],
  ],
};

let dir: string;
let golden: Map<string, HostTensor>;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svd-samplers-'));
  golden = await loadGolden('samplers-tiny/run.safetensors');
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(path: string): Promise<Map<string, HostTensor>> {
  const f = await SafetensorsFile.open(path);
  try {
    return await f.readAll();
  } finally {
    await f.close();
  }
}

for (const [name, args] of Object.entries(SAMPLERS)) {
  test(`${name}: every step and the latent through svd generate`, async () => {
    const steps = join(dir, `${name}.safetensors`);
    const latents = join(dir, `${name}-latents.safetensors`);
    const r = spawnSync(
      process.execPath,
      [BIN, 'generate', ...COMMON, ...args, '--save-intermediates', steps, '--save-latents', latents, '--quiet'],
      { encoding: 'utf8', timeout: 300_000, cwd: dir },
    );
    assert.equal(r.status, 0, r.stderr);
    const mine = await readAll(steps);
    for (let i = 0; i < 4; i++) {
      for (const k of ['x', 'denoised']) {
        const ref = golden.get(`${name}.step.${i}.${k}`);
        assert.ok(ref, `golden ${name}.step.${i}.${k}`);
        assertClose(mine.get(`step.${i}.${k}`)!, ref, 1e-4, `${name} step.${i}.${k}`);
      }
    }
    assertClose((await readAll(latents)).get('latents')!, golden.get(`${name}.latent`)!, 1e-4, `${name}.latent`);
  });
}

test('--guider identity: one conditional batch, the same latent with or without --split-cfg; --sampler lcm runs its schedule', async () => {
  const run = (name: string, extra: string[]) => {
    const latents = join(dir, `${name}-latents.safetensors`);
    const steps = join(dir, `${name}-steps.safetensors`);
    const r = spawnSync(
      process.execPath,
      [BIN, 'generate', ...COMMON, '--guider', 'identity', ...extra, '--save-latents', latents],
      { encoding: 'utf8', timeout: 300_000, cwd: dir },
    );
    assert.equal(r.status, 0, r.stderr);
    return { latents, steps };
  };
  const whole = run('identity', ['--sampler', 'euler']);
  const split = run('identity-split', ['--sampler', 'euler', '--split-cfg']);
  const a = (await readAll(whole.latents)).get('latents')!;
  assert.deepEqual([...a.data], [...(await readAll(split.latents)).get('latents')!.data]);
  const lcm = run('lcm', ['--sampler', 'lcm', '--save-intermediates', join(dir, 'lcm-steps.safetensors')]);
  const inter = await readAll(join(dir, 'lcm-steps.safetensors'));
  // AnimateLCM-SVD's 4-step schedule (test/diffusion/consistency.test.ts): 700, 128.56, 13.678, 0.49688, 0
  assert.deepEqual(
    [...(inter.get('sigmas')!.data as Float32Array)].map((s) => Number(s.toPrecision(5))),
    [700, 128.56, 13.678, 0.49688, 0],
  );
  const out = (await readAll(lcm.latents)).get('latents')!;
  assert.ok([...out.data].every(Number.isFinite));
  // the last step returns the denoised estimate itself
  assert.deepEqual([...out.data], [...inter.get('step.3.denoised')!.data]);
});
