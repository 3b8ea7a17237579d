/**
 * Layout descriptions: the sgm state-dict enumeration reproduces the reference key/shape manifests (released SVD)
 * and the tiny checkpoint exactly; the reference config converter; the diffusers configs and their inverse.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { CheckpointFormatError } from '../../src/weights/checkpoint-errors.ts';
import { SafetensorsFile } from '../../src/weights/index.ts';
import { checkpointConfigFromDiffusers, diffusersConfigs } from '../../src/weights/layouts/diffusers-configs.ts';
import { SVD_CHECKPOINT_CONFIG } from '../../src/weights/layouts/model-config.ts';
import { checkpointConfigFromReference } from '../../src/weights/layouts/reference-config.ts';
import { svdCheckpointShapes } from '../../src/weights/layouts/sgm-state-dict.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const MANIFESTS = `${GOLDEN_DIR}manifests/`;
const TINY = `${GOLDEN_DIR}pipeline-tiny/`;
const tinyConfig = () => checkpointConfigFromReference(JSON.parse(readFileSync(`${TINY}config.json`, 'utf8')));

/** `key<TAB>(python, tuple)` rows → key → "d0,d1" */
function readShapes(name: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(`${MANIFESTS}${name}`, 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [key, shape] = line.split('\t');
    out.set(key, shape.replace(/[() ]/g, '').replace(/,$/, ''));
  }
  return out;
}

function assertSameShapes(mine: Map<string, readonly number[]>, expected: Map<string, string>, what: string) {
  const problems: string[] = [];
  for (const [k, s] of expected) {
    const m = mine.get(k);
    if (!m) problems.push(`missing ${k}`);
    else if (m.join(',') !== s) problems.push(`${k}: ${m.join(',')} vs ${s}`);
  }
  for (const k of mine.keys()) if (!expected.has(k)) problems.push(`extra ${k}`);
  assert.deepEqual(problems.slice(0, 10), [], `${what}: ${problems.length} differences`);
}

describe('sgm state-dict enumeration', () => {
  test('released SVD config → every key and shape of the five reference manifests', () => {
    const expected = new Map<string, string>();
    for (const f of [
      'unet_keys_svd.tsv',
      'vae_keys_svd.tsv',
      'embedder3_keys_svd.tsv',
      'clip_visual_keys_svd.tsv',
      'clip_text_leftover_keys_svd.tsv',
    ]) {
      for (const [k, s] of readShapes(f)) expected.set(k, s);
    }
    assert.equal(expected.size, 1428 + 372 + 248 + 392 + 6);
    const mine = svdCheckpointShapes(SVD_CHECKPOINT_CONFIG);
    assertSameShapes(mine, expected, 'SVD');
    const params = (prefix: string) =>
      [...mine].filter(([k]) => k.startsWith(prefix)).reduce((n, [, s]) => n + s.reduce((a, d) => a * d, 1), 0);
    assert.equal(params('model.diffusion_model.'), 1_524_623_082);
    assert.equal(params('first_stage_model.'), 97_742_775);
    assert.equal(params('conditioner.embedders.3.encoder.'), 83_653_863);
    assert.equal(params('conditioner.embedders.0.open_clip.model.visual.'), 632_076_800);
  });

  test('tiny config (pipeline-tiny/config.json) → exactly the keys and shapes of the tiny checkpoint', async () => {
    const file = await SafetensorsFile.open(`${TINY}checkpoint.safetensors`);
    const expected = new Map(file.names().map((n) => [n, file.info(n).shape.join(',')]));
    await file.close();
    assertSameShapes(svdCheckpointShapes(tinyConfig()), expected, 'tiny');
  });
});

describe('reference config', () => {
  test('reads the tiny engine_config and clip_arch', () => {
    const c = tinyConfig();
    assert.deepEqual(c.unet.channelMult, [1, 2]);
    assert.deepEqual(c.unet.numResBlocks, [1, 1]);
    assert.deepEqual(c.unet.attentionResolutions, [2, 1]);
    assert.equal(c.unet.numHeadChannels, 16);
    assert.equal(c.unet.admInChannels, 24);
    assert.deepEqual(c.firstStage.chMult, [1, 1, 1, 1]);
    assert.equal(c.condEncoder.embedDim, 4);
    assert.equal(c.clip.width, 32);
    assert.equal(c.clip.heads, 2);
    assert.equal(c.microCondDim, 8);
    assert.equal(c.numFrames, 4);
  });

  test('errors name the JSON path', () => {
    const json = JSON.parse(readFileSync(`${TINY}config.json`, 'utf8'));
    delete json.engine_config.params.network_config.params.model_channels;
    assert.throws(
      () => checkpointConfigFromReference(json, 'my.json'),
      (e: unknown) =>
        e instanceof CheckpointFormatError &&
        e.code === 'bad-config' &&
        e.message === 'my.json: $.engine_config.params.network_config.params: "model_channels" must be a number',
    );
    assert.throws(() => checkpointConfigFromReference([], 'x.json'), CheckpointFormatError);
  });
});

describe('diffusers configs', () => {
  test('released SVD → the values of the HF stable-video-diffusion-img2vid configs', () => {
    const c = diffusersConfigs(SVD_CHECKPOINT_CONFIG);
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
      [e.projection_dim, e.hidden_act, e.layer_norm_eps, e.model_type],
      [1024, 'gelu', 1e-5, 'clip_vision_model'],
    );
  });

  test('reading them back gives the same model (but for text leftovers and ddconfig resolution, not in diffusers)', () => {
    for (const config of [SVD_CHECKPOINT_CONFIG, tinyConfig()]) {
      const back = checkpointConfigFromDiffusers(diffusersConfigs(config));
      const dims = { ...back.firstStage, resolution: config.firstStage.resolution };
      assert.deepEqual(
        {
          ...back,
          firstStage: dims,
          condEncoder: { ...back.condEncoder, dims },
          clip: { ...back.clip, text: config.clip.text },
          sampleSize: config.sampleSize,
        },
        config,
      );
    }
  });

  test('a model diffusers cannot express is refused with the reason', () => {
    const noLabel = { ...SVD_CHECKPOINT_CONFIG, unet: { ...SVD_CHECKPOINT_CONFIG.unet, admInChannels: undefined } };
    assert.throws(
      () => diffusersConfigs(noLabel, 'float32', 'cfg.json'),
      /cfg\.json: cannot be written as diffusers: .*label embedding/,
    );
  });
});
