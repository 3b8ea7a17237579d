/**
 * The engine worker: owns ONNX Runtime, the weight store and the session cache. `session.run` is synchronous in
 * the Node binding and would block the event loop for a whole UNet call; here it blocks only this thread
 * (DESIGN.md decision 6). Weights are held once as ORT tensors and fed to every session (decision 1).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { instantiateKernel, type KernelFn } from '../graph/elementwise-kernel.ts';
import type { DType } from '../tensor/dtype.ts';
import type {
  InitRequest,
  KernelRequest,
  Reply,
  Request,
  RunReply,
  RunRequest,
  StatsReply,
  WireTensor,
} from './protocol.ts';

if (!parentPort) throw new Error('engine-worker must run in a worker thread');
const port = parentPort;

let config: InitRequest | undefined;
const weights = new Map<string, ort.Tensor>();
/** Tensors kept between calls (uploaded inputs, kept outputs), by resident id. */
const resident = new Map<number, ort.Tensor>();
/** LRU of sessions by model hash (Map iteration order = recency). */
const sessions = new Map<string, ort.InferenceSession>();
/** Compiled elementwise kernels by program. */
const kernels = new Map<string, KernelFn>();

function ownBuffer(view: ArrayBufferView): ArrayBufferView {
  // ORT's Node binding rejects SharedArrayBuffer-backed arrays: copy those into plain memory.
  if (view.buffer instanceof SharedArrayBuffer) {
    const Ctor = view.constructor as new (n: number) => ArrayBufferView & { set(a: ArrayLike<unknown>): void };
    const copy = new Ctor((view as unknown as { length: number }).length);
    copy.set(view as unknown as ArrayLike<unknown>);
    return copy;
  }
  return view;
}

function toOrt(t: WireTensor): ort.Tensor {
  if (t.dtype === 'bfloat16') throw new Error(`"${t.name}": bfloat16 tensors must be converted before the engine`);
  const type = t.dtype as Exclude<DType, 'bfloat16'>;
  return new ort.Tensor(type, ownBuffer(t.data) as never, [...t.shape]);
}

function fromOrt(name: string, t: ort.Tensor): WireTensor {
  return { name, dtype: t.type as DType, shape: [...t.dims], data: t.data as ArrayBufferView };
}

/** Cache key of a run's session: the model hash, plus the arena override when there is one. */
function sessionKey(hash: string, memoryArena?: boolean): string {
  return memoryArena === undefined ? hash : `${hash}#arena=${memoryArena}`;
}

