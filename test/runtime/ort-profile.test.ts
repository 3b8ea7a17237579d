/** ORT profiles: parsing, the work counted per node, breakdowns, and the engine writing them with scoped node names. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GraphBuilder } from '../../src/graph/builder.ts';
import * as op from '../../src/graph/ops/index.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { breakdown, nodeBytes, nodeFlops, parseOrtProfile, shapeKey } from '../../src/runtime/ort-profile.ts';
import { randn } from '../helpers/random.ts';

const node = (name: string, op: string, ts: number, dur: number, ins: number[][], outs: number[][]) => ({
  cat: 'Node',
  name: `${name}_kernel_time`,
  ts,
  dur,
  args: {
    op_name: op,
    input_type_shape: ins.map((d) => ({ float: d })),
    output_type_shape: outs.map((d) => ({ float: d })),
  },
});

// Two runs: run 0 at [100, 200], run 1 at [300, 400]; one node event outside both (session initialisation).
const TRACE = [
  { cat: 'Session', name: 'session_initialization', ts: 0, dur: 90 },
  node(
    'init',
    'Conv',
    10,
    5,
    [
      [1, 4, 8, 8],
      [4, 4, 3, 3],
    ],
    [[1, 4, 8, 8]],
  ),
  { cat: 'Session', name: 'model_run', ts: 100, dur: 100 },
  node(
    'blk/Conv_0',
    'Conv',
    110,
    40,
    [
      [1, 4, 8, 8],
      [6, 4, 3, 3],
    ],
    [[1, 6, 8, 8]],
  ),
  node(
    'blk/Add_1',
    'Add',
    160,
    20,
    [
      [1, 6, 8, 8],
      [1, 6, 8, 8],
    ],
    [[1, 6, 8, 8]],
  ),
  { cat: 'Session', name: 'model_run', ts: 300, dur: 100 },
  node(
    'blk/Conv_0',
    'Conv',
    310,
    60,
    [
      [1, 4, 8, 8],
      [6, 4, 3, 3],
    ],
    [[1, 6, 8, 8]],
  ),
  node(
    'blk/Add_1',
    'Add',
    380,
    20,
    [
      [1, 6, 8, 8],
      [1, 6, 8, 8],
    ],
    [[1, 6, 8, 8]],
  ),
];

describe('ORT profile', () => {
  test('node events are assigned to the run that encloses them; the suffix is dropped', () => {
    const p = parseOrtProfile(TRACE);
    assert.deepEqual(p.runs, [
      { ts: 100, us: 100 },
      { ts: 300, us: 100 },
    ]);
    assert.deepEqual(
      p.nodes.map((n) => [n.name, n.op, n.run]),
      [
        ['init', 'Conv', -1],
        ['blk/Conv_0', 'Conv', 0],
        ['blk/Add_1', 'Add', 0],
        ['blk/Conv_0', 'Conv', 1],
        ['blk/Add_1', 'Add', 1],
      ],
    );
    assert.throws(() => parseOrtProfile({}), /JSON array/);
  });

  test('FLOPs of conv, transposed conv, matmul and attention from the shapes; bytes of every tensor', () => {
    const t = (dims: number[][]) => dims.map((d) => ({ type: 'float', dims: d }));
    // Conv: 2 · out elements · (Cin/g · kh · kw).
    assert.equal(
      nodeFlops({
        op: 'Conv',
        inputs: t([
          [1, 4, 8, 8],
          [6, 4, 3, 3],
        ]),
        outputs: t([[1, 6, 8, 8]]),
      }),
      2 * 384 * 36,
    );
    // Depthwise conv: weight [C, 1, 3, 3].
    assert.equal(
      nodeFlops({
        op: 'Conv',
        inputs: t([
          [1, 4, 8, 8],
          [4, 1, 3, 3],
        ]),
        outputs: t([[1, 4, 8, 8]]),
      }),
      2 * 256 * 9,
    );
    // ConvTranspose: 2 · in elements · (Cout/g · kh · kw), weight [Cin, Cout/g, kh, kw].
    assert.equal(
      nodeFlops({
        op: 'ConvTranspose',
        inputs: t([
          [1, 4, 8, 8],
          [4, 6, 2, 2],
        ]),
        outputs: t([[1, 6, 16, 16]]),
      }),
      2 * 256 * 24,
    );
    assert.equal(
      nodeFlops({
        op: 'MatMul',
        inputs: t([
          [3, 5, 7],
          [7, 2],
        ]),
        outputs: t([[3, 5, 2]]),
      }),
      2 * 30 * 7,
    );
    // Attention [B, S, H·D]: 2 · B · Sq · Sk · (D_qk + D_v) summed over heads.
    const q = [2, 25, 640];
    assert.equal(nodeFlops({ op: 'Attention', inputs: t([q, q, q]), outputs: t([q]) }), 2 * 2 * 25 * 25 * 1280);
    // [B, H, S, D].
    const q4 = [2, 10, 25, 64];
    assert.equal(
      nodeFlops({ op: 'MultiHeadAttention', inputs: t([q4, q4, q4]), outputs: t([q4]) }),
      2 * 2 * 10 * 625 * 128,
    );
    assert.equal(nodeFlops({ op: 'Add', inputs: t([[4], [4]]), outputs: t([[4]]) }), 0);
    assert.equal(nodeBytes({ op: 'Reshape', inputs: t([[4, 2], [2]]), outputs: t([[8]]) }), 0);
    assert.equal(nodeBytes({ op: 'Slice', inputs: t([[100], [1]]), outputs: t([[10]]) }), 80);
    assert.equal(
      nodeBytes({
        op: 'Concat',
        inputs: [
          { type: 'float', dims: [4] },
          { type: 'int64', dims: [2] },
        ],
        outputs: t([[4]]),
      }),
      16 + 16 + 16,
    );
  });

  test('a breakdown averages the selected runs and gives each key its share of the node time', () => {
    const p = parseOrtProfile(TRACE);
    const all = breakdown(p, (n) => n.op);
    assert.equal(all.totalMs, 0.07); // (40 + 20 + 60 + 20) µs over 2 runs
    assert.deepEqual(
      all.rows.map((r) => [r.key, r.calls, r.ms, Number(r.share.toFixed(4))]),
      [
        ['Conv', 1, 0.05, 0.7143],
        ['Add', 1, 0.02, 0.2857],
      ],
    );
    assert.equal(all.rows[0].flops, 2 * 384 * 36);
    const second = breakdown(p, (n) => (n.op === 'Conv' ? shapeKey(n) : undefined), [1]);
    assert.equal(second.totalMs, 0.08);
    assert.deepEqual(
      second.rows.map((r) => [r.key, r.ms, r.share]),
      [['Conv [1,4,8,8]·[6,4,3,3]', 0.06, 0.75]],
    );
  });

  test('an engine with profileDir writes one profile per session, node names carrying the builder scope', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svd-profile-test-'));
    const engine = await Engine.create({ threads: 1, profileDir: dir });
    try {
      const b = new GraphBuilder('scoped');
      const x = b.input('x', [1, 4, 8, 8]);
      const y = b.scope('model.block.1', () => op.conv(x, b.weight('w', [4, 4, 3, 3]), undefined, { padding: 1 }));
      b.output('y', op.add(y, x));
      const graph = b.build();
      await engine.setWeights({ w: randn([4, 4, 3, 3], 0.1) });
      await engine.run(graph, { x: randn([1, 4, 8, 8]) });
      await engine.run(graph, { x: randn([1, 4, 8, 8]) });
      await engine.endProfiling();
      const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
      assert.equal(files.length, 1);
      assert.match(files[0], /^scoped_/);
      const p = parseOrtProfile(JSON.parse(readFileSync(join(dir, files[0]), 'utf8')));
      assert.equal(p.runs.length, 2);
      const convs = p.nodes.filter((n) => n.op === 'Conv' || n.op === 'FusedConv');
      assert.equal(convs.length, 2, `one conv per run: ${p.nodes.map((n) => `${n.name}:${n.op}`).join(', ')}`);
      for (const c of convs) {
        assert.ok(c.name.startsWith('model.block.1/'), c.name);
        assert.equal(nodeFlops(c), 2 * 256 * 36);
      }
    } finally {
      await engine.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
