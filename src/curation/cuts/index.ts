/**
 * Cut (shot boundary) detection for curation: OpenCV-exact HSV, PySceneDetect's ContentDetector and
 * AdaptiveDetector (v0.7.1 semantics), the three-rate cascade of the SVD paper with frame-exact localisation, the
 * `CutDetector` interface (TransNetV2 declared, model file required), and splitting into clips.
 */
export { analysisSize, DEFAULT_ANALYSIS_WIDTH } from './analysis-size.ts';
export {
  AdaptiveCutDetector,
  type CascadeCut,
  CascadeCutDetector,
  type CascadeLevel,
  type CascadeLevelReport,
  type CascadeOptions,
  type CascadeResult,
  ContentCutDetector,
  DEFAULT_CASCADE_LEVELS,
  type LevelRule,
  levelStride,
} from './cascade.ts';
export {
  ContentScorer,
  type ContentWeights,
  DEFAULT_CONTENT_WEIGHTS,
  LUMA_ONLY_WEIGHTS,
} from './content.ts';
export {
  type CutDetector,
  CutDetectorError,
  type CutDetectorProblem,
  type DetectOptions,
  TransNetV2CutDetector,
  type TransNetV2Options,
} from './cut-detector.ts';
export {
  ADAPTIVE_DEFAULTS,
  type AdaptiveDetectorOptions,
  AdaptiveRule,
  CONTENT_DEFAULTS,
  type ContentDetectorOptions,
  ContentRule,
  FlashFilter,
  type FlashFilterMode,
} from './detectors.ts';
export { rgbToHsvPixel, rgbToHsvPlanes } from './hsv.ts';
export { type Clip, clipsFromCuts, DEFAULT_MIN_CLIP_SECONDS, type SplitOptions } from './split.ts';
export { detectVideoCuts, splitVideo, type VideoCutOptions, type VideoCuts } from './video.ts';
