/**
 * Where every output of a generation job goes, decided and checked before any compute, so that outputs are never
 * lost or mixed:
 * - without `out`, videos are numbered in `outputs/` (`000000.mp4`, `000001.mp4`, …) after the highest number
 *   already there, as the reference script (`scripts/sampling/simple_video_sample.py`) numbers its outputs, but
 *   never onto an existing name;
 * - with `out`, several videos are numbered beside it (`clip_00.mp4`, … or `frames/00/`, …), as are the
 *   `saveLatents` and `saveIntermediates` files (`lat_00.safetensors`, …);
 * - every path (video, sidecar, tensor files, an orbit's frames folder) must be writable and, unless `overwrite`,
 *   new: an existing file, an existing sidecar or a frames folder holding an earlier run's frames is refused; no two
 *   outputs may share a path.
 * Folders the plan makes (`outputs/`, the folder of several frame videos) are removed again by `removeMadeFolders`
 * when the job fails while they are empty.
 */
import { mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { VideoOutputError } from '../video/errors.ts';
import { checkFileWritable, earlierRunFiles, resolveVideoOutput, type VideoOutput } from '../video/output-path.ts';
import { sidecarPath } from '../video/sidecar.ts';
import { checkVideoOutput } from '../video/writers.ts';
import { GenerateRequestError, type RequestField } from './request.ts';

/** The folder of numbered outputs when a request names none (relative to the working directory). */
export const DEFAULT_OUTPUT_DIR = 'outputs';
/** What `out` must be, for messages. */
const VIDEO_OUTPUT_EXPECTED = 'a video file (.mp4, .webm, .gif, .webp) or a folder for PNG frames ending in /';
/** Digits of a numbered output's name: `000000.mp4`. */
const NUMBER_DIGITS = 6;

/** The paths of one video's outputs. */
export interface VideoOutputs {
  /** The video file or frames folder. */
  readonly out: string;
  readonly saveLatents?: string;
  readonly saveIntermediates?: string;
  /** An orbit's views as PNG frames. */
  readonly outFrames?: string;
}

export interface OutputPlan {
  /** By video index. */
  readonly videos: readonly VideoOutputs[];
  /** Folders made for the job, deepest last. */
  readonly made: readonly string[];
}

/** What the plan reads from a request. */
export interface OutputRequest {
  readonly out?: string;
  readonly saveLatents?: string;
  readonly saveIntermediates?: string;
  readonly overwrite: boolean;
  readonly orbit?: { readonly outFrames?: string };
}

/** Numbered name of video `index` of `count` (a batch): `clip.mp4` → `clip_00.mp4`; a folder `dir/` → `dir/00/`. */
export function numberedPath(path: string, index: number, count: number, folder: boolean): string {
  if (count === 1) return path;
  const k = String(index).padStart(Math.max(2, String(count - 1).length), '0');
  if (folder) return `${join(path, k)}/`;
  const ext = extname(path);
  return join(dirname(path), `${basename(path, ext)}_${k}${ext}`);
}

/** The output path of video `index` of `count` for a video output `out` (see `numberedPath`). */
export function videoOutputPath(out: string, index: number, count: number): string {
  return count === 1 ? out : numberedPath(out, index, count, resolveVideoOutput(out).format === 'frames');
}

/** The first number after every numbered name (`000041.mp4`, `000041.mp4.json`, …) in `dir`; 0 for none. */
export async function nextOutputNumber(dir: string): Promise<number> {
  let next = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = /^(\d+)(\.|$)/.exec(name);
    if (m) next = Math.max(next, Number(m[1]) + 1);
  }
  return next;
}

/**
 * Plans and checks every output of a job of `count` videos (see the module comment). Throws a GenerateRequestError
 * naming the field for a refused path (it exists, no extension, used twice) and a VideoOutputError for a path that
 * cannot be written; folders made before the failure are removed again.
 */
export async function planOutputs(request: OutputRequest, count: number): Promise<OutputPlan> {
  const made: string[] = [];
  try {
    const videos = await planPaths(request, count, made);
    await checkPaths(request, videos);
    return { videos, made };
  } catch (e) {
    await removeMadeFolders({ made });
    throw e;
  }
}

/** Removes the plan's folders that are still empty (finished outputs stay). */
export async function removeMadeFolders(plan: Pick<OutputPlan, 'made'>): Promise<void> {
  for (const dir of [...plan.made].reverse()) await rmdir(dir).catch(() => {});
}

