/**
 * `npm run bench -- int8`: would dynamic int8 quantization make the UNet faster on this CPU (issue 13 item 7)? The
 * svd-xt VideoUNet graph (`--size S` pixels, default 128; `--frames T`, default 4; batch 2·T, the CFG batch) is lowered
 * once and run twice through onnxruntime-node in this process with the engine's session options:
 *  - as lowered (float32 Conv / Gemm / MatMul on weight inputs): the baseline;
 *  - rewritten the way ORT's own `quantize_dynamic` rewrites a model: every Conv whose weight is a graph input becomes
 *    DynamicQuantizeLinear(x) → ConvInteger(x_q, W_q uint8, zero points) → Cast → × (x_scale · w_scale[c]) (+ bias);
 *    every Gemm / MatMul whose second operand is a weight input becomes com.microsoft DynamicQuantizeMatMul (int8
 *    weights, per-column scales) — ORT's fastest dynamic path on x86 (its u8s8 kernels). ConvInteger takes uint8
 *    weights: with int8 ones this ORT (1.30) falls back to a path measured 2.5–3× slower than float32.
 * Weights are random (quantized ones uniform over the code range): a timing, not a quality measurement. The calls
 * alternate between the two sessions; the ratio is time(int8) / time(float32) per evaluation, < 1 = int8 faster.
 * `--runs N` timed calls per side (default 5).
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/graph/builder.ts';
import { toOnnxModel } from '../src/graph/lower.ts';
import {
  encodeModel,
  ONNX_DTYPE,
  type OnnxModel,
  type OnnxNode,
  type OnnxValueInfo,
} from '../src/graph/onnx/model-proto.ts';
import { PRESETS } from '../src/models/presets.ts';
import { svdNetworkGraph, UNET_PREFIX } from '../src/models/svd-network.ts';
import { declareVideoUNetParams } from '../src/models/unet/index.ts';
import { Params } from '../src/nn/params.ts';
import { Rng } from '../src/tensor/rng.ts';
import { recordFigure } from './report.ts';
import { fmtMs, machineLine } from './stats.ts';

const SUITE = 'int8';

// The int8 weight inputs: TensorProto.DataType INT8 = 3 (not one of the project's dtypes; this suite only).
(ONNX_DTYPE as Record<string, number>).int8 = 3;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** What the rewrite needs as extra inputs: name → dtype, shape (all random at run time). */
type ExtraInputs = Map<string, { dtype: 'int8' | 'uint8' | 'float32'; shape: number[] }>;

/**
 * The lowered model with its Conv and weight Gemm / MatMul nodes quantized dynamically; the int8 dtype is written
 * with the ONNX code 3 (the project's own dtypes have no int8).
 */
function quantizeDynamic(
  m: OnnxModel,
  weights: ReadonlySet<string>,
): { model: OnnxModel; extra: ExtraInputs; n: number } {
  const shapeOf = new Map(m.inputs.map((i) => [i.name, [...i.shape]]));
  const extra: ExtraInputs = new Map();
  const nodes: OnnxNode[] = [];
  const dropped = new Set<string>();
  let n = 0;
  for (const node of m.nodes) {
    const [x, w, b] = node.inputs;
    const isWeight = (name: string | undefined) => name !== undefined && weights.has(name);
    if (node.opType === 'Conv' && isWeight(w)) {
      const ws = shapeOf.get(w)!;
      const ones = ws.slice(2).map(() => 1);
      const id = `q${n++}`;
      extra.set(`${w}#u8`, { dtype: 'uint8', shape: ws });
      extra.set(`${w}#zero`, { dtype: 'uint8', shape: [] });
      extra.set(`${w}#scale`, { dtype: 'float32', shape: [ws[0], ...ones] });
      dropped.add(w);
      nodes.push(
        { opType: 'DynamicQuantizeLinear', inputs: [x], outputs: [`${id}.xq`, `${id}.xs`, `${id}.xz`] },
        {
          opType: 'ConvInteger',
          inputs: [`${id}.xq`, `${w}#u8`, `${id}.xz`, `${w}#zero`],
          outputs: [`${id}.yi`],
          attrs: node.attrs,
        },
        { opType: 'Cast', inputs: [`${id}.yi`], outputs: [`${id}.yf`], attrs: { to: { kind: 'int', value: 1 } } },
        { opType: 'Mul', inputs: [`${id}.xs`, `${w}#scale`], outputs: [`${id}.s`] },
      );
      if (b) {
        extra.set(`${b}#col`, { dtype: 'float32', shape: [ws[0], ...ones] });
        dropped.add(b);
        nodes.push(
          { opType: 'Mul', inputs: [`${id}.yf`, `${id}.s`], outputs: [`${id}.y`] },
          { opType: 'Add', inputs: [`${id}.y`, `${b}#col`], outputs: node.outputs },
        );
      } else nodes.push({ opType: 'Mul', inputs: [`${id}.yf`, `${id}.s`], outputs: node.outputs });
      continue;
    }
    const gemmB = node.opType === 'Gemm' && isWeight(w);
    if ((node.opType === 'MatMul' && isWeight(w)) || gemmB) {
      const transB = node.attrs?.transB?.kind === 'int' && Number(node.attrs.transB.value) === 1;
      const ws = shapeOf.get(w)!;
      const kn = transB ? [ws[1], ws[0]] : ws; // DynamicQuantizeMatMul: B [K, N]
      extra.set(`${w}#s8`, { dtype: 'int8', shape: kn });
      extra.set(`${w}#colscale`, { dtype: 'float32', shape: [kn[1]] });
      dropped.add(w);
      const inputs = [x, `${w}#s8`, `${w}#colscale`];
      if (gemmB && b) inputs.push('', b);
      nodes.push({ opType: 'DynamicQuantizeMatMul', domain: 'com.microsoft', inputs, outputs: node.outputs });
      n++;
      continue;
    }
    nodes.push(node);
  }
  const stillUsed = new Set(nodes.flatMap((x) => x.inputs));
  const inputs: OnnxValueInfo[] = m.inputs.filter((i) => !dropped.has(i.name) || stillUsed.has(i.name));
  for (const [name, v] of extra) inputs.push({ name, dtype: v.dtype as 'uint8', shape: v.shape });
  return { model: { ...m, nodes, inputs }, extra, n };
}

