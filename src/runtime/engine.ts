/**
 * The engine: runs graphs in ONNX Runtime on a worker thread behind an async API (DESIGN.md decisions 1, 2, 6, 9).
 *
 *   const engine = await Engine.create({ provider: 'cpu', threads: 2 });
 *   await engine.setWeights({ 'conv.weight': w });
 *   const { y } = await engine.run(graph, { x });
 *
 * Graphs are lowered once (cached per Graph object) and identified by the hash of their ONNX bytes; the worker
 * keeps an LRU of sessions keyed by that hash (static shapes: a new frame count is a new, cheap session).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { GraphBuilder, type SymTensor } from '../graph/builder.ts';
import type { ElementwiseKernel } from '../graph/elementwise-kernel.ts';
import type { Graph } from '../graph/ir.ts';
import { type LoweredGraph, lowerGraph } from '../graph/lower.ts';
import type { DType } from '../tensor/dtype.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import { formatShape, numel, type Shape, shapesEqual } from '../tensor/shape.ts';
import { BufferPool } from './buffer-pool.ts';
import { EngineError, FeedError, ProviderUnavailableError } from './errors.ts';
import { probeModel } from './probe-model.ts';
import type { Provider, Reply, Request, RunReply, StatsReply, WireTensor } from './protocol.ts';
import { checkProviderInstalled } from './providers.ts';

export interface EngineOptions {
  provider?: Provider;
  /** Intra-op threads (default: all cores). */
  threads?: number;
  /** Sessions kept in the LRU cache (default 8). */
  cacheSize?: number;
  /** When set, every new ONNX model is also written to this folder as `<graph>-<hash>.onnx`. */
  saveOnnxDir?: string;
  /**
   * ORT's CPU memory arena (default on). With it a session keeps its peak memory for reuse, so repeated runs do not
   * page-fault fresh buffers (without it attention and group norm ran 2–8× slower in the steady state here); the
   * price is that every cached session holds its peak, so pipelines `release()` each finished stage.
   */
  memoryArena?: boolean;
  /**
   * ORT profiling (benchmarks): every session created by this engine records each node's time and writes it as
   * `<profileDir>/<graph name>_<date>.json` on `endProfiling()` or when released. Profiled node names carry the
   * builder scope (graph/lower.ts).
   */
  profileDir?: string;
  /**
   * Whether ORT's intra-op threads spin while they wait for work (ORT's own default). Default here: false — they block
   * (session config `session.intra_op.allow_spinning` = 0), as the PyTorch baselines run OMP_WAIT_POLICY=PASSIVE: on
   * the project machine, shared with other busy processes, spinning threads took the cores the working threads
   * needed (the svd-xt decoder at 128×128, T = 3: 0.74× and 0.79× the time without spinning, calls alternating in
   * one run at load 7–10; `npm run bench -- decode --compare-spinning`). The results are the same bits either way.
   */
  spinning?: boolean;
}

export interface RunTiming {
  /** Worker-side session creation (0 on a cache hit). */
  sessionMs: number;
  /** Worker-side `session.run`. */
  runMs: number;
  /** Lowering on the main thread (0 when cached). */
  lowerMs: number;
  sessionCreated: boolean;
}

/**
 * A tensor held in the engine worker between calls (an uploaded input or a kept output): feeding it costs no copy.
 * Free it with `engine.free` when done.
 */
export class ResidentTensor {
  constructor(
    readonly id: number,
    readonly dtype: DType,
    readonly shape: Shape,
  ) {}

  toString(): string {
    return `ResidentTensor(#${this.id}, ${this.dtype}, ${formatShape(this.shape)})`;
  }
}

export type Feed = HostTensor | ResidentTensor;

/** Anything that runs a graph on feeds: the Engine, or a pipeline stage that adds its own run options. */
export interface GraphRunner {
  run(graph: Graph, feeds: Readonly<Record<string, Feed>>): Promise<Record<string, HostTensor>>;
}

export interface RunOptions {
  /**
   * Overrides the engine's memory arena for this graph's session: off suits a graph with huge activations run a few
   * times (a full-resolution decoder), whose arena would hold its peak with power-of-two growth on top.
   */
  memoryArena?: boolean;
}

