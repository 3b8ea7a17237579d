/**
 * `svd lora merge` and `svd generate --lora` on the tiny checkpoint: merging then generating equals generating with
 * --lora (latents and frames within 1e-5), the sidecar records the LoRA, a base-hash mismatch is a warning; bad
 * inputs are one line with exit code 2 (usage, a bad FILE:SCALE) or 1 (missing file, a LoRA that does not fit, an
 * existing output).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { declareModelParams } from '../../src/models/declare-params.ts';
import { getPreset } from '../../src/models/presets.ts';
import { SafetensorsFile } from '../../src/weights/index.ts';
import { assertClose } from '../helpers/compare.ts';
import { TINY, TINY_CKPT, TINY_CONFIG, writeTestLora } from '../models/lora/helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function svd(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The first stderr line that is not a warning (the reason), checked for being free of stack traces. */
function reason(r: Run): string {
  assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /, 'no stack trace');
  return r.stderr.split('\n').find((l) => !l.startsWith('warning: '))!;
}

const GEN = [
  '--image',
  `${TINY}input.png`,
  '--size',
  'native',
  '--frames',
  '2',
  '--steps',
  '2',
  '--decode-chunk',
  '2',
  '--quiet',
];
const GEN_THREADS = ['--threads', '2'];

let dir: string;
let lora: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svd-cli-lora-'));
  lora = join(dir, 'motion.safetensors');
  await writeTestLora(lora, { seed: 21, meta: { baseModelHash: 'f'.repeat(64), baseModel: 'another-base' } });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readOut(path: string) {
  const f = await SafetensorsFile.open(path);
  try {
    return await f.readAll();
  } finally {
    await f.close();
  }
}

