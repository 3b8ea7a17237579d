/**
 * A training run, top-down: config → model and starting weights → the stage's loss graph and compiled train step
 * (forward + backward + AdamW, clipping, EMA, accumulation, recomputation: src/training/train-step.ts) → the loop
 * (samples → feeds → step → log) with validation, checkpoints and retention → the exported weights. Progress is a
 * stream of `TrainEvent`s; an AbortSignal stops between steps with a checkpoint. Resuming from the run folder
 * continues exactly where the last checkpoint left off: every random draw is keyed by step or sample index, the data
 * order by its saved position, and the trainer state is restored bit for bit.
 */
import type { Graph } from '../../graph/ir.ts';
import { declareModelParams, inferenceIgnoreGroups } from '../../models/declare-params.ts';
import type { SvdModel } from '../../models/description.ts';
import { freshCheckpoint } from '../../models/fresh-weights.ts';
import { withLatentChannels } from '../../models/latent-channels.ts';
import { loadWeightsInto, openModelWeights } from '../../models/load-weights.ts';
import { getPreset } from '../../models/presets.ts';
import { loadModelConfig } from '../../models/reference/model-config.ts';
import type { Params } from '../../nn/params.ts';
import { Engine } from '../../runtime/engine.ts';
import { memoryFigures } from '../../runtime/process-memory.ts';
import { HostTensor } from '../../tensor/host-tensor.ts';
import { rgbToTensor } from '../../video/image-io.ts';
import { preprocessImage } from '../../video/preprocess.ts';
import { ignoreMatcher } from '../../weights/checkpoint-check.ts';
import { type CheckpointSource, writeSafetensors } from '../../weights/index.ts';
import { selectParams } from '../freeze.ts';
import { constantLr, cosineLr, type LrSchedule, warmupLr } from '../schedules.ts';
import { isImageToVideo, type TrainConfig } from '../stages/config.ts';
import { encoderDigest } from '../stages/encoder-digest.ts';
import { autoencoderLossGraph, stageLossGraph } from '../stages/graphs.ts';
import {
  initDecoderTimeMixAsIdentity,
  initTemporalLayers,
  scaleEncoderColourInit,
  setLogvarBias,
} from '../stages/init.ts';
import { StepBatcher, type TrainSample } from '../stages/step-batch.ts';
import { buildTrainStep } from '../train-step.ts';
import { Trainer } from '../trainer.ts';
import { type LossPoint, writeLossCurve } from './loss-plot.ts';
import { type CheckpointRecord, RunFolder } from './run-folder.ts';

/** Where samples come from: the next one in the run's order (or a skip), and the order's position. */
export interface SampleProvider {
  next(): Promise<{ sample: TrainSample } | { skipped: { id: string; reason: string } }>;
  /** JSON-serialisable; `open(config, position)` continues from it. */
  position(): unknown;
  /** Writes what is buffered (the latent cache) — awaited before each checkpoint. */
  flush?(): Promise<void>;
  /** Stops prefetching and writes what is buffered. */
  close?(): Promise<void>;
}

/** What the run offers a provider: the stage's VAE encoder (frames → posterior moments), for the latent cache. */
export interface SampleContext {
  encode(frames: HostTensor<'float32'>): Promise<{ mean: HostTensor<'float32'>; logvar: HostTensor<'float32'> }>;
  /** A digest of the encoder's weights (see encoder-digest.ts): the latent cache keeps one folder per encoder. */
  encoderId?: string;
}

export type SampleProviderFactory = (
  config: TrainConfig,
  position?: unknown,
  context?: SampleContext,
) => Promise<SampleProvider>;

/** LoRA hooks (src/models/lora): wrap the UNet's Params, name and initialise the LoRA tensors, save them. */
export interface LoraHooks {
  wrap(p: Params): Params;
  names(): string[];
  init(seed: number): Map<string, HostTensor>;
  save(path: string, values: ReadonlyMap<string, HostTensor>): Promise<void>;
  /** `base` with the LoRA factors `values` merged into the weights they adapt. */
  merged(base: CheckpointSource, values: ReadonlyMap<string, HostTensor>): CheckpointSource;
}

