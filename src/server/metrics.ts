/** Prometheus text exposition (format 0.0.4) of the server's counters: queue depth, job durations, failures. */
import type { JobState } from './store.ts';

const BUCKETS = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export class Metrics {
  private readonly finished = new Map<string, number>();
  private readonly requests = new Map<string, number>();
  private readonly rejected = new Map<string, number>();
  private readonly durations = new Array<number>(BUCKETS.length + 1).fill(0);
  private durationSum = 0;
  private durationCount = 0;
  private submitted = 0;

  jobSubmitted(): void {
    this.submitted++;
  }

  jobFinished(state: JobState, seconds?: number): void {
    this.finished.set(state, (this.finished.get(state) ?? 0) + 1);
    if (state === 'done' && seconds !== undefined) {
      let k = BUCKETS.findIndex((b) => seconds <= b);
      if (k < 0) k = BUCKETS.length;
      this.durations[k]++;
      this.durationSum += seconds;
      this.durationCount++;
    }
  }

  /** Mean duration of finished jobs (s), or undefined before the first. */
  meanJobSeconds(): number | undefined {
    return this.durationCount > 0 ? this.durationSum / this.durationCount : undefined;
  }

  request(status: number): void {
    const k = String(status);
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  submissionRejected(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  render(states: Record<JobState, number>): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    metric('svd_queue_depth', 'gauge', 'Jobs waiting to run.');
    lines.push(`svd_queue_depth ${states.queued}`);
    metric('svd_jobs_running', 'gauge', 'Jobs running.');
    lines.push(`svd_jobs_running ${states.running}`);
    metric('svd_jobs', 'gauge', 'Jobs in the store by state.');
    for (const [s, n] of Object.entries(states)) lines.push(`svd_jobs{state="${s}"} ${n}`);
    metric('svd_jobs_submitted_total', 'counter', 'Jobs accepted since the server started.');
    lines.push(`svd_jobs_submitted_total ${this.submitted}`);
    metric('svd_jobs_finished_total', 'counter', 'Jobs finished since the server started, by outcome.');
    for (const s of ['done', 'failed', 'cancelled'])
      lines.push(`svd_jobs_finished_total{state="${s}"} ${this.finished.get(s) ?? 0}`);
    metric('svd_job_failures_total', 'counter', 'Jobs that failed since the server started.');
    lines.push(`svd_job_failures_total ${this.finished.get('failed') ?? 0}`);
    metric('svd_submissions_rejected_total', 'counter', 'Submissions refused, by reason.');
    for (const [r, n] of this.rejected) lines.push(`svd_submissions_rejected_total{reason="${r}"} ${n}`);
    metric('svd_job_duration_seconds', 'histogram', 'Run time of completed jobs (start to done).');
    let cumulative = 0;
    BUCKETS.forEach((b, i) => {
      cumulative += this.durations[i];
      lines.push(`svd_job_duration_seconds_bucket{le="${b}"} ${cumulative}`);
    });
    cumulative += this.durations[BUCKETS.length];
    lines.push(`svd_job_duration_seconds_bucket{le="+Inf"} ${cumulative}`);
    lines.push(
      `svd_job_duration_seconds_sum ${this.durationSum}`,
      `svd_job_duration_seconds_count ${this.durationCount}`,
    );
    metric('svd_http_requests_total', 'counter', 'HTTP responses by status code.');
    for (const [c, n] of [...this.requests].sort()) lines.push(`svd_http_requests_total{code="${c}"} ${n}`);
    return `${lines.join('\n')}\n`;
  }
}
