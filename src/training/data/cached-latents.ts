/**
 * A {@link SampleLoader} that serves VAE posterior moments from a {@link LatentCache} and fills it on a miss: load the
 * clip (loadSample), encode it with the caller's `encode` (the stage owns the VAE graph), store mean, logvar, the
 * conditioning frame (frame 0 as uint8, for the CLIP embedding and the noise-augmented conditioning latent) and the
 * window's labels. A hit decodes nothing. A damaged entry is forgotten and encoded again.
 *
 * With the cache a clip's augmentation (rate, start, crop, flip) is the one of its first draw (see latent-cache.ts);
 * the latent itself is drawn fresh each epoch by the caller: `drawLatent(s.mean, s.logvar, seed, latentStream(pos))`.
 */
import { HostTensor } from '../../tensor/host-tensor.ts';
import type { ClipWindow, SampleChoices } from './choices.ts';
import type { LoadContext, SampleLoader } from './clip-dataset.ts';
import { LatentCacheError } from './errors.ts';
import { motionBucketOf } from './labels.ts';
import type { CachedLatent, LatentCache, LatentMoments } from './latent-cache.ts';
import { loadSample } from './load-sample.ts';
import type { ClipRecord } from './record.ts';

/** The stage's VAE encoder: frames float32 [T, 3, H, W] in [−1, 1] → moments [T, C, H/8, W/8] each. */
export type EncodeFn = (frames: HostTensor<'float32'>, signal?: AbortSignal) => Promise<LatentMoments>;

/** A training sample in latent form. */
export interface LatentSample {
  id: string;
  mean: HostTensor<'float32'>;
  logvar: HostTensor<'float32'>;
  /** Frame 0 of the window, float32 [1, 3, H, W] in [−1, 1]. */
  condFrame: HostTensor<'float32'>;
  fpsId: number;
  motionBucketId: number;
  caption?: string;
  image: boolean;
  /** The window the moments were made from (its first draw when cached). */
  window: ClipWindow;
  key: string;
  /** `hit`: read from the cache; `miss`: encoded now; `repaired`: the entry was damaged and was encoded again. */
  cache: 'hit' | 'miss' | 'repaired';
}

/** The extra tensor holding the conditioning frame: uint8 [3, H, W]. */
const COND_FRAME = 'cond_frame';

interface EntryInfo {
  window: ClipWindow;
  fpsId: number;
  image: boolean;
}

/**
 * See the module comment. Loads of the same clip that overlap (prefetching across an epoch boundary) share one
 * encode: the first one dispatched — the earlier position, since the dataset starts loads in order — makes the
 * entry, the others wait for it and read it as a hit (they try with their own choices only if it fails).
 */
export function cachedLatentLoader(cache: LatentCache, encode: EncodeFn): SampleLoader<LatentSample> {
  const inflight = new Map<string, Promise<CachedLatent>>();
  return async (record: ClipRecord, choices: SampleChoices, ctx: LoadContext): Promise<LatentSample> => {
    for (let pending = inflight.get(record.id); pending !== undefined; pending = inflight.get(record.id)) {
      try {
        return fromEntry(record, await pending, 'hit');
      } catch {
        // that load failed (e.g. its window was too short): try again, or wait for whoever tries first
      }
    }
    const attempt = produce(cache, encode, record, choices, ctx);
    const claim: Promise<CachedLatent> = attempt.then(
      (r) => {
        inflight.delete(record.id);
        return r.entry;
      },
      (e) => {
        inflight.delete(record.id);
        throw e;
      },
    );
    claim.catch(() => {});
    inflight.set(record.id, claim);
    const { entry, state } = await attempt;
    return fromEntry(record, entry, state);
  };
}

