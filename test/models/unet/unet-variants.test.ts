/**
 * VideoUNet options beyond the SVD flags, checked by exact equivalences with the unet-tiny golden run (same weights,
 * re-expressed) and, for configurations without an equivalent, by running ORT against the float64 interpreter:
 * - merge_strategy `learned` = `learned_with_images` with a zero indicator; `fixed` with mix_factor := sigmoid(m);
 * - use_linear_in_transformer false (1×1 convs) with the Linear weights as [C, C, 1, 1];
 * - a context of 2 identical tokens (the general cross-attention path) = the one-token shortcut;
 * - no label_emb, no spatial context (temporal attn2 self-attends), disabled temporal cross-attention, depth 2 and 0,
 *   avg-pool / plain-nearest resampling, a 3×3×3 temporal kernel.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { GraphBuilder } from '../../../src/graph/builder.ts';
import { interpret } from '../../../src/graph/interpret.ts';
import { type VideoUNetConfig, videoUNetConfigFromSgm } from '../../../src/models/unet/config.ts';
import { buildVideoUNet, declareVideoUNetParams } from '../../../src/models/unet/video-unet.ts';
import { Params } from '../../../src/nn/params.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { SafetensorsFile } from '../../../src/weights/index.ts';
import { assertClose } from '../../helpers/compare.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { GOLDEN_DIR, loadGolden } from '../../helpers/golden.ts';
import { randn } from '../../helpers/random.ts';

const TOL = 1e-4;
const PREFIX = 'model.diffusion_model';
const manifest = JSON.parse(readFileSync(`${GOLDEN_DIR}unet-tiny/manifest.json`, 'utf8'));
const T: number = manifest.num_video_frames;

function mapValues(t: HostTensor, f: (v: number) => number): HostTensor {
  return HostTensor.float32(t.shape, Array.from(t.data as Float32Array, f));
}

describe('unet variants', () => {
  let engine: Engine;
  let io: Map<string, HostTensor>;
  let weights: Map<string, HostTensor>;

  before(async () => {
    io = await loadGolden('unet-tiny/io.safetensors');
    const file = await SafetensorsFile.open(`${GOLDEN_DIR}pipeline-tiny/checkpoint.safetensors`);
    try {
      weights = new Map();
      for (const name of file.names()) if (name.startsWith(`${PREFIX}.`)) weights.set(name, await file.read(name));
    } finally {
      await file.close();
    }
    engine = await createTestEngine();
  });
  after(async () => {
    await engine?.dispose();
  });

  /** Runs the UNet of `cfg` on the golden inputs (context optionally replaced) with the given weights. */
  async function runGolden(
    cfg: VideoUNetConfig,
    w: Map<string, HostTensor>,
    context = io.get('context')!,
  ): Promise<HostTensor> {
    await engine.setWeights(w);
    const b = new GraphBuilder('unet_variant');
    const feeds: Record<string, HostTensor> = {
      x: io.get('x')!,
      timesteps: io.get('timesteps')!,
      context,
      y: io.get('y')!,
      image_only_indicator: io.get('image_only_indicator')!,
    };
    const input = (name: string) => b.input(name, feeds[name].shape);
    const p = new Params(b, PREFIX);
    const out = buildVideoUNet(
      p,
      {
        x: input('x'),
        timesteps: input('timesteps'),
        context: input('context'),
        y: input('y'),
        imageOnlyIndicator: input('image_only_indicator'),
      },
      cfg,
      T,
    );
    b.output('output', out);
    const graph = b.build();
    const used = new Set(graph.inputs.map((i) => i.name));
    const res = await engine.run(graph, Object.fromEntries(Object.entries(feeds).filter(([k]) => used.has(k))));
    for (const k of p.tree.shapes.keys()) assert.ok(w.has(k), `no weight for ${k}`);
    return res.output;
  }

  test('merge_strategy learned (no indicator) = learned_with_images with zeros', async () => {
    const cfg = videoUNetConfigFromSgm({ ...manifest.config, merge_strategy: 'learned' });
    assertClose(await runGolden(cfg, weights), io.get('output')!, TOL, 'learned');
  });

  test('merge_strategy fixed reads the mix_factor buffer as α (no sigmoid)', async () => {
    const cfg = videoUNetConfigFromSgm({ ...manifest.config, merge_strategy: 'fixed' });
    const w = new Map(weights);
    for (const [k, v] of weights)
      if (k.endsWith('.mix_factor'))
        w.set(
          k,
          mapValues(v, (m) => 1 / (1 + Math.exp(-m))),
        );
    assertClose(await runGolden(cfg, w), io.get('output')!, TOL, 'fixed');
  });

  test('use_linear_in_transformer false: 1×1 conv proj_in / proj_out', async () => {
    const cfg = videoUNetConfigFromSgm({ ...manifest.config, use_linear_in_transformer: false });
    const w = new Map(weights);
    for (const [k, v] of weights) {
      if (/\.proj_(in|out)\.weight$/.test(k)) w.set(k, HostTensor.float32([...v.shape, 1, 1], v.data as Float32Array));
    }
    assertClose(await runGolden(cfg, w), io.get('output')!, TOL, 'conv proj');
  });

  test('two identical context tokens (general cross-attention) = the one-token shortcut', async () => {
    const ctx = io.get('context')!; // [(b t), 1, D]
    const [n, , d] = ctx.shape;
    const twice = new Float32Array(n * 2 * d);
    const src = ctx.data as Float32Array;
    for (let r = 0; r < n; r++) {
      twice.set(src.subarray(r * d, (r + 1) * d), r * 2 * d);
      twice.set(src.subarray(r * d, (r + 1) * d), (r * 2 + 1) * d);
    }
    const cfg = videoUNetConfigFromSgm(manifest.config);
    const out = await runGolden(cfg, weights, new HostTensor('float32', [n, 2, d], twice));
    assertClose(out, io.get('output')!, TOL, 'two-token context');
  });

  const unusual: [string, Record<string, unknown>][] = [
    [
      'no label_emb, temporal attn2 self-attention, depth [2, 0], avg-pool/nearest resampling, 3×3×3 kernel, fixed',
      {
        in_channels: 4,
        out_channels: 3,
        model_channels: 32,
        channel_mult: [1, 2],
        num_res_blocks: 1,
        attention_resolutions: [1],
        num_heads: 2,
        transformer_depth: [2, 0],
        context_dim: 16,
        use_linear_in_transformer: true,
        extra_ff_mix_layer: false,
        use_spatial_context: false,
        conv_resample: false,
        video_kernel_size: 3,
        merge_strategy: 'fixed',
      },
    ],
    [
      'disable_temporal_crossattention, spatial context of 3 tokens, learned_with_images with ones',
      {
        in_channels: 4,
        out_channels: 4,
        model_channels: 32,
        channel_mult: [1, 2],
        num_res_blocks: 2,
        attention_resolutions: [2],
        num_head_channels: 16,
        context_dim: 16,
        num_classes: 'sequential',
        adm_in_channels: 8,
        use_linear_in_transformer: true,
        extra_ff_mix_layer: true,
        use_spatial_context: true,
        disable_temporal_crossattention: true,
        merge_strategy: 'learned_with_images',
      },
    ],
  ];
  for (const [name, params] of unusual) {
    test(`ORT = float64 interpreter: ${name}`, async () => {
      const cfg = videoUNetConfigFromSgm(params);
      const t = 2;
      const n = 2 * t;
      const m = cfg.useSpatialContext ? 3 : 1;
      const b = new GraphBuilder('unet_unusual');
      const p = new Params(b, PREFIX);
      const feeds: Record<string, HostTensor> = {
        x: randn([n, cfg.inChannels, 4, 4]),
        timesteps: randn([n]),
        context: randn([n, m, cfg.contextDim]),
        image_only_indicator: HostTensor.float32([2, t], [0, 1, 0, 0]),
      };
      if (cfg.numClasses) feeds.y = randn([n, cfg.admInChannels!]);
      const input = (k: string) => (feeds[k] ? b.input(k, feeds[k].shape) : undefined);
      const out = buildVideoUNet(
        p,
        {
          x: input('x')!,
          timesteps: input('timesteps')!,
          context: input('context')!,
          y: input('y'),
          imageOnlyIndicator: input('image_only_indicator'),
        },
        cfg,
        t,
      );
      b.output('output', out);
      const graph = b.build();

      // The shape-only declaration records the same parameters as the real build.
      const declared = declareVideoUNetParams(new Params(new GraphBuilder('decl'), PREFIX), cfg);
      assert.deepEqual([...declared.shapes.keys()].sort(), [...p.tree.shapes.keys()].sort());
      const keys = [...p.tree.shapes.keys()];
      assert.equal(
        keys.some((k) => k.startsWith(`${PREFIX}.label_emb`)),
        cfg.numClasses !== undefined,
      );
      assert.equal(
        keys.some((k) => k.includes('.time_stack.0.attn2.')),
        !cfg.disableTemporalCrossattention,
      );

      const w: Record<string, HostTensor> = {};
      for (const [k, s] of p.tree.shapes)
        w[k] = randn(s, k.endsWith('.weight') && s.length > 1 ? 1 / Math.sqrt(s[1]) : 0.1);
      await engine.setWeights(w);
      const used = new Set(graph.inputs.map((i) => i.name));
      const runFeeds = Object.fromEntries(Object.entries(feeds).filter(([k]) => used.has(k)));
      const mine = (await engine.run(graph, runFeeds)).output;
      const ref = interpret(graph, { ...runFeeds, ...w }).output;
      assertClose(mine, ref, TOL, name);
    });
  }
});
