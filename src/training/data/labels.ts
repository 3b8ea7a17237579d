/**
 * The micro-condition labels of a training sample (arXiv 2311.15127, Sec. 3: the video model is conditioned on the
 * frame rate and the motion score of its clip): `fps_id` and `motion_bucket_id` as the conditioner embeds them.
 */
import { DEFAULT_MOTION_BUCKET, motionBucketFromScore } from '../../conditioning/motion-bucket.ts';
import type { ClipRecord } from './record.ts';

/** The reference sampling script's default `fps_id` (a 7 fps video); the label of image samples, which have none. */
export const DEFAULT_FPS_ID = 6;

/**
 * `fps_id` of frames sampled at `fps`: fps − 1, the reference's convention (sgm's `simple_video_sample.py` writes
 * its video at `fps_id + 1`; diffusers passes `fps − 1`). A fractional rate (a stride of 29.97 fps) is rounded to
 * the nearest integer first, as the released models were only ever given integer ids; never below 0.
 */
export function fpsIdFromFps(fps: number): number {
  if (!(Number.isFinite(fps) && fps > 0)) throw new RangeError(`sampled fps must be a positive number, got ${fps}`);
  return Math.max(0, Math.round(fps) - 1);
}

/**
 * `motion_bucket_id` of a record: its explicit `motionBucket` (the manifest's `motion_bucket`) when given, else
 * {@link motionBucketFromScore} of its `motionScore`, else `fallback` (the reference default 127: a folder of videos
 * carries no motion score).
 */
export function motionBucketOf(record: ClipRecord, fallback = DEFAULT_MOTION_BUCKET): number {
  if (record.motionBucket !== undefined) return record.motionBucket;
  if (record.motionScore !== undefined) return motionBucketFromScore(record.motionScore);
  return fallback;
}
