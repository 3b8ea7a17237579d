/**
 * A cache of VAE posterior moments per training clip, so that later epochs skip decoding, resizing and encoding.
 *
 * SVD trains in the latent space of the SD 2.1 autoencoder (arXiv 2311.15127, Sec. 3; the encoder is frozen): the
 * encoder's output (after `quant_conv`) holds the posterior's mean and log-variance, each [T, 4, H/8, W/8]. Storing
 * both (not one drawn latent) keeps training exactly as without the cache: each epoch draws a fresh latent
 * z = mean + exp(logvar/2)·ε (`drawLatent`, latent-draw.ts), as sgm's `DiagonalGaussianDistribution.sample()` does.
 *
 * What the cache does change: the augmentation. An entry is stored per sample id with the key of the window it was
 * made from (frame rate, start, crop, flip), and later epochs reuse that entry, so a clip's augmentation is fixed at
 * its first draw. Runs that want fresh crops / rates every epoch do not use the cache.
 *
 * Storage (latent-cache-format.ts): safetensors shards of up to `shardBytes` (256 MiB) / `shardEntries` entries and
 * an index JSON, both written under temporary names and renamed. Entries are buffered in memory until a shard is
 * full (or `flush()` / `close()`); a crash loses at most the unwritten shard, whose clips are encoded again. At open,
 * temporary leftovers are deleted, shards missing from the index are adopted (their headers describe them), and a
 * shard whose header is damaged is renamed `*.corrupt` and reported in `problems`. Each entry carries a sha256 of its
 * bytes, checked on read (`verify`, default on): damaged data is a {@link LatentCacheError} `corrupt`.
 *
 * One process writes a cache directory at a time.
 */
import { mkdir, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostTensor } from '../../tensor/host-tensor.ts';
import { SafetensorsFile } from '../../weights/safetensors-reader.ts';
import { writeSafetensors } from '../../weights/safetensors-writer.ts';
import { LatentCacheError } from './errors.ts';
import {
  FORMAT_VERSION,
  INDEX_FILE,
  INDEX_FORMAT,
  type IndexShard,
  isTemporaryName,
  parseIndex,
  parseShardEntries,
  SHARD_METADATA_KEY,
  type ShardEntryMeta,
  shardFileName,
  shardNumber,
  slotNames,
  tensorsDigest,
  writeFileAtomic,
} from './latent-cache-format.ts';

/** A VAE posterior: mean and log-variance, float32 [T, 4, H/8, W/8] each. */
export interface LatentMoments {
  mean: HostTensor<'float32'>;
  logvar: HostTensor<'float32'>;
}

/** What is stored per sample: the moments, optional extra tensors (e.g. the conditioning frame) and JSON info. */
export interface LatentEntry extends LatentMoments {
  extra?: Record<string, HostTensor>;
  info?: Record<string, unknown>;
}

export interface CachedLatent extends LatentEntry {
  id: string;
  /** The key of the window the entry was made from. */
  key: string;
}

export interface LatentCacheOptions {
  /** Write a shard once the buffered entries reach this many bytes (default 256 MiB). */
  shardBytes?: number;
  /** … or this many entries (default 4096). */
  shardEntries?: number;
  /** Check each entry's sha256 when reading it (default true). */
  verify?: boolean;
  /** Shard files kept open for reading (default 8). */
  openShards?: number;
}

interface Location {
  shard: number;
  slot: number;
  key: string;
}

interface OpenShard {
  file: SafetensorsFile;
  entries: ShardEntryMeta[];
}

const EXTRA_NAME = /^[A-Za-z0-9_]+$/;

export class LatentCache {
  readonly dir: string;
  /** One line per shard left out at open (damaged, missing), for the log. */
  readonly problems: string[] = [];
  private readonly options: Required<LatentCacheOptions>;
  private readonly locations = new Map<string, Location>();
  private readonly pending = new Map<string, CachedLatent>();
  private pendingBytes = 0;
  /** Entries of shards being written: still readable until their shard is listed. */
  private readonly flushing = new Map<string, CachedLatent>();
  private readonly shards: IndexShard[] = [];
  private nextShard = 0;
  private readonly open = new Map<number, Promise<OpenShard>>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(dir: string, options: LatentCacheOptions) {
    this.dir = dir;
    this.options = {
      shardBytes: options.shardBytes ?? 256 * 2 ** 20,
      shardEntries: options.shardEntries ?? 4096,
      verify: options.verify ?? true,
      openShards: options.openShards ?? 8,
    };
  }

