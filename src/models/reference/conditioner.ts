/**
 * The conditioner's embedders from the reference config (`conditioner_config.params.emb_models` of an sgm YAML,
 * svd-spec.md §1.4), as typed `EmbedderSpec`s. Their order decides both the checkpoint keys
 * (`conditioner.embedders.<index>.*`) and the order in which same-key outputs are concatenated (`vector` = fps_id,
 * motion_bucket_id, cond_aug for SVD); `ucg_rate` (conditioning dropout, default 0) is kept for training.
 */
import type { EmbedderSpec } from '../description.ts';
import { autoencoderKLFromSgm } from '../vae/config.ts';
import { type Json, ModelConfigError } from './errors.ts';

const CLIP_TARGET = 'sgm.modules.encoders.modules.FrozenOpenCLIPImagePredictionEmbedder';
const TIMESTEP_TARGET = 'sgm.modules.encoders.modules.ConcatTimestepEmbedderND';
const ENCODER_TARGET = 'sgm.modules.encoders.modules.VideoPredictionEmbedderWithEncoder';

function ucgRate(m: Json, where: string): number {
  const r = m.ucg_rate ?? 0;
  if (typeof r !== 'number' || !(r >= 0 && r <= 1)) throw new ModelConfigError(`${where}.ucg_rate must be in [0, 1]`);
  return r;
}

/** `emb_models` → embedder specs; `where` is the JSON path of the conditioner config, for messages. */
export function embeddersFromSgm(conditionerConfig: Json | undefined, where = 'conditioner_config'): EmbedderSpec[] {
  const models = conditionerConfig?.params?.emb_models;
  if (!Array.isArray(models)) throw new ModelConfigError(`${where}.params.emb_models must be a list`);
  return models.map((m: Json, index: number): EmbedderSpec => {
    const at = `${where}.params.emb_models[${index}]`;
    const params = m.params ?? {};
    const inputKey = String(m.input_key);
    const common = { index, inputKey, ucgRate: ucgRate(m, at) };
    switch (m.target) {
      case CLIP_TARGET:
        return { ...common, kind: 'clip-image', nCondFrames: params.n_cond_frames ?? 1, nCopies: params.n_copies ?? 1 };
      case TIMESTEP_TARGET: {
        const outdim = Number(params.outdim);
        if (!Number.isInteger(outdim) || outdim < 2) {
          throw new ModelConfigError(`${at}.params.outdim must be an integer ≥ 2`);
        }
        return { ...common, kind: 'timestep', outdim };
      }
      case ENCODER_TARGET: {
        const enc = params.encoder_config;
        if (enc?.target !== 'sgm.models.autoencoder.AutoencoderKLModeOnly') {
          throw new ModelConfigError(`${at}: encoder ${enc?.target} is not supported (AutoencoderKLModeOnly only)`);
        }
        if ((params.scale_factor ?? 1.0) !== 1.0 || params.sigma_sampler_config || params.sigma_cond_config) {
          throw new ModelConfigError(
            `${at}: scale_factor, sigma_sampler_config and sigma_cond_config are not supported`,
          );
        }
        if ((params.n_copies ?? 1) !== 1) throw new ModelConfigError(`${at}: n_copies ≠ 1 is not supported`);
        return { ...common, kind: 'cond-frames-encoder', autoencoder: autoencoderKLFromSgm(enc.params), nCopies: 1 };
      }
      default:
        throw new ModelConfigError(`${at} (${inputKey}): ${m.target} is not supported`);
    }
  });
}
