/**
 * The benchmark report: suites record their figures here next to what they print. When BENCH_REPORT names a file (the
 * all-suites run of bench/main.ts sets it for each suite's child process), each record is appended to it as one JSON
 * line; otherwise recording does nothing and a suite prints as it always did. bench/results.ts turns the records into
 * bench/RESULTS.md and the UNet scaling plot.
 *
 * Peak memory per figure: `resetPeak()` sets the process's VmHWM back to its current resident size (Linux: "5"
 * written to /proc/self/clear_refs), `peakBytes()` reads VmHWM; elsewhere both do nothing and peaks are absent.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

/** One measured figure: ours beside its baseline measured in the same run. */
export interface Figure {
  type: 'figure';
  suite: string;
  case: string;
  /** Our figure: milliseconds unless `unit` says otherwise. */
  ours: number;
  unit?: 'ms' | 'steps';
  /** Process peak resident memory (VmHWM) while our side of the case ran, bytes. */
  peak?: number;
  /** The baseline's figure (same unit) and its own process's peak; absent when it could not run. */
  baseline?: { name: string; value: number; peak?: number };
  /** Why there is no baseline figure (it is missing, skipped, or there is none for this figure). */
  baselineMissing?: string;
  /** ours / baseline, time per unit of work (< 1: ours is faster); defaults to ours / baseline.value. */
  ratio?: number;
  note?: string;
}

/** One point of the UNet scaling (time and memory with frames and resolution). */
export interface ScalingPoint {
  type: 'scaling';
  /** Which sweep the point belongs to (a point can be on both). */
  axes: ('frames' | 'resolution')[];
  model: string;
  frames: number;
  /** Square frame side in pixels. */
  size: number;
  batch: number;
  tflop: number;
  oursMs: number;
  oursPeak?: number;
  /** Trace + lower + session creation + first run. */
  oursFirstMs: number;
  torchMs?: number;
  torchPeak?: number;
}

/** A note a suite wants in the report (e.g. why its baseline was skipped). */
export interface SuiteNote {
  type: 'note';
  suite: string;
  text: string;
}

export type ReportRecord = Figure | ScalingPoint | SuiteNote;

type Without<T> = T extends unknown ? Omit<T, 'type'> : never;

function append(rec: ReportRecord): void {
  const file = process.env.BENCH_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify(rec)}\n`);
}

export function recordFigure(f: Without<Figure>): void {
  append({ type: 'figure', ...f });
}

export function recordScaling(p: Without<ScalingPoint>): void {
  append({ type: 'scaling', ...p });
}

export function recordNote(suite: string, text: string): void {
  append({ type: 'note', suite, text });
}

/** Whether the figures are being collected (the all-suites run). */
export const reporting = (): boolean => Boolean(process.env.BENCH_REPORT);

export function readRecords(file: string): ReportRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ReportRecord);
}

/** Resets the process's peak resident size (VmHWM) to its current size; false where the kernel does not allow it. */
export function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** The process's peak resident size (VmHWM) in bytes since the last resetPeak (or the start). */
export function peakBytes(): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
