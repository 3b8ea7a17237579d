/**
 * The first stage's reconstruction PSNR on svd-mini's held-out photos (cover-cropped to 128×128 as generation does):
 * how much of an input image the autoencoder alone gives back. CHECKPOINT is a whole svd-mini checkpoint, or a training
 * checkpoint of the autoencoder stage (`runs/svd-mini/autoencoder/ckpt/step-*.safetensors`: its weights are laid over
 * fresh ones). Usage:
 *   node --import tsx scripts/svd-mini/vae-psnr.ts CHECKPOINT [PHOTO …] [--frames T] [--png DIR] [--colour]   (default:
 *   the held-out photos; --frames T reconstructs each photo as a still clip of T frames, decoded together as
 *   generation decodes a chunk, and scores frame 0 (default 1); --png writes each input beside its reconstruction; --colour also reconstructs each photo scaled and tinted
 *   and prints how far the output's channel means follow the input's: the slope of output mean on input mean per
 *   channel, 1 when colour passes through the latent, near 0 when the decoder paints a fixed colour)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { planesFromInterleaved, psnr } from '../../src/eval/psnr-ssim.ts';
import { openModelWeights } from '../../src/models/load-weights.ts';
import { SVD_MINI } from '../../src/models/presets.ts';
import { reconstructFrames } from '../../src/pipeline/reconstruct.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { rgbToTensor } from '../../src/video/image-io.ts';
import { preprocessImage } from '../../src/video/preprocess.ts';
import { HELDOUT_PHOTOS, OPENCV_DATA } from './build-footage.ts';
import { svdMiniWeightsPath } from './stage-weights.ts';

const args = process.argv.slice(2);
const framesAt = args.indexOf('--frames');
/** The photo as a still clip of this many frames (the temporal decoder sees them together); frame 0 is scored. */
const clipFrames = framesAt >= 0 ? Number(args.splice(framesAt, 2)[1]) : 1;
if (!Number.isInteger(clipFrames) || clipFrames < 1) throw new Error('--frames takes a positive integer');
const pngAt = args.indexOf('--png');
const pngDir = pngAt >= 0 ? args.splice(pngAt, 2)[1] : undefined;
if (pngDir) mkdirSync(pngDir, { recursive: true });
const colourAt = args.indexOf('--colour');
const colour = colourAt >= 0 && args.splice(colourAt, 1).length > 0;
/** Per-channel gains of the colour probe: the photo itself, darker, brighter, warmer, cooler. */
const COLOUR_GAINS: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [0.6, 0.6, 0.6],
  [1.4, 1.4, 1.4],
  [1.3, 1, 0.7],
  [0.7, 1, 1.3],
];
const [checkpoint, ...given] = args;
if (!checkpoint) throw new Error('usage: vae-psnr.ts CHECKPOINT [PHOTO …] [--png DIR]');
const photos = given.length > 0 ? given : HELDOUT_PHOTOS.map((p) => join(OPENCV_DATA, p));

const { path, cleanup } = await svdMiniWeightsPath(checkpoint);

