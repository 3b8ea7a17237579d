/**
 * The last step of the svd-mini recipe (issue 11): the trained weights become the files that ship in
 * models/svd-mini/ — the image-to-video model (the last i2v phase, the one `train/lora.json` trains the LoRAs on) and
 * each camera-motion LoRA, cast to float16 (round to nearest even;
 * the engine widens them to float32 as it loads), with the recipe in each file's metadata, without the tensors
 * generation never reads (the first-stage encoder among them: training reads the conditioner's copy). Each file is written
 * through a temporary file and a rename, so an interrupted export leaves the previous files whole. Usage:
 *   node --import tsx scripts/svd-mini/export.ts RUNS_DIR OUT_DIR      (e.g. runs/svd-mini models/svd-mini)
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { inferenceIgnoreGroups } from '../../src/models/declare-params.ts';
import { condEncoderPrefix } from '../../src/models/description.ts';
import { LORA_MAX_CFG_KEY, LORA_MIN_CFG_KEY } from '../../src/models/lora/index.ts';
import { SVD_MINI } from '../../src/models/presets.ts';
import { CAMERA_LORA_NAMES, UNSHIPPED_CAMERA_LORAS } from '../../src/models/shipped.ts';
import { encoderTwinKey, isFirstStageEncoderKey } from '../../src/models/tied-encoder.ts';
import { fromFloat32, toFloat32 } from '../../src/tensor/half.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { ignoreMatcher } from '../../src/weights/checkpoint-check.ts';
import { SafetensorsFile, writeSafetensors } from '../../src/weights/index.ts';

const [runs, out] = process.argv.slice(2);
if (!runs || !out) throw new Error('usage: export.ts RUNS_DIR OUT_DIR');

/**
 * Tensors generation never reads: what the reference ignores at inference (the conditioning autoencoder's decoder and
 * post_quant_conv, open_clip leftovers, and the first-stage encoder). Training from the shipped file reads the
 * first-stage encoder through the conditioner's, its exact copy (src/models/tied-encoder.ts; `sameEncoders` checks it).
 */
const unused = inferenceIgnoreGroups(SVD_MINI)
  .flatMap((g) => g.patterns)
  .map(ignoreMatcher);

/** Throws unless every first-stage encoder tensor equals the conditioning encoder's twin, bit for bit. */
function sameEncoders(all: ReadonlyMap<string, HostTensor>): void {
  const cond = condEncoderPrefix(SVD_MINI)!;
  for (const [k, t] of all) {
    if (!isFirstStageEncoderKey(k)) continue;
    const other = all.get(encoderTwinKey(cond, k));
    const bytes = (x: HostTensor) => Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength);
    if (!other || !bytes(t).equals(bytes(other)))
      throw new Error(`${k} differs from the conditioning encoder's: the shipped file could not leave it out`);
  }
}

/**
 * How the camera LoRAs ship, measured on the pan-left LoRA and held-out photos of the MATE set (never the evidence
 * test's): applied at strength 1.5 and sampled at guidance 1 → 1, 4 of 5 photos are read as pan-left (residual
 * 0.38–0.54 of the pan) against 1 of 5 at strength 1 (0.47–0.74); the model's guidance 1 → 2.5 pulls the later frames
 * back towards the input. The strength is folded into each module's alpha — a standard LoRA whose scale 1 is this
 * strength (`--lora pan-left:0.8` scales from it) — and the guidance recorded as the LoRA's sampling default
 * (src/models/lora/sampling-defaults.ts).
 */
const CAMERA_LORA_EXPORT = { strength: 1.5, minCfg: 1, maxCfg: 1 } as const;

/**
 * IN's tensors as float16 (float32 ones; others as they are) → OUT, with IN's metadata and `extra`; each LoRA
 * `.alpha` scalar times `alphaScale`.
 */
async function exportHalf(
  input: string,
  output: string,
  extra: Record<string, string>,
  alphaScale = 1,
): Promise<number> {
  const file = await SafetensorsFile.open(input);
  const all = await file.readAll();
  const metadata = { ...file.metadata, ...extra };
  await file.close();
  if (alphaScale !== 1) {
    for (const [k, t] of all) {
      if (!k.endsWith('.alpha')) continue;
      const a = toFloat32(t);
      all.set(
        k,
        new HostTensor(
          'float32',
          a.shape,
          a.data.map((x) => x * alphaScale),
        ),
      );
    }
    for (const key of ['alpha', 'ss_network_alpha']) {
      if (metadata[key] !== undefined) metadata[key] = String(Number(metadata[key]) * alphaScale);
    }
  }
  sameEncoders(all);
  const half = new Map<string, HostTensor>();
  for (const [k, t] of all) {
    if (unused.some((m) => m(k))) continue;
    half.set(k, t.dtype === 'float32' ? fromFloat32(t, 'float16') : t);
  }
  await writeSafetensors(output, half, metadata); // through a temporary file and a rename
  return (await stat(output)).size;
}

await mkdir(join(out, 'loras'), { recursive: true });
// the shipped model is the one the camera LoRAs are trained on: the last image-to-video phase (lora.json's init)
const loraConfig = JSON.parse(readFileSync('models/svd-mini/train/lora.json', 'utf8')) as { model: { init: string } };
const model = join(runs, relative('runs/svd-mini', loraConfig.model.init));
if (!existsSync(model)) throw new Error(`${model} does not exist: train the image-to-video stages first`);
let total = await exportHalf(model, join(out, 'svd-mini.safetensors'), { preset: 'svd-mini', dtype: 'float16' });
console.error(`export: ${join(out, 'svd-mini.safetensors')} (${(total / 1e6).toFixed(1)} MB)`);
for (const name of CAMERA_LORA_NAMES) {
  const lora = join(runs, `lora-${name}`, 'lora.safetensors');
  const unshipped = UNSHIPPED_CAMERA_LORAS[name];
  if (unshipped) {
    console.error(`export: LoRA "${name}" does not ship: ${unshipped}`);
    continue;
  }
  if (!existsSync(lora)) {
    console.error(`export: no ${lora}; LoRA "${name}" skipped`);
    continue;
  }
  const { strength, minCfg, maxCfg } = CAMERA_LORA_EXPORT;
  const bytes = await exportHalf(
    lora,
    join(out, 'loras', `${name}.safetensors`),
    {
      camera_motion: name,
      svd_ts_strength: String(strength),
      [LORA_MIN_CFG_KEY]: String(minCfg),
      [LORA_MAX_CFG_KEY]: String(maxCfg),
    },
    strength,
  );
  total += bytes;
  console.error(`export: LoRA ${name} (${(bytes / 1e3).toFixed(0)} kB)`);
}
console.error(`export: ${(total / 1e6).toFixed(1)} MB in all (the budget: 40 MB)`);
