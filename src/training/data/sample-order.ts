/**
 * The order in which a run visits its records: a fresh seeded permutation every epoch, drawn from the project's
 * Philox RNG, so the order is a pure function of (seed, epoch) and a run resumed from a saved {@link SamplePosition}
 * continues with exactly the sample it would have drawn next.
 *
 * Permutation of epoch e over n records: keys = `new Rng(seed).uint32('order.<e>', n)`, records sorted by (key,
 * record index) ascending — a uniformly random permutation up to key ties, which the index breaks deterministically.
 */
import { Rng } from '../../tensor/rng.ts';

/** Where a run is: the next sample is position `index` (0-based) of the permutation of epoch `epoch`. */
export interface SamplePosition {
  epoch: number;
  index: number;
}

/** One step of the order: where it is, and which record (index into the source's list) it visits. */
export interface OrderStep {
  position: SamplePosition;
  record: number;
}

export class SampleOrder {
  readonly size: number;
  readonly seed: number;
  private readonly rng: Rng;
  private epoch: number;
  private index: number;
  private cached: { epoch: number; perm: Uint32Array } | undefined;

  /** The order over `size` records under `seed`, starting at `position` (default the very beginning). */
  constructor(size: number, seed: number, position: SamplePosition = { epoch: 0, index: 0 }) {
    if (!Number.isInteger(size) || size < 1 || size > 0xffffffff) {
      throw new RangeError(`a sample order needs at least one record (and fewer than 2^32), got ${size}`);
    }
    checkPosition(position, size);
    this.size = size;
    this.seed = seed;
    this.rng = new Rng(seed);
    this.epoch = position.epoch;
    this.index = position.index;
  }

  /** The position of the next sample; plain data, JSON-serialisable, for a checkpoint. */
  get position(): SamplePosition {
    return { epoch: this.epoch, index: this.index };
  }

  /** The next sample's position and record, and moves past it (into the next epoch after the last index). */
  next(): OrderStep {
    const position = this.position;
    const record = this.recordAt(position);
    const after = SampleOrder.after(position, this.size);
    this.epoch = after.epoch;
    this.index = after.index;
    return { position, record };
  }

  /** The record visited at `position` (any epoch; does not move the order). */
  recordAt(position: SamplePosition): number {
    checkPosition(position, this.size);
    return this.permutation(position.epoch)[position.index];
  }

  /** Epoch `epoch`'s permutation: element i is the record visited at index i. The last one used is kept. */
  permutation(epoch: number): Uint32Array {
    if (this.cached?.epoch === epoch) return this.cached.perm;
    const keys = this.rng.uint32(`order.${epoch}`, this.size);
    const perm = new Uint32Array(this.size);
    for (let i = 0; i < this.size; i++) perm[i] = i;
    perm.sort((a, b) => keys[a] - keys[b] || a - b);
    this.cached = { epoch, perm };
    return perm;
  }

  /** The position after `position` in an order over `size` records. */
  static after(position: SamplePosition, size: number): SamplePosition {
    return position.index + 1 < size
      ? { epoch: position.epoch, index: position.index + 1 }
      : { epoch: position.epoch + 1, index: 0 };
  }
}

function checkPosition(p: SamplePosition, size: number): void {
  const ok =
    Number.isSafeInteger(p.epoch) && p.epoch >= 0 && Number.isSafeInteger(p.index) && p.index >= 0 && p.index < size;
  if (!ok) {
    throw new RangeError(
      `sample position {epoch: ${p.epoch}, index: ${p.index}} is not valid for ${size} records (index must be below ${size})`,
    );
  }
}
