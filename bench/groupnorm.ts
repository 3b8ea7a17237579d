/**
 * `npm run bench -- groupnorm`: group norm (32 groups, [2,320,64,64], input mean 300) and group norm + SiLU through our
 * layer against PyTorch 1.13's `F.group_norm` (+ `F.silu`) in the same run, timing blocks alternating between the two
 * processes (bench/torch_ops.py). Each side runs a chain of `--chain K` (default 8) norms in one call, each on the
 * previous output, so that the time per norm is what it costs inside a model (one call's input and output transfer
 * shared by K norms), in `--rounds R` (default 10) alternating blocks of 4 timed calls per side (each after one untimed
 * call). Also printed: the ORT kernels of our lowering (its profile) against the memory-bound floor (two reads and one
 * write of the tensor: 1.5 × the kernel time of an elementwise copy of the same tensor, timed in the same blocks) and
 * the error of one norm against float64 on the mean-300 input. `--spin`: ORT's threads spin (EngineOptions.spinning).
 * `--shape N,C,H,W` and `--groups G` take another tensor (e.g. svd-mini's decoder at full size: 14,64,128,128 and 16).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../src/graph/builder.ts';
import { interpret } from '../src/graph/interpret.ts';
import * as op from '../src/graph/ops/index.ts';
import { Engine } from '../src/runtime/engine.ts';
import { breakdown } from '../src/runtime/ort-profile.ts';
import type { HostTensor } from '../src/tensor/host-tensor.ts';
import { Rng } from '../src/tensor/rng.ts';
import { readProfiles, steadyRuns } from './profile-report.ts';
import { recordFigure, recordNote } from './report.ts';
import { fmtMs, machineLine, QUICK } from './stats.ts';
import { TorchProcess, torchEnv, torchUnavailable } from './torch-process.ts';

const SUITE = 'groupnorm';
const shapeAt = process.argv.indexOf('--shape');
const SHAPE = shapeAt >= 0 ? process.argv[shapeAt + 1].split(',').map(Number) : [2, 320, 64, 64];
const groupsAt = process.argv.indexOf('--groups');
const GROUPS = groupsAt >= 0 ? Number(process.argv[groupsAt + 1]) : 32;
const MEAN = 300;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const medianOf = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const loadLine = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');

/** A chain of `chain` elementwise copies (x·1) of the tensor: the floor's unit, one read and one write per link. */
function copyChain(chain: number) {
  const b = new GraphBuilder(`copy_chain${chain}`);
  let h = b.input('x', SHAPE);
  // By a scalar: ORT's streaming path (a per-channel broadcast Mul measured 3× slower than BatchNormalization).
  for (let i = 0; i < chain; i++) h = op.mul(h, 0.5);
  b.output('y', h);
  return b.build();
}

function chainGraph(chain: number, silu: boolean) {
  const b = new GraphBuilder(`groupnorm_chain${chain}${silu ? '_silu' : ''}`);
  let h = b.input('x', SHAPE);
  const w = b.input('w', [SHAPE[1]]);
  const bias = b.input('b', [SHAPE[1]]);
  for (let i = 0; i < chain; i++) {
    h = b.scope(`norm.${i}`, () => op.groupNorm(h, GROUPS, w, bias, 1e-5));
    if (silu) h = op.silu(h);
  }
  b.output('y', h);
  return b.build();
}

/** max|ours − float64| / max|float64| of one norm on the mean-300 input. */
async function exactness(engine: Engine, feeds: Record<string, HostTensor>): Promise<number> {
  const g = chainGraph(1, false);
  const ours = (await engine.run(g, feeds)).y.data as Float32Array;
  const ref = interpret(g, feeds).y.data as Float64Array;
  let err = 0;
  let max = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(ours[i] - ref[i]));
    max = Math.max(max, Math.abs(ref[i]));
  }
  await engine.release([g]);
  return err / max;
}

