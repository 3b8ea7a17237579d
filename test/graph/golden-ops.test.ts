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
import { GOLDEN_OP_GRAPHS } from '../helpers/golden-op-graphs.ts';
import { randn } from '../helpers/random.ts';

/** The forward ops of the goldens (the shared definitions; timestep and AlphaBlender goldens are in test/nn). */
const FORWARD_ONLY_ELSEWHERE = new Set([
  'timestep_embedding_256',
  'timestep_embedding_320',
  'alpha_blender_learned',
  'alpha_blender_learned_with_images',
]);
const GOLDEN_OPS = Object.fromEntries(
  Object.entries(GOLDEN_OP_GRAPHS).filter(([name]) => !FORWARD_ONLY_ELSEWHERE.has(name)),
);

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
      b.output('output', build(sym, b));
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
