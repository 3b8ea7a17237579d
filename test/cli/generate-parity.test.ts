/**
 * pipeline-tiny through the CLI, as the golden README's "Running pipeline-tiny through the CLI" command: the σ
 * schedule, every step's tensors, the final latents, the decoded frames (≤ 1e-4) and the PNG frames (frames_u8 rule).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { SafetensorsFile } from '../../src/weights/index.ts';
import { assertClose } from '../helpers/compare.ts';
import { GOLDEN_DIR, loadGolden } from '../helpers/golden.ts';
import { PARITY } from '../helpers/parity-bounds.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const G = `${GOLDEN_DIR}pipeline-tiny/`;

test('svd generate reproduces pipeline-tiny', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'svd-gen-'));
  try {
    const r = spawnSync(
      process.execPath,
      [
        BIN,
        'generate',
        '--checkpoint',
        `${G}checkpoint.safetensors`,
        '--config',
        `${G}config.json`,
        '--image',
        `${G}input.png`,
        '--size',
        'native',
        '--frames',
        '4',
        '--steps',
        '4',
        '--fps-id',
        '6',
        '--motion-bucket',
        '127',
        '--cond-aug',
        '0.02',
        '--min-cfg',
        '1.0',
        '--max-cfg',
        '2.5',
        '--decode-chunk',
        '2',
        '--noise',
        `${G}noise.safetensors`,
        '--save-latents',
        join(dir, 'out.safetensors'),
        '--save-intermediates',
        join(dir, 'steps.safetensors'),
        '--out',
        join(dir, 'frames/'),
        '--threads',
        '2',
      ],
      { encoding: 'utf8', timeout: 300_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const run = await loadGolden('pipeline-tiny/run.safetensors');
    const read = async (path: string) => {
      const f = await SafetensorsFile.open(path);
      try {
        return await f.readAll();
      } finally {
        await f.close();
      }
    };
    const out = await read(join(dir, 'out.safetensors'));
    assertClose(out.get('latents')!, run.get('latent')!, PARITY.pipeline, 'latents');
    assertClose(out.get('frames')!, run.get('frames')!, PARITY.pipeline, 'frames');
    const steps = await read(join(dir, 'steps.safetensors'));
    assertClose(steps.get('sigmas')!, run.get('sigmas')!, 1e-5, 'sigmas');
    for (let i = 0; i < 4; i++) {
      for (const k of ['denoised_raw', 'denoised', 'x']) {
        assertClose(steps.get(`step.${i}.${k}`)!, run.get(`step.${i}.${k}`)!, PARITY.pipeline, `step.${i}.${k}`);
      }
    }
    for (const k of ['crossattn', 'vector', 'concat']) {
      assertClose(steps.get(`cond.${k}`)!, run.get(`cond.${k}`)!, PARITY.conditioning, `cond.${k}`);
      assertClose(steps.get(`uncond.${k}`)!, run.get(`uncond.${k}`)!, PARITY.conditioning, `uncond.${k}`);
    }
    // PNG frames vs frames_u8 [T, H, W, 3]: ≤ 0.05 % differ, each by exactly 1, only where 255·frames is within 1e-3
    // of an integer.
    const u8 = run.get('frames_u8')!.data as Uint8Array;
    const frames = run.get('frames')!.data as Float32Array;
    let mismatches = 0;
    for (let t = 0; t < 4; t++) {
      const png = join(dir, 'frames', `frame_${String(t).padStart(4, '0')}.png`);
      assert.ok(existsSync(png), png);
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height, info.channels], [64, 64, 3]);
      for (let i = 0; i < 64 * 64 * 3; i++) {
        const ref = u8[t * 64 * 64 * 3 + i];
        if (data[i] === ref) continue;
        mismatches++;
        assert.equal(Math.abs(data[i] - ref), 1);
        const c = i % 3;
        const pix = Math.floor(i / 3);
        const v = 255 * frames[(t * 3 + c) * 64 * 64 + pix];
        assert.ok(Math.abs(v - Math.round(v)) <= 1e-3, `pixel ${i} of frame ${t}: 255·frame = ${v}`);
      }
    }
    assert.ok(mismatches <= 0.0005 * u8.length, `${mismatches} uint8 mismatches`);
    const sidecar = JSON.parse(readFileSync(join(dir, 'frames', 'video.json'), 'utf8'));
    for (const k of ['params', 'model', 'timingsMs', 'memory', 'noise', 'fps']) assert.ok(k in sidecar, k);
    assert.equal(sidecar.params.seed, 23);
    assert.match(sidecar.model.checkpointHash.sha256, /^[0-9a-f]{64}$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
