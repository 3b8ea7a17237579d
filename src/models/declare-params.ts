/**
 * Every parameter of a model description, shape-only, under the sgm single-file keys (`model.diffusion_model.*`,
 * `first_stage_model.*`, `conditioner.embedders.<index>.*`): the `ParamTree` that strict loading, checkpoint
 * conversion and the diffusers layout enumerate keys from. Also the key groups the reference ignores at inference,
 * placed by the model's own embedder indices (sv3d's conditioning encoder is embedder 1, svd's is 3).
 */
import { GraphBuilder } from '../graph/builder.ts';
import { Params, ParamTree } from '../nn/params.ts';
import type { IgnoreGroup } from '../weights/checkpoint-check.ts';
import { declareConditioner } from './conditioner/conditioner.ts';
import { condEncoderPrefix, embedderPrefix, findEmbedder, type SvdModel } from './description.ts';
import { UNET_PREFIX } from './svd-network.ts';
import { declareVideoUNetParams } from './unet/index.ts';
import { declareAutoencoderKL, declareDecoder, declareEncoder, declareVideoDecoder } from './vae/declarations.ts';

/** Where the first stage lives in the checkpoint. */
export const FIRST_STAGE_PREFIX = 'first_stage_model';

/** Every parameter of the model (shape-only), under the sgm single-file keys. */
export function declareModelParams(model: SvdModel): ParamTree {
  const tree = new ParamTree();
  const b = new GraphBuilder('declare');
  const root = new Params(b, '', tree);
  declareVideoUNetParams(root.pp(UNET_PREFIX), model.unet);
  const fs = model.firstStage;
  const first = root.pp(FIRST_STAGE_PREFIX);
  if (fs.kind === 'autoencoding-engine') {
    if (fs.encoder) declareEncoder(first.pp('encoder'), fs.encoder);
    if (fs.videoDecoder) declareVideoDecoder(first.pp('decoder'), fs.decoder);
    else declareDecoder(first.pp('decoder'), fs.decoder);
  } else {
    declareAutoencoderKL(first, fs.kl);
  }
  declareConditioner(b, root, model.embedders, model.clip);
  return tree;
}

/** open_clip's text-tower parameters that sgm's image embedder leaves in the checkpoint (never used). */
const CLIP_TEXT_LEFTOVERS = ['token_embedding', 'positional_embedding', 'ln_final', 'text_projection', 'logit_scale'];

/**
 * The keys the reference itself ignores when it loads this model for inference: the open_clip text-tower leftovers,
 * the first-stage encoder (inference encodes the conditioning frame with the conditioner's autoencoder), and that
 * autoencoder's decoder and post_quant_conv (`AutoencoderKLModeOnly` builds them but only encodes).
 */
export function inferenceIgnoreGroups(model: SvdModel): IgnoreGroup[] {
  const groups: IgnoreGroup[] = [];
  const clip = findEmbedder(model, 'clip-image');
  if (clip) {
    const root = `${embedderPrefix(clip)}.open_clip.model`;
    groups.push({
      reason:
        'open_clip text-tower leftovers (sgm deletes only the text transformer; the image embedder never uses them)',
      patterns: CLIP_TEXT_LEFTOVERS.map((k) => `${root}.${k}`),
    });
  }
  groups.push({
    reason: 'first-stage encoder (inference encodes the conditioning frame with the conditioner’s autoencoder)',
    patterns: [`${FIRST_STAGE_PREFIX}.encoder`],
  });
  const enc = condEncoderPrefix(model);
  if (enc) {
    groups.push({
      reason:
        'conditioning autoencoder decoder and post_quant_conv (AutoencoderKLModeOnly builds them but only encodes)',
      patterns: [`${enc}.decoder`, `${enc}.post_quant_conv`],
    });
  }
  return groups;
}
