/**
 * Benchmarks (not tests). `npm run bench` runs every suite, each in its own process (so that one suite's memory or
 * failure does not touch the next), and writes bench/RESULTS.md and bench/unet-scaling.png from the figures they
 * record (bench/report.ts, bench/results.ts). `npm run bench -- <suite>` runs one suite and prints its figures, each
 * with its baseline measured in the same run. Suites: ops, groupnorm, temporal-attention, unet, decode, train, train-unet, generate, sampler-steps, curate, int8, and
 * few-steps (not in the all-suites run: svd-xt at 320×512, 14 frames, some 20 min on 2 cores).
 * Options: --threads N (default: all cores); BENCH_FILTER=substring limits a suite's cases; BENCH_QUICK=1 runs fewer
 * repetitions and the smallest cases (for trying a suite out). All suites: `--full` adds the full-size svd-xt
 * generation (576×1024, ~20 GiB, tens of minutes on 2 cores) that the report's run leaves out by default;
 * `--suites a,b` runs only those (the report then holds only their figures). The records behind the report are kept in
 * bench/results-records.jsonl; `--rewrite-report` writes RESULTS.md and the plot again from them without running.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchCurate } from './curate.ts';
import { benchDecode } from './decode.ts';
import { benchFewSteps } from './few-steps.ts';
import { benchGenerate } from './generate.ts';
import { benchGroupNorm } from './groupnorm.ts';
import { benchInt8 } from './int8.ts';
import { benchOps } from './ops.ts';
import { readRecords } from './report.ts';
import { appendRunRecord, type RunInfo, runRecord, type SuiteRun, writeResults } from './results.ts';
import { benchSamplerSteps } from './sampler-steps.ts';
import { benchTemporalAttention } from './temporal-attention.ts';
import { benchTrain } from './train.ts';
import { benchTrainUnet } from './train-unet.ts';
import { benchUnet } from './unet.ts';

const args = process.argv.slice(2);
const threadsArg = args.indexOf('--threads');
const threads = threadsArg >= 0 ? Number(args[threadsArg + 1]) : availableParallelism();

const SUITES: Record<string, (threads: number) => Promise<void>> = {
  ops: benchOps,
  groupnorm: benchGroupNorm,
  'temporal-attention': benchTemporalAttention,
  unet: benchUnet,
  decode: benchDecode,
  train: benchTrain,
  'train-unet': benchTrainUnet,
  generate: benchGenerate,
  curate: benchCurate,
  'sampler-steps': benchSamplerSteps,
  int8: benchInt8,
  'few-steps': benchFewSteps,
};

/** The all-suites run: each suite's arguments there (moderate case sets, so that the run stays under ~40 min). */
function plan(full: boolean): { suite: string; args: string[] }[] {
  return [
    { suite: 'ops', args: [] },
    { suite: 'groupnorm', args: [] },
    { suite: 'temporal-attention', args: [] },
    { suite: 'train', args: [] },
    { suite: 'train-unet', args: [] },
    { suite: 'unet', args: ['--scaling'] },
    { suite: 'decode', args: [] },
    { suite: 'generate', args: full ? [] : ['--skip-full'] },
    { suite: 'sampler-steps', args: [] },
    { suite: 'curate', args: [] },
    { suite: 'int8', args: [] },
  ];
}

const RECORDS = fileURLToPath(new URL('./results-records.jsonl', import.meta.url));
const OUTPUTS = {
  markdown: fileURLToPath(new URL('./RESULTS.md', import.meta.url)),
  plot: fileURLToPath(new URL('./unet-scaling.png', import.meta.url)),
  plotRelative: 'unet-scaling.png',
};

async function runAll(): Promise<void> {
  const full = args.includes('--full');
  const date = new Date();
  const loadStart = loadavg();
  const t0 = performance.now();
  const suites: SuiteRun[] = [];
  const me = fileURLToPath(import.meta.url);
  const passThrough = threadsArg >= 0 ? ['--threads', String(threads)] : [];
  const only = args.indexOf('--suites');
  const wanted = only >= 0 ? args[only + 1].split(',') : undefined;
  const steps = plan(full).filter((s) => !wanted || wanted.includes(s.suite));
  // The suites append their records here; the run's own line comes last (bench/results.ts reads both).
  writeFileSync(RECORDS, '');
  for (const [i, step] of steps.entries()) {
    console.log(`\n## ${step.suite} (${i + 1}/${steps.length})${step.args.length ? ` ${step.args.join(' ')}` : ''}\n`);
    const s0 = performance.now();
    const r = spawnSync(process.execPath, [...process.execArgv, me, step.suite, ...step.args, ...passThrough], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_REPORT: RECORDS },
    });
    const seconds = (performance.now() - s0) / 1000;
    const status = r.error ? null : r.status;
    if (status !== 0)
      console.log(`${step.suite}: failed (${r.error?.message ?? `exit ${status ?? r.signal}`}); going on`);
    suites.push({ suite: step.suite, args: step.args, status, seconds });
  }
  const run: RunInfo = {
    date,
    threads,
    loadStart,
    loadEnd: loadavg(),
    seconds: (performance.now() - t0) / 1000,
    suites,
    caseSets: [
      'unet: the scaling sweeps (frames 2/4/8 at 128², sizes 64–256 at T = 2) instead of the single 256², T = 14 point of `npm run bench -- unet`',
      full
        ? 'generate: the tiny golden model and the full-size svd-xt (576×1024, 4 frames, 1 step)'
        : 'generate: the tiny golden model only (`--full` adds the full-size svd-xt at 576×1024)',
      'the other suites: their default cases',
    ],
  };
  appendRunRecord(RECORDS, run);
  await writeResults(readRecords(RECORDS), run, OUTPUTS);
  console.log(
    `\nwrote ${OUTPUTS.markdown} (${((performance.now() - t0) / 60_000).toFixed(1)} min; records: ${RECORDS})`,
  );
}

// The suite: the first argument that is neither an option nor an option's value (a number or a list of numbers).
const suite = args.find(
  (a, i) => !a.startsWith('--') && !(i > 0 && ['--threads', '--suites'].includes(args[i - 1])) && !/^[\d.,]+$/.test(a),
);
if (args.includes('--rewrite-report')) {
  // RESULTS.md and the plot again from the last run's records (after a change to their layout), without running.
  const records = readRecords(RECORDS);
  const run = runRecord(records);
  if (!run) throw new Error(`${RECORDS} holds no finished run`);
  await writeResults(records, run, OUTPUTS);
  console.log(`wrote ${OUTPUTS.markdown} from ${RECORDS}`);
} else if (suite === undefined || suite === 'all') {
  await runAll();
} else {
  const run = SUITES[suite];
  if (!run) {
    console.error(`unknown benchmark suite "${suite}"; available: ${Object.keys(SUITES).join(', ')} (none: all)`);
    process.exit(2);
  }
  await run(threads);
}
