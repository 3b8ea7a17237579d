/**
 * Converts an SVD checkpoint between the sgm single-file layout and the diffusers folder layout, optionally changing
 * the floating-point dtype. Lossless: diffusers + `sgm_extra.safetensors` → sgm restores the same names, shapes,
 * dtypes and bytes as the original file (header order may differ), because every key transform only moves bytes.
 *
 * - → diffusers: `unet/`, `vae/`, `image_encoder/` each get `config.json` and their weights; every tensor diffusers
 *   has no place for (first-stage encoder, the conditioning autoencoder's decoder and post_quant_conv, open_clip text
 *   leftovers, unknown keys) goes, under its sgm name, to `sgm_extra.safetensors` with the sgm file's metadata.
 * - → sgm: one `.safetensors` with every tensor under its sgm name.
 * The model components diffusers holds are first checked strictly against the model config (every key, every
 * shape). Output goes to `<out>.tmp-<pid>` and is renamed to `<out>` only when complete; one tensor is in memory at
 * a time.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BYTES_PER_ELEMENT, type DType } from '../tensor/dtype.ts';
import { fromFloat32, toFloat32 } from '../tensor/half.ts';
import type { HostTensor } from '../tensor/host-tensor.ts';
import { numel, type Shape } from '../tensor/shape.ts';
import { checkKeys, DEFAULT_IGNORE, ignoreMatcher } from './checkpoint-check.ts';
import { DiffusersFolderSource, UNMAPPED_PREFIX } from './checkpoint-diffusers.ts';
import { CheckpointFormatError } from './checkpoint-errors.ts';
import type { CheckpointEntry, CheckpointSource } from './checkpoint-source.ts';
import { type PlannedTensor, SafetensorsStreamWriter } from './checkpoint-writer.ts';
import { type KeyTransform, targetShape, toTargetParts } from './key-maps/transforms.ts';
import { type DiffusersConfigs, diffusersConfigs } from './layouts/diffusers-configs.ts';
import {
  DIFFUSERS_COMPONENTS,
  DIFFUSERS_WEIGHTS_BASE,
  type DiffusersComponent,
  keyLayoutFromConfig,
  SGM_EXTRA_FILE,
  SGM_METADATA_KEY,
  sgmKeyToDiffusers,
  VAE_SOURCES,
} from './layouts/diffusers-layout.ts';
import { SVD_CHECKPOINT_CONFIG, type SvdCheckpointConfig } from './layouts/model-config.ts';
import {
  clipVisualShapes,
  condEncoderShapes,
  firstStageShapes,
  SGM_PREFIXES,
  videoUNetShapes,
} from './layouts/sgm-state-dict.ts';

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
   * The model config. Default: a diffusers source's own configs; for an sgm source, the released SVD config.
   * sgm → sgm checks keys only when a config is given.
   */
  readonly config?: SvdCheckpointConfig;
  /** Names the config in messages (e.g. the `--config` path). */
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
  const ownConfig = source instanceof DiffusersFolderSource ? source.config : undefined;
  const config = options.config ?? ownConfig ?? (options.to === 'diffusers' ? SVD_CHECKPOINT_CONFIG : undefined);
  const configLabel =
    options.configLabel ?? (options.config ? 'the given config' : ownConfig ? 'its diffusers configs' : 'released SVD');
  if (config) checkModelComponents(entries, config, `${source.path} (model config: ${configLabel})`);
  const outDtype = (d: DType): DType => (options.dtype && isFloat(d) ? options.dtype : d);

  let jobs: FileJob[];
  let configs: DiffusersConfigs | undefined;
  if (options.to === 'sgm') {
    jobs = planSgm(source, entries, outDtype, options.onNotice);
  } else {
    if (!config) throw new Error('unreachable: a diffusers target always has a config');
    jobs = planDiffusers(source, entries, config, outDtype, options.onNotice);
    const clipKey = [...entries.keys()].find((k) => k.startsWith(SGM_PREFIXES.clipVisual));
    const clipDtype = clipKey ? outDtype(entries.get(clipKey)!.dtype) : 'float32';
    configs =
      source instanceof DiffusersFolderSource && !options.config
        ? withClipDtype(source.configs, clipDtype)
        : diffusersConfigs(config, clipDtype, configLabel);
  }

  const tmp = `${out}.tmp-${process.pid}`;
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

