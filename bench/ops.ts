/**
 * `npm run bench -- ops`: each op through our layer (trace → lower → engine worker) against a hand-written raw ORT
 * graph run in this thread, in the same run. Steady state = the cached compiled call including feed creation,
 * median of ≥ 11 runs after 3 warm-ups; the first call (trace + lower + session + run) is reported apart.
 */
import { cpus } from 'node:os';
import ort from 'onnxruntime-node';
import type { GraphBuilder, SymTensor } from '../src/graph/builder.ts';
import { type AttrValue, encodeModel, type OnnxNode, type OnnxValueInfo } from '../src/graph/onnx/model-proto.ts';
import * as op from '../src/graph/ops/index.ts';
import { Engine, type ResidentTensor } from '../src/runtime/engine.ts';
import type { HostTensor } from '../src/tensor/host-tensor.ts';
import { Rng } from '../src/tensor/rng.ts';
import type { Shape } from '../src/tensor/shape.ts';
import { peakBytes, recordFigure, resetPeak } from './report.ts';
import { fmtMs, machineLine, QUICK, type Timing, timeIt } from './stats.ts';

interface RawGraph {
  nodes: OnnxNode[];
  inputs: OnnxValueInfo[];
  output: OnnxValueInfo;
  initializers?: { name: string; dims: Shape; values: number[]; float?: boolean }[];
}

interface Case {
  name: string;
  gflop: number;
  inputs: Record<string, Shape>;
  weights: Record<string, Shape>;
  ours: (b: GraphBuilder, x: Record<string, SymTensor>) => SymTensor;
  raw: RawGraph;
  /** Extra raw variants reported for context (not the ratio's baseline). */
  extras?: Record<string, RawGraph>;
  runs?: number;
}

const f32 = (name: string, shape: Shape): OnnxValueInfo => ({ name, dtype: 'float32', shape });
const ints = (value: number[]): AttrValue => ({ kind: 'ints', value });
const int = (value: number): AttrValue => ({ kind: 'int', value });
const float = (value: number): AttrValue => ({ kind: 'float', value });

function convCase(batch: number): Case {
  const xs = [batch, 320, 64, 64];
  return {
    name: `conv 3×3 320→320, 64×64, batch ${batch}`,
    gflop: (2 * batch * 320 * 320 * 9 * 64 * 64) / 1e9,
    inputs: { x: xs },
    weights: { w: [320, 320, 3, 3], b: [320] },
    ours: (b, x) => op.conv(x.x, b.weight('w', [320, 320, 3, 3]), b.weight('b', [320]), { padding: 1 }),
    raw: {
      nodes: [
        {
          opType: 'Conv',
          inputs: ['x', 'w', 'b'],
          outputs: ['y'],
          attrs: { pads: ints([1, 1, 1, 1]), kernel_shape: ints([3, 3]) },
        },
      ],
      inputs: [f32('x', xs), f32('w', [320, 320, 3, 3]), f32('b', [320])],
      output: f32('y', xs),
    },
  };
}

const gnShape = [2, 320, 64, 64];
const attnCase = (name: string, b: number, s: number, heads: number, d: number, runs?: number): Case => {
  const shape = [b, s, heads * d];
  const mha = s >= op.MHA_MIN_SEQUENCE;
  return {
    name,
    gflop: (4 * b * heads * s * s * d) / 1e9,
    inputs: { q: shape, k: shape, v: shape },
    weights: {},
    ours: (_b, x) => op.attention(x.q, x.k, x.v, heads),
    raw: {
      nodes: [
        mha
          ? {
              opType: 'MultiHeadAttention',
              domain: 'com.microsoft',
              inputs: ['q', 'k', 'v'],
              outputs: ['y'],
              attrs: { num_heads: int(heads), scale: float(1 / Math.sqrt(d)) },
            }
          : {
              opType: 'Attention',
              inputs: ['q', 'k', 'v'],
              outputs: ['y'],
              attrs: { q_num_heads: int(heads), kv_num_heads: int(heads), scale: float(1 / Math.sqrt(d)) },
            },
      ],
      inputs: [f32('q', shape), f32('k', shape), f32('v', shape)],
      output: f32('y', shape),
    },
    runs,
  };
};

