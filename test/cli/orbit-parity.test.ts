/**
 * The multi-view golden sets through the CLI, as the golden README's "Running the multi-view sets through the CLI":
 * `svd orbit` on pipeline-sv3d-tiny (SV3D_p, 5 views, elevation 10, azimuths 72…0) and pipeline-sv3d-u-tiny (SV3D_u,
 * 4 views) must reproduce the reference's σ schedule, conditioning, every step's tensors, the latents and the frames
 * (≤ the golden bounds; last frame = the input image) and the PNG frames (the frames_u8 rule). Then the one-line
 * errors of bad camera values.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { assertClose } from '../helpers/compare.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';
import { readSafetensorsF64 } from '../helpers/golden-any-dtype.ts';
import { PARITY } from '../helpers/parity-bounds.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'svd-orbit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function svd(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
}

/** The golden README's command for a set, writing into `out`. */
function goldenArgs(set: string, out: string, extra: string[]): string[] {
  mkdirSync(out, { recursive: true });
  const G = `${GOLDEN_DIR}${set}/`;
  return [
    'orbit',
    '--checkpoint',
    `${G}checkpoint.safetensors`,
    '--config',
    `${G}config.json`,
    '--image',
    `${G}input.png`,
    '--size',
    'native',
    ...extra,
    '--steps',
    '3',
    '--cond-aug',
    '1e-05',
    '--guider',
    'triangle',
    '--min-cfg',
    '1',
    '--max-cfg',
    '2.5',
    '--noise',
    `${G}noise.safetensors`,
    '--save-latents',
    join(out, 'out.safetensors'),
    '--save-intermediates',
    join(out, 'steps.safetensors'),
    '--out',
    join(out, 'frames/'),
    '--out-frames',
    join(out, 'views'),
    '--threads',
    '2',
    '--quiet',
  ];
}

async function checkParity(set: string, out: string, T: number) {
  const run = readSafetensorsF64(`${GOLDEN_DIR}${set}/run.safetensors`);
  const mine = readSafetensorsF64(join(out, 'out.safetensors'));
  const steps = readSafetensorsF64(join(out, 'steps.safetensors'));
  const errors: Record<string, number> = {};
  errors.latents = assertClose(mine.get('latents')!, run.get('latent')!, PARITY.pipeline, 'latents');
  errors.frames = assertClose(mine.get('frames')!, run.get('frames')!, PARITY.pipeline, 'frames');
  errors.sigmas = assertClose(steps.get('sigmas')!, run.get('sigmas')!, 1e-5, 'sigmas');
  errors.x_init = assertClose(steps.get('x_init')!, run.get('x_init')!, PARITY.pipeline, 'x_init');
  for (let i = 0; i < 3; i++) {
    for (const k of ['denoised_raw', 'denoised', 'x']) {
      const name = `step.${i}.${k}`;
      errors[name] = assertClose(steps.get(name)!, run.get(name)!, PARITY.pipeline, name);
    }
  }
  for (const k of ['crossattn', 'vector', 'concat']) {
    errors[`cond.${k}`] = assertClose(steps.get(`cond.${k}`)!, run.get(`cond.${k}`)!, PARITY.conditioning, `cond.${k}`);
    errors[`uncond.${k}`] = assertClose(
      steps.get(`uncond.${k}`)!,
      run.get(`uncond.${k}`)!,
      PARITY.conditioning,
      `uncond.${k}`,
    );
  }
  // The last frame is the input image, exactly as the reference computes it (float32 (x + 1)/2 of u8/255·2 − 1).
  const frames = mine.get('frames')!.data;
  const refFrames = run.get('frames')!.data;
  const n = refFrames.length / T;
  for (let i = (T - 1) * n; i < T * n; i++) assert.equal(frames[i], refFrames[i], `last frame value ${i}`);
  // PNG frames (both folders) vs frames_u8 [T, H, W, 3]: ≤ 0.05 % differ, each by exactly 1, only where 255·frames
  // is within 1e-3 of an integer.
  const u8 = run.get('frames_u8')!.data;
  const [, , H, W] = run.get('frames')!.shape;
  let mismatches = 0;
  for (const folder of ['frames', 'views']) {
    for (let t = 0; t < T; t++) {
      const png = join(out, folder, `frame_${String(t).padStart(4, '0')}.png`);
      assert.ok(existsSync(png), png);
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height, info.channels], [W, H, 3]);
      for (let i = 0; i < H * W * 3; i++) {
        const ref = u8[t * H * W * 3 + i];
        if (data[i] === ref) continue;
        if (folder === 'frames') mismatches++;
        assert.equal(Math.abs(data[i] - ref), 1);
        const v = 255 * refFrames[(t * 3 + (i % 3)) * H * W + Math.floor(i / 3)];
        assert.ok(Math.abs(v - Math.round(v)) <= 1e-3, `pixel ${i} of frame ${t}: 255·frame = ${v}`);
      }
    }
  }
  assert.ok(mismatches <= 0.0005 * u8.length, `${mismatches} uint8 mismatches`);
  errors.u8Mismatches = mismatches;
  return errors;
}

