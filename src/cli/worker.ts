/**
 * `svd worker --redis URL [--checkpoint PATH [--config JSON | --preset NAME]]`: runs the generation jobs of an
 * `svd serve --redis URL` server, on any machine that reaches the Redis server (no shared disk: the image comes in
 * the job, the video goes back in its result). It must load the same model as the server (the server validates
 * requests against its own config); without --checkpoint, the shipped svd-mini and its camera-motion LoRAs. Runs until
 * SIGINT / SIGTERM, then lets its running job finish.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runGenerateWorker } from '../server/redis-worker.ts';
import { ServedModelError, servedModel } from '../server/served-model.ts';
import { CliError, usageError } from './errors.ts';

export const WORKER_USAGE = `usage: svd worker --redis URL [--checkpoint PATH [--config JSON | --preset NAME]] [options]

  --redis URL          the Redis of the svd serve --redis server (redis://HOST:PORT)
  --checkpoint PATH    the model (the same as the server's; default: the shipped svd-mini, when present)
  --config JSON | --preset NAME
  --queue NAME         queue name (default svd-generate; the server's --queue)
  --provider cpu|webgpu|cuda  --threads N
  --lock-duration S    seconds a job's lock lasts without renewal (default 30): a killed worker's job is run again
  --stalled-interval S how often this worker looks for stalled jobs (default 30)
  --quiet`;

export async function workerCommand(argv: readonly string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        redis: { type: 'string' },
        checkpoint: { type: 'string' },
        config: { type: 'string' },
        preset: { type: 'string' },
        queue: { type: 'string' },
        provider: { type: 'string' },
        threads: { type: 'string' },
        'lock-duration': { type: 'string' },
        'stalled-interval': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    console.error(`svd worker: ${(e as Error).message}\n\n${WORKER_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(WORKER_USAGE);
    return 0;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const str = (k: string) => values[k] as string | undefined;
    const redis = str('redis');
    const checkpoint = str('checkpoint');
    if (!redis) throw usageError('svd worker: --redis URL is required');
    if (checkpoint !== undefined && !existsSync(checkpoint)) {
      throw new CliError(`svd worker: --checkpoint ${checkpoint}: no such file or folder`, 1);
    }
    let served: ReturnType<typeof servedModel>;
    try {
      served = servedModel({ checkpoint, config: str('config'), preset: str('preset') });
    } catch (e) {
      if (e instanceof ServedModelError) throw usageError(`svd worker: ${e.message}`);
      throw e;
    }
    const seconds = (flag: string) => {
      const v = str(flag);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw usageError(`svd worker: --${flag} ${JSON.stringify(v)}: seconds > 0`);
      return Math.round(n * 1000);
    };
    const threads = str('threads');
    if (threads !== undefined && !/^[1-9]\d*$/.test(threads)) throw usageError('svd worker: --threads N, N ≥ 1');
    const provider = str('provider') ?? 'cpu';
    if (!['cpu', 'webgpu', 'cuda'].includes(provider))
      throw usageError(`svd worker: --provider ${provider}: cpu, webgpu or cuda`);
    const quiet = values.quiet === true;
    await runGenerateWorker({
      redisUrl: redis,
      model: served.choice,
      loras: served.loras,
      queue: str('queue'),
      provider: provider as 'cpu' | 'webgpu' | 'cuda',
      threads: threads !== undefined ? Number(threads) : undefined,
      lockDurationMs: seconds('lock-duration'),
      stalledIntervalMs: seconds('stalled-interval'),
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'error') console.error(`svd worker: ${e.message}`);
        else if (e.type === 'failed') console.error(`svd worker: job ${e.job} failed: ${e.error}`);
        else if (!quiet || e.type === 'ready') {
          if (e.type === 'ready') console.log(`svd worker: ready on queue ${e.queue}`);
          else if (e.type === 'started') console.log(`started ${e.job} (run ${e.attempt})`);
          else if (e.type === 'completed') console.log(`completed ${e.job} in ${e.seconds.toFixed(1)} s`);
        }
      },
    });
    return 0;
  } catch (e) {
    const code = e instanceof CliError ? e.exitCode : 1;
    const message = (e as Error)?.message ?? String(e);
    console.error(message.startsWith('svd ') ? message : `svd worker: ${message}`);
    return code;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}
