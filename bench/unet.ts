/**
 * `npm run bench -- unet`: the full-size svd-xt VideoUNet at 256×256 (latent 32×32), T = 14, batch 28 (the CFG batch:
 * 2 × 14 frames), float32, weights drawn N(0, 1/fan_in) (norm scales 1, biases 0, mix_factor 0). Reports time per
 * evaluation, effective GFLOP/s (conv/matmul/attention multiply-adds of the traced graph), VmHWM and PSS.
 * Options: --frames N, --size S (pixels, square), --runs N. Needs ~16 GiB of memory. The single-point run also prints
 * where the time goes (the ORT profile of its runs per op type, UNet level and shape, bench/profile-report.ts; off with
 * --no-profile) and the effective rate against the raw-ORT conv rate measured in the same run; --spin runs ORT's
 * threads spinning (ORT's own default; EngineOptions.spinning).
 *
 * Baseline: the reference's own VideoUNet (sgm, from the checkout named by SVD_REFERENCE_REPO) in PyTorch 1.13 on the
 * same shapes (bench/torch_unet.py: eval mode, no_grad, PyTorch's own initialisation), run after ours in the same
 * bench run — one side at a time, so that the two copies of the 1.5 G weights never share the memory. Without
 * SVD_REFERENCE_REPO or torch, the baseline is skipped with a message.
 *
 * `--scaling`: time and peak memory against frames (`--scaling-frames 2,4,8` at `--scaling-size 128`) and resolution
 * (`--scaling-sizes 64,128,192,256` at `--scaling-at-frames 2`), each point batch 2 × T (the CFG batch). Peak memory
 * per point is the process's VmHWM reset before the point (it includes the resident weights).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../src/graph/builder.ts';
import { countFlops } from '../src/graph/flops.ts';
import { loadWeightsInto } from '../src/models/load-weights.ts';
import { PRESETS } from '../src/models/presets.ts';
import { svdNetworkGraph, UNET_PREFIX } from '../src/models/svd-network.ts';
import { SVD_UNET_SGM_PARAMS } from '../src/models/unet/config.ts';
import { declareVideoUNetParams } from '../src/models/unet/index.ts';
import { Params } from '../src/nn/params.ts';
import { Engine } from '../src/runtime/engine.ts';
import { gib, memoryFigures } from '../src/runtime/process-memory.ts';
import { HostTensor } from '../src/tensor/host-tensor.ts';
import { Rng } from '../src/tensor/rng.ts';
import { randomCheckpoint } from '../src/weights/random-source.ts';
import { type MachineRates, measureMachineRates } from './machine-rates.ts';
import { unetLevelOf } from './model-levels.ts';
import { printBreakdown, readProfiles } from './profile-report.ts';
import { recordFigure, recordNote, recordScaling, resetPeak } from './report.ts';
import { fmtMs, machineLine, QUICK } from './stats.ts';
import { TorchProcess, torchEnv, torchUnavailable } from './torch-process.ts';

const SUITE = 'unet';
const VIDEOS = 2; // the CFG batch: [uncond; cond]

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

function list(name: string, dflt: number[]): number[] {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1].split(',').map(Number) : dflt;
}

interface Point {
  frames: number;
  size: number;
  axes: ('frames' | 'resolution')[];
}

interface Measured extends Point {
  batch: number;
  flops: number;
  firstMs: number;
  ms: number;
  vmHWM?: number;
  pss?: number;
  torchMs?: number;
  torchFirstMs?: number;
  torchPeak?: number;
}

function points(): Point[] {
  if (!process.argv.includes('--scaling')) return [{ frames: arg('frames', 14), size: arg('size', 256), axes: [] }];
  const at = arg('scaling-size', QUICK ? 64 : 128);
  const atFrames = arg('scaling-at-frames', 2);
  const out: Point[] = list('scaling-frames', QUICK ? [2, 3] : [2, 4, 8]).map((frames) => ({
    frames,
    size: at,
    axes: ['frames'],
  }));
  for (const size of list('scaling-sizes', QUICK ? [64, 128] : [64, 128, 192, 256])) {
    const same = out.find((p) => p.frames === atFrames && p.size === size);
    if (same) same.axes.push('resolution');
    else out.push({ frames: atFrames, size, axes: ['resolution'] });
  }
  for (const p of out) {
    if (p.size % 64 !== 0) throw new Error(`--scaling sizes must be multiples of 64 (got ${p.size})`);
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * Our side: one engine, the weights drawn once, each point's graph released after it. With `profileDir`, every
 * session writes its ORT profile there (node times of the first call and the timed runs).
 */
