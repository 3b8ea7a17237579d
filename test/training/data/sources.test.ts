/**
 * Sources: folders of videos and images (sorted, recursive, hidden entries skipped, captions from .txt siblings, a
 * thousand files listed in well under a second) and the JSONL manifest (schema, relative paths, defaults, and a
 * one-line error naming the file and line for every kind of bad line).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataSourceError } from '../../../src/training/data/errors.ts';
import { imageFolderSource, videoFolderSource } from '../../../src/training/data/folder-source.ts';
import { manifestSource, parseManifestLine } from '../../../src/training/data/manifest.ts';

const root = mkdtempSync(join(tmpdir(), 'svd-sources-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};
const touch = (path: string, text = 'x') => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
};

test('videoFolderSource: every video, sorted, recursive, hidden skipped, captions from .txt', async () => {
  const dir = fresh();
  for (const f of ['b.mp4', 'a.webm', 'sub/c.MKV', 'sub/d.mov', 'e.avi', 'f.gif', 'g.png', 'h.txt', '.hidden.mp4']) {
    touch(join(dir, f));
  }
  touch(join(dir, '.cache/x.mp4'));
  touch(join(dir, 'b.txt'), '  a red car  \n');
  const records = await videoFolderSource(dir);
  assert.deepEqual(
    records.map((r) => r.id),
    ['a.webm', 'b.mp4', 'e.avi', 'f.gif', 'sub/c.MKV', 'sub/d.mov'],
  );
  const b = records[1];
  assert.equal(b.end, undefined, 'duration is probed when the clip is loaded');
  assert.deepEqual(b, { id: 'b.mp4', path: join(dir, 'b.mp4'), start: 0, caption: 'a red car' });
  assert.deepEqual(
    (await videoFolderSource(dir, { recursive: false, captions: false })).map((r) => [r.id, r.caption]),
    [
      ['a.webm', undefined],
      ['b.mp4', undefined],
      ['e.avi', undefined],
      ['f.gif', undefined],
    ],
  );
});

test('imageFolderSource: images as records with start = end = 0 and image: true', async () => {
  const dir = fresh();
  for (const f of ['z.jpg', 'a.png', 'm.JPEG', 'k.webp', 'v.mp4']) touch(join(dir, f));
  const records = await imageFolderSource(dir);
  assert.deepEqual(
    records.map((r) => r.id),
    ['a.png', 'k.webp', 'm.JPEG', 'z.jpg'],
  );
  assert.deepEqual(records[0], { id: 'a.png', path: join(dir, 'a.png'), start: 0, end: 0, image: true });
});

test('a folder of 1000 videos lists in well under a second; a missing folder is a one-line error', async () => {
  const dir = fresh();
  for (let i = 0; i < 1000; i++) writeFileSync(join(dir, `clip_${String(i).padStart(4, '0')}.mp4`), '');
  const t0 = performance.now();
  const records = await videoFolderSource(dir);
  const ms = performance.now() - t0;
  assert.equal(records.length, 1000);
  assert.equal(records[999].id, 'clip_0999.mp4');
  assert.ok(ms < 1000, `listing took ${ms.toFixed(0)} ms`);
  await assert.rejects(
    videoFolderSource(join(root, 'nope')),
    (e: unknown) => e instanceof DataSourceError && e.problem === 'missing' && /nope does not exist/.test(e.message),
  );
});

test('manifestSource: the schema, relative and absolute paths, defaults, blank lines', async () => {
  const dir = fresh();
  const path = join(dir, 'clips.jsonl');
  const lines = [
    {
      clip: 'videos/a.mp4',
      start: 1.5,
      end: 4,
      fps: 30,
      motion_score: 0.02,
      caption: 'waves',
      scores: { aesthetic: 5.2 },
    },
    {},
    { clip: '/data/b.webm', start: 0, end: 2, fps: 24, motion_bucket: 200, id: 'b-0', meta: { tool: 'x' } },
    { clip: 'img/c.png', image: true, caption: 'a still' },
  ];
  writeFileSync(path, `${lines.map((l) => (Object.keys(l).length ? JSON.stringify(l) : '   ')).join('\n')}\n`);
  const records = await manifestSource(path);
  assert.deepEqual(records, [
    {
      id: 'videos/a.mp4@1.5-4',
      path: join(dir, 'videos/a.mp4'),
      start: 1.5,
      end: 4,
      fps: 30,
      motionScore: 0.02,
      caption: 'waves',
      scores: { aesthetic: 5.2 },
    },
    { id: 'b-0', path: '/data/b.webm', start: 0, end: 2, fps: 24, motionBucket: 200 },
    { id: 'img/c.png', path: join(dir, 'img/c.png'), start: 0, end: 0, image: true, caption: 'a still' },
  ]);
});

test('manifestSource: a bad line is a one-line error naming the file and the line', async () => {
  const cases: [string, RegExp][] = [
    ['{"clip": "a.mp4", "start": 0, "end": 1, "fps": 30', /not valid JSON/],
    ['[1, 2]', /expected a JSON object/],
    ['{"start": 0, "end": 1, "fps": 30, "motion_score": 0}', /"clip" must be a non-empty string/],
    [
      '{"clip": "a.mp4", "end": 1, "fps": 30, "motion_score": 0}',
      /"start" must be a number of seconds ≥ 0, got nothing/,
    ],
    [
      '{"clip": "a.mp4", "start": 2, "end": 1, "fps": 30, "motion_score": 0}',
      /"end" must be a number of seconds > start/,
    ],
    ['{"clip": "a.mp4", "start": 0, "end": 1, "fps": 0, "motion_score": 0}', /"fps" must be a positive frame rate/],
    ['{"clip": "a.mp4", "start": 0, "end": 1, "fps": 30}', /"motion_score" must be a number ≥ 0/],
    [
      '{"clip": "a.mp4", "start": 0, "end": 1, "fps": 30, "motion_bucket": 256}',
      /"motion_bucket" must be an integer 0–255/,
    ],
    [
      '{"clip": "a.mp4", "start": 0, "end": 1, "fps": 30, "motion_score": 0, "motion_bukcet": 3}',
      /unknown key "motion_bukcet"/,
    ],
    [
      '{"clip": "a.mp4", "start": 0, "end": 1, "fps": 30, "motion_score": 0, "scores": {"a": "high"}}',
      /"scores.a" must be a finite number/,
    ],
    [
      '{"clip": "a.mp4", "start": 0, "end": 1, "fps": 30, "motion_score": 0, "caption": 3}',
      /"caption" must be a string/,
    ],
  ];
  const good = '{"clip": "ok.mp4", "start": 0, "end": 1, "fps": 30, "motion_score": 0.1}';
  for (const [bad, why] of cases) {
    const path = join(fresh(), 'm.jsonl');
    writeFileSync(path, `${good}\n\n${bad}\n${good.replace('ok', 'ok2')}\n`);
    await assert.rejects(manifestSource(path), (e: unknown) => {
      assert.ok(e instanceof DataSourceError, String(e));
      assert.equal(e.problem, 'bad-line');
      assert.equal(e.line, 3);
      assert.ok(e.message.startsWith(`${path}:3: `), e.message);
      assert.match(e.message, why);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  }
  const dup = join(fresh(), 'dup.jsonl');
  writeFileSync(dup, `${good}\n${good}\n`);
  await assert.rejects(manifestSource(dup), /dup\.jsonl:2: id "ok\.mp4@0-1" repeats line 1/);
  await assert.rejects(manifestSource(join(root, 'none.jsonl')), /manifest .*none\.jsonl does not exist/);
  assert.throws(() => parseManifestLine('{"clip": 1}', '/base', 'x.jsonl', 9), /^DataSourceError: x\.jsonl:9: /);
});
