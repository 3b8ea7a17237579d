/**
 * I3D (FVD's feature network) against piergiaj/pytorch-i3d's InceptionI3d under PyTorch 1.13 on formula-made weights
 * (scripts/make-i3d-vectors.py → test/fixtures/eval/i3d-vectors.json): the Mixed_5c features of an 8×64×64 video, and
 * the logits head (average pool [2,7,7], 1×1×1 conv, mean over time); TensorFlow 'same' padding.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { i3dGraph, i3dLogits, samePad } from '../../src/eval/i3d.ts';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { Params } from '../../src/nn/params.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';

const V = JSON.parse(readFileSync(new URL('../fixtures/eval/i3d-vectors.json', import.meta.url), 'utf8')) as {
  keys: string[];
  video: [number, number, number];
  features_shape: number[];
  features: number[];
  logits: number[];
};
let engine: Engine;
before(async () => {
  engine = await Engine.create({ threads: 2 });
});
after(async () => engine?.dispose());

/** The script's formula for key index k with this shape. */
function formula(name: string, k: number, shape: readonly number[]): HostTensor {
  const n = shape.reduce((a, d) => a * d, 1);
  const out = new Float32Array(n);
  const fanIn = n / shape[0];
  for (let i = 0; i < n; i++) {
    const s = Math.sin(0.37 * i + 0.11 * k);
    out[i] = name.endsWith('conv3d.weight')
      ? s / Math.sqrt(fanIn)
      : name.endsWith('bn.weight')
        ? 1 + 0.1 * s
        : name.endsWith('running_var')
          ? 1 + 0.5 * Math.abs(s)
          : 0.1 * s;
  }
  return new HostTensor('float32', shape, out);
}

function close(got: Float32Array, want: readonly number[], what: string): void {
  let maxErr = 0;
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
    maxRef = Math.max(maxRef, Math.abs(want[i]));
  }
  assert.ok(maxErr <= 1e-5 * maxRef, `${what}: max |err| ${maxErr} vs max |ref| ${maxRef}`);
}

test("TensorFlow 'same' padding", () => {
  assert.deepEqual(samePad(224, 7, 2), [2, 3]);
  assert.deepEqual(samePad(16, 7, 2), [2, 3]);
  assert.deepEqual(samePad(15, 3, 2), [1, 1]);
  assert.deepEqual(samePad(8, 1, 1), [0, 0]);
  assert.deepEqual(samePad(8, 2, 2), [0, 0]);
});

test('Mixed_5c features of an 8×64×64 video equal the PyTorch port', async () => {
  const [T, H, W] = V.video;
  const graph = i3dGraph(1, T, H, W, false);
  const weights: Record<string, HostTensor> = {};
  for (const input of graph.inputs) {
    if (input.kind !== 'weight') continue;
    const k = V.keys.indexOf(input.name);
    assert.ok(k >= 0, `no reference key ${input.name}`);
    weights[input.name] = formula(input.name, k, graph.values[input.value].shape);
  }
  await engine.setWeights(weights);
  const n = 3 * T * H * W;
  const video = new Float32Array(n);
  for (let i = 0; i < n; i++) video[i] = Math.sin(0.013 * i) * Math.cos(0.0007 * i);
  const out = await engine.run(graph, { video: new HostTensor('float32', [1, 3, T, H, W], video) });
  assert.deepEqual(out.features.shape, V.features_shape);
  close(out.features.data as Float32Array, V.features, 'features');
});

test('the logits head: average pool [2,7,7], 1×1×1 conv, mean over time', async () => {
  const b = new GraphBuilder('i3d_head');
  const f = b.input('features', [1, 1024, 2, 7, 7]);
  b.output('logits', i3dLogits(new Params(b), f));
  const graph = b.build();
  const weights: Record<string, HostTensor> = {};
  for (const input of graph.inputs)
    if (input.kind === 'weight')
      weights[input.name] = formula(input.name, V.keys.indexOf(input.name), graph.values[input.value].shape);
  await engine.setWeights(weights);
  const x = new Float32Array(1024 * 2 * 7 * 7);
  for (let j = 0; j < x.length; j++) x[j] = Math.abs(Math.sin(0.031 * j));
  const out = await engine.run(graph, { features: new HostTensor('float32', [1, 1024, 2, 7, 7], x) });
  assert.deepEqual(out.logits.shape, [1, 400]);
  close(out.logits.data as Float32Array, V.logits, 'logits');
});
