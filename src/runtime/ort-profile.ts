/**
 * ONNX Runtime's profile (SessionOptions.enableProfiling; a Chrome-trace JSON array written by the session): the
 * node events of each run, with the work each node did, summed by any key (op type, model block, shape).
 *
 * Event format (onnxruntime/core/common/profiler.cc): `{cat: 'Node', name: '<node>_kernel_time', ts, dur (µs), args:
 * {op_name, provider, input_type_shape: [{float: [dims]}…], output_type_shape: […]}}`; each `session.run` is one
 * `{cat: 'Session', name: 'model_run', ts, dur}` event enclosing its node events.
 *
 * Work per node: multiply-adds ×2 for the heavy ops, counted from the shapes ORT reports (the same convention as
 * graph/flops.ts: conv, transposed conv, matmul, Gemm, attention); bytes read and written (inputs + outputs) for
 * the other nodes, so memory-bound ops get a GB/s figure.
 */

/** One tensor as ORT reports it: element type (`float`, `int64`, …) and dims. */
export interface ProfiledTensor {
  type: string;
  dims: number[];
}

export interface ProfiledNode {
  /** Node name without ORT's `_kernel_time` suffix (fused nodes keep the first node's name plus a tag). */
  name: string;
  /** The kernel ORT ran (after its fusions: `FusedConv`, `QuickGelu`, …). */
  op: string;
  us: number;
  inputs: ProfiledTensor[];
  outputs: ProfiledTensor[];
  /** Index of the `model_run` the node ran in (0-based, in time order); -1 outside any run. */
  run: number;
}

export interface OrtProfile {
  /** Each `session.run`: start (µs since the session started) and duration. */
  runs: { ts: number; us: number }[];
  nodes: ProfiledNode[];
}

interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string; input_type_shape?: unknown; output_type_shape?: unknown };
}

function tensors(list: unknown): ProfiledTensor[] {
  if (!Array.isArray(list)) return [];
  return list.map((entry) => {
    const [type, dims] = Object.entries(entry as Record<string, unknown>)[0] ?? ['', []];
    return { type, dims: Array.isArray(dims) ? dims.map(Number) : [] };
  });
}

/** Parses a profile (the file's JSON); node events are assigned to the run that encloses them. */
export function parseOrtProfile(json: unknown): OrtProfile {
  if (!Array.isArray(json)) throw new Error('ORT profile: expected a JSON array of trace events');
  const events = json as TraceEvent[];
  const runs = events
    .filter((e) => e.cat === 'Session' && e.name === 'model_run')
    .map((e) => ({ ts: Number(e.ts), us: Number(e.dur) }))
    .sort((a, b) => a.ts - b.ts);
  const nodes: ProfiledNode[] = [];
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time')) continue;
    const ts = Number(e.ts);
    nodes.push({
      name: e.name.slice(0, -'_kernel_time'.length),
      op: e.args?.op_name ?? '?',
      us: Number(e.dur),
      inputs: tensors(e.args?.input_type_shape),
      outputs: tensors(e.args?.output_type_shape),
      run: runs.findIndex((r) => ts >= r.ts && ts <= r.ts + r.us),
    });
  }
  return { runs, nodes };
}

const BYTES: Record<string, number> = {
  float: 4,
  float16: 2,
  bfloat16: 2,
  double: 8,
  int64: 8,
  int32: 4,
  uint8: 1,
  int8: 1,
  bool: 1,
};

const numel = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
const sizeOf = (t: ProfiledTensor) => numel(t.dims) * (BYTES[t.type] ?? 4);

/**
 * FLOPs (2 × multiply-adds) of a heavy node from its shapes, 0 for any other op. Conv: output elements × weight
 * elements per output channel; ConvTranspose: input elements × weight elements per input channel; MatMul,
 * FusedMatMul, Gemm: output elements × the contracted dim (A's last dim, untransposed); Attention (ai.onnx 23 or
 * com.microsoft.MultiHeadAttention) with [B, S, H·D] or [B, H, S, D] inputs: 2·B·Sq·Sk·(D_qk + D_v) summed over heads.
 */