/**
 * Throws a CheckpointFormatError when `out` exists ('exists': conversions never replace anything) or its parent
 * folder does not ('not-found').
 */
export async function assertOutputFree(out: string): Promise<void> {
  if (await exists(out)) {
    throw new CheckpointFormatError(out, 'exists', 'already exists (remove it or choose another output path)');
  }
  const parent = dirname(resolve(out));
  if (!(await exists(parent))) {
    throw new CheckpointFormatError(out, 'not-found', `the folder ${parent} does not exist`);
  }
}

/** The expected keys of the components a diffusers folder holds: UNet, VAE decoder + encoder + quant_conv, CLIP. */
export function diffusersHeldShapes(config: SvdCheckpointConfig): Map<string, Shape> {
  const out = new Map<string, Shape>(videoUNetShapes(config.unet));
  for (const [k, s] of firstStageShapes(config.firstStage)) if (k.startsWith(VAE_SOURCES.decoder)) out.set(k, s);
  for (const [k, s] of condEncoderShapes(config)) {
    if (k.startsWith(VAE_SOURCES.encoder) || k.startsWith(VAE_SOURCES.quantConv)) out.set(k, s);
  }
  for (const [k, s] of clipVisualShapes(config.clip)) out.set(k, s);
  return out;
}

const HELD_PREFIXES = [
  SGM_PREFIXES.unet,
  VAE_SOURCES.decoder,
  VAE_SOURCES.encoder,
  VAE_SOURCES.quantConv,
  SGM_PREFIXES.clipVisual,
];

/** Strict check of the held components (keys under their prefixes) against the config; throws CheckpointError. */
function checkModelComponents(entries: Map<string, CheckpointEntry>, config: SvdCheckpointConfig, label: string): void {
  const held = new Map([...entries].filter(([k]) => HELD_PREFIXES.some((p) => k.startsWith(p))));
  const hint = 'is the model config right for this checkpoint? (svd convert --config)';
  checkKeys(held, diffusersHeldShapes(config), { ignore: [], label, hint });
}

/** Every tensor under its sgm name in one file, with the sgm metadata. */
function planSgm(
  source: CheckpointSource,
  entries: Map<string, CheckpointEntry>,
  outDtype: (d: DType) => DType,
  onNotice: ((line: string) => void) | undefined,
): FileJob[] {
  const items = [...entries].map(([key, e]) => copyItem(key, e, outDtype));
  const unmapped = items.filter((i) => i.sgmKey.startsWith(UNMAPPED_PREFIX)).length;
  if (unmapped > 0) {
    onNotice?.(`${unmapped} diffusers tensors have no sgm name; kept as "${UNMAPPED_PREFIX}<component>/<key>"`);
  }
  if (source.layout === 'diffusers') {
    for (const group of DEFAULT_IGNORE) {
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
  config: SvdCheckpointConfig,
  outDtype: (d: DType) => DType,
  onNotice: ((line: string) => void) | undefined,
): FileJob[] {
  const layout = keyLayoutFromConfig(config);
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
  if (extras.length > 0) onNotice?.(describeExtras(extras.map((e) => e.sgmKey)));
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
function describeExtras(keys: readonly string[]): string {
  const groups = DEFAULT_IGNORE.map((g) => ({ reason: g.reason, matchers: g.patterns.map(ignoreMatcher), count: 0 }));
  const other: string[] = [];
  for (const key of keys) {
    const g = groups.find((gr) => gr.matchers.some((m) => m(key)));
    if (g) g.count++;
    else other.push(key);
  }
  const known = groups.filter((g) => g.count > 0).map((g) => `${g.count} ${g.reason.split(' (')[0]}`);
  if (other.length > 0) {
    const shown = other.slice(0, 10).join(', ') + (other.length > 10 ? `, … and ${other.length - 10} more` : '');
    known.push(`${other.length} not in the SVD layout (${shown})`);
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

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
