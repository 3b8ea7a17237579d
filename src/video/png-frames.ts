/**
 * A video as a directory of lossless PNG frames (`frame_0000.png`, `frame_0001.png`, …), written with sharp. The
 * frames go to a temporary directory first; a new output directory is then renamed into place, and for an existing
 * directory the finished frames are moved into it (replacing same-named files) and the frames of an earlier run that
 * the new ones did not replace are deleted (no stale `frame_0003.png` beside a 2-frame video). Other files stay.
 */
import { mkdir, readdir, rename, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { VideoFrames } from './frames.ts';
import { FRAME_FILE, removeQuietly, temporarySibling } from './output-path.ts';

export interface WritePngFramesOptions {
  signal?: AbortSignal;
  /** Called after frame `i` (1-based) of `n` is written. */
  onFrame?: (i: number, n: number) => void;
}

/** PNG encodes in flight at once (sharp runs them on libuv's thread pool). */
const CONCURRENCY = 4;

/** File name of frame `index` in a clip of `count` frames: `frame_0000.png` (more digits past 10 000 frames). */
export function frameFileName(index: number, count: number): string {
  const digits = Math.max(4, String(count - 1).length);
  return `frame_${String(index).padStart(digits, '0')}.png`;
}

/** Writes `frames` as PNG files into `dir` (see the module comment); nothing is left behind on failure or abort. */
export async function writePngFrames(
  frames: VideoFrames,
  dir: string,
  existingDir: boolean,
  opts: WritePngFramesOptions = {},
): Promise<void> {
  const { signal } = opts;
  signal?.throwIfAborted();
  const staging = temporarySibling(existingDir ? join(dir, 'frames') : dir, '');
  await mkdir(staging);
  try {
    await encodeAll(frames, staging, opts);
    signal?.throwIfAborted();
    if (existingDir) {
      const written = new Set(await readdir(staging));
      for (const name of written) await rename(join(staging, name), join(dir, name));
      await rmdir(staging);
      for (const name of await readdir(dir)) {
        if (FRAME_FILE.test(name) && !written.has(name)) await unlink(join(dir, name));
      }
    } else {
      await rename(staging, dir);
    }
  } catch (e) {
    await removeQuietly(staging);
    throw e;
  }
}

async function encodeAll(frames: VideoFrames, staging: string, opts: WritePngFramesOptions): Promise<void> {
  const { width, height, data } = frames;
  const n = data.length;
  let next = 0;
  let done = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < n && !failed) {
      const i = next++;
      try {
        opts.signal?.throwIfAborted();
        await sharp(data[i], { raw: { width, height, channels: 3 } })
          .png({ compressionLevel: 6, palette: false })
          .toFile(join(staging, frameFileName(i, n)));
        opts.onFrame?.(++done, n);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  // allSettled: every encode has finished before the caller removes the staging directory.
  const results = await Promise.allSettled(Array.from({ length: Math.min(CONCURRENCY, n) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
