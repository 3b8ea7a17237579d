/**
 * Do svd-mini's frames hold together? (issue 11 item 5, reported, not asserted): for the held-out photos' ground-truth
 * camera moves (scripts/svd-mini/build-footage.ts, `data/svd-mini/footage/heldout/`: pans with known velocity; its zooms
 * are left out, as the zoom LoRAs do not ship), the video the shipped model makes from the clip's first frame with the matching camera LoRA is
 * scored frame by frame against the true move (PSNR, SSIM over frames 1…13), beside two references: the model without
 * a LoRA, and the first frame held still (what a model that does not move at all would score).
 * Usage: node --import tsx scripts/svd-mini/pan-fidelity.ts [--speeds 2] [--seeds 1] [--json FILE]
 *   (run after scripts/train-svd-mini.sh has built the footage and the LoRAs are in models/svd-mini/loras/)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ImagePlanes, planesFromInterleaved, psnr, ssim } from '../../src/eval/psnr-ssim.ts';
import { SVD_MINI } from '../../src/models/presets.ts';
import { findShippedModel, UNSHIPPED_CAMERA_LORAS } from '../../src/models/shipped.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { decodeFrames } from '../../src/video/decode.ts';
import type { FootageRecord } from './build-footage.ts';
import { framePlanes, generateMiniVideos, type MiniVideoCase } from './mini-videos.ts';

const DATA = 'data/svd-mini';

interface Row {
  clip: string;
  camera: string;
  speed: number | null;
  /** Mean over frames 1…T−1 (frame 0 is the input). */
  lora: { psnr: number; ssim: number };
  base: { psnr: number; ssim: number };
  still: { psnr: number; ssim: number };
}

/** Mean PSNR and SSIM of `frame(t)` against `truth[t]` over t = 1…T−1. */
function score(truth: readonly ImagePlanes[], frame: (t: number) => ImagePlanes): { psnr: number; ssim: number } {
  let p = 0;
  let s = 0;
  for (let t = 1; t < truth.length; t++) {
    p += psnr(truth[t], frame(t));
    s += ssim(truth[t], frame(t));
  }
  return { psnr: p / (truth.length - 1), ssim: s / (truth.length - 1) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      speeds: { type: 'string', default: '2' },
      seeds: { type: 'string', default: '1' },
      json: { type: 'string' },
    },
  });
  const speeds = new Set(values.speeds.split(',').map(Number));
  const seeds = values.seeds.split(',').map(Number);
  const shipped = findShippedModel();
  if (!shipped) throw new Error('models/svd-mini/svd-mini.safetensors is missing: the shipped model is not here');
  const records = readFileSync(join(DATA, 'footage.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as FootageRecord)
    .filter((r) => r.split === 'heldout' && r.kind === 'camera' && r.camera !== 'static')
    .filter((r) => UNSHIPPED_CAMERA_LORAS[r.camera] === undefined)
    .filter((r) => speeds.has(Math.hypot(...(r.velocity ?? [0, 0]))));
  const missing = [...new Set(records.map((r) => r.camera))].filter((c) => !shipped.loras.has(c));
  if (missing.length > 0) throw new Error(`LoRAs missing from models/svd-mini/loras/: ${missing.join(', ')}`);
  const [width, height] = SVD_MINI.sampling.size;
  const frames = SVD_MINI.sampling.numFrames;
  const truths: ImagePlanes[][] = [];
  for (const r of records) {
    const clip = await decodeFrames(join(DATA, r.file), { count: frames, width, height });
    truths.push(clip.data.map((d) => planesFromInterleaved(d, width, height)));
  }
  const engine = await Engine.create({ provider: 'cpu' });
  const rows: Row[] = [];
  try {
    const cases: (MiniVideoCase & { record: number })[] = [];
    for (const [k, r] of records.entries()) {
      const first = await decodeFrames(join(DATA, r.file), { count: 1, width, height });
      const input = { width, height, data: first.data[0] };
      for (const seed of seeds) {
        cases.push({ record: k, input, seed, lora: r.camera });
        cases.push({ record: k, input, seed });
      }
    }
    const started = Date.now();
    const videos = await generateMiniVideos(engine, shipped, cases);
    process.stderr.write(`pan-fidelity: ${cases.length} videos in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    for (const [k, r] of records.entries()) {
      const truth = truths[k];
      const mean = (lora: boolean) => {
        const picked = cases.flatMap((c, i) => (c.record === k && (c.lora !== undefined) === lora ? [videos[i]] : []));
        const s = picked.map((v) => score(truth, (t) => framePlanes(v, t)));
        return {
          psnr: s.reduce((a, b) => a + b.psnr, 0) / s.length,
          ssim: s.reduce((a, b) => a + b.ssim, 0) / s.length,
        };
      };
      rows.push({
        clip: r.file,
        camera: r.camera,
        speed: r.velocity ? Math.hypot(...r.velocity) : null,
        lora: mean(true),
        base: mean(false),
        still: score(truth, () => truth[0]),
      });
    }
  } finally {
    await engine.dispose();
  }
  const f = (v: { psnr: number; ssim: number }) => `${v.psnr.toFixed(2)} dB / ${v.ssim.toFixed(3)}`;
  console.log('| clip | camera | with its LoRA (PSNR / SSIM) | no LoRA | first frame held still |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.clip} | ${r.camera} | ${f(r.lora)} | ${f(r.base)} | ${f(r.still)} |`);
  const avg = (pick: (r: Row) => { psnr: number; ssim: number }) => ({
    psnr: rows.reduce((a, r) => a + pick(r).psnr, 0) / rows.length,
    ssim: rows.reduce((a, r) => a + pick(r).ssim, 0) / rows.length,
  });
  console.log(
    `| mean of ${rows.length} | | ${f(avg((r) => r.lora))} | ${f(avg((r) => r.base))} | ${f(avg((r) => r.still))} |`,
  );
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ seeds, rows }, null, 2)}\n`);
}

await main();
