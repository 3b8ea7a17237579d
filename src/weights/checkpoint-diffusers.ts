/**
 * A diffusers SVD folder presented under sgm key names. `unet/`, `vae/`, `image_encoder/` each hold a `config.json`
 * and their weights (`diffusion_pytorch_model.safetensors` / `model.safetensors`, or the `.fp16` variant, or a
 * sharded `*.safetensors.index.json`); `sgm_extra.safetensors` at the top, when present, holds the sgm tensors
 * diffusers has no place for, under their sgm names. The key rules come from `layouts/diffusers-layout.ts` with the
 * block structure read from the configs and the SVD prefixes (a diffusers SVD folder has SVD's conditioner order).
 * The configs are exposed as read (`configs`); what model they describe is for `src/models/diffusers-config.ts`.
 * Opening reads headers and configs only; `read` reads the parts of one tensor.
 *
 * diffusers keys no rule maps are presented under `diffusers:<component>/<key>`, so a strict check reports them as
 * unexpected; transformers' derived `position_ids` buffer is skipped (listed in `skipped`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostTensor } from '../tensor/host-tensor.ts';
import { CheckpointFormatError } from './checkpoint-errors.ts';
import { openSafetensors, unknownKey } from './checkpoint-sgm.ts';
import { type CheckpointEntry, type CheckpointSource, pathExists, widenToFloat32 } from './checkpoint-source.ts';
import { missingDiffusersParts, readDiffusersConfigs } from './diffusers-folder.ts';
import { COPY, fromTargetParts, type KeyTransform, partCount, sourceShape } from './key-maps/transforms.ts';
import type { DiffusersConfigs } from './layouts/diffusers-config-json.ts';
import {
  DIFFUSERS_COMPONENTS,
  DIFFUSERS_WEIGHTS_BASE,
  type DiffusersComponent,
  type DiffusersKeyLayout,
  diffusersKeyToSgm,
  keyLayoutFromDiffusersConfigs,
  SGM_EXTRA_FILE,
  SGM_METADATA_KEY,
} from './layouts/diffusers-layout.ts';
import type { SafetensorsFile } from './safetensors-reader.ts';

/** Prefix of the names under which unmapped diffusers tensors are presented. */
export const UNMAPPED_PREFIX = 'diffusers:';

interface Part {
  readonly file: SafetensorsFile;
  readonly name: string;
}

/** The stored pieces of one sgm tensor. */
interface Group {
  readonly transform: KeyTransform;
  readonly parts: (Part | undefined)[];
  /** Where the parts come from, for messages: `unet`, `sgm_extra.safetensors`, … */
  readonly origin: string;
}

export class DiffusersFolderSource implements CheckpointSource {
  readonly layout = 'diffusers';

  private constructor(
    readonly path: string,
    /** The three `config.json` objects as read. */
    readonly configs: DiffusersConfigs,
    /** The key layout derived from their block structure (SVD prefixes). */
    readonly keyLayout: DiffusersKeyLayout,
    readonly metadata: Readonly<Record<string, string>>,
    /** diffusers keys that hold derived buffers, not parameters (`image_encoder/…position_ids`), not presented. */
    readonly skipped: readonly string[],
    private readonly groups: Map<string, Group>,
    private readonly entryMap: Map<string, CheckpointEntry>,
    private readonly files: readonly SafetensorsFile[],
  ) {}

  static async open(path: string): Promise<DiffusersFolderSource> {
    const missing = missingDiffusersParts(path);
    if (missing.length > 0) {
      throw new CheckpointFormatError(
        path,
        'unknown-layout',
        `not a diffusers SVD folder: no ${missing.join(', ')} (expected unet/, vae/, image_encoder/)`,
      );
    }
    const configs = readDiffusersConfigs(path);
    const keyLayout = keyLayoutFromDiffusersConfigs(configs, path);
    const files: SafetensorsFile[] = [];
    try {
      const groups = new Map<string, Group>();
      const skipped: string[] = [];
      for (const component of DIFFUSERS_COMPONENTS) {
        for (const filePath of await weightFiles(path, component)) {
          const file = await openSafetensors(filePath);
          files.push(file);
          for (const name of file.names()) {
            const meaning = diffusersKeyToSgm(component, name, keyLayout);
            if (meaning.kind === 'derived') skipped.push(`${component}/${name}`);
            else if (meaning.kind === 'unknown') {
              addPart(groups, `${UNMAPPED_PREFIX}${component}/${name}`, COPY, 0, { file, name }, component, path);
            } else addPart(groups, meaning.key, meaning.transform, meaning.part, { file, name }, component, path);
          }
        }
      }
      let metadata: Record<string, string> = {};
      const extraPath = join(path, SGM_EXTRA_FILE);
      if (await pathExists(extraPath)) {
        const extra = await openSafetensors(extraPath);
        files.push(extra);
        for (const name of extra.names()) addPart(groups, name, COPY, 0, { file: extra, name }, SGM_EXTRA_FILE, path);
        metadata = parseSgmMetadata(extra.metadata[SGM_METADATA_KEY]);
      }
      const entryMap = new Map<string, CheckpointEntry>();
      for (const [key, group] of groups) entryMap.set(key, describeGroup(path, key, group));
      return new DiffusersFolderSource(path, configs, keyLayout, metadata, skipped, groups, entryMap, files);
    } catch (err) {
      for (const f of files) await f.close().catch(() => {});
      throw err;
    }
  }

