/**
 * The spread of svd-mini's latents: encodes the training photos (128×128, centre crop) with the first-stage encoder
 * of CHECKPOINT (a whole model or an autoencoder training checkpoint) and prints the standard deviation of the
 * posterior means over every element, with the scale factor that makes them unit-variance (LDM §4.3.2 /
 * arXiv 2112.10752 App. G: the SD VAE's 0.18215 was measured so). The diffusion stages see
 * x0 = scale_factor · z, and their preconditioning assumes σ_data = 1. With `--check` it exits 1 when the preset's
 * scale factor gives the latents a spread outside [0.8, 1.25] (the recipe then stops before the diffusion stages).
 * It also prints the least-squares map from the scaled latent (what the sampler sees) to each 8×8 block's mean colour
 * in [−1, 1], svd-mini's `latentRgb` for progress previews (src/pipeline/stages/preview.ts).
 * Usage:
 *   node --import tsx scripts/svd-mini/latent-scale.ts CHECKPOINT [--check]
 */
import { openModelWeights } from '../../src/models/load-weights.ts';
import { SVD_MINI } from '../../src/models/presets.ts';
import { planMemory } from '../../src/pipeline/memory-estimate.ts';
import { encodeFrames } from '../../src/pipeline/reconstruct.ts';
import { StageRunner } from '../../src/pipeline/stage-runner.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { LeastSquares } from '../../src/tensor/small-matrix.ts';
import { rgbToTensor } from '../../src/video/image-io.ts';
import { preprocessImage } from '../../src/video/preprocess.ts';
import { blockMeanColour, latentPixel } from './block-colour.ts';
import { TRAIN_PHOTOS } from './build-footage.ts';
import { svdMiniWeightsPath } from './stage-weights.ts';

const args = process.argv.slice(2);
const check = args.includes('--check');
const [checkpoint] = args.filter((a) => a !== '--check');
if (!checkpoint) throw new Error('usage: latent-scale.ts CHECKPOINT [--check]');
const { path, cleanup } = await svdMiniWeightsPath(checkpoint);
const engine = await Engine.create({ provider: 'cpu' });
const weights = await openModelWeights(path, SVD_MINI);
const [w, h] = SVD_MINI.sampling.size;
let n = 0;
let sum = 0;
let sumSq = 0;
const z = SVD_MINI.unet.outChannels;
/** The colour fit: scaled latent pixel [z] → its 8×8 block's mean colour [3]. */
const colourFit = new LeastSquares(z, 3);
try {
  const runner = new StageRunner(engine, weights.source, planMemory(SVD_MINI, 1, h, w, 1, false));
  for (const photo of TRAIN_PHOTOS) {
    const pre = await preprocessImage(photo, {
      target: { width: w, height: h },
      trainedSize: { width: w, height: h },
    });
    const x = rgbToTensor(pre.image); // [1, 3, H, W] in [−1, 1]
    const mean = await encodeFrames(runner, SVD_MINI, x); // [1, z, h/8, w/8]
    for (const v of mean.data as Float32Array) {
      n++;
      sum += v;
      sumSq += v * v;
    }
    accumulateColourFit(mean.data as Float32Array, x.data as Float32Array, h, w);
  }
} finally {
  await weights.source.close();
  await engine.dispose();
  cleanup();
}
/** Adds one photo's latent pixels and their 8×8 blocks' mean colours to the colour fit. */
function accumulateColourFit(lat: Float32Array, img: Float32Array, H: number, W: number): void {
  for (let i = 0; i < H / 8; i++)
    for (let j = 0; j < W / 8; j++)
      colourFit.add(latentPixel(lat, z, H, W, i, j, SVD_MINI.scaleFactor), blockMeanColour(img, H, W, i, j));
}

const fit = colourFit.solve();
console.log(
  `latentRgb (scaled latent → block colour, least squares, scale factor ${SVD_MINI.scaleFactor}):\n[\n` +
    fit.map((r) => `  [${r.map((v) => v.toFixed(4)).join(', ')}],`).join('\n') +
    '\n]',
);
const mean = sum / n;
const std = Math.sqrt(sumSq / n - mean * mean);
console.log(`latents of ${TRAIN_PHOTOS.length} training photos: mean ${mean.toFixed(4)}, std ${std.toFixed(4)}`);
console.log(`scale factor for unit variance: ${(1 / std).toFixed(5)} (the preset's: ${SVD_MINI.scaleFactor})`);
const spread = SVD_MINI.scaleFactor * std;
if (check && !(spread >= 0.8 && spread <= 1.25)) {
  console.error(
    `latent-scale: with the preset's scale factor the latents' std is ${spread.toFixed(3)}, not about 1: set ` +
      `svd-mini's scaleFactor in src/models/presets.ts to ${(1 / std).toFixed(5)} before the diffusion stages`,
  );
  process.exit(1);
}
