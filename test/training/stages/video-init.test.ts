/**
 * Stage II starts from the image model: with its temporal layers initialised by `initTemporalLayers`, the video UNet
 * (image_only_indicator = 0, temporal branches active) equals the image model (indicator = 1: spatial only) frame by
 * frame, on the tiny golden model with random temporal weights everywhere else.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { GraphBuilder } from '../../../src/graph/builder.ts';
import { modelFromReferenceConfig } from '../../../src/models/reference/model-config.ts';
import { svdNetworkGraph, UNET_PREFIX } from '../../../src/models/svd-network.ts';
import { declareVideoUNetParams } from '../../../src/models/unet/index.ts';
import { Params } from '../../../src/nn/params.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { Rng } from '../../../src/tensor/rng.ts';
import { initTemporalLayers } from '../../../src/training/stages/init.ts';
import { SafetensorsFile } from '../../../src/weights/index.ts';
import { relError } from '../../helpers/compare.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { GOLDEN_DIR } from '../../helpers/golden.ts';

const G = `${GOLDEN_DIR}pipeline-tiny/`;
let engine: Engine;
before(async () => {
  engine = await createTestEngine();
});
after(async () => {
  await engine.dispose();
});

test('video UNet with fresh temporal layers = the image model frame by frame; a perturbed one differs', async () => {
  const model = modelFromReferenceConfig(JSON.parse(readFileSync(`${G}config.json`, 'utf8')), 'tiny');
  const unet = model.unet;
  const tree = declareVideoUNetParams(new Params(new GraphBuilder('declare'), UNET_PREFIX), unet);
  const temporal = initTemporalLayers(tree, { seed: 3, mergeFactor: unet.mergeFactor });
  assert.ok(temporal.size > 50, `${temporal.size} temporal tensors`);
  const zeroed = [...temporal].filter(([, t]) => (t.data as Float32Array).every((v) => v === 0)).map(([k]) => k);
  assert.ok(
    zeroed.some((k) => k.endsWith('time_pos_embed.2.weight')) && zeroed.some((k) => k.endsWith('ff.net.2.weight')),
    'the temporal output projections start at zero',
  );
  const file = await SafetensorsFile.open(`${G}checkpoint.safetensors`);
  try {
    for (const k of tree.shapes.keys()) {
      await engine.setWeights({ [k]: temporal.get(k) ?? (await file.read(k)) });
    }
  } finally {
    await file.close();
  }
  const T = 4;
  const graph = svdNetworkGraph(unet, T, T, 8, 8);
  const rng = new Rng(1);
  const feeds = {
    x: rng.randn('x', [T, unet.outChannels, 8, 8]),
    concat: rng.randn('c', [T, unet.inChannels - unet.outChannels, 8, 8]),
    timesteps: HostTensor.float32([T], [0.3, 0.3, 0.3, 0.3]),
    context: rng.randn('ctx', [T, 1, unet.contextDim]),
    y: rng.randn('y', [T, unet.admInChannels!]),
  };
  const video = await engine.run(graph, { ...feeds, image_only_indicator: HostTensor.zeros('float32', [1, T]) });
  const image = await engine.run(graph, { ...feeds, image_only_indicator: HostTensor.float32([1, T], [1, 1, 1, 1]) });
  const err = relError(video.out, image.out);
  assert.ok(err <= 1e-6, `video vs image model: ${err}`);
  // The check can fail: a temporal output projection that is not zero makes the video model differ.
  const key = [...temporal.keys()].find((k) => k.endsWith('time_stack.out_layers.3.weight'))!;
  await engine.setWeights({ [key]: rng.randn('perturb', tree.shapes.get(key)!) });
  const perturbed = await engine.run(graph, { ...feeds, image_only_indicator: HostTensor.zeros('float32', [1, T]) });
  assert.ok(relError(perturbed.out, image.out) > 1e-3, 'a non-zero temporal output changes the result');
});
