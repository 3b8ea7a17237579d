/**
 * A folder of frames as a video for the quality metrics: its PNG / JPEG / WebP files in name order, numbers
 * compared as numbers (`frame_2` before `frame_10`), e.g. the views `svd orbit --out-frames DIR` writes
 * (frame_0000.png …) or a folder of ground-truth renders.
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

export const FRAME_IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.png', '.jpg', '.jpeg', '.webp']);

/** Whether `path` is a directory (a folder of frames). */
export function isFrameFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The frame files of a folder in order; an Error naming the folder when it has none. */
export function frameFolderFiles(dir: string): string[] {
  const names = readdirSync(dir)
    .filter((n) => FRAME_IMAGE_EXTENSIONS.has(extname(n).toLowerCase()) && !n.startsWith('.'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (names.length === 0) throw new Error(`${dir}: a folder of frames needs PNG, JPEG or WebP files; it has none`);
  return names.map((n) => join(dir, n));
}
