/**
 * The training loop around a compiled train step: state (parameters, optimizer moments, EMA) stays resident in the
 * engine worker; each step feeds the previous step's outputs (two alternating buffer sets), then frees the old set.
 * Checkpoints save and restore everything — state tensors, step counter, hyper-parameters — exactly.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Graph } from '../graph/ir.ts';
import type { Engine, Feed, ResidentTensor } from '../runtime/engine.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import { SafetensorsFile, writeSafetensors } from '../weights/index.ts';
import { adamWStepScalars, emaDecay } from './optimizer.ts';
import type { LrSchedule } from './schedules.ts';
import { SCALARS, stateName, type TrainStepGraph } from './train-step.ts';

export interface TrainerOptions {
  /** Learning rate per 0-based step. */
  lr: LrSchedule;
  /** EMA decay (sgm LitEma default 0.9999) and whether to warm it up as min(decay, (1+n)/(10+n)). */
  emaDecay?: number;
  emaWarmup?: boolean;
}

export interface StepResult {
  loss: number;
  gradNorm?: number;
}

const scalar = (v: number) => HostTensor.float32([], [v]);

export class Trainer {
  /** Completed optimizer steps. */
  step = 0;
  private state = new Map<string, ResidentTensor>();

  private constructor(
    private readonly engine: Engine,
    readonly compiled: TrainStepGraph,
    private readonly opts: TrainerOptions,
  ) {}

  /**
   * Starts training from the given trainable parameter values (moments start at zero, EMA copies at the parameters).
   * Frozen weights must already be in the engine's weight store.
   */
  static async create(
    engine: Engine,
    compiled: TrainStepGraph,
    params: ReadonlyMap<string, HostTensor>,
    opts: TrainerOptions,
  ): Promise<Trainer> {
    const t = new Trainer(engine, compiled, opts);
    const initial = new Map<string, HostTensor>();
    for (const name of compiled.state) {
      const [kind, key] = name.includes(':')
        ? [name.slice(0, name.indexOf(':')), name.slice(name.indexOf(':') + 1)]
        : ['param', name];
      const p = params.get(key);
      if (!p) throw new Error(`no initial value for trainable parameter "${key}"`);
      initial.set(name, kind === 'param' || kind === 'ema' ? p : HostTensor.zeros('float32', p.shape));
    }
    await t.upload(initial);
    return t;
  }

  private async upload(values: ReadonlyMap<string, HostTensor>): Promise<void> {
    for (const name of this.compiled.state) {
      const v = values.get(name);
      if (!v) throw new Error(`checkpoint has no state tensor "${name}"`);
      this.state.set(name, await this.engine.upload(v));
    }
  }

  private scalars(): Record<string, HostTensor> {
    const spec = this.compiled.spec;
    const lr = this.opts.lr(this.step);
    const out: Record<string, HostTensor> = {};
    if (spec.optimizer.kind === 'adamw') {
      const s = adamWStepScalars(spec.optimizer.hyper, lr, this.step + 1);
      out[SCALARS.decay] = scalar(s.decay);
      out[SCALARS.stepSize] = scalar(s.stepSize);
      out[SCALARS.bc2Sqrt] = scalar(s.bc2Sqrt);
    } else {
      out[SCALARS.lr] = scalar(lr);
      out[SCALARS.first] = scalar(this.step === 0 ? 1 : 0);
    }
    if (spec.ema) {
      out[SCALARS.emaOneMinusDecay] = scalar(
        1 - emaDecay(this.opts.emaDecay ?? 0.9999, this.step, this.opts.emaWarmup ?? true),
      );
    }
    return out;
  }

  /** Runs `graph` with the resident state among its inputs; the `next:` outputs replace the state they update. */
  private async advance(graph: Graph, feeds: Readonly<Record<string, Feed>>): Promise<Record<string, HostTensor>> {
    const all: Record<string, Feed> = { ...feeds };
    const names = graph.inputs.map((i) => i.name);
    for (const [name, r] of this.state) if (names.includes(name)) all[name] = r;
    const updated = this.compiled.state.filter((n) => graph.outputs.some((o) => o.name === stateName.next(n)));
    const { host, resident } = await this.engine.runKeep(graph, all, updated.map(stateName.next));
    const old = updated.map((n) => this.state.get(n)!);
    for (const n of updated) this.state.set(n, resident[stateName.next(n)]);
    await this.engine.free(old);
    return host;
  }

