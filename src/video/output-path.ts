/**
 * Output paths of the video writers: which format a path asks for, whether it can be written (checked before any
 * work), and temporary sibling names (outputs are written under a temporary name and renamed when complete). An
 * existing output is replaced unless `overwrite: false`; a folder of PNG frames counts as existing when it holds an
 * earlier run's frames (`frame_*.png`, `video.json`), not when it holds only other files.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { VideoOutputError } from './errors.ts';

/** `frames`: a directory of `frame_0000.png`, …; the others are single files encoded by ffmpeg. */
export type VideoFormat = 'mp4' | 'webm' | 'gif' | 'webp' | 'frames';

export const VIDEO_FILE_EXTENSIONS: Readonly<Record<string, VideoFormat>> = {
  '.mp4': 'mp4',
  '.webm': 'webm',
  '.gif': 'gif',
  '.webp': 'webp',
};

/** Where and how a video will be written. */
export interface VideoOutput {
  /** Absolute output path (a file, or the frames directory). */
  path: string;
  format: VideoFormat;
  /** For `frames`: the directory already exists (frames are moved into it). */
  existingDir: boolean;
}

/** The files of a frames folder that a run writes: its frames and its sidecar. */
export const FRAME_FILE = /^frame_\d+\.png$/;
const FRAMES_SIDECAR = 'video.json';

/**
 * The format an output path asks for: a path ending in `/` or an existing directory is a directory of PNG frames;
 * `.mp4`, `.webm`, `.gif`, `.webp` are video files. A new name without an extension is refused (it would silently
 * become a folder of frames); an explicit `format` wins.
 */
export function resolveVideoOutput(out: string, format?: VideoFormat): VideoOutput {
  if (out.length === 0) throw new VideoOutputError('bad-options', out, 'the output path is empty');
  const path = resolve(out);
  const existingDir = isDirectory(path);
  if (format) return { path, format, existingDir: format === 'frames' && existingDir };
  if (out.endsWith('/') || out.endsWith(sep) || existingDir) return { path, format: 'frames', existingDir };
  const ext = extname(path).toLowerCase();
  if (ext === '') {
    throw new VideoOutputError(
      'bad-options',
      out,
      `output ${out} has no extension: name a video file (.mp4, .webm, .gif, .webp) or a folder for PNG frames ending in / (${out}/)`,
    );
  }
  const byExt = VIDEO_FILE_EXTENSIONS[ext];
  if (!byExt) {
    throw new VideoOutputError(
      'bad-options',
      out,
      `cannot write "${ext}" output (${out}): use .mp4, .webm, .gif, .webp, or a directory (ending in /) for PNG frames`,
    );
  }
  return { path, format: byExt, existingDir: false };
}

export interface CheckWritableOptions {
  format?: VideoFormat;
  /** Refuse an existing output file, or a frames folder holding an earlier run's frames (default: replace them). */
  overwrite?: boolean;
}

/**
 * Checks, before any work, that `out` can be written: its directory exists and accepts a new file (probed by
 * creating and deleting one), and the path is not a directory where a file is wanted. Returns the resolved output.
 */
export async function checkWritable(out: string, opts: CheckWritableOptions = {}): Promise<VideoOutput> {
  const target = resolveVideoOutput(out, opts.format);
  const existing = await stat(target.path).catch(() => undefined);
  if (existing) {
    if (target.format === 'frames' && !existing.isDirectory()) {
      throw new VideoOutputError(
        'unwritable',
        out,
        `output ${out} exists and is not a directory (PNG frames need one)`,
      );
    }
    if (target.format !== 'frames' && existing.isDirectory()) {
      throw new VideoOutputError('unwritable', out, `output ${out} is a directory, not a ${target.format} file`);
    }
    if (opts.overwrite === false && target.format !== 'frames') {
      throw new VideoOutputError('exists', out, `output ${out} already exists (not overwriting)`);
    }
    if (opts.overwrite === false && target.format === 'frames') {
      const earlier = await earlierRunFiles(target.path);
      if (earlier.length > 0) {
        throw new VideoOutputError(
          'exists',
          out,
          `output folder ${out} holds an earlier run's frames (${earlier[0]}${earlier.length > 1 ? ', …' : ''}); not overwriting`,
        );
      }
    }
  }
  await probeDirectory(target.existingDir ? target.path : dirname(target.path), out);
  return target;
}

/** The files of an earlier run in frames folder `dir` (frames and sidecar), sorted; none for a missing folder. */
export async function earlierRunFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => FRAME_FILE.test(n) || n === FRAMES_SIDECAR).sort();
}

/**
 * Checks, before any work, that a plain output file (not a video: a tensor file, say) can be written at `path`: its
 * folder exists and accepts a new file, the path is not a directory, and it does not exist when `overwrite` is false.
 */
export async function checkFileWritable(path: string, opts: { overwrite?: boolean } = {}): Promise<void> {
  if (path.length === 0) throw new VideoOutputError('bad-options', path, 'the output path is empty');
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new VideoOutputError('unwritable', path, `output ${path} is a directory`);
  if (existing && opts.overwrite === false) {
    throw new VideoOutputError('exists', path, `output ${path} already exists (not overwriting)`);
  }
  await probeDirectory(dirname(resolve(path)), path);
}

/** A fresh hidden name next to `path` (same directory, so the final rename is atomic). */
export function temporarySibling(path: string, suffix = extname(path)): string {
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  return join(dirname(path), `.${basename(path, extname(path))}.partial-${tag}${suffix}`);
}

/** Removes a file or directory tree, ignoring a missing path (cleanup after failure must not throw). */
export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch(() => undefined);
}

async function probeDirectory(dir: string, out: string): Promise<void> {
  const info = await stat(dir).catch((e: NodeJS.ErrnoException) => e);
  if (info instanceof Error) {
    const what = info.code === 'ENOENT' ? 'does not exist' : `cannot be used (${info.code ?? info.message})`;
    throw new VideoOutputError('unwritable', out, `output directory ${dir} ${what}`);
  }
  if (!info.isDirectory()) throw new VideoOutputError('unwritable', out, `output directory ${dir} is not a directory`);
  const probe = join(dir, `.svd-write-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(probe, 'wx');
    await handle.close();
    await unlink(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new VideoOutputError('unwritable', out, `output directory ${dir} is not writable (${code})`);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
