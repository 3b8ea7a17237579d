/**
 * Training data (the data side of the paper's training recipe, arXiv 2311.15127 Sec. 3–4): sources that list clips
 * (a folder of videos, a folder of images, a curated JSONL manifest), the micro-condition labels, a resumable
 * seeded sample order with position-keyed random choices, the clip loader, the dataset iterator that skips bad
 * clips, and the latent cache.
 */
export { cachedLatentLoader, type EncodeFn, type LatentSample } from './cached-latents.ts';
export {
  type ClipWindow,
  checkWindowSpec,
  choiceStream,
  drawChoices,
  type FrameRate,
  resolveWindow,
  type SampleChoices,
  type WindowSpec,
  windowKey,
} from './choices.ts';
export {
  ClipDataset,
  type ClipDatasetOptions,
  type DatasetItem,
  type LoadContext,
  type SampleLoader,
  type SkippedClip,
} from './clip-dataset.ts';
export { DataSourceError, type DataSourceProblem, LatentCacheError, type LatentCacheProblem } from './errors.ts';
export { type FolderSourceOptions, imageFolderSource, videoFolderSource } from './folder-source.ts';
export { framesToTensor } from './frames-tensor.ts';
export { DEFAULT_FPS_ID, fpsIdFromFps, motionBucketOf } from './labels.ts';
export {
  type CachedLatent,
  LatentCache,
  type LatentCacheOptions,
  type LatentEntry,
  type LatentMoments,
} from './latent-cache.ts';
export { drawLatent, latentStream } from './latent-draw.ts';
export { type ClipSample, type LoadOptions, loadSample, type ProbeFn, resolveRecord } from './load-sample.ts';
export { manifestSource, parseManifestLine } from './manifest.ts';
export { type ClipRecord, IMAGE_EXTENSIONS, type ResolvedRecord, VIDEO_EXTENSIONS } from './record.ts';
export { type OrderStep, SampleOrder, type SamplePosition } from './sample-order.ts';
