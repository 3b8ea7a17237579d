/**
 * `svd serve` and `svd worker` as child processes on the tiny golden model, as they run in a deployment: a worker
 * reports the jobs it starts (parsed from its output); a server reports its URL once it listens. `stop` ends each
 * with SIGTERM and waits for it; `memory` reads a process's resident set from /proc (Linux).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TINY_DIR } from './server.ts';

export const SVD_BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
export const TINY_MODEL_ARGS = [
  '--checkpoint',
  `${TINY_DIR}checkpoint.safetensors`,
  '--config',
  `${TINY_DIR}config.json`,
] as const;

export interface SvdProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

export interface WorkerProcess extends SvdProcess {
  /** Job ids this worker started, in order. */
  readonly started: string[];
}

export interface ServeProcess extends SvdProcess {
  readonly url: string;
}

function spawnSvd(args: readonly string[]): { child: ChildProcess; exited: Promise<void>; stderr: () => string } {
  const child = spawn(process.execPath, [SVD_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  return { child, exited, stderr: () => err };
}

/** `svd worker --redis URL --queue NAME` on the tiny model (one thread by default); resolves once it is ready. */
export function startWorker(redisUrl: string, queue: string, extra: readonly string[] = []): Promise<WorkerProcess> {
  const { child, exited, stderr } = spawnSvd([
    'worker',
    ...['--redis', redisUrl, '--queue', queue, '--threads', '1'],
    ...TINY_MODEL_ARGS,
    ...extra,
  ]);
  const w: WorkerProcess = { child, exited, started: [] };
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d;
      for (const m of out.matchAll(/^started (v[0-9a-f]{24})/gm)) if (!w.started.includes(m[1])) w.started.push(m[1]);
      if (out.includes('ready on queue')) resolve(w);
    });
    child.once('exit', (code) => reject(new Error(`svd worker exited (${code}): ${stderr()}`)));
  });
}

/** `svd serve --port 0` on the tiny model with `extra` flags; resolves with its URL once it listens. */
export function startServeProcess(extra: readonly string[]): Promise<ServeProcess> {
  const { child, exited, stderr } = spawnSvd(['serve', ...TINY_MODEL_ARGS, '--port', '0', ...extra]);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, exited, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`svd serve exited (${code}): ${stderr()}`)));
  });
}

/** SIGTERM, then wait for the exit (nothing when it has already ended). */
export async function stopProcess(p: SvdProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) {
    p.child.kill('SIGTERM');
    await p.exited;
  }
}

/** A live process's resident set and its peak so far, in bytes (from /proc/PID/status). */
export function memory(p: SvdProcess): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${p.child.pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 };
}
