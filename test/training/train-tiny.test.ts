/**
 * train-tiny golden: one StandardDiffusionLoss evaluation of the tiny VideoUNet (v-weighting, v-scaling with EDM
 * c_noise), the gradients of 6 parameters (≤ 1e-4) and one torch.optim.AdamW step (≤ 1e-6 absolute, small-gradient
 * exception of the golden README), through the compiled train step.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { gradName, valueAndGrad } from '../../src/graph/autodiff/index.ts';
import { modelFromReferenceConfig } from '../../src/models/reference/model-config.ts';
import { videoUNetConfigFromSgm } from '../../src/models/unet/index.ts';
import type { Engine } from '../../src/runtime/engine.ts';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import { constantLr } from '../../src/training/schedules.ts';
import { stageLossGraph } from '../../src/training/stages/graphs.ts';
import { buildTrainStep } from '../../src/training/train-step.ts';
import { Trainer } from '../../src/training/trainer.ts';
import { SafetensorsFile } from '../../src/weights/index.ts';
import { assertClose } from '../helpers/compare.ts';
import { createTestEngine } from '../helpers/engine.ts';
import { GOLDEN_DIR, loadGolden } from '../helpers/golden.ts';

let engine: Engine;
before(async () => {
  engine = await createTestEngine();
});
after(async () => {
  await engine.dispose();
});

const PREFIX = 'model.diffusion_model.';

test('train-tiny: loss, 6 parameter gradients and one AdamW step match the reference', async () => {
  const g = await loadGolden('train-tiny/train.safetensors');
  const manifest = JSON.parse(readFileSync(`${GOLDEN_DIR}train-tiny/manifest.json`, 'utf8'));
  const unetManifest = JSON.parse(readFileSync(`${GOLDEN_DIR}unet-tiny/manifest.json`, 'utf8'));
  const model = modelFromReferenceConfig(JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-tiny/config.json`, 'utf8')));
  assert.deepEqual(model.unet, videoUNetConfigFromSgm(unetManifest.config), 'the tiny model is the unet-tiny UNet');
  const T = manifest.T as number;

  const golden = (k: string) => g.get(k)!;
  const data: Record<string, HostTensor> = {
    x0: golden('x0'),
    sigma: golden('sigma'),
    noise: golden('noise'),
    context: golden('cond.crossattn'),
    y: golden('cond.vector'),
    concat: golden('cond.concat'),
    image_only_indicator: golden('image_only_indicator'),
  };
  // The training stages' loss graph (src/training/stages/graphs.ts), the one `svd train` compiles.
  const [n, , lh, lw] = data.x0.shape;
  const { graph: lossGraph, params: p } = stageLossGraph(
    model,
    { videos: n / T, frames: T, h: lh, w: lw },
    { denoisedOutput: true },
  );
  const file = await SafetensorsFile.open(`${GOLDEN_DIR}pipeline-tiny/checkpoint.safetensors`);
  const weights: Record<string, HostTensor> = {};
  try {
    for (const k of p.tree.shapes.keys()) weights[k] = await file.read(k);
  } finally {
    await file.close();
  }
  await engine.setWeights(weights);

  const params = (manifest.params as string[]).map((n) => PREFIX + n);
  const withGrads = valueAndGrad(lossGraph, params, { output: 'loss' });
  const r = await engine.run(withGrads, data);
  assertClose(r.loss, g.get('loss')!, 1e-4, 'loss');
  assertClose(r.denoised, g.get('denoised')!, 1e-4, 'denoised');
  assertClose(r.loss_per_sample, g.get('loss_per_sample')!, 1e-4, 'loss_per_sample');
  for (const k of params) {
    assertClose(r[gradName(k)], g.get(`grad.${k.slice(PREFIX.length)}`)!, 1e-4, `grad ${k}`);
  }

  // One AdamW step over the six parameters through the compiled step (forward + backward + update in one graph).
  const h = manifest.optimizer;
  const compiled = buildTrainStep({
    lossGraph,
    trainable: params,
    optimizer: {
      kind: 'adamw',
      hyper: { lr: h.lr, beta1: h.betas[0], beta2: h.betas[1], eps: h.eps, weightDecay: h.weight_decay },
    },
  });
  const trainer = await Trainer.create(engine, compiled, new Map(params.map((k) => [k, weights[k]])), {
    lr: constantLr(h.lr),
  });
  const { loss } = await trainer.runStep(data);
  assert.ok(
    Math.abs(loss - (g.get('loss')!.data as Float32Array)[0]) <=
      1e-4 * Math.abs((g.get('loss')!.data as Float32Array)[0]),
  );
  for (const k of params) {
    const name = k.slice(PREFIX.length);
    const mine = (await trainer.get(k)).data as Float32Array;
    const ref = g.get(`param_after.${name}`)!.data as Float32Array;
    const grad = g.get(`grad.${name}`)!.data as Float32Array;
    const before0 = weights[k].data as Float32Array;
    let gmax = 0;
    for (const v of grad) gmax = Math.max(gmax, Math.abs(v));
    for (let i = 0; i < ref.length; i++) {
      if (Math.abs(grad[i]) < 1e-4 * gmax) {
        assert.ok(
          Math.abs(mine[i] - before0[i]) <= h.lr * (1 + h.weight_decay) + 1e-7,
          `${name}[${i}] small-gradient update`,
        );
      } else {
        assert.ok(Math.abs(mine[i] - ref[i]) <= 1e-6, `${name}[${i}]: ${mine[i]} vs ${ref[i]}`);
      }
    }
    assertClose(await trainer.get(`adam_m:${k}`), g.get(`adamw_exp_avg.${name}`)!, 1e-4, `exp_avg ${name}`);
  }
  await trainer.dispose();
});
