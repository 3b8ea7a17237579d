/**
 * What one request may ask of the server. Every limit is checked before a job is queued; a value over a limit is a
 * field-level 422 naming the field and the limit.
 */
export interface ServerLimits {
  /** Request body bytes (the image upload included). */
  readonly maxBodyBytes: number;
  /** Pixels of the input image (width × height as decoded) and of the output size. */
  readonly maxPixels: number;
  /** Frames per video. */
  readonly maxFrames: number;
  /** Sampling steps. */
  readonly maxSteps: number;
  /** Videos per job (seeds × images). */
  readonly maxVideos: number;
  /** Jobs waiting (not counting the running one) before a submission gets 429. */
  readonly maxQueued: number;
}

export const DEFAULT_LIMITS: ServerLimits = Object.freeze({
  maxBodyBytes: 20 * 1024 * 1024,
  maxPixels: 1024 * 1024,
  maxFrames: 32,
  maxSteps: 100,
  maxVideos: 4,
  maxQueued: 16,
});