function randomTensor(rng: Rng, name: string, dtype: string, shape: readonly number[]): ort.Tensor {
  const size = shape.reduce((a, d) => a * d, 1);
  const u = rng.rand(name, [size]).data as Float32Array;
  if (dtype === 'int8')
    return new ort.Tensor(
      'int8',
      Int8Array.from(u, (v) => Math.round(v * 254 - 127)),
      [...shape],
    );
  if (dtype === 'uint8') {
    const zero = name.endsWith('#zero');
    return new ort.Tensor(
      'uint8',
      Uint8Array.from(u, (v) => (zero ? 128 : Math.round(v * 255))),
      [...shape],
    );
  }
  const scale = name.endsWith('scale') ? 1e-3 : 1;
  return new ort.Tensor(
    'float32',
    Float32Array.from(u, (v) => (v * 2 - 1) * scale),
    [...shape],
  );
}

export async function benchInt8(threads: number): Promise<void> {
  const size = arg('size', 128);
  const frames = arg('frames', 4);
  const runs = arg('runs', 5);
  const cfg = PRESETS['svd-xt'].unet;
  const lat = size / 8;
  const n = 2 * frames;
  console.log(`# int8 benchmark — ${machineLine()}, ${threads} threads, onnxruntime-node ${ort.env.versions.common}`);
  const tree = declareVideoUNetParams(new Params(new GraphBuilder('declare'), UNET_PREFIX), cfg);
  const graph = svdNetworkGraph(cfg, n, frames, lat, lat);
  const fp32 = toOnnxModel(graph);
  const weights = new Set([...tree.shapes.keys()]);
  const q = quantizeDynamic(fp32, weights);
  console.log(
    `svd-xt UNet ${size}×${size} (latent ${lat}×${lat}), T = ${frames}, batch ${n}: ${q.n} Conv / Gemm / MatMul nodes quantized`,
  );
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  const rng = new Rng(5);
  const feedsOf = (m: OnnxModel) =>
    Object.fromEntries(m.inputs.map((i) => [i.name, randomTensor(rng, i.name, i.dtype, i.shape)]));
  const sessions = [
    await ort.InferenceSession.create(encodeModel(fp32), options),
    await ort.InferenceSession.create(encodeModel(q.model), options),
  ];
  const feeds = [feedsOf(fp32), feedsOf(q.model)];
  const times: number[][] = [[], []];
  for (const i of [0, 1]) await sessions[i].run(feeds[i]); // untimed first calls
  for (let r = 0; r < runs; r++) {
    for (const i of [0, 1]) {
      const t0 = performance.now();
      await sessions[i].run(feeds[i]);
      times[i].push(performance.now() - t0);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [f, i8] = times.map(median);
  console.log('| graph | time / evaluation (median) | ratio int8 / float32 |');
  console.log('|---|---|---|');
  console.log(`| float32 (as lowered) | ${fmtMs(f)} ms | 1 |`);
  console.log(
    `| dynamic int8 (ConvInteger u8, DynamicQuantizeMatMul s8) | ${fmtMs(i8)} ms | ${(i8 / f).toFixed(2)}× |`,
  );
  console.log(`speed-up ${(f / i8).toFixed(2)}× (issue 13 ships --quantize int8 only at ≥ 1.3×)`);
  recordFigure({
    suite: SUITE,
    case: `svd-xt UNet ${size}×${size}, T = ${frames}, batch ${n}: dynamic int8 against float32`,
    ours: i8,
    baseline: { name: 'the same graph in float32', value: f },
    note: `${q.n} nodes quantized; random weights; ${runs} alternating calls per side`,
  });
  for (const s of sessions) await s.release();
}
