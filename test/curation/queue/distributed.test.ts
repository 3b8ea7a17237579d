/**
 * `svd curate --redis` on a real Redis (a redis-server of the test's own, on a loopback port): the coordinator in this
 * process, two `svd curate worker` processes, one of them killed with SIGKILL while it holds score jobs. Every job is
 * completed exactly once, every clip's result is applied to the store exactly once, nothing is left pending or
 * queued, and the store holds what a local `curate()` run on the same inputs makes. Then: a CLI re-run queues nothing,
 * and an unreachable Redis is a one-line error within seconds, for the coordinator and the worker alike.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { type CurateDistributedEvent, curateDistributed } from '../../../src/curation/queue/coordinator.ts';
import { cutJobId, scoreJobId, workQueueName } from '../../../src/curation/queue/jobs.ts';
import { curate } from '../../../src/curation/run/curate.ts';
import { finishedClipStages } from '../../../src/curation/run/stages.ts';
import { CurationStore } from '../../../src/curation/store/curation-store.ts';
import { freePort, type RedisServer, redisServerMissing, startRedisServer } from '../../helpers/redis-server.ts';
import { PHOTO, ROOT, runFfmpeg } from '../cuts/media.ts';

const BIN = join(ROOT, 'bin/svd.mjs');
const Q = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'];
const ENC = ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '16', '-pix_fmt', 'yuv420p'];

/**
 * The corpus: three 2.5 s shots with hard cuts between them (testsrc2 | the test photo panned | mandelbrot, 128×96,
 * 8 fps), a 2 s pan and a 2 s still of the photo (64×64), and a file that is no video — 5 clips and a rejection.
 */
async function makeCorpus(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const n = ',format=yuv420p,setsar=1,settb=1/8';
  await runFfmpeg([
    ...Q,
    ...['-loop', '1', '-framerate', '8', '-i', PHOTO, '-filter_complex'],
    [
      `testsrc2=s=128x96:r=8,trim=end_frame=20${n}[a]`,
      `[0:v]scale=384:384,crop=128:96:'40+4*n':100,trim=end_frame=20${n}[b]`,
      `mandelbrot=s=128x96:r=8,trim=end_frame=20${n}[c]`,
      '[a][b][c]concat=n=3:v=1:a=0[v]',
    ].join(';'),
    ...['-map', '[v]', '-frames:v', '60', ...ENC, join(dir, 'shots.mp4')],
  ]);
  const tile = 'scale=64:64,split=3[a][b][c];[a][b][c]hstack=3,split=3[r1][r2][r3];[r1][r2][r3]vstack=3';
  for (const [name, vf] of [
    ['pan', `${tile},crop=64:64:'64-n*2':64`],
    ['still', 'scale=64:64'],
  ]) {
    await runFfmpeg([
      ...Q,
      ...['-loop', '1', '-framerate', '8', '-i', PHOTO, '-vf', `${vf},format=yuv420p`],
      ...['-frames:v', '16', ...ENC, join(dir, `${name}.mp4`)],
    ]);
  }
  writeFileSync(join(dir, 'broken.mp4'), 'not a video at all');
}

interface WorkerProcess {
  child: ChildProcess;
  log: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(re: RegExp, ms: number): Promise<RegExpExecArray>;
}

/** `svd curate worker` as a real child process; its stderr is collected. */
function startWorker(args: string[], env: Record<string, string> = {}): WorkerProcess {
  const child = spawn(process.execPath, [BIN, 'curate', 'worker', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  const w: WorkerProcess = {
    child,
    log: '',
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    waitFor: (re, ms) =>
      new Promise((resolve, reject) => {
        const m = re.exec(w.log);
        if (m) return resolve(m);
        const t = setTimeout(
          () => reject(new Error(`no ${re} from the worker within ${ms} ms; its log:\n${w.log}`)),
          ms,
        );
        waiters.push({
          re,
          resolve: (found) => {
            clearTimeout(t);
            resolve(found);
          },
        });
      }),
  };
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    w.log += d;
    for (let i = waiters.length - 1; i >= 0; i--) {
      const m = waiters[i].re.exec(w.log);
      if (m) {
        waiters[i].resolve(m);
        waiters.splice(i, 1);
      }
    }
  });
  return w;
}

/** Job ids in `job <what> <id>` lines of a worker log. */
function jobLines(log: string, what: 'started' | 'done'): string[] {
  return [...log.matchAll(new RegExp(`job ${what} (\\S+)`, 'g'))].map((m) => m[1]);
}

