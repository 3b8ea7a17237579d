/**
 * `svd info` tests every provider it lists with a real one-node session (in a child process each) and gives one line
 * per provider: available, or why not — an unavailable webgpu without ORT's source locations or the native
 * libraries' warnings (those only with --verbose). The exit status follows --provider (default cpu).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';

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
  const [json, text, webgpu] = await Promise.all([
    svd(['info', '--json']),
    svd(['info']),
    svd(['info', '--provider', 'webgpu', '--verbose']),
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
  }
});
