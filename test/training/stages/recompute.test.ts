/**
 * Activation recomputation of every UNet block (`recompute: true` in a train config): one AdamW step on the
 * train-tiny golden batch gives the same loss and the same parameters as the step that keeps all activations.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { modelFromReferenceConfig } from '../../../src/models/reference/model-config.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import type { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { constantLr } from '../../../src/training/schedules.ts';
import { stageLossGraph } from '../../../src/training/stages/graphs.ts';
import { buildTrainStep } from '../../../src/training/train-step.ts';
import { Trainer } from '../../../src/training/trainer.ts';
import { SafetensorsFile } from '../../../src/weights/index.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { GOLDEN_DIR, loadGolden } from '../../helpers/golden.ts';

let engine: Engine;
before(async () => {
  engine = await createTestEngine();
});
after(async () => {
  await engine.dispose();
});

test('recomputing every UNet block in the backward pass changes nothing', async () => {
  const g = await loadGolden('train-tiny/train.safetensors');
  const model = modelFromReferenceConfig(JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-tiny/config.json`, 'utf8')));
  const data: Record<string, HostTensor> = {
    x0: g.get('x0')!,
    sigma: g.get('sigma')!,
    noise: g.get('noise')!,
    context: g.get('cond.crossattn')!,
    y: g.get('cond.vector')!,
    concat: g.get('cond.concat')!,
    image_only_indicator: g.get('image_only_indicator')!,
  };
  const [n, , h, w] = data.x0.shape;
  const T = data.image_only_indicator.shape[1];
  const results: { loss: number; params: Map<string, HostTensor> }[] = [];
  for (const recompute of [false, true]) {
    const loss = stageLossGraph(model, { videos: n / T, frames: T, h, w }, { recompute });
    assert.equal(loss.recompute.length > 0, recompute);
    const keys = loss.graph.inputs.filter((i) => i.kind === 'weight').map((i) => i.name);
    const trainable = keys.filter((k) => k.includes('input_blocks') || k.includes('output_blocks'));
    const file = await SafetensorsFile.open(`${GOLDEN_DIR}pipeline-tiny/checkpoint.safetensors`);
    const initial = new Map<string, HostTensor>();
    try {
      for (const k of keys) {
        const v = await file.read(k);
        if (trainable.includes(k)) initial.set(k, v);
        else await engine.setWeights({ [k]: v });
      }
    } finally {
      await file.close();
    }
    const compiled = buildTrainStep({
      lossGraph: loss.graph,
      trainable,
      optimizer: { kind: 'adamw', hyper: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 } },
      recompute: loss.recompute,
    });
    const trainer = await Trainer.create(engine, compiled, initial, { lr: constantLr(1e-3) });
    const { loss: value } = await trainer.runStep(data);
    const params = new Map<string, HostTensor>();
    for (const k of trainable) params.set(k, await trainer.get(k));
    results.push({ loss: value, params });
    await trainer.dispose();
  }
  assert.equal(results[1].loss, results[0].loss);
  let maxDiff = 0;
  for (const [k, a] of results[0].params) {
    const b = results[1].params.get(k)!.data as Float32Array;
    const d = a.data as Float32Array;
    for (let i = 0; i < d.length; i++) maxDiff = Math.max(maxDiff, Math.abs(d[i] - b[i]));
  }
  assert.ok(maxDiff <= 1e-7, `parameters after one step differ by ${maxDiff}`);
});