function count<T>(xs: readonly T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

describe('curate over Redis (BullMQ)', { skip: redisServerMissing() }, () => {
  let redis: RedisServer;
  let dir: string;
  let videos: string;
  const workers: WorkerProcess[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'svd-curate-queue-'));
    videos = join(dir, 'videos');
    [redis] = await Promise.all([startRedisServer(), makeCorpus(videos)]);
  });
  after(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('two workers, one SIGKILLed mid-job: every job done once, every clip scored once, as a local run', async () => {
    // The reference: a local run on the same inputs.
    const local = CurationStore.open(join(dir, 'local.db'));
    await curate({ inputs: [videos], store: local });

    // Worker A holds each score job 30 s before computing it, so it is surely mid-job when killed; short locks so
    // that its jobs are found stalled and handed to B within a few seconds.
    const locks = ['--lock-duration', '3', '--stalled-interval', '1'];
    const a = startWorker(['--redis', redis.url, '--concurrency', '2', ...locks], {
      SVD_CURATE_WORKER_HOLD_MS: '30000',
    });
    const b = startWorker(['--redis', redis.url, ...locks]);
    workers.push(a, b);
    await Promise.all([a.waitFor(/ready/, 60_000), b.waitFor(/ready/, 60_000)]);

    let killed: string | undefined;
    const aKilled = a.waitFor(/job started (score\.\S+)/, 60_000).then((m) => {
      killed = m[1];
      a.child.kill('SIGKILL');
    });
    aKilled.catch(() => {}); // checked below

    const store = CurationStore.open(join(dir, 'queue.db'));
    const events: CurateDistributedEvent[] = [];
    const r = await curateDistributed({ inputs: [videos], store, redisUrl: redis.url, onEvent: (e) => events.push(e) });
    await aKilled;
    assert.equal((await a.exited).signal, 'SIGKILL');
    assert.ok(killed, 'worker A started a score job');

    // The coordinator can see the last completion in Redis before B's log line about it has come through the pipe, so
    // wait (bounded) for B's log to name every job first.
    const clips = store.clips();
    const sources = store.sources();
    const expected = [...sources.map((s) => cutJobId(s.id)), ...clips.map((c) => scoreJobId(c.id))];
    const logged = () => new Set([...jobLines(a.log, 'done'), ...jobLines(b.log, 'done')]);
    for (let waited = 0; waited < 30_000 && !expected.every((id) => logged().has(id)); waited += 100) await sleep(100);

    // The killed job: started by A, never completed by A, completed once by B.
    assert.ok(!jobLines(a.log, 'done').includes(killed), `A completed ${killed} before it was killed:\n${a.log}`);
    assert.equal(jobLines(b.log, 'done').filter((id) => id === killed).length, 1, b.log);

    // Every job completed exactly once over both workers (a completion is a 'completed' event, after BullMQ moved the
    // job to completed under its lock), and the jobs are exactly the sources' cuts and the clips' scores.
    const done = count([...jobLines(a.log, 'done'), ...jobLines(b.log, 'done')]);
    for (const [id, n] of done) assert.equal(n, 1, `${id} completed ${n} times`);
    assert.deepEqual([...done.keys()].sort(), [...expected].sort());

    // Every clip's result applied exactly once; nothing failed, pending or left in the queues.
    const applied = count(events.flatMap((e) => (e.type === 'clip' ? [e.id] : [])));
    assert.deepEqual([...applied.keys()].sort(), clips.map((c) => c.id).sort());
    for (const [id, n] of applied) assert.equal(n, 1, `${id} applied ${n} times`);
    assert.deepEqual(
      { applied: r.applied, duplicates: r.duplicates, failed: r.failed, clips: r.clips, rejected: r.rejected },
      { applied: 5, duplicates: 0, failed: 0, clips: 5, rejected: 1 },
    );
    assert.equal(store.counts().pending, 0);
    const queue = new Queue(workQueueName(), { connection: { url: redis.url } });
    const counts = await queue.getJobCounts();
    await queue.close();
    for (const [state, n] of Object.entries(counts)) assert.equal(n, 0, `${n} jobs ${state} in the work queue`);

    // The same store as the local run: sources, clips, statuses, scores and labels.
    const strip = (s: CurationStore) => ({
      sources: s.sources(),
      clips: s.clips(),
      stages: s.clips().map((c) => [c.id, [...finishedClipStages(s, c.id)].sort()]),
    });
    assert.deepEqual(strip(store), strip(local));
    assert.equal(clips.length, 5);
    for (const c of clips) {
      assert.equal(c.status, 'scored');
      assert.ok(Number.isFinite(c.scores.motion_score) && c.scores.motion_bucket !== undefined, c.id);
    }
    store.close();
    local.close();

    // B drains on SIGTERM and exits 0.
    b.child.kill('SIGTERM');
    assert.equal((await b.exited).code, 0, b.log);
    assert.match(b.log, /stopped/);
  });

  test('the CLI coordinator: a re-run on the same store queues nothing', () => {
    const r = spawnSync(
      process.execPath,
      [BIN, 'curate', videos, '--db', join(dir, 'queue.db'), '--redis', redis.url],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /queued 0 sources/);
    assert.match(r.stderr, /4 sources, 5 clips scored/);
  });

  test('an unreachable Redis: one line, within seconds, for the coordinator and the worker', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    for (const args of [
      ['curate', videos, '--db', join(dir, 'unreached.db'), '--redis', url],
      ['curate', 'worker', '--redis', url],
    ]) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr.trim(), new RegExp(`^svd curate( worker)?: cannot reach Redis at ${url}: .+$`));
      assert.ok(performance.now() - t0 < 15_000);
    }
  });
});
