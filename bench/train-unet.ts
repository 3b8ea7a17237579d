/**
 * `npm run bench -- train-unet`: one training step (forward + backward + AdamW over every UNet parameter) of the SVD
 * VideoUNet with the stage loss (sgm StandardDiffusionLoss: VScalingWithEDMcNoise, VWeighting, L2), ours against the
 * reference's own network in PyTorch 1.13, in the same run:
 *   ours:    stageLossGraph (src/training/stages/graphs.ts) → buildTrainStep → Trainer.runStep;
 *   PyTorch: sgm VideoUNet + OpenAIWrapper + Denoiser + StandardDiffusionLoss + torch.optim.AdamW
 *            (bench/torch_train_unet.py, imported from the Stability-AI/generative-models checkout named by
 *            SVD_REFERENCE_REPO; Debian python3-torch, `bash scripts/setup-bench.sh`).
 * Cases: (a) the golden tiny UNet (pipeline-tiny config and checkpoint) at the train-tiny golden's shape, 2 videos ×
 * 3 frames, 8×8 latents; (b) a mid-size UNet (MID_NETWORK below, random weights written to a temporary safetensors file
 * that both sides load), 2 videos × 8 frames, 32×32 latents. Both sides get the same weights and inputs and their
 * first-step losses must agree to 1e-4 (relative) before anything is timed.
 *
 * Timing: 2 warm-up steps each, then `--blocks` blocks (default 5) of `--per-block` calls per side (default: tiny 4,
 * mid 1), alternating which side goes first, so that load drift on a shared machine hits both alike; the figures are
 * the medians over all timed calls, and the spread after a ratio is the range of the per-block ratios. The same blocks
 * time three phases, to show where the step's time goes: the loss alone, forward + backward, and the AdamW update
 * alone (ours: the fused update kernel of src/training/update-kernel.ts over resident state). `--profile` adds ORT's
 * per-operator profile of our step graph (forward + backward) and of the loss graph (`--profile-runs`, default 2).
 * CPU time per step (all threads of each process) is printed too: PyTorch's OpenMP threads spin while they wait
 * (unless OMP_WAIT_POLICY=PASSIVE, which the bench now sets: bench/torch-process.ts), so on a loaded machine its wall
 * time swings far more than its CPU time. VmHWM is our process's peak during the case (reset at its start where Linux
 * allows, read right after the step timing); PyTorch's maxrss is per case (one Python process each). Without
 * SVD_REFERENCE_REPO or torch, only our figures are printed. BENCH_FILTER=tiny|mid limits the cases.
 *
 * The reference is read at run time, never committed: any checkout of the repository works, e.g. only its sgm folder
 * at the SVD release commit (`git --git-dir=<clone>/.git archive 059d8e9 sgm | tar x -C /tmp/generative-models`, then
 * SVD_REFERENCE_REPO=/tmp/generative-models). Memory: the mid case needs ~8 GiB here and ~5 GiB in PyTorch.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { gradName, valueAndGrad } from '../src/graph/autodiff/index.ts';
import type { Graph } from '../src/graph/ir.ts';
import { modelFromReferenceConfig } from '../src/models/reference/model-config.ts';
import { Engine, type ResidentTensor } from '../src/runtime/engine.ts';
import { gib, memoryFigures } from '../src/runtime/process-memory.ts';
import { HostTensor } from '../src/tensor/host-tensor.ts';
import { Rng } from '../src/tensor/rng.ts';
import { type AdamWHyper, adamWStepScalars } from '../src/training/optimizer.ts';
import { constantLr } from '../src/training/schedules.ts';
import { stageLossGraph } from '../src/training/stages/graphs.ts';
import { buildTrainStep } from '../src/training/train-step.ts';
import { Trainer } from '../src/training/trainer.ts';
import { SCALARS, updateKernel } from '../src/training/update-kernel.ts';
import { SafetensorsFile, writeSafetensors } from '../src/weights/index.ts';
import { randomCheckpoint } from '../src/weights/random-source.ts';
import { recordFigure, recordNote, resetPeak } from './report.ts';
import { fmtMs, machineLine, QUICK } from './stats.ts';
import { TorchProcess, torchEnv, torchUnavailable } from './torch-process.ts';

const PREFIX = 'model.diffusion_model.';
const GOLDEN = fileURLToPath(new URL('../test/fixtures/golden/pipeline-tiny/', import.meta.url));
const HYPER: AdamWHyper = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2 };
const LOSS_RTOL = 1e-4;

/** The mid-size case: the tiny config's flags with these dimensions (15.2 M parameters). */
const MID_NETWORK = {
  model_channels: 64,
  channel_mult: [1, 2, 2],
  attention_resolutions: [2, 1],
  num_res_blocks: 2,
  num_head_channels: 32,
  context_dim: 64,
  adm_in_channels: 96,
};

