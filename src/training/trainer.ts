/**
 * The training loop around a compiled train step: state (parameters, optimizer moments, EMA) stays resident in the
 * engine worker; each step runs the forward + backward graph on it (the gradients stay in the worker), then the
 * fused update kernel rewrites the state in place and the gradients are freed. Checkpoints save and restore
 * everything — state tensors, step counter, hyper-parameters — exactly.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { gradName } from '../graph/autodiff/index.ts';
import type { Graph } from '../graph/ir.ts';
import type { Engine, Feed, ResidentTensor } from '../runtime/engine.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import { SafetensorsFile, writeSafetensors } from '../weights/index.ts';
import { adamWStepScalars, emaDecay } from './optimizer.ts';
import type { LrSchedule } from './schedules.ts';
import { CLIP_OUTPUTS, type KernelPlan, SCALARS, type TrainStepGraph } from './train-step.ts';

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

  /** The update kernel's per-step scalars (fed as float32, as torch multiplies a float32 tensor by a Python float). */
  private scalars(clipCoef?: number): Record<string, number> {
    const spec = this.compiled.spec;
    const lr = this.opts.lr(this.step);
    const out: Record<string, number> = {};
    if (spec.optimizer.kind === 'adamw') {
      const s = adamWStepScalars(spec.optimizer.hyper, lr, this.step + 1);
      out[SCALARS.decay] = s.decay;
      out[SCALARS.stepSize] = s.stepSize;
      out[SCALARS.bc2Sqrt] = s.bc2Sqrt;
    } else {
      out[SCALARS.lr] = lr;
      out[SCALARS.first] = this.step === 0 ? 1 : 0;
    }
    if (spec.ema) {
      out[SCALARS.emaOneMinusDecay] =
        1 - emaDecay(this.opts.emaDecay ?? 0.9999, this.step, this.opts.emaWarmup ?? true);
    }
    if (clipCoef !== undefined) out[SCALARS.clipCoef] = clipCoef;
    return out;
  }

  /** Feeds of `graph`: `feeds` plus the resident state tensors among its inputs. */
  private withState(graph: Graph, feeds: Readonly<Record<string, Feed>>): Record<string, Feed> {
    const all: Record<string, Feed> = { ...feeds };
    for (const i of graph.inputs) {
      const r = this.state.get(i.name);
      if (r && all[i.name] === undefined) all[i.name] = r;
    }
    return all;
  }

  /** Runs the forward + backward graph; the gradients stay in the worker. */
  private async gradients(
    feeds: Readonly<Record<string, Feed>>,
  ): Promise<{ host: Record<string, HostTensor>; grads: Record<string, ResidentTensor> }> {
    const { graph, spec } = this.compiled;
    const { host, resident } = await this.engine.runKeep(
      graph,
      this.withState(graph, feeds),
      spec.trainable.map(gradName),
    );
    return { host, grads: resident };
  }

  /** Runs a fused kernel over its groups: state tensors by name, gradients from `grads`. */
  private async kernel(
    plan: KernelPlan,
    grads: Readonly<Record<string, ResidentTensor>>,
    scalars: Readonly<Record<string, number>> = {},
  ): Promise<void> {
    const tensor = (name: string) => {
      const t = this.state.get(name) ?? grads[name];
      if (!t) throw new Error(`no tensor "${name}" for kernel "${plan.kernel.name}"`);
      return t;
    };
    await this.engine.runKernel(
      plan.kernel,
      plan.groups.map((g) => g.map(tensor)),
      scalars,
    );
  }

  /**
   * One optimizer step: on one batch (`feeds` = the loss graph's data inputs), or with gradient accumulation on one
   * micro-batch per entry of an array of `accumulate` feeds.
   */
  async runStep(
    feeds: Readonly<Record<string, Feed>> | readonly Readonly<Record<string, Feed>>[],
  ): Promise<StepResult> {
    const { spec, update, accumulate, norm } = this.compiled;
    const lossName = spec.lossOutput ?? 'loss';
    const micro = Array.isArray(feeds) ? feeds : [feeds];
    const k = spec.accumulate ?? 1;
    if (micro.length !== k) throw new Error(`this train step accumulates ${k} micro-batches; got ${micro.length}`);
    const first = (t: HostTensor) => (t.data as Float32Array)[0];
    let result: StepResult;
    if (!accumulate) {
      const { host, grads } = await this.gradients(micro[0]);
      try {
        const clip = host[CLIP_OUTPUTS.coef];
        await this.kernel(update, grads, this.scalars(clip ? first(clip) : undefined));
      } finally {
        await this.engine.free(Object.values(grads));
      }
      result = { loss: first(host[lossName]) };
      if (host[CLIP_OUTPUTS.norm]) result.gradNorm = first(host[CLIP_OUTPUTS.norm]);
    } else {
      let sum = 0;
      for (const m of micro) {
        const { host, grads } = await this.gradients(m);
        try {
          await this.kernel(accumulate, grads);
        } finally {
          await this.engine.free(Object.values(grads));
        }
        sum += first(host[lossName]);
      }
      result = { loss: sum / k };
      let clipCoef: number | undefined;
      if (norm) {
        const host = await this.engine.run(norm, this.withState(norm, {}));
        clipCoef = first(host[CLIP_OUTPUTS.coef]);
        result.gradNorm = first(host[CLIP_OUTPUTS.norm]);
      }
      await this.kernel(update, {}, this.scalars(clipCoef));
    }
    this.step++;
    return result;
  }

  /**
   * Runs a graph whose inputs may name state tensors (e.g. a loss graph with the trainable parameters as inputs, for
   * a validation loss): those are fed from the resident state; nothing is updated.
   */
  async evaluate(graph: Graph, feeds: Readonly<Record<string, Feed>>): Promise<Record<string, HostTensor>> {
    return this.engine.run(graph, this.withState(graph, feeds));
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
    const tmp = `${path}.json.tmp-${process.pid}`;
    try {
      await writeFile(tmp, `${JSON.stringify(meta, null, 2)}\n`);
      await rename(tmp, `${path}.json`);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      throw e;
    }
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