async function makeFolder(dir: string, made: string[]): Promise<void> {
  if (await stat(dir).catch(() => undefined)) return;
  await mkdir(dir);
  made.push(dir);
}

async function planPaths(request: OutputRequest, count: number, made: string[]): Promise<VideoOutputs[]> {
  const { out, saveLatents, saveIntermediates } = request;
  const outFrames = request.orbit?.outFrames;
  let outs: string[];
  if (out === undefined) {
    await makeFolder(DEFAULT_OUTPUT_DIR, made);
    const first = await nextOutputNumber(DEFAULT_OUTPUT_DIR);
    outs = Array.from({ length: count }, (_, i) =>
      join(DEFAULT_OUTPUT_DIR, `${String(first + i).padStart(NUMBER_DIGITS, '0')}.mp4`),
    );
  } else {
    const folder = formatOf('out', out).format === 'frames';
    // Several videos into a frames folder go to numbered sub-folders of it, so the folder itself is made.
    if (folder && count > 1) await makeFolder(out, made);
    outs = Array.from({ length: count }, (_, i) => numberedPath(out, i, count, folder));
  }
  if (outFrames !== undefined && count > 1) await makeFolder(outFrames, made);
  return outs.map((o, i) => ({
    out: o,
    ...(saveLatents !== undefined ? { saveLatents: numberedPath(saveLatents, i, count, false) } : {}),
    ...(saveIntermediates !== undefined ? { saveIntermediates: numberedPath(saveIntermediates, i, count, false) } : {}),
    ...(outFrames !== undefined ? { outFrames: numberedPath(outFrames, i, count, true) } : {}),
  }));
}

async function checkPaths(request: OutputRequest, videos: readonly VideoOutputs[]): Promise<void> {
  const { overwrite } = request;
  /** Path → which output uses it, for messages. */
  const used = new Map<string, string>();
  const claim = (field: RequestField, path: string, what: string) => {
    const key = resolve(path);
    const other = used.get(key);
    if (other) throw new GenerateRequestError([{ field, value: path, expected: `a path of its own (${other})` }]);
    used.set(key, `it is ${what}`);
  };
  const refuse = (field: RequestField, path: string, what: string): never => {
    throw new GenerateRequestError([{ field, value: path, expected: `a new path: ${what} (--overwrite replaces it)` }]);
  };
  for (const v of videos) {
    const target = formatOf('out', v.out);
    if (!overwrite) {
      if (target.format === 'frames') {
        if ((await earlierRunFiles(target.path)).length > 0) refuse('out', v.out, 'it holds an earlier run’s frames');
      } else {
        if (await pathExists(target.path)) refuse('out', v.out, 'it exists');
        const sidecar = sidecarPath(v.out, target.format);
        if (await pathExists(sidecar)) refuse('out', v.out, `its sidecar ${basename(sidecar)} exists`);
      }
    }
    await checkVideoOutput(v.out, { format: target.format }); // writable; ffmpeg starts
    claim('out', target.path, `the path of video ${v.out}`);
    if (target.format !== 'frames') claim('out', sidecarPath(v.out, target.format), `the sidecar of ${v.out}`);
    for (const field of ['saveLatents', 'saveIntermediates'] as const) {
      const path = v[field];
      if (path === undefined) continue;
      if (!overwrite && (await pathExists(path))) refuse(field, path, 'it exists');
      await checkFileWritable(path);
      claim(field, path, `a ${field === 'saveLatents' ? 'latents' : 'intermediates'} file`);
    }
    if (v.outFrames !== undefined) {
      if (!overwrite && (await earlierRunFiles(v.outFrames)).length > 0) {
        refuse('outFrames', v.outFrames, 'it holds an earlier run’s frames');
      }
      await checkVideoOutput(v.outFrames, { format: 'frames' });
      claim('outFrames', v.outFrames, 'a frames folder');
    }
  }
}

/** The format `path` asks for; a name the writers cannot take is a GenerateRequestError naming `field`. */
function formatOf(field: RequestField, path: string): VideoOutput {
  try {
    return resolveVideoOutput(path);
  } catch (e) {
    if (e instanceof VideoOutputError && e.problem === 'bad-options') {
      throw new GenerateRequestError([{ field, value: path, expected: VIDEO_OUTPUT_EXPECTED }]);
    }
    throw e;
  }
}

async function pathExists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