export function nodeFlops(n: Pick<ProfiledNode, 'op' | 'inputs' | 'outputs'>): number {
  const [a, b, c] = n.inputs.map((t) => t.dims);
  const out = n.outputs[0]?.dims;
  if (!a || !out) return 0;
  switch (n.op) {
    case 'Conv':
    case 'FusedConv':
    case 'NhwcFusedConv':
      return b ? (2 * numel(out) * numel(b)) / b[0] : 0;
    case 'ConvTranspose':
      return b ? (2 * numel(a) * numel(b)) / b[0] : 0;
    case 'MatMul':
    case 'FusedMatMul':
    case 'Gemm':
      return 2 * numel(out) * a[a.length - 1];
    case 'Attention':
    case 'MultiHeadAttention': {
      if (!b || !c) return 0;
      if (a.length === 4) return 2 * a[0] * a[1] * a[2] * b[2] * (a[3] + c[3]);
      if (a.length === 3) return 2 * a[0] * a[1] * b[1] * (a[2] + c[2]);
      return 0;
    }
    default:
      return 0;
  }
}

/** Ops that only re-describe their input (ORT aliases the buffer): no bytes moved. */
const VIEWS = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Identity']);
/** Ops that read only the part of their input that they write. */
const GATHERS = new Set(['Slice', 'Gather']);

/**
 * Bytes the node reads and writes: all inputs + outputs, each once; views none; Slice and Gather read what they write.
 */
export function nodeBytes(n: Pick<ProfiledNode, 'op' | 'inputs' | 'outputs'>): number {
  if (VIEWS.has(n.op)) return 0;
  let s = 0;
  if (GATHERS.has(n.op)) {
    for (const t of n.outputs) s += 2 * sizeOf(t);
    return s;
  }
  for (const t of n.inputs) s += sizeOf(t);
  for (const t of n.outputs) s += sizeOf(t);
  return s;
}

/** One row of a breakdown: the nodes sharing a key, summed. */
export interface ProfileRow {
  key: string;
  /** Node executions summed (over every selected run). */
  calls: number;
  ms: number;
  /** Share of the selected nodes' total time. */
  share: number;
  flops: number;
  bytes: number;
}

/**
 * Sums the nodes by `keyOf` (a node whose key is undefined is left out of rows but counted in the total), rows by
 * time, slowest first. `runs` selects the runs summed (default all); times are per selected run on average.
 */
export function breakdown(
  profile: OrtProfile,
  keyOf: (n: ProfiledNode) => string | undefined,
  runs?: readonly number[],
): { rows: ProfileRow[]; totalMs: number } {
  const wanted = runs ? new Set(runs) : undefined;
  const nodes = profile.nodes.filter((n) => (wanted ? wanted.has(n.run) : n.run >= 0));
  const perRun = Math.max(1, wanted ? wanted.size : profile.runs.length);
  const rows = new Map<string, ProfileRow>();
  let totalUs = 0;
  for (const n of nodes) {
    totalUs += n.us;
    const key = keyOf(n);
    if (key === undefined) continue;
    let r = rows.get(key);
    if (!r) {
      r = { key, calls: 0, ms: 0, share: 0, flops: 0, bytes: 0 };
      rows.set(key, r);
    }
    r.calls += 1;
    r.ms += n.us / 1000;
    r.flops += nodeFlops(n);
    r.bytes += nodeBytes(n);
  }
  const out = [...rows.values()].map((r) => ({
    ...r,
    calls: r.calls / perRun,
    ms: r.ms / perRun,
    flops: r.flops / perRun,
    bytes: r.bytes / perRun,
    share: totalUs > 0 ? (r.ms * 1000) / totalUs : 0,
  }));
  out.sort((x, y) => y.ms - x.ms);
  return { rows: out, totalMs: totalUs / 1000 / perRun };
}

/** A node's shape signature, e.g. `Attention [4608,25,640]·[4608,25,640]·[4608,25,640]`. */
export function shapeKey(n: ProfiledNode): string {
  return `${n.op} ${n.inputs.map((t) => `[${t.dims.join(',')}]`).join('·')}`;
}
