/**
 * `svd serve` as a library: `startServer(options)` opens the job store under `dataDir`, resolves the model once, picks
 * the queue (in-process, or BullMQ with `redisUrl`), recovers unfinished jobs, and listens (loopback by default).
 * `close()` stops taking requests, stops the running job (it is queued again at the next start) and closes the store.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { resolveModel } from '../pipeline/generate-job.ts';
import type { ModelChoice } from '../pipeline/request.ts';
import type { Provider } from '../runtime/protocol.ts';
import { type ApiContext, handle } from './http.ts';
import { JobManager } from './jobs.ts';
import { DEFAULT_LIMITS, type ServerLimits } from './limits.ts';
import { Metrics } from './metrics.ts';
import { InProcessQueue } from './queue.ts';
import { SseHub } from './sse.ts';

export interface ServerOptions {
  readonly model: ModelChoice;
  /** The model's camera-motion LoRAs, name → file (./served-model.ts; default none). */
  readonly loras?: ReadonlyMap<string, string>;
  readonly dataDir: string;
  readonly host?: string;
  /** 0: a free port. */
  readonly port?: number;
  readonly apiKey?: string;
  readonly limits?: Partial<ServerLimits>;
  readonly provider?: Provider;
  readonly threads?: number;
  /** BullMQ on this Redis; jobs then run on `svd worker` processes. */
  readonly redisUrl?: string;
  /** Queue name base with Redis (default `svd-generate`). */
  readonly queueName?: string;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly jobs: JobManager;
  readonly server: Server;
  close(): Promise<void>;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const model = resolveModel({ model: opts.model });
  const metrics = new Metrics();
  const hub = new SseHub();
  const jobs = new JobManager({
    dataDir: resolve(opts.dataDir),
    model,
    choice: opts.model,
    loras: opts.loras ?? new Map(),
    limits,
    hub,
    metrics,
    provider: opts.provider,
    threads: opts.threads,
  });
  try {
    if (opts.redisUrl) {
      const { RedisQueue } = await import('./redis-queue.ts');
      jobs.queue = await RedisQueue.open(jobs, opts.redisUrl, opts.queueName);
    } else {
      jobs.queue = new InProcessQueue(
        (id, signal) => jobs.runLocal(id, signal),
        (positions) => jobs.positions(positions),
      );
    }
    await jobs.recover();
  } catch (e) {
    await jobs.close().catch(() => {});
    hub.close();
    throw e;
  }
  const ctx: ApiContext = { jobs, metrics, apiKey: opts.apiKey, version: packageVersion(), startedAt: Date.now() };
  const server = createServer({ requestTimeout: 120_000, headersTimeout: 30_000 }, (req, res) => {
    void handle(ctx, req, res);
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    host,
    jobs,
    server,
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((r) => server.close(() => r()));
        hub.close();
        server.closeAllConnections();
        await closed;
        await jobs.close();
      })();
      return closing;
    },
  };
}
