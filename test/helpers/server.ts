/**
 * The server in tests: `startTinyServer` runs `startServer` in-process on a free loopback port with the tiny golden
 * model and a temporary data folder; `readEvents` reads a job's Server-Sent Events until a terminal event.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerLimits } from '../../src/server/limits.ts';
import { type RunningServer, type ServerOptions, startServer } from '../../src/server/server.ts';
import { GOLDEN_DIR } from './golden.ts';

export const TINY_DIR = `${GOLDEN_DIR}pipeline-tiny/`;
export const TINY_IMAGE = readFileSync(`${TINY_DIR}input.png`);
/** Fast job fields: 4 frames, 2 steps, 64×64. */
export const FAST = { frames: '4', steps: '2', size: 'native', decodeChunk: '2' } as const;

export interface TinyServer extends RunningServer {
  readonly dataDir: string;
  stop(): Promise<void>;
}

export async function startTinyServer(
  opts: { limits?: Partial<ServerLimits>; apiKey?: string; dataDir?: string } & Partial<ServerOptions> = {},
): Promise<TinyServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'svd-serve-'));
  const server = await startServer({
    model: { checkpoint: `${TINY_DIR}checkpoint.safetensors`, config: `${TINY_DIR}config.json` },
    port: 0,
    threads: 2,
    ...opts,
    dataDir,
  });
  return {
    ...server,
    dataDir,
    stop: async () => {
      await server.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A multipart submission of the tiny image with `fields`. */
export function multipart(
  fields: Record<string, string>,
  image: Uint8Array = TINY_IMAGE,
  type = 'image/png',
): FormData {
  const form = new FormData();
  form.append('image', new Blob([image], { type }), 'input.png');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

export interface SseEvent {
  id?: number;
  event: string;
  data: Record<string, unknown>;
}

/** Reads a job's events until the stream ends (the server ends it after a terminal event) or `timeoutMs`. */
export async function readEvents(
  base: string,
  id: string,
  opts: {
    lastEventId?: number;
    headers?: Record<string, string>;
    timeoutMs?: number;
    stopAfter?: (e: SseEvent) => boolean;
  } = {},
): Promise<SseEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs ?? 60_000);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(`${base}/v1/videos/${id}/events`, {
      headers: {
        ...(opts.lastEventId !== undefined ? { 'last-event-id': String(opts.lastEventId) } : {}),
        ...opts.headers,
      },
      signal: controller.signal,
    });
    if (res.status !== 200) throw new Error(`events: HTTP ${res.status} ${await res.text()}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        cut = buffer.indexOf('\n\n');
        const e: SseEvent = { event: 'message', data: {} };
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) e.id = Number(line.slice(4));
          else if (line.startsWith('event: ')) e.event = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (!data) continue;
        e.data = JSON.parse(data);
        events.push(e);
        if (opts.stopAfter?.(e)) {
          controller.abort();
          return events;
        }
      }
    }
  } catch (e) {
    if (!controller.signal.aborted) throw e;
  } finally {
    clearTimeout(timer);
  }
  return events;
}

/** Polls a job until it is in a terminal state. */
export async function waitForJob(base: string, id: string, timeoutMs = 60_000, headers: Record<string, string> = {}) {
  const t0 = Date.now();
  for (;;) {
    const res = await fetch(`${base}/v1/videos/${id}`, { headers });
    const job = (await res.json()) as { state: string; error?: string; [k: string]: unknown };
    if (['done', 'failed', 'cancelled'].includes(job.state)) return job;
    if (Date.now() - t0 > timeoutMs) throw new Error(`job ${id} still ${job.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A JSON response body read loosely (tests index into it freely). */
// biome-ignore lint/suspicious/noExplicitAny: test-side JSON
export type Loose = any;
