/**
 * `AutoencoderConfig.normGroups`: the GroupNorm groups of every VAE norm (resnet blocks, attention, norm_out, the
 * VideoDecoder's time stacks). Default 32, sgm's hard-coded `model.py::Normalize`; svd-mini uses 16. Checked on the
 * traced graphs of the real preset configs (every GroupNorm node's group count) and numerically on one norm; the
 * divisibility error, the converters (ddconfig `norm_groups`, a model config JSON) and the latent cache's encoder digest.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { GraphBuilder } from '../../../src/graph/builder.ts';
import { interpret } from '../../../src/graph/interpret.ts';
import type { Graph } from '../../../src/graph/ir.ts';
import { findEmbedder, type SvdModel } from '../../../src/models/description.ts';
import { PRESET_NAMES, PRESETS } from '../../../src/models/presets.ts';
import { ModelConfigError } from '../../../src/models/reference/errors.ts';
import { modelFromReferenceConfig } from '../../../src/models/reference/model-config.ts';
import { encodeModeOnly } from '../../../src/models/vae/autoencoder.ts';
import {
  type AutoencoderConfig,
  ddconfigFromSgm,
  VAE_DEFAULT_NORM_GROUPS,
  vaeNormGroups,
} from '../../../src/models/vae/config.ts';
import { buildDecoder } from '../../../src/models/vae/decoder.ts';
import { buildEncoder } from '../../../src/models/vae/encoder.ts';
import { vaeNorm } from '../../../src/models/vae/resnet-block.ts';
import { buildVideoDecoder } from '../../../src/models/vae/video-decoder.ts';
import { timeStack } from '../../../src/models/vae/video-res-block.ts';
import { Params } from '../../../src/nn/params.ts';
import { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { encoderDigest } from '../../../src/training/stages/encoder-digest.ts';
import type { CheckpointSource } from '../../../src/weights/index.ts';
import { assertClose } from '../../helpers/compare.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { GOLDEN_DIR } from '../../helpers/golden.ts';
import { randn } from '../../helpers/random.ts';

/** The group count of every GroupNorm node, keyed by the name of its `weight` (the norm's checkpoint key). */
function groupNorms(g: Graph): Map<string, number> {
  const names = new Map(g.inputs.map((i) => [i.value, i.name]));
  const out = new Map<string, number>();
  for (const n of g.nodes) {
    if (n.op !== 'GroupNorm') continue;
    const name = names.get(n.inputs[1]);
    assert.ok(name, 'a GroupNorm whose weight is not a checkpoint parameter');
    out.set(name, n.attrs.numGroups as number);
  }
  return out;
}

/** Every VAE of a model traced at a small size: first-stage encoder and decoder, the conditioning encoder. */
function vaeGraphs(model: SvdModel): Map<string, number> {
  const b = new GraphBuilder(`${model.name}_vae`);
  const fs = model.firstStage;
  if (fs.kind === 'autoencoding-engine') {
    if (fs.encoder) {
      const x = b.input('x', [1, fs.encoder.inChannels, 8, 8]);
      b.output('moments', buildEncoder(new Params(b, 'first_stage_model.encoder'), x, fs.encoder));
    }
    const z = b.input('z', [2, fs.decoder.zChannels, 1, 1]);
    const p = new Params(b, 'first_stage_model.decoder');
    b.output('y', fs.videoDecoder ? buildVideoDecoder(p, z, fs.decoder, 2) : buildDecoder(p, z, fs.decoder));
  } else {
    const z = b.input('z', [1, fs.kl.ddconfig.zChannels, 1, 1]);
    b.output('y', buildDecoder(new Params(b, 'first_stage_model.decoder'), z, fs.kl.ddconfig));
  }
  const cond = findEmbedder(model, 'cond-frames-encoder');
  if (cond) {
    const x = b.input('cond', [1, cond.autoencoder.ddconfig.inChannels, 8, 8]);
    b.output('mean', encodeModeOnly(new Params(b, `conditioner.embedders.${cond.index}.encoder`), x, cond.autoencoder));
  }
  return groupNorms(b.build());
}

/** torch.nn.GroupNorm(groups, C) without affine over x [1, C, L], in float64, independent of the graph ops. */
function groupNormRef(x: number[], channels: number, groups: number, eps: number): number[] {
  const len = x.length / channels;
  const per = (channels / groups) * len;
  const out = new Array<number>(x.length);
  for (let g = 0; g < groups; g++) {
    const part = x.slice(g * per, (g + 1) * per);
    const mean = part.reduce((a, v) => a + v, 0) / per;
    const variance = part.reduce((a, v) => a + (v - mean) ** 2, 0) / per;
    part.forEach((v, i) => {
      out[g * per + i] = (v - mean) / Math.sqrt(variance + eps);
    });
  }
  return out;
}

