/**
 * Corpus analytics on an analytical engine (DuckDB, in memory): the store's clips, scores and labels loaded once into
 * column tables, then the corpus statistics (count, mean, quantiles per score), the percentile thresholds of the
 * paper's filtering ablation (drop the bottom x % per criterion, arXiv 2311.15127 App. C: 12.5 / 25 / 50 %), and a
 * Parquet export of the whole corpus, one row per clip with a column per score and label. The SQLite store stays the
 * system of record (transactional, written by the pipeline); DuckDB answers the corpus-wide questions.
 */
import { rename, rm } from 'node:fs/promises';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { CurationStore } from './curation-store.ts';

export interface ScoreStatistics {
  count: number;
  mean: number;
  min: number;
  p10: number;
  p25: number;
  median: number;
  p75: number;
  p90: number;
  max: number;
}

const QUANTILES = [0.1, 0.25, 0.5, 0.75, 0.9] as const;

/** SQL string literal. */
function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** SQL identifier (score and label names become Parquet columns). */
function ident(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

export class CorpusAnalytics {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
  ) {}

  /** Loads the store's clips, scores and labels into an in-memory DuckDB. */
  static async fromStore(store: CurationStore): Promise<CorpusAnalytics> {
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    const a = new CorpusAnalytics(instance, db);
    try {
      await db.run(`CREATE TABLE clips (id VARCHAR PRIMARY KEY, source VARCHAR, start_frame INTEGER, end_frame INTEGER,
        start_time DOUBLE, end_time DOUBLE, fps DOUBLE, status VARCHAR, rejected VARCHAR)`);
      await db.run('CREATE TABLE scores (clip_id VARCHAR, name VARCHAR, value DOUBLE)');
      await db.run('CREATE TABLE labels (clip_id VARCHAR, name VARCHAR, value VARCHAR)');
      const clips = await db.createAppender('clips');
      for (const c of store.clips()) {
        clips.appendVarchar(c.id);
        clips.appendVarchar(c.path);
        clips.appendInteger(c.startFrame);
        clips.appendInteger(c.endFrame);
        clips.appendDouble(c.startTime);
        clips.appendDouble(c.endTime);
        clips.appendDouble(c.fps);
        clips.appendVarchar(c.status);
        if (c.rejected === undefined) clips.appendNull();
        else clips.appendVarchar(c.rejected);
        clips.endRow();
      }
      clips.closeSync();
      const scores = await db.createAppender('scores');
      for (const r of store.scoreRows()) {
        scores.appendVarchar(r.clipId);
        scores.appendVarchar(r.name);
        scores.appendDouble(r.value);
        scores.endRow();
      }
      scores.closeSync();
      const labels = await db.createAppender('labels');
      for (const r of store.labelRows()) {
        labels.appendVarchar(r.clipId);
        labels.appendVarchar(r.name);
        labels.appendVarchar(r.value);
        labels.endRow();
      }
      labels.closeSync();
    } catch (e) {
      a.close();
      throw e;
    }
    return a;
  }

  close(): void {
    this.db.closeSync();
    this.instance.closeSync();
  }

  /** Per score, over the scored clips: count, mean, min, p10, p25, median, p75, p90, max (continuous quantiles). */
  async scoreStatistics(): Promise<Record<string, ScoreStatistics>> {
    const reader = await this.db.runAndReadAll(
      `SELECT v.name, count(*)::INTEGER AS n, avg(v.value) AS mean, min(v.value) AS lo, max(v.value) AS hi,
              quantile_cont(v.value, [${QUANTILES.join(', ')}]) AS q
       FROM scores v JOIN clips c ON c.id = v.clip_id WHERE c.status = 'scored' GROUP BY v.name ORDER BY v.name`,
    );
    const out: Record<string, ScoreStatistics> = {};
    for (const r of reader.getRowObjectsJS()) {
      const q = r.q as number[];
      out[String(r.name)] = {
        count: Number(r.n),
        mean: Number(r.mean),
        min: Number(r.lo),
        p10: q[0],
        p25: q[1],
        median: q[2],
        p75: q[3],
        p90: q[4],
        max: Number(r.hi),
      };
    }
    return out;
  }

  /**
   * Per score, the value below which `percent` % of the scored clips lie: the value at rank ⌊percent/100 · n⌋ of the
   * ascending order (so dropping every clip below it drops ⌊percent/100 · n⌋ clips when scores are distinct);
   * −∞ for a score no clip has, +∞ at 100 %.
   */
  async bottomThresholds(dropBottom: Readonly<Record<string, number>>): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, percent] of Object.entries(dropBottom)) {
      if (!(percent >= 0 && percent <= 100)) throw new RangeError(`a percentile must be in [0, 100], got ${percent}`);
      const reader = await this.db.runAndReadAll(
        `WITH ranked AS (
           SELECT v.value, row_number() OVER (ORDER BY v.value) - 1 AS rank, count(*) OVER () AS n
           FROM scores v JOIN clips c ON c.id = v.clip_id WHERE c.status = 'scored' AND v.name = ${literal(name)})
         SELECT value, n FROM ranked WHERE rank = floor(${percent} / 100 * n)`,
      );
      const rows = reader.getRowObjectsJS();
      if (rows.length > 0) out[name] = Number(rows[0].value);
      else {
        const any = await this.db.runAndReadAll(
          `SELECT count(*)::INTEGER AS n FROM scores v JOIN clips c ON c.id = v.clip_id
           WHERE c.status = 'scored' AND v.name = ${literal(name)}`,
        );
        out[name] = Number(any.getRowObjectsJS()[0].n) === 0 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      }
    }
    return out;
  }

  /** The score and label names present, sorted. */
  async names(): Promise<{ scores: string[]; labels: string[] }> {
    const get = async (table: string) =>
      (await this.db.runAndReadAll(`SELECT DISTINCT name FROM ${table} ORDER BY name`))
        .getRowObjectsJS()
        .map((r) => String(r.name));
    return { scores: await get('scores'), labels: await get('labels') };
  }

  /**
   * Writes the corpus as Parquet (zstd): one row per clip — id, source, start/end frame and seconds, fps, status,
   * rejection — and one DOUBLE column per score and one VARCHAR column per label (null where a clip has none).
   * Written to a temporary name and renamed, so a failed export leaves no partial file.
   */
  async exportParquet(path: string): Promise<{ rows: number; columns: string[] }> {
    const { scores, labels } = await this.names();
    const cols = [
      ...scores.map(
        (n) => `(SELECT value FROM scores s WHERE s.clip_id = c.id AND s.name = ${literal(n)}) AS ${ident(n)}`,
      ),
      ...labels.map(
        (n) => `(SELECT value FROM labels l WHERE l.clip_id = c.id AND l.name = ${literal(n)}) AS ${ident(n)}`,
      ),
    ];
    const select = `SELECT c.*${cols.length > 0 ? `, ${cols.join(', ')}` : ''} FROM clips c ORDER BY c.source, c.start_frame`;
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      await this.db.run(`COPY (${select}) TO ${literal(tmp)} (FORMAT PARQUET, COMPRESSION ZSTD)`);
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    const n = await this.db.runAndReadAll('SELECT count(*)::INTEGER AS n FROM clips');
    return {
      rows: Number(n.getRowObjectsJS()[0].n),
      columns: [
        'id',
        'source',
        'start_frame',
        'end_frame',
        'start_time',
        'end_time',
        'fps',
        'status',
        'rejected',
        ...scores,
        ...labels,
      ],
    };
  }
}