/** What a validation-video hook gets: the weights as trained so far, and the fixed conditioning image. */
export interface ValidationVideoRequest {
  step: number;
  model: SvdModel;
  config: TrainConfig;
  weights: CheckpointSource;
  /** [1, 3, H, W] in [−1, 1]: `validation.image`, or the first frame of the first held-out sample. */
  image: HostTensor;
  /** The folder to write into (`<run>/val`). */
  dir: string;
}

export type TrainEvent =
  | { type: 'stage'; stage: 'loading' | 'compiling' | 'training' | 'exporting' }
  | {
      type: 'step';
      step: number;
      steps: number;
      loss: number;
      lr: number;
      gradNorm?: number;
      samplesPerSecond: number;
    }
  | { type: 'skipped'; id: string; reason: string }
  | { type: 'validation'; step: number; loss: number; videos?: string[] }
  | { type: 'checkpoint'; step: number; path: string }
  | { type: 'notice'; message: string };

export interface TrainRunOptions {
  run: string;
  /** Continue the run in `run` from its last checkpoint (its config.json is used). */
  resume?: boolean;
  samples: SampleProviderFactory;
  lora?: (model: SvdModel, config: TrainConfig) => LoraHooks;
  onEvent?: (e: TrainEvent) => void;
  signal?: AbortSignal;
  /** Stop after this many steps of this invocation (tests of resume; the run stays resumable). */
  stopAfter?: number;
  /** Image-to-video stages: videos from fixed seeds with the current weights at each validation; returns the files. */
  validationVideos?: (request: ValidationVideoRequest) => Promise<string[]>;
}

export interface TrainRunResult {
  step: number;
  /** The exported weights (sgm single file, or the LoRA file), when the run finished. */
  exported?: string;
  lastLoss: number;
  validationLoss?: number;
}

/** Held-out micro-batches averaged for the validation loss. */
const VALIDATION_BATCHES = 4;

/** The run's model: a preset or a reference-structure config (with `model.latentChannels`, if given). */
export function trainModel(config: TrainConfig): SvdModel {
  const model = config.model.config ? loadModelConfig(config.model.config) : getPreset(config.model.preset ?? 'svd');
  const n = config.model.latentChannels;
  return n === undefined ? model : withLatentChannels(model, n);
}

function lrSchedule(c: TrainConfig): LrSchedule {
  if (c.schedule === 'cosine') return cosineLr(c.lr, c.steps, c.warmupSteps);
  return c.warmupSteps > 0 ? warmupLr(c.lr, c.warmupSteps) : constantLr(c.lr);
}

/** The loss graph with the trainable parameters as inputs (what the Trainer feeds from its state). */
function withTrainableInputs(graph: Graph, trainable: ReadonlySet<string>): Graph {
  return { ...graph, inputs: graph.inputs.map((i) => (trainable.has(i.name) ? { ...i, kind: 'input' as const } : i)) };
}