describe('svd lora merge + svd generate --lora', () => {
  test('merge then generate = generate with --lora (≤ 1e-5)', async () => {
    const merged = join(dir, 'merged.safetensors');
    const m = await svd('lora', 'merge', TINY_CKPT, `${lora}:0.8`, merged, '--config', TINY_CONFIG);
    assert.equal(m.status, 0, m.stderr);
    assert.match(m.stderr, /^warning: LoRA .* was trained on another base checkpoint \(another-base\)/m);
    assert.match(m.stderr, /svd lora merge: \d+\/\d+ tensors \(100%\)/);
    assert.match(m.stdout, /^svd lora merge: wrote .*merged\.safetensors \(\d+ tensors/);

    const [withLora, fromMerged, plain] = await Promise.all([
      svd(
        'generate',
        '--checkpoint',
        TINY_CKPT,
        '--config',
        TINY_CONFIG,
        '--lora',
        `${lora}:0.8`,
        ...GEN,
        '--out',
        join(dir, 'a/'),
        '--save-latents',
        join(dir, 'a.safetensors'),
        ...GEN_THREADS,
      ),
      svd(
        'generate',
        '--checkpoint',
        merged,
        '--config',
        TINY_CONFIG,
        ...GEN,
        '--out',
        join(dir, 'b/'),
        '--save-latents',
        join(dir, 'b.safetensors'),
        ...GEN_THREADS,
      ),
      svd(
        'generate',
        '--checkpoint',
        TINY_CKPT,
        '--config',
        TINY_CONFIG,
        ...GEN,
        '--out',
        join(dir, 'c/'),
        '--save-latents',
        join(dir, 'c.safetensors'),
        ...GEN_THREADS,
      ),
    ]);
    for (const r of [withLora, fromMerged, plain]) assert.equal(r.status, 0, r.stderr);
    assert.match(withLora.stderr, /^warning: LoRA .* was trained on another base checkpoint/m);
    const a = await readOut(join(dir, 'a.safetensors'));
    const b = await readOut(join(dir, 'b.safetensors'));
    const c = await readOut(join(dir, 'c.safetensors'));
    const e = assertClose(a.get('latents')!, b.get('latents')!, 1e-5, 'latents');
    console.log(`# generate --lora vs merged checkpoint: latents ${e.toExponential(2)}`);
    assertClose(a.get('frames')!, b.get('frames')!, 1e-5, 'frames');
    assert.notDeepEqual(a.get('latents')!.data, c.get('latents')!.data, 'the LoRA changes the result');
    const sidecar = JSON.parse(readFileSync(join(dir, 'a', 'video.json'), 'utf8'));
    assert.deepEqual(sidecar.model.loras, [
      { file: lora, scale: 0.8, modules: 56, rank: [4], alpha: [4], baseModelHash: 'f'.repeat(64) },
    ]);
  });

  test('bad usage exits 2 with the reason', async () => {
    const out = join(dir, 'never.safetensors');
    const runs = await Promise.all([
      svd('lora'),
      svd('lora', 'split', TINY_CKPT),
      svd('lora', 'merge', TINY_CKPT, out),
      svd('lora', 'merge', TINY_CKPT, `${lora}:abc`, out),
      svd('lora', 'merge', TINY_CKPT, lora, out, '--config', TINY_CONFIG, '--preset', 'svd'),
      svd('lora', 'merge', TINY_CKPT, lora, out, '--preset', 'svd-9000'),
      svd('generate', '--checkpoint', TINY_CKPT, '--config', TINY_CONFIG, '--lora', `${lora}:x`, ...GEN, '--out', out),
    ]);
    for (const r of runs) assert.equal(r.status, 2, r.stderr);
    assert.deepEqual(runs.map(reason), [
      'svd lora: expected a subcommand (merge)',
      'svd lora: unknown subcommand "split"',
      'svd lora: merge expects BASE, at least one LORA and OUT, got 2 argument(s)',
      `svd lora: "${lora}:abc" is not LORA[:SCALE] (SCALE a number)`,
      'svd lora: give --config or --preset, not both',
      `svd lora: --preset must be one of ${Object.keys((await import('../../src/models/presets.ts')).PRESETS).join(', ')}, got "svd-9000"`,
      `svd generate: --lora "${lora}:x": expected FILE[:SCALE] (a LoRA .safetensors file; SCALE a number, default 1)`,
    ]);
  });

  test('bad input exits 1 with one line; nothing is written', async () => {
    const other = join(dir, 'svd-preset.safetensors');
    await writeTestLora(other, { rank: 1 }, declareModelParams(getPreset('svd')).shapes);
    const missing = join(dir, 'missing.safetensors');
    const exists = join(dir, 'exists.safetensors');
    await writeTestLora(exists, { seed: 3 });
    const out = join(dir, 'out-bad.safetensors');
    const runs = await Promise.all([
      svd('lora', 'merge', TINY_CKPT, missing, out),
      svd('lora', 'merge', TINY_CKPT, other, out, '--config', TINY_CONFIG),
      svd('lora', 'merge', TINY_CKPT, lora, exists),
      svd(
        'generate',
        '--checkpoint',
        TINY_CKPT,
        '--config',
        TINY_CONFIG,
        '--lora',
        missing,
        ...GEN,
        '--out',
        join(dir, 'x/'),
      ),
      svd(
        'generate',
        '--checkpoint',
        TINY_CKPT,
        '--config',
        TINY_CONFIG,
        '--lora',
        other,
        ...GEN,
        '--out',
        join(dir, 'y/'),
      ),
    ]);
    for (const r of runs) assert.equal(r.status, 1, r.stderr);
    const lines = runs.map(reason);
    assert.equal(lines[0], `svd lora merge: LoRA ${missing}: no such file`);
    assert.match(
      lines[1],
      new RegExp(`^svd lora merge: LoRA ${other} does not fit this model: \\d+ modules name weights`),
    );
    assert.equal(lines[2], `svd lora merge: ${exists}: already exists (remove it or choose another output path)`);
    assert.equal(lines[3], `svd generate: LoRA ${missing}: no such file`);
    assert.match(lines[4], new RegExp(`^svd generate: LoRA ${other} does not fit this model: `));
    const left = await readdir(dir);
    assert.deepEqual(
      left.filter((f) => f.startsWith('out-bad') || f === 'x' || f === 'y' || f.includes('.tmp-')),
      [],
    );
  });
});
