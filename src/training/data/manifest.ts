/**
 * The clip manifest: the format curation writes and training reads. JSON Lines — one JSON object per line, UTF-8;
 * blank lines are skipped. Each object is one clip of a video (or one still image):
 *
 * | key             | type                     | required                 | meaning                                                       |
 * |-----------------|--------------------------|--------------------------|---------------------------------------------------------------|
 * | `clip`          | string                   | yes                      | the file, relative to the manifest's folder, or absolute      |
 * | `start`         | number ≥ 0               | videos                   | clip start in the file, seconds                               |
 * | `end`           | number > `start`         | videos                   | clip end in the file, seconds                                 |
 * | `fps`           | number > 0               | videos                   | the video's native frame rate (ffprobe `r_frame_rate`)        |
 * | `motion_score`  | number ≥ 0               | videos, unless `motion_bucket` | mean optical-flow magnitude between frames 0.5 s apart / frame diagonal (src/conditioning/motion-bucket.ts) |
 * | `motion_bucket` | integer 0–255            | no                       | the motion micro-condition; wins over `motion_score`          |
 * | `caption`       | string                   | no                       | text caption                                                  |
 * | `scores`        | object of finite numbers | no                       | curation scores (e.g. `aesthetic`, `clip_similarity`, `ocr_area`), passed through |
 * | `id`            | non-empty string         | no                       | unique id (default `<clip>@<start>-<end>`); keys the latent cache |
 * | `image`         | boolean                  | no                       | `true`: a still image (stage I); `start`/`end`/`fps`/`motion_*` may be omitted |
 * | `meta`          | object                   | no                       | free-form, kept out of training (provenance, tool versions)   |
 *
 * Any other key is an error (a misspelt `motion_bukcet` must not silently become "no bucket"). A bad line stops the
 * listing with one line naming the manifest, the line number and the problem.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { DataSourceError } from './errors.ts';
import type { ClipRecord } from './record.ts';

const KEYS = new Set([
  'clip',
  'start',
  'end',
  'fps',
  'motion_score',
  'motion_bucket',
  'caption',
  'scores',
  'id',
  'image',
  'meta',
]);

/** Every record of the manifest at `path`, in file order. Throws {@link DataSourceError} on the first bad line. */
export async function manifestSource(path: string): Promise<ClipRecord[]> {
  const info = await stat(path).catch((e: NodeJS.ErrnoException) => e);
  if (info instanceof Error) {
    const missing = info.code === 'ENOENT' || info.code === 'ENOTDIR';
    const what = missing ? 'does not exist' : `cannot be read (${info.code ?? info.message})`;
    throw new DataSourceError(missing ? 'missing' : 'unreadable', path, `manifest ${path} ${what}`);
  }
  if (!info.isFile()) throw new DataSourceError('unreadable', path, `manifest ${path} is not a file`);
  const base = dirname(resolve(path));
  const records: ClipRecord[] = [];
  const seen = new Map<string, number>();
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      const record = parseManifestLine(line, base, path, n);
      const first = seen.get(record.id);
      if (first !== undefined) {
        throw new DataSourceError('duplicate-id', path, `${path}:${n}: id "${record.id}" repeats line ${first}`, n);
      }
      seen.set(record.id, n);
      records.push(record);
    }
  } catch (e) {
    if (e instanceof DataSourceError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new DataSourceError('unreadable', path, `manifest ${path} cannot be read (${code})`);
  } finally {
    lines.close();
  }
  return records;
}

/**
 * One manifest line → a record; `base` is the folder relative `clip` paths start from. Throws
 * {@link DataSourceError} `bad-line` naming `file:line` and the problem.
 */
export function parseManifestLine(text: string, base: string, file = '<manifest>', line = 1): ClipRecord {
  const bad = (problem: string) => new DataSourceError('bad-line', file, `${file}:${line}: ${problem}`, line);
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw bad(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw bad('expected a JSON object');
  const o = obj as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !KEYS.has(k));
  if (unknown.length > 0) throw bad(`unknown key ${JSON.stringify(unknown[0])} (known: ${[...KEYS].join(', ')})`);

  if (typeof o.clip !== 'string' || o.clip === '') throw bad('"clip" must be a non-empty string (the file path)');
  if (o.image !== undefined && typeof o.image !== 'boolean') throw bad('"image" must be true or false');
  const image = o.image === true;
  const num = (key: string, ok: (v: number) => boolean, expected: string, required: boolean): number | undefined => {
    const v = o[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) {
      throw bad(`"${key}" must be ${expected}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
    }
    return v;
  };
  const start = num('start', (v) => v >= 0, 'a number of seconds ≥ 0', !image) ?? 0;
  const end = num('end', (v) => v >= start && (image || v > start), `a number of seconds > start (${start})`, !image);
  const fps = num('fps', (v) => v > 0, 'a positive frame rate', !image);
  const motionBucket = num(
    'motion_bucket',
    (v) => Number.isInteger(v) && v >= 0 && v <= 255,
    'an integer 0–255',
    false,
  );
  const motionScore = num('motion_score', (v) => v >= 0, 'a number ≥ 0', !image && motionBucket === undefined);
  if (o.caption !== undefined && typeof o.caption !== 'string') throw bad('"caption" must be a string');
  const scores = parseScores(o.scores, bad);
  if (o.id !== undefined && (typeof o.id !== 'string' || o.id === '')) throw bad('"id" must be a non-empty string');
  if (o.meta !== undefined && (typeof o.meta !== 'object' || o.meta === null || Array.isArray(o.meta))) {
    throw bad('"meta" must be an object');
  }

  const record: ClipRecord = {
    id: (o.id as string | undefined) ?? (image ? o.clip : `${o.clip}@${start}-${end}`),
    path: isAbsolute(o.clip) ? o.clip : resolve(base, o.clip),
    start: image ? 0 : start,
    end: image ? 0 : end,
  };
  if (fps !== undefined && !image) record.fps = fps;
  if (image) record.image = true;
  if (motionScore !== undefined) record.motionScore = motionScore;
  if (motionBucket !== undefined) record.motionBucket = motionBucket;
  if (typeof o.caption === 'string') record.caption = o.caption;
  if (scores !== undefined) record.scores = scores;
  return record;
}

function parseScores(v: unknown, bad: (problem: string) => Error): Record<string, number> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('"scores" must be an object of numbers');
  const out: Record<string, number> = {};
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'number' || !Number.isFinite(s)) throw bad(`"scores.${k}" must be a finite number`);
    out[k] = s;
  }
  return out;
}
