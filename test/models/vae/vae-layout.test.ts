/**
 * Checkpoint layout of the VAE modules, without running them:
 * - the tiny pipeline checkpoint (test/fixtures/golden/pipeline-tiny): the graphs SVD runs read exactly
 *   `first_stage_model.decoder.*` and `conditioner.embedders.3.encoder.{encoder,quant_conv}.*`, and the shape-only
 *   declarations of what the reference ignores at inference cover every other key of those two modules;
 * - full size: the shape-only SVD first stage and conditioning autoencoder equal the reference manifests
 *   (test/fixtures/golden/manifests), tensor by tensor, with the published parameter counts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { GraphBuilder } from '../../../src/graph/builder.ts';
import { encodeModeOnly } from '../../../src/models/vae/autoencoder.ts';
import {
  autoencoderKLFromSgm,
  ddconfigFromSgm,
  SVD_CONDITIONING_AUTOENCODER,
  SVD_DDCONFIG,
  SVD_VIDEO_DECODER_CONFIG,
} from '../../../src/models/vae/config.ts';
import {
  declareAutoencoderKL,
  declareEncoder,
  declareFirstStage,
  declareModeOnlyUnused,
  declareVideoDecoder,
} from '../../../src/models/vae/declarations.ts';
import { buildVideoDecoder } from '../../../src/models/vae/video-decoder.ts';
import { Params, ParamTree } from '../../../src/nn/params.ts';
import type { Shape } from '../../../src/tensor/shape.ts';
import { SafetensorsFile } from '../../../src/weights/index.ts';
import { GOLDEN_DIR } from '../../helpers/golden.ts';

function shapesAsObject(m: ReadonlyMap<string, Shape>): Record<string, number[]> {
  const o: Record<string, number[]> = {};
  for (const k of [...m.keys()].sort()) o[k] = [...m.get(k)!];
  return o;
}

function count(m: ReadonlyMap<string, Shape>): number {
  let n = 0;
  for (const s of m.values()) n += s.reduce((a, d) => a * d, 1);
  return n;
}

/** A manifest TSV (`key<TAB>(d0, d1, ...)`, `# ` comments) as key → shape. */
function readKeyTable(name: string): Map<string, Shape> {
  const out = new Map<string, Shape>();
  for (const line of readFileSync(`${GOLDEN_DIR}manifests/${name}`, 'utf8').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const [key, shape] = line.split('\t');
    const dims = shape
      .replace(/[()\s]/g, '')
      .split(',')
      .filter((d) => d !== '')
      .map(Number);
    out.set(key, dims);
  }
  return out;
}

function scratchParams(prefix: string, tree = new ParamTree()): Params {
  return new Params(new GraphBuilder('layout'), prefix, tree);
}

