/**
 * svd-mini's loss curves for the README and the model card (issue 11 item 6): the stages of
 * scripts/train-svd-mini.sh one after another on one step axis, each stage's training loss as a mean over windows of
 * 50 steps and its validation loss as points. Two figures, because their losses are different quantities: the
 * autoencoder's phases (pixel MSE) and the diffusion stages (the EDM-weighted denoising loss).
 * Usage: node --import tsx scripts/svd-mini/loss-curves.ts [RUNS_DIR] [OUT_DIR]
 *   (defaults runs/svd-mini and docs/svd-mini; writes loss-autoencoder.png and loss-diffusion.png)
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LossPoint, writeLossCurve } from '../../src/training/run/loss-plot.ts';

const WINDOW = 50;

interface LogLine {
  step: number;
  loss?: number;
  validationLoss?: number;
}

/** The stage's points, its steps shifted by `offset`; returns them and the stage's last step. */
function stagePoints(run: string, stage: string, offset: number): { points: LossPoint[]; steps: number } {
  const lines = readFileSync(join(run, 'log.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LogLine);
  // a resumed run logs the steps after its checkpoint again: the last record of a step wins
  const train = new Map<number, number>();
  const validation = new Map<number, number>();
  for (const l of lines) {
    if (l.loss !== undefined) train.set(l.step, l.loss);
    if (l.validationLoss !== undefined) validation.set(l.step, l.validationLoss);
  }
  const steps = Math.max(0, ...train.keys(), ...validation.keys());
  const points: LossPoint[] = [];
  for (let start = 0; start <= steps; start += WINDOW) {
    const window = [...train].filter(([s]) => s >= start && s < start + WINDOW);
    if (window.length < WINDOW / 2) continue; // a last window of a few steps is noise
    const mean = (pick: (e: [number, number]) => number) => window.reduce((a, e) => a + pick(e), 0) / window.length;
    points.push({ step: offset + mean(([s]) => s), loss: mean(([, v]) => v), series: stage });
  }
  for (const [s, v] of [...validation].sort((a, b) => a[0] - b[0]))
    points.push({ step: offset + s, loss: v, series: `${stage} (validation)` });
  return { points, steps };
}

async function figure(runs: string, stages: readonly string[], out: string, title: string): Promise<void> {
  const points: LossPoint[] = [];
  let offset = 0;
  for (const stage of stages) {
    const run = join(runs, stage);
    if (!existsSync(join(run, 'log.jsonl'))) {
      process.stderr.write(`loss-curves: ${run} has no log, left out\n`);
      continue;
    }
    const s = stagePoints(run, stage, offset);
    points.push(...s.points);
    offset += s.steps;
  }
  await writeLossCurve(out, points, title);
  process.stderr.write(`loss-curves: ${out}\n`);
}

const runs = process.argv[2] ?? 'runs/svd-mini';
const out = process.argv[3] ?? 'docs/svd-mini';
mkdirSync(out, { recursive: true });
await figure(
  runs,
  ['autoencoder', 'autoencoder-2'],
  join(out, 'loss-autoencoder.png'),
  'svd-mini autoencoder: pixel MSE (50-step means) and validation',
);
await figure(
  runs,
  ['image', 'video', 'finetune', 'i2v', 'i2v-2', 'i2v-3', 'i2v-4', 'i2v-5'],
  join(out, 'loss-diffusion.png'),
  'svd-mini diffusion stages: denoising loss (50-step means) and validation',
);
