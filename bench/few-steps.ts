/**
 * `npm run bench -- few-steps` (issue 13 item 6): the CPU time of a 14-frame 320×512 svd-xt video with AnimateLCM's
 * 4 consistency steps at cfg 1 (`--preset animatelcm-svd-xt --guider identity`: one UNet call per step, no CFG
 * batch) against the reference's 25 Euler steps with linear CFG 1 → 3 (a batch of 2 per call). Both on the svd-xt
 * architecture with random weights (N(0, 1/fan_in): the same work as the released ones). The LCM video runs whole;
 * the Euler video runs 2 steps and its time is conditioning + decoding + 25 × its mean step, as measured in the same
 * run (25 steps of svd-xt on 2 cores take over an hour). `--steps-euler N` measures N Euler steps instead of 2.
 */
import { declareModelParams } from '../src/models/declare-params.ts';
import type { SvdModel } from '../src/models/description.ts';
import { PRESETS } from '../src/models/presets.ts';
import { imageToVideo } from '../src/pipeline/image-to-video.ts';
import { defaultParams, type GenerateParams } from '../src/pipeline/params.ts';
import { Engine } from '../src/runtime/engine.ts';
import { gib, memoryFigures } from '../src/runtime/process-memory.ts';
import { Rng } from '../src/tensor/rng.ts';
import type { CheckpointSource } from '../src/weights/index.ts';
import { randomCheckpoint } from '../src/weights/random-source.ts';
import { recordFigure, resetPeak } from './report.ts';
import { machineLine } from './stats.ts';

const [HEIGHT, WIDTH, FRAMES] = [320, 512, 14];

interface Timed {
  /** Everything but the sampling steps (conditioning, decoding), ms. */
  fixed: number;
  /** Each sampling step (UNet evaluations and the sampler's update), ms. */
  steps: number[];
}

async function timedRun(threads: number, model: SvdModel, weights: CheckpointSource, params: GenerateParams) {
  const image = new Rng(1).rand('image', [1, 3, HEIGHT, WIDTH]);
  for (let i = 0; i < image.data.length; i++) image.data[i] = image.data[i] * 2 - 1;
  resetPeak();
  const engine = await Engine.create({ threads });
  const steps: number[] = [];
  let last = performance.now();
  const t0 = performance.now();
  try {
    await imageToVideo(engine, model, weights, { image }, params, {
      onStage: () => {
        last = performance.now();
      },
      onStep: () => {
        const now = performance.now();
        steps.push(now - last);
        last = now;
        process.stderr.write(`  step ${steps.length}: ${((now - t0) / 1000).toFixed(0)} s\n`);
      },
    });
  } finally {
    await engine.dispose();
  }
  const total = performance.now() - t0;
  return { fixed: total - steps.reduce((a, b) => a + b, 0), steps } satisfies Timed;
}

export async function benchFewSteps(threads: number): Promise<void> {
  const at = process.argv.indexOf('--steps-euler');
  const eulerMeasured = at >= 0 ? Number(process.argv[at + 1]) : 2;
  console.log(`# few-step sampling — ${machineLine()}, ${threads} threads, float32, cpu provider`);
  console.log(`svd-xt architecture, random weights, ${FRAMES} frames at ${WIDTH}×${HEIGHT}`);
  const lcmModel = PRESETS['animatelcm-svd-xt'];
  const xt = PRESETS['svd-xt'];
  const weights = randomCheckpoint(declareModelParams(xt));
  const common = { frames: FRAMES, decodeChunk: 14 };
  const lcm = await timedRun(threads, lcmModel, weights, {
    ...defaultParams(lcmModel.sampling),
    ...common,
    steps: 4,
    guider: 'identity',
  });
  const lcmMem = memoryFigures();
  const euler = await timedRun(threads, xt, weights, {
    ...defaultParams(xt.sampling),
    ...common,
    steps: eulerMeasured,
  });
  const eulerMem = memoryFigures();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const lcmTotal = lcm.fixed + lcm.steps.reduce((a, b) => a + b, 0);
  const euler25 = euler.fixed + 25 * mean(euler.steps);
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log('| sampling | total | conditioning + decoding | per step | VmHWM |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| AnimateLCM, 4 steps, cfg 1 (1 UNet call of batch 1 per step) | ${s(lcmTotal)} | ${s(lcm.fixed)} | ${lcm.steps.map(s).join(' / ')} | ${gib(lcmMem.vmHWM)} |`,
  );
  console.log(
    `| Euler, 25 steps, CFG 1 → 3 (batch 2 per call; ${eulerMeasured} steps measured) | ${s(euler25)} | ${s(euler.fixed)} | ${euler.steps.map(s).join(' / ')} | ${gib(eulerMem.vmHWM)} |`,
  );
  console.log(`ratio (LCM-4 / Euler-25): ${(lcmTotal / euler25).toFixed(3)}`);
  recordFigure({
    suite: 'few-steps',
    case: `svd-xt ${FRAMES}×${WIDTH}×${HEIGHT}, AnimateLCM 4 steps at cfg 1, end to end`,
    ours: lcmTotal,
    baseline: { name: `Euler 25 steps with CFG (${eulerMeasured} measured, the rest at their mean)`, value: euler25 },
    note: `decoding and conditioning ${s(lcm.fixed)} / ${s(euler.fixed)}`,
  });
}