describe('pipeline-tiny checkpoint: VAE keys', () => {
  test('used keys = the graphs SVD runs; ignored-but-known keys = the shape-only declarations', async () => {
    const engineCfg = JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-tiny/config.json`, 'utf8')).engine_config.params;
    const fs = engineCfg.first_stage_config.params;
    assert.equal(engineCfg.first_stage_config.target, 'sgm.models.autoencoder.AutoencodingEngine');
    const encoderCfg = ddconfigFromSgm(fs.encoder_config.params);
    const decoderCfg = ddconfigFromSgm(fs.decoder_config.params);
    const embIndex = (engineCfg.conditioner_config.params.emb_models as { target: string }[]).findIndex((e) =>
      e.target.endsWith('VideoPredictionEmbedderWithEncoder'),
    );
    assert.equal(embIndex, 3);
    const emb = engineCfg.conditioner_config.params.emb_models[embIndex].params.encoder_config;
    assert.equal(emb.target, 'sgm.models.autoencoder.AutoencoderKLModeOnly');
    const klCfg = autoencoderKLFromSgm(emb.params);
    const condPrefix = `conditioner.embedders.${embIndex}.encoder`;

    // What inference reads: the video decoder (4 frames of an 8×8 latent) and the conditioning encoder (64×64 image).
    const used = new ParamTree();
    const b = new GraphBuilder('pipeline_tiny_vae');
    b.output(
      'frames',
      buildVideoDecoder(new Params(b, 'first_stage_model.decoder', used), b.input('z', [4, 4, 8, 8]), decoderCfg, 4),
    );
    b.output('cond', encodeModeOnly(new Params(b, condPrefix, used), b.input('image', [1, 3, 64, 64]), klCfg));
    // What the reference loads but never reads.
    const ignored = new ParamTree();
    declareEncoder(scratchParams('first_stage_model.encoder', ignored), encoderCfg);
    declareModeOnlyUnused(scratchParams(condPrefix, ignored), klCfg);

    const file = await SafetensorsFile.open(`${GOLDEN_DIR}pipeline-tiny/checkpoint.safetensors`);
    const ckpt = new Map<string, Shape>();
    try {
      for (const n of file.names()) ckpt.set(n, file.info(n).shape);
    } finally {
      await file.close();
    }
    const pick = (pred: (k: string) => boolean) => new Map([...ckpt].filter(([k]) => pred(k)));
    const wantUsed = pick(
      (k) =>
        k.startsWith('first_stage_model.decoder.') ||
        k.startsWith(`${condPrefix}.encoder.`) ||
        k.startsWith(`${condPrefix}.quant_conv.`),
    );
    const wantIgnored = pick(
      (k) =>
        k.startsWith('first_stage_model.encoder.') ||
        k.startsWith(`${condPrefix}.decoder.`) ||
        k.startsWith(`${condPrefix}.post_quant_conv.`),
    );
    assert.deepEqual(shapesAsObject(used.shapes), shapesAsObject(wantUsed));
    assert.deepEqual(shapesAsObject(ignored.shapes), shapesAsObject(wantIgnored));
    // Together they are every key of the two modules in the checkpoint.
    const all = pick((k) => k.startsWith('first_stage_model.') || k.startsWith(`conditioner.embedders.${embIndex}.`));
    assert.equal(used.shapes.size + ignored.shapes.size, all.size);
  });
});

describe('full-size SVD VAE key tables', () => {
  test('first stage (encoder + VideoDecoder, no quant convs) = manifests/vae_keys_svd.tsv', () => {
    const tree = new ParamTree();
    declareFirstStage(scratchParams('first_stage_model', tree), {
      encoder: SVD_DDCONFIG,
      decoder: SVD_VIDEO_DECODER_CONFIG,
    });
    const want = readKeyTable('vae_keys_svd.tsv');
    assert.deepEqual(shapesAsObject(tree.shapes), shapesAsObject(want));
    assert.equal(tree.shapes.size, 372);
    assert.equal(count(tree.shapes), 97_742_775);
    // svd-spec §3.4: encoder 34,163,592; video decoder 63,579,183 (of which temporal 14,089,004).
    assert.equal(tree.count('first_stage_model.encoder.'), 34_163_592);
    assert.equal(tree.count('first_stage_model.decoder.'), 63_579_183);
    const temporal = [...tree.shapes]
      .filter(([k]) => /\.(time_stack|time_mix_conv)\.|\.mix_factor$/.test(k))
      .reduce((n, [, s]) => n + s.reduce((a, d) => a * d, 1), 0);
    assert.equal(temporal, 14_089_004);
  });

  test('conditioning AutoencoderKLModeOnly = manifests/embedder3_keys_svd.tsv', () => {
    const tree = new ParamTree();
    declareAutoencoderKL(scratchParams('conditioner.embedders.3.encoder', tree), SVD_CONDITIONING_AUTOENCODER);
    const want = readKeyTable('embedder3_keys_svd.tsv');
    assert.deepEqual(shapesAsObject(tree.shapes), shapesAsObject(want));
    assert.equal(tree.shapes.size, 248);
    assert.equal(count(tree.shapes), 83_653_863);
    assert.equal(tree.count('conditioner.embedders.3.encoder.quant_conv.'), 72);
  });

  test('the video decoder declaration alone = the first stage decoder rows', () => {
    const tree = new ParamTree();
    declareVideoDecoder(scratchParams('first_stage_model.decoder', tree), SVD_VIDEO_DECODER_CONFIG);
    const want = new Map(
      [...readKeyTable('vae_keys_svd.tsv')].filter(([k]) => k.startsWith('first_stage_model.decoder.')),
    );
    assert.deepEqual(shapesAsObject(tree.shapes), shapesAsObject(want));
  });
});

describe('ddconfig converter', () => {
  test('SVD ddconfig from the sgm params', () => {
    const sgm = {
      attn_type: 'vanilla',
      double_z: true,
      z_channels: 4,
      resolution: 256,
      in_channels: 3,
      out_ch: 3,
      ch: 128,
      ch_mult: [1, 2, 4, 4],
      num_res_blocks: 2,
      attn_resolutions: [],
      dropout: 0.0,
    };
    assert.deepEqual(ddconfigFromSgm(sgm), { ...SVD_DDCONFIG, chMult: [1, 2, 4, 4], attnResolutions: [] });
    assert.deepEqual(ddconfigFromSgm({ ...sgm, video_kernel_size: [3, 1, 1] }).videoKernelSize, [3, 1, 1]);
    assert.deepEqual(
      autoencoderKLFromSgm({
        embed_dim: 4,
        monitor: 'val/rec_loss',
        ddconfig: { ...sgm, attn_type: 'vanilla-xformers' },
      }),
      {
        embedDim: 4,
        ddconfig: { ...SVD_CONDITIONING_AUTOENCODER.ddconfig, chMult: [1, 2, 4, 4], attnResolutions: [] },
      },
    );
  });

  test('rejects what is not implemented and unknown keys', () => {
    const base = {
      ch: 8,
      out_ch: 3,
      ch_mult: [1],
      num_res_blocks: 1,
      attn_resolutions: [],
      in_channels: 3,
      resolution: 8,
      z_channels: 4,
    };
    assert.throws(() => ddconfigFromSgm({ ...base, attn_type: 'linear' }), /attn_type/);
    assert.throws(() => ddconfigFromSgm({ ...base, use_linear_attn: true }), /use_linear_attn/);
    assert.throws(() => ddconfigFromSgm({ ...base, time_mode: 'all' }), /time_mode/);
    assert.throws(() => ddconfigFromSgm({ ...base, tanh_out: true }), /tanh_out/);
    assert.throws(() => ddconfigFromSgm({ ...base, chanels: 3 }), /unknown parameter "chanels"/);
    assert.throws(() => ddconfigFromSgm({ ...base, ch: undefined }), /"ch"/);
  });
});
