/**
 * Converts a model's checkpoint between the sgm single-file layout and the diffusers folder layout, optionally
 * changing the floating-point dtype. Lossless: diffusers + `sgm_extra.safetensors` → sgm restores the same names,
 * shapes, dtypes and bytes as the original file (header order may differ), because every key transform only moves
 * bytes.
 *
 * - → diffusers: `unet/`, `vae/`, `image_encoder/` each get `config.json` (`diffusersConfigs(model)`) and their
 *   weights (the key layout of the model, `keyLayoutForModel`); every tensor diffusers has no place for (the groups
 *   the reference ignores at inference, `inferenceIgnoreGroups(model)`, and unknown keys) goes, under its sgm name,
 *   to `sgm_extra.safetensors` with the sgm file's metadata.
 * - → sgm: one `.safetensors` with every tensor under its sgm name.
 * The model components diffusers holds are first checked strictly against the model (their keys and shapes taken
 * from `declareModelParams(model)`). Output goes to `<out>.tmp-<pid>` and is renamed to `<out>` only when complete;
 * one tensor is in memory at a time.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BYTES_PER_ELEMENT, type DType } from '../tensor/dtype.ts';
import { fromFloat32, toFloat32 } from '../tensor/half.ts';
import type { HostTensor } from '../tensor/host-tensor.ts';
import { numel, type Shape } from '../tensor/shape.ts';
import { CheckpointError, checkKeys, type IgnoreGroup, ignoreMatcher } from '../weights/checkpoint-check.ts';
import { DiffusersFolderSource, UNMAPPED_PREFIX } from '../weights/checkpoint-diffusers.ts';
import { CheckpointFormatError } from '../weights/checkpoint-errors.ts';
import { type CheckpointEntry, type CheckpointSource, pathExists } from '../weights/checkpoint-source.ts';
import { type PlannedTensor, SafetensorsStreamWriter } from '../weights/checkpoint-writer.ts';
import { type KeyTransform, targetShape, toTargetParts } from '../weights/key-maps/transforms.ts';
import type { DiffusersConfigs } from '../weights/layouts/diffusers-config-json.ts';
import {
  DIFFUSERS_COMPONENTS,
  DIFFUSERS_WEIGHTS_BASE,
  type DiffusersComponent,
  type DiffusersKeyLayout,
  diffusersHeldSources,
  SGM_EXTRA_FILE,
  SGM_METADATA_KEY,
  sgmKeyToDiffusers,
} from '../weights/layouts/diffusers-layout.ts';
import { explainMismatch, type ModelOrigin } from './checkpoint-mismatch.ts';
import { declareModelParams, inferenceIgnoreGroups } from './declare-params.ts';
import type { SvdModel } from './description.ts';
import { diffusersConfigs, keyLayoutForModel, modelFromDiffusersConfigs } from './diffusers-config.ts';
import { getPreset, PRESETS } from './presets.ts';

export type ConvertTarget = 'sgm' | 'diffusers';
export type ConvertDtype = 'float32' | 'float16' | 'bfloat16';

export interface ConvertProgress {
  /** The file being written, relative to the output. */
  readonly file: string;
  readonly tensorsDone: number;
  readonly tensorsTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface ConvertOptions {
  readonly to: ConvertTarget;
  /** Cast every floating-point tensor to this dtype (round to nearest even); default: keep the stored dtypes. */
  readonly dtype?: ConvertDtype;
  /**
   * The model. Default: the one a diffusers source's configs describe; for an sgm source, the svd preset when
   * writing diffusers (sgm → sgm checks keys only when a model is given).
   */
  readonly model?: SvdModel;
  /** Names the model config in messages (e.g. the `--config` path). */
  readonly configLabel?: string;
  /** Called after every tensor written. */
  readonly onProgress?: (progress: ConvertProgress) => void;
  /** One line per remark (tensors kept in sgm_extra, keys with no sgm name, …). */
  readonly onNotice?: (line: string) => void;
  /** Stops after the current tensor; the partial output is removed and the signal's reason is thrown. */
  readonly signal?: AbortSignal;
}

export interface ConvertedFile {
  /** Relative to the output (`''` for a single sgm file). */
  readonly file: string;
  readonly tensors: number;
  readonly bytes: number;
}

