/**
 * A sample's random choices (which frame rate, where in the clip, where to crop, whether to flip), drawn from a
 * stream keyed by the sample's position — `sample.<epoch>.<index>` of the run's Philox RNG — so they depend only on
 * (seed, epoch, index), not on the order in which samples are loaded (prefetching, retries, resuming).
 *
 * The draw is nine uniforms in (0, 1) (the last four only for colour augmentation); they become a concrete {@link ClipWindow} only once the clip's duration and
 * native frame rate are known (`resolveWindow`), which for a folder of videos is after probing.
 */
import type { Rng } from '../../tensor/rng.ts';
import { VideoInputError } from '../../video/errors.ts';
import type { ResolvedRecord } from './record.ts';
import type { SamplePosition } from './sample-order.ts';

/** Uniforms in (0, 1): frame-rate pick, start offset, crop x, crop y, flip, the R, G, B colour gains, channel order. */
export interface SampleChoices {
  fps: number;
  start: number;
  cropX: number;
  cropY: number;
  flip: number;
  /** Uniforms 5–7 (used only with a colour jitter; drawing them leaves uniforms 0–4 as they were). */
  colour: readonly [number, number, number];
  /** Uniform 8 (used only with a channel shuffle; drawing it leaves uniforms 0–7 as they were). */
  order: number;
}

/** The six orders of R, G, B; a shuffled window's output channel c is the decoded channel `order[c]`. */
export const CHANNEL_ORDERS: readonly (readonly [number, number, number])[] = Object.freeze([
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
]);

/** The RNG stream of the sample at `position`. */
export function choiceStream(position: SamplePosition): string {
  return `sample.${position.epoch}.${position.index}`;
}

/** The choices of the sample at `position`: uniforms 0–8 of its stream. */
export function drawChoices(rng: Rng, position: SamplePosition): SampleChoices {
  const u = rng.uniform(choiceStream(position), 9);
  return { fps: u[0], start: u[1], cropX: u[2], cropY: u[3], flip: u[4], colour: [u[5], u[6], u[7]], order: u[8] };
}

/**
 * How frames are sampled in time: at one of the listed rates (`fps`), or every k-th native frame for one of the listed
 * strides (`stride`); neither: every native frame. Rates above the video's native rate (which would repeat frames) and
 * rates at which the clip is too short for T frames are left out of the pick.
 */
export type FrameRate = { fps: readonly number[] } | { stride: readonly number[] } | undefined;

/** A concrete window of a clip: what to decode, and the augmentation applied. */
export interface ClipWindow {
  /** Seconds into the file of the first frame. */
  start: number;
  /** The rate frames are sampled at (the model is conditioned on round(fps) − 1). */
  fps: number;
  /** Frames. */
  count: number;
  /** Crop offsets in [0, 1]² of the slack after scaling to cover (0.5, 0.5 = centre). */
  crop: { x: number; y: number };
  /** Mirror left–right. */
  flip: boolean;
  /** R, G, B gains on pixel values in [0, 1] (a colour jitter); absent: none. */
  gains?: readonly [number, number, number];
  /** Channel order after the gains (output channel c = channel `channels[c]`, one of CHANNEL_ORDERS); absent: RGB. */
  channels?: readonly [number, number, number];
}

export interface WindowSpec {
  /** Frames per sample, T. */
  frames: number;
  rate?: FrameRate;
  /** Probability of a left–right flip (default 0: the paper mentions no flipping). */
  flipProbability?: number;
  /** Random crop offsets (default true); false: always the centre. */
  randomCrop?: boolean;
  /** Colour jitter a in [0, 1): gains uniform in [1 − a, 1 + a] per channel (default 0: none). */
  colourJitter?: number;
  /** Put R, G, B in one of their six orders, uniformly (default false: as decoded). */
  channelShuffle?: boolean;
}

/**
 * The window the choices pick in `record` for T = `spec.frames` frames. Times: T frames at rate f span
 * (T − 1)/f + 1/native seconds (the last frame is shown for one native frame period); the start is uniform over the
 * room left in [start, end]. Throws {@link VideoInputError} `too-short` when no allowed rate fits (the caller skips).
 */
