/**
 * The training data stream: records visited in the run's {@link SampleOrder}, each loaded with its position's random
 * choices, yielded as `{ sample }` — or as `{ skipped: { id, reason } }` when the clip cannot be used (corrupt,
 * truncated, too short, not a video, timed out), so that the trainer logs it and goes on. A bad clip never throws out
 * of the iterator; what does throw is what no other clip would fix: ffmpeg missing, an invalid option, an error
 * that is not about the data (e.g. from the encoder callback), an abort, or a dataset in which nothing loads (every
 * record skipped twice since the last sample that loaded, or `maxConsecutiveSkips` skips in a row).
 *
 * Loads run ahead of the consumer (`prefetch`, default 2) and are yielded in order; since every choice is keyed by
 * the position, prefetching changes nothing in what is yielded. `position` is that of the next sample to be
 * yielded, so a checkpoint taken after consuming a sample resumes exactly at the one after it (prefetched samples
 * not yet yielded are loaded again).
 */
import { Rng } from '../../tensor/rng.ts';
import { ImageInputError, VideoInputError } from '../../video/errors.ts';
import { type ProbeOptions, probeVideo, type VideoProbe } from '../../video/probe.ts';
import { checkWindowSpec, drawChoices, type SampleChoices } from './choices.ts';
import { type ClipSample, type LoadOptions, loadSample } from './load-sample.ts';
import type { ClipRecord } from './record.ts';
import { SampleOrder, type SamplePosition } from './sample-order.ts';

/** A clip that was left out, for the log. */
export interface SkippedClip {
  id: string;
  /** The error's reason (`corrupt`, `too-short`, `not-a-video`, `no-video`, `timeout`, `missing`, …). */
  reason: string;
  message: string;
}

export type DatasetItem<S> =
  | { position: SamplePosition; record: number; sample: S }
  | { position: SamplePosition; record: number; skipped: SkippedClip };

/** What a loader gets besides the record and its choices. */
export interface LoadContext {
  /** The dataset's load options, with its abort signal and a probe that remembers results. */
  options: LoadOptions;
  position: SamplePosition;
  /** Index of the record in the dataset's list. */
  record: number;
}

/** Turns a record and its choices into a sample; throws VideoInputError / ImageInputError for a clip to skip. */
export type SampleLoader<S> = (record: ClipRecord, choices: SampleChoices, ctx: LoadContext) => Promise<S>;

export interface ClipDatasetOptions extends Omit<LoadOptions, 'signal' | 'probe'> {
  /** The run's seed: sample order and every per-sample choice. */
  seed: number;
  /** Where to start (a saved `position`); default the beginning. */
  position?: SamplePosition;
  /** Samples loaded ahead of the consumer (default 2; 0 loads on demand). */
  prefetch?: number;
  /** Throw after this many skips in a row (default 1000), e.g. a disk gone away. */
  maxConsecutiveSkips?: number;
  /** Aborting stops loads in flight; `next()` then rejects with the reason. */
  signal?: AbortSignal;
}

const defaultLoad: SampleLoader<ClipSample> = (record, choices, ctx) => loadSample(record, choices, ctx.options);

export class ClipDataset<S = ClipSample> {
  readonly records: readonly ClipRecord[];
  private readonly order: SampleOrder;
  private readonly rng: Rng;
  private readonly options: LoadOptions;
  private readonly load: SampleLoader<S>;
  private readonly prefetch: number;
  private readonly maxSkips: number;
  private readonly controller = new AbortController();
  private readonly probes = new Map<string, Promise<VideoProbe>>();
  private readonly pending: Promise<DatasetItem<S>>[] = [];
  private nextPosition: SamplePosition;
  private skipsInARow = 0;
  /** Records skipped since the last sample that loaded, and how often. */
  private readonly skippedSinceSuccess = new Map<number, number>();
  private failedTwice = 0;
  private readonly unlink: () => void;

