/**
 * The one typed description of a whole SVD-family model (sgm `DiffusionEngine`, svd-spec.md §1): the VideoUNet, the
 * first stage, the conditioner's embedders (in checkpoint order, with their input keys and conditioning-dropout
 * rates), the CLIP image tower, the latent scale factor and the sampling defaults of the reference script. Presets
 * (./presets.ts) are values of this type; the reference's `{ engine_config, clip_arch }` JSON is read into it by one
 * adapter (./reference/model-config.ts). Checkpoint keys are enumerated from it (./declare-params.ts), never listed apart.
 */
import type { GuiderKind, SamplerKind } from '../diffusion/config.ts';
import type { ClipVisionConfig } from './clip/config.ts';
import type { VideoUNetConfig } from './unet/config.ts';
import type { AutoencoderConfig, AutoencoderKLConfig } from './vae/config.ts';

interface EmbedderCommon {
  /** Position in `conditioner.embedders` (checkpoint keys `conditioner.embedders.<index>.*`). */
  readonly index: number;
  /** The batch key it embeds (`cond_frames_without_noise`, `fps_id`, `cond_frames`, …). */
  readonly inputKey: string;
  /** Conditioning dropout for training (`ucg_rate`): the probability of zeroing this embedding per sample. */
  readonly ucgRate: number;
}

/**
 * One conditioner embedder (sgm `sgm/modules/encoders/modules.py`):
 * - `clip-image`: `FrozenOpenCLIPImagePredictionEmbedder` → `crossattn`;
 * - `timestep`: `ConcatTimestepEmbedderND(outdim)` → part of `vector`;
 * - `cond-frames-encoder`: `VideoPredictionEmbedderWithEncoder` around `AutoencoderKLModeOnly` → `concat`.
 */
export type EmbedderSpec =
  | (EmbedderCommon & { readonly kind: 'clip-image'; readonly nCondFrames: number; readonly nCopies: number })
  | (EmbedderCommon & { readonly kind: 'timestep'; readonly outdim: number })
  | (EmbedderCommon & {
      readonly kind: 'cond-frames-encoder';
      readonly autoencoder: AutoencoderKLConfig;
      readonly nCopies: number;
    });

/** The first stage: which decoder, and whether the checkpoint holds an encoder / quant convs. */
export type FirstStageSpec =
  | {
      /** `AutoencodingEngine`: an optional `Encoder` (absent = `torch.nn.Identity`, sv3d) and a decoder. */
      readonly kind: 'autoencoding-engine';
      readonly encoder?: AutoencoderConfig;
      readonly decoder: AutoencoderConfig;
      /** The temporal `VideoDecoder` (true) or the per-frame image `Decoder`. */
      readonly videoDecoder: boolean;
    }
  | { readonly kind: 'autoencoder-kl'; readonly kl: AutoencoderKLConfig };

/** What `simple_video_sample.py` uses for a model (svd-spec.md §2.1), and the sgm sampler config's values. */
export interface SamplingDefaults {
  readonly numFrames: number;
  readonly numSteps: number;
  /** The sampler (default `euler`, sgm's EulerEDMSampler; AnimateLCM-SVD-xt: `lcm`). */
  readonly sampler?: SamplerKind;
  /** The sampler config's guider (`LinearPredictionGuider`, `TrianglePredictionGuider`, `VanillaCFG`, none). */
  readonly guider: GuiderKind;
  readonly minCfg: number;
  readonly maxCfg: number;
  /** EDM discretization. */
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  readonly rho: number;
  readonly fpsId: number;
  readonly motionBucketId: number;
  readonly condAug: number;
  /** Frames per decoder call (`decoding_t`). */
  readonly decodeChunk: number;
  /** [width, height] the model was trained at (the default output size). */
  readonly size: readonly [number, number];
}

export interface SvdModel {
  readonly name: string;
  readonly description: string;
  readonly unet: VideoUNetConfig;
  readonly firstStage: FirstStageSpec;
  /** In checkpoint order; same-key outputs are concatenated in this order (`vector` = fps, motion, cond_aug). */
  readonly embedders: readonly EmbedderSpec[];
  readonly clip: ClipVisionConfig;
  /** `DiffusionEngine.scale_factor` (0.18215): latents are divided by it before decoding. */
  readonly scaleFactor: number;
  readonly sampling: SamplingDefaults;
  /**
   * Progress previews: latent channel → (R, G, B), a least-squares fit of the decoded colour (one row per channel).
   * Absent: the SD VAE's fit for a 4-channel latent, no preview otherwise.
   */
  readonly latentRgb?: readonly (readonly number[])[];
}

/** The embedder of `kind`, or undefined. */
export function findEmbedder<K extends EmbedderSpec['kind']>(
  model: Pick<SvdModel, 'embedders'>,
  kind: K,
): Extract<EmbedderSpec, { kind: K }> | undefined {
  return model.embedders.find((e): e is Extract<EmbedderSpec, { kind: K }> => e.kind === kind);
}

/** Width of the `vector` conditioning (sum of the timestep embedders' outdims). */
export function vectorWidth(embedders: readonly EmbedderSpec[]): number {
  return embedders.reduce((n, e) => n + (e.kind === 'timestep' ? e.outdim : 0), 0);
}

/** Checkpoint prefix of an embedder (`conditioner.embedders.<index>`). */
export function embedderPrefix(e: Pick<EmbedderSpec, 'index'>): string {
  return `conditioner.embedders.${e.index}`;
}

/** Checkpoint prefix of the CLIP image tower (`conditioner.embedders.<i>.open_clip.model.visual`), if any. */
export function clipVisualPrefix(model: Pick<SvdModel, 'embedders'>): string | undefined {
  const e = findEmbedder(model, 'clip-image');
  return e && `${embedderPrefix(e)}.open_clip.model.visual`;
}

/** Checkpoint prefix of the conditioning autoencoder (`conditioner.embedders.<i>.encoder`), if any. */
export function condEncoderPrefix(model: Pick<SvdModel, 'embedders'>): string | undefined {
  const e = findEmbedder(model, 'cond-frames-encoder');
  return e && `${embedderPrefix(e)}.encoder`;
}

/** The video micro-conditions of image-to-video (svd.yaml); a model that reads none of them is multi-view. */
const VIDEO_MICRO_CONDITIONS: readonly string[] = ['fps_id', 'motion_bucket_id'];

/**
 * Whether the model is a multi-view orbit model (SV3D_u / SV3D_p: conditioned on the image, `cond_aug` and, for
 * SV3D_p, the camera), i.e. its conditioner reads no frame-rate or motion micro-condition.
 */
export function isMultiViewModel(model: Pick<SvdModel, 'embedders'>): boolean {
  return !model.embedders.some((e) => VIDEO_MICRO_CONDITIONS.includes(e.inputKey));
}
