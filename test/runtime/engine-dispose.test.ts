/** Disposing an engine while ONNX Runtime is inside a call: no process abort, the pending run rejects at once. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./scripts/dispose-during-run.ts', import.meta.url));

test('dispose during a run: the run rejects at once and the process ends normally after the native call', () => {
  // Terminating the worker thread inside the call aborted the process ("terminate called after throwing an instance
  // of 'Napi::Error'", SIGABRT); the worker now shuts itself down after the call.
  const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.signal, null, `ended by ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { settled: string; afterMs: number };
  assert.equal(out.settled, 'rejected: engine is disposed');
  assert.doesNotMatch(r.stderr, /Napi::Error/);
});
