/**
 * Ctrl-C during `svd generate`: the run stops within a second even in the middle of a long engine call (a decode of
 * several seconds), removes what it made for its outputs and ends with status 130 as a shell reports it (the process
 * ends by SIGINT: src/cli/interrupt.ts says why), printing one line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const G = `${GOLDEN_DIR}pipeline-tiny/`;
const TINY = ['--image', `${G}input.png`, '--checkpoint', `${G}checkpoint.safetensors`, '--config', `${G}config.json`];

/** Resolves when `pattern` shows in the text `read()` returns, checking on each chunk of `stream`. */
function waitFor(stream: NodeJS.ReadableStream, read: () => string, pattern: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`never saw ${pattern}: ${read()}`)), ms);
    const check = () => {
      if (!pattern.test(read())) return;
      clearTimeout(timer);
      stream.off('data', check);
      resolve();
    };
    stream.on('data', check);
    check();
  });
}

test('Ctrl-C in the middle of a long decode call: status 130 within a second or two, nothing left', async () => {
  const d = mkdtempSync(join(tmpdir(), 'svd-sigint-long-'));
  try {
    // One decode call of two 1024×576 frames on one thread lasts seconds with the tiny model's 32-channel decoder.
    const args = [...TINY, '--frames', '2', '--steps', '1', '--size', '1024x576', '--decode-chunk', '2'];
    // A shell runs svd as a job and reports its status as shells do (128 + 2 for SIGINT).
    const script = '"$@" & echo "pid $!" >&2; wait $!; echo "status $?" >&2';
    const sh = spawn('/bin/sh', ['-c', script, 'sh', process.execPath, BIN, 'generate', ...args, '--threads', '1'], {
      cwd: d,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    sh.stderr.on('data', (c) => {
      stderr += c;
    });
    const read = () => stderr;
    await waitFor(sh.stderr, read, /decoding: started/, 120_000);
    await new Promise((r) => setTimeout(r, 300)); // well inside the call
    const pid = Number(/pid (\d+)/.exec(stderr)?.[1]);
    const sent = performance.now();
    process.kill(pid, 'SIGINT');
    await waitFor(sh.stderr, read, /status \d+/, 30_000);
    const ms = performance.now() - sent;
    assert.match(stderr, /status 130/);
    assert.ok(ms < 2000, `stopped ${Math.round(ms)} ms after Ctrl-C`);
    assert.doesNotMatch(stderr, /decoding: done/);
    assert.match(stderr, /^svd generate: interrupted; no output was written$/m);
    assert.deepEqual(readdirSync(d), [], 'outputs/ was made before the compute and is removed again');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('Ctrl-C between engine calls: ends by SIGINT, the frames folder made for a batch is removed', async () => {
  const d = mkdtempSync(join(tmpdir(), 'svd-sigint-'));
  try {
    const args = [...TINY, '--frames', '4', '--steps', '400', '--size', 'native', '--seed', '1,2'];
    const child = spawn(process.execPath, [BIN, 'generate', ...args, '--out', `${join(d, 'videos')}/`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    await waitFor(child.stderr, () => stderr, /step \d+\/400/, 60_000);
    child.kill('SIGINT');
    const { code, signal } = await exited;
    assert.deepEqual({ code, signal }, { code: null, signal: 'SIGINT' }, stderr);
    assert.match(stderr, /svd generate: interrupted; no output was written/);
    assert.deepEqual(readdirSync(d), []);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
