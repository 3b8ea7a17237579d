/**
 * The server's job store: one SQLite file (better-sqlite3, WAL) under `--data`, so jobs and results survive a restart.
 * A row per job: its state, the request fields as validated (the image is a file under `uploads/`, named by the id),
 * the parameters resolved against the model, progress, the result (videos under `videos/`) or the error. Rows are
 * ordered by `seq` (insertion order), which is also the paging cursor of `GET /v1/videos`.
 */
import Database from 'better-sqlite3';
import type { ExecutedVideo } from './execute.ts';

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export const TERMINAL_STATES: readonly JobState[] = ['done', 'failed', 'cancelled'];

export interface JobImage {
  readonly type: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  /** The file under the data folder: `uploads/<id>.<ext>`. */
  readonly file: string;
}

export interface JobProgress {
  readonly stage?: string;
  readonly video?: number;
  readonly videos?: number;
  readonly step?: number;
  readonly steps?: number;
  /** 0–1 over the whole job. */
  readonly fraction: number;
}

/** A finished video as the store keeps it: `file` and `sidecar` under the data folder (`videos/<id>.mp4`, several
 * videos: `videos/<id>_00.mp4`, …), and its size. */
export interface JobVideo extends ExecutedVideo {
  readonly bytes: number;
}

export interface JobResult {
  readonly videos: readonly JobVideo[];
  readonly timingsMs: Readonly<Record<string, number>>;
}

export interface JobRecord {
  readonly seq: number;
  readonly id: string;
  readonly state: JobState;
  readonly createdAt: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /** The request fields, canonical names, as stored for the run (a drawn seed is stored as the number drawn). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** The parameters the job runs with (the model's defaults filled in). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly image: JobImage;
  readonly progress: JobProgress;
  readonly result?: JobResult;
  readonly error?: string;
  /** Runs started (a run interrupted by a restart or a lost worker counts). */
  readonly attempts: number;
}

interface Row {
  seq: number;
  id: string;
  state: JobState;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  fields: string;
  params: string;
  image: string;
  progress: string;
  result: string | null;
  error: string | null;
  attempts: number;
}

function fromRow(r: Row): JobRecord {
  return {
    seq: r.seq,
    id: r.id,
    state: r.state,
    createdAt: r.created_at,
    ...(r.started_at !== null ? { startedAt: r.started_at } : {}),
    ...(r.finished_at !== null ? { finishedAt: r.finished_at } : {}),
    fields: JSON.parse(r.fields),
    params: JSON.parse(r.params),
    image: JSON.parse(r.image),
    progress: JSON.parse(r.progress),
    ...(r.result !== null ? { result: JSON.parse(r.result) } : {}),
    ...(r.error !== null ? { error: r.error } : {}),
    attempts: r.attempts,
  };
}

export interface JobPatch {
  state?: JobState;
  startedAt?: number;
  finishedAt?: number;
  progress?: JobProgress;
  result?: JobResult;
  error?: string;
  attempts?: number;
}

export class JobStore {
  private readonly db: Database.Database;

  constructor(readonly path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS jobs (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      state TEXT NOT NULL,
      created_at REAL NOT NULL,
      started_at REAL,
      finished_at REAL,
      fields TEXT NOT NULL,
      params TEXT NOT NULL,
      image TEXT NOT NULL,
      progress TEXT NOT NULL,
      result TEXT,
      error TEXT,
      attempts INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);`);
  }

  insert(job: Omit<JobRecord, 'seq'>): JobRecord {
    this.db
      .prepare(
        `INSERT INTO jobs (id, state, created_at, fields, params, image, progress, attempts)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        job.id,
        job.state,
        job.createdAt,
        JSON.stringify(job.fields),
        JSON.stringify(job.params),
        JSON.stringify(job.image),
        JSON.stringify(job.progress),
        job.attempts,
      );
    return this.get(job.id)!;
  }

  get(id: string): JobRecord | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  update(id: string, patch: JobPatch): JobRecord | undefined {
    const sets: string[] = [];
    const values: unknown[] = [];
    const put = (col: string, v: unknown) => {
      sets.push(`${col} = ?`);
      values.push(v);
    };
    if (patch.state !== undefined) put('state', patch.state);
    if (patch.startedAt !== undefined) put('started_at', patch.startedAt);
    if (patch.finishedAt !== undefined) put('finished_at', patch.finishedAt);
    if (patch.progress !== undefined) put('progress', JSON.stringify(patch.progress));
    if (patch.result !== undefined) put('result', JSON.stringify(patch.result));
    if (patch.error !== undefined) put('error', patch.error);
    if (patch.attempts !== undefined) put('attempts', patch.attempts);
    if (sets.length > 0) this.db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    return this.get(id);
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id).changes > 0;
  }

  /** Newest first; `before` is the `seq` cursor of the previous page's last job. */
  list(opts: { limit: number; before?: number; state?: JobState }): JobRecord[] {
    const where: string[] = [];
    const values: unknown[] = [];
    if (opts.before !== undefined) {
      where.push('seq < ?');
      values.push(opts.before);
    }
    if (opts.state !== undefined) {
      where.push('state = ?');
      values.push(opts.state);
    }
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...values, opts.limit) as Row[]).map(fromRow);
  }

  /** Jobs not finished (queued or running), oldest first. */
  unfinished(): JobRecord[] {
    return (this.db.prepare("SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY seq").all() as Row[]).map(
      fromRow,
    );
  }

  counts(): Record<JobState, number> {
    const out: Record<JobState, number> = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
    for (const r of this.db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as {
      state: JobState;
      n: number;
    }[])
      out[r.state] = r.n;
    return out;
  }

  close(): void {
    this.db.close();
  }
}
