/**
 * `npm run bench -- unet`: the full-size svd-xt VideoUNet at 256×256 (latent 32×32), T = 14, batch 28 (the CFG batch:
 * 2 × 14 frames), float32, weights drawn N(0, 1/fan_in) (norm scales 1, biases 0, mix_factor 0). Reports time per
 * evaluation, effective GFLOP/s (conv/matmul/attention multiply-adds of the traced graph), VmHWM and PSS.
 * Options: --frames N, --size S (pixels, square), --runs N. Needs ~16 GiB of memory.
 */
import { GraphBuilder } from '../src/graph/builder.ts';
import { countFlops } from '../src/graph/flops.ts';
import { loadWeightsInto } from '../src/models/load-weights.ts';
import { PRESETS } from '../src/models/presets.ts';
import { svdNetworkGraph, UNET_PREFIX } from '../src/models/svd-network.ts';
import { declareVideoUNetParams } from '../src/models/unet/index.ts';
import { Params } from '../src/nn/params.ts';
import { Engine } from '../src/runtime/engine.ts';
import { gib, memoryFigures } from '../src/runtime/process-memory.ts';
import { HostTensor } from '../src/tensor/host-tensor.ts';
import { Rng } from '../src/tensor/rng.ts';
import { randomCheckpoint } from '../src/weights/random-source.ts';
import { fmtMs, machineLine } from './stats.ts';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

export async function benchUnet(threads: number): Promise<void> {
  const frames = arg('frames', 14);
  const size = arg('size', 256);
  const runs = arg('runs', 3);
  const videos = 2; // the CFG batch: [uncond; cond]
  const n = videos * frames;
  const lat = size / 8;
  const model = PRESETS['svd-xt'];
  const cfg = model.unet;

  const graph = svdNetworkGraph(cfg, n, frames, lat, lat);
  const tree = declareVideoUNetParams(new Params(new GraphBuilder('declare'), UNET_PREFIX), cfg);
  const flops = countFlops(graph);
  console.log(`# unet benchmark — ${machineLine()}, ${threads} threads, float32, cpu provider`);
  console.log(
    `svd-xt UNet, ${size}×${size} (latent ${lat}×${lat}), T = ${frames}, batch ${n}; ${(flops / 1e12).toFixed(2)} TFLOP per evaluation`,
  );

  const rng = new Rng(0);
  const engine = await Engine.create({ threads });
  const t0 = performance.now();
  // Weights drawn when loaded (N(0, 1/fan_in), norm scales 1, biases and mix_factor 0), straight into the engine.
  await loadWeightsInto(engine, randomCheckpoint(tree), tree.shapes.keys());
  console.log(
    `weights: ${tree.count().toLocaleString('en')} parameters drawn in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  try {
    const feeds = {
      x: rng.randn('x', [n, cfg.outChannels, lat, lat]),
      concat: rng.randn('concat', [n, cfg.inChannels - cfg.outChannels, lat, lat]),
      timesteps: new HostTensor('float32', [n], new Float32Array(n).fill(Math.fround(0.25 * Math.log(10)))),
      context: rng.randn('context', [n, 1, cfg.contextDim]),
      y: rng.randn('y', [n, cfg.admInChannels!]),
      image_only_indicator: HostTensor.zeros('float32', [videos, frames]),
    };
    const t1 = performance.now();
    const first = await engine.run(graph, feeds);
    const firstMs = performance.now() - t1;
    const out = first.out.data as Float32Array;
    for (let i = 0; i < out.length; i++) {
      if (!Number.isFinite(out[i])) throw new Error(`UNet output is not finite at ${i}: ${out[i]}`);
    }
    console.log(`first call (lower + session + run): ${fmtMs(firstMs)} ms; output finite ✓`);
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      await engine.run(graph, feeds);
      times.push(performance.now() - t);
    }
    times.sort((a, c) => a - c);
    const med = times[Math.floor(times.length / 2)];
    const mem = memoryFigures();
    console.log('| model | size | T | batch | time / evaluation | effective GFLOP/s | VmHWM | PSS |');
    console.log('|---|---|---|---|---|---|---|---|');
    console.log(
      `| svd-xt UNet | ${size}×${size} | ${frames} | ${n} | ${(med / 1000).toFixed(2)} s (median of ${runs}) | ${((flops / med) * 1e-6).toFixed(0)} | ${gib(mem.vmHWM)} | ${gib(mem.pss)} |`,
    );
  } finally {
    await engine.dispose();
  }
}
