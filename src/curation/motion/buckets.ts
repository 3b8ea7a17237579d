/**
 * Motion buckets from a corpus: a clip's `motion_bucket_id` = its motion score's percentile rank in the corpus the
 * model is trained on, × 255.
 *
 * What `motion_bucket_id` means is a property of the training data, not of the video alone: the model learns "bucket
 * b looks like the clips that were labelled b". With the percentile mapping, bucket 127 is the corpus median, bucket
 * 25 the 10th percentile, 230 the 90th, and every bucket holds about 1/256 of the clips, so the whole 0–255 range
 * the released models accept is used whatever the corpus's units (analysis size, sampling rate, flow method) — the
 * ordering is all that carries over. SVD chose its flow thresholds the same way (percentiles: the paper drops the
 * bottom 12.5/25/50 % of LVD-10M per annotation, svd-spec.md §5). For one clip without a corpus, the fixed linear map
 * of src/conditioning/motion-bucket.ts (`motionBucketFromScore`) is the fallback ({@link motionBucket} without a
 * table).
 *
 * The table is small and serialisable (JSON): the corpus's score quantiles Q(p) at the levels p = 0, the 255
 * boundaries between buckets (b − ½)/255 for b = 1…255, and 1 (linear interpolation between order statistics —
 * numpy's default and DuckDB's `quantile_cont`, so a store can compute it in SQL). A score's rank is the interpolated
 * inverse: between two distinct knots linearly, on a plateau of equal knots (ties, e.g. many static clips at 0) the
 * middle of the plateau (the mid-rank), below the first knot 0, above the last 1. Because the knots sit on the bucket
 * boundaries, a score between two knots gets the bucket of the clips between them whatever the distribution's shape.
 */

import { MAX_MOTION_BUCKET, motionBucketFromScore } from '../../conditioning/motion-bucket.ts';

/** A corpus's motion-score distribution as quantile knots (see the module comment). */
export interface MotionBucketTable {
  method: 'corpus-percentile';
  /** Clips the table was fitted on. */
  clips: number;
  /** The quantile levels, increasing from 0 to 1 (default {@link BUCKET_LEVELS}). */
  levels: number[];
  /** The corpus's scores at those levels, non-decreasing. */
  quantiles: number[];
}

/** 0, the boundaries between buckets (b − ½)/255 for b = 1…255, and 1. */
export const BUCKET_LEVELS: readonly number[] = Object.freeze([
  0,
  ...Array.from({ length: MAX_MOTION_BUCKET }, (_, i) => (i + 0.5) / MAX_MOTION_BUCKET),
  1,
]);

/** Fits the table to a corpus's motion scores (finite, ≥ 0; at least one). */
export function fitMotionBuckets(
  scores: ArrayLike<number>,
  levels: readonly number[] = BUCKET_LEVELS,
): MotionBucketTable {
  checkLevels(levels);
  const n = scores.length;
  if (n === 0) throw new RangeError('fitMotionBuckets: the corpus has no scores');
  const sorted = Float64Array.from(scores);
  for (let i = 0; i < n; i++) {
    if (!(Number.isFinite(sorted[i]) && sorted[i] >= 0)) {
      throw new RangeError(`fitMotionBuckets: score ${i} is ${sorted[i]}; expected a finite number ≥ 0`);
    }
  }
  sorted.sort();
  const quantiles = levels.map((p) => {
    const pos = p * (n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, n - 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  });
  return { method: 'corpus-percentile', clips: n, levels: [...levels], quantiles };
}

function checkLevels(levels: readonly number[]): void {
  if (levels.length < 2 || levels[0] !== 0 || levels[levels.length - 1] !== 1) {
    throw new RangeError('motion bucket table: levels must run from 0 to 1');
  }
  for (let k = 1; k < levels.length; k++) {
    if (!(levels[k] > levels[k - 1])) throw new RangeError(`motion bucket table: levels do not increase at ${k}`);
  }
}

/** Checks a table read from a store (JSON); throws a RangeError naming the problem. */
export function checkMotionBucketTable(table: MotionBucketTable): MotionBucketTable {
  const q = table.quantiles;
  if (table.method !== 'corpus-percentile') throw new RangeError(`motion bucket table: unknown method ${table.method}`);
  if (!Array.isArray(q) || q.length < 2) throw new RangeError('motion bucket table: needs at least 2 quantiles');
  if (!Array.isArray(table.levels) || table.levels.length !== q.length) {
    throw new RangeError('motion bucket table: needs one level per quantile');
  }
  checkLevels(table.levels);
  for (let k = 0; k < q.length; k++) {
    if (!Number.isFinite(q[k])) throw new RangeError(`motion bucket table: quantile ${k} is ${q[k]}`);
    if (k > 0 && q[k] < q[k - 1]) throw new RangeError(`motion bucket table: quantiles decrease at ${k}`);
  }
  return table;
}

/** The percentile rank in [0, 1] of `score` in the table's corpus (interpolated, mid-rank on ties). */
export function percentileRank(score: number, table: MotionBucketTable): number {
  if (Number.isNaN(score)) throw new RangeError('motion score is NaN; expected a number ≥ 0');
  const q = table.quantiles;
  const p = table.levels;
  const K = q.length - 1;
  // lo: first knot ≥ score; hi: last knot ≤ score
  let a = 0;
  let b = K + 1;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (q[mid] < score) a = mid + 1;
    else b = mid;
  }
  const lo = a;
  a = 0;
  b = K + 1;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (q[mid] <= score) a = mid + 1;
    else b = mid;
  }
  const hi = a - 1;
  if (lo <= hi) return (p[lo] + p[hi]) / 2; // on knots equal to the score
  if (lo === 0) return 0; // below the corpus
  if (hi === K) return 1; // above the corpus
  return p[hi] + ((score - q[hi]) / (q[lo] - q[hi])) * (p[lo] - p[hi]);
}

/** The corpus bucket of a score: round(255 · percentile rank). */
export function motionBucketFromCorpus(score: number, table: MotionBucketTable): number {
  return Math.round(MAX_MOTION_BUCKET * percentileRank(score, table));
}

/**
 * The motion bucket of a score: by the corpus table when there is one, else by the fixed linear map of
 * `motionBucketFromScore` (src/conditioning/motion-bucket.ts), the fallback for a single clip.
 */
export function motionBucket(score: number, table?: MotionBucketTable): number {
  return table === undefined ? motionBucketFromScore(score) : motionBucketFromCorpus(score, table);
}
