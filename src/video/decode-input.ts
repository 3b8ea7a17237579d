/**
 * What probing and decoding an input video share: the checks on the file before a tool runs (exists, readable, not
 * empty), the error for a tool that cannot start, and the reading of a failed run's stderr as a
 * {@link VideoInputError} reason.
 */
import { open, stat } from 'node:fs/promises';
import { VideoInputError } from './errors.ts';
import { FFMPEG_PACKAGE, lastLine } from './ffmpeg.ts';

/**
 * Throws {@link VideoInputError} `missing` / `unreadable` / `empty` unless `path` is a non-empty readable file, and
 * returns its first bytes (for {@link hasContainerSignature}).
 */
export async function checkInputFile(path: string): Promise<Uint8Array> {
  const info = await stat(path).catch((e: NodeJS.ErrnoException) => e);
  if (info instanceof Error) {
    if (info.code === 'ENOENT' || info.code === 'ENOTDIR') {
      throw new VideoInputError('missing', path, `video file not found: ${path}`);
    }
    throw new VideoInputError('unreadable', path, `cannot read video file ${path}: ${info.code ?? info.message}`);
  }
  if (!info.isFile()) throw new VideoInputError('unreadable', path, `cannot read video file ${path}: not a file`);
  if (info.size === 0) throw new VideoInputError('empty', path, `video file is empty (0 bytes): ${path}`);
  try {
    const handle = await open(path, 'r');
    try {
      const head = new Uint8Array(Math.min(16, info.size));
      await handle.read(head, 0, head.length, 0);
      return head;
    } finally {
      await handle.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new VideoInputError('unreadable', path, `cannot read video file ${path}: ${code}`);
  }
}

/**
 * True when the first bytes are those of a container ffmpeg reads videos from: ISO BMFF / QuickTime (`ftyp`, `moov`,
 * `mdat`, `free`, `wide`, `skip` box at offset 4), Matroska / WebM (EBML magic 1A 45 DF A3), AVI (`RIFF…AVI `), GIF
 * or MPEG-PS (00 00 01 BA). Used to tell a damaged video (`corrupt`) from a file that was
 * never one (`not-a-video`) when ffmpeg says only "Invalid data".
 */
export function hasContainerSignature(head: Uint8Array): boolean {
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  if (head.length >= 8 && ['ftyp', 'moov', 'mdat', 'free', 'wide', 'skip'].includes(ascii(4, 8))) return true;
  if (head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return true;
  if (head.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'AVI ') return true;
  if (head.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return true;
  return head.length >= 4 && head[0] === 0 && head[1] === 0 && head[2] === 1 && head[3] === 0xba;
}

/** The error for a tool (ffmpeg / ffprobe) that cannot be started while reading `path`. */
export function inputSpawnError(e: NodeJS.ErrnoException, bin: string, path: string): VideoInputError {
  if (e.code === 'ENOENT' || e.code === 'EACCES') {
    return new VideoInputError(
      'ffmpeg-missing',
      path,
      `${bin} was not found (${e.code}), and it is needed to read ${path}: install the Debian package ` +
        `"${FFMPEG_PACKAGE}" (bash scripts/setup-debian.sh, or apt-get install ${FFMPEG_PACKAGE})`,
      { cause: e },
    );
  }
  return new VideoInputError('ffmpeg-failed', path, `cannot start ${bin}: ${e.message}`, { cause: e });
}

/** Messages by which ffmpeg / ffprobe say the input has no (usable) video stream. */
const NO_VIDEO = [/matches no streams/i, /does not contain any stream/i, /no video stream/i];
/** Messages by which they say the input could not be parsed at all. */
const INVALID = [/invalid data found when processing input/i, /moov atom not found/i, /EBML header parsing failed/i];

/**
 * The reason for a failed ffmpeg / ffprobe run on `path`, from its stderr and the file's first bytes: no video stream
 * (`no-video`); unparsable input (`corrupt` when the file starts like a video container, else `not-a-video`);
 * anything else about the data (`corrupt`).
 */
export function failureReason(stderr: string, head: Uint8Array): 'no-video' | 'not-a-video' | 'corrupt' {
  if (NO_VIDEO.some((re) => re.test(stderr))) return 'no-video';
  if (INVALID.some((re) => re.test(stderr)) && !hasContainerSignature(head)) return 'not-a-video';
  return 'corrupt';
}

/**
 * A one-line description of a failed run on `path`: what the reason says (no video stream), else the tool's last
 * stderr line without the `path: ` prefix ffmpeg puts before it, else the exit code.
 */
export function failureDetail(
  stderr: string,
  code: number | null,
  path: string,
  reason?: 'no-video' | 'not-a-video' | 'corrupt',
): string {
  if (reason === 'no-video') return 'it has no video stream (audio only, or only cover art)';
  let line = lastLine(stderr);
  if (line.startsWith(`${path}: `)) line = line.slice(path.length + 2);
  return line || (code === null ? 'killed' : `exit code ${code}`);
}

/** A signal that aborts on the caller's `signal` or after `ms` milliseconds, and tells which one happened. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** True when the time ran out (and the caller's signal had not aborted). */
  timedOut(): boolean;
  /** Stops the timer; call it in a `finally`. */
  clear(): void;
}

/** Combines the caller's `signal` with a timeout of `ms` (no timeout when `ms` is undefined or Infinity). */
export function deadline(signal: AbortSignal | undefined, ms: number | undefined): Deadline {
  const controller = new AbortController();
  let expired = false;
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  const timer =
    ms !== undefined && Number.isFinite(ms)
      ? setTimeout(() => {
          expired = true;
          controller.abort(new Error('timeout'));
        }, ms)
      : undefined;
  return {
    signal: controller.signal,
    timedOut: () => expired && !signal?.aborted,
    clear() {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}