const engine = await Engine.create({ provider: 'cpu' });
const weights = await openModelWeights(path, SVD_MINI);
const [w, h] = SVD_MINI.sampling.size;
const rows: number[] = [];
const colourRows: number[] = [];
/** Per channel: (input mean, output mean) pairs of the colour probe, values in [0, 1]. */
const means: [number, number][][] = [[], [], []];
try {
  for (const photo of photos) {
    const pre = await preprocessImage(photo, { target: { width: w, height: h }, trainedSize: { width: w, height: h } });
    const still = rgbToTensor(pre.image); // [1, 3, H, W] in [−1, 1]
    const x = new HostTensor('float32', [clipFrames, 3, h, w], new Float32Array(clipFrames * 3 * h * w));
    for (let t = 0; t < clipFrames; t++) (x.data as Float32Array).set(still.data as Float32Array, t * 3 * h * w);
    const all = (await reconstructFrames(engine, SVD_MINI, weights.source, x)).data as Float32Array;
    const frame = (t: number) => all.subarray(t * 3 * h * w, (t + 1) * 3 * h * w); // [T, 3, H, W] → [3, H, W]
    const y = { data: frame(0) };
    const ref = planesFromInterleaved(pre.image.data, w, h);
    const db = psnr(ref, { width: w, height: h, channels: 3, data: y.data });
    let later = 0; // the mean PSNR of frames 1 … T − 1 (a middle frame sees neighbours on both sides)
    for (let t = 1; t < clipFrames; t++) later += psnr(ref, { width: w, height: h, channels: 3, data: frame(t) });
    const laterNote = clipFrames > 1 ? `, frames 1–${clipFrames - 1}: ${(later / (clipFrames - 1)).toFixed(2)} dB` : '';
    rows.push(db);
    // the same with the output's per-channel means moved onto the input's: how much of the error is global colour
    const shifted = new Float32Array(y.data);
    for (let c = 0; c < 3; c++) {
      const plane = shifted.subarray(c * w * h, (c + 1) * w * h);
      const refPlane = (ref.data as Float32Array).subarray(c * w * h, (c + 1) * w * h);
      const want = refPlane.reduce((a, v) => a + v, 0) / (w * h);
      const have = plane.reduce((a, v) => a + v, 0) / (w * h);
      for (let i = 0; i < plane.length; i++) plane[i] += want - have;
    }
    const dbColour = psnr(ref, { width: w, height: h, channels: 3, data: shifted });
    colourRows.push(dbColour);
    if (pngDir) {
      // input | reconstruction, side by side
      const both = Buffer.alloc(2 * w * h * 3);
      const r = y.data as Float32Array;
      for (let yy = 0; yy < h; yy++) {
        for (let x = 0; x < w; x++) {
          for (let c = 0; c < 3; c++) {
            both[(yy * 2 * w + x) * 3 + c] = pre.image.data[(yy * w + x) * 3 + c];
            const v = r[c * w * h + yy * w + x];
            both[(yy * 2 * w + w + x) * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
          }
        }
      }
      const name = (photo.split('/').pop() ?? 'photo').replace(/\.[^.]*$/, '');
      await sharp(both, { raw: { width: 2 * w, height: h, channels: 3 } })
        .png()
        .toFile(join(pngDir, `${name}.png`));
    }
    console.log(
      `${photo.split('/').pop()}\t${db.toFixed(2)} dB\t(channel means matched: ${dbColour.toFixed(2)} dB${laterNote})`,
    );
    if (colour) {
      for (const gain of COLOUR_GAINS) {
        const tinted = new Uint8Array(pre.image.data.length);
        for (let i = 0; i < tinted.length; i++) tinted[i] = Math.min(255, Math.round(pre.image.data[i] * gain[i % 3]));
        const out = await reconstructFrames(
          engine,
          SVD_MINI,
          weights.source,
          rgbToTensor({ ...pre.image, data: tinted }),
        );
        const o = out.data as Float32Array;
        const inMean = [0, 0, 0];
        const outMean = [0, 0, 0];
        for (let i = 0; i < w * h; i++) {
          for (let c = 0; c < 3; c++) {
            inMean[c] += tinted[i * 3 + c] / 255 / (w * h);
            outMean[c] += Math.min(1, Math.max(0, o[c * w * h + i])) / (w * h);
          }
        }
        for (let c = 0; c < 3; c++) means[c].push([inMean[c], outMean[c]]);
      }
    }
  }
  if (colour) {
    const slopes = means.map((pairs) => {
      const mx = pairs.reduce((a, p) => a + p[0], 0) / pairs.length;
      const my = pairs.reduce((a, p) => a + p[1], 0) / pairs.length;
      const cov = pairs.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
      const vx = pairs.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
      return cov / vx;
    });
    const [r, g, b] = slopes.map((v) => v.toFixed(2));
    console.log(`colour\tslope of output mean on input mean (1 = follows): R ${r}, G ${g}, B ${b}`);
  }
  const avg = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2);
  console.log(`mean\t${avg(rows)} dB\t(channel means matched: ${avg(colourRows)} dB)`);
} finally {
  await weights.source.close();
  await engine.dispose();
  cleanup();
}