export interface ConvertResult {
  readonly out: string;
  readonly to: ConvertTarget;
  readonly files: readonly ConvertedFile[];
}

/** One sgm tensor to write: under which name(s) and with which transform. */
interface Item {
  readonly sgmKey: string;
  readonly names: readonly string[];
  readonly transform: KeyTransform;
  readonly dtype: DType;
  /** Shape of each written part. */
  readonly shape: Shape;
}

interface FileJob {
  /** Relative path of the weights file (`''`: the output itself). */
  readonly file: string;
  readonly metadata: Record<string, string>;
  readonly items: readonly Item[];
}

const COPY_ITEM: KeyTransform = { kind: 'copy' };

export async function convertCheckpoint(
  source: CheckpointSource,
  out: string,
  options: ConvertOptions,
): Promise<ConvertResult> {
  await assertOutputFree(out);
  const entries = source.entries();
  const folder = source instanceof DiffusersFolderSource ? source : undefined;
  const model =
    options.model ??
    (folder
      ? modelFromDiffusersConfigs(folder.configs, folder.path)
      : options.to === 'diffusers'
        ? getPreset('svd')
        : undefined);
  const configLabel =
    options.configLabel ?? (options.model ? 'the given config' : folder ? 'its diffusers configs' : 'released SVD');
  if (model) checkModelComponents(entries, model, `${source.path} (model config: ${configLabel})`);
  const outDtype = (d: DType): DType => (options.dtype && isFloat(d) ? options.dtype : d);

  let jobs: FileJob[];
  let configs: DiffusersConfigs | undefined;
  if (options.to === 'sgm') {
    jobs = planSgm(source, entries, model, outDtype, options.onNotice);
  } else {
    if (!model) throw new Error('unreachable: a diffusers target always has a model');
    const layout = keyLayoutForModel(model);
    const clipPrefix = diffusersHeldSources(layout.prefixes).clipVisual;
    const clipKey = clipPrefix && [...entries.keys()].find((k) => k.startsWith(clipPrefix));
    const clipDtype = clipKey ? outDtype(entries.get(clipKey)!.dtype) : 'float32';
    configs =
      folder && !options.model
        ? withClipDtype(folder.configs, clipDtype)
        : diffusersConfigs(model, { clipDtype, label: configLabel });
    jobs = planDiffusers(source, entries, layout, inferenceIgnoreGroups(model), outDtype, options.onNotice);
  }

  const tmp = convertTemporaryPath(out);
  const totals = {
    tensors: jobs.reduce((n, j) => n + j.items.reduce((m, i) => m + i.names.length, 0), 0),
    bytes: jobs.reduce((n, j) => n + j.items.reduce((m, i) => m + itemBytes(i), 0), 0),
  };
  const done = { tensors: 0, bytes: 0 };
  const files: ConvertedFile[] = [];
  try {
    if (configs) {
      const written = configs;
      await fsStep(out, async () => {
        await mkdir(tmp);
        for (const c of DIFFUSERS_COMPONENTS) {
          await mkdir(join(tmp, c));
          await writeFile(join(tmp, c, 'config.json'), `${JSON.stringify(written[c], null, 2)}\n`);
        }
      });
    }
    for (const job of jobs) {
      const plan: PlannedTensor[] = job.items.flatMap((i) =>
        i.names.map((name) => ({ name, dtype: i.dtype, shape: i.shape })),
      );
      const writer = await SafetensorsStreamWriter.create(job.file ? join(tmp, job.file) : tmp, plan, job.metadata);
      try {
        for (const item of job.items) {
          options.signal?.throwIfAborted();
          const stored = await source.readStored(item.sgmKey);
          const parts = toTargetParts(castTo(stored, item.dtype), item.transform);
          for (let p = 0; p < parts.length; p++) {
            await writer.write(item.names[p], parts[p]);
            done.tensors++;
            done.bytes += parts[p].data.byteLength;
            options.onProgress?.({
              file: job.file,
              tensorsDone: done.tensors,
              tensorsTotal: totals.tensors,
              bytesDone: done.bytes,
              bytesTotal: totals.bytes,
            });
          }
        }
        await writer.finish();
      } catch (err) {
        await writer.abort();
        throw err;
      }
      files.push({ file: job.file, tensors: plan.length, bytes: writer.dataBytes });
    }
    await fsStep(out, () => rename(tmp, out));
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
  return { out, to: options.to, files };
}

/** Where a conversion to `out` writes before the final rename (a folder or a file, as the target is). */
export function convertTemporaryPath(out: string): string {
  return `${out}.tmp-${process.pid}`;
}

/**
 * Throws a CheckpointFormatError when `out` exists ('exists': conversions never replace anything) or its parent
 * folder does not ('not-found').
 */
export async function assertOutputFree(out: string): Promise<void> {
  if (await pathExists(out)) {
    throw new CheckpointFormatError(out, 'exists', 'already exists (remove it or choose another output path)');
  }
  const parent = dirname(resolve(out));
  if (!(await pathExists(parent))) {
    throw new CheckpointFormatError(out, 'not-found', `the folder ${parent} does not exist`);
  }
}

/**
 * The sgm key prefixes of the components a diffusers folder holds, for `model`: the UNet, the conditioning
 * autoencoder's encoder and quant_conv, the first-stage decoder, the CLIP image tower.
 */
function heldPrefixes(model: SvdModel): string[] {
  return Object.values(diffusersHeldSources(keyLayoutForModel(model).prefixes)).filter(
    (p): p is string => p !== undefined,
  );
}

/** The expected keys and shapes of the components a diffusers folder holds (from `declareModelParams(model)`). */
export function diffusersHeldShapes(model: SvdModel): Map<string, Shape> {
  const prefixes = heldPrefixes(model);
  return new Map([...declareModelParams(model).shapes].filter(([k]) => prefixes.some((p) => k.startsWith(p))));
}

/** Strict check of the held components (keys under their prefixes) against the model; throws CheckpointError. */
function checkModelComponents(entries: Map<string, CheckpointEntry>, model: SvdModel, label: string): void {
  const prefixes = heldPrefixes(model);
  const held = new Map([...entries].filter(([k]) => prefixes.some((p) => k.startsWith(p))));
  const hint = 'is the model config right for this checkpoint? (svd convert --config)';
  try {
    checkKeys(held, diffusersHeldShapes(model), { label, hint });
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    // as generate says it: what the checkpoint looks like and what to pass (the key lists in `details`)
    const origin: ModelOrigin =
      PRESETS[model.name] === model ? { kind: 'preset', name: model.name } : { kind: 'config', config: model.name };
    throw explainMismatch(e, label, entries, model, origin);
  }
}

/** Every tensor under its sgm name in one file, with the sgm metadata. */
function planSgm(
  source: CheckpointSource,
  entries: Map<string, CheckpointEntry>,
  model: SvdModel | undefined,
  outDtype: (d: DType) => DType,
  onNotice: ((line: string) => void) | undefined,
): FileJob[] {
  const items = [...entries].map(([key, e]) => copyItem(key, e, outDtype));
  const unmapped = items.filter((i) => i.sgmKey.startsWith(UNMAPPED_PREFIX)).length;
  if (unmapped > 0) {
    onNotice?.(`${unmapped} diffusers tensors have no sgm name; kept as "${UNMAPPED_PREFIX}<component>/<key>"`);
  }
  if (source.layout === 'diffusers' && model) {
    for (const group of inferenceIgnoreGroups(model)) {
      const matchers = group.patterns.map(ignoreMatcher);
      if (![...entries.keys()].some((k) => matchers.some((m) => m(k)))) {
        const what = group.reason.split(' (')[0];
        onNotice?.(`no ${what} in the folder (no ${SGM_EXTRA_FILE}); the sgm file has none (unused at inference)`);
      }
    }
  }
  return [{ file: '', metadata: { ...source.metadata }, items }];
}

/** The three component files (rule-mapped keys) and `sgm_extra.safetensors` (everything else, sgm names). */
function planDiffusers(
  source: CheckpointSource,
  entries: Map<string, CheckpointEntry>,
  layout: DiffusersKeyLayout,
  ignoreGroups: readonly IgnoreGroup[],
  outDtype: (d: DType) => DType,
  onNotice: ((line: string) => void) | undefined,
): FileJob[] {
  const byComponent = new Map<DiffusersComponent, Item[]>(DIFFUSERS_COMPONENTS.map((c) => [c, []]));
  const extras: Item[] = [];
  const taken = new Map<string, string>();
  for (const [key, entry] of entries) {
    const placement = sgmKeyToDiffusers(key, layout);
    if (!placement) {
      extras.push(copyItem(key, entry, outDtype));
      continue;
    }
    for (const name of placement.keys) {
      const id = `${placement.component}/${name}`;
      const other = taken.get(id);
      if (other !== undefined) {
        throw new CheckpointFormatError(source.path, 'bad-layout', `${key} and ${other} both map to ${id}`);
      }
      taken.set(id, key);
    }
    byComponent.get(placement.component)!.push({
      sgmKey: key,
      names: placement.keys,
      transform: placement.transform,
      dtype: outDtype(entry.dtype),
      shape: targetShape(entry.shape, placement.transform),
    });
  }
  if (extras.length > 0)
    onNotice?.(
      describeExtras(
        extras.map((e) => e.sgmKey),
        ignoreGroups,
      ),
    );
  const jobs: FileJob[] = DIFFUSERS_COMPONENTS.map((c) => ({
    file: `${c}/${DIFFUSERS_WEIGHTS_BASE[c]}.safetensors`,
    metadata: { format: 'pt' },
    items: byComponent.get(c)!,
  }));
  if (extras.length > 0 || Object.keys(source.metadata).length > 0) {
    jobs.push({
      file: SGM_EXTRA_FILE,
      metadata: {
        format: 'pt',
        content: 'sgm tensors a diffusers folder has no place for, under their sgm names (svd convert --to sgm)',
        [SGM_METADATA_KEY]: JSON.stringify(source.metadata),
      },
      items: extras,
    });
  }
  return jobs;
}

/** One notice line: how many tensors go to sgm_extra, by known group, and any that belong to no known group. */
function describeExtras(keys: readonly string[], ignoreGroups: readonly IgnoreGroup[]): string {
  const groups = ignoreGroups.map((g) => ({ reason: g.reason, matchers: g.patterns.map(ignoreMatcher), count: 0 }));
  const other: string[] = [];
  for (const key of keys) {
    const g = groups.find((gr) => gr.matchers.some((m) => m(key)));
    if (g) g.count++;
    else other.push(key);
  }
  const known = groups.filter((g) => g.count > 0).map((g) => `${g.count} ${g.reason.split(' (')[0]}`);
  if (other.length > 0) {
    const shown = other.slice(0, 10).join(', ') + (other.length > 10 ? `, … and ${other.length - 10} more` : '');
    known.push(`${other.length} not in the model's layout (${shown})`);
  }
  return `keeping ${keys.length} tensors diffusers has no place for in ${SGM_EXTRA_FILE}: ${known.join('; ')}`;
}

function copyItem(key: string, entry: CheckpointEntry, outDtype: (d: DType) => DType): Item {
  return { sgmKey: key, names: [key], transform: COPY_ITEM, dtype: outDtype(entry.dtype), shape: entry.shape };
}

function itemBytes(item: Item): number {
  return item.names.length * numel(item.shape) * BYTES_PER_ELEMENT[item.dtype];
}

function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float16' || d === 'bfloat16';
}

/** `t` in `dtype` (float ⇄ float casts round to nearest even; same dtype: unchanged bytes). */
function castTo(t: HostTensor, dtype: DType): HostTensor {
  if (t.dtype === dtype) return t;
  if (!isFloat(t.dtype) || !isFloat(dtype)) throw new TypeError(`cannot cast ${t.dtype} to ${dtype}`);
  const wide = toFloat32(t);
  return dtype === 'float32' ? wide : fromFloat32(wide, dtype as 'float16' | 'bfloat16');
}

function withClipDtype(configs: DiffusersConfigs, dtype: DType): DiffusersConfigs {
  return { ...configs, image_encoder: { ...configs.image_encoder, torch_dtype: dtype } };
}

/** Runs a filesystem step, reporting a failure as a one-line CheckpointFormatError ('io'). */
async function fsStep(path: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (err) {
    throw new CheckpointFormatError(path, 'io', `cannot write (${err instanceof Error ? err.message : String(err)})`, {
      cause: err,
    });
  }
}