  /** `load` defaults to {@link loadSample} (frames); pass e.g. `cachedLatentLoader(…)` for latents. */
  constructor(records: readonly ClipRecord[], options: ClipDatasetOptions, load?: SampleLoader<S>) {
    if (records.length === 0) throw new RangeError('the dataset has no records (an empty folder or manifest?)');
    checkWindowSpec(options);
    for (const [name, v] of [
      ['width', options.width],
      ['height', options.height],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
    }
    this.records = records;
    this.order = new SampleOrder(records.length, options.seed, options.position);
    this.nextPosition = this.order.position;
    this.rng = new Rng(options.seed);
    this.prefetch = options.prefetch ?? 2;
    this.maxSkips = options.maxConsecutiveSkips ?? 1000;
    this.load = load ?? (defaultLoad as unknown as SampleLoader<S>);
    const { seed: _s, position: _p, prefetch: _f, maxConsecutiveSkips: _m, signal, ...load_ } = options;
    this.options = { ...load_, signal: this.controller.signal, probe: (path, o) => this.probe(path, o) };
    const onAbort = () => this.controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    this.unlink = () => signal?.removeEventListener('abort', onAbort);
  }

  /** The position of the next sample `next()` yields (save it with a checkpoint). */
  get position(): SamplePosition {
    return { ...this.nextPosition };
  }

  /** The next item in the order: a sample, or a skipped clip. */
  async next(): Promise<DatasetItem<S>> {
    this.controller.signal.throwIfAborted();
    while (this.pending.length < this.prefetch + 1) this.pending.push(this.dispatch());
    const item = await this.pending.shift()!;
    this.nextPosition = SampleOrder.after(item.position, this.records.length);
    if ('skipped' in item) {
      this.skipsInARow++;
      const times = (this.skippedSinceSuccess.get(item.record) ?? 0) + 1;
      this.skippedSinceSuccess.set(item.record, times);
      if (times === 2) this.failedTwice++;
      // Twice, since a window drawn in a damaged part of a clip may load with the next epoch's draw.
      const allFailed = this.failedTwice === this.records.length;
      if (allFailed || this.skipsInARow > this.maxSkips) {
        const what = allFailed
          ? `every one of the ${this.records.length} records was skipped twice`
          : `${this.skipsInARow} clips in a row were skipped`;
        throw new Error(`no training data can be loaded: ${what} (last: ${item.skipped.message})`);
      }
    } else {
      this.skipsInARow = 0;
      this.skippedSinceSuccess.clear();
      this.failedTwice = 0;
    }
    return item;
  }

  /** Items forever (or `limit` of them); stopping the loop (break) closes the dataset. */
  async *items(limit = Number.POSITIVE_INFINITY): AsyncGenerator<DatasetItem<S>> {
    try {
      for (let i = 0; i < limit; i++) yield await this.next();
    } finally {
      await this.close();
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<DatasetItem<S>> {
    return this.items();
  }

  /** Stops loads in flight and waits for them (no ffmpeg is left running). */
  async close(): Promise<void> {
    this.controller.abort(new Error('dataset closed'));
    this.unlink();
    await Promise.allSettled(this.pending.splice(0));
  }

  /** Starts loading the order's next position; resolves to an item, rejects only for errors no skip can fix. */
  private dispatch(): Promise<DatasetItem<S>> {
    const { position, record } = this.order.next();
    const rec = this.records[record];
    const choices = drawChoices(this.rng, position);
    const signal = this.controller.signal;
    const promise = (async (): Promise<DatasetItem<S>> => {
      try {
        const sample = await this.load(rec, choices, { options: this.options, position, record });
        return { position, record, sample };
      } catch (e) {
        // After an abort every load fails somehow; report the abort, not whichever error it caused.
        if (signal.aborted) throw signal.reason;
        const skipped = skipOf(rec, e);
        if (skipped === undefined) throw e;
        return { position, record, skipped };
      }
    })();
    promise.catch(() => {}); // a prefetched load may fail before it is awaited; next() rethrows it in order
    return promise;
  }

  /** Probes each path once per dataset (a failed probe is remembered too: the clip is skipped every time). */
  private probe(path: string, opts: ProbeOptions): Promise<VideoProbe> {
    let p = this.probes.get(path);
    if (p === undefined) {
      p = probeVideo(path, { timeoutMs: opts.timeoutMs, signal: this.controller.signal });
      // An aborted probe is not a property of the file: forget it.
      p.catch(() => {
        if (this.controller.signal.aborted) this.probes.delete(path);
      });
      this.probes.set(path, p);
    }
    return p;
  }
}

/** The skip entry for a data error; undefined for an error that must propagate. */
function skipOf(record: ClipRecord, e: unknown): SkippedClip | undefined {
  if (e instanceof VideoInputError) {
    if (e.reason === 'ffmpeg-missing' || e.reason === 'bad-options') return undefined;
    return { id: record.id, reason: e.reason, message: e.message };
  }
  if (e instanceof ImageInputError) return { id: record.id, reason: e.problem, message: e.message };
  return undefined;
}
