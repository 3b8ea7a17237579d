/**
 * The latent cache: entries read back bit-identical (buffered, after flushing, after reopening); interrupted writes
 * (temporary leftovers, a shard the index does not list yet, a lost index) are repaired at open; a damaged shard or
 * entry is detected; the per-epoch latent draw; the caching loader (encode once, then read; a damaged entry is
 * encoded again); and the measured speed-up of reading cached moments over decoding the clip again.
 */
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { Rng } from '../../../src/tensor/rng.ts';
import { cachedLatentLoader, type EncodeFn, type LatentSample } from '../../../src/training/data/cached-latents.ts';
import type { SampleChoices } from '../../../src/training/data/choices.ts';
import { ClipDataset } from '../../../src/training/data/clip-dataset.ts';
import { LatentCacheError } from '../../../src/training/data/errors.ts';
import { framesToTensor } from '../../../src/training/data/frames-tensor.ts';
import { LatentCache, type LatentEntry } from '../../../src/training/data/latent-cache.ts';
import { drawLatent, latentStream } from '../../../src/training/data/latent-draw.ts';
import { loadSample } from '../../../src/training/data/load-sample.ts';
import type { ClipRecord } from '../../../src/training/data/record.ts';
import { decodeFrames } from '../../../src/video/decode.ts';
import { makeTestVideos, type TestVideos } from './test-videos.ts';

let v: TestVideos;
const root = mkdtempSync(join(tmpdir(), 'svd-latents-'));
let n = 0;
const freshDir = () => join(root, `c${n++}`);
before(async () => {
  v = await makeTestVideos(['bars', 'gray']);
});
after(() => {
  v.remove();
  rmSync(root, { recursive: true, force: true });
});

/** A random entry [T, 4, h, w] with an extra uint8 frame and JSON info. */
function entry(seed: number, t = 3, h = 4, w = 6): LatentEntry {
  const rng = new Rng(seed);
  const frame = new Uint8Array(3 * 8 * h * 8 * w).map((_, i) => (i * 7 + seed) & 255);
  return {
    mean: rng.randn('mean', [t, 4, h, w]),
    logvar: rng.randn('logvar', [t, 4, h, w]),
    extra: { cond_frame: new HostTensor('uint8', [3, 8 * h, 8 * w], frame) },
    info: { seed, note: 'x' },
  };
}

