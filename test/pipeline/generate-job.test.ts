/**
 * Generation as a job (what the CLI and the server run): the event stream (stages in order, every step with an
 * optional preview, notices, one `video` per output, `done`), and cancellation by AbortSignal leaving no output.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { GenerateEvent } from '../../src/pipeline/events.ts';
import { runGenerateJob } from '../../src/pipeline/generate-job.ts';
import { parseGenerateRequest } from '../../src/pipeline/request.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const G = `${GOLDEN_DIR}pipeline-tiny/`;
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'svd-job-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function request(out: string, extra: Record<string, unknown> = {}) {
  return parseGenerateRequest({
    image: `${G}input.png`,
    checkpoint: `${G}checkpoint.safetensors`,
    config: `${G}config.json`,
    size: 'native',
    frames: 4,
    steps: 3,
    decodeChunk: 2,
    threads: 2,
    out,
    ...extra,
  });
}

test('events: stages in order, each step with a preview, one video event per output, then done', async () => {
  const events: GenerateEvent[] = [];
  const result = await runGenerateJob(request(join(dir, 'a.gif'), { seed: '1,2' }), {
    previews: true,
    onEvent: (e) => events.push(e),
  });
  const stages = events.flatMap((e) => (e.type === 'stage' ? [e.stage] : []));
  assert.deepEqual(stages, ['loading checkpoint', 'conditioning', 'sampling', 'decoding', 'encoding']);
  const steps = events.flatMap((e) => (e.type === 'step' ? [e] : []));
  assert.deepEqual(
    steps.map((s) => `${s.video}:${s.i}/${s.n}`),
    ['0:1/3', '0:2/3', '0:3/3', '1:1/3', '1:2/3', '1:3/3'],
  );
  for (const s of steps) {
    assert.ok(s.preview, 'preview attached');
    assert.equal(s.preview.width, 8);
    assert.equal(s.preview.height, 8);
    assert.equal(s.preview.rgb.length, 8 * 8 * 3);
  }
  assert.notDeepEqual(steps[0].preview?.rgb, steps[2].preview?.rgb, 'the preview follows the denoised estimate');
  assert.ok(
    events.some((e) => e.type === 'notice' && /ignoring/.test(e.message)),
    'checkpoint notices are events',
  );
  const videos = events.flatMap((e) => (e.type === 'video' ? [e.video] : []));
  assert.deepEqual(
    videos.map((v) => v.seed),
    [1, 2],
  );
  assert.equal(events.at(-1)?.type, 'done');
  assert.deepEqual(
    result.videos.map((v) => v.output),
    [join(dir, 'a_00.gif'), join(dir, 'a_01.gif')],
  );
  for (const v of result.videos) assert.ok(existsSync(v.output) && existsSync(v.sidecar));
  assert.ok(result.timingsMs.sampling > 0 && result.timingsMs.total >= result.timingsMs.sampling);
});

test('an AbortSignal stops the job between engine calls; nothing is written', async () => {
  const sub = join(dir, 'aborted');
  const controller = new AbortController();
  const job = runGenerateJob(request(`${sub}/`, { seed: '1,2', steps: 50 }), {
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type === 'step' && e.i === 2) controller.abort(new Error('stop'));
    },
  });
  await assert.rejects(job, /stop/);
  assert.equal(existsSync(sub), false, 'the folder made for the batch is removed again');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('aborted')),
    [],
  );
});
