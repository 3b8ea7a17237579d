/**
 * The curation store (SQLite): sources, clips, scores and labels per stage, idempotent re-runs, rejections with
 * reasons; percentile filtering as the paper's ablation; and a manifest that the training data reader accepts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CurationStore } from '../../../src/curation/store/curation-store.ts';
import { bottomThreshold, filterClips, writeManifest } from '../../../src/curation/store/filter.ts';
import { manifestSource } from '../../../src/training/data/manifest.ts';

const dir = mkdtempSync(join(tmpdir(), 'svd-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function corpus(path: string): CurationStore {
  const store = CurationStore.open(path);
  const video = join(dir, 'videos', 'a.mp4');
  store.addSource({ id: 'a', path: video, size: 100, mtime: 1 });
  store.updateSource('a', { duration: 16, fps: 8, width: 64, height: 64 });
  store.addClips(
    'a',
    Array.from({ length: 8 }, (_, i) => ({
      id: `a#${i}`,
      startFrame: 16 * i,
      endFrame: 16 * (i + 1),
      startTime: 2 * i,
      endTime: 2 * (i + 1),
      fps: 8,
    })),
  );
  for (let i = 0; i < 8; i++) {
    store.recordStage(`a#${i}`, 'motion', {
      scores: { motion_score: (i + 1) * 0.01, motion_bucket: (i + 1) * 25 },
      labels: { camera_motion: i % 2 === 0 ? 'pan_left' : 'static' },
    });
    store.recordStage(`a#${i}`, 'text', { scores: { text_area: i === 5 ? 0.3 : 0.01 } });
    store.markScored(`a#${i}`);
  }
  return store;
}

test('sources, clips, stage results; re-running a stage overwrites, never duplicates; persisted', () => {
  const path = join(dir, 'corpus.db');
  const store = corpus(path);
  assert.deepEqual(store.counts(), { pending: 0, scored: 8, rejected: 0, sources: 1 });
  assert.ok(store.stageDone('a#3', 'motion') && !store.stageDone('a#3', 'aesthetic'));
  store.recordStage('a#3', 'motion', { scores: { motion_score: 0.5 } }); // a retried job
  store.addClips('a', [{ id: 'a#3', startFrame: 0, endFrame: 1, startTime: 0, endTime: 0.1, fps: 8 }]); // ignored
  store.rejectClip('a#7', 'text area 0.4 > 0.1');
  store.markStage('a#0', 'aesthetic', 'skipped', 'not scored: no weights');
  store.close();
  const again = CurationStore.open(path);
  const c3 = again.clip('a#3')!;
  assert.equal(c3.scores.motion_score, 0.5);
  assert.equal(c3.startFrame, 48);
  assert.equal(c3.labels.camera_motion, 'static');
  assert.equal(again.clip('a#7')!.status, 'rejected');
  assert.equal(again.clip('a#7')!.rejected, 'text area 0.4 > 0.1');
  assert.ok(again.stageDone('a#0', 'aesthetic'));
  assert.deepEqual(again.scoreNames(), ['motion_bucket', 'motion_score', 'text_area']);
  assert.throws(() => again.recordStage('a#1', 'x', { scores: { bad: Number.NaN } }), /not a finite number/);
  again.close();
});

test('filtering: drop the bottom x % per score and limits; the reasons are kept', () => {
  assert.equal(bottomThreshold([1, 2, 3, 4, 5, 6, 7, 8], 25), 3);
  assert.equal(bottomThreshold([1, 2, 3, 4], 0), 1);
  assert.equal(bottomThreshold([1, 2, 3, 4], 100), Number.POSITIVE_INFINITY);
  const store = corpus(':memory:');
  const r = filterClips(store, { dropBottom: { motion_score: 25 }, max: { text_area: 0.1 } });
  assert.deepEqual(
    r.kept.map((c) => c.id),
    ['a#2', 'a#3', 'a#4', 'a#6', 'a#7'],
  );
  assert.deepEqual(
    r.dropped.map((d) => d.clip.id),
    ['a#0', 'a#1', 'a#5'],
  );
  assert.match(r.dropped[0].reason, /motion_score .* bottom 25 %/);
  assert.match(r.dropped[2].reason, /text_area 0\.300 > 0\.1/);
  store.close();
});

test('the manifest written from the kept clips is what svd train reads', async () => {
  const store = corpus(':memory:');
  const { kept } = filterClips(store, { dropBottom: { motion_score: 50 } });
  const path = join(dir, 'manifest.jsonl');
  await writeManifest(path, kept);
  writeFileSync(join(dir, 'unused.txt'), '');
  const records = await manifestSource(path);
  assert.deepEqual(
    records.map((r) => [r.id, r.start, r.end, r.fps, r.motionBucket]),
    [
      ['a#4', 8, 10, 8, 125],
      ['a#5', 10, 12, 8, 150],
      ['a#6', 12, 14, 8, 175],
      ['a#7', 14, 16, 8, 200],
    ],
  );
  assert.equal(records[0].path, join(dir, 'videos', 'a.mp4'));
  assert.equal(records[0].motionScore, 0.05);
  assert.deepEqual(records[1].scores, { text_area: 0.3 });
  store.close();
});
