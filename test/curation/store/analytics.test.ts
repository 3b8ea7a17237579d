/**
 * Corpus analytics on DuckDB: statistics and drop-bottom thresholds equal the plain computations on the store's
 * values (ties included), filtering with them keeps the same clips, and the Parquet export reads back with one row
 * per clip and a column per score and label.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { CorpusAnalytics } from '../../../src/curation/store/analytics.ts';
import { CurationStore } from '../../../src/curation/store/curation-store.ts';
import { bottomThreshold, filterClips, filterCorpus } from '../../../src/curation/store/filter.ts';

const dir = mkdtempSync(join(tmpdir(), 'svd-analytics-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** 40 scored clips with seeded scores (motion with ties), one rejected clip, one pending. */
function corpus(): CurationStore {
  const store = CurationStore.open(':memory:');
  store.addSource({ id: 's', path: '/videos/s.mp4', size: 1, mtime: 1 });
  const n = 42;
  store.addClips(
    's',
    Array.from({ length: n }, (_, i) => ({
      id: `s:${i}`,
      startFrame: 10 * i,
      endFrame: 10 * i + 10,
      startTime: i,
      endTime: i + 1,
      fps: 10,
    })),
  );
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let i = 0; i < 40; i++) {
    store.recordStage(`s:${i}`, 'motion', {
      scores: { motion_score: Math.round(rand() * 20) / 100 },
      labels: { camera_motion: ['static', 'pan-left', "it's other"][i % 3] },
    });
    store.recordStage(`s:${i}`, 'text', { scores: { text_area: rand() * 0.2 } });
    store.markScored(`s:${i}`);
  }
  store.rejectClip('s:40', 'motion: corrupt');
  return store;
}

test('statistics and thresholds equal the plain computations, ties included', async () => {
  const store = corpus();
  const a = await CorpusAnalytics.fromStore(store);
  try {
    const stats = await a.scoreStatistics();
    assert.deepEqual(Object.keys(stats), ['motion_score', 'text_area']);
    for (const name of ['motion_score', 'text_area']) {
      const v = store.scoreValues(name);
      assert.equal(stats[name].count, 40);
      assert.equal(stats[name].min, v[0]);
      assert.equal(stats[name].max, v[v.length - 1]);
      assert.ok(Math.abs(stats[name].mean - v.reduce((s, x) => s + x, 0) / v.length) < 1e-12);
      // continuous median of 40 values: the mean of the 20th and 21st
      assert.ok(Math.abs(stats[name].median - (v[19] + v[20]) / 2) < 1e-12);
      for (const p of [0, 12.5, 25, 50, 99, 100]) {
        const t = await a.bottomThresholds({ [name]: p });
        assert.equal(t[name], bottomThreshold(v, p), `${name} ${p} %`);
      }
    }
    assert.deepEqual(await a.bottomThresholds({ aesthetic: 25 }), { aesthetic: Number.NEGATIVE_INFINITY });
    await assert.rejects(a.bottomThresholds({ motion_score: 120 }), RangeError);
  } finally {
    a.close();
  }
  const spec = { dropBottom: { motion_score: 25, text_area: 12.5 }, max: { text_area: 0.15 } };
  const viaDuck = await filterCorpus(store, spec);
  const plain = filterClips(store, spec);
  assert.deepEqual(
    viaDuck.kept.map((c) => c.id),
    plain.kept.map((c) => c.id),
  );
  assert.deepEqual(viaDuck.thresholds, plain.thresholds);
  assert.ok(viaDuck.kept.length > 0 && viaDuck.dropped.length > 0);
  store.close();
});

test('Parquet export: one row per clip, a column per score and label, written atomically', async () => {
  const store = corpus();
  const a = await CorpusAnalytics.fromStore(store);
  const out = join(dir, 'corpus.parquet');
  const info = await a.exportParquet(out);
  a.close();
  assert.equal(info.rows, 42);
  assert.deepEqual(info.columns.slice(-3), ['motion_score', 'text_area', 'camera_motion']);
  assert.deepEqual(readdirSync(dir), ['corpus.parquet'], 'no temporary file left');
  const inst = await DuckDBInstance.create(':memory:');
  const db = await inst.connect();
  const rows = (await db.runAndReadAll(`SELECT * FROM '${out}' ORDER BY start_frame`)).getRowObjectsJS();
  db.closeSync();
  inst.closeSync();
  assert.equal(rows.length, 42);
  const c0 = store.clip('s:0')!;
  assert.equal(rows[0].id, 's:0');
  assert.equal(rows[0].motion_score, c0.scores.motion_score);
  assert.equal(rows[2].camera_motion, "it's other");
  assert.equal(rows[40].status, 'rejected');
  assert.equal(rows[40].rejected, 'motion: corrupt');
  assert.equal(rows[40].motion_score, null);
  assert.equal(rows[41].status, 'pending');
  store.close();
});
