/** The engine: off-main-thread execution, shared weights, session cache, feeds and provider errors. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src/graph/builder.ts';
import * as op from '../../src/graph/ops/index.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { FeedError, ProviderUnavailableError } from '../../src/runtime/errors.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { randn } from '../helpers/random.ts';

function matmulGraph(rows: number, name = 'mm') {
  const b = new GraphBuilder(name);
  const x = b.input('x', [rows, 64]);
  b.output('y', op.matmul(x, b.weight('w', [64, 32])));
  return b.build();
}

describe('engine', () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.create({ threads: 2 });
  });
  after(async () => {
    await engine.dispose();
  });

  test('a 1 ms timer keeps firing while a ~200 ms graph runs (the engine is off the main thread)', async () => {
    const n = 1536;
    const b = new GraphBuilder('slow');
    const x = b.input('x', [n, n]);
    let y = x;
    for (let i = 0; i < 12; i++) y = op.matmul(y, x);
    b.output('y', op.sum(y));
    const graph = b.build();
    const feeds = { x: randn([n, n], 1 / n) };
    await engine.run(graph, feeds); // session creation, warm-up
    let ticks = 0;
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 1);
    const t0 = performance.now();
    await engine.run(graph, feeds);
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    assert.ok(engine.lastTiming.runMs >= 100, `graph ran only ${engine.lastTiming.runMs} ms; make it heavier`);
    // On the main thread the timer could not fire at all during the run (one gap ≥ the whole run).
    assert.ok(ticks >= elapsed / 20, `${ticks} ticks in ${elapsed.toFixed(0)} ms`);
    assert.ok(maxGap < elapsed / 2, `largest timer gap ${maxGap.toFixed(1)} ms during a ${elapsed.toFixed(0)} ms run`);
  });

  test('two sessions of one graph with different frame counts share one weight buffer', async () => {
    const weightBytes = 128 * 2 ** 20;
    const w = HostTensor.zeros('float32', [8192, 4096]);
    for (let i = 0; i < w.data.length; i += 101) w.data[i] = 1e-3;
    await engine.setWeights({ big: w }, { transfer: true });
    assert.equal(w.data.byteLength, 0, 'the buffer moved to the worker');
    const graphFor = (frames: number) => {
      const b = new GraphBuilder('frames');
      b.output('y', op.matmul(b.input('x', [frames, 8192]), b.weight('big', [8192, 4096])));
      return b.build();
    };
    const rss = () => process.memoryUsage().rss;
    const g2 = graphFor(2);
    const g3 = graphFor(3);
    await engine.run(g2, { x: HostTensor.zeros('float32', [2, 8192]) });
    await engine.run(g2, { x: HostTensor.zeros('float32', [2, 8192]) });
    const before2 = rss();
    await engine.run(g3, { x: HostTensor.zeros('float32', [3, 8192]) });
    const out = await engine.run(g3, { x: HostTensor.zeros('float32', [3, 8192]) });
    const growth = (rss() - before2) / before2;
    assert.deepEqual(out.y.shape, [3, 4096]);
    assert.ok(before2 > weightBytes, 'the weights are resident');
    assert.ok(growth < 0.05, `memory grew ${(growth * 100).toFixed(2)} % for the second session`);
    const stats = await engine.stats();
    assert.ok(stats.weightBytes >= weightBytes);
    await engine.deleteWeights(['big']);
  });

  test('compile() traces once per shape; the cached call creates no session', async () => {
    const f = engine.compile('scale', (_b, x) => ({ y: op.mul(x.a, 3) }));
    const a = HostTensor.float32([2], [1, 2]);
    assert.deepEqual([...(await f({ a })).y.data], [3, 6]);
    assert.equal(engine.lastTiming.sessionCreated, true);
    assert.deepEqual([...(await f({ a: HostTensor.float32([2], [5, 6]) })).y.data], [15, 18]);
    assert.equal(engine.lastTiming.sessionCreated, false);
    assert.equal(engine.lastTiming.lowerMs, 0);
    assert.deepEqual((await f({ a: HostTensor.float32([3], [1, 1, 1]) })).y.shape, [3]);
    assert.equal(engine.lastTiming.sessionCreated, true);
  });

  test('resident tensors: uploaded once, fed without copies, outputs kept in the worker', async () => {
    const b = new GraphBuilder('step');
    const x = b.input('x', [3]);
    b.output('y', op.add(x, 1));
    const step = b.build();
    let cur = await engine.upload(HostTensor.float32([3], [1, 2, 3]));
    for (let i = 0; i < 3; i++) {
      const { resident } = await engine.runKeep(step, { x: cur }, ['y']);
      await engine.free(cur);
      cur = resident.y;
    }
    assert.deepEqual([...(await engine.download(cur)).data], [4, 5, 6]);
    await engine.free(cur);
    await assert.rejects(engine.download(cur), /was freed/);
    assert.equal((await engine.stats()).resident, 0);
  });

  test('feeds and weights are checked before running', async () => {
    const g = matmulGraph(4);
    await assert.rejects(engine.run(g, { x: randn([4, 64]) }), (e: Error) => {
      assert.ok(e instanceof FeedError);
      assert.match(e.message, /weights missing from the store: w/);
      return true;
    });
    await engine.setWeights({ w: randn([64, 32]) });
    await assert.rejects(engine.run(g, {}), /needs input "x" \(float32 \[4, 64\]\)/);
    await assert.rejects(
      engine.run(g, { x: randn([5, 64]) }),
      /input "x" is float32 \[5, 64\] but graph "mm" expects float32 \[4, 64\]/,
    );
    await engine.setWeights({ w: randn([64, 31]) });
    await assert.rejects(engine.run(g, { x: randn([4, 64]) }), /weight "w" is float32 \[64, 31\] in the store/);
  });

  test('sessions are evicted LRU and rebuilt on demand', async () => {
    const small = await Engine.create({ threads: 1, cacheSize: 2 });
    try {
      await small.setWeights({ w: randn([64, 32]) });
      const graphs = [1, 2, 3].map((r) => matmulGraph(r));
      for (const g of graphs) await small.run(g, { x: randn([g.values[0].shape[0], 64]) });
      assert.equal((await small.stats()).sessions, 2);
      const out = await small.run(graphs[0], { x: randn([1, 64]) });
      assert.equal(small.lastTiming.sessionCreated, true, 'the evicted session is rebuilt');
      assert.deepEqual(out.y.shape, [1, 32]);
    } finally {
      await small.dispose();
    }
  });

  test('concurrent runs stay correct when sessions are evicted in between (pooled feeds are resent)', async () => {
    const tiny = await Engine.create({ threads: 1, cacheSize: 1 });
    try {
      const graphs = [2, 3].map((k) => {
        const b = new GraphBuilder(`scale${k}`);
        b.output('y', op.mul(b.input('x', [32768]), k));
        return b.build();
      });
      const x = randn([32768]); // 128 KiB: travels through the feed pool
      await tiny.run(graphs[0], { x });
      await tiny.run(graphs[1], { x }); // evicts graph 0; the engine believes the worker holds graph 1
      // Sent together: the first (with its model) evicts graph 1 before the second, sent without a model, arrives.
      const runs = [0, 1, 0, 1, 0, 1].map((i) => tiny.run(graphs[i], { x }).then((o) => ({ i, y: o.y })));
      for (const { i, y } of await Promise.all(runs)) {
        const k = i === 0 ? 2 : 3;
        assert.equal((y.data as Float32Array)[5], Math.fround(x.data[5] * k));
      }
      assert.equal(x.data.length, 32768, 'the caller keeps its feed');
      assert.ok(tiny.resends > 0, 'the eviction race was exercised');
    } finally {
      await tiny.dispose();
    }
  });

  test("release() drops a graph's session; running it again rebuilds it", async () => {
    const b = new GraphBuilder('released');
    b.output('y', op.mul(b.input('x', [4]), 2));
    const g = b.build();
    await engine.run(g, { x: randn([4]) });
    const before = (await engine.stats()).sessions;
    await engine.release([g]);
    assert.equal((await engine.stats()).sessions, before - 1);
    await engine.run(g, { x: randn([4]) });
    assert.equal(engine.lastTiming.sessionCreated, true);
  });

  test('saveOnnxDir writes each new model as a valid ONNX file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svd-onnx-'));
    const e = await Engine.create({ threads: 1, saveOnnxDir: dir });
    try {
      const b = new GraphBuilder('saved');
      b.output('y', op.softmax(b.input('x', [2, 3])));
      await e.run(b.build(), { x: randn([2, 3]) });
      const files = readdirSync(dir);
      assert.equal(files.length, 1);
      assert.match(files[0], /^saved-[0-9a-f]{12}\.onnx$/);
      const session = await ort.InferenceSession.create(readFileSync(join(dir, files[0])));
      assert.deepEqual(session.inputNames, ['x']);
      assert.deepEqual(session.outputNames, ['y']);
      await session.release();
    } finally {
      await e.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('unavailable providers fail with a clear error', async () => {
    await assert.rejects(Engine.create({ provider: 'cuda' }), (e: Error) => {
      assert.ok(e instanceof ProviderUnavailableError);
      assert.match(e.message, /cuda.*npm run install-cuda/);
      return true;
    });
    await assert.rejects(Engine.create({ provider: 'tpu' as 'cpu' }), /unknown execution provider "tpu"/);
    if (!process.env.SVD_HAS_GPU) {
      await assert.rejects(Engine.create({ provider: 'webgpu' }), /"webgpu" is not available on this machine/);
    }
  });
});
