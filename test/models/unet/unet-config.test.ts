/** VideoUNet configuration: the sgm-params converter (defaults, validation) and the module layout it implies. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GraphBuilder } from '../../../src/graph/builder.ts';
import {
  attentionHeads,
  SVD_UNET_CONFIG,
  SVD_UNET_SGM_PARAMS,
  VideoUNetConfigError,
  validateVideoUNetConfig,
  videoUNetConfigFromSgm,
} from '../../../src/models/unet/config.ts';
import { videoUNetLayout } from '../../../src/models/unet/layout.ts';
import { buildVideoUNet } from '../../../src/models/unet/video-unet.ts';
import { Params } from '../../../src/nn/params.ts';

describe('VideoUNet config', () => {
  test('SVD_UNET_CONFIG: svd.yaml values and the reference defaults', () => {
    const c = SVD_UNET_CONFIG;
    assert.equal(c.inChannels, 8);
    assert.equal(c.outChannels, 4);
    assert.equal(c.modelChannels, 320);
    assert.deepEqual(c.channelMult, [1, 2, 4, 4]);
    assert.equal(c.numResBlocks, 2);
    assert.deepEqual(c.attentionResolutions, [4, 2, 1]);
    assert.equal(c.numHeads, -1);
    assert.equal(c.numHeadChannels, 64);
    assert.deepEqual(c.transformerDepth, [1, 1, 1, 1]);
    assert.equal(c.transformerDepthMiddle, 1);
    assert.equal(c.contextDim, 1024);
    assert.equal(c.numClasses, 'sequential');
    assert.equal(c.admInChannels, 768);
    assert.equal(c.useLinearInTransformer, true);
    assert.equal(c.extraFfMixLayer, true);
    assert.equal(c.useSpatialContext, true);
    assert.equal(c.disableTemporalCrossattention, false);
    assert.equal(c.mergeStrategy, 'learned_with_images');
    assert.equal(c.mergeFactor, 0.5);
    assert.deepEqual(c.videoKernelSize, [3, 1, 1]);
    assert.equal(c.convResample, true);
    assert.equal(c.maxDdpmTembPeriod, 10000);
    assert.equal(c.spatialTransformerAttnType, 'softmax-xformers');
    assert.equal(c.dropout, 0);
    assert.deepEqual(attentionHeads(c, 320), { heads: 5, dimHead: 64 });
    assert.deepEqual(attentionHeads(c, 1280), { heads: 20, dimHead: 64 });
  });

  test('SVD layout: svd-spec.md §1.2 block table', () => {
    const l = videoUNetLayout(SVD_UNET_CONFIG);
    const kinds = (blocks: { kind: string }[][]) => blocks.map((b) => b.map((s) => s.kind).join('+'));
    assert.deepEqual(kinds(l.inputBlocks), [
      'conv_in',
      'res+attn',
      'res+attn',
      'down',
      'res+attn',
      'res+attn',
      'down',
      'res+attn',
      'res+attn',
      'down',
      'res',
      'res',
    ]);
    assert.deepEqual(
      l.middleBlock.map((s) => s.kind),
      ['res', 'attn', 'res'],
    );
    assert.deepEqual(kinds(l.outputBlocks), [
      'res',
      'res',
      'res+up',
      'res+attn',
      'res+attn',
      'res+attn+up',
      'res+attn',
      'res+attn',
      'res+attn+up',
      'res+attn',
      'res+attn',
      'res+attn',
    ]);
    const outIn = l.outputBlocks.map((b) => (b[0].kind === 'res' ? `${b[0].inChannels}>${b[0].outChannels}` : ''));
    assert.deepEqual(outIn, [
      '2560>1280',
      '2560>1280',
      '2560>1280',
      '2560>1280',
      '2560>1280',
      '1920>1280',
      '1920>640',
      '1280>640',
      '960>640',
      '960>320',
      '640>320',
      '640>320',
    ]);
    assert.equal(l.finalChannels, 320);
  });

  test('converter: list transformer_depth, transformer_depth_middle, scalar video_kernel_size, num_heads', () => {
    const c = videoUNetConfigFromSgm({
      ...SVD_UNET_SGM_PARAMS,
      transformer_depth: [1, 2, 3, 4],
      video_kernel_size: 3,
      num_head_channels: -1,
      num_heads: 8,
      merge_factor: 0.25,
    });
    assert.deepEqual(c.transformerDepth, [1, 2, 3, 4]);
    assert.equal(c.transformerDepthMiddle, 4);
    assert.deepEqual(c.videoKernelSize, [3, 3, 3]);
    assert.deepEqual(attentionHeads(c, 640), { heads: 8, dimHead: 80 });
    assert.equal(c.mergeFactor, 0.25);
    const m = videoUNetConfigFromSgm({ ...SVD_UNET_SGM_PARAMS, transformer_depth_middle: 2 });
    assert.equal(m.transformerDepthMiddle, 2);
  });

  test('converter: unsupported options and invalid configs throw a clear error', () => {
    const rejects = (extra: Record<string, unknown>, pattern: RegExp) =>
      assert.throws(
        () => videoUNetConfigFromSgm({ ...SVD_UNET_SGM_PARAMS, ...extra }),
        (e: unknown) => e instanceof VideoUNetConfigError && pattern.test(e.message),
        JSON.stringify(extra),
      );
    rejects({ use_scale_shift_norm: true }, /use_scale_shift_norm = true is not supported/);
    rejects({ resblock_updown: true }, /resblock_updown/);
    rejects({ dims: 3 }, /dims = 3/);
    rejects({ time_downup: true }, /time_downup/);
    rejects({ time_context_dim: 512 }, /time_context_dim/);
    rejects({ num_classes: 10 }, /num_classes = 10/);
    rejects({ merge_strategy: 'fixed_with_images' }, /merge_strategy/);
    rejects({ spatial_transformer_attn_type: 'flash-cosine' }, /spatial_transformer_attn_type/);
    rejects({ context_dim: null }, /context_dim is required/);
    rejects({ unknown_flag: 1 }, /unknown parameter\(s\) unknown_flag/);
    rejects({ model_channels: 48 }, /do not split into 32 GroupNorm groups/);
    rejects({ num_head_channels: 48 }, /heads × 48/);
    rejects({ num_head_channels: -1 }, /numHeads or numHeadChannels/);
    rejects({ video_kernel_size: [2, 1, 1] }, /odd/);
    rejects({ num_classes: 'sequential', adm_in_channels: null }, /admInChannels/);
    assert.throws(() => validateVideoUNetConfig({ ...SVD_UNET_CONFIG, transformerDepth: [1] }), /transformerDepth/);
  });

  test('converter: the absent-parameter defaults are the reference ones', () => {
    const c = videoUNetConfigFromSgm({
      in_channels: 4,
      out_channels: 4,
      model_channels: 64,
      num_res_blocks: 1,
      attention_resolutions: [],
      context_dim: 32,
      num_head_channels: 32,
    });
    assert.deepEqual(c.channelMult, [1, 2, 4, 8]);
    assert.deepEqual(c.transformerDepth, [1, 1, 1, 1]);
    assert.equal(c.numClasses, undefined);
    assert.equal(c.useLinearInTransformer, false);
    assert.equal(c.extraFfMixLayer, false);
    assert.equal(c.useSpatialContext, false);
    assert.equal(c.mergeStrategy, 'fixed');
    assert.deepEqual(c.videoKernelSize, [3, 3, 3]);
    assert.equal(c.spatialTransformerAttnType, 'softmax');
  });

  test('buildVideoUNet: input shapes are checked with a clear error', () => {
    const build = (over: { x?: number[]; context?: number[]; y?: number[]; ind?: number[] }, frames = 2) => {
      const b = new GraphBuilder('bad');
      return buildVideoUNet(
        new Params(b, 'model.diffusion_model'),
        {
          x: b.input('x', over.x ?? [4, 8, 16, 16]),
          timesteps: b.input('timesteps', [4]),
          context: b.input('context', over.context ?? [4, 1, 1024]),
          y: b.input('y', over.y ?? [4, 768]),
          imageOnlyIndicator: b.input('ind', over.ind ?? [2, 2]),
        },
        SVD_UNET_CONFIG,
        frames,
      );
    };
    assert.deepEqual([...build({}).shape], [4, 4, 16, 16]);
    assert.throws(() => build({}, 3), /4 rows of x are not whole videos of 3 frames/);
    assert.throws(() => build({ x: [4, 4, 16, 16] }), /x must be \[\?, 8, \?, \?\], got \[4, 4, 16, 16\]/);
    assert.throws(() => build({ x: [4, 8, 12, 16] }), /not divisible by 2\^3/);
    assert.throws(() => build({ context: [4, 1, 768] }), /context must be/);
    assert.throws(() => build({ y: [4, 256] }), /y must be \[4, 768\]/);
    assert.throws(() => build({ ind: [1, 4] }), /imageOnlyIndicator must be \[2, 2\]/);
  });
});
