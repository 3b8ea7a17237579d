/**
 * A training run's folder: `config.json` (the resolved config), `log.jsonl` (one record per step, validation and
 * skipped sample), `loss.png`, `ckpt/step-<n>.{safetensors,json}` with `ckpt/latest.json` naming the last complete
 * checkpoint, and the exported weights. Every file is written under a temporary name and renamed, and `latest.json`
 * is written last, so a crash, `kill -9` or a full disk leaves the last good checkpoint intact and resumable.
 */
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class RunFolderError extends Error {
  override name = 'RunFolderError';
}

/** What `ckpt/latest.json` records besides the trainer state. */
export interface CheckpointRecord {
  step: number;
  /** The trainer state file base (without `.safetensors` / `.json`), relative to the run folder. */
  state: string;
  /** The data order's position after the step, and the samples consumed so far (per-sample random draws). */
  data: unknown;
  samplesConsumed: number;
  time: string;
}

/** The system error code behind `err`: its own, or that of an error it wraps (a safetensors write error). */
function errnoCode(err: unknown): string | undefined {
  for (let e = err as NodeJS.ErrnoException | undefined, depth = 0; e && depth < 8; depth++) {
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code;
    e = e.cause as NodeJS.ErrnoException | undefined;
  }
  return undefined;
}

function describe(err: unknown): string {
  const code = errnoCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'no space left on the device';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'not writable';
  const message = (err as Error)?.message ?? String(err);
  return message.split('\n')[0];
}

export class RunFolder {
  private constructor(readonly dir: string) {}

  /** A new run folder (refuses one that already holds a run: resume it or choose another). */
  static async create(dir: string, config: unknown): Promise<RunFolder> {
    const existing = await readdir(dir).catch(() => undefined);
    if (existing?.includes('config.json')) {
      throw new RunFolderError(`${dir} already holds a run (resume it with --resume, or choose another --run folder)`);
    }
    const run = new RunFolder(dir);
    await run.guard(dir, async () => {
      await mkdir(join(dir, 'ckpt'), { recursive: true });
    });
    await run.writeAtomic('config.json', `${JSON.stringify(config, null, 2)}\n`);
    return run;
  }

  /** An existing run folder and its config. */
  static async open(dir: string): Promise<{ run: RunFolder; config: unknown }> {
    let text: string;
    try {
      text = await readFile(join(dir, 'config.json'), 'utf8');
    } catch {
      throw new RunFolderError(`${dir} is not a run folder (no config.json)`);
    }
    return { run: new RunFolder(dir), config: JSON.parse(text) };
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Runs a filesystem step; a failure is one line naming the folder and the reason. */
  async guard<R>(what: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof RunFolderError) throw err;
      const last = await this.latest().catch(() => undefined);
      const keep = last ? `; the last good checkpoint (step ${last.step}) is intact` : '';
      throw new RunFolderError(`cannot write ${what}: ${describe(err)}${keep}`, { cause: err });
    }
  }

  /** Writes `name` under a temporary name, then renames it. */
  async writeAtomic(name: string, data: string | Uint8Array): Promise<void> {
    const target = this.path(name);
    const tmp = `${target}.tmp-${process.pid}`;
    await this.guard(target, async () => {
      try {
        await writeFile(tmp, data);
        await rename(tmp, target);
      } catch (e) {
        await rm(tmp, { force: true }).catch(() => {});
        throw e;
      }
    });
  }

  /** Runs `write(tmpPath)` and renames the result to `name` (for writers that take a path). */
  async writeVia(name: string, write: (tmpPath: string) => Promise<void>): Promise<void> {
    const target = this.path(name);
    const tmp = `${target}.tmp-${process.pid}`;
    await this.guard(target, async () => {
      try {
        await write(tmp);
        await rename(tmp, target);
      } catch (e) {
        await rm(tmp, { recursive: true, force: true }).catch(() => {});
        throw e;
      }
    });
  }

  async appendLog(record: object): Promise<void> {
    await this.guard(this.path('log.jsonl'), () => appendFile(this.path('log.jsonl'), `${JSON.stringify(record)}\n`));
  }

  async readLog(): Promise<Record<string, unknown>[]> {
    const text = await readFile(this.path('log.jsonl'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return []; // a line cut by kill -9
        }
      });
  }

  /** Drops log records of steps after `step` (a resumed run writes them again). */
  async truncateLog(step: number): Promise<void> {
    const kept = (await this.readLog()).filter((r) => typeof r.step !== 'number' || (r.step as number) <= step);
    await this.writeAtomic('log.jsonl', kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  /** The trainer state base name of step `n`. */
  stateName(step: number): string {
    return `ckpt/step-${String(step).padStart(7, '0')}`;
  }

  /**
   * Removes the files of a checkpoint that did not complete (`state` and its temporary names), so that a failed
   * write leaves nothing half-written; never the checkpoint `latest.json` names.
   */
  async discard(state: string): Promise<void> {
    if ((await this.latest().catch(() => undefined))?.state === state) return;
    for (const ext of ['.safetensors', '.json']) {
      for (const name of [`${state}${ext}`, `${state}${ext}.tmp-${process.pid}`]) {
        await rm(this.path(name), { recursive: true, force: true }).catch(() => {});
      }
    }
  }

  async latest(): Promise<CheckpointRecord | undefined> {
    const text = await readFile(this.path('ckpt/latest.json'), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as CheckpointRecord);
  }

  async setLatest(record: CheckpointRecord): Promise<void> {
    await this.writeAtomic('ckpt/latest.json', `${JSON.stringify(record, null, 2)}\n`);
  }

  /** Keeps the newest `keep` checkpoints (never the one latest.json names); removes the others. */
  async retain(keep: number): Promise<void> {
    const latest = await this.latest();
    const names = (await readdir(this.path('ckpt')))
      .map((f) => /^(step-\d+)\.json$/.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .sort();
    const drop = names.slice(0, Math.max(0, names.length - keep)).filter((n) => `ckpt/${n}` !== latest?.state);
    for (const n of drop) {
      await rm(this.path(`ckpt/${n}.json`), { force: true });
      await rm(this.path(`ckpt/${n}.safetensors`), { force: true });
    }
  }

  async exists(name: string): Promise<boolean> {
    return stat(this.path(name)).then(
      () => true,
      () => false,
    );
  }
}
