/**
 * The diffusers configs of a model: the released SVD gives the values of the HF stable-video-diffusion-img2vid
 * configs, reading them back gives the same model, and what diffusers cannot express is refused with the reason.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { declareModelParams } from '../../src/models/declare-params.ts';
import type { FirstStageSpec } from '../../src/models/description.ts';
import { diffusersConfigs, modelFromDiffusersConfigs } from '../../src/models/diffusers-config.ts';
import { PRESETS } from '../../src/models/presets.ts';
import { loadModelConfig } from '../../src/models/reference/model-config.ts';
import { SVD_VIDEO_DECODER_CONFIG } from '../../src/models/vae/config.ts';
import { CheckpointFormatError } from '../../src/weights/checkpoint-errors.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const tiny = () => loadModelConfig(`${GOLDEN_DIR}pipeline-tiny/config.json`);

describe('diffusers configs', () => {
  test('released SVD → the values of the HF stable-video-diffusion-img2vid configs', () => {
    const c = diffusersConfigs(PRESETS.svd);
    assert.deepEqual(c.unet, {
      _class_name: 'UNetSpatioTemporalConditionModel',
      _diffusers_version: '0.24.0',
      addition_time_embed_dim: 256,
      block_out_channels: [320, 640, 1280, 1280],
      cross_attention_dim: 1024,
      down_block_types: [
        'CrossAttnDownBlockSpatioTemporal',
        'CrossAttnDownBlockSpatioTemporal',
        'CrossAttnDownBlockSpatioTemporal',
        'DownBlockSpatioTemporal',
      ],
      in_channels: 8,
      layers_per_block: 2,
      num_attention_heads: [5, 10, 20, 20],
      num_frames: 14,
      out_channels: 4,
      projection_class_embeddings_input_dim: 768,
      sample_size: 96,
      transformer_layers_per_block: 1,
      up_block_types: [
        'UpBlockSpatioTemporal',
        'CrossAttnUpBlockSpatioTemporal',
        'CrossAttnUpBlockSpatioTemporal',
        'CrossAttnUpBlockSpatioTemporal',
      ],
    });
    assert.deepEqual(c.vae, {
      _class_name: 'AutoencoderKLTemporalDecoder',
      _diffusers_version: '0.24.0',
      block_out_channels: [128, 256, 512, 512],
      down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D'],
      force_upcast: true,
      in_channels: 3,
      latent_channels: 4,
      layers_per_block: 2,
      out_channels: 3,
      sample_size: 768,
      scaling_factor: 0.18215,
    });
    const e = c.image_encoder;
    assert.deepEqual(
      [e.hidden_size, e.intermediate_size, e.num_hidden_layers, e.num_attention_heads, e.patch_size, e.image_size],
      [1280, 5120, 32, 16, 14, 224],
    );
    assert.deepEqual(
      [e.projection_dim, e.hidden_act, e.layer_norm_eps, e.model_type, e.torch_dtype],
      [1024, 'gelu', 1e-5, 'clip_vision_model', 'float32'],
    );
    // svd-xt: the img2vid-xt value; the values only diffusers needs are options.
    assert.equal(diffusersConfigs(PRESETS['svd-xt']).unet.num_frames, 25);
    const opts = diffusersConfigs(PRESETS.svd, { numFrames: 25, sampleSize: 1024, clipDtype: 'float16' });
    assert.deepEqual(
      [opts.unet.num_frames, opts.unet.sample_size, opts.vae.sample_size, opts.image_encoder.torch_dtype],
      [25, 128, 1024, 'float16'],
    );
  });

  test('reading them back gives the same model', () => {
    for (const name of ['svd', 'svd-xt', 'svd-xt-1.1']) {
      const model = PRESETS[name];
      const back = modelFromDiffusersConfigs(diffusersConfigs(model), 'folder');
      assert.equal(back.name, 'folder');
      assert.deepEqual(
        { ...back, name: model.name, description: model.description, sampling: model.sampling },
        model,
        name,
      );
      assert.equal(back.sampling.numFrames, model.sampling.numFrames);
      assert.deepEqual(back.sampling.size, [1024, 576], 'the released network: its trained size');
    }
    // The tiny model: the same keys and shapes, and the same dimensions where diffusers records them.
    const model = tiny();
    const back = modelFromDiffusersConfigs(diffusersConfigs(model));
    assert.deepEqual(declareModelParams(back).shapes, declareModelParams(model).shapes);
    assert.deepEqual(back.unet, model.unet);
    assert.deepEqual(back.clip, model.clip);
    assert.deepEqual(
      back.embedders.map((e) => [e.index, e.kind, e.inputKey]),
      model.embedders.map((e) => [e.index, e.kind, e.inputKey]),
    );
    assert.equal(back.scaleFactor, model.scaleFactor);
    assert.equal(back.sampling.numFrames, 4);
    // Its own size, not the released 1024×576: written as the VAE's sample_size, read back square.
    assert.equal(diffusersConfigs(model).vae.sample_size, 64);
    assert.deepEqual(back.sampling.size, [64, 64]);
  });

  test('a model diffusers cannot express is refused with the reason', () => {
    const noLabel = { ...PRESETS.svd, unet: { ...PRESETS.svd.unet, numClasses: undefined, admInChannels: undefined } };
    const refused = (model: typeof PRESETS.svd, reason: RegExp, label = 'cfg.json') =>
      assert.throws(
        () => diffusersConfigs(model, { label }),
        (e: unknown) =>
          e instanceof CheckpointFormatError &&
          e.code === 'bad-config' &&
          e.message.startsWith(`${label}: cannot be written as diffusers: `) &&
          reason.test(e.message),
      );
    refused(noLabel, /label embedding/);
    refused(PRESETS['svd-image-decoder'], /not the temporal VideoDecoder/);
    refused(loadModelConfig(`${GOLDEN_DIR}pipeline-sv3d-tiny/config.json`), /not the temporal VideoDecoder/);
    // The released sv3d_p.yaml decodes frame by frame; with a VideoDecoder (a pre-release yaml) it would still be
    // refused: a diffusers SVD folder has SVD's conditioner order.
    refused(PRESETS['sv3d-p'], /not the temporal VideoDecoder/);
    refused(
      {
        ...PRESETS['sv3d-p'],
        firstStage: { kind: 'autoencoding-engine', decoder: SVD_VIDEO_DECODER_CONFIG, videoDecoder: true },
      },
      /conditioner order \(conditioner\.embedders\.3\.encoder\); this model has conditioner\.embedders\.1\.encoder/,
    );
    // AutoencoderKLTemporalDecoder has no norm_num_groups (its GroupNorms are 32, as sgm's): another count is refused
    // in one line, whichever of the VAEs sets it, rather than written as a config that builds 32.
    const withGroups = (groups: number, part: 'encoder' | 'decoder' | 'cond'): typeof PRESETS.svd => {
      const svd = PRESETS.svd;
      const fs = svd.firstStage as Extract<FirstStageSpec, { kind: 'autoencoding-engine' }>;
      return {
        ...svd,
        firstStage: {
          ...fs,
          encoder: part === 'encoder' ? { ...fs.encoder!, normGroups: groups } : fs.encoder,
          decoder: part === 'decoder' ? { ...fs.decoder, normGroups: groups } : fs.decoder,
        },
        embedders: svd.embedders.map((e) =>
          e.kind === 'cond-frames-encoder' && part === 'cond'
            ? { ...e, autoencoder: { ...e.autoencoder, ddconfig: { ...e.autoencoder.ddconfig, normGroups: groups } } }
            : e,
        ),
      };
    };
    for (const part of ['encoder', 'decoder', 'cond'] as const) {
      refused(
        withGroups(16, part),
        /: the VAE's GroupNorms have 16 groups \(normGroups\); diffusers AutoencoderKLTemporalDecoder has no norm_num_groups field and always builds 32$/,
      );
      assert.doesNotThrow(() => diffusersConfigs(withGroups(32, part)), part);
    }
    assert.equal(diffusersConfigs(withGroups(32, 'decoder')).vae.norm_num_groups, undefined);
  });

  test('a bad diffusers config names its file', () => {
    const c = diffusersConfigs(PRESETS.svd);
    assert.throws(
      () => modelFromDiffusersConfigs({ ...c, image_encoder: { ...c.image_encoder, hidden_size: 'wide' } }, 'dir'),
      (e: unknown) =>
        e instanceof CheckpointFormatError &&
        e.message === 'dir/image_encoder/config.json: "hidden_size" must be a number',
    );
    assert.throws(
      () => modelFromDiffusersConfigs({ ...c, unet: { ...c.unet, layers_per_block: [2, 1, 2, 2] } }, 'dir'),
      /dir\/unet\/config\.json: "layers_per_block" differs between levels/,
    );
  });
});