export async function runTraining(
  configIn: TrainConfig | undefined,
  options: TrainRunOptions,
): Promise<TrainRunResult> {
  const emit = options.onEvent ?? (() => {});
  let run: RunFolder;
  let config: TrainConfig;
  if (options.resume) {
    const opened = await RunFolder.open(options.run);
    run = opened.run;
    config = opened.config as TrainConfig;
  } else {
    if (!configIn) throw new Error('runTraining: a config is needed for a new run');
    config = configIn;
    run = await RunFolder.create(options.run, config);
  }
  const latest = options.resume ? await run.latest() : undefined;

  emit({ type: 'stage', stage: 'loading' });
  const model = trainModel(config);
  const tree = declareModelParams(model);
  let source: CheckpointSource;
  if (config.model.init) {
    const weights = await openModelWeights(config.model.init, model, {
      onNotice: (m) => emit({ type: 'notice', message: m }),
    });
    if (weights.tiedEncoder) {
      emit({
        type: 'notice',
        message:
          `${config.model.init} has no first-stage encoder (pruned for generation): ` +
          "the conditioning autoencoder's encoder stands in, as the same VAE encoder",
      });
    }
    source = weights.source;
  } else {
    const logvar = config.model.logvarInit;
    emit({
      type: 'notice',
      message:
        `no model.init: fresh weights (PyTorch's default initialisers, seed ${config.seed})` +
        (logvar === undefined ? '' : `; the encoder's log-variance bias starts at ${logvar}`) +
        (config.model.colourInitGain === undefined
          ? ''
          : `; the encoder's colour response starts ×${config.model.colourInitGain}`),
    });
    source = freshCheckpoint(model, config.seed, (w) => {
      if (logvar !== undefined) setLogvarBias(w, model, logvar);
      if (config.model.colourInitGain !== undefined) scaleEncoderColourInit(w, config.model.colourInitGain);
      if (initDecoderTimeMixAsIdentity(w))
        emit({ type: 'notice', message: "the video decoder's output time_mix_conv starts as the identity" });
    });
  }
  const engine = await Engine.create({ threads: config.threads });
  try {
    return await train(run, config, model, tree, source, engine, latest, options);
  } finally {
    await source.close();
    await engine.dispose();
  }
}

