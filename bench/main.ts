/**
 * Benchmarks (not tests): `npm run bench -- <suite>`; each figure is printed with its baseline measured in the same
 * run. Suites: ops, unet, train, train-unet, generate, sampler-steps, curate. Options: --threads N (default: all cores). BENCH_FILTER=substring limits the cases.
 */
import { availableParallelism } from 'node:os';
import { benchCurate } from './curate.ts';
import { benchGenerate } from './generate.ts';
import { benchOps } from './ops.ts';
import { benchSamplerSteps } from './sampler-steps.ts';
import { benchTrain } from './train.ts';
import { benchTrainUnet } from './train-unet.ts';
import { benchUnet } from './unet.ts';

const args = process.argv.slice(2);
const suite = args.find((a) => !a.startsWith('--')) ?? 'ops';
const threadsArg = args.indexOf('--threads');
const threads = threadsArg >= 0 ? Number(args[threadsArg + 1]) : availableParallelism();

const SUITES: Record<string, (threads: number) => Promise<void>> = {
  ops: benchOps,
  unet: benchUnet,
  train: benchTrain,
  'train-unet': benchTrainUnet,
  generate: benchGenerate,
  curate: benchCurate,
  'sampler-steps': benchSamplerSteps,
};

const run = SUITES[suite];
if (!run) {
  console.error(`unknown benchmark suite "${suite}"; available: ${Object.keys(SUITES).join(', ')}`);
  process.exit(2);
}
await run(threads);
