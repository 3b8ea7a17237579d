/**
 * Forward op goldens of ../shared/golden/ops (reference: sgm @ 059d8e9, PyTorch 1.13 CPU float32), run through
 * the graph builder and ONNX Runtime; rule: max|mine − ref| / max|ref| ≤ 1e-5.
 * (clip_preprocess_*, alpha_blender_*, timestep_embedding_* belong to the models work.)
 */
import { after, before, describe, test } from 'node:test';
import { GraphBuilder, type SymTensor } from '../../src/graph/builder.ts';
import { interpret } from '../../src/graph/interpret.ts';
import { fromFloat64 } from '../../src/graph/interpreter-bridge.ts';
import * as op from '../../src/graph/ops/index.ts';
import type { Engine } from '../../src/runtime/engine.ts';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import { assertClose } from '../helpers/compare.ts';
import { createTestEngine } from '../helpers/engine.ts';
import { loadGolden } from '../helpers/golden.ts';
import { randn } from '../helpers/random.ts';

type Build = (t: (name: string) => SymTensor) => SymTensor;

/** How each reference module is expressed with our ops. `t('x')` is `input.x`, `t('weight')` is `param.weight`. */
const GOLDEN_OPS: Record<string, Build> = {
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
};

describe('op goldens (reference forward outputs)', () => {
  let engine: Engine;
  before(async () => {
    engine = await createTestEngine();
  });
  after(async () => {
    await engine.dispose();
  });

  for (const [name, build] of Object.entries(GOLDEN_OPS)) {
    test(name, async () => {
      const golden = await loadGolden(`ops/${name}.safetensors`);
      const b = new GraphBuilder(name);
      const feeds: Record<string, HostTensor> = {};
      const sym = (short: string): SymTensor => {
        const key = golden.has(`input.${short}`) ? `input.${short}` : `param.${short}`;
        const t = golden.get(key);
        if (!t) throw new Error(`golden ${name} has no input.${short} or param.${short}`);
        feeds[key] = t;
        return b.input(key, t.shape, t.dtype);
      };
      b.output('output', build(sym));
      const out = await engine.run(b.build(), feeds);
      assertClose(out.output, golden.get('output')!, 1e-5, name);
    });
  }

  test('group norm on badly centred input (mean 300, std 1) stays within 1e-5 of float64', async () => {
    const x = randn([2, 64, 8, 8], 1, 300);
    const gamma = randn([64]);
    const beta = randn([64]);
    const b = new GraphBuilder('gn300');
    b.output('y', op.groupNorm(b.input('x', x.shape), 32, b.input('g', [64]), b.input('b', [64]), 1e-5));
    const graph = b.build();
    const feeds = { x, g: gamma, b: beta };
    const out = await engine.run(graph, feeds);
    const ref = fromFloat64(interpret(graph, feeds).y);
    assertClose(out.y, ref, 1e-5, 'group norm mean 300');
  });
});
