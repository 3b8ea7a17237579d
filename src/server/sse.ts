/**
 * Server-Sent Events per job. Each job has an event log (ids 1, 2, … per job) kept in memory while the server runs:
 * a client that connects gets the log from the start (or, with `Last-Event-ID`, from after that id) and then the live
 * events; the stream ends after the job's terminal event (`done`, `failed`, `cancelled`). Only the latest step event
 * keeps its preview image, so a log stays small; logs of the most recently active jobs are kept (`maxLogs`). A job
 * whose log is gone (a restart) gets a `snapshot` event with its current state first.
 */
import type { ServerResponse } from 'node:http';

export interface JobEvent {
  readonly id: number;
  readonly event: string;
  data: Record<string, unknown>;
}

export const TERMINAL_EVENTS: readonly string[] = ['done', 'failed', 'cancelled'];

interface Log {
  events: JobEvent[];
  next: number;
  subscribers: Set<ServerResponse>;
  lastStep?: JobEvent;
}

function write(res: ServerResponse, e: JobEvent): void {
  res.write(`id: ${e.id}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
}

export class SseHub {
  private readonly logs = new Map<string, Log>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly maxLogs = 200,
    private readonly maxEventsPerJob = 5000,
    heartbeatMs = 15_000,
  ) {
    this.heartbeat = setInterval(() => {
      for (const log of this.logs.values()) for (const res of log.subscribers) res.write(': keep-alive\n\n');
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  private log(jobId: string): Log {
    let log = this.logs.get(jobId);
    if (!log) {
      log = { events: [], next: 1, subscribers: new Set() };
      this.logs.set(jobId, log);
      if (this.logs.size > this.maxLogs) {
        for (const [id, l] of this.logs) {
          if (l.subscribers.size === 0 && id !== jobId) {
            this.logs.delete(id);
            break;
          }
        }
      }
    } else {
      // Most recently used last.
      this.logs.delete(jobId);
      this.logs.set(jobId, log);
    }
    return log;
  }

  hasLog(jobId: string): boolean {
    return (this.logs.get(jobId)?.events.length ?? 0) > 0;
  }

  publish(jobId: string, event: string, data: Record<string, unknown>): void {
    const log = this.log(jobId);
    const e: JobEvent = { id: log.next++, event, data };
    if (event === 'step') {
      if (log.lastStep && 'preview' in log.lastStep.data) {
        const { preview: _dropped, ...rest } = log.lastStep.data;
        log.lastStep.data = rest;
      }
      log.lastStep = e;
    }
    log.events.push(e);
    if (log.events.length > this.maxEventsPerJob) log.events.splice(0, log.events.length - this.maxEventsPerJob);
    for (const res of log.subscribers) {
      write(res, e);
      if (TERMINAL_EVENTS.includes(event)) res.end();
    }
    if (TERMINAL_EVENTS.includes(event)) log.subscribers.clear();
  }

  /**
   * Streams a job's events to `res`: the log after `lastEventId`, then live ones. `snapshot` is called (and its event
   * sent first) when there is no log to replay; `terminal` says whether the job is finished already.
   */
  subscribe(
    jobId: string,
    res: ServerResponse,
    lastEventId: number | undefined,
    snapshot: () => { event: string; data: Record<string, unknown>; terminal: boolean },
  ): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const log = this.log(jobId);
    const after = lastEventId ?? 0;
    const replay = log.events.filter((e) => e.id > after);
    if (log.events.length === 0 || (after > 0 && log.events[0].id > after + 1)) {
      const s = snapshot();
      // A snapshot has no id of its own: a reconnecting client keeps the last id it saw.
      res.write(`event: snapshot\ndata: ${JSON.stringify(s.data)}\n\n`);
      if (log.events.length === 0 && s.terminal) {
        res.write(`event: ${s.event}\ndata: ${JSON.stringify(s.data)}\n\n`);
        res.end();
        return;
      }
    }
    for (const e of replay) {
      write(res, e);
      if (TERMINAL_EVENTS.includes(e.event)) {
        res.end();
        return;
      }
    }
    log.subscribers.add(res);
    res.on('close', () => log.subscribers.delete(res));
  }

  forget(jobId: string): void {
    const log = this.logs.get(jobId);
    if (!log) return;
    for (const res of log.subscribers) res.end();
    this.logs.delete(jobId);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const log of this.logs.values()) for (const res of log.subscribers) res.end();
    this.logs.clear();
  }
}
