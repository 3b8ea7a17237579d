/**
 * Motion for curation: Farneback dense optical flow (OpenCV's algorithm and defaults of the anchors), the
 * resolution-independent motion score of a clip at 2 fps, corpus motion buckets, and the camera-motion class.
 */
export {
  BUCKET_LEVELS,
  checkMotionBucketTable,
  fitMotionBuckets,
  type MotionBucketTable,
  motionBucket,
  motionBucketFromCorpus,
  percentileRank,
} from './buckets.ts';
export {
  CAMERA_THRESHOLDS,
  type CameraFit,
  type CameraMotionClass,
  type CameraThresholds,
  classifyCamera,
  fitCamera,
  meanCameraFit,
} from './camera.ts';
export {
  FarnebackFlow,
  type FarnebackParams,
  type FarnebackPyramid,
  farnebackFlow,
  type GrayPixels,
  VIDEO2DATASET_FARNEBACK,
} from './farneback.ts';
export { rgbToGray } from './gray.ts';
export {
  analysisSize,
  type ClipMotion,
  type ClipMotionOptions,
  clipMotion,
  MOTION_ANALYSIS,
  MotionAccumulator,
  meanFlowMagnitude,
  motionOfFrames,
  motionOfGrayFrames,
} from './score.ts';
