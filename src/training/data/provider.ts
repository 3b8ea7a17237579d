/**
 * The training run's sample provider (`SampleProviderFactory` of src/training/run/train-run.ts) over the data of a
 * train config: `data.videos` (a folder of videos), `data.manifest` (a curated JSONL manifest) or `data.images` (a
 * folder of images), loaded by {@link ClipDataset} at `data.frames` × `data.height` × `data.width`, frame rates drawn
 * from `data.fps`, in the seeded order of `config.seed`. The provider's position is the dataset's
 * `{ epoch, index }`, so a resumed run continues with the exact next sample. Clips that cannot be used come back as
 * `{ skipped: { id, reason } }`.
 *
 * With `data.latentCache`, samples carry cached VAE posterior moments (`moments`) and only their first frame
 * (`frames` [1, 3, H, W], for the conditioning); that needs the stage's encoder, so the run builds the provider with
 * {@link createTrainDataProvider}`({ encode, cacheDir })`; the plain {@link trainDataProvider} refuses such a config.
 * Cache entries are written a shard at a time: for a resume that is exact also with the cache, the run awaits the
 * provider's `flush()` before it writes a checkpoint (entries not yet written are encoded again after a crash, from
 * the resumed run's draw). `close()` stops prefetching and writes what is buffered.
 */
import { resolve } from 'node:path';
import type { SampleContext, SampleProvider, SampleProviderFactory } from '../run/train-run.ts';
import type { TrainConfig } from '../stages/config.ts';
import type { TrainSample } from '../stages/step-batch.ts';
import { cachedLatentLoader, type EncodeFn } from './cached-latents.ts';
import { ClipDataset, type ClipDatasetOptions, type DatasetItem } from './clip-dataset.ts';
import { imageFolderSource, videoFolderSource } from './folder-source.ts';
import { LatentCache } from './latent-cache.ts';
import { manifestSource } from './manifest.ts';
import type { ClipRecord } from './record.ts';
import type { SamplePosition } from './sample-order.ts';

export interface TrainDataProviderOptions {
  /** The stage's VAE encoder; required when `config.data.latentCache` is true. */
  encode?: EncodeFn;
  /**
   * The latent cache folder (default: `<videos>/.svd-latents/<W>x<H>x<T>-<encoder>` for a folder — hidden, so the
   * folder listing skips it —, `<manifest>.latents/<W>x<H>x<T>-<encoder>` for a manifest; `<encoder>` is the digest of
   * the encoder's weights the run passes in its SampleContext).
   */
  cacheDir?: string;
  /** Samples loaded ahead (default 2). */
  prefetch?: number;
  signal?: AbortSignal;
}

/** The records of the config's data source. */
export async function listTrainData(config: TrainConfig): Promise<ClipRecord[]> {
  const d = config.data;
  if (d.videos !== undefined) return videoFolderSource(d.videos);
  if (d.manifest !== undefined) return manifestSource(d.manifest);
  if (d.images !== undefined) return imageFolderSource(d.images);
  throw new RangeError('the train config names no data: set data.videos, data.manifest or data.images');
}

/** A provider factory with the run's encoder and cache folder (see the module comment). */
export function createTrainDataProvider(opts: TrainDataProviderOptions = {}): SampleProviderFactory {
  return async (config: TrainConfig, position?: unknown, context?: SampleContext): Promise<SampleProvider> => {
    const d = config.data;
    const records = await listTrainData(config);
    const options: ClipDatasetOptions = {
      seed: config.seed,
      position: parsePosition(position),
      frames: d.frames,
      width: d.width,
      height: d.height,
      rate: { fps: d.fps },
      imageFrames: d.frames > 1 ? 'repeat' : 'single',
      colourJitter: d.colourJitter,
      channelShuffle: d.channelShuffle,
      prefetch: opts.prefetch,
      signal: opts.signal,
    };
    if (!d.latentCache) {
      const dataset = new ClipDataset(records, options);
      return provider(dataset, (s) => ({
        id: s.id,
        frames: s.frames,
        fpsId: s.fpsId,
        motionBucketId: s.motionBucketId,
      }));
    }
    const encode = context?.encode ?? opts.encode;
    if (encode === undefined) {
      throw new RangeError(
        'data.latentCache needs the stage encoder: build the provider with createTrainDataProvider({ encode })',
      );
    }
    const cache = await LatentCache.open(opts.cacheDir ?? defaultCacheDir(config, context?.encoderId));
    const dataset = new ClipDataset(records, options, cachedLatentLoader(cache, encode));
    return provider(
      dataset,
      (s) => ({
        id: s.id,
        frames: s.condFrame,
        fpsId: s.fpsId,
        motionBucketId: s.motionBucketId,
        moments: { mean: s.mean, logvar: s.logvar },
      }),
      () => cache.flush(),
      () => cache.close(),
    );
  };
}

/** The provider without a latent cache (what `svd train` passes when `data.latentCache` is false). */
export const trainDataProvider: SampleProviderFactory = createTrainDataProvider();

function provider<S>(
  dataset: ClipDataset<S>,
  toTrain: (s: S) => TrainSample,
  onFlush?: () => Promise<void>,
  onClose?: () => Promise<void>,
): SampleProvider & { flush(): Promise<void>; close(): Promise<void> } {
  return {
    async next() {
      const item: DatasetItem<S> = await dataset.next();
      if ('skipped' in item) return { skipped: { id: item.skipped.id, reason: item.skipped.reason } };
      return { sample: toTrain(item.sample) };
    },
    position: () => dataset.position,
    flush: async () => onFlush?.(),
    async close() {
      await dataset.close();
      await onFlush?.();
      await onClose?.();
    },
  };
}

function parsePosition(position: unknown): SamplePosition | undefined {
  if (position === undefined || position === null) return undefined;
  const p = position as Partial<SamplePosition>;
  if (typeof p !== 'object' || !Number.isSafeInteger(p.epoch) || !Number.isSafeInteger(p.index)) {
    throw new RangeError(`saved data position must be { epoch, index }, got ${JSON.stringify(position)}`);
  }
  return { epoch: p.epoch!, index: p.index! };
}

function defaultCacheDir(config: TrainConfig, encoderId?: string): string {
  const d = config.data;
  // one folder per size and encoder: latents made by other encoder weights are never read
  const size = `${d.width}x${d.height}x${d.frames}${encoderId ? `-${encoderId}` : ''}`;
  if (d.videos !== undefined) return resolve(d.videos, '.svd-latents', size);
  if (d.manifest !== undefined) return resolve(`${d.manifest}.latents`, size);
  return resolve(d.images!, '.svd-latents', size);
}
