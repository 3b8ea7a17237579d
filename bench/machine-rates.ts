/**
 * The machine's reference rates, measured in the benchmark's own run (so every rate it prints is a ratio to them):
 * the compute rate of a raw ORT 3×3 conv (320→320 channels, 64×64, batch 1 — the ops suite's conv case; the issue's
 * "raw-ORT conv GFLOP/s", wall time of session.run as the ops suite measures it) and the streaming rate of a raw ORT
 * elementwise kernel over 64 MiB (Mul by a scalar: reads and writes every byte once, the memory-bound floor of an op
 * that moves those bytes; its kernel time from ORT's profile, as the breakdowns' per-node rates). Both run in this
 * thread with the same thread count as the engine.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { encodeModel, type OnnxNode, type OnnxValueInfo } from '../src/graph/onnx/model-proto.ts';
import { parseOrtProfile } from '../src/runtime/ort-profile.ts';
import { Rng } from '../src/tensor/rng.ts';
import { timeIt } from './stats.ts';

export interface MachineRates {
  /** Raw ORT conv, GFLOP/s (median time). */
  convGflops: number;
  /** Raw ORT Mul over 64 MiB in and 64 MiB out, GB/s of bytes read + written (median kernel time). */
  streamGBs: number;
}

const f32 = (name: string, shape: number[]): OnnxValueInfo => ({ name, dtype: 'float32', shape });

function session(
  nodes: OnnxNode[],
  inputs: OnnxValueInfo[],
  output: OnnxValueInfo,
  threads: number,
  profileFilePrefix?: string,
) {
  const model = encodeModel({
    graphName: 'rate',
    opsets: { '': 23 },
    nodes,
    inputs,
    outputs: [output],
    initializers: [],
  });
  return ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // The engine's thread policy (EngineOptions.spinning, default off).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    ...(profileFilePrefix ? { enableProfiling: true, profileFilePrefix } : {}),
  });
}

export async function measureMachineRates(threads: number, runs = 11): Promise<MachineRates> {
  const rng = new Rng(7);
  const xs = [1, 320, 64, 64];
  const conv = await session(
    [
      {
        opType: 'Conv',
        inputs: ['x', 'w'],
        outputs: ['y'],
        attrs: { pads: { kind: 'ints', value: [1, 1, 1, 1] }, kernel_shape: { kind: 'ints', value: [3, 3] } },
      },
    ],
    [f32('x', xs), f32('w', [320, 320, 3, 3])],
    f32('y', xs),
    threads,
  );
  const x = new ort.Tensor('float32', rng.randn('x', xs).data as Float32Array, xs);
  const w = new ort.Tensor('float32', rng.randn('w', [320, 320, 3, 3]).data as Float32Array, [320, 320, 3, 3]);
  const convT = await timeIt(() => conv.run({ x, w }), { warmup: 3, runs });
  await conv.release();

  // The stream rate is the Mul kernel's own time from ORT's profile (the same clock as the breakdowns' per-node
  // rates); the graph ends in a ReduceMax so that no 64 MiB output is copied back to JS on each run.
  const n = 16 * 2 ** 20; // 64 MiB of float32
  const dir = mkdtempSync(join(tmpdir(), 'svd-bench-rate-'));
  let streamUs: number;
  try {
    const stream = await session(
      [
        { opType: 'Mul', name: 'stream', inputs: ['a', 's'], outputs: ['b'] },
        { opType: 'ReduceMax', inputs: ['b'], outputs: ['m'], attrs: { keepdims: { kind: 'int', value: 0 } } },
      ],
      [f32('a', [n]), f32('s', [1])],
      f32('m', []),
      threads,
      join(dir, 'stream'),
    );
    const a = new ort.Tensor('float32', new Float32Array(n).fill(1), [n]);
    const s = new ort.Tensor('float32', Float32Array.of(0.5), [1]);
    await timeIt(() => stream.run({ a, s }), { warmup: 3, runs });
    stream.endProfiling();
    await stream.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('machine rates: ORT wrote no profile');
    const p = parseOrtProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    const us = p.nodes
      .filter((x) => x.name === 'stream' && x.run >= 3)
      .map((x) => x.us)
      .sort((x, y) => x - y);
    streamUs = us[Math.floor(us.length / 2)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    convGflops: (2 * 320 * 320 * 9 * 64 * 64) / 1e6 / convT.median,
    streamGBs: (2 * 4 * n) / 1e3 / streamUs,
  };
}
