/**
 * `svd generate` with a checkpoint that does not fit the model: one line that says what the checkpoint looks like and
 * what to pass (a custom-size model: --config; svd-mini's network: --preset svd-mini; a LoRA file: --lora; one part of
 * a diffusers folder: the folder; one tensor of another shape: named), exit 1, no output; every disagreeing key only
 * with --verbose. A diffusers folder (converted from the tiny model) runs with its own config.json files, at its own
 * size: the model the tiny sgm file's --config describes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '../../src/models/checkpoint-convert.ts';
import { declareModelParams } from '../../src/models/declare-params.ts';
import { PRESETS } from '../../src/models/presets.ts';
import { loadModelConfig } from '../../src/models/reference/model-config.ts';
import { resolveModel } from '../../src/pipeline/resolve-model.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import type { Shape } from '../../src/tensor/shape.ts';
import { openCheckpoint, SafetensorsFile, writeSafetensors } from '../../src/weights/index.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';
import { writeTestLora } from '../models/lora/helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const G = `${GOLDEN_DIR}pipeline-tiny/`;
const IMAGE = ['--image', `${G}input.png`, '--frames', '2', '--steps', '2', '--threads', '2', '--quiet'];
let dir: string;

interface Run {
  status: number | null;
  stderr: string;
}

function generate(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'generate', ...IMAGE, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

/** The error lines of a run (warnings and notices left out). */
function errorLines(r: Run): string[] {
  return r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('warning:') && !l.startsWith('ignoring'));
}

/** Fails with exit 1 and exactly one error line, which is returned; writes nothing. */
async function refused(name: string, args: readonly string[]): Promise<string> {
  const out = join(dir, `${name}.mp4`);
  const r = await generate([...args, '--out', out]);
  assert.equal(r.status, 1, r.stderr);
  const lines = errorLines(r);
  assert.equal(lines.length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(existsSync(out), false, 'no output');
  return lines[0];
}

/**
 * A safetensors file with these keys and shapes (float16) whose data is a hole: the header is real, the data all
 * zeros without being written (a sparse file), enough for a check of keys and shapes.
 */
function writeShapeOnly(path: string, shapes: ReadonlyMap<string, Shape>): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [key, shape] of shapes) {
    const bytes = 2 * shape.reduce((a, b) => a * b, 1);
    header[key] = { dtype: 'F16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(json)]));
  truncateSync(path, 8 + json.length + offset);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svd-mismatch-'));
  // The tiny checkpoint with one tensor of another shape.
  const file = await SafetensorsFile.open(`${G}checkpoint.safetensors`);
  const tensors: Record<string, HostTensor> = {};
  for (const [k, t] of await file.readAll()) tensors[k] = t;
  await file.close();
  const n = tensors['model.diffusion_model.out.2.bias'].shape[0];
  tensors['model.diffusion_model.out.2.bias'] = new HostTensor('float32', [n + 1], new Float32Array(n + 1));
  await writeSafetensors(join(dir, 'changed.safetensors'), tensors);
  writeShapeOnly(join(dir, 'mini-shaped.safetensors'), declareModelParams(PRESETS['svd-mini']).shapes);
  await writeTestLora(join(dir, 'lora.safetensors'), { seed: 1 });
  const source = await openCheckpoint(`${G}checkpoint.safetensors`);
  try {
    await convertCheckpoint(source, join(dir, 'tiny-diffusers'), {
      to: 'diffusers',
      model: loadModelConfig(`${G}config.json`),
    });
  } finally {
    await source.close();
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('svd generate: a checkpoint that does not fit', () => {
  test('a custom-size model under the default preset: --config; every key only with --verbose', async () => {
    const r = await generate(['--checkpoint', `${G}checkpoint.safetensors`, '--verbose', '--out', join(dir, 'c.mp4')]);
    assert.equal(r.status, 1, r.stderr);
    const [line, ...keys] = errorLines(r);
    assert.match(
      line,
      /^svd generate: .*pipeline-tiny\/checkpoint\.safetensors: does not fit the preset svd-xt \(\d+ keys missing, \d+ unexpected, \d+ of another shape\): this looks like a custom-size image-to-video model: pass its model config with --config$/,
    );
    assert.doesNotMatch(line, /model\.diffusion_model\./, 'no key in the one line');
    const count = (what: string) => Number(new RegExp(`(\\d+) ${what}`).exec(line)?.[1]);
    assert.deepEqual(
      keys.filter((l) => !l.startsWith('  ')),
      [
        `missing from the checkpoint (${count('keys missing')}):`,
        `unexpected in the checkpoint (${count('unexpected')}):`,
        `of another shape (${count('of another shape')}):`,
      ],
    );
    assert.equal(keys.length, 3 + count('keys missing') + count('unexpected') + count('of another shape'));
    assert.equal(existsSync(join(dir, 'c.mp4')), false);
  });

  test('one tensor of another shape under its --config: named', async () => {
    const line = await refused('changed', [
      ...['--checkpoint', join(dir, 'changed.safetensors'), '--config', `${G}config.json`],
    ]);
    assert.match(
      line,
      /changed\.safetensors: does not fit the --config model \(model\.diffusion_model\.out\.2\.bias is \[5\], the model's \[4\]\): this looks like an image-to-video model of another size than the config describes: pass the config it was made with \(--config\) \(--verbose/,
    );
  });

  test("a preset's network (svd-mini) under the default preset: --preset svd-mini", async () => {
    const line = await refused('mini', ['--checkpoint', join(dir, 'mini-shaped.safetensors')]);
    assert.match(
      line,
      /mini-shaped\.safetensors: does not fit the preset svd-xt \(.*\): this looks like svd-mini: pass --preset svd-mini \(/,
    );
  });

  test('a LoRA file: --lora; a diffusers part: the folder', async () => {
    const [lora, part] = await Promise.all([
      refused('lora', ['--checkpoint', join(dir, 'lora.safetensors'), '--config', `${G}config.json`]),
      refused('part', ['--checkpoint', join(dir, 'tiny-diffusers', 'unet', 'diffusion_pytorch_model.safetensors')]),
    ]);
    assert.match(
      lora,
      /this is a LoRA file \(\d+ modules\), not a model: pass it with --lora, and the model it adapts with --checkpoint/,
    );
    assert.match(
      part,
      /this is the unet\/ weights of a diffusers folder: pass the folder itself \(with unet\/, vae\/ and image_encoder\/\) as --checkpoint/,
    );
  });
});

test("a diffusers folder runs with its own configs, at its own size: the tiny model's, as --config gives it", async () => {
  const folder = join(dir, 'tiny-diffusers');
  const model = resolveModel({ model: { checkpoint: folder } });
  const tiny = loadModelConfig(`${G}config.json`);
  assert.deepEqual(declareModelParams(model).shapes, declareModelParams(tiny).shapes);
  assert.deepEqual(model.sampling.size, tiny.sampling.size);
  const r = await generate(['--checkpoint', folder, '--out', join(dir, 'folder.mp4')]);
  assert.equal(r.status, 0, r.stderr);
  const sidecar = JSON.parse(readFileSync(join(dir, 'folder.mp4.json'), 'utf8'));
  assert.deepEqual([sidecar.width, sidecar.height], [64, 64], "the folder's own size, not 1024×576");
  assert.equal(sidecar.model.configs, 'the diffusers folder’s own config.json files');
  assert.equal(sidecar.model.preset, undefined);
});
