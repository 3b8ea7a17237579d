/**
 * How each op golden of test/fixtures/golden/ops (reference: sgm @ 059d8e9) is expressed with our ops, for tests
 * that rebuild the forward computation (the gradient goldens). `t('x')` is the golden's `input.x` (or `param.x`)
 * as a run-time input; layers over `Params` take their parameters as weights named `param.<name>`, exactly the
 * golden's key. Used by the forward goldens (test/graph/golden-ops.test.ts) and the gradient goldens.
 */
import type { GraphBuilder, SymTensor } from '../../src/graph/builder.ts';
import * as op from '../../src/graph/ops/index.ts';
import { alphaBlend } from '../../src/nn/alpha-blender.ts';
import { Params } from '../../src/nn/params.ts';
import { timestepEmbedding } from '../../src/nn/timestep-embedding.ts';

export type GoldenOpBuild = (t: (name: string) => SymTensor, b: GraphBuilder) => SymTensor;

export const GOLDEN_OP_GRAPHS: Readonly<Record<string, GoldenOpBuild>> = {
  conv2d_3x3_pad1: (t) => op.conv(t('x'), t('weight'), t('bias'), { padding: 1 }),
  conv2d_3x3_stride2_pad1: (t) => op.conv(t('x'), t('op.weight'), t('op.bias'), { stride: 2, padding: 1 }),
  conv2d_1x1: (t) => op.conv(t('x'), t('weight'), t('bias')),
  // F.pad(x, (0, 1, 0, 1)) then a stride-2 3×3 conv without padding = asymmetric conv padding.
  vae_downsample: (t) => op.conv(t('x'), t('conv.weight'), t('conv.bias'), { stride: 2, padding: [0, 0, 1, 1] }),
  conv3d_k311: (t) => op.conv(t('x'), t('weight'), t('bias'), { padding: [1, 0, 0] }),
  'group_norm_4d_eps1e-5': (t) => op.groupNorm(t('x'), 32, t('weight'), t('bias'), 1e-5),
  'group_norm_4d_eps1e-6': (t) => op.groupNorm(t('x'), 32, t('weight'), t('bias'), 1e-6),
  'group_norm_5d_eps1e-5': (t) => op.groupNorm(t('x'), 32, t('weight'), t('bias'), 1e-5),
  'group_norm_5d_eps1e-6': (t) => op.groupNorm(t('x'), 32, t('weight'), t('bias'), 1e-6),
  layer_norm: (t) => op.layerNorm(t('x'), t('weight'), t('bias'), 1e-5),
  linear: (t) => op.linear(t('x'), t('weight'), t('bias')),
  silu: (t) => op.silu(t('x')),
  gelu: (t) => op.gelu(t('x')),
  geglu: (t) => {
    const [a, gate] = op.split(op.linear(t('x'), t('proj.weight'), t('proj.bias')), 2, -1);
    return op.mul(a, op.gelu(gate));
  },
  softmax: (t) => op.softmax(t('x'), -1),
  attention_self: (t) => {
    const x = t('x');
    const a = op.attention(
      op.linear(x, t('to_q.weight')),
      op.linear(x, t('to_k.weight')),
      op.linear(x, t('to_v.weight')),
      2,
    );
    return op.linear(a, t('to_out.0.weight'), t('to_out.0.bias'));
  },
  attention_cross: (t) => {
    const x = t('x');
    const ctx = t('context');
    const a = op.attention(
      op.linear(x, t('to_q.weight')),
      op.linear(ctx, t('to_k.weight')),
      op.linear(ctx, t('to_v.weight')),
      4,
    );
    return op.linear(a, t('to_out.0.weight'), t('to_out.0.bias'));
  },
  upsample_nearest2x: (t) => {
    const x = t('x');
    return op.resize(x, [x.shape[2] * 2, x.shape[3] * 2], { mode: 'nearest' });
  },
  mse: (t) => {
    const d = op.sub(t('a'), t('b'));
    return op.mean(op.mul(d, d));
  },
  timestep_embedding_320: (t) => timestepEmbedding(t('t'), 320),
  timestep_embedding_256: (t) => timestepEmbedding(t('t'), 256),
  alpha_blender_learned: (t, b) =>
    alphaBlend(new Params(b, 'param'), t('x_spatial'), t('x_temporal'), { strategy: 'learned' }),
  alpha_blender_learned_with_images: (t, b) => {
    const indicator = t('image_only_indicator'); // [b, t]
    return alphaBlend(new Params(b, 'param'), t('x_spatial'), t('x_temporal'), {
      strategy: 'learned_with_images',
      imageOnlyIndicator: indicator,
      alphaShape: [indicator.shape[0] * indicator.shape[1], 1, 1], // b t -> (b t) 1 1
    });
  },
};