export function resolveWindow(record: ResolvedRecord, choices: SampleChoices, spec: WindowSpec): ClipWindow {
  const crop = spec.randomCrop === false ? { x: 0.5, y: 0.5 } : { x: choices.cropX, y: choices.cropY };
  const flip = choices.flip < (spec.flipProbability ?? 0);
  const a = spec.colourJitter ?? 0;
  const gains = a > 0 ? { gains: choices.colour.map((u) => 1 + a * (2 * u - 1)) as [number, number, number] } : {};
  const shuffle = spec.channelShuffle
    ? {
        channels:
          CHANNEL_ORDERS[Math.min(CHANNEL_ORDERS.length - 1, Math.floor(choices.order * CHANNEL_ORDERS.length))],
      }
    : {};
  const colour = { ...gains, ...shuffle }; // the colour augmentations this window takes
  const count = record.image ? 1 : spec.frames;
  if (record.image) return { start: 0, fps: record.fps, count, crop, flip, ...colour };

  const native = record.fps;
  const length = record.end - record.start;
  const span = (f: number) => (count - 1) / f + 1 / native;
  const EPS = 1e-6;
  const rates = candidateRates(native, spec.rate).filter((f) => span(f) <= length + EPS);
  if (rates.length === 0) {
    const wanted = spec.rate === undefined ? `${native} fps` : describeRate(spec.rate);
    throw new VideoInputError(
      'too-short',
      record.path,
      `clip ${record.id} (${length.toFixed(3)} s at ${native} fps) is too short for ${count} frames at ${wanted}`,
    );
  }
  const fps = rates[Math.min(rates.length - 1, Math.floor(choices.fps * rates.length))];
  const room = Math.max(0, length - span(fps));
  return { start: record.start + choices.start * room, fps, count, crop, flip, ...colour };
}

/** Throws a RangeError naming the option unless `spec` is usable. */
export function checkWindowSpec(spec: WindowSpec): void {
  if (!Number.isInteger(spec.frames) || spec.frames < 1) {
    throw new RangeError(`frames must be a positive integer, got ${spec.frames}`);
  }
  const p = spec.flipProbability ?? 0;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`flipProbability must be in [0, 1], got ${p}`);
  const a = spec.colourJitter ?? 0;
  if (!(a >= 0 && a < 1)) throw new RangeError(`colourJitter must be in [0, 1), got ${a}`);
  const rate = spec.rate;
  if (rate === undefined) return;
  if ('stride' in rate) {
    if (rate.stride.length === 0 || !rate.stride.every((k) => Number.isInteger(k) && k >= 1)) {
      throw new RangeError(`stride must list positive integers, got [${rate.stride.join(', ')}]`);
    }
  } else if (rate.fps.length === 0 || !rate.fps.every((f) => Number.isFinite(f) && f > 0 && f <= 1000)) {
    throw new RangeError(`fps must list rates in (0, 1000], got [${rate.fps.join(', ')}]`);
  }
}

/** The rates a clip at `native` fps may be sampled at, in the spec's order. */
function candidateRates(native: number, rate: FrameRate): number[] {
  if (rate === undefined) return [native];
  if ('stride' in rate) return rate.stride.map((k) => native / k);
  return rate.fps.filter((f) => f <= native * (1 + 1e-9));
}

function describeRate(rate: NonNullable<FrameRate>): string {
  return 'stride' in rate ? `strides ${rate.stride.join(', ')}` : `${rate.fps.join(', ')} fps`;
}

/**
 * A short stable key of a window, for the latent cache: rate, frames, start (µs), crop (1e-4), flip, any colour
 * gains (1e-4) and any channel order, e.g. `f7_t14_s1.234567_c0.5123x0.2000_n`, `…_n_g1.1000x0.9500x1.0200` or
 * `…_n_p201`.
 */
export function windowKey(w: ClipWindow): string {
  const fps = Number(w.fps.toPrecision(6));
  const gains = w.gains ? `_g${w.gains.map((g) => g.toFixed(4)).join('x')}` : '';
  const order = w.channels ? `_p${w.channels.join('')}` : '';
  return `f${fps}_t${w.count}_s${w.start.toFixed(6)}_c${w.crop.x.toFixed(4)}x${w.crop.y.toFixed(4)}_${w.flip ? 'h' : 'n'}${gains}${order}`;
}
