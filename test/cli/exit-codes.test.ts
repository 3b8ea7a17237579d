/**
 * Exit codes mean the same for every command (src/cli/main.ts):
 * - 2: the command line is wrong — an unknown command or option, a missing, malformed or out-of-range value,
 *   contradictory options, a config whose content is not valid; fixed by changing the command;
 * - 1: a well-formed command failed — an input file missing or unreadable (image, video, checkpoint, config), a
 *   checkpoint that does not fit, a failed write;
 * and either way one line on stderr, no stack trace. Only failures found before any model work are run here: the
 * matrix in-process through the CLI's `main` (one process start per case would take minutes on a small machine),
 * one case of each kind through bin/svd.mjs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, mock, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const G = `${GOLDEN_DIR}pipeline-tiny/`;
const CKPT = `${G}checkpoint.safetensors`;
const CONFIG = `${G}config.json`;
const IMAGE = `${G}input.png`;
const dir = mkdtempSync(join(tmpdir(), 'svd-exit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const nope = (name: string) => join(dir, name);

/** `main(args)` in this process: its exit code and what it printed to stderr (stdout is dropped). */
async function runMain(args: string[]): Promise<{ status: number; stderr: string }> {
  const err: string[] = [];
  const error = mock.method(console, 'error', (...a: unknown[]) => err.push(`${a.join(' ')}\n`));
  const log = mock.method(console, 'log', () => {});
  const write = mock.method(process.stderr, 'write', (chunk: unknown) => err.push(String(chunk)) > 0);
  const listeners = process.stdout.listeners('error');
  try {
    return { status: await main(args), stderr: err.join('') };
  } finally {
    error.mock.restore();
    log.mock.restore();
    write.mock.restore();
    // main's EPIPE handler, added once per call: one process runs it many times here
    for (const l of process.stdout.listeners('error')) {
      if (!listeners.includes(l)) process.stdout.off('error', l as (e: Error) => void);
    }
  }
}

/** Runs svd; asserts the exit code and the error line (the first line of stderr; the only one unless `usage`). */
async function expectExit(args: string[], code: number, pattern: RegExp, usage = false, binary = false) {
  const r = binary
    ? spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, cwd: dir })
    : await runMain(args);
  const what = `svd ${args.join(' ')}`;
  assert.equal(r.status, code, `${what}: exit ${r.status}\n${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('warning:'));
  // Some commands print their usage after an unknown option's line.
  if (!usage) assert.equal(lines.length, 1, `${what}: one line expected:\n${JSON.stringify(r.stderr)}`);
  assert.match(lines[0], pattern, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
}

test('an unknown option is bad usage (2) for every command', async () => {
  const commands = ['info', 'convert', 'generate', 'orbit', 'train', 'curate', 'eval psnr', 'lora merge', 'serve'];
  for (const command of [...commands, 'worker']) {
    await expectExit(
      [...command.split(' '), '--frobnicate'],
      2,
      /^svd \w+( \w+)?: Unknown option '--frobnicate'/,
      true,
    );
  }
  await expectExit(['frobnicate'], 2, /frobnicate|usage: svd <command>/, true);
});

test('a malformed or out-of-range value is bad usage (2)', async () => {
  await expectExit(['info', '--provider', 'gpu'], 2, /^svd info: --provider "gpu": expected one of cpu, webgpu, cuda$/);
  await expectExit(
    ['generate', '--image', IMAGE, '--checkpoint', CKPT, '--config', CONFIG, '--frames', '0'],
    2,
    /frames/,
  );
  await expectExit(
    ['generate', '--image', IMAGE, '--checkpoint', CKPT, '--config', CONFIG, '--size', '100x60'],
    2,
    /size/,
  );
  await expectExit(['generate', '--image', IMAGE, '--checkpoint', CKPT, '--config', '{"not": "a model"}'], 2, /config/);
  await expectExit(['train', '--stage', 'video', '--videos', dir, '--steps', 'many'], 2, /--steps "many"/);
  await expectExit(['eval', 'frobnicate', IMAGE, IMAGE], 2, /expected psnr/);
  await expectExit(['serve', '--checkpoint', CKPT, '--config', CONFIG, '--max-frames', '0'], 2, /--max-frames "0"/);
});

test('a missing input file is a failure (1) for every command', async () => {
  const missing = /nope|no such|not found/;
  await expectExit(['convert', nope('nope.safetensors'), nope('out.safetensors')], 1, missing);
  await expectExit(['convert', CKPT, nope('out.safetensors'), '--config', nope('nope.json')], 1, missing);
  const quiet = ['--quiet', '--out', nope('out.mp4')];
  await expectExit(
    ['generate', '--image', nope('nope.png'), '--checkpoint', CKPT, '--config', CONFIG, ...quiet],
    1,
    missing,
  );
  await expectExit(
    ['generate', '--image', IMAGE, '--checkpoint', nope('x.safetensors'), '--config', CONFIG, ...quiet],
    1,
    missing,
  );
  await expectExit(
    ['generate', '--image', IMAGE, '--checkpoint', CKPT, '--config', nope('nope.json'), ...quiet],
    1,
    missing,
  );
  await expectExit(
    ['orbit', '--image', IMAGE, '--checkpoint', CKPT, '--config', nope('nope.json'), ...quiet],
    1,
    missing,
  );
  await expectExit(['train', '--config', nope('nope.json')], 1, missing);
  // the data and the init weights are checked before a model is built (a full-size one takes minutes)
  await expectExit(['train', '--stage', 'i2v', '--videos', nope('clips')], 1, /^svd train: --videos .*clips: no such/);
  await expectExit(
    ['train', '--stage', 'image', '--images', dir, '--init', nope('i.safetensors')],
    1,
    /--init .*no such/,
  );
  await expectExit(['eval', 'psnr', nope('nope.mp4'), nope('nope2.mp4')], 1, missing);
  await expectExit(
    ['lora', 'merge', nope('nope.safetensors'), nope('l.safetensors'), nope('o.safetensors')],
    1,
    missing,
  );
  await expectExit(['curate', nope('nope.mp4'), '--db', nope('store.db')], 1, missing);
  await expectExit(['serve', '--checkpoint', nope('nope.safetensors')], 1, missing);
  await expectExit(['worker', '--redis', 'redis://127.0.0.1:1', '--checkpoint', nope('nope.safetensors')], 1, missing);
});

test('the binary exits with the same codes', async () => {
  await expectExit(['generate', '--frobnicate'], 2, /^svd generate: Unknown option '--frobnicate'$/, false, true);
  await expectExit(['info', '--provider', 'gpu'], 2, /^svd info: --provider "gpu"/, false, true);
  await expectExit(
    ['train', '--config', nope('nope.json')],
    1,
    /^svd train: --config .*nope\.json: no such file$/,
    false,
    true,
  );
});
