/**
 * A load run against a server: `jobs` submissions of the tiny image sent at once, then every accepted job followed to
 * its end; the report counts what came back (202, 429 with Retry-After, anything else), checks that every accepted job
 * is listed by the server and ended (none lost, none left queued or running), and gives the figures: the 202's latency,
 * each job's time from submission to its end (the server's own createdAt → finishedAt), and the throughput.
 */
import { multipart } from './server.ts';

export interface LoadOptions {
  readonly jobs: number;
  /** The fields of submission i (default: 4 frames, 1 step, native size, seed i). */
  readonly fields?: (i: number) => Record<string, string>;
  /** How long to wait for the accepted jobs to end (default 5 minutes). */
  readonly timeoutMs?: number;
  readonly headers?: Record<string, string>;
}

export interface LoadReport {
  readonly submitted: number;
  readonly accepted: string[];
  readonly refused: number;
  /** 429s without a numeric Retry-After. */
  readonly refusedWithoutRetryAfter: number;
  /** Statuses other than 202 and 429. */
  readonly otherStatuses: number[];
  /** End states of the accepted jobs, counted. */
  readonly states: Record<string, number>;
  /** Accepted jobs the server does not list. */
  readonly lost: string[];
  /** Jobs the server lists as queued or running after the run. */
  readonly unfinished: string[];
  /** Milliseconds. */
  readonly submitLatencyMs: readonly number[];
  readonly jobLatencyMs: readonly number[];
  /** From the first submission to the last job's end. */
  readonly wallMs: number;
  readonly jobsPerSecond: number;
}

interface JobView {
  id: string;
  state: string;
  createdAt: string;
  finishedAt?: string;
}

/** The p-th percentile (0–100, nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function listAll(url: string, headers: Record<string, string>): Promise<JobView[]> {
  const out: JobView[] = [];
  let cursor: string | undefined;
  do {
    const res = await fetch(`${url}/v1/videos?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { headers });
    const page = (await res.json()) as { videos: JobView[]; next?: string };
    out.push(...page.videos);
    cursor = page.next;
  } while (cursor);
  return out;
}

export async function runLoad(url: string, opts: LoadOptions): Promise<LoadReport> {
  const headers = opts.headers ?? {};
  const fields = opts.fields ?? ((i: number) => ({ frames: '4', steps: '1', size: 'native', seed: String(i) }));
  const t0 = Date.now();
  const results = await Promise.all(
    Array.from({ length: opts.jobs }, async (_, i) => {
      const s = performance.now();
      const res = await fetch(`${url}/v1/videos`, { method: 'POST', body: multipart(fields(i)), headers });
      const body = (await res.json()) as { id?: string };
      return {
        status: res.status,
        id: body.id,
        retryAfter: res.headers.get('retry-after'),
        ms: performance.now() - s,
      };
    }),
  );
  const accepted = results.filter((r) => r.status === 202).map((r) => r.id as string);
  const refused = results.filter((r) => r.status === 429);
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  let jobs = await listAll(url, headers);
  const ended = (j: JobView) => !['queued', 'running'].includes(j.state);
  const mine = () => jobs.filter((j) => accepted.includes(j.id));
  while (!mine().every(ended) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    jobs = await listAll(url, headers);
  }
  const listed = new Set(jobs.map((j) => j.id));
  const states: Record<string, number> = {};
  for (const j of mine()) states[j.state] = (states[j.state] ?? 0) + 1;
  const finished = mine().filter((j) => j.finishedAt !== undefined);
  const lastEnd = Math.max(t0, ...finished.map((j) => Date.parse(j.finishedAt as string)));
  const wallMs = lastEnd - t0;
  return {
    submitted: opts.jobs,
    accepted,
    refused: refused.length,
    refusedWithoutRetryAfter: refused.filter((r) => !/^\d+$/.test(r.retryAfter ?? '')).length,
    otherStatuses: results.filter((r) => r.status !== 202 && r.status !== 429).map((r) => r.status),
    states,
    lost: accepted.filter((id) => !listed.has(id)),
    unfinished: jobs.filter((j) => !ended(j)).map((j) => j.id),
    submitLatencyMs: results.map((r) => r.ms),
    jobLatencyMs: finished.map((j) => Date.parse(j.finishedAt as string) - Date.parse(j.createdAt)),
    wallMs,
    jobsPerSecond: wallMs > 0 ? (states.done ?? 0) / (wallMs / 1000) : 0,
  };
}
