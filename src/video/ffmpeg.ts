/**
 * ffmpeg as the video encoder: frames are piped as raw rgb24 on stdin (`-f rawvideo -pix_fmt rgb24 -s WxH -r fps
 * -i -`), never through temporary images. One function per concern: the encoder arguments of each format, a
 * presence check, and a run that feeds frames with backpressure and can be aborted.
 *
 * `startProcess` is the one place an ffmpeg / ffprobe child is spawned, for the encoder here and for probing and
 * decoding input videos (probe.ts, decode.ts): spawn errors mapped by the caller, the stderr tail, kill on abort,
 * and a `close()` that never leaves a child behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VideoOutputError } from './errors.ts';
import type { VideoFormat } from './output-path.ts';

export type EncodedFormat = Exclude<VideoFormat, 'frames'>;

/** The Debian package that provides the `ffmpeg` binary (installed by `scripts/setup-debian.sh`). */
export const FFMPEG_PACKAGE = 'ffmpeg';

/**
 * Encoder arguments per format (after the rawvideo input):
 * - mp4: H.264 (libx264, CRF 18), yuv420p so every player can show it, `+faststart` (index first, streams on the web);
 * - webm: VP9 (libvpx-vp9, constant quality CRF 30);
 * - gif: one palette for the whole clip (palettegen → paletteuse), looping forever;
 * - webp: animated (libwebp_anim, quality 90), looping forever.
 */
export function encoderArgs(format: EncodedFormat): string[] {
  switch (format) {
    case 'mp4':
      return ['-c:v', 'libx264', '-preset', 'medium', '-crf', '18', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'];
    case 'webm':
      return ['-c:v', 'libvpx-vp9', '-crf', '30', '-b:v', '0', '-pix_fmt', 'yuv420p', '-row-mt', '1'];
    case 'gif':
      return [
        '-filter_complex',
        '[0:v]split[a][b];[a]palettegen=reserve_transparent=0[p];[b][p]paletteuse',
        '-loop',
        '0',
      ];
    case 'webp':
      return ['-c:v', 'libwebp_anim', '-lossless', '0', '-quality', '90', '-loop', '0'];
  }
}

/** The whole ffmpeg command line for `frames` of `width`×`height` at `fps`, written as `format` to `outPath`. */
export function ffmpegArgs(
  format: EncodedFormat,
  width: number,
  height: number,
  fps: number,
  outPath: string,
): string[] {
  const input = ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', '-'];
  return ['-hide_banner', '-loglevel', 'error', '-y', ...input, '-an', ...encoderArgs(format), '-f', format, outPath];
}

export interface RunFfmpegOptions {
  ffmpegPath?: string;
  signal?: AbortSignal;
  /** Called after frame `i` (1-based) of `n` has been handed to ffmpeg. */
  onFrame?: (i: number, n: number) => void;
  /** The requested output, for error messages. */
  outputName: string;
}

/** Runs ffmpeg with `args`, writing `frames` to its stdin; rejects with a one-line reason on any failure. */
export async function runFfmpeg(args: string[], frames: readonly Uint8Array[], opts: RunFfmpegOptions): Promise<void> {
  const { signal, outputName } = opts;
  const proc = await startProcess(opts.ffmpegPath ?? 'ffmpeg', args, {
    stdin: 'pipe',
    stdout: 'ignore',
    signal,
    spawnError: (e) => spawnError(e, opts.ffmpegPath, outputName),
  });
  let feedError: unknown;
  try {
    const n = frames.length;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < n; i++) {
        yield frames[i];
        opts.onFrame?.(i + 1, n);
      }
    }
    await pipeline(Readable.from(chunks(), { objectMode: false }), proc.child.stdin!).catch((e) => {
      feedError = e;
    });
    const code = await proc.exited;
    signal?.throwIfAborted();
    if (code !== 0) {
      const why = lastLine(proc.stderr()) || `exit code ${code}`;
      throw new VideoOutputError('ffmpeg-failed', outputName, `ffmpeg failed writing ${outputName}: ${why}`);
    }
    if (feedError) {
      const why = feedError instanceof Error ? feedError.message : String(feedError);
      throw new VideoOutputError(
        'ffmpeg-failed',
        outputName,
        `ffmpeg stopped reading frames for ${outputName}: ${why}`,
      );
    }
  } finally {
    await proc.close();
  }
}