async function ours(threads: number, pts: readonly Point[], runs: number, profileDir?: string): Promise<Measured[]> {
  const cfg = PRESETS['svd-xt'].unet;
  const tree = declareVideoUNetParams(new Params(new GraphBuilder('declare'), UNET_PREFIX), cfg);
  const rng = new Rng(0);
  const engine = await Engine.create({ threads, profileDir, spinning: process.argv.includes('--spin') });
  const t0 = performance.now();
  // Weights drawn when loaded (N(0, 1/fan_in), norm scales 1, biases and mix_factor 0), straight into the engine.
  await loadWeightsInto(engine, randomCheckpoint(tree), tree.shapes.keys());
  console.log(
    `weights: ${tree.count().toLocaleString('en')} parameters drawn in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const out: Measured[] = [];
  try {
    for (const p of pts) {
      const n = VIDEOS * p.frames;
      const lat = p.size / 8;
      const graph = svdNetworkGraph(cfg, n, p.frames, lat, lat);
      const flops = countFlops(graph);
      console.log(
        `svd-xt UNet, ${p.size}×${p.size} (latent ${lat}×${lat}), T = ${p.frames}, batch ${n}; ${(flops / 1e12).toFixed(2)} TFLOP per evaluation`,
      );
      const feeds = {
        x: rng.randn('x', [n, cfg.outChannels, lat, lat]),
        concat: rng.randn('concat', [n, cfg.inChannels - cfg.outChannels, lat, lat]),
        timesteps: new HostTensor('float32', [n], new Float32Array(n).fill(Math.fround(0.25 * Math.log(10)))),
        context: rng.randn('context', [n, 1, cfg.contextDim]),
        y: rng.randn('y', [n, cfg.admInChannels!]),
        image_only_indicator: HostTensor.zeros('float32', [VIDEOS, p.frames]),
      };
      resetPeak();
      const t1 = performance.now();
      const first = await engine.run(graph, feeds);
      const firstMs = performance.now() - t1;
      const o = first.out.data as Float32Array;
      for (let i = 0; i < o.length; i++) {
        if (!Number.isFinite(o[i])) throw new Error(`UNet output is not finite at ${i}: ${o[i]}`);
      }
      console.log(`first call (lower + session + run): ${fmtMs(firstMs)} ms; output finite ✓`);
      const times: number[] = [];
      const ortMs: number[] = [];
      for (let r = 0; r < runs; r++) {
        const t = performance.now();
        await engine.run(graph, feeds);
        times.push(performance.now() - t);
        ortMs.push(engine.lastTiming.runMs);
      }
      const mem = memoryFigures();
      const m = median(times);
      console.log(
        `timed: ${times.map(secs).join(', ')}; of which session.run in the engine worker: ${ortMs.map(secs).join(', ')}`,
      );
      out.push({ ...p, batch: n, flops, firstMs, ms: m, vmHWM: mem.vmHWM, pss: mem.pss });
      // Each cached session keeps its arena at its peak: release the point's graph before the next one.
      await engine.release([graph]);
    }
  } finally {
    await engine.dispose();
  }
  return out;
}

/** The PyTorch side, after ours (the engine disposed): the reference's VideoUNet on each point. */
async function torchSide(threads: number, results: Measured[], runs: number): Promise<string> {
  const repo = process.env.SVD_REFERENCE_REPO!;
  const { proc, torch } = await TorchProcess.start(
    'torch_unet.py',
    [String(threads)],
    torchEnv({ SVD_REFERENCE_REPO: repo }),
  );
  try {
    const network: Record<string, unknown> = { ...SVD_UNET_SGM_PARAMS, use_checkpoint: false };
    const loaded = await proc.request<{ params: number; seconds: number }>({ cmd: 'load', network });
    console.log(
      `PyTorch ${torch}: the reference's VideoUNet (${loaded.params.toLocaleString('en')} parameters, PyTorch's initialisation) built in ${loaded.seconds.toFixed(1)} s`,
    );
    for (const r of results) {
      const reply = await proc.request<{ ms: number[]; first_ms: number; peak?: number }>({
        cmd: 'forward',
        videos: VIDEOS,
        frames: r.frames,
        latent: r.size / 8,
        context_dim: network.context_dim,
        adm_in_channels: network.adm_in_channels,
        warmup: 1,
        n: runs,
      });
      r.torchMs = median(reply.ms);
      r.torchFirstMs = reply.first_ms;
      r.torchPeak = reply.peak ?? undefined;
      console.error(`  PyTorch ${r.size}×${r.size}, T = ${r.frames}: ${secs(r.torchMs)}`);
    }
  } finally {
    await proc.close();
  }
  return `PyTorch ${torch}; reference: ${repo}`;
}

export async function benchUnet(threads: number): Promise<void> {
  const pts = points();
  const runs = arg('runs', QUICK ? 1 : pts.length > 1 ? 2 : 3);
  // The per-op breakdown (ORT profile) of the single-point run; --no-profile turns it off.
  const profile = pts.length === 1 && !process.argv.includes('--no-profile');
  console.log(`# unet benchmark — ${machineLine()}, ${threads} threads, float32, cpu provider, load ${loadLine()}`);
  if (pts.length > 1) {
    console.log(`scaling: ${pts.length} points (frames × size), ${runs} timed run(s) each after the first call`);
  }

  const before = await measureMachineRates(threads);
  const profileDir = profile ? mkdtempSync(join(tmpdir(), 'svd-bench-profile-')) : undefined;
  try {
    const results = await ours(threads, pts, runs, profileDir);
    const after = await measureMachineRates(threads);
    const rates: MachineRates = {
      convGflops: (before.convGflops + after.convGflops) / 2,
      streamGBs: (before.streamGBs + after.streamGBs) / 2,
    };
    console.log(
      `same-run raw ORT conv 3×3 320 ch 64×64: ${before.convGflops.toFixed(0)} GFLOP/s before, ${after.convGflops.toFixed(0)} after (mean ${rates.convGflops.toFixed(0)}); load ${loadLine()}`,
    );
    console.log(
      '| model | size | T | batch | time / evaluation | effective GFLOP/s | ratio to raw ORT conv | VmHWM | PSS |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const r of results) {
      const eff = (r.flops / r.ms) * 1e-6;
      console.log(
        `| svd-xt UNet | ${r.size}×${r.size} | ${r.frames} | ${r.batch} | ${secs(r.ms)} (median of ${runs}) | ${eff.toFixed(0)} | ${(eff / rates.convGflops).toFixed(2)}× | ${gib(r.vmHWM)} | ${gib(r.pss)} |`,
      );
      recordFigure({
        suite: SUITE,
        case: `svd-xt UNet ${r.size}×${r.size}, T = ${r.frames}: time against the same FLOPs at the raw-ORT conv rate`,
        ours: r.ms,
        baseline: { name: 'raw ORT conv 3×3 320 ch 64×64 rate (same run)', value: r.flops / 1e6 / rates.convGflops },
        note: `effective ${eff.toFixed(0)} GFLOP/s; conv ${rates.convGflops.toFixed(0)} GFLOP/s`,
      });
    }
    if (profileDir) {
      const [{ profile: p }] = readProfiles(profileDir);
      const r = results[0];
      const lat = r.size / 8;
      printBreakdown(p, {
        suite: SUITE,
        label: `svd-xt UNet ${r.size}×${r.size}, T = ${r.frames}, batch ${r.batch}`,
        levelOf: unetLevelOf(PRESETS['svd-xt'].unet, lat, lat),
        rates,
      });
    }
    await torchPart(threads, results, runs);
  } finally {
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  }
}

