/**
 * The curation corpus store (the paper's curated LVD corpus, arXiv 2311.15127 §3.1 / App. C): every source video,
 * every clip the cut detection made of it, each clip's scores (motion, text area, CLIP, aesthetics, …) and labels
 * (camera-motion class, caption), which stages are done, and every rejection with its reason — in one SQLite file
 * (better-sqlite3, WAL). Stage results are keyed by clip id, so re-running a stage on the same inputs skips finished
 * work and concurrent workers cannot score a clip twice (`INSERT … ON CONFLICT`).
 */
import Database from 'better-sqlite3';

export type ClipStatus = 'pending' | 'scored' | 'rejected';

export interface SourceRow {
  id: string;
  path: string;
  size: number;
  /** Modification time (ms since the epoch): a changed file is a new source. */
  mtime: number;
  duration?: number;
  fps?: number;
  width?: number;
  height?: number;
  rejected?: string;
}

export interface ClipRow {
  id: string;
  sourceId: string;
  path: string;
  startFrame: number;
  /** Exclusive. */
  endFrame: number;
  startTime: number;
  endTime: number;
  fps: number;
  status: ClipStatus;
  rejected?: string;
  scores: Record<string, number>;
  labels: Record<string, string>;
}

export interface NewClip {
  id: string;
  startFrame: number;
  endFrame: number;
  startTime: number;
  endTime: number;
  fps: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
  id TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL, mtime INTEGER NOT NULL,
  duration REAL, fps REAL, width INTEGER, height INTEGER, rejected TEXT, added TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS clips (
  id TEXT PRIMARY KEY, source_id TEXT NOT NULL REFERENCES sources(id),
  start_frame INTEGER NOT NULL, end_frame INTEGER NOT NULL, start_time REAL NOT NULL, end_time REAL NOT NULL,
  fps REAL NOT NULL, status TEXT NOT NULL DEFAULT 'pending', rejected TEXT
);
CREATE INDEX IF NOT EXISTS clips_source ON clips(source_id);
CREATE TABLE IF NOT EXISTS scores (clip_id TEXT NOT NULL REFERENCES clips(id), name TEXT NOT NULL, value REAL NOT NULL,
  PRIMARY KEY (clip_id, name));
CREATE INDEX IF NOT EXISTS scores_name ON scores(name, value);
CREATE TABLE IF NOT EXISTS labels (clip_id TEXT NOT NULL REFERENCES clips(id), name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (clip_id, name));
CREATE TABLE IF NOT EXISTS stages (item_id TEXT NOT NULL, stage TEXT NOT NULL, status TEXT NOT NULL, detail TEXT,
  finished TEXT NOT NULL, PRIMARY KEY (item_id, stage));
`;

const SCHEMA_VERSION = '1';

export class CurationStoreError extends Error {
  override name = 'CurationStoreError';
}

export class CurationStore {
  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
  ) {}

  /** Opens (or creates) the store at `path` (`:memory:` for a throwaway one). */
  static open(path: string): CurationStore {
    let db: Database.Database;
    try {
      db = new Database(path);
    } catch (e) {
      throw new CurationStoreError(`cannot open the curation store ${path}: ${(e as Error).message}`);
    }
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 10000');
    db.exec(SCHEMA);
    const version = db.prepare('SELECT value FROM meta WHERE key = ?').get('schema') as { value: string } | undefined;
    if (!version) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema', SCHEMA_VERSION);
    else if (version.value !== SCHEMA_VERSION) {
      db.close();
      throw new CurationStoreError(`${path}: store schema ${version.value}, this version reads ${SCHEMA_VERSION}`);
    }
    return new CurationStore(path, db);
  }

  close(): void {
    this.db.close();
  }

  /** Adds a source (unchanged if the same id is there). */
  addSource(s: SourceRow): void {
    this.db
      .prepare(
        `INSERT INTO sources (id, path, size, mtime, duration, fps, width, height, rejected, added)
         VALUES (@id, @path, @size, @mtime, @duration, @fps, @width, @height, @rejected, @added)
         ON CONFLICT(id) DO NOTHING`,
      )
      .run({
        duration: null,
        fps: null,
        width: null,
        height: null,
        rejected: null,
        ...s,
        added: new Date().toISOString(),
      });
  }

  /** Records what probing found, or why the source is rejected. */
  updateSource(id: string, fields: Partial<Omit<SourceRow, 'id' | 'path'>>): void {
    const sets = Object.keys(fields).map((k) => `${k} = @${k}`);
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE sources SET ${sets.join(', ')} WHERE id = @id`).run({ ...fields, id });
  }

  source(id: string): SourceRow | undefined {
    const r = this.db.prepare('SELECT * FROM sources WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return r && sourceFromRow(r);
  }

  sources(): SourceRow[] {
    return (this.db.prepare('SELECT * FROM sources ORDER BY path, id').all() as Record<string, unknown>[]).map(
      sourceFromRow,
    );
  }

  /** Adds a source's clips in one transaction (existing ids are kept). */
  addClips(sourceId: string, clips: readonly NewClip[]): void {
    const insert = this.db.prepare(
      `INSERT INTO clips (id, source_id, start_frame, end_frame, start_time, end_time, fps)
       VALUES (@id, @sourceId, @startFrame, @endFrame, @startTime, @endTime, @fps) ON CONFLICT(id) DO NOTHING`,
    );
    this.db.transaction(() => {
      for (const c of clips) insert.run({ ...c, sourceId });
    })();
  }

  /** Writes a clip's scores and labels and marks `stage` done for it, atomically (a retried job overwrites itself). */
  recordStage(
    clipId: string,
    stage: string,
    result: { scores?: Record<string, number>; labels?: Record<string, string>; detail?: string },
  ): void {
    const score = this.db.prepare(
      'INSERT INTO scores (clip_id, name, value) VALUES (?, ?, ?) ON CONFLICT(clip_id, name) DO UPDATE SET value = excluded.value',
    );
    const label = this.db.prepare(
      'INSERT INTO labels (clip_id, name, value) VALUES (?, ?, ?) ON CONFLICT(clip_id, name) DO UPDATE SET value = excluded.value',
    );
    this.db.transaction(() => {
      for (const [k, v] of Object.entries(result.scores ?? {})) {
        if (!Number.isFinite(v)) throw new CurationStoreError(`${clipId}: score ${k} = ${v} is not a finite number`);
        score.run(clipId, k, v);
      }
      for (const [k, v] of Object.entries(result.labels ?? {})) label.run(clipId, k, v);
      this.markStage(clipId, stage, 'done', result.detail);
    })();
  }

  /** Marks an item's stage (a source or a clip id) with a status: `done`, `skipped` (e.g. "not scored: no weights"). */
  markStage(itemId: string, stage: string, status: 'done' | 'skipped', detail?: string): void {
    this.db
      .prepare(
        `INSERT INTO stages (item_id, stage, status, detail, finished) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(item_id, stage) DO UPDATE SET status = excluded.status, detail = excluded.detail, finished = excluded.finished`,
      )
      .run(itemId, stage, status, detail ?? null, new Date().toISOString());
  }

  /** Whether `stage` finished for the item (re-runs skip it). */
  stageDone(itemId: string, stage: string): boolean {
    return this.db.prepare('SELECT 1 FROM stages WHERE item_id = ? AND stage = ?').get(itemId, stage) !== undefined;
  }

  /** Rejects a clip with a reason (kept in the store, never in a manifest). */
  rejectClip(clipId: string, reason: string): void {
    this.db.prepare(`UPDATE clips SET status = 'rejected', rejected = ? WHERE id = ?`).run(reason, clipId);
  }

  /** Marks a clip scored once every stage has run. */
  markScored(clipId: string): void {
    this.db.prepare(`UPDATE clips SET status = 'scored' WHERE id = ? AND status = 'pending'`).run(clipId);
  }

  clip(id: string): ClipRow | undefined {
    return this.clips({ id })[0];
  }

  /** Clips with their scores and labels, in source and time order. */
  clips(filter: { id?: string; status?: ClipStatus } = {}): ClipRow[] {
    const where: string[] = [];
    if (filter.id !== undefined) where.push('c.id = @id');
    if (filter.status !== undefined) where.push('c.status = @status');
    const rows = this.db
      .prepare(
        `SELECT c.*, s.path FROM clips c JOIN sources s ON s.id = c.source_id
         ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.path, c.start_frame`,
      )
      .all(filter) as Record<string, unknown>[];
    const scores = this.db.prepare('SELECT name, value FROM scores WHERE clip_id = ?');
    const labels = this.db.prepare('SELECT name, value FROM labels WHERE clip_id = ?');
    return rows.map((r) => ({
      id: String(r.id),
      sourceId: String(r.source_id),
      path: String(r.path),
      startFrame: Number(r.start_frame),
      endFrame: Number(r.end_frame),
      startTime: Number(r.start_time),
      endTime: Number(r.end_time),
      fps: Number(r.fps),
      status: r.status as ClipStatus,
      rejected: r.rejected === null ? undefined : String(r.rejected),
      scores: Object.fromEntries((scores.all(r.id) as { name: string; value: number }[]).map((s) => [s.name, s.value])),
      labels: Object.fromEntries((labels.all(r.id) as { name: string; value: string }[]).map((s) => [s.name, s.value])),
    }));
  }

  /** The values of one score over the scored clips, ascending. */
  scoreValues(name: string): number[] {
    return (
      this.db
        .prepare(
          `SELECT v.value FROM scores v JOIN clips c ON c.id = v.clip_id WHERE v.name = ? AND c.status = 'scored' ORDER BY v.value`,
        )
        .all(name) as { value: number }[]
    ).map((r) => r.value);
  }

  /** Every score row (clip id, name, value), for bulk analysis. */
  *scoreRows(): IterableIterator<{ clipId: string; name: string; value: number }> {
    for (const r of this.db.prepare('SELECT clip_id, name, value FROM scores ORDER BY clip_id, name').iterate())
      yield {
        clipId: String((r as Record<string, unknown>).clip_id),
        name: String((r as Record<string, unknown>).name),
        value: Number((r as Record<string, unknown>).value),
      };
  }

  /** Every label row (clip id, name, value), for bulk analysis. */
  *labelRows(): IterableIterator<{ clipId: string; name: string; value: string }> {
    for (const r of this.db.prepare('SELECT clip_id, name, value FROM labels ORDER BY clip_id, name').iterate())
      yield {
        clipId: String((r as Record<string, unknown>).clip_id),
        name: String((r as Record<string, unknown>).name),
        value: String((r as Record<string, unknown>).value),
      };
  }

  /** Names of every score in the store. */
  scoreNames(): string[] {
    return (this.db.prepare('SELECT DISTINCT name FROM scores ORDER BY name').all() as { name: string }[]).map(
      (r) => r.name,
    );
  }

  /** Counts by clip status. */
  counts(): Record<ClipStatus | 'sources', number> {
    const out = { pending: 0, scored: 0, rejected: 0, sources: 0 };
    for (const r of this.db.prepare('SELECT status, COUNT(*) n FROM clips GROUP BY status').all() as {
      status: ClipStatus;
      n: number;
    }[]) {
      out[r.status] = r.n;
    }
    out.sources = (this.db.prepare('SELECT COUNT(*) n FROM sources').get() as { n: number }).n;
    return out;
  }
}

function sourceFromRow(r: Record<string, unknown>): SourceRow {
  const opt = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
  return {
    id: String(r.id),
    path: String(r.path),
    size: Number(r.size),
    mtime: Number(r.mtime),
    duration: opt(r.duration),
    fps: opt(r.fps),
    width: opt(r.width),
    height: opt(r.height),
    rejected: r.rejected === null ? undefined : String(r.rejected),
  };
}
