/**
 * `npm run bench -- generate`: end-to-end image-to-video time and peak memory, with a per-stage breakdown
 * (conditioning, each UNet evaluation, decoding, video encoding):
 *  - the tiny golden model (test/fixtures/golden/pipeline-tiny) at 64×64, 4 frames, 4 steps;
 *  - `svd generate --image <photo>` as a user runs it: a new process with svd-mini's defaults (128×128, 14 frames,
 *    15 steps with CFG), the shipped weights (or, before they ship, fresh weights of the same architecture: the same
 *    work), from process start to the written video, against issue 11's 30 s bound;
 *  - the full-size svd-xt architecture with random weights (N(0, 1/fan_in)) at 576×1024, 4 frames, 1 step
 *    (`--skip-full` leaves it out; it needs ~20 GiB and several minutes on 2 cores).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { declareModelParams } from '../src/models/declare-params.ts';
import type { SvdModel } from '../src/models/description.ts';
import { freshWeights } from '../src/models/fresh-weights.ts';
import { openModelWeights } from '../src/models/load-weights.ts';
import { PRESETS, SVD_MINI } from '../src/models/presets.ts';
import { modelFromReferenceConfig } from '../src/models/reference/model-config.ts';
import { findShippedModel } from '../src/models/shipped.ts';
import { imageToVideo } from '../src/pipeline/image-to-video.ts';
import { defaultParams, type GenerateParams } from '../src/pipeline/params.ts';
import { Engine } from '../src/runtime/engine.ts';
import { gib, memoryFigures } from '../src/runtime/process-memory.ts';
import type { HostTensor } from '../src/tensor/host-tensor.ts';
import { Rng } from '../src/tensor/rng.ts';
import { unitFramesToVideo } from '../src/video/frames.ts';
import { loadImageTensor } from '../src/video/image-io.ts';
import { writeVideo } from '../src/video/writers.ts';
import type { CheckpointSource } from '../src/weights/index.ts';
import { writeSafetensors } from '../src/weights/index.ts';
import { randomCheckpoint } from '../src/weights/random-source.ts';
import { recordFigure, resetPeak } from './report.ts';
import { machineLine } from './stats.ts';

const GOLDEN = fileURLToPath(new URL('../test/fixtures/golden/pipeline-tiny/', import.meta.url));

async function runOnce(
  label: string,
  threads: number,
  model: SvdModel,
  weights: CheckpointSource,
  image: HostTensor,
  params: GenerateParams,
): Promise<void> {
  resetPeak();
  const engine = await Engine.create({ threads });
  const stepTimes: number[] = [];
  let last = performance.now();
  const t0 = performance.now();
  try {
    const r = await imageToVideo(engine, model, weights, { image }, params, {
      onStage: (s) => {
        process.stderr.write(`  ${label}: ${s}\n`);
        last = performance.now();
      },
      onStep: () => {
        const now = performance.now();
        stepTimes.push(now - last);
        last = now;
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'svd-bench-'));
    const te = performance.now();
    await writeVideo(unitFramesToVideo(r.frames), join(dir, 'out.mp4'), { fps: params.fpsId + 1 });
    const encodeMs = performance.now() - te;
    rmSync(dir, { recursive: true, force: true });
    const total = performance.now() - t0;
    const mem = memoryFigures();
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const stages = Object.entries(r.timings)
      .map(([k, v]) => `${k} ${s(v)}`)
      .join(', ');
    console.log(
      `| ${label} | ${s(total)} | ${stages}; UNet evaluations ${stepTimes.map(s).join(' / ')}; video encoding ${s(encodeMs)} | ${gib(mem.vmHWM)} | ${gib(mem.pss)} |`,
    );
    recordFigure({
      suite: 'generate',
      case: `image to video end to end: ${label}`,
      ours: total,
      peak: mem.vmHWM,
      baselineMissing:
        'none run here: the reference pipeline (sgm sampling script) needs open_clip and kornia, which are not Debian packages; its UNet, most of the time, is compared in the unet suite',
      note: `${stages}; video encoding ${s(encodeMs)}`,
    });
  } finally {
    await engine.dispose();
  }
}

/** Issue 11's bound on `svd generate --image x.png` with the shipped model, end to end on the 2-core machine. */
const SVD_MINI_BOUND_MS = 30_000;

/** `svd generate --image <photo>` in a new process, timed from spawn to exit. */
async function svdMiniCli(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'svd-bench-mini-'));
  try {
    const shipped = findShippedModel();
    const args = ['bin/svd.mjs', 'generate', '--image', 'test/fixtures/golden/pipeline-tiny/input.png'];
    args.push('--out', join(dir, 'out.mp4'), '--quiet');
    if (!shipped) {
      const ckpt = join(dir, 'fresh.safetensors');
      await writeSafetensors(ckpt, freshWeights(SVD_MINI, 0), { format: 'pt' });
      args.push('--checkpoint', ckpt, '--preset', 'svd-mini');
    }
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`svd generate failed (${r.status}): ${r.stderr.trim().split('\n').pop()}`);
    const weights = shipped ? 'shipped weights' : 'fresh weights (none shipped yet)';
    console.log(
      `| svd generate --image (svd-mini defaults, ${weights}), new process | ${(ms / 1000).toFixed(2)} s | | | |`,
    );
    recordFigure({
      suite: 'generate',
      case: `svd generate --image, svd-mini defaults, ${weights}, process start to video`,
      ours: ms,
      baseline: { name: "issue 11's bound", value: SVD_MINI_BOUND_MS },
      note: '128×128, 14 frames, 15 steps with CFG; a ratio < 1 is inside the bound',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchGenerate(threads: number): Promise<void> {
  console.log(`# generate benchmark — ${machineLine()}, ${threads} threads, float32, cpu provider`);
  console.log('| run | total | stages | VmHWM | PSS |');
  console.log('|---|---|---|---|---|');
  const tiny = modelFromReferenceConfig(JSON.parse(readFileSync(`${GOLDEN}config.json`, 'utf8')), 'tiny');
  const tw = await openModelWeights(`${GOLDEN}checkpoint.safetensors`, tiny);
  const tinyParams = { ...defaultParams(tiny.sampling), frames: 4, steps: 4, decodeChunk: 2, maxCfg: 2.5, minCfg: 1 };
  await runOnce(
    'tiny golden model, 64×64, 4 frames, 4 steps',
    threads,
    tiny,
    tw.source,
    await loadImageTensor(`${GOLDEN}input.png`),
    tinyParams,
  );
  await tw.source.close();
  await svdMiniCli();
  if (process.argv.includes('--skip-full')) return;
  const full = PRESETS['svd-xt'];
  const weights = randomCheckpoint(declareModelParams(full));
  const image = new Rng(1).rand('image', [1, 3, 576, 1024]);
  for (let i = 0; i < image.data.length; i++) image.data[i] = image.data[i] * 2 - 1;
  const params = {
    ...defaultParams(full.sampling),
    frames: 4,
    steps: 1,
    decodeChunk: 4,
    splitCfg: process.argv.includes('--split-cfg'),
  };
  await runOnce('svd-xt (random weights), 576×1024, 4 frames, 1 step', threads, full, weights, image, params);
}
