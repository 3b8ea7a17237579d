/**
 * `svd info` tests every provider it lists with a real one-node session (in a child process each) and gives one line
 * per provider: available, or why not — an unavailable webgpu without ORT's source locations or the native
 * libraries' warnings (those only with --verbose). The exit status follows --provider (default cpu). `svd generate
 * --provider webgpu` where webgpu is unavailable fails with the same one line, before reading the checkpoint.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));

function svd(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** ORT's internals: a C++ source location, a C++ scope, a build path. */
const INTERNALS = /\.(cc|cpp|h):\d+|::|\/onnxruntime_src\/|\/build\/|vkCreateInstance/;

test('every listed provider is tested, one line each; webgpu unavailable is one plain line', async () => {
  const G = `${GOLDEN_DIR}pipeline-tiny/`;
  const out = join(tmpdir(), `svd-info-test-${process.pid}.mp4`);
  const [json, text, webgpu, generate] = await Promise.all([
    svd(['info', '--json']),
    svd(['info']),
    svd(['info', '--provider', 'webgpu', '--verbose']),
    svd([
      ...['generate', '--image', `${G}input.png`, '--checkpoint', `${G}checkpoint.safetensors`],
      ...['--config', `${G}config.json`, '--provider', 'webgpu', '--frames', '2', '--steps', '1', '--quiet'],
      ...['--out', out],
    ]),
  ]);
  assert.equal(json.status, 0, json.stderr);
  const info = JSON.parse(json.stdout) as Record<string, string>;
  const listed = [...new Set(['cpu', 'webgpu', 'cuda', ...ort.listSupportedBackends().map((b) => b.name)])];
  assert.deepEqual(
    Object.keys(info)
      .filter((k) => k.startsWith('provider '))
      .sort(),
    listed.map((p) => `provider ${p}`).sort(),
  );
  assert.equal(info['provider cpu'], 'available', 'the cpu provider ran its test session');
  for (const p of listed) {
    const detail = info[`provider ${p}`];
    assert.match(detail, /^(available|unavailable: .+|not installed.*)$/, `${p}: ${detail}`);
    assert.doesNotMatch(detail, INTERNALS, `${p}: ${detail}`);
    assert.doesNotMatch(detail, /\n/);
  }
  assert.doesNotMatch(json.stderr + text.stderr, INTERNALS, 'native warnings stay out of the output');

  assert.equal(text.status, 0, text.stderr);
  const lines = text.stdout.trim().split('\n');
  for (const p of listed) {
    assert.equal(lines.filter((l) => l.startsWith(`provider ${p}: `)).length, 1, `one line for ${p}`);
  }

  // --provider webgpu: its availability sets the status; the line is the same either way.
  const available = info['provider webgpu'] === 'available';
  assert.equal(webgpu.status, available ? 0 : 1, webgpu.stderr);
  assert.ok(webgpu.stdout.includes(`provider webgpu: ${info['provider webgpu']}\n`), webgpu.stdout);
  if (!available) {
    // --verbose shows what the test printed, ORT's full message included.
    assert.match(webgpu.stderr, /^provider webgpu \(--verbose\):$/m);
    assert.equal(generate.status, 1, generate.stderr);
    assert.equal(generate.stderr, `svd generate: --provider webgpu: ${info['provider webgpu']}\n`);
  }
  for (const f of [out, `${out}.json`]) rmSync(f, { force: true }); // (written where webgpu works)
});