describe('svd orbit reproduces the multi-view golden sets', () => {
  test('pipeline-sv3d-tiny (SV3D_p: elevation 10, azimuths 72,144,216,288,0)', async () => {
    const out = join(dir, 'p');
    const extra = ['--frames', '5', '--elevation', '10', '--azimuths', '72,144,216,288,0', '--decode-chunk', '2'];
    const r = svd(...goldenArgs('pipeline-sv3d-tiny', out, extra));
    assert.equal(r.status, 0, r.stderr);
    const errors = await checkParity('pipeline-sv3d-tiny', out, 5);
    console.log(`pipeline-sv3d-tiny: ${JSON.stringify(errors)}`);
    const sidecar = JSON.parse(readFileSync(join(out, 'frames', 'video.json'), 'utf8'));
    assert.deepEqual(sidecar.orbit.azimuthsDeg, [72, 144, 216, 288, 0]);
    assert.deepEqual(sidecar.orbit.elevationsDeg, [10, 10, 10, 10, 10]);
    assert.equal(sidecar.orbit.azimuthsRad[0], 1.2566370614359172);
    assert.equal(sidecar.params.guider, 'triangle');
    assert.equal(sidecar.params.condAug, 1e-5);
  });

  test('pipeline-sv3d-u-tiny (SV3D_u: no camera)', async () => {
    const out = join(dir, 'u');
    const r = svd(...goldenArgs('pipeline-sv3d-u-tiny', out, ['--frames', '4', '--decode-chunk', '4']));
    assert.equal(r.status, 0, r.stderr);
    const errors = await checkParity('pipeline-sv3d-u-tiny', out, 4);
    console.log(`pipeline-sv3d-u-tiny: ${JSON.stringify(errors)}`);
    const sidecar = JSON.parse(readFileSync(join(out, 'frames', 'video.json'), 'utf8'));
    assert.match(sidecar.orbit.camera, /^none \(SV3D_u/);
    assert.equal(sidecar.orbit.polarsRad, undefined);
    assert.equal(sidecar.orbit.elevationsDeg, undefined);
    assert.deepEqual(sidecar.orbit.azimuthsDeg, [90, 180, 270, 0]);
    assert.equal(sidecar.preprocessing.background, 'opaque: used as it is (no background removal)');
  });
});

describe('svd orbit: bad values are one line, exit 2, nothing written', () => {
  const P = `${GOLDEN_DIR}pipeline-sv3d-tiny/`;
  const U = `${GOLDEN_DIR}pipeline-sv3d-u-tiny/`;
  const base = (set: string, ...more: string[]) => [
    'orbit',
    '--checkpoint',
    `${set}checkpoint.safetensors`,
    '--config',
    `${set}config.json`,
    '--image',
    `${set}input.png`,
    '--size',
    'native',
    '--out',
    join(dir, 'never.mp4'),
    ...more,
  ];
  const cases: [string, string[], RegExp][] = [
    [
      'elevation out of range',
      base(P, '--elevation', '95'),
      /^svd orbit: --elevation "95": expected degrees from -90 to 90/,
    ],
    [
      'azimuth out of range',
      base(P, '--azimuths', '10,400'),
      /^svd orbit: --azimuths "10,400": expected degrees from 0 to 360/,
    ],
    [
      'azimuths of the wrong length',
      base(P, '--frames', '5', '--azimuths', '0,90,180'),
      /^svd orbit: --azimuths "0,90,180": expected 5 azimuths \(one per view, the last is the input view\), not 3 for 5 views$/,
    ],
    [
      'elevations of the wrong length',
      base(P, '--frames', '5', '--elevation', '1,2'),
      /^svd orbit: --elevation "1,2": expected 1 elevation or 5 \(one per view\), not 2 for 5 views$/,
    ],
    [
      'sv3d-u given azimuths',
      base(U, '--azimuths', '0,90,180,0'),
      /^svd orbit: --azimuths .*has no camera input \(SV3D_u\)/,
    ],
    [
      'sv3d-u given an elevation',
      base(U, '--elevation', '20'),
      /^svd orbit: --elevation "?20"?: .*has no camera input/,
    ],
  ];
  for (const [what, args, message] of cases) {
    test(what, () => {
      const r = svd(...args);
      assert.equal(r.status, 2, r.stderr);
      const lines = r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('warning:'));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], message);
      assert.ok(!existsSync(join(dir, 'never.mp4')));
    });
  }

  test('an image-to-video model is refused by svd orbit, the camera by svd generate', () => {
    const T = `${GOLDEN_DIR}pipeline-tiny/`;
    const r = svd(...base(T));
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /^svd orbit: --preset .*: expected a multi-view model .*conditions on fps_id and motion_bucket_id/m,
    );
    const g = svd(
      'generate',
      '--checkpoint',
      `${T}checkpoint.safetensors`,
      '--image',
      `${T}input.png`,
      '--elevation',
      '10',
    );
    assert.equal(g.status, 2, g.stderr);
    assert.match(g.stderr, /^svd generate: --elevation "10": expected nothing here: it is an option of svd orbit$/m);
    const mv = svd(
      'generate',
      '--checkpoint',
      `${P}checkpoint.safetensors`,
      '--config',
      `${P}config.json`,
      '--image',
      `${P}input.png`,
    );
    assert.equal(mv.status, 2, mv.stderr);
    assert.match(
      mv.stderr,
      /^svd generate: --config ".*config\.json": expected an image-to-video model: .* is a multi-view model \(SV3D\); use svd orbit$/m,
    );
  });
});
