/**
 * Corpus motion buckets: percentile rank × 255 from a quantile table — uniform over the corpus, monotone, mid-rank on
 * ties, saturating outside the corpus, serialisable; the linear map as the fallback without a corpus.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { motionBucketFromScore } from '../../../src/conditioning/motion-bucket.ts';
import {
  checkMotionBucketTable,
  fitMotionBuckets,
  type MotionBucketTable,
  motionBucket,
  motionBucketFromCorpus,
  percentileRank,
} from '../../../src/curation/motion/buckets.ts';
import { Rng } from '../../../src/tensor/rng.ts';

/** A corpus of log-normal motion scores (median 0.02, like a mix of slow and fast clips). */
function corpus(n: number, seed = 7): number[] {
  const z = new Rng(seed).randn('corpus', [n]).data;
  return Array.from(z, (v) => 0.02 * Math.exp(0.8 * v));
}

test('every bucket holds about 1/256 of the corpus it was fitted on', () => {
  const scores = corpus(25_600);
  const table = fitMotionBuckets(scores);
  assert.equal(table.quantiles.length, 257);
  assert.equal(table.levels[1], 0.5 / 255);
  const counts = new Array(256).fill(0);
  for (const s of scores) counts[motionBucketFromCorpus(s, table)]++;
  // buckets 0 and 255 cover half a step each (ranks within 1/510 of the ends), the others a whole step: 100 clips
  for (let b = 1; b < 255; b++) assert.ok(Math.abs(counts[b] - 100) <= 3, `bucket ${b}: ${counts[b]} clips`);
  assert.ok(Math.abs(counts[0] - 50) <= 3 && Math.abs(counts[255] - 50) <= 3, `ends: ${counts[0]}, ${counts[255]}`);
});

test('the median is bucket 127/128, the ends 0 and 255, and the map is monotone', () => {
  const scores = corpus(1001);
  const table = fitMotionBuckets(scores);
  const sorted = [...scores].sort((a, b) => a - b);
  assert.equal(percentileRank(sorted[500], table), 0.5);
  assert.equal(motionBucketFromCorpus(sorted[500], table), 128, 'round(127.5)');
  assert.equal(motionBucketFromCorpus(sorted[0], table), 0);
  assert.equal(motionBucketFromCorpus(sorted[1000], table), 255);
  assert.equal(motionBucketFromCorpus(0, table), 0, 'below the corpus');
  assert.equal(motionBucketFromCorpus(10, table), 255, 'above the corpus');
  let previous = -1;
  for (let s = 0; s < 0.2; s += 0.0002) {
    const b = motionBucketFromCorpus(s, table);
    assert.ok(Number.isInteger(b) && b >= previous, `not monotone at ${s}`);
    previous = b;
  }
  // small corpora: the order statistics themselves are the ranks i/(n − 1)
  const tiny = fitMotionBuckets([0.3, 0.1, 0.2]);
  assert.deepEqual(
    [0.1, 0.15, 0.2, 0.3].map((s) => Number(percentileRank(s, tiny).toFixed(12))),
    [0, 0.25, 0.5, 1],
  );
});

test('ties get the middle of their ranks: a corpus with 30 % static clips', () => {
  const scores = [...new Array(300).fill(0), ...corpus(700)];
  const table = fitMotionBuckets(scores);
  const rank = percentileRank(0, table);
  assert.ok(Math.abs(rank - 0.15) < 0.005, `rank of the static clips ${rank}`);
  assert.equal(motionBucketFromCorpus(0, table), Math.round(255 * rank));
});

test('the table is JSON and checked when read back; the linear map is the fallback', () => {
  const table = fitMotionBuckets(corpus(500));
  const back = checkMotionBucketTable(JSON.parse(JSON.stringify(table)) as MotionBucketTable);
  assert.equal(motionBucketFromCorpus(0.03, back), motionBucketFromCorpus(0.03, table));
  assert.equal(motionBucket(0.03, table), motionBucketFromCorpus(0.03, table));
  for (const s of [0, 0.01, 0.05, 0.2]) assert.equal(motionBucket(s), motionBucketFromScore(s));
  const bad = (t: unknown, re: RegExp) => assert.throws(() => checkMotionBucketTable(t as MotionBucketTable), re);
  bad({ ...table, method: 'linear' }, /method/);
  bad({ ...table, quantiles: [0.1] }, /at least 2/);
  bad({ ...table, quantiles: [0.2, 0.1], levels: [0, 1] }, /decrease/);
  bad({ ...table, quantiles: [0, Number.NaN], levels: [0, 1] }, /NaN/);
  bad({ ...table, quantiles: [0, 1] }, /one level per quantile/);
  bad({ ...table, quantiles: [0, 1], levels: [0, 0.5] }, /from 0 to 1/);
  assert.throws(() => fitMotionBuckets([1], [0, 0.5, 0.5, 1]), /do not increase/);
  assert.throws(() => fitMotionBuckets([]), /no scores/);
  assert.throws(() => fitMotionBuckets([0.1, -1]), /score 1 is -1/);
  assert.throws(() => percentileRank(Number.NaN, table), /NaN/);
});
