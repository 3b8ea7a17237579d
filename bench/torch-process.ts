/**
 * The PyTorch baselines' processes (Debian python3-torch, /usr/bin/python3): their environment, why one cannot run,
 * and a line-protocol child (one JSON request per line on stdin, one reply per line on stdout) for the baselines that
 * alternate with our runs (train-unet) or keep a network loaded across cases (unet).
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const PY = '/usr/bin/python3';

/**
 * The environment of a PyTorch baseline process. Debian's OpenBLAS picks its kernel itself (the machine's
 * compatibility overrides slow it down). GNU OpenMP threads busy-wait at every barrier by default: with other work on
 * the machine, a 2-thread PyTorch then ran the tiny golden UNet 15–50× slower than with OMP_WAIT_POLICY=PASSIVE
 * (2026-12, load 5–7 on 2 cores), so the baselines run PASSIVE unless the caller's environment sets a policy.
 */
export function torchEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { OMP_WAIT_POLICY: 'PASSIVE', ...process.env, ...extra };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/** The OpenMP wait policy the baselines run with (for the report). */
export const torchWaitPolicy = (): string => torchEnv().OMP_WAIT_POLICY ?? 'PASSIVE';

/**
 * Why a PyTorch baseline cannot run (a one-line message), or undefined when it can. `reference`: it also imports the
 * reference's sgm package from the checkout named by SVD_REFERENCE_REPO.
 */
export function torchUnavailable(opts: { reference?: boolean } = {}): string | undefined {
  if (opts.reference) {
    const repo = process.env.SVD_REFERENCE_REPO;
    if (!repo) return 'SVD_REFERENCE_REPO is not set (a checkout of Stability-AI/generative-models, e.g. at 059d8e9)';
    if (!existsSync(join(repo, 'sgm/modules/diffusionmodules/video_model.py')))
      return `SVD_REFERENCE_REPO=${repo} has no sgm/modules/diffusionmodules/video_model.py`;
  }
  if (!existsSync(PY)) return `no ${PY}`;
  const probe = spawnSync(PY, ['-c', opts.reference ? 'import torch, numpy, packaging' : 'import torch'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0) return 'PyTorch is not installed (run `bash scripts/setup-bench.sh`)';
  return undefined;
}

/** A baseline process speaking one JSON object per line each way; its first line is a hello. */
export class TorchProcess {
  private readonly pending: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private stderr = '';
  private exited = false;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const p = this.pending.shift();
      if (p) p.resolve(JSON.parse(line));
    });
    child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    child.on('exit', (code) => {
      this.exited = true;
      const tail = this.stderr.trim().split('\n').slice(-3).join(' | ');
      for (const p of this.pending.splice(0)) p.reject(new Error(`the PyTorch process exited (${code}): ${tail}`));
    });
  }

  /** Starts bench/`script` with `args`; resolves with the process and its hello line ({torch, threads}). */
  static async start(
    script: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
  ): Promise<{ proc: TorchProcess; torch: string }> {
    const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
    const child = spawn(PY, [path, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const proc = new TorchProcess(child);
    const hello = (await proc.wait()) as { torch: string; threads: number };
    return { proc, torch: `${hello.torch}, ${hello.threads} threads` };
  }

  private wait(): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error('the PyTorch process has exited'));
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  request<T>(req: Record<string, unknown>): Promise<T> {
    const p = this.wait();
    this.child.stdin.write(`${JSON.stringify(req)}\n`);
    return p as Promise<T>;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise((r) => this.child.once('exit', r));
    this.child.stdin.write(`${JSON.stringify({ cmd: 'quit' })}\n`);
    this.child.stdin.end();
    await done;
  }
}
