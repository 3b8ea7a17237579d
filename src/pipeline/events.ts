/**
 * What a generation job reports while it runs. Front ends render these (the CLI as a progress line, the HTTP server
 * as Server-Sent Events); the job never prints.
 */
import type { PreviewImage } from './stages/preview.ts';

export type JobStage = 'loading checkpoint' | 'conditioning' | 'sampling' | 'decoding' | 'encoding';

export type GenerateEvent =
  | { readonly type: 'stage'; readonly stage: JobStage }
  /** Step i (1-based) of n of video `video` (0-based) of `videos`; `preview` when previews were asked for. */
  | {
      readonly type: 'step';
      readonly video: number;
      readonly videos: number;
      readonly i: number;
      readonly n: number;
      readonly preview?: PreviewImage;
    }
  /** A warning or a decision the user should know about (memory plan, unusual size, ignored checkpoint keys). */
  | { readonly type: 'notice'; readonly message: string }
  | { readonly type: 'video'; readonly video: GeneratedVideo }
  | { readonly type: 'done'; readonly result: GenerateJobResult };

export interface GeneratedVideo {
  /** Position in the request: images outermost, then seeds. */
  readonly index: number;
  /** The input image (path or name). */
  readonly image: string;
  readonly seed: number;
  readonly output: string;
  readonly sidecar: string;
  readonly format: string;
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly fps: number;
}

export interface GenerateJobResult {
  readonly videos: readonly GeneratedVideo[];
  /** Milliseconds per stage (summed over the videos) and in total. */
  readonly timingsMs: Readonly<Record<string, number>>;
  /** Peak resident memory (VmHWM) and proportional set size, bytes, where the OS reports them. */
  readonly memory: { readonly vmHWM?: number; readonly pss?: number };
}