const bytes = (t: HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

function assertSame(got: LatentEntry | undefined, want: LatentEntry, what: string): void {
  assert.ok(got, `${what}: present`);
  assert.deepEqual(got.mean.shape, want.mean.shape);
  assert.ok(bytes(got.mean).equals(bytes(want.mean)), `${what}: mean bit-identical`);
  assert.ok(bytes(got.logvar).equals(bytes(want.logvar)), `${what}: logvar bit-identical`);
  assert.ok(bytes(got.extra!.cond_frame).equals(bytes(want.extra!.cond_frame)), `${what}: extra bit-identical`);
  assert.deepEqual(got.info, want.info);
}

test('entries read back bit-identical: buffered, flushed into shards, after reopening', async () => {
  const dir = freshDir();
  const cache = await LatentCache.open(dir, { shardEntries: 2 });
  const entries = [0, 1, 2, 3, 4].map((i) => entry(i));
  for (let i = 0; i < 5; i++) {
    await cache.put(`clip/${i}.mp4`, `key${i}`, entries[i]);
    assertSame(await cache.get(`clip/${i}.mp4`), entries[i], `entry ${i} right after put`);
  }
  assert.deepEqual(
    readdirSync(dir).sort(),
    ['index.json', 'shard-000000.safetensors', 'shard-000001.safetensors'],
    'two full shards; the fifth entry is still buffered',
  );
  await cache.close();
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  assert.deepEqual(
    index.shards.map((s: { file: string; entries: unknown[] }) => [s.file, s.entries.length]),
    [
      ['shard-000000.safetensors', 2],
      ['shard-000001.safetensors', 2],
      ['shard-000002.safetensors', 1],
    ],
  );
  const reopened = await LatentCache.open(dir);
  assert.equal(reopened.size, 5);
  assert.deepEqual(reopened.problems, []);
  for (let i = 4; i >= 0; i--) assertSame(await reopened.get(`clip/${i}.mp4`), entries[i], `entry ${i} reopened`);
  assert.equal(reopened.keyOf('clip/3.mp4'), 'key3');
  assert.equal(await reopened.get('nope'), undefined);
  // a newer entry for an id wins, also after reopening
  const newer = entry(9);
  await reopened.put('clip/1.mp4', 'key1b', newer);
  await reopened.close();
  const third = await LatentCache.open(dir);
  assert.equal(third.keyOf('clip/1.mp4'), 'key1b');
  assertSame(await third.get('clip/1.mp4'), newer, 'replaced entry');
  await assert.rejects(
    third.put('bad', 'k', { mean: entry(1).mean, logvar: entry(1, 2).logvar }),
    (e: unknown) =>
      e instanceof LatentCacheError && e.problem === 'bad-entry' && /share a \[T, C, h, w\] shape/.test(e.message),
  );
  await third.close();
});

test('interrupted writes are repaired at open: leftovers removed, an unlisted shard adopted, a lost index rebuilt', async () => {
  const dir = freshDir();
  const a = await LatentCache.open(dir, { shardEntries: 1 });
  await a.put('one', 'k1', entry(1));
  await a.close();
  copyFileSync(join(dir, 'index.json'), join(dir, 'old-index'));
  const b = await LatentCache.open(dir, { shardEntries: 1 });
  await b.put('two', 'k2', entry(2));
  await b.close();
  // a crash between the shard's rename and the index's: the index does not list shard 1 yet
  copyFileSync(join(dir, 'old-index'), join(dir, 'index.json'));
  rmSync(join(dir, 'old-index'));
  // and the temporary files of an unfinished shard and index
  writeFileSync(join(dir, 'shard-000002.safetensors.tmp-4242'), 'half a shard');
  writeFileSync(join(dir, 'index.json.tmp-4242'), '{"half');
  const c = await LatentCache.open(dir);
  assertSame(await c.get('two'), entry(2), 'adopted from the unlisted shard');
  assertSame(await c.get('one'), entry(1), 'listed shard');
  assert.deepEqual(readdirSync(dir).sort(), ['index.json', 'shard-000000.safetensors', 'shard-000001.safetensors']);
  assert.equal(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')).shards.length, 2, 'index rewritten');
  await c.close();
  rmSync(join(dir, 'index.json'));
  const d = await LatentCache.open(dir);
  assert.equal(d.size, 2, 'rebuilt from the shards alone');
  assertSame(await d.get('one'), entry(1), 'after rebuilding');
  await d.close();
});

test('a damaged shard is detected: truncated at open, flipped bytes on read', async () => {
  const dir = freshDir();
  const cache = await LatentCache.open(dir, { shardEntries: 2 });
  for (let i = 0; i < 4; i++) await cache.put(`c${i}`, `k${i}`, entry(i));
  await cache.close();
  // shard 0 loses its end
  const shard0 = join(dir, 'shard-000000.safetensors');
  truncateSync(shard0, readFileSync(shard0).length - 100);
  // shard 1 keeps its size, one byte of c3's logvar changes
  const shard1 = join(dir, 'shard-000001.safetensors');
  const buf = readFileSync(shard1);
  buf[buf.length - 3 * 8 * 4 * 8 * 6 - 5] ^= 0x40; // inside the last logvar, before the frame bytes
  writeFileSync(shard1, buf);

  const reopened = await LatentCache.open(dir);
  assert.equal(reopened.problems.length, 1);
  assert.match(reopened.problems[0], /shard-000000\.safetensors is damaged \(.*\); moved aside/);
  assert.ok(existsSync(`${shard0}.corrupt`) && !existsSync(shard0));
  assert.deepEqual([reopened.has('c0'), reopened.has('c1'), reopened.has('c2')], [false, false, true]);
  assertSame(await reopened.get('c2'), entry(2), 'the intact entry of shard 1');
  await assert.rejects(
    reopened.get('c3'),
    (e: unknown) =>
      e instanceof LatentCacheError && e.problem === 'corrupt' && /"c3" fails its checksum/.test(e.message),
  );
  assert.deepEqual(await reopened.verify(), ['c3']);
  assert.equal(reopened.has('c3'), false, 'verify forgets damaged entries');
  await reopened.put('c0', 'k0', entry(0));
  await reopened.close();
  assert.ok(existsSync(join(dir, 'shard-000002.safetensors')), 'new shards do not reuse a damaged shard number');
});

test('drawLatent: mean + exp(logvar/2)·ε from (seed, stream), logvar clamped as sgm does', () => {
  const size = 40_000;
  const mean = new HostTensor('float32', [size], new Float32Array(size).fill(1));
  const logvar = new HostTensor('float32', [size], new Float32Array(size).fill(Math.log(4)));
  const z = drawLatent(mean, logvar, 7, latentStream({ epoch: 2, index: 5 }));
  assert.equal(latentStream({ epoch: 2, index: 5 }), 'latent.2.5');
  let s = 0;
  let s2 = 0;
  for (const x of z.data) {
    s += x;
    s2 += x * x;
  }
  const m = s / size;
  const sd = Math.sqrt(s2 / size - m * m);
  assert.ok(Math.abs(m - 1) < 0.05 && Math.abs(sd - 2) < 0.05, `mean ${m}, std ${sd}`);
  const eps = new Rng(7).normal('latent.2.5', 3);
  assert.equal(z.data[0], Math.fround(1 + Math.fround(2 * eps[0])), 'z = mean + std·ε, float32');
  assert.deepEqual(
    drawLatent(mean, logvar, new Rng(7), 'latent.2.5').data,
    z.data,
    'a pure function of (seed, stream)',
  );
  assert.notDeepEqual(drawLatent(mean, logvar, 7, 'latent.3.5').data.subarray(0, 8), z.data.subarray(0, 8));
  const huge = new HostTensor('float32', [1], Float32Array.of(100));
  const clamped = drawLatent(HostTensor.float32([1], [0]), huge, 7, 'x').data[0];
  assert.equal(clamped, Math.fround(Math.fround(Math.exp(10)) * new Rng(7).normal('x', 1)[0]), 'logvar ≤ 20');
});

/** A stand-in encoder: 8×8 average pooling of each channel, first 3 → mean (4th = 0), logvar −1. */
function poolEncoder(calls: string[]): EncodeFn {
  return async (frames) => {
    const [t, c, h, w] = frames.shape;
    calls.push(`${t}x${h}x${w}`);
    const mean = new Float32Array(t * 4 * (h / 8) * (w / 8));
    for (let f = 0; f < t; f++)
      for (let ch = 0; ch < c; ch++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            const to = ((f * 4 + ch) * (h / 8) + (y >> 3)) * (w / 8) + (x >> 3);
            mean[to] += frames.data[((f * c + ch) * h + y) * w + x] / 64;
          }
    const shape = [t, 4, h / 8, w / 8];
    return { mean: new HostTensor('float32', shape, mean), logvar: HostTensor.zeros('float32', shape).reshape(shape) };
  };
}

test('the caching loader encodes each clip once, then reads it; a damaged entry is encoded again', async () => {
  const dir = freshDir();
  const records: ClipRecord[] = [
    { id: 'bars', path: v.bars, start: 0, end: 3, fps: 10, caption: 'bars' },
    { id: 'gray', path: v.gray, start: 0, end: 3, fps: 10, motionBucket: 9 },
  ];
  const calls: string[] = [];
  const cache = await LatentCache.open(dir);
  const options = { seed: 1, frames: 4, width: 32, height: 16, rate: { fps: [2, 5] }, prefetch: 0 };
  const dataset = new ClipDataset(records, options, cachedLatentLoader(cache, poolEncoder(calls)));
  const seen: LatentSample[] = [];
  for await (const item of dataset.items(6)) {
    assert.ok('sample' in item, JSON.stringify(item));
    seen.push(item.sample);
  }
  assert.deepEqual(calls, ['4x16x32', '4x16x32'], 'one encode per clip over three epochs');
  assert.deepEqual(
    seen.map((s) => s.cache),
    ['miss', 'miss', 'hit', 'hit', 'hit', 'hit'],
  );
  // overlapping loads of one clip (prefetch across the epoch boundary) share the first one's entry
  const raced: string[] = [];
  const racing = await LatentCache.open(freshDir());
  const prefetched = new ClipDataset(
    records,
    { ...options, prefetch: 3 },
    cachedLatentLoader(racing, poolEncoder(raced)),
  );
  const again6: string[] = [];
  for await (const item of prefetched.items(6))
    if ('sample' in item) again6.push(`${item.sample.id} ${item.sample.key}`);
  assert.deepEqual(
    again6,
    seen.map((s) => `${s.id} ${s.key}`),
    'the same entries as without prefetching',
  );
  assert.equal(raced.length, 2);
  await racing.close();

  const first = new Map(seen.slice(0, 2).map((s) => [s.id, s]));
  for (const s of seen.slice(2)) {
    const f = first.get(s.id)!;
    assert.equal(s.key, f.key, 'the augmentation is the first draw');
    assert.ok(bytes(s.mean).equals(bytes(f.mean)));
    assert.ok(bytes(s.condFrame).equals(bytes(f.condFrame)));
    assert.deepEqual([s.fpsId, s.window], [f.fpsId, f.window]);
  }
  const bars = first.get('bars')!;
  assert.deepEqual(bars.condFrame.shape, [1, 3, 16, 32]);
  assert.deepEqual([bars.caption, first.get('gray')!.motionBucketId], ['bars', 9]);
  // the cached conditioning frame is frame 0 of the window, exactly
  const w = bars.window;
  const frame0 = await decodeFrames(v.bars, {
    fps: w.fps,
    start: w.start,
    count: 1,
    width: 32,
    height: 16,
    crop: { mode: 'offset', ...w.crop },
  });
  assert.ok(bytes(framesToTensor(frame0)).equals(bytes(bars.condFrame)), 'frame 0');

  // damage the last stored entry: the loader forgets it and encodes again
  await cache.close();
  const [[intact], [damaged]] = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')).shards[0].entries;
  const shard = join(dir, 'shard-000000.safetensors');
  const buf = readFileSync(shard);
  buf[buf.length - 10] ^= 0xff;
  writeFileSync(shard, buf);
  const cache2 = await LatentCache.open(dir);
  const again = new ClipDataset(records, options, cachedLatentLoader(cache2, poolEncoder(calls)));
  const states: string[] = [];
  for await (const item of again.items(2)) if ('sample' in item) states.push(`${item.sample.id} ${item.sample.cache}`);
  assert.equal(calls.length, 3, 'one more encode');
  assert.deepEqual(states.sort(), [`${intact} hit`, `${damaged} repaired`].sort());
  await cache2.close();
});

test('reading cached moments is faster than decoding and resizing the clip again', async (t) => {
  const dir = freshDir();
  const cache = await LatentCache.open(dir);
  const record: ClipRecord = { id: 'bars', path: v.bars, start: 0, end: 3, fps: 10 };
  const choices: SampleChoices = {
    fps: 0.5,
    start: 0.3,
    cropX: 0.5,
    cropY: 0.5,
    flip: 0.9,
    colour: [0.5, 0.5, 0.5],
    order: 0.5,
  };
  const options = { frames: 14, width: 384, height: 256, rate: { fps: [5] } };
  const encode = poolEncoder([]);
  const first = await loadSample(record, choices, options);
  const moments = await encode(first.frames);
  await cache.put('bars', first.key, {
    ...moments,
    extra: { f: new HostTensor('uint8', [3, 256, 384], new Uint8Array(3 * 256 * 384)) },
  });
  await cache.flush();
  const time = async (f: () => Promise<unknown>, runs: number) => {
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await f();
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b)[Math.floor(runs / 2)];
  };
  const decode = await time(() => loadSample(record, choices, options), 3);
  const read = await time(() => cache.get('bars'), 9);
  t.diagnostic(
    `14 frames 384×256 from a 96×64 H.264 clip: decode + resize ${decode.toFixed(1)} ms (median of 3), ` +
      `cached moments [14, 4, 32, 48] ×2 + frame read and checked ${read.toFixed(2)} ms (median of 9): ` +
      `${(decode / read).toFixed(0)}× faster (the encoder's cost comes on top of the decode)`,
  );
  assert.ok(decode > 3 * read, `decode ${decode} ms vs cached read ${read} ms`);
  await cache.close();
});
