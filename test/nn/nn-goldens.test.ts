/** nn layer goldens: timestep embedding (cos first, float32 as the reference) and AlphaBlender. */
import { after, before, describe, test } from 'node:test';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { alphaBlend } from '../../src/nn/alpha-blender.ts';
import { Params } from '../../src/nn/params.ts';
import { timestepEmbedding } from '../../src/nn/timestep-embedding.ts';
import type { Engine } from '../../src/runtime/engine.ts';
import { assertClose } from '../helpers/compare.ts';
import { createTestEngine } from '../helpers/engine.ts';
import { loadGolden } from '../helpers/golden.ts';

describe('nn goldens', () => {
  let engine: Engine;
  before(async () => {
    engine = await createTestEngine();
  });
  after(async () => {
    await engine.dispose();
  });

  for (const dim of [256, 320]) {
    test(`timestep_embedding_${dim}`, async () => {
      const g = await loadGolden(`ops/timestep_embedding_${dim}.safetensors`);
      const t = g.get('input.t')!;
      const b = new GraphBuilder('temb');
      b.output('y', timestepEmbedding(b.input('t', t.shape), dim));
      const out = await engine.run(b.build(), { t });
      // Single-op rule (≤ 1e-5). The largest deviation (7.6e-6 at t = 127) is one float32 ulp of the argument
      // 127·f_2 = 113.19: the reference's vectorised float32 exp rounds f_2 = 0.89125093… (a near-tie) up.
      assertClose(out.y, g.get('output')!, 1e-5, `timestep_embedding_${dim}`);
    });
  }

  test('alpha_blender_learned', async () => {
    const g = await loadGolden('ops/alpha_blender_learned.safetensors');
    const b = new GraphBuilder('blend');
    const xs = b.input('xs', g.get('input.x_spatial')!.shape);
    const xt = b.input('xt', g.get('input.x_temporal')!.shape);
    b.output('y', alphaBlend(new Params(b), xs, xt, { strategy: 'learned' }));
    await engine.setWeights({ mix_factor: g.get('param.mix_factor')! });
    const out = await engine.run(b.build(), { xs: g.get('input.x_spatial')!, xt: g.get('input.x_temporal')! });
    assertClose(out.y, g.get('output')!, 1e-5, 'alpha_blender_learned');
  });

  test('alpha_blender_learned_with_images', async () => {
    const g = await loadGolden('ops/alpha_blender_learned_with_images.safetensors');
    const ind = g.get('input.image_only_indicator')!; // [2, 3]
    const b = new GraphBuilder('blend_img');
    const xs = b.input('xs', g.get('input.x_spatial')!.shape);
    const xt = b.input('xt', g.get('input.x_temporal')!.shape);
    const indicator = b.input('ind', ind.shape);
    b.output(
      'y',
      alphaBlend(new Params(b), xs, xt, {
        strategy: 'learned_with_images',
        imageOnlyIndicator: indicator,
        alphaShape: [ind.shape[0] * ind.shape[1], 1, 1],
      }),
    );
    await engine.setWeights({ mix_factor: g.get('param.mix_factor')! });
    const out = await engine.run(b.build(), { xs: g.get('input.x_spatial')!, xt: g.get('input.x_temporal')!, ind });
    assertClose(out.y, g.get('output')!, 1e-5, 'alpha_blender_learned_with_images');
  });
});
