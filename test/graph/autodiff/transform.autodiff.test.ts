/**
 * The grad transformation itself: rule coverage of every primitive, pruning (only what the requested gradients
 * need), upstream-gradient seeding, the calling convention of the new graph, error messages, the fast conv forms,
 * Cast, and a second-order gradient (rules compose).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  compactGraph,
  differentiableOps,
  grad,
  NON_DIFFERENTIABLE,
  valueAndGrad,
} from '../../../src/graph/autodiff/index.ts';
import { GraphBuilder, type SymTensor } from '../../../src/graph/builder.ts';
import { GraphError } from '../../../src/graph/errors.ts';
import { interpret } from '../../../src/graph/interpret.ts';
import { fromFloat64 } from '../../../src/graph/interpreter-bridge.ts';
import type { Graph } from '../../../src/graph/ir.ts';
import { registeredOps, registerOp } from '../../../src/graph/op-registry.ts';
import * as op from '../../../src/graph/ops/index.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import { float16ToFloat32, float32ToFloat16 } from '../../../src/tensor/half.ts';
import { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { assertClose } from '../../helpers/compare.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { randn } from '../../helpers/random.ts';

const opsOf = (g: Graph) => g.nodes.map((n) => n.op);
const count = (g: Graph, name: string) => opsOf(g).filter((o) => o === name).length;

function graphOf(build: (b: GraphBuilder) => SymTensor | Record<string, SymTensor>, name = 'f'): Graph {
  const b = new GraphBuilder(name);
  const out = build(b);
  if ('builder' in out) b.output('y', out as SymTensor);
  else for (const [k, v] of Object.entries(out)) b.output(k, v);
  return b.build();
}

describe('autodiff transform', () => {
  let engine: Engine;
  before(async () => {
    engine = await createTestEngine();
  });
  after(async () => {
    await engine.dispose();
  });

  test('every registered primitive has a VJP rule or a reason not to', () => {
    const withRule = new Set(differentiableOps());
    const missing = registeredOps().filter((o) => !withRule.has(o) && !(o in NON_DIFFERENTIABLE));
    assert.deepEqual(missing, [], 'ops without a VJP rule');
    assert.deepEqual(
      Object.keys(NON_DIFFERENTIABLE).filter((o) => withRule.has(o)),
      [],
    );
  });

  test('a frozen weight gets no gradient: no im2col, no bias reduction', () => {
    const f = graphOf((b) =>
      op.conv(b.input('x', [1, 2, 5, 5]), b.weight('w', [3, 2, 3, 3]), b.weight('b', [3]), { padding: 1 }),
    );
    const g = valueAndGrad(f, ['x']);
    assert.deepEqual(
      g.outputs.map((o) => o.name),
      ['y', 'grad.x'],
    );
    assert.deepEqual(opsOf(g).sort(), ['Conv', 'Conv', 'Slice', 'Transpose']); // forward + flipped-weight dX
    const gw = grad(f, ['w']);
    assert.equal(count(gw, 'ConvTranspose'), 0, 'dW needs no transposed convolution');
    assert.ok(
      count(gw, 'Conv') === 1 && count(gw, 'MatMul') === 1 && count(gw, 'Concat') === 0,
      'dW is im2col (one depthwise one-hot Conv) + one MatMul',
    );
  });

  test('branches that do not depend on the requested inputs get no backward nodes', () => {
    const f = graphOf((b) => {
      const a = b.input('a', [3]);
      const c = b.input('c', [3]);
      return op.sum(op.add(op.mul(a, op.exp(c)), op.sin(c)));
    });
    const g = grad(f, ['a']);
    assert.equal(count(g, 'Cos'), 0, 'sin(c) is not differentiated');
    assert.equal(count(g, 'Sin'), 0, 'sin(c) is not even computed');
    assert.equal(count(g, 'ReduceSum'), 0, 'the forward sum is not needed by grad()');
    const feeds = { a: randn([3]), c: randn([3]) };
    const r = interpret(g, feeds);
    assertClose(
      r['grad.a'],
      interpret(
        graphOf((b) => op.exp(b.input('c', [3]))),
        feeds,
      ).y,
      1e-12,
    );
  });

  test('an input the output does not depend on gets a zero gradient', () => {
    const f = graphOf((b) => {
      b.input('unused', [2, 2]);
      return op.mean(op.mul(b.input('x', [4]), 3));
    });
    const g = valueAndGrad(f, ['x', 'unused']);
    const r = interpret(g, { x: randn([4]), unused: randn([2, 2]) });
    assert.deepEqual(r['grad.unused'].shape, [2, 2]);
    assert.deepEqual([...r['grad.unused'].data], [0, 0, 0, 0]);
    assert.deepEqual([...r['grad.x'].data], [0.75, 0.75, 0.75, 0.75]);
  });

  test('upstream gradient: ones for a one-element output, an input otherwise; the inputs keep their order and kind', () => {
    const scalarOut = graphOf((b) => op.reshape(op.sum(op.mul(b.input('x', [3]), b.weight('w', [3]))), [1, 1]));
    const g1 = valueAndGrad(scalarOut, ['x', 'w']);
    assert.deepEqual(
      g1.inputs.map((i) => [i.name, i.kind]),
      [
        ['x', 'input'],
        ['w', 'weight'],
      ],
    );
    const vec = graphOf((b) => op.mul(b.input('x', [3]), b.weight('w', [3])));
    const g2 = valueAndGrad(vec, ['w']);
    assert.deepEqual(
      g2.inputs.map((i) => [i.name, i.kind]),
      [
        ['x', 'input'],
        ['w', 'weight'],
        ['grad_output', 'input'],
      ],
    );
    const g3 = valueAndGrad(vec, ['w'], { upstream: 'ones' });
    const x = HostTensor.float32([3], [1, 2, 3]);
    assert.deepEqual([...interpret(g3, { x, w: randn([3]) })['grad.w'].data], [1, 2, 3], 'ones: gradient of sum(y)');
    const g4 = valueAndGrad(scalarOut, ['x'], { upstream: 'input', gradOutputName: 'dy' });
    assert.equal(g4.inputs.at(-1)?.name, 'dy');
  });

  test('a multi-output graph differentiates the named output and keeps all of them', () => {
    const f = graphOf((b) => {
      const x = b.input('x', [4]);
      return { first: op.exp(x), second: op.sum(op.mul(x, x)) };
    });
    assert.throws(() => valueAndGrad(f, ['x']), /2 outputs; name one/);
    const g = valueAndGrad(f, ['x'], { output: 'second' });
    assert.deepEqual(
      g.outputs.map((o) => o.name),
      ['first', 'second', 'grad.x'],
    );
    const x = HostTensor.float32([4], [1, -2, 3, 0.5]);
    assert.deepEqual([...interpret(g, { x })['grad.x'].data], [2, -4, 6, 1]);
  });

  test('misuse is reported with names', () => {
    const f = graphOf((b) => op.gather(b.input('x', [4, 2]), b.input('i', [3], 'int64'), 0));
    assert.throws(
      () => grad(f, ['nope']),
      (e: Error) => e instanceof GraphError && /no input or weight "nope"/.test(e.message),
    );
    assert.throws(() => grad(f, ['i']), /"i" is int64, not float/);
    assert.throws(() => grad(f, ['x', 'x']), /repeated/);
    registerOp({
      name: 'AutodiffTestOpaque',
      infer: ([x]) => [x!],
      lower: () => undefined,
      interpret: ([x]) => [x!],
    });
    const opaque = graphOf((b) => b.emit('AutodiffTestOpaque', [b.input('x', [2])])[0]);
    assert.throws(() => grad(opaque, ['x']), /op AutodiffTestOpaque has no VJP rule/);
  });

  test('conv dX: stride 1 is a Conv with the flipped weight, stride 2 a ConvTranspose', () => {
    const conv = (stride: number) =>
      grad(
        graphOf((b) =>
          op.conv(b.input('x', [1, 4, 8, 8]), b.weight('w', [6, 2, 3, 3]), undefined, {
            stride,
            padding: 1,
            groups: 2,
          }),
        ),
        ['x'],
      );
    assert.deepEqual([count(conv(1), 'Conv'), count(conv(1), 'ConvTranspose')], [1, 0]);
    assert.deepEqual([count(conv(2), 'Conv'), count(conv(2), 'ConvTranspose')], [0, 1]);
  });

  test('cast float32 → float16 → float32 passes the gradient straight through (rounded to float16)', async () => {
    const f = graphOf((b) => op.mul(op.cast(op.cast(b.input('x', [5]), 'float16'), 'float32'), 2));
    const g = valueAndGrad(f, ['x']);
    const feeds = { x: randn([5]), grad_output: randn([5]) };
    const expected = HostTensor.float32(
      [5],
      Array.from(feeds.grad_output.data, (v) => float16ToFloat32(float32ToFloat16(2 * v))),
    );
    assertClose(fromFloat64(interpret(g, feeds)['grad.x']), expected, 0, 'interpreter');
    assertClose((await engine.run(g, feeds))['grad.x'], expected, 0, 'ORT');
  });

  test('second order: the gradient graph is differentiable again (d²/dx² Σ x³ = 6x)', async () => {
    const f = graphOf((b) => op.sum(op.mul(op.mul(b.input('x', [2, 3]), b.input('x', [2, 3])), b.input('x', [2, 3]))));
    const first = grad(f, ['x']);
    const second = grad(first, ['x'], { output: 'grad.x', upstream: 'ones' });
    const x = randn([2, 3]);
    const want = HostTensor.float32(
      x.shape,
      Array.from(x.data, (v) => 6 * v),
    );
    assertClose(fromFloat64(interpret(second, { x })['grad.x']), want, 1e-12, 'interpreter');
    assertClose((await engine.run(second, { x }))['grad.x'], want, 1e-6, 'ORT');
  });

  test('second order through gather / scatter-add and softmax', () => {
    const f = graphOf((b) => {
      const x = b.input('x', [4, 3]);
      return op.sum(op.mul(op.softmax(op.gather(x, b.input('i', [3], 'int64'), 0), -1), b.input('w', [3, 3])));
    });
    const first = grad(f, ['x']);
    const second = grad(first, ['x'], { output: 'grad.x', upstream: 'input' });
    assert.ok(opsOf(second).includes('GatherElements'), 'the adjoint of ScatterAdd is GatherElements');
    const feeds = {
      x: randn([4, 3]),
      i: HostTensor.int64([3], [2, 0, 2]),
      w: randn([3, 3]),
      grad_output: randn([4, 3]),
    };
    // Check ⟨H·u, v⟩ by finite differences of the first gradient along v.
    const v = randn([4, 3]);
    const eps = 1e-6;
    const moved = (t: number) => ({
      shape: [4, 3],
      data: Float64Array.from(feeds.x.data, (e, k) => e + t * v.data[k]),
    });
    const g1 = (t: number) => interpret(first, { ...feeds, x: moved(t) })['grad.x'].data;
    const u = feeds.grad_output.data;
    let fd = 0;
    const plus = g1(eps);
    const minus = g1(-eps);
    for (let k = 0; k < u.length; k++) fd += (u[k] * (plus[k] - minus[k])) / (2 * eps);
    const hu = interpret(second, feeds)['grad.x'].data;
    let analytic = 0;
    for (let k = 0; k < hu.length; k++) analytic += hu[k] * v.data[k];
    assert.ok(Math.abs(fd - analytic) <= 1e-6 * Math.max(Math.abs(fd), Math.abs(analytic)), `${analytic} vs ${fd}`);
  });

  test('compactGraph drops dead nodes and constants but keeps every input', () => {
    const b = new GraphBuilder('dead');
    const x = b.input('x', [2]);
    b.input('unused', [1]);
    op.exp(op.add(x, 5));
    b.output('y', op.mul(x, 2));
    const c = compactGraph(b.build());
    assert.deepEqual(opsOf(c), ['Mul']);
    assert.equal(c.constants.size, 1);
    assert.deepEqual(
      c.inputs.map((i) => i.name),
      ['x', 'unused'],
    );
  });
});
