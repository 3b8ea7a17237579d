/**
 * `svd curate` with user-given models (fixture models: the tiny CLIP checkpoint, the fixture aesthetic head, the
 * fixture ONNX captioners): the clip gets the label caption (+ caption_image, caption_video) and the scores
 * clip_text_similarity and aesthetic; without the options nothing of the kind is recorded; a model that cannot be
 * loaded is one line and exit 1; model options with --redis belong to the worker (exit 2).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeFixtureCaptioners } from '../curation/caption/fixture-captioners.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/svd.mjs');
const CLIP = join(ROOT, 'test/fixtures/clip/tiny-hf');
const HEAD = join(ROOT, 'test/fixtures/curation/aesthetic/aesthetic-tiny.pth');
let dir: string;
let videos: string;
let captioners: ReturnType<typeof writeFixtureCaptioners>;

function svd(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
}

interface ShownClip {
  scores: Record<string, number>;
  labels: Record<string, string>;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'svd-curate-models-'));
  videos = join(dir, 'videos');
  mkdirSync(videos);
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'color=c=blue:s=64x48:d=3:r=10',
    '-c:v',
    'ffv1',
    join(videos, 'blue.mkv'),
  ]);
  captioners = writeFixtureCaptioners(join(dir, 'captioners'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('curate with CLIP, the aesthetic head and captioners: caption label, similarity and aesthetic scores', () => {
  const db = join(dir, 'models.db');
  const r = svd([
    'curate',
    videos,
    '--db',
    db,
    '--no-text',
    '--quiet',
    '--clip-checkpoint',
    CLIP,
    '--aesthetic-head',
    HEAD,
    '--captioner',
    captioners.image,
    '--video-captioner',
    captioners.video,
    '--summariser',
    captioners.summariser,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const show = JSON.parse(svd(['curate', 'show', '--db', db, '--json']).stdout) as { clips: ShownClip[] };
  assert.equal(show.clips.length, 1);
  const [c] = show.clips;
  assert.deepEqual(
    { caption: c.labels.caption, image: c.labels.caption_image, video: c.labels.caption_video },
    { caption: 'a video of blue', image: 'a blue sky', video: 'a blue sky' },
  );
  assert.ok(Math.abs(c.scores.clip_text_similarity) <= 1);
  assert.ok(Number.isFinite(c.scores.aesthetic));
});

test('without model options: no caption, no CLIP or aesthetic score', () => {
  const db = join(dir, 'plain.db');
  const r = svd(['curate', videos, '--db', db, '--no-text', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const [c] = (JSON.parse(svd(['curate', 'show', '--db', db, '--json']).stdout) as { clips: ShownClip[] }).clips;
  assert.equal(c.labels.caption, undefined);
  assert.equal(c.scores.aesthetic, undefined);
  assert.equal(c.scores.clip_text_similarity, undefined);
});

test('model errors: a missing checkpoint (exit 1, one line); model options with --redis (exit 2)', () => {
  const r = svd(['curate', videos, '--db', join(dir, 'e.db'), '--clip-checkpoint', join(dir, 'nope'), '--quiet']);
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^svd curate: CLIP checkpoint .*nope does not exist/);
  const q = svd([
    'curate',
    videos,
    '--db',
    join(dir, 'e.db'),
    '--redis',
    'redis://127.0.0.1:1',
    '--captioner',
    captioners.image,
  ]);
  assert.equal(q.status, 2);
  assert.match(q.stderr, /--captioner is an option of `svd curate worker`/);
});
