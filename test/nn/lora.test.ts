/**
 * The LoRA layer at the Params level (src/nn/lora.ts): W' = W + factor·reshape(up·down) for linear and conv weights,
 * untargeted keys passing through, base keys in the ParamTree and factors in a separate tree, initialisation, and
 * gradients reaching the factors only (float64 interpreter, no engine).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gradName, valueAndGrad } from '../../src/graph/autodiff/index.ts';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { interpret } from '../../src/graph/interpret.ts';
import * as op from '../../src/graph/ops/index.ts';
import { conv, linear } from '../../src/nn/layers.ts';
import { LoraSet, loraFactorShapes, loraParamNames, loraWeightsInGraph, withLora } from '../../src/nn/lora.ts';
import { initLora } from '../../src/nn/lora-init.ts';
import { Params } from '../../src/nn/params.ts';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import type { Shape } from '../../src/tensor/shape.ts';
import { buildTrainStep } from '../../src/training/train-step.ts';
import { randn } from '../helpers/random.ts';

const adapter = (base: string, shape: Shape, rank: number, factor: number, tag = base) => ({
  base,
  shape,
  down: `${tag}.down`,
  up: `${tag}.up`,
  rank,
  factor,
});

/** W + f·(up as [out, r])·(down as [r, rest]) in float64, flat. */
function merged(w: HostTensor | Float64Array, up: HostTensor, down: HostTensor, rank: number, f: number): Float64Array {
  const out = up.shape[0];
  const r = Float64Array.from((w instanceof Float64Array ? w : w.data) as ArrayLike<number>);
  const cols = r.length / out;
  for (let o = 0; o < out; o++)
    for (let j = 0; j < cols; j++) {
      let acc = 0;
      for (let k = 0; k < rank; k++) acc += (up.data[o * rank + k] as number) * (down.data[k * cols + j] as number);
      r[o * cols + j] += f * acc;
    }
  return r;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('withLora', () => {
  test('linear: W + factor·up·down; untargeted weights pass through; trees', () => {
    const set = new LoraSet([adapter('lin.weight', [4, 3], 2, 0.75, 'lora_lin')]);
    const b = new GraphBuilder('lin');
    const p = withLora(new Params(b), set);
    const x = b.input('x', [2, 3]);
    const y = linear(p.pp('other'), linear(p.pp('lin'), x, 3, 4), 4, 2);
    b.output('y', y);
    const g = b.build();
    assert.deepEqual([...p.tree.shapes.keys()], ['lin.weight', 'lin.bias', 'other.weight', 'other.bias']);
    assert.deepEqual(
      [...p.loraTree.shapes.entries()],
      [
        ['lora_lin.down', [2, 3]],
        ['lora_lin.up', [4, 2]],
      ],
    );
    const weights = g.inputs.filter((i) => i.kind === 'weight').map((i) => i.name);
    assert.deepEqual(weights.sort(), [
      'lin.bias',
      'lin.weight',
      'lora_lin.down',
      'lora_lin.up',
      'other.bias',
      'other.weight',
    ]);
    assert.deepEqual(p.unused(), []);
    assert.deepEqual(loraWeightsInGraph(g, set), ['lora_lin.down', 'lora_lin.up']);

    const feeds = {
      x: randn([2, 3]),
      'lin.weight': randn([4, 3]),
      'lin.bias': randn([4]),
      'lora_lin.down': randn([2, 3]),
      'lora_lin.up': randn([4, 2]),
      'other.weight': randn([2, 4]),
      'other.bias': randn([2]),
    };
    const got = interpret(g, feeds).y;
    // The same network without LoRA, fed the merged weight.
    const plain = new GraphBuilder('plain');
    const pp = new Params(plain);
    plain.output('y', linear(pp.pp('other'), linear(pp.pp('lin'), plain.input('x', [2, 3]), 3, 4), 4, 2));
    const w = merged(feeds['lin.weight'], feeds['lora_lin.up'], feeds['lora_lin.down'], 2, 0.75);
    const want = interpret(plain.build(), {
      ...feeds,
      'lin.weight': { shape: [4, 3], data: w },
    }).y;
    assert.ok(maxAbsDiff(got.data, want.data) < 1e-12);
  });

  test('conv: down [r, in, kh, kw], up [out, r, 1, 1]; two adapters add', () => {
    const shape = [3, 2, 3, 3];
    assert.deepEqual(loraFactorShapes(shape, 2), { down: [2, 2, 3, 3], up: [3, 2, 1, 1] });
    assert.deepEqual(loraFactorShapes([5, 4], 3), { down: [3, 4], up: [5, 3] });
    const set = new LoraSet([adapter('c.weight', shape, 2, 0.5, 'a'), adapter('c.weight', shape, 1, -2, 'b')]);
    const build = (lora: boolean) => {
      const b = new GraphBuilder('conv');
      const p = lora ? withLora(new Params(b), set) : new Params(b);
      b.output('y', conv(p.pp('c'), b.input('x', [1, 2, 5, 5]), 2, 3, { kernel: 3, padding: 1 }));
      return b.build();
    };
    const feeds = {
      x: randn([1, 2, 5, 5]),
      'c.weight': randn([3, 2, 3, 3]),
      'c.bias': randn([3]),
      'a.down': randn([2, 2, 3, 3]),
      'a.up': randn([3, 2, 1, 1]),
      'b.down': randn([1, 2, 3, 3]),
      'b.up': randn([3, 1, 1, 1]),
    };
    const got = interpret(build(true), feeds).y;
    const once = merged(feeds['c.weight'], feeds['a.up'], feeds['a.down'], 2, 0.5);
    const twice = merged(once, feeds['b.up'], feeds['b.down'], 1, -2);
    const want = interpret(build(false), { ...feeds, 'c.weight': { shape, data: twice } }).y;
    const e = maxAbsDiff(got.data, want.data);
    assert.ok(e < 1e-9, String(e));
  });

  test('a declared-only weight records its factors but adds no graph input', () => {
    const set = new LoraSet([adapter('q.weight', [4, 3], 2, 1), adapter('missing.weight', [2, 2], 1, 1)]);
    const b = new GraphBuilder('declared');
    const p = withLora(new Params(b), set);
    p.pp('q').declare('weight', [4, 3]);
    b.output('y', op.mul(b.input('x', [1]), 2));
    const g = b.build();
    assert.deepEqual([...p.loraTree.shapes.keys()], ['q.weight.down', 'q.weight.up']);
    assert.deepEqual(loraWeightsInGraph(g, set), []);
    assert.deepEqual(
      p.unused().map((a) => a.base),
      ['missing.weight'],
    );
  });

  test('errors: wrong base shape, repeated names, nested withLora', () => {
    const set = new LoraSet([adapter('lin.weight', [4, 3], 2, 1)]);
    const b = new GraphBuilder('bad');
    const p = withLora(new Params(b), set);
    assert.throws(() => linear(p.pp('lin'), b.input('x', [1, 5]), 5, 4), /LoRA on "lin.weight" is for \[4, 3\]/);
    assert.throws(
      () => new LoraSet([adapter('a.weight', [4, 3], 2, 1, 't'), adapter('b.weight', [4, 3], 2, 1, 't')]),
      /"t.down" is used twice/,
    );
    assert.throws(() => withLora(p, set), /already carry a LoRA set/);
    assert.throws(() => loraFactorShapes([4], 2), /rank ≥ 2/);
  });
});

describe('initLora', () => {
  const set = new LoraSet([adapter('a.weight', [6, 8], 4, 1), adapter('c.weight', [5, 3, 3, 3], 2, 1)]);

  test('down: U(−1/√fan_in, 1/√fan_in), up: 0; a pure function of (seed, name)', () => {
    const v = initLora(set, 11);
    assert.deepEqual([...v.keys()], loraParamNames(set));
    for (const a of set.adapters) {
      const down = v.get(a.down)!;
      const up = v.get(a.up)!;
      const bound = 1 / Math.sqrt(down.size / a.rank);
      assert.ok((down.data as Float32Array).every((d) => Math.abs(d) <= bound && d !== 0));
      assert.ok((up.data as Float32Array).every((d) => d === 0));
    }
    const again = initLora(new LoraSet([...set.adapters].reverse()), 11);
    for (const [k, t] of v) assert.deepEqual(again.get(k)!.data, t.data);
    assert.notDeepEqual(initLora(set, 12).get('a.weight.down')!.data, v.get('a.weight.down')!.data);
  });
});

describe('LoRA gradients', () => {
  /** loss = Σ y², y = x·W'ᵀ + bias over a LoRA'd linear layer. */
  function lossGraph(set: LoraSet) {
    const b = new GraphBuilder('lora_loss');
    const p = withLora(new Params(b), set);
    const y = linear(p.pp('lin'), b.input('x', [3, 5]), 5, 4);
    b.output('loss', op.sum(op.mul(y, y)));
    return b.build();
  }

  test('reach the LoRA factors (analytic) and not the base weights', () => {
    const f = 0.5;
    const set = new LoraSet([adapter('lin.weight', [4, 5], 2, f)]);
    const g = lossGraph(set);
    const trainable = loraWeightsInGraph(g, set);
    assert.deepEqual(trainable, ['lin.weight.down', 'lin.weight.up']);
    const vg = valueAndGrad(g, trainable);
    assert.deepEqual(vg.outputs.map((o) => o.name).sort(), ['grad.lin.weight.down', 'grad.lin.weight.up', 'loss']);

    const feeds = {
      x: randn([3, 5]),
      'lin.weight': randn([4, 5]),
      'lin.bias': randn([4]),
      'lin.weight.down': randn([2, 5]),
      'lin.weight.up': randn([4, 2]),
    };
    const out = interpret(vg, feeds);
    // dL/dW' = G = Σ_n 2·y_n ⊗ x_n; dL/dup = f·G·downᵀ, dL/ddown = f·upᵀ·G.
    const w = merged(feeds['lin.weight'], feeds['lin.weight.up'], feeds['lin.weight.down'], 2, f);
    const x = feeds.x.data;
    const G = new Float64Array(20);
    for (let n = 0; n < 3; n++)
      for (let o = 0; o < 4; o++) {
        let y = feeds['lin.bias'].data[o];
        for (let i = 0; i < 5; i++) y += x[n * 5 + i] * w[o * 5 + i];
        for (let i = 0; i < 5; i++) G[o * 5 + i] += 2 * y * x[n * 5 + i];
      }
    const up = feeds['lin.weight.up'].data;
    const down = feeds['lin.weight.down'].data;
    const gUp = new Float64Array(8);
    const gDown = new Float64Array(10);
    for (let o = 0; o < 4; o++)
      for (let r = 0; r < 2; r++)
        for (let i = 0; i < 5; i++) {
          gUp[o * 2 + r] += f * G[o * 5 + i] * down[r * 5 + i];
          gDown[r * 5 + i] += f * up[o * 2 + r] * G[o * 5 + i];
        }
    assert.ok(maxAbsDiff(out[gradName('lin.weight.up')].data, gUp) < 1e-9);
    assert.ok(maxAbsDiff(out[gradName('lin.weight.down')].data, gDown) < 1e-9);

    // From the initial values (up = 0): the first step moves up only; down's gradient is exactly 0.
    const init = initLora(set, 1);
    const first = interpret(vg, { ...feeds, ...Object.fromEntries(init) });
    assert.ok(first[gradName('lin.weight.up')].data.some((v) => v !== 0));
    assert.ok(first[gradName('lin.weight.down')].data.every((v) => v === 0));
  });

  test('a train step over the LoRA factors keeps the base weights frozen in the weight store', () => {
    const set = new LoraSet([adapter('lin.weight', [4, 5], 2, 1)]);
    const g = lossGraph(set);
    const step = buildTrainStep({
      lossGraph: g,
      trainable: loraWeightsInGraph(g, set),
      optimizer: { kind: 'sgd', hyper: { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false } },
    });
    const kind = (n: string) => step.graph.inputs.find((i) => i.name === n)?.kind;
    assert.equal(kind('lin.weight'), 'weight');
    assert.equal(kind('lin.bias'), 'weight');
    assert.equal(kind('lin.weight.up'), 'input');
    assert.equal(kind('lin.weight.down'), 'input');
    const outs = step.graph.outputs.map((o) => o.name);
    assert.ok(outs.includes(gradName('lin.weight.up')) && outs.includes(gradName('lin.weight.down')));
    assert.ok(!outs.some((o) => o.includes('lin.weight') && !o.includes('.up') && !o.includes('.down')));
    assert.deepEqual(step.update.groups.flat().sort(), [
      gradName('lin.weight.down'),
      gradName('lin.weight.up'),
      'lin.weight.down',
      'lin.weight.up',
    ]);
  });
});
