/** The `svd` binary: help, version, info, exit codes. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findShippedModel } from '../../src/models/shipped.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const svd = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });

test('svd --version prints the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const r = svd('--version');
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('svd info reports the cpu provider as available', () => {
  const r = svd('info', '--json');
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info['provider cpu'], 'available');
  assert.ok(info.backends.includes('cpu'));
});

test('bad usage exits 2 with a one-line reason and no stack trace', () => {
  for (const args of [['frobnicate'], ['info', '--bogus'], []]) {
    const r = svd(...args);
    assert.equal(r.status, 2, `svd ${args.join(' ')}`);
    assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /);
  }
  assert.match(svd('frobnicate').stderr, /unknown command "frobnicate"/);
});

test('svd generate without --checkpoint: the shipped model, or (weights absent) exit 2 saying how to get weights', () => {
  const r = svd('generate', '--image', 'missing.png');
  if (findShippedModel()) {
    // the shipped model is chosen; the missing image is what fails
    assert.equal(r.status, 1);
    assert.match(r.stderr, /missing\.png/);
  } else {
    assert.equal(r.status, 2);
    assert.match(r.stderr, /svd-mini's weights .* not in this checkout.*--checkpoint.*svd_xt\.safetensors/);
  }
});
