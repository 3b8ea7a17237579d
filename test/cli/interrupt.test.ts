/**
 * Ctrl-C handling shared by svd generate, orbit and convert: the first SIGINT aborts, repeated ones are absorbed
 * while the command cleans up, and a command that does not finish within the grace period has its temporary
 * outputs removed and the process ended. SIGINT is emitted on `process` (no real signal reaches the test runner).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listenForInterrupt } from '../../src/cli/interrupt.ts';

test('dispose stops listening when there was no SIGINT', () => {
  const before = process.listenerCount('SIGINT');
  const interrupt = listenForInterrupt({ reason: () => new Error('interrupted') });
  assert.equal(process.listenerCount('SIGINT'), before + 1);
  interrupt.dispose();
  assert.equal(process.listenerCount('SIGINT'), before);
});

test('the first SIGINT aborts with its reason; more are absorbed, also after dispose (the process is ending)', () => {
  const before = process.listenerCount('SIGINT');
  let reasons = 0;
  const interrupt = listenForInterrupt({
    reason: () => new Error(`interrupted ${++reasons}`),
    graceMs: 60_000,
    end: () => assert.fail('the grace period has not run out'),
  });
  assert.equal(process.listenerCount('SIGINT'), before + 1);
  assert.equal(interrupt.signal.aborted, false);
  process.emit('SIGINT', 'SIGINT');
  process.emit('SIGINT', 'SIGINT');
  process.emit('SIGINT', 'SIGINT');
  assert.equal(interrupt.signal.aborted, true);
  assert.equal((interrupt.signal.reason as Error).message, 'interrupted 1');
  assert.equal(reasons, 1);
  interrupt.dispose();
  assert.equal(process.listenerCount('SIGINT'), before + 1);
  process.emit('SIGINT', 'SIGINT');
  assert.equal(reasons, 1);
});

test('past the grace period: synchronous cleanup, the message, then the end', async () => {
  const steps: string[] = [];
  const alive = setTimeout(() => {}, 5000); // the grace timer is unref'd: keep the test's event loop running
  const ended = new Promise<void>((resolve) => {
    const interrupt = listenForInterrupt({
      reason: () => new Error('interrupted'),
      graceMs: 20,
      cleanupSync: () => steps.push('cleanup'),
      end: () => {
        steps.push('end');
        interrupt.dispose();
        resolve();
      },
    });
    process.emit('SIGINT', 'SIGINT');
    steps.push('aborted');
  });
  await ended;
  clearTimeout(alive);
  assert.deepEqual(steps, ['aborted', 'cleanup', 'end']);
});

test('a command that finishes in time is not ended', async () => {
  const interrupt = listenForInterrupt({
    reason: () => new Error('interrupted'),
    graceMs: 20,
    end: () => assert.fail('ended although the command finished'),
  });
  process.emit('SIGINT', 'SIGINT');
  interrupt.dispose();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(interrupt.signal.aborted, true);
});
