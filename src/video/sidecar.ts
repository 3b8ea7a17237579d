/**
 * The sidecar record of a generated video: `<out>.json` next to a video file (`clip.mp4` → `clip.mp4.json`), or
 * `<dir>/video.json` inside a directory of PNG frames. It holds whatever the caller records (every parameter, the
 * seed, the checkpoint hash, timings) and is written atomically (temporary file, fsync, rename).
 */
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { removeQuietly, resolveVideoOutput, temporarySibling, type VideoFormat } from './output-path.ts';

/** Where the sidecar of output `out` goes. */
export function sidecarPath(out: string, format?: VideoFormat): string {
  const target = resolveVideoOutput(out, format);
  return target.format === 'frames' ? join(target.path, 'video.json') : `${target.path}.json`;
}

/** Writes `record` as pretty JSON to the sidecar of `out`; returns its path. BigInts become strings. */
export async function writeSidecar(out: string, record: object, format?: VideoFormat): Promise<string> {
  const path = sidecarPath(out, format);
  const text = `${JSON.stringify(record, jsonReplacer, 2)}\n`;
  const temporary = temporarySibling(path);
  try {
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (e) {
    await removeQuietly(temporary);
    throw e;
  }
  return path;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return Array.from(value as unknown as ArrayLike<number>);
  return value;
}