function sessionKey(hash: string, memoryArena?: boolean): string {
  return memoryArena === undefined ? hash : `${hash}#arena=${memoryArena}`;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

const WORKER_URL = new URL('./engine-worker-entry.mjs', import.meta.url);

export class Engine {
  private nextId = 1;
  private nextResident = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly lowered = new WeakMap<Graph, LoweredGraph>();
  /** Model hashes the worker holds a session for. */
  private readonly workerHas = new Set<string>();
  private readonly weightInfo = new Map<string, { dtype: DType; shape: Shape }>();
  private closed = false;
  /** A dispose came during a request: the worker shuts itself down after it, and keeps the process alive until then. */
  private draining = false;
  /** Feeds at least this large travel through pooled, transferred buffers; smaller ones are cloned. */
  private static readonly POOL_MIN_BYTES = 64 * 1024;
  private readonly feedPool = new BufferPool(2 ** 31);
  /** How many runs had to be resent with their model (a session evicted while they were in flight). */
  resends = 0;
  /** Timing of the last `run`. */
  lastTiming: RunTiming = { sessionMs: 0, runMs: 0, lowerMs: 0, sessionCreated: false };

  private constructor(
    private readonly worker: Worker,
    readonly provider: Provider,
    readonly threads: number,
  ) {
    worker.on('message', (reply: Reply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.value);
      else {
        const err = new EngineError(reply.error.message);
        p.reject(err);
      }
    });
    worker.on('error', (e) => this.failAll(e));
    worker.on('exit', (code) => {
      if (!this.closed) this.failAll(new EngineError(`engine worker exited with code ${code}`));
    });
  }

  static async create(opts: EngineOptions = {}): Promise<Engine> {
    const provider = opts.provider ?? 'cpu';
    checkProviderInstalled(provider);
    const threads = opts.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be a positive integer, got ${threads}`);
    const worker = new Worker(WORKER_URL);
    worker.unref();
    const engine = new Engine(worker, provider, threads);
    await engine.request({
      type: 'init',
      provider,
      threads,
      cacheSize: opts.cacheSize ?? 8,
      saveOnnxDir: opts.saveOnnxDir,
      memoryArena: opts.memoryArena ?? true,
      profileDir: opts.profileDir,
      spinning: opts.spinning ?? false,
    });
    if (provider !== 'cpu') await engine.probeProvider();
    return engine;
  }

  /** Runs a one-node model so that a provider without a device fails now, with a clear message. */
  private async probeProvider(): Promise<void> {
    const model = probeModel();
    try {
      await this.request({
        type: 'run',
        hash: 'probe',
        graphName: 'probe',
        model,
        feeds: [{ name: 'x', dtype: 'float32', shape: [4], data: new Float32Array(4) }],
        residentFeeds: [],
        keepOutputs: [],
        weightNames: [],
        outputNames: ['y'],
      });
    } catch (e) {
      await this.dispose();
      throw new ProviderUnavailableError(
        `execution provider "${this.provider}" is not available on this machine: ${(e as Error).message}`,
      );
    }
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private request(
    body: Record<string, unknown> & { type: Request['type'] },
    transfer: ArrayBuffer[] = [],
  ): Promise<unknown> {
    if (this.closed) return Promise.reject(new EngineError('engine is disposed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      try {
        this.worker.postMessage({ ...body, id }, transfer);
      } catch (e) {
        // not sent (e.g. a buffer that cannot be transferred): no reply will come
        this.pending.delete(id);
        reject(new EngineError(`engine request "${body.type}" could not be sent: ${(e as Error).message}`));
      }
    }).finally(() => {
      if (this.pending.size === 0 && !this.draining) this.worker.unref();
    });
  }

  /**
   * Puts weights into the worker's store (held once, shared by every session). With `transfer`, the tensors'
   * buffers move to the worker without a copy and become unusable here.
   */
  async setWeights(
    weights: Readonly<Record<string, HostTensor>> | ReadonlyMap<string, HostTensor>,
    opts: { transfer?: boolean } = {},
  ): Promise<void> {
    const entries = weights instanceof Map ? [...weights.entries()] : Object.entries(weights);
    const wire: WireTensor[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const [name, t] of entries) {
      if (t.dtype === 'bfloat16') throw new FeedError(`weight "${name}": convert bfloat16 to float32 first`);
      checkNotDetached(`weight "${name}"`, t);
      wire.push({ name, dtype: t.dtype, shape: t.shape, data: t.data });
      if (opts.transfer && t.data.buffer instanceof ArrayBuffer) transfer.push(t.data.buffer);
    }
    await this.request({ type: 'setWeights', weights: wire }, [...new Set(transfer)]);
    for (const [name, t] of entries) this.weightInfo.set(name, { dtype: t.dtype, shape: t.shape });
  }

  async deleteWeights(names: readonly string[]): Promise<void> {
    if (this.closed) return; // a disposed engine holds nothing (see free)
    await this.request({ type: 'deleteWeights', names: [...names] });
    for (const n of names) this.weightInfo.delete(n);
  }

  hasWeight(name: string): boolean {
    return this.weightInfo.has(name);
  }

  lower(graph: Graph): LoweredGraph {
    let l = this.lowered.get(graph);
    if (!l) {
      l = lowerGraph(graph);
      this.lowered.set(graph, l);
    }
    return l;
  }

  /** Copies a tensor into the worker once; feed the handle to any number of runs without a copy. */
  async upload(t: HostTensor, opts: { transfer?: boolean } = {}): Promise<ResidentTensor> {
    if (t.dtype === 'bfloat16') throw new FeedError('upload: convert bfloat16 to float32 first');
    checkNotDetached('upload', t);
    const id = this.nextResident++;
    const transfer = opts.transfer && t.data.buffer instanceof ArrayBuffer ? [t.data.buffer] : [];
    await this.request(
      { type: 'upload', residentId: id, tensor: { name: '', dtype: t.dtype, shape: t.shape, data: t.data } },
      transfer,
    );
    return new ResidentTensor(id, t.dtype, t.shape);
  }

  /** Copies a resident tensor back to the host (it stays resident). */
  async download(r: ResidentTensor): Promise<HostTensor> {
    const w = (await this.request({ type: 'download', residentId: r.id })) as WireTensor;
    return new HostTensor(w.dtype, w.shape, w.data as never);
  }

  /**
   * Frees resident tensors. On a disposed engine it does nothing: everything it held went with it, and cleanup in a
   * `finally` after an abort (which disposes the job's engine) must not replace the abort's reason with an error.
   */
  async free(rs: ResidentTensor | readonly ResidentTensor[]): Promise<void> {
    if (this.closed) return;
    const list = Array.isArray(rs) ? rs : [rs as ResidentTensor];
    await this.request({ type: 'free', residentIds: list.map((r) => r.id) });
  }

  /** Runs a graph: `feeds` by input name; weights come from the store. Returns the outputs by name. */
  async run(
    graph: Graph,
    feeds: Readonly<Record<string, Feed>>,
    opts: RunOptions = {},
  ): Promise<Record<string, HostTensor>> {
    return (await this.exec(graph, feeds, [], opts)).host;
  }

  /**
   * Runs a graph keeping the outputs named in `keep` in the worker (e.g. the latent between sampler steps);
   * the others come back to the host.
   */
  async runKeep(
    graph: Graph,
    feeds: Readonly<Record<string, Feed>>,
    keep: readonly string[],
    opts: RunOptions = {},
  ): Promise<{ host: Record<string, HostTensor>; resident: Record<string, ResidentTensor> }> {
    return this.exec(graph, feeds, keep, opts);
  }

  private async exec(
    graph: Graph,
    feeds: Readonly<Record<string, Feed>>,
    keep: readonly string[],
    opts: RunOptions,
  ): Promise<{ host: Record<string, HostTensor>; resident: Record<string, ResidentTensor> }> {
    const t0 = performance.now();
    const wasLowered = this.lowered.has(graph);
    const lowered = this.lower(graph);
    const lowerMs = wasLowered ? 0 : performance.now() - t0;
    const wire: WireTensor[] = [];
    const residentFeeds: { name: string; residentId: number }[] = [];
    const weightNames: string[] = [];
    const missing: string[] = [];
    for (const inp of graph.inputs) {
      const want = graph.values[inp.value];
      if (inp.kind === 'weight') {
        const have = this.weightInfo.get(inp.name);
        if (!have) missing.push(inp.name);
        else if (have.dtype !== want.dtype || !shapesEqual(have.shape, want.shape)) {
          throw new FeedError(
            `weight "${inp.name}" is ${have.dtype} ${formatShape(have.shape)} in the store but the graph wants ${want.dtype} ${formatShape(want.shape)}`,
          );
        }
        weightNames.push(inp.name);
        continue;
      }
      const t = feeds[inp.name];
      if (!t)
        throw new FeedError(
          `graph "${graph.name}" needs input "${inp.name}" (${want.dtype} ${formatShape(want.shape)})`,
        );
      if (t.dtype !== want.dtype || !shapesEqual(t.shape, want.shape)) {
        throw new FeedError(
          `input "${inp.name}" is ${t.dtype} ${formatShape(t.shape)} but graph "${graph.name}" expects ${want.dtype} ${formatShape(want.shape)}`,
        );
      }
      if (t instanceof ResidentTensor) residentFeeds.push({ name: inp.name, residentId: t.id });
      else if (t.data.byteLength >= Engine.POOL_MIN_BYTES) {
        wire.push({ name: inp.name, dtype: t.dtype, shape: t.shape, data: this.feedPool.copyIn(t.data), pooled: true });
      } else wire.push({ name: inp.name, dtype: t.dtype, shape: t.shape, data: t.data });
    }
    if (missing.length > 0) {
      throw new FeedError(
        `graph "${graph.name}" needs weights missing from the store: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`,
      );
    }
    const outputNames = graph.outputs.map((o) => o.name);
    const outputValue = new Map(graph.outputs.map((o) => [o.name, o.value]));
    const keepOutputs = keep.map((name) => {
      if (!outputValue.has(name)) throw new FeedError(`graph "${graph.name}" has no output "${name}" to keep`);
      return { name, residentId: this.nextResident++ };
    });
    const send = async (withModel: boolean) =>
      (await this.request(
        {
          type: 'run',
          hash: lowered.hash,
          graphName: graph.name,
          model: withModel ? lowered.bytes : undefined,
          feeds: wire,
          residentFeeds,
          weightNames,
          outputNames,
          keepOutputs,
          memoryArena: opts.memoryArena,
        },
        wire.filter((w) => w.pooled).map((w) => w.data.buffer as ArrayBuffer),
      )) as RunReply;
    const key = sessionKey(lowered.hash, opts.memoryArena);
    let reply = await send(!this.workerHas.has(key));
    if (reply.needModel) {
      // The session was evicted meanwhile (concurrent runs): the worker handed the pooled feeds back untouched.
      let k = 0;
      for (const w of wire) {
        if (!w.pooled) continue;
        const Ctor = w.data.constructor as new (b: ArrayBuffer) => ArrayBufferView;
        w.data = new Ctor(reply.returned[k++]);
      }
      this.resends++;
      reply = await send(true);
    }
    for (const buf of reply.returned) this.feedPool.give(buf);
    for (const h of reply.evicted) this.workerHas.delete(h);
    this.workerHas.add(key);
    this.lastTiming = {
      sessionMs: reply.ms.session,
      runMs: reply.ms.run,
      lowerMs,
      sessionCreated: reply.sessionCreated,
    };
    const host: Record<string, HostTensor> = {};
    for (const o of reply.outputs) host[o.name] = new HostTensor(o.dtype, o.shape, o.data as never);
    const resident: Record<string, ResidentTensor> = {};
    for (const k of keepOutputs) {
      const info = graph.values[outputValue.get(k.name)!];
      resident[k.name] = new ResidentTensor(k.residentId, info.dtype, info.shape);
    }
    return { host, resident };
  }

  /**
   * Runs a fused elementwise kernel (graph/elementwise-kernel.ts) in place over resident float32 tensors: one pass per
   * group, a group's tensors in the order of `kernel.elements`, all of one size; `scalars` by `kernel.scalars` name.
   * Returns the worker's milliseconds.
   */
  async runKernel(
    kernel: ElementwiseKernel,
    groups: readonly (readonly ResidentTensor[])[],
    scalars: Readonly<Record<string, number>> = {},
  ): Promise<number> {
    const values = kernel.scalars.map((name) => {
      const v = scalars[name];
      if (v === undefined) throw new FeedError(`kernel "${kernel.name}" needs the scalar "${name}"`);
      return v;
    });
    for (const g of groups) {
      if (g.length !== kernel.elements.length)
        throw new FeedError(
          `kernel "${kernel.name}" takes ${kernel.elements.length} tensors per group, got ${g.length}`,
        );
      for (const [i, t] of g.entries()) {
        if (t.dtype !== 'float32' || numel(t.shape) !== numel(g[0].shape)) {
          throw new FeedError(
            `kernel "${kernel.name}": "${kernel.elements[i]}" is ${t.dtype} ${formatShape(t.shape)}; every tensor of a group must be float32 of ${numel(g[0].shape)} elements`,
          );
        }
      }
    }
    return (await this.request({
      type: 'kernel',
      kernel,
      groups: groups.map((g) => g.map((t) => t.id)),
      scalars: values,
    })) as number;
  }

  /**
   * A traced function: `trace` builds the graph for the shapes and dtypes of the feeds of a call; graphs are cached
   * by those shapes, so the steady state is lowering-free.
   */
  compile(
    name: string,
    trace: (b: GraphBuilder, inputs: Record<string, SymTensor>) => Record<string, SymTensor>,
  ): (feeds: Readonly<Record<string, Feed>>) => Promise<Record<string, HostTensor>> {
    const graphs = new Map<string, Graph>();
    return (feeds) => {
      const key = Object.entries(feeds)
        .map(([k, t]) => `${k}:${t.dtype}:${t.shape.join('x')}`)
        .join('|');
      let graph = graphs.get(key);
      if (!graph) {
        const b = new GraphBuilder(name);
        const inputs: Record<string, SymTensor> = {};
        for (const [k, t] of Object.entries(feeds)) inputs[k] = b.input(k, t.shape, t.dtype);
        for (const [k, v] of Object.entries(trace(b, inputs))) b.output(k, v);
        graph = b.build();
        graphs.set(key, graph);
      }
      return this.run(graph, feeds);
    };
  }

  async stats(): Promise<StatsReply> {
    return (await this.request({ type: 'stats' })) as StatsReply;
  }

  /** Drops the cached sessions of these graphs now (their memory is returned); they are rebuilt if run again. */
  async release(graphs: readonly Graph[]): Promise<void> {
    if (this.closed) return; // a disposed engine holds nothing (see free)
    const hashes = graphs
      .map((g) => this.lowered.get(g)?.hash)
      .filter((h): h is string => h !== undefined)
      .flatMap((h) => [h, sessionKey(h, true), sessionKey(h, false)]);
    if (hashes.length === 0) return;
    await this.request({ type: 'release', hashes });
    for (const h of hashes) this.workerHas.delete(h);
  }

  /** With `profileDir`: every cached session writes its profile now (sessions released earlier already have). */
  async endProfiling(): Promise<void> {
    await this.request({ type: 'endProfiling' });
  }

  async clearCache(): Promise<void> {
    await this.request({ type: 'clearCache' });
    this.workerHas.clear();
  }

  /**
   * Ends the engine: every pending request rejects now. An idle worker is terminated. A worker inside a request (an
   * ONNX Runtime call can last minutes) is not: terminating a thread inside a native call can abort the whole process
   * ("terminate called after throwing an instance of 'Napi::Error'"); it is told to shut down after that call, and a
   * natural exit of the process waits for that. (`process.exit` during the call still aborts: Node stops worker threads
   * on exit; the CLI ends an interrupted command by its own SIGINT instead, see src/cli/interrupt.ts.)
   */
  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const busy = this.pending.size > 0;
    this.failAll(new EngineError('engine is disposed'));
    if (busy) {
      this.draining = true;
      this.worker.ref();
      this.worker.postMessage({ type: 'shutdown', id: -1 });
      return;
    }
    await this.worker.terminate();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/**
 * A tensor whose buffer was transferred to the worker before is empty here; posting it again would never be answered,
 * so it is refused with a message instead.
 */
function checkNotDetached(what: string, t: HostTensor): void {
  if (t.data.byteLength === 0 && numel(t.shape) > 0) {
    throw new FeedError(`${what}: its buffer was already transferred to the engine (detached); pass a fresh tensor`);
  }
}
