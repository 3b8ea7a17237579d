/**
 * The motion micro-condition for training: a clip's motion score → `motion_bucket_id` in 0–255.
 *
 * SVD (arXiv 2311.15127, Sec. 3–4) conditions the video model on the frame rate and on a "motion score" computed from
 * optical flow, fed as `motion_bucket_id` through a 256-d sinusoidal embedding (`ConcatTimestepEmbedderND`, sgm). The
 * paper and the released code do not publish how a clip's flow becomes a bucket: the question is open and unanswered
 * in Stability-AI/generative-models issues #148, #196, #279, #288 and #354 (see svd-spec.md §4). The released models
 * only tell us the range (0–255, the sampling script warns above 255) and the default 127 (SVD-XT 1.1 was finetuned at
 * a fixed 127).
 *
 * This port's mappings, chosen and documented here and in src/curation/motion/ (not the reference's, which is unknown):
 *
 *   motion score s = mean optical-flow magnitude between frames 0.5 s apart (flow at 2 fps, as the paper's flow
 *                    filter computes it), in pixels, divided by the frame diagonal in pixels — a resolution- and
 *                    orientation-independent fraction of the frame per half second. src/curation/motion/score.ts
 *                    computes it (`clipMotion`: Farneback with video2dataset's parameters, frames scaled to a
 *                    shorter side of 256, OpenCV's gray).
 *
 *   With a corpus (the normal case: what `motion_bucket_id` means is a property of the training data):
 *   bucket = round(255 · percentile rank of s in the corpus) — src/curation/motion/buckets.ts
 *   (`fitMotionBuckets`, `motionBucket`); the median clip gets 127/128 and every bucket holds ~1/256 of the clips.
 *   It reaches training as the manifest's `motion_bucket`.
 *
 *   Without a corpus (a single clip, a manifest with only `motion_score`) the fixed linear fallback here:
 *   bucket = clamp(round(s · MOTION_SCORE_SCALE), 0, 255),  MOTION_SCORE_SCALE = 2550,
 *
 * i.e. linear, monotone, saturating at s = 0.1 (a tenth of the diagonal per half second, a fast pan) and putting the
 * default bucket 127 at s ≈ 0.05. A manifest's explicit `motion_bucket` always wins over the fallback (see
 * src/training/data/labels.ts).
 */

/** Buckets per unit of motion score: score 0.1 (a tenth of the frame diagonal per half second) → 255. */
export const MOTION_SCORE_SCALE = 2550;

/** The largest motion bucket the released models accept. */
export const MAX_MOTION_BUCKET = 255;

/** The reference sampling script's default motion bucket (also SVD-XT 1.1's fixed training value). */
export const DEFAULT_MOTION_BUCKET = 127;

/**
 * The motion bucket (integer 0–255) of a motion score (see the module comment for the score's definition): linear in
 * the score with {@link MOTION_SCORE_SCALE}, rounded to the nearest integer, clamped to [0, 255]. Negative scores give
 * 0 and +Infinity gives 255; NaN is a RangeError (a missing score is the caller's decision, not a bucket).
 */
export function motionBucketFromScore(score: number, scale = MOTION_SCORE_SCALE): number {
  if (Number.isNaN(score)) throw new RangeError('motion score is NaN; expected a number ≥ 0');
  if (!(scale > 0 && Number.isFinite(scale))) throw new RangeError(`motion score scale must be positive, got ${scale}`);
  const bucket = Math.round(score * scale);
  return Math.min(MAX_MOTION_BUCKET, Math.max(0, bucket));
}
