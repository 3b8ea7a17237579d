/**
 * sgm `encoders/modules.py::FrozenOpenCLIPImageEmbedder` as SVD uses it (`antialias True`, `num_image_crops 0`,
 * `output_tokens False`, `ucg_rate 0`): `encode_with_vision_transformer` = `preprocess` then `model.visual`.
 * `p` is the embedder's own prefix (`conditioner.embedders.0.open_clip`); the tower sits under `model.visual`.
 */

import type { SymTensor } from '../../graph/builder.ts';
import { ShapeError } from '../../graph/errors.ts';
import * as op from '../../graph/ops/index.ts';
import type { Params } from '../../nn/params.ts';
import type { ClipVisionConfig } from './config.ts';
import { clipPreprocess } from './preprocess.ts';
import { clipVisionTransformer } from './vision-transformer.ts';

/** image [B, 3, H, W] in [-1, 1] → unnormalised CLIP image embedding [B, outputDim]. */
export function frozenOpenClipImageEmbedder(p: Params, image: SymTensor, cfg: ClipVisionConfig): SymTensor {
  const pixels = clipPreprocess(image, cfg.imageSize); // [B, 3, imageSize, imageSize]
  return clipVisionTransformer(p.pp('model').pp('visual'), pixels, cfg);
}

/**
 * sgm `FrozenOpenCLIPImagePredictionEmbedder(n_cond_frames, n_copies)` (`p` = `conditioner.embedders.0`):
 * embeds `(b t)` frames, `(b t) d -> b t d`, then repeats each video `n_copies` times → [b·nCopies, t, outputDim]
 * (SVD: t = 1, nCopies = 1 ⇒ [B, 1, 1024], the `crossattn` conditioning).
 */
export function frozenOpenClipImagePredictionEmbedder(
  p: Params,
  frames: SymTensor,
  cfg: ClipVisionConfig,
  opts: { nCondFrames?: number; nCopies?: number } = {},
): SymTensor {
  const t = opts.nCondFrames ?? 1;
  const copies = opts.nCopies ?? 1;
  if (frames.shape[0] % t !== 0) {
    throw new ShapeError(
      'frozenOpenClipImagePredictionEmbedder',
      `${frames.shape[0]} frames are not a multiple of ${t}`,
    );
  }
  const z = frozenOpenClipImageEmbedder(p.pp('open_clip'), frames, cfg); // [(b t), D]
  const b = z.shape[0] / t;
  const d = cfg.outputDim;
  let y = op.reshape(z, [b, 1, t, d]); // [(b t), D] -> [b, 1, t, D]
  if (copies > 1) y = op.expand(y, [b, copies, t, d]); // repeat "b t d -> (b s) t d"
  return op.reshape(y, [b * copies, t, d]); // [b, s, t, D] -> [(b s), t, D]
}
