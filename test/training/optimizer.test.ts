/** Optimizer updates as graphs: AdamW against the reference's torch.optim.AdamW step (train-tiny), SGD, clipping, EMA. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GraphBuilder } from '../../src/graph/builder.ts';
import type { Engine } from '../../src/runtime/engine.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { numel } from '../../src/tensor/shape.ts';
import { selectParams, TEMPORAL_PARAM_PATTERNS } from '../../src/training/freeze.ts';
import {
  adamWStepScalars,
  adamWUpdate,
  clipGradNorm,
  emaDecay,
  emaUpdate,
  sgdUpdate,
} from '../../src/training/optimizer.ts';
import { cosineLr, warmupLr } from '../../src/training/schedules.ts';
import { assertClose } from '../helpers/compare.ts';
import { createTestEngine } from '../helpers/engine.ts';
import { loadGolden } from '../helpers/golden.ts';
import { readKeyTable } from '../helpers/manifest.ts';
import { randn } from '../helpers/random.ts';

const scalar = (v: number) => HostTensor.float32([], [v]);

describe('optimizers', () => {
  let engine: Engine;
  before(async () => {
    engine = await createTestEngine();
  });
  after(async () => {
    await engine.dispose();
  });

  test('AdamW matches torch.optim.AdamW (train-tiny: lr 1e-3, wd 1e-2, first step)', async () => {
    const g = await loadGolden('train-tiny/train.safetensors');
    const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
    const names = [...g.keys()]
      .filter((k) => k.startsWith('param_before.'))
      .map((k) => k.slice('param_before.'.length));
    assert.equal(names.length, 6);
    const s = adamWStepScalars(h, h.lr, 1);
    for (const name of names) {
      const p0 = g.get(`param_before.${name}`)!;
      const grad = g.get(`grad.${name}`)!;
      const b = new GraphBuilder('adamw');
      const [p, gr, m, v] = ['p', 'g', 'm', 'v'].map((n) => b.input(n, p0.shape));
      const sc = { decay: b.input('decay', []), stepSize: b.input('stepSize', []), bc2Sqrt: b.input('bc2Sqrt', []) };
      const out = adamWUpdate({ param: p, m, v }, gr, h, sc);
      b.output('p_new', out.param);
      b.output('m_new', out.m);
      b.output('v_new', out.v);
      const zeros = HostTensor.zeros('float32', p0.shape);
      const r = await engine.run(b.build(), {
        p: p0,
        g: grad,
        m: zeros,
        v: zeros,
        decay: scalar(s.decay),
        stepSize: scalar(s.stepSize),
        bc2Sqrt: scalar(s.bc2Sqrt),
      });
      assertClose(r.m_new, g.get(`adamw_exp_avg.${name}`)!, 1e-6, `exp_avg ${name}`);
      assertClose(r.v_new, g.get(`adamw_exp_avg_sq.${name}`)!, 1e-6, `exp_avg_sq ${name}`);
      // Golden rule: ≤ 1e-6 absolute, except where |g| < 1e-4·max|g| (there only |update| ≤ lr·(1+wd)).
      const ref = g.get(`param_after.${name}`)!.data as Float32Array;
      const mine = r.p_new.data as Float32Array;
      const gd = grad.data as Float32Array;
      const before0 = p0.data as Float32Array;
      let gmax = 0;
      for (const x of gd) gmax = Math.max(gmax, Math.abs(x));
      for (let i = 0; i < ref.length; i++) {
        if (Math.abs(gd[i]) < 1e-4 * gmax) {
          assert.ok(
            Math.abs(mine[i] - before0[i]) <= h.lr * (1 + h.weightDecay) + 1e-7,
            `${name}[${i}] small-grad update`,
          );
        } else {
          assert.ok(Math.abs(mine[i] - ref[i]) <= 1e-6, `${name}[${i}]: ${mine[i]} vs ${ref[i]}`);
        }
      }
    }
  });

  test('SGD with momentum and Nesterov follows torch.optim.SGD over three steps', async () => {
    const h = { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, nesterov: true };
    const b = new GraphBuilder('sgd');
    const p = b.input('p', [5]);
    const buf = b.input('buf', [5]);
    const gr = b.input('g', [5]);
    const out = sgdUpdate(p, buf, gr, h, { lr: b.input('lr', []), first: b.input('first', []) });
    b.output('p_new', out.param);
    b.output('buf_new', out.buf!);
    const graph = b.build();
    let param = Float64Array.from([1, -2, 0.5, 3, -0.25]);
    let mom = new Float64Array(5);
    let pT: HostTensor = HostTensor.float32([5], param);
    let bufT: HostTensor = HostTensor.zeros('float32', [5]);
    for (let step = 0; step < 3; step++) {
      const g = randn([5]);
      const r = await engine.run(graph, { p: pT, buf: bufT, g, lr: scalar(h.lr), first: scalar(step === 0 ? 1 : 0) });
      // float64 reference of torch's _single_tensor_sgd
      const d = Array.from(g.data, (x, i) => x + h.weightDecay * param[i]);
      mom = Float64Array.from(d, (x, i) => (step === 0 ? x : h.momentum * mom[i] + (1 - h.dampening) * x));
      param = Float64Array.from(param, (x, i) => x - h.lr * (d[i] + h.momentum * mom[i]));
      assertClose(r.p_new, { shape: [5], data: param }, 1e-6, `param step ${step}`);
      pT = r.p_new;
      bufT = r.buf_new;
    }
  });

  test('global-norm clipping scales only above the threshold', async () => {
    const b = new GraphBuilder('clip');
    const a = b.input('a', [3]);
    const c = b.input('c', [2]);
    const out = clipGradNorm([a, c], 1.0);
    b.output('a_clipped', out.grads[0]);
    b.output('c_clipped', out.grads[1]);
    b.output('n', out.totalNorm);
    const graph = b.build();
    const big = await engine.run(graph, { a: HostTensor.float32([3], [3, 0, 0]), c: HostTensor.float32([2], [0, 4]) });
    assert.ok(Math.abs((big.n.data as Float32Array)[0] - 5) < 1e-6);
    assert.ok(Math.abs((big.a_clipped.data as Float32Array)[0] - 3 / (5 + 1e-6)) < 1e-6);
    const small = await engine.run(graph, {
      a: HostTensor.float32([3], [0.3, 0, 0]),
      c: HostTensor.float32([2], [0, 0.4]),
    });
    assert.deepEqual([...(small.c_clipped.data as Float32Array)], [0, Math.fround(0.4)]);
  });

  test('EMA update and LitEma warm-up decay', async () => {
    const b = new GraphBuilder('ema');
    b.output('e_new', emaUpdate(b.input('e', [2]), b.input('p', [2]), b.input('k', [])));
    const r = await engine.run(b.build(), {
      e: HostTensor.float32([2], [1, 2]),
      p: HostTensor.float32([2], [3, 2]),
      k: scalar(1 - 0.75),
    });
    assert.deepEqual([...(r.e_new.data as Float32Array)], [1.5, 2]);
    assert.equal(emaDecay(0.9999, 0), 0.1);
    assert.equal(emaDecay(0.9999, 1e9), 0.9999);
  });
});

test('schedules: warm-up and cosine', () => {
  const w = warmupLr(1e-4, 10);
  assert.equal(w(0), 1e-5);
  assert.equal(w(9), 1e-4);
  assert.equal(w(50), 1e-4);
  const c = cosineLr(1, 110, 10, 0.1);
  assert.equal(c(10), 1);
  assert.ok(Math.abs(c(60) - 0.55) < 1e-12);
  assert.ok(Math.abs(c(110) - 0.1) < 1e-12);
});

test("the temporal-layer patterns select exactly the paper's 656 M new parameters of SVD", () => {
  const table = readKeyTable('unet_keys_svd.tsv');
  const temporal = selectParams(table.keys(), TEMPORAL_PARAM_PATTERNS);
  const count = temporal.reduce((n, k) => n + numel(table.get(k)!), 0);
  assert.equal(count, 656_076_838);
  assert.ok(temporal.every((k) => /time_(stack|mixer|pos_embed)/.test(k)));
});
