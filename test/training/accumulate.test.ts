/** Gradient accumulation: 2 micro-batches of 16 update the parameters as one batch of 32 does. */
import { after, before, test } from 'node:test';
import type { Engine } from '../../src/runtime/engine.ts';
import { selectParams } from '../../src/training/freeze.ts';
import { constantLr } from '../../src/training/schedules.ts';
import { buildTrainStep } from '../../src/training/train-step.ts';
import { Trainer } from '../../src/training/trainer.ts';
import { assertClose } from '../helpers/compare.ts';
import { createTestEngine } from '../helpers/engine.ts';
import { batch, mnistSplit } from './mnist-data.ts';
import { initParams, lossGraph } from './small-net.ts';

let engine: Engine;
before(async () => {
  engine = await createTestEngine();
});
after(async () => {
  await engine.dispose();
});

test('accumulate 2 × 16 = one batch of 32 (AdamW, clipping, EMA, frozen conv1)', async () => {
  const data = mnistSplit(0, 16);
  const big = lossGraph(32);
  const small = lossGraph(16);
  const init = initParams(big.params, 5);
  // conv1 stays frozen: it is fed from the weight store.
  const trainable = selectParams(big.params.tree.shapes.keys(), [], ['conv1.*']);
  await engine.setWeights({ 'conv1.weight': init.get('conv1.weight')!, 'conv1.bias': init.get('conv1.bias')! });
  const optimizer = {
    kind: 'adamw' as const,
    hyper: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 },
  };
  const opts = { lr: constantLr(1e-3), emaDecay: 0.99 };
  const one = await Trainer.create(
    engine,
    buildTrainStep({ lossGraph: big.graph, trainable, optimizer, clipGradNorm: 5, ema: true }),
    init,
    opts,
  );
  const acc = await Trainer.create(
    engine,
    buildTrainStep({ lossGraph: small.graph, trainable, optimizer, clipGradNorm: 5, ema: true, accumulate: 2 }),
    init,
    opts,
  );
  for (let s = 0; s < 2; s++) {
    const whole = batch(data, s * 32, 32);
    const a = batch(data, s * 32, 16);
    const b = batch(data, s * 32 + 16, 16);
    await one.runStep({ images: whole.images, onehot: whole.onehot });
    await acc.runStep([
      { images: a.images, onehot: a.onehot },
      { images: b.images, onehot: b.onehot },
    ]);
  }
  for (const k of trainable) {
    assertClose(await acc.get(k), await one.get(k), 1e-5, k);
    assertClose(await acc.get(`ema:${k}`), await one.get(`ema:${k}`), 1e-5, `ema:${k}`);
  }
  await one.dispose();
  await acc.dispose();
});
