/**
 * `npm run bench -- sampler-steps`: "fewer steps at equal quality" on the tiny golden model — the smallest N at which
 * DPM++(2M)-N is closer (L2) than Euler-25 to Euler-200's final latent, same image and noise.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SamplerKind } from '../src/diffusion/config.ts';
import { openModelWeights } from '../src/models/load-weights.ts';
import { modelFromReferenceConfig } from '../src/models/reference/model-config.ts';
import { imageToVideo } from '../src/pipeline/image-to-video.ts';
import { defaultParams } from '../src/pipeline/params.ts';
import { Engine } from '../src/runtime/engine.ts';
import { loadImageTensor } from '../src/video/image-io.ts';
import { readSafetensors } from './golden-data.ts';
import { peakBytes, recordFigure } from './report.ts';
import { machineLine } from './stats.ts';

const G = fileURLToPath(new URL('../test/fixtures/golden/pipeline-tiny/', import.meta.url));

export async function benchSamplerSteps(threads: number): Promise<void> {
  console.log(`# sampler steps — ${machineLine()}, tiny golden model, 4 frames`);
  const model = modelFromReferenceConfig(JSON.parse(readFileSync(`${G}config.json`, 'utf8')), 'tiny');
  const noise = await readSafetensors(`${G}noise.safetensors`);
  const image = await loadImageTensor(`${G}input.png`);
  const engine = await Engine.create({ threads });
  const weights = await openModelWeights(`${G}checkpoint.safetensors`, model);
  const latent = async (sampler: SamplerKind, steps: number) => {
    const p = { ...defaultParams(model.sampling), frames: 4, steps, sampler, decodeChunk: 2, minCfg: 1, maxCfg: 2.5 };
    const r = await imageToVideo(
      engine,
      model,
      weights.source,
      { image, condNoise: noise.get('cond_noise')!, latentNoise: noise.get('latent_noise')! },
      p,
    );
    return r.latents.data as Float32Array;
  };
  const dist = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));
  const ref = await latent('euler', 200);
  const euler25 = dist(await latent('euler', 25), ref);
  console.log(`Euler-25 → Euler-200: ${euler25.toExponential(3)}`);
  let first: number | undefined;
  let stays: number | undefined; // the N from which every larger N is closer too
  const rows: string[] = [];
  for (let n = 2; n <= 25; n++) {
    const d = dist(await latent('dpmpp-2m', n), ref);
    rows.push(`${n}: ${d.toExponential(2)}${d < euler25 ? ' ✓' : ''}`);
    if (first === undefined && d < euler25) first = n;
    if (d >= euler25) stays = undefined;
    else stays ??= n;
  }
  console.log(`DPM++(2M)-N → Euler-200: ${rows.join(', ')}`);
  console.log(`smallest N with DPM++(2M)-N closer than Euler-25: ${first ?? 'none up to 25'}`);
  recordFigure({
    suite: 'sampler-steps',
    case: 'steps for equal quality: smallest N with DPM++(2M)-N closer (L2) than Euler-25 to Euler-200 (tiny golden model)',
    ours: first ?? Number.NaN,
    unit: 'steps',
    peak: peakBytes(),
    baseline: { name: 'Euler, 25 steps (the reference sampler)', value: 25 },
    note: `closer for every N ≥ ${stays ?? '–'} (up to 25); Euler-25 → Euler-200 L2 ${euler25.toExponential(3)}; peak: the whole suite`,
  });
  await weights.source.close();
  await engine.dispose();
}
