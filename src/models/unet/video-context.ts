/** What every video block needs besides its input: the frame count and the image-only indicator. */
import type { SymTensor } from '../../graph/builder.ts';
import type { MergeStrategy } from './config.ts';
import type { Tap } from './tap.ts';

export interface VideoContext {
  /** T: rows of the batch are (b t), frame-major within each video. */
  numFrames: number;
  /** [b, T] float, nonzero = image-only frame (α forced to 1); used by `learned_with_images`. */
  imageOnlyIndicator?: SymTensor;
  mergeStrategy: MergeStrategy;
  tap: Tap;
}
