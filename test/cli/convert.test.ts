/** `svd convert`: exit codes and one-line messages for bad input; a full conversion with progress lines. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const TINY = `${GOLDEN_DIR}pipeline-tiny/`;
const CKPT = `${TINY}checkpoint.safetensors`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking the event loop (several runs go in parallel). */
function svd(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { timeout: 60_000 });
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

/** The first stderr line (the reason), checked for being free of stack traces. */
function reason(r: Run): string {
  assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /, 'no stack trace');
  return r.stderr.split('\n')[0];
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svd-cli-convert-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('svd convert', () => {
  test('bad usage exits 2 with the reason and the usage', async () => {
    const text = join(dir, 'x.txt');
    const [none, unknownTo, unknownDtype, unknownOption] = await Promise.all([
      svd('convert'),
      svd('convert', CKPT, join(dir, 'o1'), '--to', 'onnx'),
      svd('convert', CKPT, join(dir, 'o2'), '--dtype', 'float64'),
      svd('convert', CKPT, text, '--fast'),
    ]);
    for (const r of [none, unknownTo, unknownDtype, unknownOption]) {
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /usage: svd convert IN OUT/);
    }
    assert.equal(reason(none), 'svd convert: expected IN and OUT, got 0 path(s)');
    assert.equal(reason(unknownTo), 'svd convert: --to must be diffusers or sgm, got "onnx"');
    assert.equal(reason(unknownDtype), 'svd convert: --dtype must be float32, float16 or bfloat16, got "float64"');
    const [both, badPreset] = await Promise.all([
      svd('convert', CKPT, join(dir, 'out-p'), '--preset', 'svd-mini', '--config', 'c.json'),
      svd('convert', CKPT, join(dir, 'out-q'), '--preset', 'svd-maxi'),
    ]);
    assert.equal(both.status, 2);
    assert.equal(reason(both), 'svd convert: either --preset or --config, not both');
    assert.equal(badPreset.status, 2);
    assert.match(reason(badPreset), /^svd convert: --preset must be one of svd, .*svd-mini.*, got "svd-maxi"$/);
    assert.match(reason(unknownOption), /^svd convert: Unknown option '--fast'/);
  });

  test('bad input exits 1 with one line naming the problem', async () => {
    const text = join(dir, 'notes.safetensors');
    await writeFile(text, 'not a checkpoint');
    const [missing, notSafetensors, wrongConfig, missingConfig] = await Promise.all([
      svd('convert', join(dir, 'missing.safetensors'), join(dir, 'out-a')),
      svd('convert', text, join(dir, 'out-b')),
      svd('convert', CKPT, join(dir, 'out-c')),
      svd('convert', CKPT, join(dir, 'out-d'), '--config', join(dir, 'nope.json')),
    ]);
    assert.equal(missing.status, 1);
    assert.equal(reason(missing), `svd convert: ${join(dir, 'missing.safetensors')}: no such file or folder`);
    assert.equal(notSafetensors.status, 1);
    assert.match(reason(notSafetensors), /notes\.safetensors: not a safetensors file \(/);
    assert.equal(wrongConfig.status, 1);
    assert.equal(wrongConfig.stderr.trim().split('\n').length, 1, 'the refusal is the only line');
    // as svd generate says it: what the checkpoint looks like and what to pass
    assert.match(reason(wrongConfig), /\(model config: released SVD\): does not fit the preset svd \(\d+ keys missing/);
    assert.match(
      reason(wrongConfig),
      /this looks like a custom-size image-to-video model: pass its model config with --config$/,
    );
    assert.equal(missingConfig.status, 1);
    assert.equal(reason(missingConfig), `svd convert: ${join(dir, 'nope.json')}: no such config file`);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('out-')),
      [],
      'nothing written',
    );
  });

  test('a config the adapter cannot read exits 1 with one line naming the JSON path; --config follows the model', async () => {
    const badJson = join(dir, 'bad.json');
    await writeFile(badJson, '{ "engine_config": ');
    const sv3d = `${GOLDEN_DIR}pipeline-sv3d-u-tiny/`;
    const [inline, notJson, sv3dAsSvd, sv3dOwn] = await Promise.all([
      svd('convert', CKPT, join(dir, 'out-e'), '--config', '{"engine_config": {"target": "x"}}'),
      svd('convert', CKPT, join(dir, 'out-f'), '--config', badJson),
      svd('convert', `${sv3d}checkpoint.safetensors`, join(dir, 'out-g'), '--config', `${TINY}config.json`),
      svd(
        'convert',
        `${sv3d}checkpoint.safetensors`,
        join(dir, 'sv3d.safetensors'),
        '--to',
        'sgm',
        '--config',
        `${sv3d}config.json`,
      ),
    ]);
    assert.equal(inline.status, 1);
    assert.equal(inline.stderr.trim().split('\n').length, 1);
    assert.equal(
      reason(inline),
      'svd convert: --config: engine_config.target must be sgm.models.diffusion.DiffusionEngine, got "x"',
    );
    assert.equal(notJson.status, 1);
    assert.match(reason(notJson), /^svd convert: .*bad\.json: not valid JSON/);
    assert.equal(sv3dAsSvd.status, 1);
    assert.match(
      reason(sv3dAsSvd),
      /pipeline-tiny\/config\.json\): does not fit the --config model \(\d+ keys missing/,
    );
    assert.match(reason(sv3dAsSvd), /this looks like a multi-view \(SV3D\) model/);
    assert.equal(sv3dOwn.status, 0, sv3dOwn.stderr);
    assert.match(sv3dOwn.stdout, /wrote .*sv3d\.safetensors \(569 tensors/);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('out-')),
      [],
      'nothing written',
    );
  });

  test('converts the tiny checkpoint both ways with progress lines; an existing output exits 1', async () => {
    const folder = join(dir, 'tiny-diffusers');
    const back = join(dir, 'tiny-back.safetensors');
    const r = await svd('convert', CKPT, folder, '--config', `${TINY}config.json`, '--dtype', 'float16');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /→ .*tiny-diffusers \(diffusers, float16\)/);
    assert.match(r.stderr, /unet\/diffusion_pytorch_model\.safetensors: \d+\/1081 tensors/);
    assert.match(r.stderr, /sgm_extra\.safetensors: 1081\/1081 tensors, .* \(100%\)/);
    assert.match(
      r.stdout,
      /^svd convert: wrote .*tiny-diffusers: unet\/diffusion_pytorch_model\.safetensors \(595 tensors/,
    );
    const r2 = await svd('convert', folder, back);
    assert.equal(r2.status, 0, r2.stderr);
    assert.match(r2.stderr, /\(diffusers, 1073 tensors\) → .*tiny-back\.safetensors \(sgm\)/);
    const again = await svd('convert', folder, back);
    assert.equal(again.status, 1);
    assert.equal(reason(again), `svd convert: ${back}: already exists (remove it or choose another output path)`);
  });

  test('svd convert --help exits 0; svd --help lists convert', async () => {
    const [help, top] = await Promise.all([svd('convert', '--help'), svd('--help')]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: svd convert IN OUT/);
    assert.match(top.stdout, /convert IN OUT \[--to diffusers\|sgm\]/);
  });
});
