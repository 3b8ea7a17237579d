/**
 * Where a model's time goes: the ORT profile of its benchmark runs (EngineOptions.profileDir), printed as time,
 * share, GFLOP/s (heavy ops) or GB/s (the rest) per op type, per model level and per shape, each rate beside the
 * machine's reference rate measured in the same run (bench/machine-rates.ts) as a ratio. Runs after the first are
 * averaged (the first pays allocation and first-touch costs).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  breakdown,
  type OrtProfile,
  type ProfiledNode,
  type ProfileRow,
  parseOrtProfile,
  shapeKey,
} from '../src/runtime/ort-profile.ts';
import type { MachineRates } from './machine-rates.ts';
import { recordFigure } from './report.ts';
import { fmtMs } from './stats.ts';

/** The profiles written into `dir` (one per session, `<graph name>_<date>.json`), parsed, with their file names. */
export function readProfiles(dir: string): { file: string; profile: OrtProfile }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, profile: parseOrtProfile(JSON.parse(readFileSync(join(dir, file), 'utf8'))) }));
}

/** The runs to average: every run after the first (the only run when there is one). */
export function steadyRuns(p: OrtProfile): number[] {
  const all = p.runs.map((_, i) => i);
  return all.length > 1 ? all.slice(1) : all;
}

function rate(r: ProfileRow, rates: MachineRates): string {
  if (r.ms <= 0) return '–';
  if (r.flops > 0) {
    const g = r.flops / 1e6 / r.ms;
    return `${g.toFixed(0)} GFLOP/s (${(g / rates.convGflops).toFixed(2)}× conv)`;
  }
  if (r.bytes <= 0) return '– (views)';
  const gbs = r.bytes / 1e6 / r.ms;
  return `${gbs.toFixed(1)} GB/s (${(gbs / rates.streamGBs).toFixed(2)}× stream)`;
}

function table(title: string, rows: readonly ProfileRow[], rates: MachineRates, limit = Infinity): void {
  console.log(`\n${title}\n`);
  console.log('| key | calls | time / evaluation | share | rate (vs same-run reference) |');
  console.log('|---|---|---|---|---|');
  for (const r of rows.slice(0, limit)) {
    console.log(
      `| ${r.key} | ${+r.calls.toFixed(1)} | ${fmtMs(r.ms)} ms | ${(100 * r.share).toFixed(1)} % | ${rate(r, rates)} |`,
    );
  }
  if (rows.length > limit) {
    const rest = rows.slice(limit);
    const ms = rest.reduce((s, r) => s + r.ms, 0);
    const share = rest.reduce((s, r) => s + r.share, 0);
    console.log(`| (${rest.length} more) | | ${fmtMs(ms)} ms | ${(100 * share).toFixed(1)} % | |`);
  }
}

export interface BreakdownOptions {
  suite: string;
  /** What was profiled, for the titles and records. */
  label: string;
  /** A node's model level (e.g. `level 1 (40×72)`), or undefined for nodes outside the levels. */
  levelOf?: (n: ProfiledNode) => string | undefined;
  rates: MachineRates;
  /** Op types recorded as figures (the slowest ones). */
  record?: number;
}

/** Prints the breakdowns of one session's profile and records the slowest op types (share of the evaluation). */
export function printBreakdown(profile: OrtProfile, opts: BreakdownOptions): void {
  const runs = steadyRuns(profile);
  const byOp = breakdown(profile, (n) => n.op, runs);
  const wall = runs.reduce((s, i) => s + profile.runs[i].us, 0) / 1000 / Math.max(1, runs.length);
  console.log(
    `\n### Where the time goes: ${opts.label} (ORT profile, mean of ${runs.length} run(s) after the first)\n\n` +
      `session.run ${fmtMs(wall)} ms; node time ${fmtMs(byOp.totalMs)} ms (${((100 * byOp.totalMs) / wall).toFixed(0)} %). ` +
      `Same-run references: raw ORT conv 3×3 320 ch 64×64 ${opts.rates.convGflops.toFixed(0)} GFLOP/s; ` +
      `raw ORT stream (Mul over 64 MiB) ${opts.rates.streamGBs.toFixed(1)} GB/s.`,
  );
  table('Per op type (as ORT ran it, after its fusions):', byOp.rows, opts.rates);
  if (opts.levelOf) {
    const byLevel = breakdown(profile, (n) => opts.levelOf!(n) ?? 'outside the levels', runs);
    byLevel.rows.sort((a, b) => a.key.localeCompare(b.key));
    table('Per level (heavy ops: GFLOP/s of the level; otherwise GB/s):', byLevel.rows, opts.rates);
    const byLevelOp = breakdown(profile, (n) => `${opts.levelOf!(n) ?? 'outside'} · ${n.op}`, runs);
    table('Per level and op type (the 12 slowest):', byLevelOp.rows, opts.rates, 12);
  }
  table('Per shape (the 12 slowest signatures):', breakdown(profile, shapeKey, runs).rows, opts.rates, 12);
  for (const r of byOp.rows.slice(0, opts.record ?? 6)) {
    recordFigure({
      suite: opts.suite,
      case: `${opts.label}: ${r.key} (share of the evaluation's node time)`,
      ours: r.ms,
      baseline: { name: 'the whole evaluation (sum of node times, same run)', value: byOp.totalMs },
      note: `${+r.calls.toFixed(1)} calls; ${rate(r, opts.rates)}`,
    });
  }
}