describe('VAE normGroups', () => {
  test('svd-mini: every GroupNorm of its encoder, video decoder (time stacks too) and conditioning encoder has 16', () => {
    const norms = vaeGraphs(PRESETS['svd-mini']);
    for (const key of [
      'first_stage_model.encoder.down.0.block.0.norm1.weight',
      'first_stage_model.encoder.mid.attn_1.norm.weight',
      'first_stage_model.encoder.norm_out.weight',
      'first_stage_model.decoder.mid.block_1.norm2.weight',
      'first_stage_model.decoder.mid.block_1.time_stack.in_layers.0.weight',
      'first_stage_model.decoder.up.0.block.1.time_stack.out_layers.0.weight',
      'first_stage_model.decoder.norm_out.weight',
      'conditioner.embedders.3.encoder.encoder.norm_out.weight',
    ]) {
      assert.equal(norms.get(key), 16, key);
    }
    const other = [...norms].filter(([, g]) => g !== 16);
    assert.deepEqual(other, [], 'GroupNorms not in 16 groups');
  });

  test('every released preset keeps the reference 32 on every VAE GroupNorm', () => {
    for (const name of PRESET_NAMES.filter((n) => n !== 'svd-mini')) {
      const norms = vaeGraphs(PRESETS[name]);
      assert.ok(norms.size > 0, name);
      assert.deepEqual(
        [...norms].filter(([, g]) => g !== 32),
        [],
        name,
      );
    }
  });

  test('a norm of 4 channels in 2 groups normalises each pair of channels together (float64 interpreter)', () => {
    const b = new GraphBuilder('vae_norm_2_groups');
    const p = new Params(b, 'norm');
    b.output('y', vaeNorm(p, b.input('x', [1, 4, 2, 2]), 4, 2));
    // Channel levels that differ within each pair: 2 groups keep the pair's relative level, 4 groups would not.
    const x = Array.from({ length: 16 }, (_, i) => Math.floor(i / 4) * 3 + Math.sin(i) + (i % 3));
    const feeds = {
      x: new HostTensor('float32', [1, 4, 2, 2], Float32Array.from(x)),
      'norm.weight': new HostTensor('float32', [4], Float32Array.from([1, 1, 1, 1])),
      'norm.bias': new HostTensor('float32', [4], Float32Array.from([0, 0, 0, 0])),
    };
    const y = Array.from(interpret(b.build(), feeds).y.data as ArrayLike<number>);
    const xf = Array.from(Float32Array.from(x));
    const two = groupNormRef(xf, 4, 2, 1e-6);
    const four = groupNormRef(xf, 4, 4, 1e-6);
    for (let i = 0; i < y.length; i++) assert.ok(Math.abs(y[i] - two[i]) < 1e-9, `y[${i}] = ${y[i]}, want ${two[i]}`);
    assert.ok(Math.max(...y.map((v, i) => Math.abs(v - four[i]))) > 0.1, 'the 4-group result must differ');
  });

  test("svd-mini's decoder norm_out (64 channels, 16 groups) through ONNX Runtime matches the float64 interpreter", async () => {
    const b = new GraphBuilder('vae_norm_out_16_groups');
    const p = new Params(b, 'decoder.norm_out');
    const shape = [2, 64, 8, 8];
    b.output('y', vaeNorm(p, b.input('x', shape), 64, 16));
    const weights = {
      'decoder.norm_out.weight': randn([64], 0.1, 1, 3),
      'decoder.norm_out.bias': randn([64], 0.1, 0, 4),
    };
    const x = randn(shape, 2, 5);
    const g = b.build();
    const ref = interpret(g, { x, ...weights });
    const engine = await createTestEngine();
    try {
      await engine.setWeights(weights);
      assertClose((await engine.run(g, { x })).y, ref.y, 1e-5, 'norm_out');
    } finally {
      await engine.dispose();
    }
  });

  test('channels that do not split into the groups: a RangeError naming the layer and both numbers', () => {
    const cfg: AutoencoderConfig = {
      ch: 24,
      chMult: [1, 2],
      numResBlocks: 1,
      attnResolutions: [],
      zChannels: 4,
      doubleZ: true,
      inChannels: 3,
      outCh: 3,
      resolution: 8,
      attnType: 'vanilla',
      normGroups: 16,
    };
    const b = new GraphBuilder('bad_groups');
    assert.throws(
      () => buildEncoder(new Params(b, 'encoder'), b.input('x', [1, 3, 8, 8]), cfg),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message === 'encoder.down.0.block.0.norm1: 24 channels do not split into 16 GroupNorm groups (normGroups)',
    );
    // 24 channels in 8 groups build.
    buildEncoder(new Params(b, 'encoder8'), b.input('x8', [1, 3, 8, 8]), { ...cfg, normGroups: 8 });
    // The time stack's norms check too.
    const x5 = b.input('x5', [1, 24, 2, 2, 2]);
    assert.throws(
      () => timeStack(new Params(b, 'dec.time_stack'), x5, 24, [3, 1, 1], 16),
      /^RangeError: dec\.time_stack\.in_layers\.0: 24 channels do not split into 16 GroupNorm groups/,
    );
    assert.throws(() => vaeNormGroups({ normGroups: 0 }), RangeError);
    assert.equal(vaeNormGroups({}), VAE_DEFAULT_NORM_GROUPS);
    assert.equal(VAE_DEFAULT_NORM_GROUPS, 32);
  });

  test('presets: svd-mini sets 16 on every VAE config, the released models leave it unset (32)', () => {
    const mini = PRESETS['svd-mini'];
    const fs = mini.firstStage;
    assert.equal(fs.kind, 'autoencoding-engine');
    if (fs.kind !== 'autoencoding-engine') return;
    assert.equal(fs.encoder?.normGroups, 16);
    assert.equal(fs.decoder.normGroups, 16);
    assert.equal(findEmbedder(mini, 'cond-frames-encoder')?.autoencoder.ddconfig.normGroups, 16);
    for (const name of PRESET_NAMES.filter((n) => n !== 'svd-mini')) {
      const model = PRESETS[name];
      const f = model.firstStage;
      const configs = f.kind === 'autoencoding-engine' ? [f.encoder, f.decoder] : [f.kl.ddconfig, f.kl.ddconfig];
      configs.push(findEmbedder(model, 'cond-frames-encoder')?.autoencoder.ddconfig);
      for (const c of configs) {
        if (!c) continue;
        assert.equal(c.normGroups, undefined, name);
        assert.equal(vaeNormGroups(c), 32, name);
      }
    }
  });

  test('ddconfig norm_groups (this port’s extension of the sgm params)', () => {
    const base = {
      ch: 32,
      out_ch: 3,
      ch_mult: [1, 2],
      num_res_blocks: 1,
      attn_resolutions: [],
      in_channels: 3,
      resolution: 8,
      z_channels: 4,
    };
    assert.equal(ddconfigFromSgm(base).normGroups, undefined);
    assert.equal(ddconfigFromSgm({ ...base, norm_groups: 16 }).normGroups, 16);
    for (const bad of [0, 2.5, '16', -4]) {
      assert.throws(
        () => ddconfigFromSgm({ ...base, norm_groups: bad }),
        new RegExp(
          `^Error: ddconfig: norm_groups ${JSON.stringify(bad).replace('.', '\\.')} is not a positive integer$`,
        ),
      );
    }
    assert.throws(() => ddconfigFromSgm({ ...base, normGroups: 16 }), /unknown parameter "normGroups"/);
  });

  test('a model config JSON (svd generate --config) carries norm_groups into the first stage, errors name the path', () => {
    const json = JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-tiny/config.json`, 'utf8'));
    const fsParams = json.engine_config.params.first_stage_config.params;
    fsParams.decoder_config.params.norm_groups = 16;
    const model = modelFromReferenceConfig(json, 'tiny-16');
    assert.equal(model.firstStage.kind, 'autoencoding-engine');
    if (model.firstStage.kind !== 'autoencoding-engine') return;
    assert.equal(model.firstStage.decoder.normGroups, 16);
    assert.equal(model.firstStage.encoder?.normGroups, undefined);
    fsParams.decoder_config.params.norm_groups = 'sixteen';
    assert.throws(
      () => modelFromReferenceConfig(json),
      (e: unknown) =>
        e instanceof ModelConfigError &&
        e.message ===
          'engine_config.params.first_stage_config.decoder_config: ddconfig: norm_groups "sixteen" is not a positive integer',
    );
  });

  test("the latent cache's encoder digest tells 16 groups from 32 (same weights); unset and 32 agree", async () => {
    const filled = (shape: readonly number[]) =>
      new HostTensor('float32', shape, new Float32Array(shape.reduce((a, d) => a * d, 1)).fill(0.5));
    const shapes = vaeShapes(PRESETS['svd-mini']);
    const source = { read: async (name: string) => filled(shapes.get(name)!) } as unknown as CheckpointSource;
    const size = { width: 16, height: 16 };
    const mini = PRESETS['svd-mini'];
    const fs = mini.firstStage as Extract<SvdModel['firstStage'], { kind: 'autoencoding-engine' }>;
    const mini32 = { ...mini, firstStage: { ...fs, encoder: { ...fs.encoder!, normGroups: undefined } } };
    const explicit32 = { ...mini, firstStage: { ...fs, encoder: { ...fs.encoder!, normGroups: 32 } } };
    const d16 = await encoderDigest(mini, source, size);
    const d32 = await encoderDigest(mini32, source, size);
    assert.notEqual(d16, d32);
    assert.equal(await encoderDigest(explicit32, source, size), d32);
  });
});

/** Parameter shapes of a model's first-stage encoder (for a fake checkpoint). */
function vaeShapes(model: SvdModel): Map<string, readonly number[]> {
  const fs = model.firstStage as Extract<SvdModel['firstStage'], { kind: 'autoencoding-engine' }>;
  const b = new GraphBuilder('shapes');
  const p = new Params(b, 'first_stage_model.encoder');
  buildEncoder(p, b.input('x', [1, 3, 16, 16]), fs.encoder!);
  return new Map(p.tree.shapes);
}