  /** Opens (creating it if needed) the cache in `dir`; see the module comment for what is repaired. */
  static async open(dir: string, options: LatentCacheOptions = {}): Promise<LatentCache> {
    const cache = new LatentCache(dir, options);
    try {
      await mkdir(dir, { recursive: true });
      await cache.load();
    } catch (e) {
      if (e instanceof LatentCacheError) throw e;
      throw new LatentCacheError('io', dir, `cannot open latent cache ${dir}: ${(e as Error).message}`, { cause: e });
    }
    return cache;
  }

  /** Entries stored or buffered. */
  get size(): number {
    let n = this.locations.size;
    for (const id of new Set([...this.pending.keys(), ...this.flushing.keys()])) if (!this.locations.has(id)) n++;
    return n;
  }

  has(id: string): boolean {
    return this.pending.has(id) || this.flushing.has(id) || this.locations.has(id);
  }

  /** The window key of `id`'s entry, or undefined. */
  keyOf(id: string): string | undefined {
    return (this.pending.get(id) ?? this.flushing.get(id))?.key ?? this.locations.get(id)?.key;
  }

  /** `id`'s entry, or undefined. Throws {@link LatentCacheError} `corrupt` when its data fails the check. */
  async get(id: string): Promise<CachedLatent | undefined> {
    const buffered = this.pending.get(id) ?? this.flushing.get(id);
    if (buffered) return buffered;
    const at = this.locations.get(id);
    if (at === undefined) return undefined;
    const path = join(this.dir, shardFileName(at.shard));
    try {
      const { file, entries } = await this.shard(at.shard);
      const meta = entries[at.slot];
      const names = slotNames(at.slot, meta.extra);
      const mean = (await file.read(names.mean)) as HostTensor<'float32'>;
      const logvar = (await file.read(names.logvar)) as HostTensor<'float32'>;
      const extraTensors = await Promise.all(names.extra.map((n) => file.read(n)));
      if (this.options.verify && tensorsDigest([mean, logvar, ...extraTensors]) !== meta.sha256) {
        throw new LatentCacheError('corrupt', path, `latent cache shard ${path}: entry "${id}" fails its checksum`);
      }
      const entry: CachedLatent = { id, key: meta.key, mean, logvar };
      if (meta.extra.length > 0) entry.extra = Object.fromEntries(meta.extra.map((x, i) => [x, extraTensors[i]]));
      if (meta.info !== undefined) entry.info = meta.info;
      return entry;
    } catch (e) {
      if (e instanceof LatentCacheError) throw e;
      throw new LatentCacheError('corrupt', path, `latent cache shard ${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Stores `entry` for `id` under `key` (replacing an older one); writes a shard when the buffer is full. */
  async put(id: string, key: string, entry: LatentEntry): Promise<void> {
    checkEntry(id, entry, this.dir);
    const old = this.pending.get(id);
    if (old) this.pendingBytes -= entryBytes(old);
    const stored: CachedLatent = { ...entry, id, key };
    this.pending.set(id, stored);
    this.pendingBytes += entryBytes(stored);
    if (this.pendingBytes >= this.options.shardBytes || this.pending.size >= this.options.shardEntries) {
      await this.flush();
    }
  }

  /** Drops `id` from the cache's view (e.g. after a `corrupt` read); a later `put` stores it again. */
  forget(id: string): void {
    const old = this.pending.get(id);
    if (old) {
      this.pendingBytes -= entryBytes(old);
      this.pending.delete(id);
    }
    this.flushing.delete(id);
    this.locations.delete(id);
  }

  /** Writes the buffered entries as one shard and updates the index. */
  async flush(): Promise<void> {
    const batch = [...this.pending.values()];
    if (batch.length === 0) return this.writing;
    for (const e of batch) {
      this.pending.delete(e.id);
      this.flushing.set(e.id, e);
    }
    this.pendingBytes = 0;
    for (const e of this.pending.values()) this.pendingBytes += entryBytes(e);
    const write = this.writing.then(() => this.writeShard(batch));
    this.writing = write.catch(() => {});
    try {
      await write;
    } catch (e) {
      for (const entry of batch) if (this.flushing.get(entry.id) === entry) this.flushing.delete(entry.id);
      // Keep the entries readable and writable later, unless a newer one replaced them meanwhile.
      for (const entry of batch) if (!this.pending.has(entry.id)) this.pending.set(entry.id, entry);
      this.pendingBytes = 0;
      for (const entry of this.pending.values()) this.pendingBytes += entryBytes(entry);
      throw e;
    }
  }

  /** Reads every stored entry and checks it; forgets and returns the ids whose data is damaged. */
  async verify(): Promise<string[]> {
    const bad: string[] = [];
    for (const id of [...this.locations.keys()]) {
      try {
        await this.get(id);
      } catch (e) {
        if (!(e instanceof LatentCacheError)) throw e;
        bad.push(id);
        this.forget(id);
      }
    }
    return bad;
  }

  /** Writes what is buffered and closes the shard files. */
  async close(): Promise<void> {
    await this.flush();
    const open = [...this.open.values()];
    this.open.clear();
    await Promise.all(open.map((p) => p.then((s) => s.file.close()).catch(() => {})));
  }

  private async writeShard(batch: CachedLatent[]): Promise<void> {
    const n = this.nextShard++;
    const file = shardFileName(n);
    const path = join(this.dir, file);
    const tensors = new Map<string, HostTensor>();
    const metas: ShardEntryMeta[] = [];
    batch.forEach((entry, slot) => {
      const extra = Object.keys(entry.extra ?? {});
      const names = slotNames(slot, extra);
      const extraTensors = extra.map((x) => entry.extra![x]);
      tensors.set(names.mean, entry.mean);
      tensors.set(names.logvar, entry.logvar);
      for (let i = 0; i < extra.length; i++) tensors.set(names.extra[i], extraTensors[i]);
      const meta: ShardEntryMeta = {
        id: entry.id,
        key: entry.key,
        extra,
        sha256: tensorsDigest([entry.mean, entry.logvar, ...extraTensors]),
      };
      if (entry.info !== undefined) meta.info = entry.info;
      metas.push(meta);
    });
    const metadata = { [SHARD_METADATA_KEY]: JSON.stringify({ version: FORMAT_VERSION, entries: metas }) };
    try {
      await writeSafetensors(path, tensors, metadata);
      const bytes = (await stat(path)).size;
      this.shards.push({ file, bytes, entries: batch.map((e) => [e.id, e.key]) });
      await this.writeIndex();
    } catch (e) {
      throw new LatentCacheError('io', path, `cannot write latent cache shard ${path}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    for (let slot = 0; slot < batch.length; slot++) {
      const entry = batch[slot];
      if (this.flushing.get(entry.id) !== entry) continue; // forgotten while it was written
      this.flushing.delete(entry.id);
      // a newer entry put meanwhile is still pending and wins over this one
      this.locations.set(entry.id, { shard: n, slot, key: entry.key });
    }
  }

  private async writeIndex(): Promise<void> {
    const index = { format: INDEX_FORMAT, version: FORMAT_VERSION, shards: this.shards };
    await writeFileAtomic(join(this.dir, INDEX_FILE), JSON.stringify(index));
  }

  /** An open shard (kept in a small LRU), with its parsed entry list. */
  private shard(n: number): Promise<OpenShard> {
    let p = this.open.get(n);
    if (p !== undefined) {
      this.open.delete(n); // re-insert: most recently used last
      this.open.set(n, p);
      return p;
    }
    const path = join(this.dir, shardFileName(n));
    p = SafetensorsFile.open(path).then((file) => {
      const entries = parseShardEntries(file.metadata);
      if (entries === undefined) {
        void file.close();
        throw new LatentCacheError('corrupt', path, `latent cache shard ${path} has no valid entry list`);
      }
      return { file, entries };
    });
    p.catch(() => this.open.delete(n));
    this.open.set(n, p);
    while (this.open.size > this.options.openShards) {
      const [oldest, q] = this.open.entries().next().value!;
      this.open.delete(oldest);
      void q.then((s) => s.file.close()).catch(() => {});
    }
    return p;
  }

  /** Reads the index and reconciles it with the directory (see the module comment). */
  private async load(): Promise<void> {
    const names = await readdir(this.dir);
    for (const name of names) if (isTemporaryName(name)) await unlink(join(this.dir, name)).catch(() => {});
    const files = new Map<number, string>();
    let highest = -1;
    for (const name of names) {
      const m = /^shard-(\d{6,})\.safetensors/.exec(name);
      if (m) highest = Math.max(highest, Number(m[1]));
      const n = shardNumber(name);
      if (n !== undefined) files.set(n, name);
    }
    this.nextShard = highest + 1;
    const indexText = await readFile(join(this.dir, INDEX_FILE), 'utf8').catch(() => undefined);
    const index = indexText === undefined ? undefined : parseIndex(indexText);
    const listed = new Map((index?.shards ?? []).map((s) => [s.file, s]));
    let changed = indexText !== undefined && index === undefined;
    for (const [n, file] of [...files.entries()].sort((a, b) => a[0] - b[0])) {
      const path = join(this.dir, file);
      const entry = listed.get(file);
      listed.delete(file);
      const size = (await stat(path)).size;
      let shard: IndexShard | undefined = entry?.bytes === size ? entry : undefined;
      if (shard === undefined) {
        changed = true;
        shard = await this.readShardHeader(path, file, size);
        if (shard === undefined) continue;
      }
      this.shards.push(shard);
      for (let slot = 0; slot < shard.entries.length; slot++) {
        const [id, key] = shard.entries[slot];
        this.locations.set(id, { shard: n, slot, key });
      }
    }
    for (const file of listed.keys()) {
      changed = true;
      this.problems.push(`latent cache shard ${join(this.dir, file)} is listed in the index but missing`);
    }
    if (changed) await this.writeIndex();
  }

  /** A shard's index record from its own header; undefined (renamed `.corrupt`, reported) when damaged. */
  private async readShardHeader(path: string, file: string, size: number): Promise<IndexShard | undefined> {
    let why: string;
    try {
      const f = await SafetensorsFile.open(path);
      try {
        const entries = parseShardEntries(f.metadata);
        if (entries?.every((e, slot) => f.has(slotNames(slot, e.extra).logvar))) {
          return { file, bytes: size, entries: entries.map((e) => [e.id, e.key]) };
        }
        why = 'no valid entry list';
      } finally {
        await f.close();
      }
    } catch (e) {
      why = (e as Error).message;
    }
    await rename(path, `${path}.corrupt`).catch(() => {});
    this.problems.push(`latent cache shard ${path} is damaged (${why}); moved aside to ${file}.corrupt`);
    return undefined;
  }
}

function entryBytes(e: LatentEntry): number {
  let n = e.mean.data.byteLength + e.logvar.data.byteLength;
  for (const t of Object.values(e.extra ?? {})) n += t.data.byteLength;
  return n;
}

function checkEntry(id: string, e: LatentEntry, dir: string): void {
  const bad = (what: string) => new LatentCacheError('bad-entry', dir, `latent cache entry "${id}": ${what}`);
  if (typeof id !== 'string' || id === '') throw bad('the id must be a non-empty string');
  if (e.mean?.dtype !== 'float32' || e.logvar?.dtype !== 'float32') throw bad('mean and logvar must be float32');
  const a = e.mean.shape.join(',');
  if (e.mean.shape.length !== 4 || a !== e.logvar.shape.join(',')) {
    throw bad(`mean and logvar must share a [T, C, h, w] shape, got [${a}] and [${e.logvar.shape.join(', ')}]`);
  }
  for (const name of Object.keys(e.extra ?? {})) {
    if (!EXTRA_NAME.test(name)) throw bad(`extra tensor name ${JSON.stringify(name)} must be letters, digits or _`);
  }
}