const loadLine = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');

/** The PyTorch baseline (when it can run) and the records of each point against it. */
async function torchPart(threads: number, results: Measured[], runs: number): Promise<void> {
  let missing = torchUnavailable({ reference: true });
  if (!missing) {
    try {
      console.log(await torchSide(threads, results, runs));
    } catch (e) {
      missing = `the PyTorch baseline failed: ${(e as Error).message}`;
    }
  }
  if (missing) {
    console.log(`PyTorch baseline skipped: ${missing}`);
    recordNote(SUITE, `PyTorch baseline skipped: ${missing}`);
  } else {
    console.log('| size | T | batch | ours | PyTorch 1.13 | ratio ours/PyTorch | VmHWM ours | VmHWM PyTorch |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of results) {
      console.log(
        `| ${r.size}×${r.size} | ${r.frames} | ${r.batch} | ${secs(r.ms)} | ${r.torchMs ? secs(r.torchMs) : '–'} | ${r.torchMs ? `${(r.ms / r.torchMs).toFixed(2)}×` : '–'} | ${gib(r.vmHWM)} | ${gib(r.torchPeak)} |`,
      );
    }
  }

  for (const r of results) {
    recordFigure({
      suite: SUITE,
      case: `svd-xt UNet evaluation, ${r.size}×${r.size}, T = ${r.frames}, batch ${r.batch}`,
      ours: r.ms,
      peak: r.vmHWM,
      ...(r.torchMs !== undefined
        ? { baseline: { name: 'PyTorch 1.13 (reference VideoUNet)', value: r.torchMs, peak: r.torchPeak } }
        : { baselineMissing: `PyTorch 1.13: ${missing}` }),
      note: `${(r.flops / 1e12).toFixed(2)} TFLOP, first call ${secs(r.firstMs)}`,
    });
    if (r.axes.length > 0) {
      recordScaling({
        axes: r.axes,
        model: 'svd-xt',
        frames: r.frames,
        size: r.size,
        batch: r.batch,
        tflop: r.flops / 1e12,
        oursMs: r.ms,
        oursPeak: r.vmHWM,
        oursFirstMs: r.firstMs,
        torchMs: r.torchMs,
        torchPeak: r.torchPeak,
      });
    }
  }
}