function sessionOptions(memoryArena?: boolean, profilePrefix?: string): ort.InferenceSession.SessionOptions {
  const c = config!;
  return {
    executionProviders: [c.provider],
    intraOpNumThreads: c.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    enableCpuMemArena: memoryArena ?? c.memoryArena,
    logSeverityLevel: 3,
    ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
    ...(!c.spinning ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
  };
}

/** The file prefix of a new session's ORT profile (`<profileDir>/<graph name>`), when profiling is on. */
function profilePrefixOf(graphName: string): string | undefined {
  const dir = config!.profileDir;
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  return join(dir, graphName.replace(/[^\w.-]+/g, '_'));
}

async function getSession(
  req: RunRequest,
): Promise<{ session?: ort.InferenceSession; created: boolean; evicted: string[] }> {
  const key = sessionKey(req.hash, req.memoryArena);
  const hit = sessions.get(key);
  if (hit) {
    sessions.delete(key);
    sessions.set(key, hit);
    return { session: hit, created: false, evicted: [] };
  }
  if (!req.model) return { created: false, evicted: [] };
  if (config!.saveOnnxDir) {
    mkdirSync(config!.saveOnnxDir, { recursive: true });
    writeFileSync(join(config!.saveOnnxDir, `${req.graphName}-${req.hash.slice(0, 12)}.onnx`), req.model);
  }
  const session = await ort.InferenceSession.create(
    req.model,
    sessionOptions(req.memoryArena, profilePrefixOf(req.graphName)),
  );
  sessions.set(key, session);
  const evicted: string[] = [];
  while (sessions.size > config!.cacheSize) {
    const [oldest, s] = sessions.entries().next().value as [string, ort.InferenceSession];
    sessions.delete(oldest);
    await s.release();
    evicted.push(oldest);
  }
  return { session, created: true, evicted };
}

async function run(req: RunRequest): Promise<{ reply: RunReply; transfer: ArrayBuffer[] }> {
  const t0 = performance.now();
  const { session, created, evicted } = await getSession(req);
  if (!session) {
    // Hand the pooled feed buffers back untouched so that the engine can resend them with the model.
    const returned = req.feeds.filter((f) => f.pooled).map((f) => f.data.buffer as ArrayBuffer);
    return {
      reply: { outputs: [], evicted, needModel: true, sessionCreated: false, ms: { session: 0, run: 0 }, returned },
      transfer: returned,
    };
  }
  const t1 = performance.now();
  const feeds: Record<string, ort.Tensor> = {};
  for (const f of req.feeds) feeds[f.name] = toOrt(f);
  for (const r of req.residentFeeds) {
    const t = resident.get(r.residentId);
    if (!t) throw new Error(`resident tensor #${r.residentId} for input "${r.name}" was freed`);
    feeds[r.name] = t;
  }
  for (const name of req.weightNames) {
    const w = weights.get(name);
    if (!w) throw new Error(`weight "${name}" is not in the engine's weight store`);
    feeds[name] = w;
  }
  const results = await session.run(feeds, req.outputNames);
  const t2 = performance.now();
  const kept = new Set(req.keepOutputs.map((k) => k.name));
  for (const k of req.keepOutputs) resident.set(k.residentId, results[k.name]);
  const outputs = req.outputNames.filter((n) => !kept.has(n)).map((n) => fromOrt(n, results[n]));
  const returned = req.feeds.filter((f) => f.pooled).map((f) => f.data.buffer as ArrayBuffer);
  const transfer = [...new Set([...outputs.map((o) => o.data.buffer as ArrayBuffer), ...returned])];
  return {
    reply: { outputs, evicted, sessionCreated: created, ms: { session: t1 - t0, run: t2 - t1 }, returned },
    transfer,
  };
}

/** Runs a fused elementwise kernel in place over groups of resident tensors; returns the milliseconds it took. */
function runKernel(req: KernelRequest): number {
  const t0 = performance.now();
  const { kernel } = req;
  const key = JSON.stringify(kernel.program);
  let fn = kernels.get(key);
  if (!fn) {
    fn = instantiateKernel(kernel);
    kernels.set(key, fn);
  }
  for (const group of req.groups) {
    const arrays = group.map((id) => {
      const t = resident.get(id);
      if (!t) throw new Error(`kernel "${kernel.name}": resident tensor #${id} was freed`);
      if (!(t.data instanceof Float32Array)) throw new Error(`kernel "${kernel.name}": tensor #${id} is not float32`);
      return t.data;
    });
    const n = arrays[0].length;
    if (arrays.some((a) => a.length !== n)) throw new Error(`kernel "${kernel.name}": tensors of different sizes`);
    fn(arrays, req.scalars, n);
  }
  return performance.now() - t0;
}

function stats(): StatsReply {
  let weightBytes = 0;
  for (const w of weights.values()) weightBytes += (w.data as ArrayBufferView).byteLength;
  return {
    sessions: sessions.size,
    weights: weights.size,
    resident: resident.size,
    weightBytes,
    providers: ort.listSupportedBackends().map((b) => `${b.name}${b.bundled ? '' : ' (not bundled)'}`),
  };
}

async function handle(req: Request): Promise<{ value: unknown; transfer?: ArrayBuffer[] }> {
  switch (req.type) {
    case 'init':
      config = req;
      if (req.logLevel) ort.env.logLevel = req.logLevel;
      return { value: stats() };
    case 'setWeights':
      for (const w of req.weights) weights.set(w.name, toOrt(w));
      return { value: weights.size };
    case 'deleteWeights':
      for (const n of req.names) weights.delete(n);
      return { value: weights.size };
    case 'upload':
      resident.set(req.residentId, toOrt(req.tensor));
      return { value: req.residentId };
    case 'download': {
      const t = resident.get(req.residentId);
      if (!t) throw new Error(`resident tensor #${req.residentId} was freed`);
      // Copy: the resident tensor stays usable in the worker.
      const w = fromOrt('', t);
      const copy = (w.data as unknown as { slice(): ArrayBufferView }).slice();
      return { value: { ...w, data: copy }, transfer: [copy.buffer as ArrayBuffer] };
    }
    case 'free':
      for (const id of req.residentIds) resident.delete(id);
      return { value: resident.size };
    case 'run': {
      const { reply, transfer } = await run(req);
      return { value: reply, transfer };
    }
    case 'kernel':
      return { value: runKernel(req) };
    case 'stats':
      return { value: stats() };
    case 'release':
      for (const h of req.hashes) {
        const sess = sessions.get(h);
        if (sess) {
          sessions.delete(h);
          await sess.release();
        }
      }
      return { value: sessions.size };
    case 'endProfiling':
      // A profiled session writes `<prefix>_<date>.json` here (or when released); later runs are not recorded.
      if (config!.profileDir) for (const s of sessions.values()) s.endProfiling();
      return { value: sessions.size };
    case 'clearCache':
      for (const s of sessions.values()) await s.release();
      sessions.clear();
      return { value: 0 };
    case 'shutdown':
      throw new Error('shutdown is handled by the message loop');
  }
}

/** Frees everything and closes the port: with nothing left to wait for, the worker thread ends (see ShutdownRequest). */
async function shutdown(): Promise<void> {
  for (const s of sessions.values()) await s.release().catch(() => {});
  sessions.clear();
  weights.clear();
  resident.clear();
  port.close();
}

// Requests are handled one at a time, in order: ORT sessions are not re-entrant across our state.
let queue: Promise<void> = Promise.resolve();
port.on('message', (req: Request) => {
  if (req.type === 'shutdown') {
    queue = queue.then(shutdown);
    return;
  }
  queue = queue.then(async () => {
    let reply: Reply;
    let transfer: ArrayBuffer[] = [];
    try {
      const r = await handle(req);
      reply = { id: req.id, ok: true, value: r.value };
      transfer = r.transfer ?? [];
    } catch (e) {
      const err = e as Error;
      reply = { id: req.id, ok: false, error: { name: err.name ?? 'Error', message: err.message ?? String(e) } };
    }
    port.postMessage(reply, transfer);
  });
});
