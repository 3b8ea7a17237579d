/**
 * Runs one stored job with the pipeline's `runGenerateJob`: the stored fields plus the executing process's model
 * (checkpoint, config or preset, provider, threads, and its camera-motion LoRA files for the names the job asks for),
 * the image from its bytes, the output under `outDir` named by the job's id. Used by the in-process queue and by `svd worker` alike; progress is reported as plain JSON messages (a
 * step's preview as a PNG data URL), so a BullMQ worker can pass them on unchanged.
 */
import { basename, join } from 'node:path';
import { runGenerateJob } from '../pipeline/generate-job.ts';
import { GenerateRequestError, type ModelChoice, parseGenerateRequest } from '../pipeline/request.ts';
import type { Engine } from '../runtime/engine.ts';
import type { Provider } from '../runtime/protocol.ts';
import { cameraLoraFiles, readCameraLoras } from './camera-loras.ts';
import { encodePngRgb } from './png.ts';

export type ProgressMessage =
  | { type: 'stage'; stage: string }
  | { type: 'step'; video: number; videos: number; i: number; n: number; preview?: string }
  | { type: 'notice'; message: string };

export interface ExecutedVideo {
  readonly index: number;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly fps: number;
  readonly format: string;
  /** File names under `outDir`. */
  readonly file: string;
  readonly sidecar: string;
}

export interface ExecutedJob {
  readonly videos: readonly ExecutedVideo[];
  readonly timingsMs: Readonly<Record<string, number>>;
}

export interface ExecuteOptions {
  readonly model: ModelChoice;
  /** The model's camera-motion LoRAs, name → file (./served-model.ts); none by default. */
  readonly loras?: ReadonlyMap<string, string>;
  readonly provider?: Provider;
  readonly threads?: number;
  readonly engine?: Engine;
  readonly signal?: AbortSignal;
  readonly onProgress?: (m: ProgressMessage) => void;
}

export interface JobInput {
  readonly id: string;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly image: { readonly name: string; readonly bytes: Uint8Array };
}

export async function executeJob(job: JobInput, outDir: string, opts: ExecuteOptions): Promise<ExecutedJob> {
  const emit = opts.onProgress ?? (() => {});
  const available = opts.loras ?? new Map<string, string>();
  const camera = readCameraLoras(job.fields.lora, available);
  if (camera.issues.length > 0) {
    // A worker whose model lacks a LoRA the server accepted: the job cannot run here (not retried).
    const has = [...available.keys()].join(', ') || 'none';
    throw new GenerateRequestError(
      camera.issues.map((i) => ({ field: 'lora', value: i.value, expected: `a camera LoRA this model has (${has})` })),
    );
  }
  const request = parseGenerateRequest(
    {
      ...job.fields,
      lora: cameraLoraFiles(camera.loras, available),
      image: job.image,
      checkpoint: opts.model.checkpoint,
      preset: opts.model.preset,
      config: opts.model.config,
      out: join(outDir, `${job.id}.mp4`),
      provider: opts.provider,
      threads: opts.threads,
    },
    { shipped: null },
  );
  const result = await runGenerateJob(request, {
    signal: opts.signal,
    engine: opts.engine,
    previews: true,
    onEvent: (e) => {
      if (e.type === 'stage') emit({ type: 'stage', stage: e.stage });
      else if (e.type === 'notice') emit({ type: 'notice', message: e.message });
      else if (e.type === 'step') {
        const preview = e.preview
          ? `data:image/png;base64,${encodePngRgb(e.preview.width, e.preview.height, e.preview.rgb).toString('base64')}`
          : undefined;
        emit({ type: 'step', video: e.video, videos: e.videos, i: e.i, n: e.n, ...(preview ? { preview } : {}) });
      }
    },
  });
  return {
    videos: result.videos.map((v) => ({
      index: v.index,
      seed: v.seed,
      width: v.width,
      height: v.height,
      frames: v.frames,
      fps: v.fps,
      format: v.format,
      file: basename(v.output),
      sidecar: basename(v.sidecar),
    })),
    timingsMs: result.timingsMs,
  };
}

/** The job's progress (0–1) after a message, given the previous fraction. */
export function progressFraction(m: ProgressMessage, previous: number): number {
  if (m.type === 'stage') {
    const at: Record<string, number> = {
      'loading checkpoint': 0.02,
      conditioning: 0.05,
      sampling: 0.08,
      decoding: 0.88,
      encoding: 0.95,
    };
    return Math.max(previous, at[m.stage] ?? previous);
  }
  if (m.type === 'step') return Math.max(previous, 0.08 + (0.8 * (m.video + m.i / m.n)) / m.videos);
  return previous;
}
