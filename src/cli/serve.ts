/**
 * `svd serve`: the HTTP API, its job queue and the web page (src/server/). Serves `--checkpoint`, or without it the
 * shipped svd-mini with its camera-motion LoRAs (src/server/served-model.ts). Runs until SIGINT / SIGTERM; then the
 * running job stops between engine calls and is queued again at the next start (jobs live in `--data`).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS, type ServerLimits } from '../server/limits.ts';
import { ServedModelError, servedModel } from '../server/served-model.ts';
import { isLoopback, startServer } from '../server/server.ts';
import { CliError, usageError } from './errors.ts';

export const SERVE_USAGE = `usage: svd serve [--checkpoint PATH [--config JSON | --preset NAME]] [options]

  --port N             listen port (default 8080; 0 = any free port)
  --host ADDR          listen address (default 127.0.0.1: loopback only; another address needs --api-key)
  --checkpoint PATH    the model every job runs (sgm .safetensors file or diffusers folder); default: the shipped
                       svd-mini (models/svd-mini/, when present), whose camera-motion LoRAs requests name (lora)
  --config JSON | --preset NAME   its structure (default preset svd-xt)
  --data DIR           jobs (SQLite), uploads and videos (default ./svd-data); jobs survive a restart
  --api-key KEY        require Authorization: Bearer KEY on every route but /healthz (or env SVD_API_KEY)
  --redis URL          queue jobs on Redis (BullMQ); \`svd worker --redis URL\` processes run them
  --provider cpu|webgpu|cuda  --threads N        the engine of in-process jobs
limits (a request over one is a 422 naming the field; a full queue is a 429 with Retry-After):
  --max-queue N (${DEFAULT_LIMITS.maxQueued})  --max-body-mb N (${DEFAULT_LIMITS.maxBodyBytes / 2 ** 20})  --max-pixels N (${DEFAULT_LIMITS.maxPixels})
  --max-frames N (${DEFAULT_LIMITS.maxFrames})  --max-steps N (${DEFAULT_LIMITS.maxSteps})  --max-videos N (${DEFAULT_LIMITS.maxVideos})`;

const LIMIT_FLAGS: Readonly<Record<string, keyof ServerLimits>> = {
  'max-queue': 'maxQueued',
  'max-pixels': 'maxPixels',
  'max-frames': 'maxFrames',
  'max-steps': 'maxSteps',
  'max-videos': 'maxVideos',
};

function positiveInt(flag: string, v: string, min = 1): number {
  const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw usageError(`svd serve: --${flag} ${JSON.stringify(v)}: expected an integer ≥ ${min}`);
  return n;
}

export async function serveCommand(argv: readonly string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        checkpoint: { type: 'string' },
        config: { type: 'string' },
        preset: { type: 'string' },
        data: { type: 'string' },
        'api-key': { type: 'string' },
        redis: { type: 'string' },
        queue: { type: 'string' },
        provider: { type: 'string' },
        threads: { type: 'string' },
        'max-queue': { type: 'string' },
        'max-body-mb': { type: 'string' },
        'max-pixels': { type: 'string' },
        'max-frames': { type: 'string' },
        'max-steps': { type: 'string' },
        'max-videos': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    console.error(`svd serve: ${(e as Error).message}\n\n${SERVE_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  try {
    const str = (k: string) => values[k] as string | undefined;
    const checkpoint = str('checkpoint');
    if (checkpoint !== undefined && !existsSync(checkpoint)) {
      throw new CliError(`svd serve: --checkpoint ${checkpoint}: no such file or folder`, 1);
    }
    let served: ReturnType<typeof servedModel>;
    try {
      served = servedModel({ checkpoint, config: str('config'), preset: str('preset') });
    } catch (e) {
      if (e instanceof ServedModelError) throw usageError(`svd serve: ${e.message}`);
      throw e;
    }
    const host = str('host') ?? '127.0.0.1';
    const apiKey = str('api-key') ?? process.env.SVD_API_KEY ?? undefined;
    if (!isLoopback(host) && !apiKey) {
      throw usageError(`svd serve: --host ${host} is reachable from other machines; give --api-key KEY too`);
    }
    const provider = str('provider') ?? 'cpu';
    if (!['cpu', 'webgpu', 'cuda'].includes(provider))
      throw usageError(`svd serve: --provider ${provider}: cpu, webgpu or cuda`);
    const limits: Partial<{ -readonly [K in keyof ServerLimits]: number }> = {};
    for (const [flag, key] of Object.entries(LIMIT_FLAGS)) {
      const v = str(flag);
      if (v !== undefined) limits[key] = positiveInt(flag, v);
    }
    const mb = str('max-body-mb');
    if (mb !== undefined) limits.maxBodyBytes = positiveInt('max-body-mb', mb) * 2 ** 20;
    const server = await startServer({
      model: served.choice,
      loras: served.loras,
      dataDir: str('data') ?? 'svd-data',
      host,
      port: str('port') !== undefined ? positiveInt('port', str('port')!, 0) : 8080,
      apiKey,
      limits,
      provider: provider as 'cpu' | 'webgpu' | 'cuda',
      threads: str('threads') !== undefined ? positiveInt('threads', str('threads')!) : undefined,
      redisUrl: str('redis'),
      queueName: str('queue'),
    });
    console.log(
      `svd serve: listening on ${server.url} (${server.jobs.opts.model.name}${served.loras.size > 0 ? ` with camera LoRAs ${[...served.loras.keys()].join(', ')}` : ''}, ${server.jobs.queue.kind} queue, data in ${server.jobs.opts.dataDir}${apiKey ? ', API key required' : ''})`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    console.log('svd serve: stopping (a running job is queued again at the next start)');
    await server.close();
    return 0;
  } catch (e) {
    const code = e instanceof CliError ? e.exitCode : 1;
    const message = (e as Error)?.message ?? String(e);
    console.error(message.startsWith('svd ') ? message : `svd serve: ${message}`);
    return code;
  }
}
