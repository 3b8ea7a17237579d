/**
 * VAE blocks beyond what the tiny goldens reach: the AttnBlock above 1024 tokens, where attention lowers to
 * com.microsoft.MultiHeadAttention (the full-size decoder's mid attention sees 72×128 = 9216 tokens per frame at
 * 576×1024, with one 512-wide head), checked against the float64 interpreter.
 */
import { after, before, describe, test } from 'node:test';
import { GraphBuilder } from '../../../src/graph/builder.ts';
import { interpret } from '../../../src/graph/interpret.ts';
import { MHA_MIN_SEQUENCE } from '../../../src/graph/ops/attention.ts';
import { attnBlock } from '../../../src/models/vae/attn-block.ts';
import { Params } from '../../../src/nn/params.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import type { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { assertClose } from '../../helpers/compare.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { randn } from '../../helpers/random.ts';

describe('VAE AttnBlock', () => {
  let engine: Engine;
  before(async () => {
    engine = await createTestEngine();
  });
  after(async () => {
    await engine.dispose();
  });

  test('above 1024 tokens (MultiHeadAttention lowering) matches the float64 interpreter', async (t) => {
    const c = 64;
    const side = 36; // 1296 tokens
    if (side * side < MHA_MIN_SEQUENCE) throw new Error('test no longer reaches the MultiHeadAttention lowering');
    const b = new GraphBuilder('vae_attn_block_mha');
    const p = new Params(b, 'blk');
    const xShape = [2, c, side, side];
    b.output('y', attnBlock(p, b.input('x', xShape), c, 32));
    const weights: Record<string, HostTensor> = {};
    for (const [name, shape] of p.tree.shapes) {
      weights[name] = name.endsWith('norm.weight')
        ? randn(shape, 0.1, 1)
        : randn(shape, name.endsWith('bias') ? 0.1 : 0.2);
    }
    await engine.setWeights(weights);
    const x = randn(xShape);
    const out = await engine.run(b.build(), { x });
    const ref = interpret(b.build(), { x, ...weights });
    t.diagnostic(`y: ${assertClose(out.y, ref.y, 1e-5, 'attn block').toExponential(2)}`);
  });
});
