/**
 * A CheckpointSource of random weights for a declared parameter tree (benchmarks of the full-size architecture without
 * the released files): matrices and kernels N(0, 1/fan_in), 1-D norm scales 1, biases and `mix_factor` 0. Each tensor
 * is drawn when read, from the project's RNG (stream = key), so it is reproducible and costs no memory until used.
 */
import type { ParamTree } from '../nn/params.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import { Rng } from '../tensor/rng.ts';
import { numel } from '../tensor/shape.ts';
import type { CheckpointEntry, CheckpointSource } from './checkpoint-source.ts';

export function randomCheckpoint(tree: ParamTree, seed = 0): CheckpointSource {
  const rng = new Rng(seed);
  const entries = new Map<string, CheckpointEntry>();
  for (const [k, shape] of tree.shapes) entries.set(k, { dtype: 'float32', shape });
  const read = async (key: string): Promise<HostTensor> => {
    const e = entries.get(key);
    if (!e) throw new Error(`random checkpoint: no parameter "${key}"`);
    const shape = e.shape;
    if (key.endsWith('mix_factor') || (shape.length <= 1 && key.endsWith('bias')))
      return HostTensor.zeros('float32', shape);
    if (shape.length <= 1) return new HostTensor('float32', shape, new Float32Array(numel(shape)).fill(1));
    const t = rng.randn(key, shape);
    const std = 1 / Math.sqrt(numel(shape) / shape[0]);
    for (let i = 0; i < t.data.length; i++) t.data[i] *= std;
    return t;
  };
  return {
    path: '<random>',
    layout: 'sgm',
    metadata: {},
    entries: () => new Map(entries),
    read,
    readStored: read,
    close: async () => {},
  };
}