  entries(): Map<string, CheckpointEntry> {
    return new Map(this.entryMap);
  }

  async read(key: string): Promise<HostTensor> {
    return widenToFloat32(await this.readStored(key));
  }

  async readStored(key: string): Promise<HostTensor> {
    const group = this.groups.get(key);
    if (!group) throw unknownKey(this.path, key);
    const parts: HostTensor[] = [];
    for (const part of group.parts) {
      if (!part) throw unknownKey(this.path, key); // unreachable: incomplete groups fail at open
      parts.push(await part.file.read(part.name));
    }
    return fromTargetParts(parts, group.transform);
  }

  async close(): Promise<void> {
    for (const f of this.files) await f.close();
  }
}

function addPart(
  groups: Map<string, Group>,
  key: string,
  transform: KeyTransform,
  index: number,
  part: Part,
  origin: string,
  folder: string,
): void {
  let group = groups.get(key);
  if (!group) {
    group = { transform, parts: Array(partCount(transform)).fill(undefined), origin };
    groups.set(key, group);
  }
  if (group.parts[index] !== undefined || group.transform.kind !== transform.kind) {
    const where = group.origin === origin ? origin : `${group.origin} and ${origin}`;
    throw new CheckpointFormatError(
      folder,
      'bad-layout',
      `sgm tensor ${JSON.stringify(key)} is stored twice (${where})`,
    );
  }
  group.parts[index] = part;
}

function describeGroup(folder: string, key: string, group: Group): CheckpointEntry {
  const parts = group.parts;
  const missing = parts.flatMap((p, i) => (p ? [] : [i]));
  const present = parts.filter((p): p is Part => p !== undefined);
  if (missing.length > 0) {
    throw new CheckpointFormatError(
      folder,
      'bad-layout',
      `${group.origin}: ${present.map((p) => p.name).join(', ')} found without the other parts of ` +
        `sgm tensor ${JSON.stringify(key)} (${parts.length} parts expected)`,
    );
  }
  const infos = present.map((p) => p.file.info(p.name));
  const dtype = infos[0].dtype;
  if (infos.some((i) => i.dtype !== dtype)) {
    throw new CheckpointFormatError(folder, 'bad-layout', `the parts of ${JSON.stringify(key)} have different dtypes`);
  }
  try {
    return {
      dtype,
      shape: sourceShape(
        infos.map((i) => i.shape),
        group.transform,
      ),
    };
  } catch (err) {
    throw new CheckpointFormatError(
      folder,
      'bad-layout',
      `${group.origin}: cannot rebuild ${JSON.stringify(key)}: ${(err as Error).message}`,
    );
  }
}

/** The weight files of a component: plain, fp16 variant, or the shards listed by an index (in that preference). */
async function weightFiles(folder: string, component: DiffusersComponent): Promise<string[]> {
  const dir = join(folder, component);
  const base = DIFFUSERS_WEIGHTS_BASE[component];
  for (const variant of ['', '.fp16']) {
    const single = join(dir, `${base}${variant}.safetensors`);
    if (await pathExists(single)) return [single];
    const index = join(dir, `${base}${variant}.safetensors.index.json`);
    if (await pathExists(index)) return shardFiles(index, dir);
  }
  const bin = join(dir, `${base}.bin`);
  const hint = (await pathExists(bin))
    ? ` (only ${base}.bin, PyTorch pickle weights, which this project does not read)`
    : '';
  throw new CheckpointFormatError(dir, 'not-found', `no ${base}.safetensors${hint}`);
}

async function shardFiles(indexPath: string, dir: string): Promise<string[]> {
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(await readFile(indexPath, 'utf8')) as { weight_map?: unknown }).weight_map;
  } catch (err) {
    throw new CheckpointFormatError(indexPath, 'bad-config', `unreadable shard index (${(err as Error).message})`);
  }
  if (typeof weightMap !== 'object' || weightMap === null) {
    throw new CheckpointFormatError(indexPath, 'bad-config', 'shard index has no "weight_map" object');
  }
  const names = [...new Set(Object.values(weightMap as Record<string, unknown>).map(String))];
  return names.map((n) => join(dir, n));
}

function parseSgmMetadata(text: string | undefined): Record<string, string> {
  if (text === undefined) return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null) return {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
    return out;
  } catch {
    return {};
  }
}
