/**
 * The fused update kernel (src/training/update-kernel.ts, run in the engine worker) gives the same bits as the same
 * optimizer ops (src/training/optimizer.ts) run as an ONNX graph by ORT: AdamW with clipping's scale and EMA, SGD with
 * Nesterov momentum, and the mean of accumulated gradients.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GraphBuilder } from '../../src/graph/builder.ts';
import * as op from '../../src/graph/ops/index.ts';
import type { Engine, ResidentTensor } from '../../src/runtime/engine.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { adamWStepScalars, adamWUpdate, emaUpdate, sgdUpdate } from '../../src/training/optimizer.ts';
import { accumulateKernel, SCALARS, updateKernel } from '../../src/training/update-kernel.ts';
import { createTestEngine } from '../helpers/engine.ts';
import { randn } from '../helpers/random.ts';

let engine: Engine;
before(async () => {
  engine = await createTestEngine();
});
after(async () => {
  await engine.dispose();
});

const N = 4099;
const scalar = (v: number) => HostTensor.float32([], [v]);

/** Random values with a few awkward ones (zeros, tiny and huge magnitudes) mixed in. */
function values(seed: number, scale = 1): HostTensor {
  const t = randn([N], scale, 0, seed);
  const d = t.data as Float32Array;
  d[0] = 0;
  d[1] = -0;
  d[2] = 1e-30;
  d[3] = -3e4;
  return t;
}

const positive = (t: HostTensor) => HostTensor.float32([N], Float32Array.from(t.data as Float32Array, Math.abs));

async function runKernelOn(
  kernel: ReturnType<typeof updateKernel>['kernel'],
  tensors: HostTensor[],
  scalars: Record<string, number>,
): Promise<HostTensor[]> {
  const resident: ResidentTensor[] = [];
  for (const t of tensors) resident.push(await engine.upload(t));
  await engine.runKernel(kernel, [resident], scalars);
  const out: HostTensor[] = [];
  for (const r of resident) out.push(await engine.download(r));
  await engine.free(resident);
  return out;
}

function assertSameBits(a: HostTensor, b: HostTensor, what: string): void {
  assert.deepEqual(
    Buffer.from((a.data as Float32Array).buffer, (a.data as Float32Array).byteOffset, a.data.byteLength),
    Buffer.from((b.data as Float32Array).buffer, (b.data as Float32Array).byteOffset, b.data.byteLength),
    what,
  );
}

test('AdamW + clipping scale + EMA: the fused kernel = the graph ops in ORT, bit for bit', async () => {
  const h = { lr: 3e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
  const s = adamWStepScalars(h, h.lr, 7);
  const sc = {
    [SCALARS.decay]: s.decay,
    [SCALARS.stepSize]: s.stepSize,
    [SCALARS.bc2Sqrt]: s.bc2Sqrt,
    [SCALARS.clipCoef]: 0.37,
    [SCALARS.emaOneMinusDecay]: 1 - 0.999,
  };
  const [p, m, g, ema] = [values(1), values(2, 1e-2), values(3), values(4)];
  const v = positive(values(5, 1e-3));

  const b = new GraphBuilder('adamw_ref');
  const inp = (n: string) => b.input(n, [N]);
  const sIn = (n: string) => b.input(n, []);
  const next = adamWUpdate({ param: inp('p'), m: inp('m'), v: inp('v') }, op.mul(inp('g'), sIn(SCALARS.clipCoef)), h, {
    decay: sIn(SCALARS.decay),
    stepSize: sIn(SCALARS.stepSize),
    bc2Sqrt: sIn(SCALARS.bc2Sqrt),
  });
  b.output('p_new', next.param);
  b.output('m_new', next.m);
  b.output('v_new', next.v);
  b.output('ema_new', emaUpdate(inp('ema'), next.param, sIn(SCALARS.emaOneMinusDecay)));
  const feeds: Record<string, HostTensor> = { p, m, v, g, ema };
  for (const [k, x] of Object.entries(sc)) feeds[k] = scalar(x);
  const ref = await engine.run(b.build(), feeds);

  const { kernel, roles } = updateKernel({
    optimizer: { kind: 'adamw', hyper: h },
    clip: true,
    ema: true,
    accumulate: 1,
  });
  assert.deepEqual(roles, ['param', 'm', 'v', 'grad', 'ema']);
  const [pk, mk, vk, gk, ek] = await runKernelOn(kernel, [p, m, v, g, ema], sc);
  assertSameBits(pk, ref.p_new, 'param');
  assertSameBits(mk, ref.m_new, 'exp_avg');
  assertSameBits(vk, ref.v_new, 'exp_avg_sq');
  assertSameBits(ek, ref.ema_new, 'ema');
  assertSameBits(gk, g, 'the gradient is read only');
});

test('SGD (momentum, dampening, Nesterov, weight decay) and accumulated gradients: kernel = graph ops', async () => {
  const h = { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, nesterov: true };
  const [p, buf, acc] = [values(6), values(7), values(8, 3)];
  for (const first of [1, 0]) {
    const b = new GraphBuilder('sgd_ref');
    const inp = (n: string) => b.input(n, [N]);
    const out = sgdUpdate(inp('p'), inp('buf'), op.mul(inp('acc'), 1 / 3), h, {
      lr: b.input(SCALARS.lr, []),
      first: b.input(SCALARS.first, []),
    });
    b.output('p_new', out.param);
    b.output('buf_new', out.buf!);
    const ref = await engine.run(b.build(), {
      p,
      buf,
      acc,
      [SCALARS.lr]: scalar(h.lr),
      [SCALARS.first]: scalar(first),
    });
    const { kernel, roles } = updateKernel({
      optimizer: { kind: 'sgd', hyper: h },
      clip: false,
      ema: false,
      accumulate: 3,
    });
    assert.deepEqual(roles, ['param', 'buf', 'grad']);
    const [pk, bk, ak] = await runKernelOn(kernel, [p, buf, acc], { [SCALARS.lr]: h.lr, [SCALARS.first]: first });
    assertSameBits(pk, ref.p_new, `param (first ${first})`);
    assertSameBits(bk, ref.buf_new, `momentum buffer (first ${first})`);
    assert.ok(
      (ak.data as Float32Array).every((x) => x === 0),
      'the gradient sum is reset to 0',
    );
  }

  const [a, g] = [values(9), values(10)];
  const b = new GraphBuilder('acc_ref');
  b.output('sum', op.add(b.input('a', [N]), b.input('g', [N])));
  const ref = await engine.run(b.build(), { a, g });
  const [ak] = await runKernelOn(accumulateKernel(), [a, g], {});
  assertSameBits(ak, ref.sum, 'acc + grad');
});

test('runKernel names a missing scalar and a tensor of another size', async () => {
  const { kernel } = updateKernel({
    optimizer: { kind: 'sgd', hyper: { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false } },
    clip: false,
    ema: false,
    accumulate: 1,
  });
  const p = await engine.upload(HostTensor.zeros('float32', [4]));
  const g = await engine.upload(HostTensor.zeros('float32', [5]));
  await assert.rejects(engine.runKernel(kernel, [[p, p]], { [SCALARS.lr]: 0.1 }), /opt\.first/);
  await assert.rejects(
    engine.runKernel(kernel, [[p, g]], { [SCALARS.lr]: 0.1, [SCALARS.first]: 1 }),
    /"grad" is float32 \[5\]/,
  );
  await engine.free([p, g]);
});
