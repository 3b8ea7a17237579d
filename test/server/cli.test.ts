/**
 * `svd serve` and `svd worker` on the command line: usage errors (exit 2, one line; no --checkpoint is one only
 * while the shipped model's weights are absent), a non-loopback --host refused without --api-key, and a real start:
 * it listens, answers /healthz, and stops cleanly on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findShippedModel } from '../../src/models/shipped.ts';
import { TINY_DIR } from '../helpers/server.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const TINY = ['--checkpoint', `${TINY_DIR}checkpoint.safetensors`, '--config', `${TINY_DIR}config.json`];

function svd(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
}

test('usage errors exit 2 with one line', () => {
  const withoutWeights: [string[], RegExp][] = [
    [['serve'], /--checkpoint is required .*shipped model .* is not here/],
    [['worker', '--redis', 'redis://127.0.0.1:1'], /--checkpoint is required/],
  ];
  const cases: [string[], RegExp][] = [
    ...(findShippedModel() ? [] : withoutWeights),
    [['serve', '--config', `${TINY_DIR}config.json`], /--config needs --checkpoint|--checkpoint is required/],
    [['serve', ...TINY, '--host', '0.0.0.0'], /reachable from other machines; give --api-key/],
    [['serve', ...TINY, '--max-frames', '0'], /--max-frames "0": expected an integer ≥ 1/],
    [['serve', ...TINY, '--frobnicate'], /Unknown option '--frobnicate'/],
    [['worker', ...TINY], /--redis URL is required/],
  ];
  for (const [args, message] of cases) {
    const r = svd(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  // A missing checkpoint is a failure of a well-formed command (exit 1), as for every command (test/cli/exit-codes).
  for (const args of [['serve'], ['worker', '--redis', 'redis://127.0.0.1:1']]) {
    const missing = svd([...args, '--checkpoint', '/nonexistent/x.safetensors']);
    assert.equal(missing.status, 1, missing.stderr);
    assert.match(missing.stderr, /^svd \w+: --checkpoint \/nonexistent\/x\.safetensors: no such file or folder\n$/);
  }
  const help = svd(['serve', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: svd serve/);
  assert.match(svd(['worker', '--help']).stdout, /usage: svd worker/);
});

test('svd serve --port 0 listens on loopback, answers /healthz, stops on SIGTERM', async () => {
  const data = mkdtempSync(join(tmpdir(), 'svd-serve-cli-'));
  try {
    const child = spawn(process.execPath, [BIN, 'serve', ...TINY, '--port', '0', '--data', data], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const health = (await (await fetch(`${url}/healthz`)).json()) as { ok: boolean };
    assert.equal(health.ok, true);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