export async function benchGroupNorm(threads: number): Promise<void> {
  const chain = arg('chain', 8);
  const rounds = QUICK ? 2 : arg('rounds', 10);
  const block = 4;
  console.log(
    `# groupnorm benchmark — ${machineLine()}, ${threads} threads, float32, [${SHAPE}] ${GROUPS} groups, input mean ${MEAN}, chains of ${chain}; load ${loadLine()}`,
  );
  const bytes = SHAPE.reduce((p, q) => p * q, 1) * 4;
  const rng = new Rng(11);
  const x = rng.randn('x', SHAPE);
  for (let i = 0; i < x.data.length; i++) x.data[i] += MEAN;
  const w = rng.randn('w', [SHAPE[1]]);
  const b = rng.randn('b', [SHAPE[1]]);
  for (let i = 0; i < SHAPE[1]; i++) {
    w.data[i] = 1 + 0.1 * w.data[i];
    b.data[i] = 0.1 * b.data[i];
  }
  const hostFeeds = { x, w, b };

  const missing = torchUnavailable();
  const torch = missing ? undefined : await TorchProcess.start('torch_ops.py', [String(threads)], torchEnv());
  const profileDir = mkdtempSync(join(tmpdir(), 'svd-bench-profile-'));
  const spinning = process.argv.includes('--spin');
  const engine = await Engine.create({ threads, profileDir, spinning });
  try {
    const feeds = { x: await engine.upload(x), w: await engine.upload(w), b: await engine.upload(b) };
    // The floor: a norm reads its input twice (statistics, then the output pass) and writes once = 1.5 copies of the
    // tensor; a copy's time is measured as ours is, a chain of elementwise copies in one call through our layer, in
    // the same alternating blocks.
    const copies = copyChain(chain);
    await engine.run(copies, feeds);
    console.log(
      `floor: 1.5 × one elementwise copy of the ${(bytes / 2 ** 20).toFixed(1)} MiB tensor (timed alongside); ORT threads ${spinning ? 'spinning' : 'not spinning (default)'}`,
    );
    if (torch) console.log(`PyTorch ${torch.torch}, OMP_WAIT_POLICY=${torchEnv().OMP_WAIT_POLICY}`);
    else console.log(`PyTorch baseline skipped: ${missing}`);
    console.log('| case | ours / norm | PyTorch 1.13 / norm | ratio ours/PyTorch |');
    console.log('|---|---|---|---|');
    for (const silu of [false, true]) {
      const name = `group norm${silu ? ' + SiLU' : ''} [${SHAPE}], ${GROUPS} groups`;
      const g = chainGraph(chain, silu);
      await engine.run(g, feeds);
      // Small alternating blocks (the machine's load moves within seconds); each side's median over all its runs.
      const oursRuns: number[] = [];
      const theirRuns: number[] = [];
      const timeBlock = async (graph: typeof g, into: number[]) => {
        await engine.run(graph, feeds); // untimed: the other side's block has just evicted the caches
        for (let i = 0; i < block; i++) {
          const t0 = performance.now();
          await engine.run(graph, feeds);
          into.push(performance.now() - t0);
        }
      };
      for (let round = 0; round < rounds; round++) {
        await timeBlock(g, oursRuns);
        await timeBlock(copies, []);
        if (torch?.proc) {
          const r = await torch.proc.request<{ ms: number[] }>({
            cmd: 'groupnorm',
            shape: SHAPE,
            groups: GROUPS,
            chain,
            silu,
            mean: MEAN,
            warmup: 1,
            n: block,
          });
          theirRuns.push(...r.ms);
        }
      }
      const ours = medianOf(oursRuns);
      const theirs = theirRuns.length > 0 ? medianOf(theirRuns) : Number.NaN;
      await engine.release([g]);
      const oursPer = ours / chain;
      const theirsPer = theirs / chain;
      console.log(
        `| ${name} | ${fmtMs(oursPer)} ms | ${torch ? `${fmtMs(theirsPer)} ms` : '–'} | ${torch ? `${(oursPer / theirsPer).toFixed(2)}×` : '–'} |`,
      );
      recordFigure({
        suite: SUITE,
        case: `${name}, per norm in a chain of ${chain}`,
        ours: oursPer,
        ...(torch
          ? { baseline: { name: `PyTorch 1.13 F.group_norm${silu ? ' + F.silu' : ''}`, value: theirsPer } }
          : { baselineMissing: `PyTorch 1.13: ${missing}` }),
        note: `ORT threads ${spinning ? 'spinning' : 'not spinning'}; kernel times and floor printed below`,
      });
    }
    await engine.release([copies]);
    // After the timing: the float64 reference allocates ~100 MB that V8 would collect on other threads meanwhile.
    const err = await exactness(engine, hostFeeds);
    console.log(
      `\none group norm on the mean-${MEAN} input: max|ours − float64| / max|float64| = ${err.toExponential(2)} (bound 1e-5)`,
    );
    await engine.endProfiling();
    // Kernel times (ORT profile, every timed call): the floor is 1.5 × the copy chain's Mul per link (a norm's two reads
    // and one write of the tensor).
    const profiles = readProfiles(profileDir);
    const copyProfile = profiles.find((p) => p.file.startsWith(`copy_chain${chain}`))?.profile;
    const copyMs = copyProfile ? breakdown(copyProfile, (n) => n.op, steadyRuns(copyProfile)).totalMs / chain : NaN;
    console.log(
      `\nKernel times per norm (ORT profile of the timed calls); floor = 1.5 × an elementwise copy of the tensor (${fmtMs(copyMs)} ms, ${((2 * bytes) / 1e6 / copyMs).toFixed(1)} GB/s) = ${fmtMs(1.5 * copyMs)} ms:\n`,
    );
    console.log('| chain | kernel | time / norm | GB/s |');
    console.log('|---|---|---|---|');
    for (const { file, profile } of profiles) {
      if (!file.startsWith(`groupnorm_chain${chain}`)) continue;
      const label = file.includes('_silu') ? 'norm + SiLU' : 'norm';
      const all = breakdown(profile, (n) => n.op, steadyRuns(profile));
      for (const r of all.rows.filter((q) => q.ms / chain >= 0.01)) {
        const gbs = r.bytes > 0 ? (r.bytes / 1e6 / r.ms).toFixed(1) : '– (view)';
        console.log(`| ${label} | ${r.key} | ${fmtMs(r.ms / chain)} ms | ${gbs} |`);
      }
      console.log(
        `| ${label} | **all kernels** | ${fmtMs(all.totalMs / chain)} ms (${(all.totalMs / chain / (1.5 * copyMs)).toFixed(2)}× the floor) | |`,
      );
    }
    console.log(`load ${loadLine()}`);
    if (missing) recordNote(SUITE, `PyTorch baseline skipped: ${missing}`);
  } finally {
    await engine.dispose();
    await torch?.proc.close();
    rmSync(profileDir, { recursive: true, force: true });
  }
}
