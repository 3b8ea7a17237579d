/**
 * LoRA on the tiny UNet (pipeline-tiny checkpoint and config, `svdNetworkGraph`): the graph-level form (`withLora`,
 * LoRA factors as engine weights) and the host-merged form (`loraMergedSource`) agree within 1e-5 relative; scale 0
 * is the base output bitwise (merged: the key is skipped; graph-level: W + 0·ΔW); two LoRAs give the sum of their
 * updates. Targets include a Conv2d and the Conv3d of the temporal ResBlocks besides the default attention.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Graph } from '../../../src/graph/ir.ts';
import { declareModelParams } from '../../../src/models/declare-params.ts';
import { loadWeightsInto } from '../../../src/models/load-weights.ts';
import {
  DEFAULT_LORA_TARGETS,
  type FittedLora,
  fittedLoraSet,
  LoraSet,
  loraMergedSource,
  openLoras,
  readLoraFactors,
  withLora,
} from '../../../src/models/lora/index.ts';
import { svdNetworkGraph } from '../../../src/models/svd-network.ts';
import type { VideoUNetConfig } from '../../../src/models/unet/index.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import type { HostTensor } from '../../../src/tensor/host-tensor.ts';
import type { Shape } from '../../../src/tensor/shape.ts';
import { openCheckpoint } from '../../../src/weights/checkpoint.ts';
import type { CheckpointSource } from '../../../src/weights/checkpoint-source.ts';
import { relError } from '../../helpers/compare.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { randn } from '../../helpers/random.ts';
import { TINY_CKPT, tinyModel, writeTestLora } from './helpers.ts';

const T = 2;
const H = 8;
const TARGETS = [
  ...DEFAULT_LORA_TARGETS,
  'model.diffusion_model.input_blocks.1.0.in_layers.2', // Conv2d 3×3
  'model.diffusion_model.**.time_stack.in_layers.2', // Conv3d 3×1×1
];

describe('LoRA on the tiny UNet: graph-level = host-merged', () => {
  let engine: Engine;
  let dir: string;
  let unet: VideoUNetConfig;
  let shapes: ReadonlyMap<string, Shape>;
  let feeds: Record<string, HostTensor>;
  let a: string;
  let b: string;

  before(async () => {
    engine = await createTestEngine();
    dir = await mkdtemp(join(tmpdir(), 'svd-lora-unet-'));
    const model = tinyModel();
    unet = model.unet;
    shapes = declareModelParams(model).shapes;
    a = join(dir, 'a.safetensors');
    b = join(dir, 'b.safetensors');
    await writeTestLora(a, { targets: TARGETS, rank: 4, alpha: 2, seed: 7 });
    await writeTestLora(b, { rank: 2, seed: 8 });
    feeds = {
      x: randn([T, unet.outChannels, H, H]),
      concat: randn([T, unet.inChannels - unet.outChannels, H, H]),
      timesteps: randn([T], 0.5),
      context: randn([T, 1, unet.contextDim]),
      y: randn([T, unet.admInChannels!]),
      image_only_indicator: randn([1, T], 0),
    };
  });
  after(async () => {
    await engine.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const loras = (specs: [string, number][]) =>
    openLoras(
      specs.map(([path, scale]) => ({ path, scale })),
      shapes,
    );

  /** Runs `graph` with its weights from `source` (+ `extra`), starting from an empty weight store. */
  async function run(graph: Graph, source: CheckpointSource, extra = new Map<string, HostTensor>()) {
    const keys = graph.inputs.filter((i) => i.kind === 'weight' && !extra.has(i.name)).map((i) => i.name);
    await loadWeightsInto(engine, source, keys);
    await engine.setWeights(Object.fromEntries(extra));
    try {
      return (await engine.run(graph, feeds)).out;
    } finally {
      await engine.release([graph]);
      await engine.deleteWeights(graph.inputs.filter((i) => i.kind === 'weight').map((i) => i.name));
    }
  }

  const plainGraph = () => svdNetworkGraph(unet, T, T, H, H);

  async function merged(fitted: FittedLora[]): Promise<HostTensor> {
    const source = loraMergedSource(await openCheckpoint(TINY_CKPT), fitted);
    try {
      return await run(plainGraph(), source);
    } finally {
      await source.close();
    }
  }

  async function graphLevel(fitted: FittedLora[], set = fittedLoraSet(fitted)): Promise<HostTensor> {
    const base = await openCheckpoint(TINY_CKPT);
    try {
      const graph = svdNetworkGraph(unet, T, T, H, H, (p) => withLora(p, set));
      return await run(graph, base, await readLoraFactors(fitted));
    } finally {
      await base.close();
      for (const l of fitted) await l.file.close();
    }
  }

  test('one LoRA (attention, Conv2d, Conv3d): merged = graph-level ≤ 1e-5; scale 0 = base bitwise', async () => {
    const base = await merged([]);
    const m = await merged(await loras([[a, 1]]));
    const g = await graphLevel(await loras([[a, 1]]));
    const e = relError(m, g);
    console.log(
      `# merged vs graph-level, one LoRA: ${e.toExponential(2)} (LoRA effect ${relError(m, base).toExponential(2)})`,
    );
    assert.ok(relError(m, base) > 1e-3, 'the LoRA changes the output');
    assert.ok(e <= 1e-5, `relative error ${e}`);

    assert.deepEqual((await merged(await loras([[a, 0]]))).data, base.data);
    const zero = await loras([[a, 1]]);
    const set = new LoraSet(fittedLoraSet(zero).adapters.map((ad) => ({ ...ad, factor: 0 })));
    assert.deepEqual((await graphLevel(zero, set)).data, base.data);
  });

  test('two LoRAs at once: the sum of the updates, either way', async () => {
    const m = await merged(
      await loras([
        [a, 1],
        [b, -0.5],
      ]),
    );
    const g = await graphLevel(
      await loras([
        [a, 1],
        [b, -0.5],
      ]),
    );
    const e = relError(m, g);
    console.log(`# merged vs graph-level, two LoRAs: ${e.toExponential(2)}`);
    assert.ok(e <= 1e-5, `relative error ${e}`);
    // The same LoRA twice at 1 = once at 2 (updates add).
    const twice = await merged(
      await loras([
        [a, 1],
        [a, 1],
      ]),
    );
    const double = await merged(await loras([[a, 2]]));
    assert.ok(relError(twice, double) <= 1e-6, `${relError(twice, double)}`);
  });
});
