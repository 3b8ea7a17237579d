/**
 * The cut-detector interface: anything that reads a video's frame stream and returns the frames where a new shot
 * starts. The HSV detectors (ContentDetector, AdaptiveDetector, the cascade: cascade.ts) implement it, and so would
 * a learned detector; TransNetV2 is declared here (its parameters and input size) but needs a model file that is not
 * shipped, and says so.
 */
import { access } from 'node:fs/promises';
import type { FrameStream } from '../frames.ts';

export interface DetectOptions {
  signal?: AbortSignal;
}

/** A cut detector: `detect` returns the sorted frame indices (into the stream) where a new shot starts. */
export interface CutDetector {
  /** A short stable name (`content`, `adaptive`, `cascade`, `transnetv2`), recorded with the results. */
  readonly name: string;
  /** Every parameter that changes the result, as plain JSON values (recorded with the results). */
  readonly params: Readonly<Record<string, unknown>>;
  /** The frame size the detector wants the stream in, for a video of `width`×`height`. */
  analysisSize(width: number, height: number): { width: number; height: number };
  /**
   * The cuts of `stream`: frame index t means frames t − 1 and t belong to different shots (t ≥ 1). The stream is
   * read once, in order; a detector keeps no frame beyond the ones it compares.
   */
  detect(stream: FrameStream, opts?: DetectOptions): Promise<number[]>;
}

/** Why a cut detector cannot run. */
export type CutDetectorProblem = 'model-missing' | 'not-implemented' | 'bad-options';

export class CutDetectorError extends Error {
  override name = 'CutDetectorError';
  constructor(
    readonly problem: CutDetectorProblem,
    message: string,
  ) {
    super(message);
  }
}

export interface TransNetV2Options {
  /** The TransNetV2 ONNX file (e.g. the `transnetv2.onnx` PySceneDetect's `detect-transnetv2` loads). */
  modelPath?: string;
  /** A frame is a cut when its single-frame probability is above this (default 0.5). */
  threshold?: number;
  /** Minimum scene length in frames (default 15, as PySceneDetect's TransNetV2 detector). */
  minSceneLen?: number;
}

/**
 * TransNetV2 (Souček & Lokoč, soCzech/TransNetV2 `inference/transnetv2.py`): RGB frames resized to 48×27, windows
 * of 100 frames with stride 50 (the video padded with 25 copies of the first frame and 25–74 of the last), the
 * centre 50 single-frame predictions kept, sigmoid > 0.5 is a cut. Only the interface is here: no weights ship with
 * the project (they are not on npm or Debian), and running a user-supplied model is not implemented yet, so
 * `detect` throws a {@link CutDetectorError} saying which.
 */
export class TransNetV2CutDetector implements CutDetector {
  readonly name = 'transnetv2';
  readonly params: Readonly<Record<string, unknown>>;
  readonly modelPath: string | undefined;

  constructor(opts: TransNetV2Options = {}) {
    this.modelPath = opts.modelPath;
    this.params = Object.freeze({
      threshold: opts.threshold ?? 0.5,
      minSceneLen: opts.minSceneLen ?? 15,
      inputWidth: 48,
      inputHeight: 27,
      window: 100,
      stride: 50,
    });
  }

  analysisSize(): { width: number; height: number } {
    return { width: 48, height: 27 };
  }

  async detect(_stream: FrameStream, _opts?: DetectOptions): Promise<number[]> {
    const path = this.modelPath;
    const present =
      path !== undefined &&
      (await access(path).then(
        () => true,
        () => false,
      ));
    if (!present) {
      const where = path === undefined ? 'no modelPath was given' : `there is no file at ${path}`;
      throw new CutDetectorError(
        'model-missing',
        `the TransNetV2 cut detector needs a model file (a TransNetV2 ONNX export, e.g. PySceneDetect's ` +
          `transnetv2.onnx), and ${where}; no weights ship with svd-ts — pass { modelPath }, or use the ` +
          `'content', 'adaptive' or 'cascade' detector, which need none`,
      );
    }
    throw new CutDetectorError(
      'not-implemented',
      `running TransNetV2 (${path}) is not implemented yet; use the 'content', 'adaptive' or 'cascade' detector`,
    );
  }
}
