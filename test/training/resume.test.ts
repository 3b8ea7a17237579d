/**
 * Checkpoints: a run saved after 3 steps and resumed in a fresh engine ends bit-for-bit where an uninterrupted
 * 6-step run ends (same provider, 2 threads), with AdamW, gradient clipping and EMA.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Engine } from '../../src/runtime/engine.ts';
import { warmupLr } from '../../src/training/schedules.ts';
import { buildTrainStep } from '../../src/training/train-step.ts';
import { Trainer } from '../../src/training/trainer.ts';
import { batch, mnistSplit } from './mnist-data.ts';
import { initParams, lossGraph } from './small-net.ts';

test('save after 3 steps + resume in a new engine = 6 uninterrupted steps, bit for bit', async () => {
  const B = 32;
  const data = mnistSplit(0, 20);
  const { graph, params } = lossGraph(B);
  const compiled = buildTrainStep({
    lossGraph: graph,
    trainable: [...params.tree.shapes.keys()],
    optimizer: { kind: 'adamw', hyper: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2 } },
    clipGradNorm: 1.0,
    ema: true,
  });
  const opts = { lr: warmupLr(1e-3, 4), emaDecay: 0.999 };
  const init = initParams(params, 3);
  const feeds = (s: number) => {
    const bt = batch(data, (s * B) % 160, B);
    return { images: bt.images, onehot: bt.onehot };
  };

  const a = await Engine.create({ threads: 2 });
  const straight = await Trainer.create(a, compiled, init, opts);
  const lossesA: number[] = [];
  for (let s = 0; s < 6; s++) lossesA.push((await straight.runStep(feeds(s))).loss);
  const finalA = await straight.download();
  await a.dispose();

  const dir = mkdtempSync(join(tmpdir(), 'svd-resume-'));
  try {
    const b = await Engine.create({ threads: 2 });
    const first = await Trainer.create(b, compiled, init, opts);
    const lossesB: number[] = [];
    for (let s = 0; s < 3; s++) lossesB.push((await first.runStep(feeds(s))).loss);
    await first.save(join(dir, 'ckpt'));
    await b.dispose();

    const c = await Engine.create({ threads: 2 });
    const resumed = await Trainer.resume(c, compiled, join(dir, 'ckpt'), opts);
    assert.equal(resumed.step, 3);
    for (let s = 3; s < 6; s++) lossesB.push((await resumed.runStep(feeds(s))).loss);
    const finalB = await resumed.download();
    await c.dispose();

    assert.deepEqual(lossesB, lossesA);
    assert.equal(finalB.size, finalA.size);
    assert.ok(
      [...finalA.keys()].some((k) => k.startsWith('ema:')) && [...finalA.keys()].some((k) => k.startsWith('adam_v:')),
    );
    for (const [k, t] of finalA) {
      assert.deepEqual(
        Buffer.from((finalB.get(k)!.data as Float32Array).buffer),
        Buffer.from((t.data as Float32Array).buffer),
        k,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
