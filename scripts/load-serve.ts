/**
 * Load figures for `svd serve --redis` with `svd worker` processes, as deployed, on the tiny golden model:
 *
 *   node --import tsx scripts/load-serve.ts [--jobs 50] [--workers 2] [--max-queue N] [--steps 1] [--frames 4]
 *
 * Starts a throwaway loopback redis-server, `svd serve --redis` and the workers (one thread each), sends `--jobs`
 * submissions at once (the queue bound defaults to the job count, so that every one is accepted and the figures are
 * the system's throughput), follows every job to its end, and prints: what came back (202 / 429 / other), the end
 * states, jobs lost or left queued or running (both must be 0), throughput, the 202's latency and each job's time from
 * submission to done (percentiles), and the peak memory of the server and the workers. Exit 1 when a job was lost,
 * left unfinished or did not end done. test/server/redis-load.test.ts asserts the same load with a bounded queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { percentile, runLoad } from '../test/helpers/load.ts';
import { redisServerMissing, startRedisServer } from '../test/helpers/redis-server.ts';
import { memory, startServeProcess, startWorker, stopProcess } from '../test/helpers/svd-processes.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '50' },
    workers: { type: 'string', default: '2' },
    'max-queue': { type: 'string' },
    steps: { type: 'string', default: '1' },
    frames: { type: 'string', default: '4' },
  },
});
const jobs = Number(values.jobs);
const workerCount = Number(values.workers);
const maxQueue = Number(values['max-queue'] ?? jobs);
const missing = redisServerMissing();
if (missing) {
  console.error(`load-serve: ${missing}`);
  process.exit(1);
}

const ms = (v: number) => `${(v / 1000).toFixed(2)} s`;
const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
const machine = `${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model.trim()}, ${mib(totalmem())}, Node ${process.version}, load average ${loadavg()[0].toFixed(1)} at start`;
const queue = `svd-load-${process.pid}`;
const dataDir = mkdtempSync(join(tmpdir(), 'svd-load-'));
const redis = await startRedisServer();
const started = await Promise.allSettled([
  startServeProcess(['--redis', redis.url, '--queue', queue, '--data', dataDir, '--max-queue', String(maxQueue)]),
  ...Array.from({ length: workerCount }, () => startWorker(redis.url, queue)),
]);
const processes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
let failed = false;
try {
  const broken = started.find((r) => r.status === 'rejected');
  if (broken) throw (broken as PromiseRejectedResult).reason;
  const [server, ...workers] = processes as [Awaited<ReturnType<typeof startServeProcess>>, ...typeof processes];
  const report = await runLoad(server.url, {
    jobs,
    fields: (i) => ({ frames: String(values.frames), steps: String(values.steps), size: 'native', seed: String(i) }),
  });
  const serverMemory = memory(server);
  const workerPeaks = workers.map((w) => memory(w).peak);
  const p = (xs: readonly number[]) =>
    `p50 ${ms(percentile(xs, 50))}, p95 ${ms(percentile(xs, 95))}, max ${ms(percentile(xs, 100))}`;
  console.log(`machine: ${machine}`);
  console.log(
    `load: ${jobs} submissions at once; ${workerCount} workers × 1 thread; queue bound ${maxQueue}; tiny model, ${values.frames} frames, ${values.steps} step(s), 64×64`,
  );
  console.log(
    `came back: ${report.accepted.length} × 202, ${report.refused} × 429${report.otherStatuses.length > 0 ? `, other: ${report.otherStatuses.join(' ')}` : ''}`,
  );
  console.log(
    `ended: ${JSON.stringify(report.states)}; lost: ${report.lost.length}; left queued or running: ${report.unfinished.length}`,
  );
  console.log(
    `throughput: ${report.jobsPerSecond.toFixed(2)} jobs/s (${ms(report.wallMs)} from the first submission to the last end)`,
  );
  console.log(`202 latency: ${p(report.submitLatencyMs)}`);
  console.log(`submission → done: ${p(report.jobLatencyMs)}`);
  console.log(
    `server: peak ${mib(serverMemory.peak)} (now ${mib(serverMemory.rss)}); workers: peak ${workerPeaks.map(mib).join(', ')}`,
  );
  failed =
    report.lost.length > 0 ||
    report.unfinished.length > 0 ||
    report.otherStatuses.length > 0 ||
    (report.states.done ?? 0) !== report.accepted.length;
} finally {
  await Promise.all(processes.map(stopProcess));
  await redis.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