/** The cached entry of `record`, or a new one made from this sample's choices and stored. */
async function produce(
  cache: LatentCache,
  encode: EncodeFn,
  record: ClipRecord,
  choices: SampleChoices,
  ctx: LoadContext,
): Promise<{ entry: CachedLatent; state: LatentSample['cache'] }> {
  let repaired = false;
  if (cache.has(record.id)) {
    try {
      const entry = await cache.get(record.id);
      // An entry made for another frame count or size (the stage changed) is stale: encode again.
      if (entry && fits(entry, record, ctx)) {
        fromEntry(record, entry, 'hit'); // throws LatentCacheError when its labels or frame are missing
        return { entry, state: 'hit' };
      }
    } catch (e) {
      if (!(e instanceof LatentCacheError)) throw e;
      cache.forget(record.id);
      repaired = true;
    }
  }
  const sample = await loadSample(record, choices, ctx.options);
  const moments = await encode(sample.frames, ctx.options.signal);
  checkMoments(record.id, sample.frames, moments);
  const info: EntryInfo = { window: sample.window, fpsId: sample.fpsId, image: sample.image };
  const entry: CachedLatent = {
    id: record.id,
    key: sample.key,
    mean: moments.mean,
    logvar: moments.logvar,
    extra: { [COND_FRAME]: firstFrameUint8(sample.frames) },
    info: info as unknown as Record<string, unknown>,
  };
  await cache.put(record.id, sample.key, entry);
  return { entry, state: repaired ? 'repaired' : 'miss' };
}

function fromEntry(record: ClipRecord, entry: CachedLatent, cache: LatentSample['cache']): LatentSample {
  const info = entry.info as unknown as EntryInfo;
  const frame = entry.extra?.[COND_FRAME];
  if (info?.window === undefined || frame === undefined || frame.dtype !== 'uint8' || frame.shape.length !== 3) {
    throw new LatentCacheError('corrupt', entry.id, `latent cache entry "${entry.id}" lacks its labels or frame`);
  }
  const sample: LatentSample = {
    id: record.id,
    mean: entry.mean,
    logvar: entry.logvar,
    condFrame: uint8FrameToUnit(frame as HostTensor<'uint8'>),
    fpsId: info.fpsId,
    motionBucketId: motionBucketOf(record),
    image: info.image,
    window: info.window,
    key: entry.key,
    cache,
  };
  if (record.caption !== undefined) sample.caption = record.caption;
  return sample;
}

/** Whether a cached entry has the frame count and size the dataset now asks for. */
function fits(entry: CachedLatent, record: ClipRecord, ctx: LoadContext): boolean {
  const { frames, width, height, imageFrames } = ctx.options;
  const t = record.image && imageFrames !== 'repeat' ? 1 : frames;
  const [et, , eh, ew] = entry.mean.shape;
  const frame = entry.extra?.[COND_FRAME];
  return et === t && eh * 8 === height && ew * 8 === width && frame?.shape[1] === height && frame?.shape[2] === width;
}

/** [T, 3, H, W] in [−1, 1] (values v/127.5 − 1) → frame 0 as uint8 [3, H, W], exactly the decoded bytes. */
function firstFrameUint8(frames: HostTensor<'float32'>): HostTensor<'uint8'> {
  const [, c, h, w] = frames.shape;
  const n = c * h * w;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round((frames.data[i] + 1) * 127.5);
  return new HostTensor('uint8', [c, h, w], out);
}

/** uint8 [3, H, W] → float32 [1, 3, H, W] in [−1, 1] (v/127.5 − 1, as frames-tensor.ts). */
function uint8FrameToUnit(frame: HostTensor<'uint8'>): HostTensor<'float32'> {
  const out = new Float32Array(frame.size);
  for (let i = 0; i < out.length; i++) out[i] = frame.data[i] / 127.5 - 1;
  return new HostTensor('float32', [1, ...frame.shape], out);
}

function checkMoments(id: string, frames: HostTensor<'float32'>, m: LatentMoments): void {
  const [t, , h, w] = frames.shape;
  const ok = (x: HostTensor) =>
    x?.dtype === 'float32' && x.shape.length === 4 && x.shape[0] === t && x.shape[2] * 8 === h && x.shape[3] * 8 === w;
  if (!ok(m.mean) || !ok(m.logvar) || m.mean.shape[1] !== m.logvar.shape[1]) {
    const shape = (x: HostTensor | undefined) => `[${x?.shape.join(', ') ?? ''}]`;
    throw new RangeError(
      `encode(${id}) must return float32 mean and logvar [${t}, C, ${h / 8}, ${w / 8}], got ${shape(m.mean)} and ${shape(m.logvar)}`,
    );
  }
}