async function train(
  run: RunFolder,
  config: TrainConfig,
  model: SvdModel,
  tree: ReturnType<typeof declareModelParams>,
  source: CheckpointSource,
  engine: Engine,
  latest: CheckpointRecord | undefined,
  options: TrainRunOptions,
): Promise<TrainRunResult> {
  const emit = options.onEvent ?? (() => {});
  const { data } = config;
  const shape = { videos: config.batch, frames: data.frames, h: data.height / 8, w: data.width / 8 };

  emit({ type: 'stage', stage: 'compiling' });
  const lora = config.stage === 'lora' ? options.lora?.(model, config) : undefined;
  if (config.stage === 'lora' && !lora) throw new Error('the lora stage needs LoRA support (options.lora)');
  const loss =
    config.stage === 'autoencoder'
      ? autoencoderLossGraph(
          model,
          { videos: config.batch, frames: data.frames, height: data.height, width: data.width },
          config.klWeight,
          config.reconstructionLoss,
        )
      : stageLossGraph(model, shape, { recompute: config.recompute, wrap: lora?.wrap });
  const graphWeights = loss.graph.inputs.filter((i) => i.kind === 'weight').map((i) => i.name);
  let trainable: string[];
  if (lora) {
    // Adapters on weights the graph never reads (cross-attention to one context token skips to_q and to_k) would get
    // no gradient: they are left out, with a notice.
    trainable = lora.names().filter((k) => graphWeights.includes(k));
    const unused = lora.names().length - trainable.length;
    if (unused > 0) {
      emit({
        type: 'notice',
        message: `${unused / 2} LoRA adapters target weights the network never reads (attention to one context token); they are not trained`,
      });
    }
  } else trainable = selectParams(graphWeights, config.trainable, config.frozen);
  if (trainable.length === 0) throw new Error('no trainable parameters: check "trainable" and "frozen"');
  const compiled = buildTrainStep({
    lossGraph: loss.graph,
    trainable,
    optimizer: {
      kind: 'adamw',
      hyper: { lr: config.lr, beta1: config.beta1, beta2: config.beta2, eps: 1e-8, weightDecay: config.weightDecay },
    },
    clipGradNorm: config.clipGradNorm > 0 ? config.clipGradNorm : undefined,
    ema: config.ema > 0,
    accumulate: config.accumulate,
    recompute: loss.recompute,
  });
  const trainableSet = new Set(trainable);
  const frozen = graphWeights.filter((k) => !trainableSet.has(k));
  await loadWeightsInto(engine, source, frozen);
  const weightsOf = (g: Graph) => g.inputs.filter((i) => i.kind === 'weight').map((i) => i.name);
  const batcher = new StepBatcher(engine, model, config, (g) => loadWeightsInto(engine, source, weightsOf(g)));
  const trainerOpts = { lr: lrSchedule(config), emaDecay: config.ema > 0 ? config.ema : undefined };

  // Starting values: the init checkpoint (Stage II: temporal layers fresh, equal to the image model) or a resume.
  let trainer: Trainer;
  if (latest) {
    trainer = await Trainer.resume(engine, compiled, run.path(latest.state), trainerOpts);
    await run.truncateLog(latest.step);
  } else {
    let initial: Map<string, HostTensor>;
    if (lora) initial = lora.init(config.seed);
    else {
      initial = new Map();
      const fresh =
        config.stage === 'video'
          ? initTemporalLayers(tree, { seed: config.seed, mergeFactor: model.unet.mergeFactor })
          : new Map();
      for (const k of trainable) initial.set(k, fresh.get(k) ?? (await source.read(k)));
      for (const [k, v] of fresh)
        if (!trainableSet.has(k) && graphWeights.includes(k)) await engine.setWeights({ [k]: v });
    }
    trainer = await Trainer.create(engine, compiled, initial, trainerOpts);
  }
  const context: SampleContext = {
    encode: (frames) => batcher.encode(frames),
    encoderId: data.latentCache ? await encoderDigest(model, source, data) : undefined,
  };
  const provider = await options.samples(config, latest?.data, context);
  let samplesConsumed = latest?.samplesConsumed ?? 0;

  const nextSample = async (): Promise<TrainSample> => {
    for (let attempts = 0; attempts < 1000; attempts++) {
      options.signal?.throwIfAborted();
      const r = await provider.next();
      samplesConsumed++;
      if ('sample' in r) return r.sample;
      emit({ type: 'skipped', ...r.skipped });
      await run.appendLog({ skipped: r.skipped.id, reason: r.skipped.reason, step: trainer.step });
    }
    throw new Error('1000 samples in a row could not be read: check the data');
  };

  // Validation: the mean loss over VALIDATION_BATCHES fixed held-out micro-batches (the first samples of a second
  // order), with fixed draws, so that successive values differ only by what training changed.
  const validationProvider = await options.samples({ ...config, seed: config.seed + 1 }, undefined, context);
  const validationFeeds: Record<string, HostTensor>[] = [];
  let validationImage: HostTensor | undefined;
  for (let m = 0; m < VALIDATION_BATCHES; m++) {
    const samples: TrainSample[] = [];
    for (let tries = 0; samples.length < config.batch && tries < 1000; tries++) {
      const r = await validationProvider.next();
      if ('sample' in r) samples.push(r.sample);
    }
    if (samples.length < config.batch) throw new Error('no readable samples for the validation batch');
    validationImage ??= firstFrameOf(samples[0].frames);
    validationFeeds.push(await batcher.feeds(samples, -1, m, 2 ** 40 + m * config.batch));
  }
  if (config.validation.image) {
    const pre = await preprocessImage(config.validation.image, {
      target: { width: data.width, height: data.height },
      multiple: 8,
      trainedSize: { width: data.width, height: data.height },
    });
    validationImage = rgbToTensor(pre.image);
  }
  await validationProvider.close?.();
  const validationGraph = withTrainableInputs(loss.graph, trainableSet);
  const validationVideos = async (step: number): Promise<string[] | undefined> => {
    if (!options.validationVideos || !isImageToVideo(config.stage)) return undefined;
    const state = await trainer.download();
    const values = new Map<string, HostTensor>();
    for (const k of trainable) values.set(k, state.get(config.ema > 0 ? `ema:${k}` : k) ?? state.get(k)!);
    const weights = lora ? lora.merged(source, values) : overlaySource(source, values);
    const image = validationImage!;
    return options.validationVideos({ step, model, config, weights, image, dir: run.path('val') });
  };
  const validate = async () => {
    let sum = 0;
    for (const feeds of validationFeeds)
      sum += ((await trainer.evaluate(validationGraph, feeds)).loss.data as Float32Array)[0];
    return sum / validationFeeds.length;
  };

  const points: LossPoint[] = (await run.readLog()).flatMap((r): LossPoint[] => {
    if (typeof r.step !== 'number') return [];
    if (typeof r.loss === 'number') return [{ step: r.step, loss: r.loss, series: 'train' }];
    if (typeof r.validationLoss === 'number') return [{ step: r.step, loss: r.validationLoss, series: 'validation' }];
    return [];
  });
  const checkpoint = async () => {
    await provider.flush?.();
    const state = run.stateName(trainer.step);
    try {
      await run.guard(run.path(state), () => trainer.save(run.path(state)));
      await run.setLatest({
        step: trainer.step,
        state,
        data: provider.position(),
        samplesConsumed,
        time: new Date().toISOString(),
      });
    } catch (e) {
      await run.discard(state); // a full disk or an unwritable folder: no half-written checkpoint stays behind
      throw e;
    }
    await run.guard(run.path('ckpt'), () => run.retain(config.checkpoint.keep));
    emit({ type: 'checkpoint', step: trainer.step, path: run.path(state) });
  };

  try {
    emit({ type: 'stage', stage: 'training' });
    let lastLoss = Number.NaN;
    let validationLoss: number | undefined;
    if (trainer.step === 0) {
      validationLoss = await validate(); // the baseline the run improves on
      const videos = await validationVideos(0);
      await run.appendLog({ step: 0, validationLoss, ...(videos ? { videos } : {}) });
      points.push({ step: 0, loss: validationLoss, series: 'validation' });
      emit({ type: 'validation', step: 0, loss: validationLoss, videos });
    }
    const startStep = trainer.step;
    let interrupted = false;
    while (trainer.step < config.steps) {
      if (
        options.signal?.aborted ||
        (options.stopAfter !== undefined && trainer.step - startStep >= options.stopAfter)
      ) {
        interrupted = true;
        break;
      }
      const t0 = performance.now();
      const step = trainer.step;
      const micro: Record<string, HostTensor>[] = [];
      for (let m = 0; m < config.accumulate; m++) {
        const first = samplesConsumed;
        const samples: TrainSample[] = [];
        while (samples.length < config.batch) samples.push(await nextSample());
        micro.push(await batcher.feeds(samples, step, m, first));
        for (const g of batcher.graphs()) {
          await loadWeightsInto(
            engine,
            source,
            g.inputs.filter((i) => i.kind === 'weight').map((i) => i.name),
          );
        }
      }
      const result = await trainer.runStep(config.accumulate === 1 ? micro[0] : micro);
      lastLoss = result.loss;
      const seconds = (performance.now() - t0) / 1000;
      const samplesPerSecond = (config.batch * config.accumulate) / seconds;
      const lr = trainerOpts.lr(step);
      const mem = memoryFigures();
      await run.appendLog({
        step: trainer.step,
        loss: result.loss,
        lr,
        gradNorm: result.gradNorm,
        samplesPerSecond,
        rss: mem.rss,
        vmHWM: mem.vmHWM,
      });
      points.push({ step: trainer.step, loss: result.loss, series: 'train' });
      emit({
        type: 'step',
        step: trainer.step,
        steps: config.steps,
        loss: result.loss,
        lr,
        gradNorm: result.gradNorm,
        samplesPerSecond,
      });
      const last = trainer.step === config.steps;
      if (trainer.step % config.validation.every === 0 || last) {
        validationLoss = await validate();
        const videos = await validationVideos(trainer.step);
        await run.appendLog({ step: trainer.step, validationLoss, ...(videos ? { videos } : {}) });
        points.push({ step: trainer.step, loss: validationLoss, series: 'validation' });
        emit({ type: 'validation', step: trainer.step, loss: validationLoss, videos });
        await run.writeVia('loss.png', (tmp) => writeLossCurve(tmp, points, `${config.stage} stage: loss`));
      }
      if (trainer.step % config.checkpoint.every === 0 || last) await checkpoint();
    }
    const latestNow = await run.latest();
    if (interrupted) {
      if (latestNow?.step !== trainer.step) await checkpoint();
      await run.writeVia('loss.png', (tmp) => writeLossCurve(tmp, points, `${config.stage} stage: loss`));
      await trainer.dispose();
      options.signal?.throwIfAborted();
      return { step: trainer.step, lastLoss, validationLoss };
    }

    emit({ type: 'stage', stage: 'exporting' });
    const exported = await exportWeights(run, config, model, trainer, source, tree, lora);
    await trainer.dispose();
    return { step: trainer.step, exported, lastLoss, validationLoss };
  } finally {
    await provider.close?.();
  }
}