  /**
   * One optimizer step: on one batch (`feeds` = the loss graph's data inputs), or with gradient accumulation on one
   * micro-batch per entry of an array of `accumulate` feeds.
   */
  async runStep(
    feeds: Readonly<Record<string, Feed>> | readonly Readonly<Record<string, Feed>>[],
  ): Promise<StepResult> {
    const lossName = this.compiled.spec.lossOutput ?? 'loss';
    const micro = Array.isArray(feeds) ? feeds : [feeds];
    const k = this.compiled.spec.accumulate ?? 1;
    if (micro.length !== k) throw new Error(`this train step accumulates ${k} micro-batches; got ${micro.length}`);
    let result: StepResult;
    if (!this.compiled.apply) {
      const host = await this.advance(this.compiled.graph, { ...micro[0], ...this.scalars() });
      result = { loss: (host[lossName].data as Float32Array)[0] };
      if (host.grad_norm) result.gradNorm = (host.grad_norm.data as Float32Array)[0];
    } else {
      let sum = 0;
      for (const m of micro) sum += ((await this.advance(this.compiled.graph, m))[lossName].data as Float32Array)[0];
      const host = await this.advance(this.compiled.apply, this.scalars());
      result = { loss: sum / k };
      if (host.grad_norm) result.gradNorm = (host.grad_norm.data as Float32Array)[0];
    }
    this.step++;
    return result;
  }

  /**
   * Runs a graph whose inputs may name state tensors (e.g. a loss graph with the trainable parameters as inputs, for
   * a validation loss): those are fed from the resident state; nothing is updated.
   */
  async evaluate(graph: Graph, feeds: Readonly<Record<string, Feed>>): Promise<Record<string, HostTensor>> {
    const all: Record<string, Feed> = { ...feeds };
    for (const i of graph.inputs) {
      const r = this.state.get(i.name);
      if (r && all[i.name] === undefined) all[i.name] = r;
    }
    return this.engine.run(graph, all);
  }

  /** All state tensors (parameters, moments, EMA) copied to the host. */
  async download(): Promise<Map<string, HostTensor>> {
    const out = new Map<string, HostTensor>();
    for (const [name, r] of this.state) out.set(name, await this.engine.download(r));
    return out;
  }

  /** The current value of one trainable parameter (or `ema:<key>`). */
  async get(name: string): Promise<HostTensor> {
    const r = this.state.get(name);
    if (!r) throw new Error(`no state tensor "${name}"`);
    return this.engine.download(r);
  }

  /** Writes `<path>.safetensors` (state) and `<path>.json` (step, optimizer, trainable list); atomic renames. */
  async save(path: string): Promise<void> {
    const spec = this.compiled.spec;
    await writeSafetensors(`${path}.safetensors`, await this.download(), { format: 'svd-ts-train-state' });
    const meta = {
      format: 'svd-ts-train-state',
      step: this.step,
      optimizer: spec.optimizer,
      ema: spec.ema ?? false,
      emaDecay: this.opts.emaDecay ?? 0.9999,
      clipGradNorm: spec.clipGradNorm ?? null,
      accumulate: spec.accumulate ?? 1,
      trainable: spec.trainable,
      state: this.compiled.state,
    };
    await writeFile(`${path}.json.tmp-${process.pid}`, `${JSON.stringify(meta, null, 2)}\n`);
    await rename(`${path}.json.tmp-${process.pid}`, `${path}.json`);
  }

  /** Resumes from `save(path)`: same state tensors, same step; the step graph must be built from the same spec. */
  static async resume(engine: Engine, compiled: TrainStepGraph, path: string, opts: TrainerOptions): Promise<Trainer> {
    const meta = JSON.parse(await readFile(`${path}.json`, 'utf8'));
    if (meta.format !== 'svd-ts-train-state') throw new Error(`${path}.json is not a train state`);
    const want = JSON.stringify(compiled.state);
    if (JSON.stringify(meta.state) !== want) throw new Error(`${path}: the saved state does not match this train step`);
    const file = await SafetensorsFile.open(`${path}.safetensors`);
    try {
      const t = new Trainer(engine, compiled, opts);
      await t.upload(await file.readAll());
      t.step = meta.step;
      return t;
    } finally {
      await file.close();
    }
  }

  async dispose(): Promise<void> {
    await this.engine.free([...this.state.values()]);
    this.state.clear();
  }
}