const CASES: Case[] = [
  convCase(1),
  convCase(2),
  {
    name: 'matmul 2048³',
    gflop: (2 * 2048 ** 3) / 1e9,
    inputs: { a: [2048, 2048] },
    weights: { w: [2048, 2048] },
    ours: (b, x) => op.matmul(x.a, b.weight('w', [2048, 2048])),
    raw: {
      nodes: [{ opType: 'MatMul', inputs: ['a', 'w'], outputs: ['y'] }],
      inputs: [f32('a', [2048, 2048]), f32('w', [2048, 2048])],
      output: f32('y', [2048, 2048]),
    },
  },
  {
    name: 'group norm 32 groups [2,320,64,64] (target ≤ 2.5 ms)',
    gflop: 0,
    inputs: { x: gnShape },
    weights: { g: [320], b: [320] },
    ours: (b, x) => op.groupNorm(x.x, 32, b.weight('g', [320]), b.weight('b', [320]), 1e-5),
    raw: {
      // The same lowering written by hand: Reshape → shift by the first element → InstanceNormalization → Reshape →
      // BatchNormalization(γ, β, 0, 1, ε 0).
      nodes: [
        { opType: 'Reshape', inputs: ['x', 's1'], outputs: ['r'] },
        { opType: 'Slice', inputs: ['r', 'st', 'en', 'ax'], outputs: ['first'] },
        { opType: 'Sub', inputs: ['r', 'first'], outputs: ['rc'] },
        {
          opType: 'InstanceNormalization',
          inputs: ['rc', 'ones32', 'zeros32'],
          outputs: ['n'],
          attrs: { epsilon: float(1e-5) },
        },
        { opType: 'Reshape', inputs: ['n', 's2'], outputs: ['n2'] },
        {
          opType: 'BatchNormalization',
          inputs: ['n2', 'g', 'b', 'zeros320', 'ones320'],
          outputs: ['y'],
          attrs: { epsilon: float(0) },
        },
      ],
      inputs: [f32('x', gnShape), f32('g', [320]), f32('b', [320])],
      output: f32('y', gnShape),
      initializers: [
        { name: 's1', dims: [3], values: [2, 32, -1] },
        { name: 's2', dims: [4], values: gnShape },
        { name: 'st', dims: [1], values: [0] },
        { name: 'en', dims: [1], values: [1] },
        { name: 'ax', dims: [1], values: [2] },
        { name: 'ones32', dims: [32], values: new Array(32).fill(1), float: true },
        { name: 'zeros32', dims: [32], values: new Array(32).fill(0), float: true },
        { name: 'ones320', dims: [320], values: new Array(320).fill(1), float: true },
        { name: 'zeros320', dims: [320], values: new Array(320).fill(0), float: true },
      ],
    },
    extras: {
      'LayerNormalization + Mul + Add (the previous lowering)': {
        nodes: [
          { opType: 'Reshape', inputs: ['x', 's1'], outputs: ['r'] },
          {
            opType: 'LayerNormalization',
            inputs: ['r', 'one'],
            outputs: ['n'],
            attrs: { axis: int(-1), epsilon: float(1e-5) },
          },
          { opType: 'Reshape', inputs: ['n', 's2'], outputs: ['n2'] },
          { opType: 'Reshape', inputs: ['g', 's3'], outputs: ['g2'] },
          { opType: 'Reshape', inputs: ['b', 's3'], outputs: ['b2'] },
          { opType: 'Mul', inputs: ['n2', 'g2'], outputs: ['m'] },
          { opType: 'Add', inputs: ['m', 'b2'], outputs: ['y'] },
        ],
        inputs: [f32('x', gnShape), f32('g', [320]), f32('b', [320])],
        output: f32('y', gnShape),
        initializers: [
          { name: 's1', dims: [3], values: [2, 32, -1] },
          { name: 's2', dims: [4], values: gnShape },
          { name: 's3', dims: [3], values: [320, 1, 1] },
          { name: 'one', dims: [1], values: [1], float: true },
        ],
      },
      'ONNX GroupNormalization-21': {
        nodes: [
          {
            opType: 'GroupNormalization',
            inputs: ['x', 'g', 'b'],
            outputs: ['y'],
            attrs: { num_groups: int(32), epsilon: float(1e-5) },
          },
        ],
        inputs: [f32('x', gnShape), f32('g', [320]), f32('b', [320])],
        output: f32('y', gnShape),
      },
    },
  },
  attnCase('attention 16 heads × 1024 tokens × 64', 1, 1024, 16, 64),
  attnCase('attention 5 heads × 9216 tokens × 64 (576×1024 frame, level 0)', 1, 9216, 5, 64, 11),
  attnCase('attention temporal: batch 4608 × 25 tokens, 10 heads × 64', 4608, 25, 10, 64, 11),
];

