/**
 * `npm run bench -- temporal-attention`: the UNet's temporal attention shape (`--batch B` positions × 25 frames, 10
 * heads × 64; default B = 4608, the 576×1024 level-1 count; BENCH_QUICK: 1152) as it runs inside a model: q, k, v
 * resident in the engine, the output reduced to a scalar in the same graph so that no 295 MB result is copied back
 * (the ops suite's figure for this shape is mostly that copy). Kernel times from the ORT profile of each graph, in
 * alternating blocks, against the memory-bound floor measured the same way in the same run: the same bytes moved once
 * (three reads and one write, what any attention kernel must at least do = twice the time of an elementwise copy of
 * q, timed alongside). Also
 * timed, for context, the other stock-ORT formulation: the head transposes with batched MatMul + Softmax.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, type SymTensor } from '../src/graph/builder.ts';
import type { Graph } from '../src/graph/ir.ts';
import * as op from '../src/graph/ops/index.ts';
import { Engine, type ResidentTensor } from '../src/runtime/engine.ts';
import { breakdown } from '../src/runtime/ort-profile.ts';
import { Rng } from '../src/tensor/rng.ts';
import { readProfiles } from './profile-report.ts';
import { recordFigure } from './report.ts';
import { fmtMs, machineLine, QUICK } from './stats.ts';

const SUITE = 'temporal-attention';
const S = 25;
const H = 10;
const D = 64;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const loadLine = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');

type Body = (q: SymTensor, k: SymTensor, v: SymTensor) => SymTensor;

/** q, k, v [B, S, H·D] → `body` → max (a scalar output); the body's nodes in scope `core`. */
function graph(name: string, batch: number, body: Body): Graph {
  const b = new GraphBuilder(name);
  const shape = [batch, S, H * D];
  const [q, k, v] = ['q', 'k', 'v'].map((n) => b.input(n, shape));
  const o = b.scope('core', () => body(q, k, v));
  b.output('y', op.max(o));
  return b.build();
}

/** softmax(q·kᵀ/√D)·v per head with explicit head transposes and batched MatMuls. */
const matmulSoftmax: Body = (q, k, v) => {
  const batch = q.shape[0];
  const heads = (t: SymTensor) => op.transpose(op.reshape(t, [batch, S, H, D]), [0, 2, 1, 3]);
  const scores = op.mul(
    op.matmul(heads(q), op.transpose(op.reshape(k, [batch, S, H, D]), [0, 2, 3, 1])),
    1 / Math.sqrt(D),
  );
  const o = op.matmul(op.softmax(scores, -1), heads(v));
  return op.reshape(op.transpose(o, [0, 2, 1, 3]), [batch, S, H * D]);
};

export async function benchTemporalAttention(threads: number): Promise<void> {
  const batch = arg('batch', QUICK ? 1152 : 4608);
  const rounds = QUICK ? 2 : arg('rounds', 4);
  const block = 2;
  const flops = 4 * batch * H * S * S * D;
  const bytes = 4 * batch * S * H * D * 4;
  console.log(
    `# temporal-attention benchmark — ${machineLine()}, ${threads} threads, float32, [${batch}, ${S}, ${H}×${D}]: ${(flops / 1e9).toFixed(2)} GFLOP, q + k + v + output ${(bytes / 2 ** 20).toFixed(0)} MiB; load ${loadLine()}`,
  );
  const cases: { name: string; body: Body; ours?: boolean }[] = [
    { name: 'ours: op.attention (ONNX Attention-23)', body: (q, k, v) => op.attention(q, k, v, H), ours: true },
    { name: 'floor: the bytes of q, k, v and the output moved once (2 × a copy of q)', body: (q) => op.mul(q, 0.5) },
    { name: 'head transposes + batched MatMul + Softmax', body: matmulSoftmax },
  ];
  const profileDir = mkdtempSync(join(tmpdir(), 'svd-bench-profile-'));
  const engine = await Engine.create({ threads, profileDir, spinning: process.argv.includes('--spin') });
  try {
    const rng = new Rng(5);
    const shape = [batch, S, H * D];
    const feeds: Record<string, ResidentTensor> = {};
    for (const n of ['q', 'k', 'v']) feeds[n] = await engine.upload(rng.randn(n, shape), { transfer: true });
    const graphs = cases.map((c, i) => graph(`ta${i}`, batch, c.body));
    for (const g of graphs) await engine.run(g, feeds);
    const wall = graphs.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      for (const [i, g] of graphs.entries()) {
        for (let j = 0; j < block; j++) {
          const t0 = performance.now();
          await engine.run(g, feeds);
          wall[i].push(performance.now() - t0);
        }
      }
    }
    await engine.endProfiling();
    const kernelMs = new Map<string, number>();
    for (const { file, profile } of readProfiles(profileDir)) {
      const runs = profile.runs.map((_, i) => i).slice(1);
      const core = breakdown(profile, (n) => (n.name.startsWith('core/') ? 'core' : undefined), runs);
      kernelMs.set(file.slice(0, file.indexOf('_')), core.rows[0]?.ms ?? Number.NaN);
    }
    const floorMs = 2 * (kernelMs.get('ta1') ?? Number.NaN);
    console.log('| formulation | kernel time (ORT profile) | vs the floor | GFLOP/s | wall per call (scalar output) |');
    console.log('|---|---|---|---|---|');
    for (const [i, c] of cases.entries()) {
      const ms = (i === 1 ? 2 : 1) * (kernelMs.get(`ta${i}`) ?? Number.NaN);
      const w = [...wall[i]].sort((a, b) => a - b)[Math.floor(wall[i].length / 2)];
      console.log(
        `| ${c.name} | ${fmtMs(ms)} ms | ${(ms / floorMs).toFixed(2)}× | ${i === 1 ? '–' : (flops / 1e6 / ms).toFixed(0)} | ${i === 1 ? `(one copy) ${fmtMs(w)}` : fmtMs(w)} ms |`,
      );
      if (i !== 1) {
        recordFigure({
          suite: SUITE,
          case: `temporal attention [${batch}, ${S}, ${H}×${D}]: ${c.name}`,
          ours: ms,
          baseline: { name: 'memory-bound floor: q + k + v moved once (same run)', value: floorMs },
          note: `${(flops / 1e6 / ms).toFixed(0)} GFLOP/s; kernel time from the ORT profile; load ${loadLine()}`,
        });
      }
    }
    console.log(`(floor: ${(bytes / 1e6 / floorMs).toFixed(1)} GB/s; load ${loadLine()})`);
  } finally {
    await engine.dispose();
    rmSync(profileDir, { recursive: true, force: true });
  }
}
