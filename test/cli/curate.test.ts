/**
 * `svd curate` on a folder of videos: a store with clips, motion scores, buckets and camera classes; an unreadable
 * file is a rejection with its reason and the run goes on; a re-run skips finished work; `filter` writes a manifest
 * that `svd train` accepts (one training step on it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/svd.mjs');
const G = `${GOLDEN_DIR}pipeline-tiny/`;
let dir: string;
let videos: string;
let db: string;

function svd(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'svd-curate-'));
  const made = spawnSync('bash', [join(ROOT, 'scripts/make-demo-clips.sh'), join(dir, 'demo')], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  videos = join(dir, 'demo', 'videos');
  writeFileSync(join(videos, 'broken.mp4'), 'not a video at all');
  copyFileSync(join(videos, 'static.mp4'), join(videos, 'static-copy.mp4'));
  db = join(dir, 'corpus.db');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('curate → store; a broken file is rejected with its reason; a re-run does nothing twice', () => {
  const r = svd(['curate', videos, '--db', db, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /rejected .*broken\.mp4|warning: rejected/);
  const show = JSON.parse(svd(['curate', 'show', '--db', db, '--json']).stdout);
  assert.equal(show.sources.length, 17);
  assert.ok(show.sources.find((s: { path: string }) => s.path.endsWith('broken.mp4')).rejected);
  assert.equal(show.clips.length, 16);
  const byName = (name: string) => show.clips.find((c: { path: string }) => c.path.endsWith(`/${name}.mp4`));
  const slow = byName('pan-left-1');
  assert.equal(slow.labels.camera_motion, 'pan-left');
  assert.equal(byName('static').labels.camera_motion, 'static');
  assert.ok(byName('static').scores.motion_score < 1e-3 && slow.scores.motion_score > 0.01);
  for (const c of show.clips) {
    assert.ok(c.scores.motion_bucket >= 0 && c.scores.motion_bucket <= 255);
    assert.ok(c.scores.text_area === 0, `the demo photo has no text: ${c.scores.text_area}`);
  }
  const again = svd(['curate', videos, '--db', db]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /done before/);
  assert.equal(JSON.parse(svd(['curate', 'show', '--db', db, '--json']).stdout).clips.length, 16, 'no duplicates');
  const stats = JSON.parse(svd(['curate', 'stats', '--db', db, '--json', '--png', join(dir, 'hist')]).stdout);
  assert.equal(stats.scores.motion_score.count, 16);
  assert.ok(stats.scores.motion_score.p10 <= stats.scores.motion_score.median);
  const parquet = join(dir, 'corpus.parquet');
  const ex = svd(['curate', 'export', '--db', db, '--parquet', parquet]);
  assert.equal(ex.status, 0, ex.stderr);
  assert.match(ex.stderr, /16 clips, \d+ columns/);
  assert.equal(readFileSync(parquet).subarray(0, 4).toString(), 'PAR1');
  assert.ok(
    readFileSync(join(dir, 'hist', 'motion_score.png'))
      .subarray(1, 4)
      .toString() === 'PNG',
  );
});

test('filter → a manifest svd train accepts', () => {
  const manifest = join(dir, 'manifest.jsonl');
  const r = svd(['curate', 'filter', '--db', db, '--drop-bottom', 'motion_score=25', '--out', manifest]);
  assert.equal(r.status, 0, r.stderr);
  const lines = readFileSync(manifest, 'utf8').trim().split('\n');
  assert.equal(lines.length, 12);
  assert.ok(!lines.some((l) => l.includes('static')), 'the still clips are in the bottom quarter');
  const noText = join(dir, 'no-text.jsonl');
  const m = svd(['curate', 'filter', '--db', db, '--max-text', '0.1', '--out', noText]);
  assert.equal(m.status, 0, m.stderr);
  assert.equal(readFileSync(noText, 'utf8').trim().split('\n').length, 16, 'no clip has text');
  const pans = join(dir, 'pans.jsonl');
  const l = svd(['curate', 'filter', '--db', db, '--label', 'camera_motion=pan-left|pan-right', '--out', pans]);
  assert.equal(l.status, 0, l.stderr);
  const panLines = readFileSync(pans, 'utf8').trim().split('\n');
  // the clips the store labels pan-left or pan-right (the 1 px/frame ones: faster pans of the 64×64 demo photo,
  // upscaled to the analysis size, move beyond Farneback's reach and read "other")
  const shown = JSON.parse(svd(['curate', 'show', '--db', db, '--json']).stdout) as {
    clips: { path: string; labels: Record<string, string> }[];
  };
  const expected = shown.clips.filter((c) => ['pan-left', 'pan-right'].includes(c.labels.camera_motion));
  assert.ok(expected.length >= 2);
  assert.equal(panLines.length, expected.length);
  assert.ok(panLines.every((x) => /pan-(left|right)-\d\.mp4/.test(x)));
  const bad = svd(['curate', 'filter', '--db', db, '--drop-bottom', 'aesthetic=10', '--out', manifest]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /no score "aesthetic"/);
  const run = join(dir, 'run');
  const config = join(dir, 'train.json');
  writeFileSync(
    config,
    JSON.stringify({
      stage: 'i2v',
      model: { config: `${G}config.json`, init: `${G}checkpoint.safetensors` },
      data: { manifest, frames: 4, width: 64, height: 64, fps: [8] },
      steps: 1,
      threads: 2,
      validation: { every: 10, seeds: [1], steps: 1 },
      checkpoint: { every: 10, keep: 1 },
    }),
  );
  const t = svd(['train', '--config', config, '--run', run, '--quiet']);
  assert.equal(t.status, 0, t.stderr);
  assert.ok(readFileSync(join(run, 'model.safetensors')).length > 1e6);
});
