/**
 * `npm run bench -- decode`: the svd-xt temporal VideoDecoder (sgm `temporal_ae.py::VideoDecoder`, the first stage's
 * decoder) with random weights N(0, 1/fan_in) at `--size S` pixels (square, default 256: latent 32×32) and `--frames
 * T` (default 3) in one chunk: time per call, effective GFLOP/s (conv/matmul/attention multiply-adds of the traced
 * graph) beside the raw-ORT conv rate measured in the same run (bench/machine-rates.ts), and where the time goes (the
 * ORT profile per op type, per decoder level and per shape; `--no-profile` turns it off). `--runs N` timed calls after
 * the first (default 2); `--no-arena` runs without ORT's memory arena, as the pipeline's memory plan does at full size;
 * `--preset NAME` another model's decoder (e.g. svd-mini, its trained size 128); `--spin` runs ORT's threads spinning (ORT's own default; EngineOptions.spinning); `--compare-spinning` also times a second
 * engine with the other setting, its calls alternating with the first's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../src/graph/builder.ts';
import { countFlops } from '../src/graph/flops.ts';
import { FIRST_STAGE_PREFIX } from '../src/models/declare-params.ts';
import { loadWeightsInto } from '../src/models/load-weights.ts';
import { PRESETS } from '../src/models/presets.ts';
import { VideoDecodeRunner } from '../src/models/vae/chunked-decode.ts';
import { declareVideoDecoder } from '../src/models/vae/declarations.ts';
import { Params } from '../src/nn/params.ts';
import { Engine } from '../src/runtime/engine.ts';
import { gib, memoryFigures } from '../src/runtime/process-memory.ts';
import { Rng } from '../src/tensor/rng.ts';
import { randomCheckpoint } from '../src/weights/random-source.ts';
import { measureMachineRates } from './machine-rates.ts';
import { decoderLevelOf } from './model-levels.ts';
import { printBreakdown, readProfiles } from './profile-report.ts';
import { recordFigure, resetPeak } from './report.ts';
import { fmtMs, machineLine, QUICK } from './stats.ts';

const SUITE = 'decode';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const loadLine = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');

export async function benchDecode(threads: number): Promise<void> {
  const size = arg('size', QUICK ? 128 : 256);
  const frames = arg('frames', QUICK ? 2 : 3);
  const runs = arg('runs', QUICK ? 1 : 2);
  const arena = !process.argv.includes('--no-arena');
  const profile = !process.argv.includes('--no-profile');
  if (size % 8 !== 0) throw new Error(`--size must be a multiple of 8 (got ${size})`);
  const presetAt = process.argv.indexOf('--preset');
  const name = presetAt >= 0 ? process.argv[presetAt + 1] : 'svd-xt';
  const model = PRESETS[name];
  if (!model) throw new Error(`--preset: no preset ${name}`);
  if (model.firstStage.kind !== 'autoencoding-engine') throw new Error('svd-xt: expected the video first stage');
  const cfg = model.firstStage.decoder;
  const lat = size / 8;
  console.log(
    `# decode benchmark — ${machineLine()}, ${threads} threads, float32, cpu provider, arena ${arena ? 'on' : 'off'}, spinning ${process.argv.includes('--spin') ? 'on' : 'off'}, load ${loadLine()}`,
  );
  const before = await measureMachineRates(threads);
  const prefix = `${FIRST_STAGE_PREFIX}.decoder`;
  const tree = new Params(new GraphBuilder('declare'), prefix);
  declareVideoDecoder(tree, cfg);
  const profileDir = profile ? mkdtempSync(join(tmpdir(), 'svd-bench-profile-')) : undefined;
  const spinning = process.argv.includes('--spin');
  const engine = await Engine.create({ threads, profileDir, spinning });
  // --compare-spinning: a second engine with the other spinning setting, its timed calls alternating with the first's.
  const other = process.argv.includes('--compare-spinning')
    ? await Engine.create({ threads, spinning: !spinning })
    : undefined;
  try {
    await loadWeightsInto(engine, randomCheckpoint(tree.tree), tree.tree.shapes.keys());
    if (other) await loadWeightsInto(other, randomCheckpoint(tree.tree), tree.tree.shapes.keys());
    const runner = new VideoDecodeRunner(
      { run: (g, feeds) => engine.run(g, feeds, { memoryArena: arena }) },
      { config: cfg, scaleFactor: model.scaleFactor, prefix },
    );
    const graph = runner.graphFor(frames, lat, lat);
    const flops = countFlops(graph);
    console.log(
      `${name} VideoDecoder, ${size}×${size} (latent ${lat}×${lat}), T = ${frames}; ${(flops / 1e12).toFixed(2)} TFLOP per call (${(flops / frames / 1e12).toFixed(2)} per frame)`,
    );
    const z = new Rng(3).randn('z', [frames, cfg.zChannels, lat, lat]);
    resetPeak();
    const t0 = performance.now();
    const first = await engine.run(graph, { z }, { memoryArena: arena });
    const firstMs = performance.now() - t0;
    const out = first.frames.data as Float32Array;
    for (let i = 0; i < out.length; i++) {
      if (!Number.isFinite(out[i])) throw new Error(`decoder output is not finite at ${i}: ${out[i]}`);
    }
    if (other) await other.run(graph, { z }, { memoryArena: arena });
    const times: number[] = [];
    const otherTimes: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      await engine.run(graph, { z }, { memoryArena: arena });
      times.push(performance.now() - t);
      if (other) {
        const t2 = performance.now();
        await other.run(graph, { z }, { memoryArena: arena });
        otherTimes.push(performance.now() - t2);
      }
    }
    const mem = memoryFigures();
    await engine.release([graph]);
    await other?.dispose();
    const after = await measureMachineRates(threads);
    const rates = {
      convGflops: (before.convGflops + after.convGflops) / 2,
      streamGBs: (before.streamGBs + after.streamGBs) / 2,
    };
    const ms = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
    const eff = flops / 1e6 / ms;
    console.log(
      `first call (lower + session + run) ${fmtMs(firstMs)} ms; output finite ✓; same-run raw ORT conv: ${before.convGflops.toFixed(0)} GFLOP/s before, ${after.convGflops.toFixed(0)} after; load ${loadLine()}`,
    );
    console.log('| model | size | T | time / call | effective GFLOP/s | ratio to raw ORT conv | VmHWM | PSS |');
    console.log('|---|---|---|---|---|---|---|---|');
    console.log(
      `| ${name} VideoDecoder | ${size}×${size} | ${frames} | ${fmtMs(ms)} ms (median of ${runs}) | ${eff.toFixed(0)} | ${(eff / rates.convGflops).toFixed(2)}× | ${gib(mem.vmHWM)} | ${gib(mem.pss)} |`,
    );
    if (other) {
      const o = [...otherTimes].sort((a, b) => a - b)[Math.floor(otherTimes.length / 2)];
      const [on, off] = spinning ? [ms, o] : [o, ms];
      console.log(
        `ORT threads spinning (ORT's own default): ${fmtMs(on)} ms; not spinning (session.intra_op.allow_spinning 0): ${fmtMs(off)} ms — ratio off/on ${(off / on).toFixed(2)}× (alternating calls, medians of ${runs})`,
      );
      recordFigure({
        suite: SUITE,
        case: `${name} VideoDecoder ${size}×${size}, T = ${frames}: ORT threads not spinning against spinning`,
        ours: off,
        baseline: { name: "the same decoder, ORT threads spinning (ORT's own default)", value: on },
        note: `load ${loadLine()}`,
      });
    }
    recordFigure({
      suite: SUITE,
      case: `${name} VideoDecoder ${size}×${size}, T = ${frames}: time against the same FLOPs at the raw-ORT conv rate`,
      ours: ms,
      peak: mem.vmHWM,
      baseline: { name: 'raw ORT conv 3×3 320 ch 64×64 rate (same run)', value: flops / 1e6 / rates.convGflops },
      note: `effective ${eff.toFixed(0)} GFLOP/s; conv ${rates.convGflops.toFixed(0)} GFLOP/s; arena ${arena ? 'on' : 'off'}`,
    });
    if (profileDir) {
      const [{ profile: p }] = readProfiles(profileDir);
      printBreakdown(p, {
        suite: SUITE,
        label: `${name} VideoDecoder ${size}×${size}, T = ${frames}`,
        levelOf: decoderLevelOf(cfg.chMult.length, lat, lat),
        rates,
      });
    }
  } finally {
    await engine.dispose();
    await other?.dispose();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  }
}