function rawSession(g: RawGraph, threads: number): Promise<ort.InferenceSession> {
  const model = encodeModel({
    graphName: 'raw',
    opsets: { '': 23, 'com.microsoft': 1 },
    nodes: g.nodes,
    inputs: g.inputs,
    outputs: [g.output],
    initializers: (g.initializers ?? []).map((i) =>
      i.float
        ? { name: i.name, dtype: 'float32', dims: i.dims, raw: new Uint8Array(Float32Array.from(i.values).buffer) }
        : {
            name: i.name,
            dtype: 'int64',
            dims: i.dims,
            raw: new Uint8Array(BigInt64Array.from(i.values.map(BigInt)).buffer),
          },
    ),
  });
  return ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // The engine's thread policy (EngineOptions.spinning, default off), so that both sides wait for work alike.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
}

export async function benchOps(threads: number): Promise<void> {
  const rng = new Rng(1);
  console.log(
    `# ops benchmark — ${machineLine()}, ${cpus()[0]?.model ?? 'cpu'}, ${threads} threads, float32, cpu provider`,
  );
  console.log(
    '| op | ours (host feeds) | ours (resident feeds) | raw ORT | ratio host/raw | ratio resident/raw | GFLOP/s (ours) | first call (trace+lower+session+run) |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  const filter = process.env.BENCH_FILTER;
  // Warm the process (thread pools, allocator, first-touch of pages) so the first case is not penalised.
  const warm = await rawSession(convCase(1).raw, threads);
  const wx = rng.randn('warm', [1, 320, 64, 64]).data;
  const ww = rng.randn('warm-w', [320, 320, 3, 3]).data;
  const wb = new Float32Array(320);
  await timeIt(
    () =>
      warm.run({
        x: new ort.Tensor('float32', wx, [1, 320, 64, 64]),
        w: new ort.Tensor('float32', ww, [320, 320, 3, 3]),
        b: new ort.Tensor('float32', wb, [320]),
      }),
    { warmup: 5, runs: 20 },
  );
  await warm.release();
  for (const c of CASES) {
    if (filter && !c.name.includes(filter)) continue;
    const engine = await Engine.create({ threads });
    const data: Record<string, HostTensor> = {};
    let stream = 0;
    for (const [k, s] of Object.entries({ ...c.inputs, ...c.weights })) data[k] = rng.randn(`${c.name}-${stream++}`, s);
    await engine.setWeights(Object.fromEntries(Object.keys(c.weights).map((k) => [k, data[k]])));
    const session = await rawSession(c.raw, threads);
    const weightFeeds = Object.fromEntries(
      Object.keys(c.weights).map((k) => [
        k,
        new ort.Tensor('float32', data[k].data as Float32Array, [...data[k].shape]),
      ]),
    );
    const rawRun = () => {
      const feeds: Record<string, ort.Tensor> = { ...weightFeeds };
      for (const k of Object.keys(c.inputs)) {
        feeds[k] = new ort.Tensor('float32', data[k].data as Float32Array, [...data[k].shape]);
      }
      return session.run(feeds);
    };
    const f = engine.compile(c.name.replace(/\W+/g, '_'), (b, x) => ({ y: c.ours(b, x) }));
    const hostFeeds = Object.fromEntries(Object.keys(c.inputs).map((k) => [k, data[k]]));
    const t0 = performance.now();
    await f(hostFeeds);
    const first = performance.now() - t0;
    const resident: Record<string, ResidentTensor> = {};
    for (const k of Object.keys(c.inputs)) resident[k] = await engine.upload(data[k]);
    // Blocks, not round-robin: an idle ORT thread pool spins for a while after a run, so alternating call by call
    // between the worker's pool and this thread's pool would slow both. Two rounds of (raw, ours with host feeds,
    // ours with resident feeds); each figure is the better of its two medians, so that one noisy block (this
    // machine is shared) does not decide a ratio.
    const runs = QUICK ? 3 : (c.runs ?? 15);
    const best = (a: Timing | undefined, b: Timing) => (a && a.median <= b.median ? a : b);
    let raw: Timing | undefined;
    let ours: Timing | undefined;
    let oursResident: Timing | undefined;
    // Peak memory of each side: the process's VmHWM over that side's blocks (reset before each block; both sides'
    // sessions and data are loaded in this one process throughout).
    const peaks = { raw: 0, ours: 0 };
    const block = async (side: 'raw' | 'ours', fn: () => Promise<unknown>) => {
      resetPeak();
      const t = await timeIt(fn, { runs });
      peaks[side] = Math.max(peaks[side], peakBytes() ?? 0);
      return t;
    };
    for (let round = 0; round < 2; round++) {
      raw = best(raw, await block('raw', rawRun));
      ours = best(ours, await block('ours', () => f(hostFeeds)));
      oursResident = best(oursResident, await block('ours', () => f(resident)));
    }
    if (!raw || !ours || !oursResident) throw new Error('unreachable');
    await engine.dispose();
    await session.release();
    const gflops = c.gflop > 0 ? ((c.gflop / oursResident.median) * 1e3).toFixed(0) : '–';
    recordFigure({
      suite: 'ops',
      case: c.name,
      ours: ours.median,
      peak: peaks.ours || undefined,
      baseline: { name: 'raw ORT (same graph by hand)', value: raw.median, peak: peaks.raw || undefined },
      note: `resident feeds ${fmtMs(oursResident.median)} ms (${(oursResident.median / raw.median).toFixed(2)}×); first call ${fmtMs(first)} ms; peaks: one process for both sides`,
    });
    console.log(
      `| ${c.name} | ${fmtMs(ours.median)} ms | ${fmtMs(oursResident.median)} ms | ${fmtMs(raw.median)} ms | ${(ours.median / raw.median).toFixed(2)}× | ${(oursResident.median / raw.median).toFixed(2)}× | ${gflops} | ${fmtMs(first)} ms |`,
    );
    for (const [name, g] of Object.entries(c.extras ?? {})) {
      const s = await rawSession(g, threads);
      const t = await timeIt(
        () => {
          const feeds: Record<string, ort.Tensor> = {};
          for (const k of Object.keys(data))
            feeds[k] = new ort.Tensor('float32', data[k].data as Float32Array, [...data[k].shape]);
          return s.run(feeds);
        },
        { runs },
      );
      await s.release();
      console.log(`|   ↳ for context: ${name} | | | ${fmtMs(t.median)} ms | | | | |`);
    }
  }
}
