/**
 * Sources that list a folder: every video (mp4, webm, mkv, mov, avi, gif) as one clip spanning the whole video, or
 * every image (png, jpg, jpeg, webp) as one image record for stage I. Listing reads directory entries only — no
 * file is probed — so a folder of thousands of videos lists in milliseconds; a video's duration and frame rate are
 * probed when it is first loaded (`resolveRecord` in load-sample.ts).
 *
 * Order is the sorted relative path (UTF-16 code-unit order), so a listing is the same on every machine. Entries whose
 * name or folder starts with a dot are skipped (hidden files, partial downloads, the latent cache's temporary files).
 * A caption is read from a sibling text file with the same base name (`clip.mp4` → `clip.txt`), when there is one.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { DataSourceError } from './errors.ts';
import { type ClipRecord, IMAGE_EXTENSIONS, VIDEO_EXTENSIONS } from './record.ts';

export interface FolderSourceOptions {
  /** Descend into sub-folders (default true). */
  recursive?: boolean;
  /** Read `<name>.txt` next to a file as its caption (default true). */
  captions?: boolean;
}

/** One record per video under `dir`: `{ id: relative path, path, start: 0 }`, `end` and `fps` left to probing. */
export async function videoFolderSource(dir: string, opts: FolderSourceOptions = {}): Promise<ClipRecord[]> {
  const files = await listFiles(dir, VIDEO_EXTENSIONS, opts);
  return attachCaptions(dir, files, opts, (rel) => ({ id: rel, path: join(resolve(dir), rel), start: 0 }));
}

/** One record per image under `dir`: `{ id: relative path, path, start: 0, end: 0, image: true }`. */
export async function imageFolderSource(dir: string, opts: FolderSourceOptions = {}): Promise<ClipRecord[]> {
  const files = await listFiles(dir, IMAGE_EXTENSIONS, opts);
  return attachCaptions(dir, files, opts, (rel) => ({
    id: rel,
    path: join(resolve(dir), rel),
    start: 0,
    end: 0,
    image: true,
  }));
}

interface Listing {
  /** Relative paths (with `/`) of the matching files, sorted. */
  matches: string[];
  /** Every relative path, for finding caption files. */
  all: Set<string>;
}

async function listFiles(dir: string, extensions: readonly string[], opts: FolderSourceOptions): Promise<Listing> {
  const info = await stat(dir).catch((e: NodeJS.ErrnoException) => e);
  if (info instanceof Error) {
    const what = info.code === 'ENOENT' ? 'does not exist' : `cannot be read (${info.code ?? info.message})`;
    throw new DataSourceError(info.code === 'ENOENT' ? 'missing' : 'unreadable', dir, `data folder ${dir} ${what}`);
  }
  if (!info.isDirectory()) throw new DataSourceError('unreadable', dir, `data folder ${dir} is not a directory`);
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { recursive: opts.recursive ?? true, withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new DataSourceError('unreadable', dir, `data folder ${dir} cannot be listed (${code})`);
  }
  const root = resolve(dir);
  const all = new Set<string>();
  const matches: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) continue;
    // Dirent.parentPath is Node ≥ 20.12; `path` is its older name.
    const parent = (entry as { parentPath?: string }).parentPath ?? (entry as { path?: string }).path ?? root;
    const rel = [...relativeParts(root, resolve(parent)), entry.name].join('/');
    if (rel.split('/').some((part) => part.startsWith('.'))) continue;
    all.add(rel);
    if (extensions.includes(extname(entry.name).toLowerCase())) matches.push(rel);
  }
  matches.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { matches, all };
}

const CAPTION_READS = 32;

/** `a/clip.mp4` → `a/clip.txt`. */
function captionPath(rel: string): string {
  return `${rel.slice(0, rel.length - extname(rel).length)}.txt`;
}

function relativeParts(root: string, dir: string): string[] {
  if (dir === root) return [];
  return dir.slice(root.length + 1).split(sep);
}

async function attachCaptions(
  dir: string,
  listing: Listing,
  opts: FolderSourceOptions,
  make: (rel: string) => ClipRecord,
): Promise<ClipRecord[]> {
  const records = listing.matches.map(make);
  if (opts.captions === false) return records;
  const withCaption = records.filter((r) => listing.all.has(captionPath(r.id)));
  // A few reads at a time: a folder of 100 000 captioned clips must not open 100 000 files at once.
  for (let i = 0; i < withCaption.length; i += CAPTION_READS) {
    await Promise.all(
      withCaption.slice(i, i + CAPTION_READS).map(async (record) => {
        const caption = await readFile(join(resolve(dir), captionPath(record.id)), 'utf8').catch(() => undefined);
        if (caption?.trim()) record.caption = caption.trim();
      }),
    );
  }
  return records;
}
