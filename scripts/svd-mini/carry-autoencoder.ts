/**
 * The trained autoencoder between sessions of the svd-mini recipe: its two phases take about 2 h of the 2-core
 * machine, the later stages longer, and a fresh checkout has no `runs/`. `save` keeps the first stage's tensors (sgm
 * `first_stage_model.*`, the only ones the autoencoder stage trains) as float16 in a small committed file; `restore`
 * lays them over the fresh weights the stage started from (svd-mini, the stage's seed and log-variance bias: the rest of
 * the model is still untrained there) and writes the stage's `model.safetensors`, so the recipe goes on from it.
 * `restore` also takes the shipped model (models/svd-mini/svd-mini.safetensors), whose first stage is the same (frozen
 * after the autoencoder): the recipe restores from it, so no separate autoencoder file is committed.
 * Usage:
 *   node --import tsx scripts/svd-mini/carry-autoencoder.ts save RUN_DIR FILE      (runs/svd-mini/autoencoder-2 → FILE)
 *   node --import tsx scripts/svd-mini/carry-autoencoder.ts restore FILE RUN_DIR     (FILE: a saved file or the shipped model)
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { declareModelParams, FIRST_STAGE_PREFIX } from '../../src/models/declare-params.ts';
import { freshWeights } from '../../src/models/fresh-weights.ts';
import { SVD_MINI } from '../../src/models/presets.ts';
import { tiedEncoderKeys } from '../../src/models/tied-encoder.ts';
import { fromFloat32, toFloat32 } from '../../src/tensor/half.ts';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import { setLogvarBias } from '../../src/training/stages/init.ts';
import { SafetensorsFile, writeSafetensors } from '../../src/weights/index.ts';

const [mode, from, to] = process.argv.slice(2);
if ((mode !== 'save' && mode !== 'restore') || !from || !to)
  throw new Error('usage: carry-autoencoder.ts save RUN_DIR FILE | restore FILE RUN_DIR');

const prefix = `${FIRST_STAGE_PREFIX}.`;
interface RunConfig {
  seed: number;
  model: { init?: string; logvarInit?: number };
}
const readConfig = (dir: string) => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as RunConfig;

if (mode === 'save') {
  // The untrained rest of the model comes from the run that started from fresh weights: follow `model.init` back
  // (the second autoencoder phase starts from the first's model.safetensors) to its seed and log-variance bias.
  let config = readConfig(from);
  while (config.model.init) config = readConfig(dirname(config.model.init));
  const file = await SafetensorsFile.open(join(from, 'model.safetensors'));
  const all = await file.readAll();
  await file.close();
  const half = new Map<string, HostTensor>();
  for (const [k, t] of all) if (k.startsWith(prefix)) half.set(k, fromFloat32(t as HostTensor<'float32'>, 'float16'));
  await writeSafetensors(to, half, {
    format: 'pt',
    preset: 'svd-mini',
    stage: 'autoencoder',
    seed: String(config.seed),
    logvar_init: String(config.model.logvarInit ?? ''),
  });
  console.error(`carry-autoencoder: ${half.size} tensors → ${to}`);
} else {
  const file = await SafetensorsFile.open(from);
  const stored = await file.readAll();
  await file.close();
  // a carried file (`save`) records the fresh weights' seed and log-variance bias; the shipped model does not: there
  // they are the first autoencoder phase's, the one that started from fresh weights
  const first = JSON.parse(readFileSync('models/svd-mini/train/autoencoder.json', 'utf8')) as RunConfig;
  const seed = file.metadata.seed ?? String(first.seed);
  const logvar = file.metadata.logvar_init ?? String(first.model.logvarInit ?? '');
  const carried = new Map([...stored].filter(([k]) => k.startsWith(prefix)));
  // the shipped model leaves the first-stage encoder out: its exact copy is the conditioner's (src/models/tied-encoder.ts)
  const tied = tiedEncoderKeys(stored, SVD_MINI, declareModelParams(SVD_MINI));
  for (const [k, twin] of tied ?? []) carried.set(k, stored.get(twin)!);
  const all = freshWeights(SVD_MINI, Number(seed));
  if (logvar) setLogvarBias(all, SVD_MINI, Number(logvar));
  for (const [k, t] of carried) {
    const fresh = all.get(k);
    if (!fresh || fresh.shape.join() !== t.shape.join()) throw new Error(`${from}: ${k} is not svd-mini's`);
    all.set(k, toFloat32(t as HostTensor<'float16'>));
  }
  mkdirSync(to, { recursive: true });
  await writeSafetensors(join(to, 'model.safetensors'), all, { format: 'pt' });
  console.error(`carry-autoencoder: ${carried.size} tensors from ${from} over fresh weights → ${to}/model.safetensors`);
}
