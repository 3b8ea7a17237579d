/**
 * Typed errors of the video boundary (image input, video output). Messages are one line and name the offending
 * value and what was expected, so the CLI can print `error.message` alone (no stack trace) and the user knows what
 * to change.
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

/** Collapses whitespace runs with newlines into `; ` so that a message stays on one line. */
export function oneLine(message: string): string {
  return message
    .split(/\s*\n\s*/)
    .filter((s) => s.length > 0)
    .join('; ');
}
