/**
 * Does svd-mini's latent carry colour? On photos at 128×128 (default: 20 training photos), the share of the variance of
 * each 8×8 block's brightness and colour differences (R − G, B − G; in [−1, 1]) that (a) a least-squares linear read of
 * the latent pixel above it explains and (b) the autoencoder's reconstruction gives back (R² = 1 − residual / variance;
 * below 0 when the output is further off than the mean). An autoencoder that paints grey shows brightness near 1 and
 * colour near 0 in both. CHECKPOINT: a whole model or an autoencoder training checkpoint. Usage:
 *   node --import tsx scripts/svd-mini/latent-colour.ts CHECKPOINT [PHOTO …]
 */
import { openModelWeights } from '../../src/models/load-weights.ts';
import { SVD_MINI } from '../../src/models/presets.ts';
import { planMemory } from '../../src/pipeline/memory-estimate.ts';
import { encodeFrames, reconstructFrames } from '../../src/pipeline/reconstruct.ts';
import { StageRunner } from '../../src/pipeline/stage-runner.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { LeastSquares } from '../../src/tensor/small-matrix.ts';
import { rgbToTensor } from '../../src/video/image-io.ts';
import { preprocessImage } from '../../src/video/preprocess.ts';
import { blockMeanColour, latentPixel } from './block-colour.ts';
import { TRAIN_PHOTOS } from './build-footage.ts';
import { svdMiniWeightsPath } from './stage-weights.ts';

const [checkpoint, ...given] = process.argv.slice(2);
if (!checkpoint) throw new Error('usage: latent-colour.ts CHECKPOINT [PHOTO …]');
const photos = given.length > 0 ? given : TRAIN_PHOTOS.slice(0, 20);
const [W, H] = SVD_MINI.sampling.size;
const z = SVD_MINI.unet.outChannels;

/** (R − G, B − G, brightness) of the 8×8 block (i, j) of planes [3, H, W] (values in [−1, 1]). */
function blockTraits(planes: ArrayLike<number>, i: number, j: number): number[] {
  const [r, g, b] = blockMeanColour(planes, H, W, i, j);
  return [r - g, b - g, (r + g + b) / 3];
}

const { path, cleanup } = await svdMiniWeightsPath(checkpoint);
const engine = await Engine.create({ provider: 'cpu' });
const weights = await openModelWeights(path, SVD_MINI);
/** Per block: the latent pixel with a 1 appended, the input's traits, the reconstruction's traits. */
const latents: number[][] = [];
const inputs: number[][] = [];
const outputs: number[][] = [];
try {
  for (const photo of photos) {
    const pre = await preprocessImage(photo, { target: { width: W, height: H }, trainedSize: { width: W, height: H } });
    const x = rgbToTensor(pre.image); // [1, 3, H, W] in [−1, 1]
    const runner = new StageRunner(engine, weights.source, planMemory(SVD_MINI, 1, H, W, 1, false));
    const lat = (await encodeFrames(runner, SVD_MINI, x)).data as Float32Array; // [1, z, H/8, W/8]
    const rec = (await reconstructFrames(engine, SVD_MINI, weights.source, x)).data as Float32Array; // [0, 1]
    const recPm = rec.map((v) => 2 * v - 1);
    for (let i = 0; i < H / 8; i++) {
      for (let j = 0; j < W / 8; j++) {
        latents.push([...latentPixel(lat, z, H, W, i, j), 1]);
        inputs.push(blockTraits(x.data as Float32Array, i, j));
        outputs.push(blockTraits(recPm, i, j));
      }
    }
  }
} finally {
  await weights.source.close();
  await engine.dispose();
  cleanup();
}

// least squares: the latent pixel (with a constant 1) → the input block's three traits
const fit = new LeastSquares(z + 1, 3);
for (const [n, a] of latents.entries()) fit.add(a, inputs[n]);
const coef = fit.solve();
console.log(`${photos.length} photos, ${latents.length} blocks of 8×8`);
console.log('trait\tvariance\tR² linear read of the latent\tR² reconstruction');
['R − G', 'B − G', 'brightness'].forEach((name, k) => {
  const mean = inputs.reduce((s, y) => s + y[k], 0) / inputs.length;
  let total = 0;
  let linear = 0;
  let decoded = 0;
  latents.forEach((a, n) => {
    const y = inputs[n][k];
    total += (y - mean) ** 2;
    linear += (y - a.reduce((s, v, c) => s + v * coef[c][k], 0)) ** 2;
    decoded += (y - outputs[n][k]) ** 2;
  });
  console.log(
    `${name}\t${(total / inputs.length).toFixed(4)}\t${(1 - linear / total).toFixed(3)}\t${(1 - decoded / total).toFixed(3)}`,
  );
});
