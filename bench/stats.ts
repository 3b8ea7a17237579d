/** Timing helpers for benchmarks: warm-ups, then the median of timed runs. */
export interface Timing {
  median: number;
  min: number;
  runs: number;
}

export async function timeIt(
  fn: () => Promise<unknown>,
  opts: { warmup?: number; runs?: number } = {},
): Promise<Timing> {
  const warmup = opts.warmup ?? 3;
  const runs = opts.runs ?? 11;
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0], runs };
}

export function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

export function machineLine(): string {
  return `${new Date().toISOString().slice(0, 10)}, ${process.platform}/${process.arch}, Node ${process.version}`;
}

/**
 * Times several functions round-robin (a, b, c, a, b, c, ...) so that machine drift and noise hit all alike;
 * returns one Timing per function.
 */
export async function timeInterleaved(
  fns: readonly (() => Promise<unknown>)[],
  opts: { warmup?: number; runs?: number } = {},
): Promise<Timing[]> {
  const warmup = opts.warmup ?? 3;
  const runs = opts.runs ?? 11;
  for (let i = 0; i < warmup; i++) for (const fn of fns) await fn();
  const times = fns.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < fns.length; k++) {
      const t0 = performance.now();
      await fns[k]();
      times[k].push(performance.now() - t0);
    }
  }
  return times.map((t) => {
    t.sort((a, b) => a - b);
    return { median: t[Math.floor(t.length / 2)], min: t[0], runs };
  });
}

/** BENCH_QUICK=1: fewer timed runs and the smallest cases, for trying a suite out (not for figures). */
export const QUICK = process.env.BENCH_QUICK === '1';
