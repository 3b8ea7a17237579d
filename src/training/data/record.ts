/**
 * The unit of training data: one clip (a time window of a video file) or one still image, with its labels. Every
 * source (a folder of videos, a folder of images, a curated JSONL manifest) lists `ClipRecord`s; the loader turns one
 * into a training sample (frames and micro-conditions, see load-sample.ts).
 */

/** One clip or image with what is known about it. Times are in seconds within the file. */
export interface ClipRecord {
  /** Unique within a source: the file's relative path (folders) or the manifest's `id`. Keys the latent cache. */
  id: string;
  /** Absolute path of the video or image file. */
  path: string;
  /** Start of the clip in the file (0 for a whole video and for images). */
  start: number;
  /** End of the clip; undefined = the end of the video, found by probing when the clip is first loaded. */
  end?: number;
  /** The video's native frame rate; undefined = not known yet (probed when loaded). Unused for images. */
  fps?: number;
  /** A still image (stage I image data): `start = end = 0`, one frame (or the frame repeated). */
  image?: true;
  /** Motion score from curation: mean optical-flow magnitude / frame diagonal (src/conditioning/motion-bucket.ts). */
  motionScore?: number;
  /** An explicit motion bucket 0–255; wins over `motionScore`. */
  motionBucket?: number;
  caption?: string;
  /** Curation scores (aesthetics, text–image similarity, OCR area, …), passed through unchanged. */
  scores?: Record<string, number>;
}

/** A record whose `end` and `fps` are known (a video after probing, or an image). */
export type ResolvedRecord = ClipRecord & { end: number; fps: number };

/** File extensions listed as videos (lower case, with the dot). */
export const VIDEO_EXTENSIONS: readonly string[] = ['.mp4', '.webm', '.mkv', '.mov', '.avi', '.gif'];

/** File extensions listed as images (lower case, with the dot). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp'];