interface CaseSpec {
  key: string;
  label: string;
  network: Record<string, unknown>;
  videos: number;
  frames: number;
  latent: number;
  /** The tiny case's weights come from the golden checkpoint; the mid-size ones are drawn. */
  checkpoint?: string;
  /** Calls per side in one timed block (unless --per-block). */
  perBlock: number;
}

function argNum(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

// ------------------------------------------------------------------------------------------------ the PyTorch side

/** The reference process (bench/torch_train_unet.py): one JSON request per line on stdin, one reply per line on stdout. */
const startReference = (threads: number, repo: string) =>
  TorchProcess.start('torch_train_unet.py', [String(threads)], torchEnv({ SVD_REFERENCE_REPO: repo }));

// ---------------------------------------------------------------------------------------------------- the cases

function networkParams(spec: CaseSpec): Record<string, unknown> {
  const json = JSON.parse(readFileSync(join(GOLDEN, 'config.json'), 'utf8'));
  return { ...json.engine_config.params.network_config.params, ...spec.network };
}

function modelFor(spec: CaseSpec) {
  const json = JSON.parse(readFileSync(join(GOLDEN, 'config.json'), 'utf8'));
  json.engine_config.params.network_config.params = networkParams(spec);
  return modelFromReferenceConfig(json, spec.key);
}

/** The loss graph's data inputs: sigma drawn as in SVD's EDMSampling (log σ ~ N(1.0, 1.6²)), per frame. */
function drawInputs(spec: CaseSpec, model: ReturnType<typeof modelFor>, rng: Rng): Record<string, HostTensor> {
  const n = spec.videos * spec.frames;
  const u = model.unet;
  const hw = [spec.latent, spec.latent];
  const sigma = rng.randn('sigma', [n]);
  for (let i = 0; i < n; i++) sigma.data[i] = Math.exp(1.0 + 1.6 * sigma.data[i]);
  return {
    x0: rng.randn('x0', [n, u.outChannels, ...hw]),
    sigma,
    noise: rng.randn('noise', [n, u.outChannels, ...hw]),
    context: rng.randn('context', [n, 1, u.contextDim]),
    y: rng.randn('y', [n, u.admInChannels!]),
    concat: rng.randn('concat', [n, u.inChannels - u.outChannels, ...hw]),
    image_only_indicator: HostTensor.zeros('float32', [spec.videos, spec.frames]),
  };
}

interface Blocks {
  ours: number[];
  torch: number[];
  /** CPU time per call (all threads of the process). */
  oursCpu: number[];
  torchCpu: number[];
  ratios: number[];
}

const emptyBlocks = (): Blocks => ({ ours: [], torch: [], oursCpu: [], torchCpu: [], ratios: [] });
type TorchTimes = { ms: number[]; cpu: number[] };
type Phase = 'forward' | 'fwdbwd' | 'update';

/** Alternating blocks: `perBlock` calls of ours, then the reference's (the order flips each block). */
async function timeBlocks(
  ours: () => Promise<unknown>,
  torch: ((n: number) => Promise<TorchTimes>) | undefined,
  blocks: number,
  perBlock: number,
): Promise<Blocks> {
  const out = emptyBlocks();
  for (let b = 0; b < blocks; b++) {
    const mine: number[] = [];
    let theirs: TorchTimes = { ms: [], cpu: [] };
    const runOurs = async () => {
      for (let i = 0; i < perBlock; i++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await ours();
        mine.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        out.oursCpu.push((c.user + c.system) / 1000);
      }
    };
    if (torch && b % 2 === 1) theirs = await torch(perBlock);
    await runOurs();
    if (torch && b % 2 === 0) theirs = await torch(perBlock);
    out.ours.push(...mine);
    out.torch.push(...theirs.ms);
    out.torchCpu.push(...theirs.cpu);
    if (theirs.ms.length > 0) out.ratios.push(median(mine) / median(theirs.ms));
  }
  return out;
}

interface CaseResult {
  spec: CaseSpec;
  params: number;
  step: Blocks;
  forward: Blocks;
  fwdbwd: Blocks;
  update: Blocks;
  vmHWM?: number;
  maxrss?: number;
  lossCheck?: string;
  profile?: string[];
  /** Parameters the loss graph does not read (zero gradient). */
  unread?: string[];
}

/** ORT's per-operator profile of a graph (our engine's session options), summed per op type over `runs` runs. */
async function profileGraph(
  engine: Engine,
  graph: Graph,
  feeds: Record<string, HostTensor>,
  threads: number,
  runs: number,
): Promise<Map<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'svd-ort-profile-'));
  try {
    const session = await ort.InferenceSession.create(engine.lower(graph).bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      enableProfiling: true,
      profileFilePrefix: join(dir, 'p'),
      logSeverityLevel: 3,
    });
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const inp of graph.inputs) {
      const t = feeds[inp.name];
      if (!t) throw new Error(`profile: no feed for "${inp.name}"`);
      ortFeeds[inp.name] = new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, [...t.shape]);
    }
    for (let i = 0; i <= runs; i++) await session.run(ortFeeds);
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('ORT wrote no profile');
    type Ev = { cat: string; name: string; ts: number; dur: number; args?: { op_name?: string } };
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Ev[];
    const windows = events
      .filter((e) => e.name === 'model_run')
      .sort((a, b) => a.ts - b.ts)
      .slice(1); // the first run is the warm-up
    const byOp = new Map<string, number>();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args?.op_name) continue;
      if (!windows.some((w) => e.ts >= w.ts && e.ts <= w.ts + w.dur)) continue;
      byOp.set(e.args.op_name, (byOp.get(e.args.op_name) ?? 0) + e.dur / 1000 / windows.length);
    }
    return byOp;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The AdamW update of `trainable` alone, as the Trainer runs it (src/training/update-kernel.ts), on resident state. */
