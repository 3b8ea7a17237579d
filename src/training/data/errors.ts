/**
 * Errors of the training-data sources and the latent cache. Messages are one line and name the file (and the line of
 * a manifest), so a run can stop with `error.message` alone and the user knows what to fix.
 */
import { oneLine } from '../../video/errors.ts';

/** Why a source could not be listed. */
export type DataSourceProblem = 'missing' | 'unreadable' | 'bad-line' | 'duplicate-id';

/** A folder or manifest cannot be listed: missing, unreadable, or a manifest line that breaks the schema. */
export class DataSourceError extends Error {
  override name = 'DataSourceError';
  readonly problem: DataSourceProblem;
  /** The folder or manifest path. */
  readonly source: string;
  /** 1-based manifest line, when the problem is on one. */
  readonly line?: number;

  constructor(problem: DataSourceProblem, source: string, message: string, line?: number) {
    super(oneLine(message));
    this.problem = problem;
    this.source = source;
    if (line !== undefined) this.line = line;
  }
}

/** Why the latent cache refused an operation. */
export type LatentCacheProblem = 'corrupt' | 'bad-entry' | 'io';

/** The latent cache found a damaged shard or entry, was handed a malformed entry, or could not write. */
export class LatentCacheError extends Error {
  override name = 'LatentCacheError';
  readonly problem: LatentCacheProblem;
  /** The file concerned (a shard or the index). */
  readonly file: string;

  constructor(problem: LatentCacheProblem, file: string, message: string, options?: { cause?: unknown }) {
    super(oneLine(message), options);
    this.problem = problem;
    this.file = file;
  }
}
