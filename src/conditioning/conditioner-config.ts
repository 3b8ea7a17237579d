/**
 * The conditioner's embedders, read from the reference config (`conditioner_config.params.emb_models` of the sgm
 * YAML, svd-spec.md §1.4). Their order decides both the checkpoint keys (`conditioner.embedders.<index>.*`) and the
 * order in which same-key outputs are concatenated (`vector` = fps_id, motion_bucket_id, cond_aug for SVD).
 */
import { type AutoencoderKLConfig, autoencoderKLFromSgm } from '../models/vae/config.ts';

export type EmbedderSpec =
  | { kind: 'clip-image'; index: number; inputKey: string; nCondFrames: number; nCopies: number }
  | { kind: 'timestep'; index: number; inputKey: string; outdim: number }
  | { kind: 'cond-frames-encoder'; index: number; inputKey: string; autoencoder: AutoencoderKLConfig; nCopies: number };

const CLIP_TARGET = 'sgm.modules.encoders.modules.FrozenOpenCLIPImagePredictionEmbedder';
const TIMESTEP_TARGET = 'sgm.modules.encoders.modules.ConcatTimestepEmbedderND';
const ENCODER_TARGET = 'sgm.modules.encoders.modules.VideoPredictionEmbedderWithEncoder';

// biome-ignore lint/suspicious/noExplicitAny: the reference's YAML structure
type Sgm = Record<string, any>;

export function embeddersFromSgm(conditionerConfig: Sgm): EmbedderSpec[] {
  const models = conditionerConfig?.params?.emb_models;
  if (!Array.isArray(models)) throw new Error('conditioner_config.params.emb_models must be a list');
  return models.map((m: Sgm, index: number): EmbedderSpec => {
    const params = m.params ?? {};
    const inputKey = String(m.input_key);
    if (m.ucg_rate && m.ucg_rate !== 0) {
      // Conditioning dropout belongs to training; inference ignores it, as the reference does when sampling.
    }
    switch (m.target) {
      case CLIP_TARGET:
        return {
          kind: 'clip-image',
          index,
          inputKey,
          nCondFrames: params.n_cond_frames ?? 1,
          nCopies: params.n_copies ?? 1,
        };
      case TIMESTEP_TARGET:
        return { kind: 'timestep', index, inputKey, outdim: Number(params.outdim) };
      case ENCODER_TARGET: {
        const enc = params.encoder_config;
        if (enc?.target !== 'sgm.models.autoencoder.AutoencoderKLModeOnly') {
          throw new Error(`embedder ${index}: encoder ${enc?.target} is not supported (AutoencoderKLModeOnly only)`);
        }
        if ((params.scale_factor ?? 1.0) !== 1.0 || params.sigma_sampler_config || params.sigma_cond_config) {
          throw new Error(
            `embedder ${index}: scale_factor, sigma_sampler_config and sigma_cond_config are not supported`,
          );
        }
        return {
          kind: 'cond-frames-encoder',
          index,
          inputKey,
          autoencoder: autoencoderKLFromSgm(enc.params),
          nCopies: params.n_copies ?? 1,
        };
      }
      default:
        throw new Error(`embedder ${index} (${inputKey}): ${m.target} is not supported`);
    }
  });
}

/** Width of the `vector` conditioning (sum of the timestep embedders' outdims). */
export function vectorWidth(embedders: readonly EmbedderSpec[]): number {
  return embedders.reduce((n, e) => n + (e.kind === 'timestep' ? e.outdim : 0), 0);
}
