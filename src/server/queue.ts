/**
 * The job queue behind one interface: in-process (this file: one job at a time on the server's loaded model, a FIFO
 * of waiting ids) or BullMQ on Redis (./redis-queue.ts: workers anywhere). The bound on waiting jobs is the server's
 * (its store counts queued jobs), so both modes answer 429 alike.
 */

export type CancelOutcome = 'removed' | 'aborting' | 'absent';

export interface JobQueue {
  readonly kind: 'in-process' | 'redis';
  /** Queues a stored job. */
  submit(id: string): Promise<void>;
  /** 1 = next to run; 0 = running; undefined = not queued here (or unknown, for Redis). */
  position(id: string): number | undefined;
  /** Queued jobs: removed (the caller marks them cancelled); running ones: asked to stop between engine calls. */
  cancel(id: string): Promise<CancelOutcome>;
  /** At start, instead of re-submitting the store's unfinished jobs: match them with the queue's own state. */
  reconcile?(): Promise<void>;
  close(): Promise<void>;
}

/** Why a running job was stopped by the server shutting down: it is queued again at the next start. */
export class ShutdownError extends Error {
  override name = 'ShutdownError';
  constructor() {
    super('the server is shutting down');
  }
}

/** One job at a time, in order of submission. `run` owns the job's life (store, events) and never rejects. */
export class InProcessQueue implements JobQueue {
  readonly kind = 'in-process';
  private readonly waiting: string[] = [];
  private current: { id: string; controller: AbortController; done: Promise<void> } | undefined;
  private closed = false;

  constructor(
    private readonly run: (id: string, signal: AbortSignal) => Promise<void>,
    private readonly onPositions: (positions: ReadonlyMap<string, number>) => void = () => {},
  ) {}

  async submit(id: string): Promise<void> {
    if (this.closed) throw new ShutdownError();
    this.waiting.push(id);
    this.notify();
    // The submitter sees its job queued (202, the first `queued` event) before it starts.
    setImmediate(() => this.pump());
  }

  position(id: string): number | undefined {
    if (this.current?.id === id) return 0;
    const i = this.waiting.indexOf(id);
    return i < 0 ? undefined : i + 1;
  }

  async cancel(id: string): Promise<CancelOutcome> {
    if (this.current?.id === id) {
      this.current.controller.abort(new Error('cancelled'));
      return 'aborting';
    }
    const i = this.waiting.indexOf(id);
    if (i < 0) return 'absent';
    this.waiting.splice(i, 1);
    this.notify();
    return 'removed';
  }

  private notify(): void {
    this.onPositions(new Map(this.waiting.map((id, i) => [id, i + 1])));
  }

  private pump(): void {
    if (this.current || this.closed) return;
    const id = this.waiting.shift();
    if (id === undefined) return;
    const controller = new AbortController();
    const done = this.run(id, controller.signal)
      .catch(() => {})
      .finally(() => {
        this.current = undefined;
        this.pump();
        this.notify();
      });
    this.current = { id, controller, done };
  }

  /** Stops: waiting jobs stay queued in the store; the running one is stopped and queued again at the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    const current = this.current;
    if (current) {
      current.controller.abort(new ShutdownError());
      await current.done;
    }
  }
}