/** The first frame [1, 3, H, W] of frames [T, 3, H, W]. */
function firstFrameOf(frames: HostTensor): HostTensor {
  const [, c, h, w] = frames.shape;
  return new HostTensor('float32', [1, c, h, w], (frames.data as Float32Array).slice(0, c * h * w));
}

/** `base` with some tensors replaced (the weights trained so far). Closing it does not close `base`. */
export function overlaySource(base: CheckpointSource, values: ReadonlyMap<string, HostTensor>): CheckpointSource {
  return {
    path: `${base.path} (+ ${values.size} trained tensors)`,
    layout: base.layout,
    metadata: base.metadata,
    entries: () => base.entries(),
    read: async (key) => values.get(key) ?? base.read(key),
    readStored: async (key) => values.get(key) ?? base.readStored(key),
    close: async () => {},
  };
}

/**
 * The trained weights (EMA where kept): the whole model as an sgm file, or the LoRA tensors alone. Tensors the init
 * checkpoint leaves out because generation never reads them (`inferenceIgnoreGroups`: e.g. the conditioning
 * autoencoder's decoder, which the shipped svd-mini file drops) stay out; any other missing tensor is an error.
 */
async function exportWeights(
  run: RunFolder,
  config: TrainConfig,
  model: SvdModel,
  trainer: Trainer,
  source: CheckpointSource,
  tree: ReturnType<typeof declareModelParams>,
  lora: LoraHooks | undefined,
): Promise<string> {
  const state = await trainer.download();
  const value = (k: string) => state.get(config.ema > 0 ? `ema:${k}` : k) ?? state.get(k);
  if (lora) {
    const trained = new Set(trainer.compiled.spec.trainable);
    const values = new Map(
      lora
        .names()
        .filter((k) => trained.has(k))
        .map((k) => [k, value(k)!]),
    );
    await run.writeVia('lora.safetensors', (tmp) => lora.save(tmp, values));
    return run.path('lora.safetensors');
  }
  const all: Record<string, HostTensor> = {};
  const stored = source.entries();
  const unread = inferenceIgnoreGroups(model).flatMap((g) => g.patterns.map(ignoreMatcher));
  for (const k of tree.shapes.keys()) {
    const trained = value(k);
    if (trained) all[k] = trained;
    else if (stored.has(k) || !unread.some((m) => m(k))) all[k] = await source.read(k);
  }
  await run.writeVia('model.safetensors', (tmp) =>
    writeSafetensors(tmp, all, {
      format: 'pt',
      trained_by: 'svd-ts',
      stage: config.stage,
      steps: String(trainer.step),
    }),
  );
  return run.path('model.safetensors');
}
