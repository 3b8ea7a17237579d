/**
 * Typed errors of the video boundary (image input, video input, video output). Messages are one line and name the
 * offending value and what was expected, so the CLI can print `error.message` alone (no stack trace) and the user
 * knows what to change.
 */

/** Why an input image was refused. */
export type ImageInputProblem =
  | 'missing'
  | 'unreadable'
  | 'not-an-image'
  | 'empty'
  | 'too-large'
  | 'not-divisible'
  | 'bad-target';

/** The input image cannot be used: missing, not an image, empty, too large, or a size the model cannot take. */
export class ImageInputError extends Error {
  override name = 'ImageInputError';
  readonly problem: ImageInputProblem;
  /** The file path, or `<buffer>` for in-memory input. */
  readonly source: string;

  constructor(problem: ImageInputProblem, source: string, message: string) {
    super(oneLine(message));
    this.problem = problem;
    this.source = source;
  }
}

/** Why writing a video failed. */
export type VideoOutputProblem =
  | 'unwritable'
  | 'exists'
  | 'bad-frames'
  | 'bad-options'
  | 'ffmpeg-missing'
  | 'ffmpeg-failed'
  | 'write-failed';

/** The video could not be written; nothing is left at the output path (temporary files are removed). */
export class VideoOutputError extends Error {
  override name = 'VideoOutputError';
  readonly problem: VideoOutputProblem;
  /** The requested output path. */
  readonly path: string;

  constructor(problem: VideoOutputProblem, path: string, message: string, options?: { cause?: unknown }) {
    super(oneLine(message), options);
    this.problem = problem;
    this.path = path;
  }
}

/**
 * Why an input video (a training clip) cannot be used:
 * - `missing`, `unreadable`, `empty`: the file does not exist, cannot be read (a directory, no permission), or is
 *   0 bytes;
 * - `not-a-video`: ffmpeg cannot read it as a media file (a text file renamed .mp4);
 * - `no-video`: a valid media file without a video stream (audio only; cover art does not count);
 * - `corrupt`: a video container that fails to decode (truncated, damaged data, no index);
 * - `too-short`: it decodes cleanly but has fewer frames than asked at that start and rate (the caller skips the clip);
 * - `timeout`: ffmpeg did not finish within the time allowed;
 * - `bad-options`: the request itself is invalid (size, rate, count, crop);
 * - `ffmpeg-missing`, `ffmpeg-failed`: the tool cannot be started, or failed for a reason not about the file.
 */
export type VideoInputReason =
  | 'missing'
  | 'unreadable'
  | 'empty'
  | 'not-a-video'
  | 'no-video'
  | 'corrupt'
  | 'too-short'
  | 'timeout'
  | 'bad-options'
  | 'ffmpeg-missing'
  | 'ffmpeg-failed';

/** An input video cannot be probed or decoded as asked; `reason` says why, the message says it on one line. */
export class VideoInputError extends Error {
  override name = 'VideoInputError';
  readonly reason: VideoInputReason;
  /** The video's path. */
  readonly source: string;

  constructor(reason: VideoInputReason, source: string, message: string, options?: { cause?: unknown }) {
    super(oneLine(message), options);
    this.reason = reason;
    this.source = source;
  }
}

/** Collapses whitespace runs with newlines into `; ` so that a message stays on one line. */
export function oneLine(message: string): string {
  return message
    .split(/\s*\n\s*/)
    .filter((s) => s.length > 0)
    .join('; ');
}