async function adamWOnly(engine: Engine, trainable: readonly string[], weights: ReadonlyMap<string, HostTensor>) {
  const { kernel } = updateKernel({
    optimizer: { kind: 'adamw', hyper: HYPER },
    clip: false,
    ema: false,
    accumulate: 1,
  });
  const groups: ResidentTensor[][] = [];
  for (const k of trainable) {
    const w = weights.get(k)!;
    const zeros = HostTensor.zeros('float32', w.shape);
    // param, m, v, grad: any gradient values, the update's cost does not depend on them
    groups.push([
      await engine.upload(w),
      await engine.upload(zeros),
      await engine.upload(zeros),
      await engine.upload(w),
    ]);
  }
  const s = adamWStepScalars(HYPER, HYPER.lr, 1);
  const scalars = { [SCALARS.decay]: s.decay, [SCALARS.stepSize]: s.stepSize, [SCALARS.bc2Sqrt]: s.bc2Sqrt };
  return {
    run: () => engine.runKernel(kernel, groups, scalars),
    dispose: () => engine.free(groups.flat()),
  };
}

async function runCase(
  spec: CaseSpec,
  engine: Engine,
  threads: number,
  repo: string | undefined,
  opts: { blocks: number; perBlock: number; warmup: number; profile: boolean; profileRuns: number },
): Promise<CaseResult> {
  const perBlock = opts.perBlock || spec.perBlock;
  const progress = (what: string) => console.error(`[${spec.key}] ${what} (load ${load()})`);
  const model = modelFor(spec);
  const shape = { videos: spec.videos, frames: spec.frames, h: spec.latent, w: spec.latent };
  const { graph: lossGraph, params: p } = stageLossGraph(model, shape);
  const keys = [...p.tree.shapes.keys()];
  const weights = new Map<string, HostTensor>();
  const source = spec.checkpoint ? await SafetensorsFile.open(spec.checkpoint) : randomCheckpoint(p.tree, 1);
  try {
    for (const k of keys) weights.set(k, await source.read(k));
  } finally {
    await source.close();
  }
  const inputs = drawInputs(spec, model, new Rng(7));
  const dir = mkdtempSync(join(tmpdir(), 'svd-bench-train-unet-'));
  resetPeak(); // VmHWM per case (where Linux allows): from here to the end of the step timing
  const result: CaseResult = {
    spec,
    params: p.tree.count(),
    step: emptyBlocks(),
    forward: emptyBlocks(),
    fwdbwd: emptyBlocks(),
    update: emptyBlocks(),
  };
  let ref: TorchProcess | undefined;
  try {
    // The reference reads the same weights (the golden checkpoint, or ours written once) and the same inputs.
    const inputsPath = join(dir, 'inputs.safetensors');
    const file: Record<string, HostTensor> = {};
    for (const [k, t] of Object.entries(inputs)) file[`input.${k}`] = t;
    let weightsPath = spec.checkpoint;
    if (!weightsPath) {
      weightsPath = join(dir, 'weights.safetensors');
      await writeSafetensors(weightsPath, weights);
    }
    await writeSafetensors(inputsPath, file);
    if (repo) {
      ref = (await startReference(threads, repo)).proc;
      const loaded = await ref.request<{ params: number }>({
        cmd: 'load',
        network: networkParams(spec),
        weights: weightsPath,
        prefix: PREFIX,
        inputs: inputsPath,
        frames: spec.frames,
        adamw: { lr: HYPER.lr, betas: [HYPER.beta1, HYPER.beta2], eps: HYPER.eps, weight_decay: HYPER.weightDecay },
      });
      if (loaded.params !== result.params)
        throw new Error(`${spec.key}: PyTorch has ${loaded.params} parameters, ours ${result.params}`);
    }

    // Every parameter the loss reads is trained. The cross-attention over SVD's single context token does not read
    // its query-side parameters (norm2 of each spatial transformer block: softmax over one key is 1): their gradient
    // is exactly 0 in PyTorch too, where AdamW only applies the weight decay to them.
    const read = new Set(lossGraph.inputs.map((i) => i.name));
    const trainable = keys.filter((k) => read.has(k));
    result.unread = keys.filter((k) => !read.has(k));
    const compiled = buildTrainStep({ lossGraph, trainable, optimizer: { kind: 'adamw', hyper: HYPER } });
    const trainer = await Trainer.create(engine, compiled, weights, { lr: constantLr(HYPER.lr) });
    const feeds: Record<string, ResidentTensor> = {};
    for (const [k, t] of Object.entries(inputs)) feeds[k] = await engine.upload(t);
    try {
      // Warm-ups; the first step's loss (before any update) must agree with the reference's.
      const oursLoss: number[] = [];
      const torchLoss: number[] = [];
      progress('warm-up steps and loss check');
      for (let i = 0; i < opts.warmup; i++) {
        oursLoss.push((await trainer.runStep(feeds)).loss);
        if (ref) torchLoss.push(...(await ref.request<{ loss: number[] }>({ cmd: 'step', n: 1 })).loss);
      }
      if (ref) {
        const d = oursLoss.map((l, i) => relDiff(l, torchLoss[i]));
        result.lossCheck = `loss ${oursLoss[0].toPrecision(7)} vs ${torchLoss[0].toPrecision(7)} (rel ${d[0].toExponential(1)}); after one AdamW update rel ${d[1]?.toExponential(1) ?? '–'}`;
        if (!(d[0] <= LOSS_RTOL)) {
          throw new Error(`${spec.key}: first-step losses differ (${result.lossCheck}): not the same computation`);
        }
      }
      progress('step timing');
      const torchSteps = ref ? (n: number) => ref!.request<TorchTimes>({ cmd: 'step', n }) : undefined;
      result.step = await timeBlocks(() => trainer.runStep(feeds), torchSteps, opts.blocks, perBlock);
      result.vmHWM = memoryFigures().vmHWM;
      if (ref) result.maxrss = (await ref.request<{ maxrss: number }>({ cmd: 'mem' })).maxrss;
      // Each cached session keeps its arena at its peak: release each graph's session once it has been timed.
      await trainer.dispose();
      await engine.release([compiled.graph]);

      // Phases, to see where the step's time goes: the loss alone; forward + backward (the gradients of every
      // trained parameter, kept in the worker and freed); the AdamW update alone (our update ops over resident
      // parameters, moments and gradients; PyTorch's opt.step() on the gradients of its last backward). The weights
      // go to the engine's store for these (after the VmHWM above); one warm-up each, then the same blocks.
      await engine.setWeights(new Map(trainable.map((k) => [k, weights.get(k)!])));
      const gradGraph = valueAndGrad(lossGraph, trainable, { output: 'loss', name: 'grads' });
      const gradNames = trainable.map(gradName);
      const update = await adamWOnly(engine, trainable, weights);
      const phases: Record<Phase, () => Promise<unknown>> = {
        forward: () => engine.run(lossGraph, feeds),
        fwdbwd: async () => {
          const { resident } = await engine.runKeep(gradGraph, feeds, gradNames);
          await engine.free(Object.values(resident));
        },
        update: update.run,
      };
      const phaseGraphs: Record<Phase, Graph[]> = { forward: [lossGraph], fwdbwd: [gradGraph], update: [] };
      for (const phase of ['forward', 'fwdbwd', 'update'] as const) {
        await phases[phase]();
        if (ref) await ref.request({ cmd: phase, n: 1 });
        const torchPhase = ref ? (n: number) => ref!.request<TorchTimes>({ cmd: phase, n }) : undefined;
        progress(`${phase} timing`);
        result[phase] = await timeBlocks(phases[phase], torchPhase, opts.blocks, perBlock);
        await engine.release(phaseGraphs[phase]);
      }
      await update.dispose();

      if (opts.profile) {
        progress('ORT profiles');
        const stepFeeds: Record<string, HostTensor> = { ...inputs };
        for (const k of trainable) stepFeeds[k] = weights.get(k)!;
        result.profile = profileTable([
          [
            'step (forward + backward)',
            await profileGraph(engine, compiled.graph, stepFeeds, threads, opts.profileRuns),
          ],
          ['forward', await profileGraph(engine, lossGraph, stepFeeds, threads, opts.profileRuns)],
        ]);
      }
      await engine.deleteWeights(trainable);
    } finally {
      await engine.free(Object.values(feeds));
      await trainer.dispose();
    }
  } finally {
    await ref?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

/** Op types by their kernel time in the first profile (the step), with the other graphs' times beside. */
function profileTable(profiles: readonly [string, Map<string, number>][]): string[] {
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const [, step] = profiles[0];
  const total = sum(step);
  const rows = [...step.entries()].sort((a, b) => b[1] - a[1]);
  const others = profiles.slice(1);
  const lines = [
    `| op type (ORT kernel time, ms per run) | ${profiles[0][0]} | share | ${others.map(([l]) => l).join(' | ')} |`,
    `|---|---|---|${others.map(() => '---|').join('')}`,
    `| all kernels | ${fmtMs(total)} | 100 % | ${others.map(([, m]) => fmtMs(sum(m))).join(' | ')} |`,
  ];
  const top = 16;
  for (const [opName, ms] of rows.slice(0, top)) {
    const cells = others.map(([, m]) => fmtMs(m.get(opName) ?? 0)).join(' | ');
    lines.push(`| ${opName} | ${fmtMs(ms)} | ${((100 * ms) / total).toFixed(1)} % | ${cells} |`);
  }
  const rest = rows.slice(top).reduce((a, [, ms]) => a + ms, 0);
  if (rest > 0) {
    lines.push(
      `| ${rows.length - top} other op types | ${fmtMs(rest)} | ${((100 * rest) / total).toFixed(1)} % | ${others.map(() => '').join(' | ')} |`,
    );
  }
  return lines;
}

const range = (xs: readonly number[]) =>
  xs.length === 0 ? '' : ` (blocks ${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;

export async function benchTrainUnet(threads: number): Promise<void> {
  const opts = {
    blocks: argNum('blocks', QUICK ? 2 : 5),
    perBlock: argNum('per-block', 0),
    warmup: Math.max(2, argNum('warmup', 2)),
    profile: process.argv.includes('--profile'),
    profileRuns: argNum('profile-runs', 2),
  };
  const cases: CaseSpec[] = [
    {
      key: 'tiny',
      label: 'tiny golden UNet, 2 × 3 frames, 8×8',
      network: {},
      videos: 2,
      frames: 3,
      latent: 8,
      checkpoint: join(GOLDEN, 'checkpoint.safetensors'),
      perBlock: 4,
    },
    {
      key: 'mid',
      label: 'mid-size UNet, 2 × 8 frames, 32×32',
      network: MID_NETWORK,
      videos: 2,
      frames: 8,
      latent: 32,
      perBlock: 1,
    },
  ].filter((c) => !process.env.BENCH_FILTER || c.key.includes(process.env.BENCH_FILTER));
  let skip = torchUnavailable({ reference: true });
  let repo = skip ? undefined : process.env.SVD_REFERENCE_REPO;
  let torchLine = '';
  if (repo) {
    try {
      const { proc, torch } = await startReference(threads, repo);
      await proc.close();
      torchLine = `PyTorch ${torch}; reference: ${repo}`;
    } catch (e) {
      skip = `the reference did not start: ${(e as Error).message}`;
      repo = undefined;
    }
  }
  console.log(`# train-unet benchmark — ${machineLine()}, ${threads} threads, float32, cpu provider`);
  console.log(`load average at start: ${load()} (1 / 5 / 15 min)`);
  console.log(
    `AdamW lr ${HYPER.lr}, betas (${HYPER.beta1}, ${HYPER.beta2}), eps ${HYPER.eps}, weight decay ${HYPER.weightDecay}; ` +
      `${opts.warmup} warm-ups, then ${opts.blocks} blocks per side of ${opts.perBlock || 'tiny 4, mid 1'} step(s) each`,
  );
  console.log(skip ? `PyTorch baseline skipped: ${skip}` : torchLine);
  if (skip) recordNote('train-unet', `PyTorch baseline skipped: ${skip}`);
  const engine = await Engine.create({ threads });
  const results: CaseResult[] = [];
  try {
    for (const spec of cases) {
      const r = await runCase(spec, engine, threads, repo, opts);
      results.push(r);
      const unread = r.unread?.length
        ? ` (${r.unread.length} tensors the loss does not read, e.g. ${r.unread[0].slice(PREFIX.length)})`
        : '';
      console.log(
        `${spec.key}: ${r.params.toLocaleString('en')} parameters${unread}${r.lossCheck ? `; ${r.lossCheck}` : ''}`,
      );
    }
  } finally {
    await engine.dispose();
  }
  console.log(`load average at end: ${load()}`);
  console.log('');
  console.log('| case | params | ours ms/step | PyTorch ms/step | ratio ours/PyTorch | VmHWM ours | maxrss PyTorch |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    const ours = median(r.step.ours);
    const torch = r.step.torch.length > 0 ? median(r.step.torch) : undefined;
    console.log(
      `| ${r.spec.label} | ${(r.params / 1e6).toFixed(2)} M | ${fmtMs(ours)} | ${torch ? fmtMs(torch) : 'skipped'} | ` +
        `${torch ? `${(ours / torch).toFixed(2)}×${range(r.step.ratios)}` : '–'} | ${gib(r.vmHWM)} | ` +
        `${r.maxrss ? gib(r.maxrss) : '–'} |`,
    );
  }
  for (const r of results) {
    const torch = r.step.torch.length > 0 ? median(r.step.torch) : undefined;
    recordFigure({
      suite: 'train-unet',
      case: `${r.spec.label}, one training step (${(r.params / 1e6).toFixed(2)} M parameters)`,
      ours: median(r.step.ours),
      peak: r.vmHWM,
      ...(torch !== undefined
        ? { baseline: { name: 'PyTorch 1.13 (reference VideoUNet + loss)', value: torch, peak: r.maxrss } }
        : { baselineMissing: `PyTorch 1.13: ${skip}` }),
      note:
        torch !== undefined
          ? `alternating blocks, per-block ratios ${range(r.step.ratios).trim()}; PyTorch peak is maxrss of its process`
          : undefined,
    });
  }
  console.log('');
  console.log('| case | phase | ours ms | PyTorch ms | ratio ours/PyTorch |');
  console.log('|---|---|---|---|---|');
  for (const r of results) {
    const med = (xs: number[]) => (xs.length > 0 ? median(xs) : undefined);
    const row = (phase: string, ours: number, torch: number | undefined, spread = '') =>
      console.log(
        `| ${r.spec.key} | ${phase} | ${fmtMs(ours)} | ${torch ? fmtMs(torch) : '–'} | ${torch ? `${(ours / torch).toFixed(2)}×${spread}` : '–'} |`,
      );
    const [of, ob, os] = [median(r.forward.ours), median(r.fwdbwd.ours), median(r.step.ours)];
    const [tf, tb, ts] = [med(r.forward.torch), med(r.fwdbwd.torch), med(r.step.torch)];
    row('forward (the loss, no gradients)', of, tf, range(r.forward.ratios));
    row('forward + backward (all gradients)', ob, tb, range(r.fwdbwd.ratios));
    row('≈ backward (fwd+bwd − fwd)', ob - of, tb && tf ? tb - tf : undefined);
    row('AdamW update alone', median(r.update.ours), med(r.update.torch), range(r.update.ratios));
    row('full step (table above)', os, ts, range(r.step.ratios));
  }
  console.log('');
  console.log(
    '| case | ours CPU ms/step | PyTorch CPU ms/step | CPU ratio | ours CPU/wall | PyTorch CPU/wall | (all threads of each process; 2 = both cores busy) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    const oc = median(r.step.oursCpu);
    const tc = r.step.torchCpu.length > 0 ? median(r.step.torchCpu) : undefined;
    const tw = r.step.torch.length > 0 ? median(r.step.torch) : undefined;
    console.log(
      `| ${r.spec.label} | ${fmtMs(oc)} | ${tc ? fmtMs(tc) : '–'} | ${tc ? `${(oc / tc).toFixed(2)}×` : '–'} | ` +
        `${(oc / median(r.step.ours)).toFixed(2)} | ${tc && tw ? (tc / tw).toFixed(2) : '–'} | |`,
    );
  }
  for (const r of results) {
    if (!r.profile) continue;
    console.log('');
    console.log(
      `ORT profile of our ${r.spec.key} graphs (mean of ${opts.profileRuns} runs after 1 warm-up, kernel time only):`,
    );
    for (const l of r.profile) console.log(l);
  }
}
