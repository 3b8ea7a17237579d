/**
 * svd-mini's recipe, between its two autoencoder phases: a trained autoencoder with the released models' 4 latent
 * channels becomes the starting point of svd-mini's 16-channel one (MINI_LATENT_CHANNELS, src/models/presets.ts),
 * computing exactly the same reconstruction at first:
 * - `encoder.conv_out` [2·4, C, 3, 3] → [2·16, C, 3, 3] (sgm `double_z`: means, then log-variances): the 4 trained
 *   mean rows and 4 log-variance rows keep their values; the 12 new mean rows start fresh (PyTorch's default init)
 *   times `NEW_MEAN_GAIN` (measured: fresh rows gave the new channels a spread of 0.2–0.3 on the training photos against
 *   1.0–1.6 for the trained ones, and the decoder, whose weights for them start at 0, learnt to read them slowly: after
 *   250 steps those weights had norm 0.05 against 2.5), the
 *   12 new log-variance rows at weight 0 and bias `LOGVAR_BIAS` (the first phase's `model.logvarInit`: posterior
 *   std e^−4 ≈ 0.02, so the new channels are not drowned in sampling noise);
 * - `decoder.conv_in` [C, 4, 3, 3] → [C, 16, 3, 3]: the new input channels' weights start at 0, so the decoder ignores
 *   them until training gives them weight.
 * - a temporal conv whose trained kernel is 3×3×3 where svd-mini's is [3, 1, 1] (the video decoder's `time_stack`
 *   convs and `conv_out.time_mix_conv`; the shipped model's first phase was trained with sgm's default kernel before
 *   the preset took svd.yaml's [3, 1, 1]): each temporal tap becomes the sum of its spatial taps, exact on spatially
 *   constant inputs;
 * Every other first-stage tensor is copied; the rest of the model (UNet, conditioning encoder, CLIP) is fresh, as the
 * autoencoder stage leaves it. Usage:
 *   node --import tsx scripts/svd-mini/widen-latent.ts IN.safetensors OUT.safetensors [SEED]
 */
import { freshWeights } from '../../src/models/fresh-weights.ts';
import { MINI_LATENT_CHANNELS, SVD_MINI } from '../../src/models/presets.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { SafetensorsFile, writeSafetensors } from '../../src/weights/index.ts';

const LOGVAR_BIAS = -8;
const NEW_MEAN_GAIN = 5;
const [input, output, seedArg] = process.argv.slice(2);
if (!input || !output) throw new Error('usage: widen-latent.ts IN.safetensors OUT.safetensors [SEED]');
const seed = seedArg === undefined ? 0 : Number(seedArg);

const file = await SafetensorsFile.open(input);
const trained = await file.readAll();
await file.close();
const out = freshWeights(SVD_MINI, seed);
const n = MINI_LATENT_CHANNELS;

const f32 = (t: HostTensor) => t.data as Float32Array;
const get = (k: string) => {
  const t = trained.get(k);
  if (!t) throw new Error(`${input} has no ${k}`);
  return t;
};

let copied = 0;
let summed = 0;
for (const [k, t] of trained) {
  if (!k.startsWith('first_stage_model.')) continue;
  const fresh = out.get(k);
  if (fresh && fresh.shape.join() === t.shape.join()) {
    out.set(k, t as HostTensor<'float32'>);
    copied++;
  } else if (fresh && isSpatialTapsOf(t.shape, fresh.shape)) {
    out.set(k, sumSpatialTaps(t as HostTensor<'float32'>, fresh.shape));
    summed++;
  }
}

/** [O, I, kt, kh, kw] trained against [O, I, kt, 1, 1] wanted. */
function isSpatialTapsOf(have: readonly number[], want: readonly number[]): boolean {
  return (
    have.length === 5 &&
    want.length === 5 &&
    have.slice(0, 3).join() === want.slice(0, 3).join() &&
    want[3] === 1 &&
    want[4] === 1
  );
}

/** [O, I, kt, kh, kw] → [O, I, kt, 1, 1]: each temporal tap's spatial taps summed. */
function sumSpatialTaps(t: HostTensor<'float32'>, shape: readonly number[]): HostTensor<'float32'> {
  const [o, i, kt, kh, kw] = t.shape;
  const src = f32(t);
  const dst = new Float32Array(o * i * kt);
  const taps = kh * kw;
  for (let n = 0; n < o * i * kt; n++) {
    let acc = 0;
    for (let j = 0; j < taps; j++) acc += src[n * taps + j];
    dst[n] = acc;
  }
  return new HostTensor('float32', [...shape], dst);
}

// encoder.conv_out: rows [mean 0..z) [logvar z..2z) → [mean 0..n) [logvar n..2n)
const ow = get('first_stage_model.encoder.conv_out.weight');
const ob = get('first_stage_model.encoder.conv_out.bias');
const z = ow.shape[0] / 2;
if (z >= n) throw new Error(`${input} has ${z} latent channels, not fewer than ${n}`);
const row = ow.shape.slice(1).reduce((a, d) => a * d, 1);
const w = out.get('first_stage_model.encoder.conv_out.weight')!;
const b = out.get('first_stage_model.encoder.conv_out.bias')!;
const [wd, bd, owd, obd] = [f32(w), f32(b), f32(ow), f32(ob)];
for (let c = 0; c < z; c++) {
  wd.set(owd.subarray(c * row, (c + 1) * row), c * row); // mean
  wd.set(owd.subarray((z + c) * row, (z + c + 1) * row), (n + c) * row); // log-variance
  bd[c] = obd[c];
  bd[n + c] = obd[z + c];
}
for (let c = z; c < n; c++) {
  for (let j = c * row; j < (c + 1) * row; j++) wd[j] *= NEW_MEAN_GAIN;
  bd[c] *= NEW_MEAN_GAIN;
  wd.fill(0, (n + c) * row, (n + c + 1) * row);
  bd[n + c] = LOGVAR_BIAS;
}

// decoder.conv_in: [C, z, 3, 3] → [C, n, 3, 3], new input channels 0
const iw = get('first_stage_model.decoder.conv_in.weight');
const [co, , kh, kw] = iw.shape;
const k2 = kh * kw;
const dw = out.get('first_stage_model.decoder.conv_in.weight')!;
const [dwd, iwd] = [f32(dw), f32(iw)];
dwd.fill(0);
for (let o = 0; o < co; o++)
  for (let c = 0; c < z; c++) dwd.set(iwd.subarray((o * z + c) * k2, (o * z + c + 1) * k2), (o * n + c) * k2);

await writeSafetensors(output, out, { format: 'pt' });
console.error(
  `widen-latent: ${z} → ${n} latent channels, ${copied} first-stage tensors copied and 3 widened from ${input}` +
    (summed > 0 ? `, ${summed} temporal kernels reduced to [3, 1, 1]` : '') +
    ` → ${output}`,
);
