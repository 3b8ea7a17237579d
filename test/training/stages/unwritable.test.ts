/**
 * A training run whose disk fills up or whose run folder becomes unwritable: the run stops with one line naming the
 * file and the reason, the last good checkpoint stays byte for byte as it was and resumes, and no half-written
 * checkpoint file is left behind. The failures are injected into `node:fs/promises` (test/helpers/failing-fs.ts):
 * tests run as root here, where chmod cannot make a folder unwritable, and a real full disk cannot be made safely.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RunFolderError } from '../../../src/training/run/run-folder.ts';
import { runTraining } from '../../../src/training/run/train-run.ts';
import { type FailCode, type FailingFs, failWrites } from '../../helpers/failing-fs.ts';
import { panningClips } from '../helpers/panning-clips.ts';
import { tinyConfig } from '../helpers/tiny-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'svd-unwritable-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = tinyConfig('i2v', { steps: 4, checkpoint: { every: 1, keep: 2 } });
const GOOD = ['latest.json', 'step-0000001.json', 'step-0000001.safetensors'];

function digests(ckpt: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(ckpt).map((f) => [
      f,
      createHash('sha256')
        .update(readFileSync(join(ckpt, f)))
        .digest('hex'),
    ]),
  );
}

/**
 * Runs `config` in `run`; right after the step-1 checkpoint, writes to the paths `match` selects start failing with
 * `code`. Returns the error the run ended with, the step-1 checkpoint's digests then, and the files that failed.
 */
async function failAfterFirstCheckpoint(run: string, code: FailCode, match: (path: string) => boolean) {
  let fs: FailingFs | undefined;
  let before: Record<string, string> = {};
  try {
    await runTraining(config, {
      run,
      samples: panningClips,
      onEvent: (e) => {
        if (e.type === 'checkpoint' && e.step === 1) {
          before = digests(join(run, 'ckpt'));
          fs = failWrites(match, code);
        }
      },
    });
  } catch (e) {
    return { error: e as Error, before, failures: fs?.failures ?? [] };
  } finally {
    fs?.restore();
  }
  assert.fail('the run should have failed');
}

/** The run folder after the failure: the step-1 checkpoint as it was, nothing else in ckpt/. */
function assertLastGoodIntact(run: string, before: Record<string, string>) {
  const ckpt = join(run, 'ckpt');
  assert.deepEqual(Object.keys(before).sort(), GOOD);
  assert.deepEqual(readdirSync(ckpt).sort(), GOOD, 'no half-written or orphaned checkpoint file');
  assert.deepEqual(digests(ckpt), before, 'the last good checkpoint is unchanged, byte for byte');
  assert.equal(JSON.parse(readFileSync(join(ckpt, 'latest.json'), 'utf8')).step, 1);
  assert.deepEqual(
    readdirSync(run).filter((f) => f.includes('.tmp-')),
    [],
    'no temporary file in the run folder',
  );
}

function assertOneLine(error: Error, file: RegExp, reason: RegExp) {
  assert.ok(error instanceof RunFolderError, `${error.name}: ${error.message}`);
  assert.doesNotMatch(error.message, /\n/, 'one line');
  assert.match(error.message, file);
  assert.match(error.message, reason);
  assert.match(error.message, /the last good checkpoint \(step 1\) is intact/);
}

const cases: { name: string; file: RegExp; match: (run: string) => (path: string) => boolean }[] = [
  {
    name: "the step-2 checkpoint's tensors",
    file: /cannot write \S*ckpt\/step-0000002: /,
    match: (run) => (p) => p.startsWith(join(run, 'ckpt', 'step-0000002.safetensors')),
  },
  {
    name: "the step-2 checkpoint's state record",
    file: /cannot write \S*ckpt\/step-0000002: /,
    match: (run) => (p) => p.startsWith(join(run, 'ckpt', 'step-0000002.json')),
  },
  {
    name: 'latest.json naming the step-2 checkpoint',
    file: /cannot write \S*ckpt\/latest\.json: /,
    match: (run) => (p) => p.startsWith(join(run, 'ckpt', 'latest.json')),
  },
];

for (const [i, c] of cases.entries()) {
  test(`disk full while writing ${c.name}: one line, the step-1 checkpoint intact, nothing half-written`, async () => {
    const run = join(dir, `full-${i}`);
    const { error, before, failures } = await failAfterFirstCheckpoint(run, 'ENOSPC', c.match(run));
    assert.ok(failures.length > 0, 'the injected failure was hit');
    assertOneLine(error, c.file, /no space left on the device/);
    assertLastGoodIntact(run, before);
    if (i === 0) {
      // The kept checkpoint loads: the run resumes from step 1 once there is space again.
      const resumed = await runTraining(undefined, { run, resume: true, samples: panningClips, stopAfter: 1 });
      assert.equal(resumed.step, 2);
    }
  });
}

test('run folder made unwritable: one line, the step-1 checkpoint intact and resumable', async () => {
  const run = join(dir, 'unwritable');
  const { error, before, failures } = await failAfterFirstCheckpoint(run, 'EACCES', (p) => p.startsWith(run));
  assert.ok(failures.length > 0, 'the injected failure was hit');
  assertOneLine(error, /cannot write \S*log\.jsonl: /, /not writable/);
  assertLastGoodIntact(run, before);
  const resumed = await runTraining(undefined, { run, resume: true, samples: panningClips, stopAfter: 1 });
  assert.equal(resumed.step, 2);
});
