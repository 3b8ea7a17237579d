/** A small conv net for the training tests: two stride-2 3×3 convs with ReLU, then a linear classifier. */
import { GraphBuilder, type SymTensor } from '../../src/graph/builder.ts';
import * as op from '../../src/graph/ops/index.ts';
import { conv, linear } from '../../src/nn/layers.ts';
import { Params } from '../../src/nn/params.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { numel } from '../../src/tensor/shape.ts';

export function logits(p: Params, x: SymTensor): SymTensor {
  let h = op.relu(conv(p.pp('conv1'), x, 1, 8, { kernel: 3, stride: 2, padding: 1 })); // [B, 8, 14, 14]
  h = op.relu(conv(p.pp('conv2'), h, 8, 16, { kernel: 3, stride: 2, padding: 1 })); // [B, 16, 7, 7]
  return linear(p.pp('fc'), op.reshape(h, [x.shape[0], 16 * 7 * 7]), 16 * 7 * 7, 10); // [B, 10]
}

/** Mean softmax cross-entropy: logsumexp(z) − ⟨onehot, z⟩. */
export function crossEntropy(z: SymTensor, onehot: SymTensor): SymTensor {
  const m = op.max(z, 1, true);
  const lse = op.add(op.log(op.sum(op.exp(op.sub(z, m)), 1, true)), m); // [B, 1]
  return op.mean(op.sub(op.reshape(lse, [z.shape[0]]), op.sum(op.mul(onehot, z), 1)));
}

export function lossGraph(batchSize: number): { graph: ReturnType<GraphBuilder['build']>; params: Params } {
  const b = new GraphBuilder('small_net');
  const p = new Params(b);
  const z = logits(p, b.input('images', [batchSize, 1, 28, 28]));
  b.output('loss', crossEntropy(z, b.input('onehot', [batchSize, 10])));
  return { graph: b.build(), params: p };
}

export function logitsGraph(batchSize: number) {
  const b = new GraphBuilder('small_net_logits');
  b.output('logits', logits(new Params(b), b.input('images', [batchSize, 1, 28, 28])));
  return b.build();
}

/** He-normal weights (N(0, 2/fan_in)), zero biases, drawn from the project's RNG. */
export function initParams(p: Params, seed: number): Map<string, HostTensor> {
  const rng = new Rng(seed);
  const out = new Map<string, HostTensor>();
  for (const [k, shape] of p.tree.shapes) {
    if (shape.length === 1) out.set(k, HostTensor.zeros('float32', shape));
    else {
      const t = rng.randn(k, shape);
      const std = Math.sqrt(2 / (numel(shape) / shape[0]));
      for (let i = 0; i < t.data.length; i++) t.data[i] *= std;
      out.set(k, t);
    }
  }
  return out;
}
