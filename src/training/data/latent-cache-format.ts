/**
 * The on-disk format of the latent cache (see latent-cache.ts): safetensors shards plus an index JSON.
 *
 * A shard `shard-<n>.safetensors` holds entries numbered 0, 1, … as tensors `<slot>.mean`, `<slot>.logvar` (float32
 * [T, 4, H/8, W/8]) and `<slot>.x.<name>` (extra tensors, e.g. the conditioning frame), and in its `__metadata__`
 * the key `latent_cache` = JSON `{ version: 1, entries: [{ id, key, info?, extra: [names], sha256 }] }`, where sha256
 * is over the entry's tensor bytes in that order (mean, logvar, extras). A shard is self-describing: the index can
 * always be rebuilt from the shards.
 *
 * `index.json` = `{ format: "svd-ts latent cache", version: 1, shards: [{ file, bytes, entries: [[id, key], …] }] }`
 * lists the complete shards in write order (a later shard's entry for an id wins). Both are written under a
 * temporary name and renamed, so a crash leaves either the old or the new file, never half of one.
 */
import { createHash } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import type { HostTensor } from '../../tensor/host-tensor.ts';

export const INDEX_FILE = 'index.json';
export const INDEX_FORMAT = 'svd-ts latent cache';
export const FORMAT_VERSION = 1;
/** The `__metadata__` key of a shard's entry list. */
export const SHARD_METADATA_KEY = 'latent_cache';

/** `shard-000042.safetensors` for n = 42. */
export function shardFileName(n: number): string {
  return `shard-${String(n).padStart(6, '0')}.safetensors`;
}

/** The shard number of a shard file name, or undefined for any other name. */
export function shardNumber(name: string): number | undefined {
  const m = /^shard-(\d{6,})\.safetensors$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Leftovers of an interrupted write (writeSafetensors' `.tmp-<pid>`, our `.tmp-<pid>` index), to delete. */
export function isTemporaryName(name: string): boolean {
  return /\.tmp-\d+$/.test(name);
}

/** One entry as a shard's metadata records it. */
export interface ShardEntryMeta {
  id: string;
  key: string;
  info?: Record<string, unknown>;
  /** Names of the extra tensors, in storage order. */
  extra: string[];
  sha256: string;
}

export interface IndexShard {
  file: string;
  bytes: number;
  entries: [id: string, key: string][];
}

export interface IndexJson {
  format: string;
  version: number;
  shards: IndexShard[];
}

/** Tensor names of entry `slot`. */
export function slotNames(slot: number, extra: readonly string[]): { mean: string; logvar: string; extra: string[] } {
  return { mean: `${slot}.mean`, logvar: `${slot}.logvar`, extra: extra.map((x) => `${slot}.x.${x}`) };
}

/** sha256 (hex) over the tensors' bytes in order. */
export function tensorsDigest(tensors: readonly HostTensor[]): string {
  const hash = createHash('sha256');
  for (const t of tensors) hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return hash.digest('hex');
}

/** Parses index.json; undefined when it is not a version-1 index (the caller rebuilds from the shards). */
export function parseIndex(text: string): IndexJson | undefined {
  try {
    const o = JSON.parse(text) as IndexJson;
    if (o.format !== INDEX_FORMAT || o.version !== FORMAT_VERSION || !Array.isArray(o.shards)) return undefined;
    const ok = o.shards.every(
      (s) =>
        typeof s.file === 'string' &&
        Number.isSafeInteger(s.bytes) &&
        Array.isArray(s.entries) &&
        s.entries.every((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string'),
    );
    return ok ? o : undefined;
  } catch {
    return undefined;
  }
}

/** Parses a shard's entry list from its metadata; undefined when missing or malformed. */
export function parseShardEntries(metadata: Readonly<Record<string, string>>): ShardEntryMeta[] | undefined {
  const text = metadata[SHARD_METADATA_KEY];
  if (text === undefined) return undefined;
  try {
    const o = JSON.parse(text) as { version?: number; entries?: ShardEntryMeta[] };
    if (o.version !== FORMAT_VERSION || !Array.isArray(o.entries)) return undefined;
    const ok = o.entries.every(
      (e) =>
        typeof e.id === 'string' &&
        typeof e.key === 'string' &&
        typeof e.sha256 === 'string' &&
        Array.isArray(e.extra) &&
        e.extra.every((x) => typeof x === 'string'),
    );
    return ok ? o.entries : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `text` to `path` atomically: a temporary sibling, fsync, rename. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}
