/**
 * The dataset iterator: broken clips are yielded as `skipped` with their reason and the run goes on; the items are
 * the same with or without prefetching; a dataset rebuilt from a saved position yields exactly what the original
 * would have yielded next; a dataset where nothing loads stops with one error; closing leaves no ffmpeg running.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { ClipDataset, type DatasetItem } from '../../../src/training/data/clip-dataset.ts';
import { videoFolderSource } from '../../../src/training/data/folder-source.ts';
import type { ClipSample } from '../../../src/training/data/load-sample.ts';
import type { ClipRecord } from '../../../src/training/data/record.ts';
import { makeTestVideos, type TestVideos } from './test-videos.ts';

let v: TestVideos;
let records: ClipRecord[];
before(async () => {
  v = await makeTestVideos();
  records = await videoFolderSource(v.dir); // every test video, broken ones included
});
after(() => v.remove());

const options = { seed: 3, frames: 3, width: 16, height: 16, rate: { fps: [2, 5] } };

/** A comparable summary of an item. */
function summary(item: DatasetItem<ClipSample>): string {
  const at = `${item.position.epoch}.${item.position.index}`;
  if ('skipped' in item) return `${at} skip ${item.skipped.id} ${item.skipped.reason}`;
  const s = item.sample;
  let sum = 0;
  for (const x of s.frames.data) sum += x;
  return `${at} ${s.id} ${s.key} fps_id ${s.fpsId} Σ ${sum.toFixed(3)}`;
}

async function take(dataset: ClipDataset, n: number): Promise<string[]> {
  const out: string[] = [];
  for await (const item of dataset.items(n)) out.push(summary(item));
  return out;
}

test('broken clips are skipped with their reason; good ones load; nothing throws', async () => {
  assert.deepEqual(
    records.map((r) => r.id),
    [
      'anim.gif',
      'audio.mp4',
      'bars.mp4',
      'empty.mp4',
      'gray.mkv',
      'late.mp4',
      'm.webm',
      'noindex.mp4',
      'ramp.mkv',
      'text.mp4',
      'truncated.mp4',
    ],
  );
  const items = await take(new ClipDataset(records, options), records.length);
  const skipped = items.filter((s) => s.includes(' skip ')).map((s) => s.split(' ').slice(2).join(' '));
  assert.deepEqual(skipped.sort(), [
    'audio.mp4 no-video',
    'empty.mp4 empty',
    'noindex.mp4 corrupt',
    'text.mp4 not-a-video',
    'truncated.mp4 corrupt', // this seed's window lies in the lost end of the file
  ]);
  const loaded = items.filter((s) => !s.includes(' skip ')).map((s) => s.split(' ')[1]);
  assert.deepEqual(loaded.sort(), ['anim.gif', 'bars.mp4', 'gray.mkv', 'late.mp4', 'm.webm', 'ramp.mkv']);
});

test('prefetching changes nothing; a resumed dataset continues exactly', async () => {
  // durations and rates given, as a manifest gives them: nothing to probe
  const good: ClipRecord[] = [
    { id: 'bars', path: v.bars, start: 0, end: 3, fps: 10 },
    { id: 'gray', path: v.gray, start: 0.5, end: 3, fps: 10 },
    { id: 'ramp', path: v.ramp, start: 0, end: 1, fps: 10 },
  ];
  const reference = await take(new ClipDataset(good, { ...options, prefetch: 0 }), 7);
  assert.deepEqual(await take(new ClipDataset(good, { ...options, prefetch: 4 }), 7), reference);
  assert.notDeepEqual(
    await take(new ClipDataset(good, { ...options, seed: 4 }), 3),
    reference.slice(0, 3),
    'the seed matters',
  );

  const first = new ClipDataset(good, { ...options, prefetch: 3 });
  const head: string[] = [];
  for (let i = 0; i < 4; i++) head.push(summary(await first.next()));
  const saved = JSON.parse(JSON.stringify(first.position));
  assert.deepEqual(
    saved,
    { epoch: 1, index: 1 },
    'the position is that of the next item to yield, not prefetched ones',
  );
  await first.close();
  const resumed = await take(new ClipDataset(good, { ...options, position: saved }), 3);
  assert.deepEqual([...head, ...resumed], reference);
  // two epochs visit every clip twice, with different windows
  const epochs = reference.slice(0, 6).map((s) => s.split(' ').slice(1, 3));
  assert.deepEqual(epochs.map(([id]) => id).sort(), ['bars', 'bars', 'gray', 'gray', 'ramp', 'ramp']);
  assert.equal(new Set(epochs.map(([, key]) => key)).size, 6, 'each visit has its own window');
});

test('a dataset where nothing loads stops with one error; bad options throw at once', async () => {
  const bad = records.filter((r) => ['audio.mp4', 'text.mp4', 'empty.mp4'].includes(r.id));
  const dataset = new ClipDataset(bad, options);
  const reasons: string[] = [];
  await assert.rejects(async () => {
    for await (const item of dataset) if ('skipped' in item) reasons.push(item.skipped.reason);
  }, /no training data can be loaded: every one of the 3 records was skipped twice/);
  assert.equal(reasons.length, 5, 'two epochs of skips are yielded, the sixth stops');
  assert.throws(() => new ClipDataset([], options), /no records/);
  assert.throws(() => new ClipDataset(records, { ...options, frames: 0 }), /frames must be a positive integer/);
  assert.throws(() => new ClipDataset(records, { ...options, rate: { stride: [0] } }), /stride/);
});

test('aborting or closing stops the loads; no ffmpeg is left running', async () => {
  const controller = new AbortController();
  const dataset = new ClipDataset(records, {
    ...options,
    width: 64,
    height: 64,
    prefetch: 4,
    signal: controller.signal,
  });
  const pending = dataset.next();
  controller.abort(new Error('stop the run'));
  await assert.rejects(pending, /stop the run/);
  await dataset.close();
  await assert.rejects(dataset.next(), /stop the run/);
  const ps = spawnSync('ps', ['--ppid', String(process.pid), '-o', 'comm='], { encoding: 'utf8' });
  assert.deepEqual(
    ps.stdout.split('\n').filter((s) => /ffmpeg|ffprobe/.test(s)),
    [],
  );
});