export interface StartProcessOptions {
  /** `pipe` to write to the child's stdin (default `ignore`). */
  stdin?: 'pipe' | 'ignore';
  /** `pipe` to read the child's stdout (default `ignore`). */
  stdout?: 'pipe' | 'ignore';
  /** Aborting kills the child (SIGKILL); the caller checks `signal.aborted` after `exited`. */
  signal?: AbortSignal;
  /** The caller's error for a failed start (binary missing, not executable), e.g. "install ffmpeg". */
  spawnError: (e: NodeJS.ErrnoException) => Error;
  /** Characters of stderr kept (the tail), default 8192. */
  stderrLimit?: number;
}

/** A started ffmpeg / ffprobe child with its stderr tail, exit and cleanup in one place. */
export interface MediaProcess {
  readonly child: ChildProcess;
  /** The last characters the child wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code once the child has exited and its streams are closed (null when killed). */
  readonly exited: Promise<number | null>;
  /** Kills the child now (SIGKILL); idempotent. */
  kill(): void;
  /** Kills the child if it still runs, waits for it, and detaches from `signal`. Idempotent; never rejects. */
  close(): Promise<void>;
}

/**
 * Spawns `bin args` (ffmpeg or ffprobe) and resolves once it has started; rejects with `opts.spawnError(e)` when it
 * cannot start, or with `signal.reason` when already aborted. While it runs, an abort kills it. Every caller must
 * `close()` it in a `finally`, so that no child outlives its call.
 */
export async function startProcess(bin: string, args: string[], opts: StartProcessOptions): Promise<MediaProcess> {
  const { signal } = opts;
  signal?.throwIfAborted();
  const child = spawn(bin, args, { stdio: [opts.stdin ?? 'ignore', opts.stdout ?? 'ignore', 'pipe'] });
  const stderr = tail(child.stderr, opts.stderrLimit ?? 8192);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => reject(opts.spawnError(e as NodeJS.ErrnoException)));
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', kill, { once: true });
  if (signal?.aborted) kill();
  return {
    child,
    stderr,
    exited,
    kill,
    async close() {
      signal?.removeEventListener('abort', kill);
      kill();
      await exited;
    },
  };
}

/** The last non-empty line of a tool's stderr (its error message), or '' when there is none. */
export function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}

/** Checks that ffmpeg can be started; returns its version line. Throws {@link VideoOutputError} `ffmpeg-missing`. */
export async function checkFfmpeg(ffmpegPath = 'ffmpeg', outputName = 'video'): Promise<string> {
  const child = spawn(ffmpegPath, ['-hide_banner', '-version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const stdout = tail(child.stdout, 4096);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (e) => reject(spawnError(e as NodeJS.ErrnoException, ffmpegPath, outputName)));
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new VideoOutputError('ffmpeg-missing', outputName, `${ffmpegPath} -version failed (exit code ${code})`);
  }
  return stdout().split('\n')[0].trim();
}

function spawnError(e: NodeJS.ErrnoException, ffmpegPath: string | undefined, outputName: string): VideoOutputError {
  const bin = ffmpegPath ?? 'ffmpeg';
  if (e.code === 'ENOENT' || e.code === 'EACCES') {
    return new VideoOutputError(
      'ffmpeg-missing',
      outputName,
      `${bin} was not found (${e.code}), and it is needed to write ${outputName}: install the Debian package ` +
        `"${FFMPEG_PACKAGE}" (bash scripts/setup-debian.sh, or apt-get install ${FFMPEG_PACKAGE}), ` +
        'or write PNG frames by giving a directory (ending in /) as the output',
      { cause: e },
    );
  }
  return new VideoOutputError('ffmpeg-failed', outputName, `cannot start ${bin}: ${e.message}`, { cause: e });
}

/** Keeps the last `limit` characters of a text stream (stderr, ffprobe JSON); returns a getter. */
export function tail(stream: NodeJS.ReadableStream | null, limit: number): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (s: string) => {
    text = (text + s).slice(-limit);
  });
  return () => text;
}
