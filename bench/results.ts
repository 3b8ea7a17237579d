/**
 * bench/RESULTS.md and the UNet scaling plot from the records of an all-suites run (bench/report.ts): every figure
 * with its baseline and the ratio, the machine, the date and the load; the scaling of UNet time and memory with frames
 * and resolution as a table and a PNG (Vega-Lite compiled and rendered to SVG headless by Vega, rasterised by sharp,
 * as the training loss plot).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';
import sharp from 'sharp';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Figure, ReportRecord, ScalingPoint, SuiteNote } from './report.ts';
import { fmtMs } from './stats.ts';
import { PY, torchWaitPolicy } from './torch-process.ts';

export interface Machine {
  cpu: string;
  /** Logical CPUs the process may use, and those /proc/cpuinfo lists. */
  cores: number;
  cpuinfoProcessors: number;
  avx512: string[];
  memory: number;
  kernel: string;
  node: string;
  ort: string;
  torch?: string;
  opencv?: string;
}

export function machine(): Machine {
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    cpuinfo = '';
  }
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown (no /proc/cpuinfo)';
  const flags = (/^flags\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? '').split(/\s+/);
  const py = (code: string) => {
    const r = spawnSync(PY, ['-c', code], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : undefined;
  };
  let ort = '?';
  try {
    ort = JSON.parse(
      readFileSync(new URL('../node_modules/onnxruntime-node/package.json', import.meta.url), 'utf8'),
    ).version;
  } catch {
    ort = '?';
  }
  return {
    cpu: model,
    cores: availableParallelism(),
    cpuinfoProcessors: (cpuinfo.match(/^processor\s*:/gm) ?? []).length,
    avx512: flags.filter((f) => f.startsWith('avx512')).sort(),
    memory: totalmem(),
    kernel: release(),
    node: process.version,
    ort,
    torch: py('import torch; print(torch.__version__)'),
    opencv: py('import cv2; print(cv2.__version__)'),
  };
}

export interface SuiteRun {
  suite: string;
  args: string[];
  status: number | null;
  seconds: number;
}

export interface RunInfo {
  date: Date;
  threads: number;
  loadStart: number[];
  loadEnd: number[];
  seconds: number;
  suites: SuiteRun[];
  /** What the all-suites run leaves out or shrinks, in words. */
  caseSets: string[];
}

/** The run's own line in the records file (after the suites' records). */
interface RunRecord {
  type: 'run';
  info: Omit<RunInfo, 'date'> & { date: string };
}

export function appendRunRecord(file: string, run: RunInfo): void {
  const rec: RunRecord = { type: 'run', info: { ...run, date: run.date.toISOString() } };
  appendFileSync(file, `${JSON.stringify(rec)}\n`);
}

/** The run info of a records file, if its run finished. */
export function runRecord(records: readonly unknown[]): RunInfo | undefined {
  const r = records.find((x): x is RunRecord => (x as { type?: string }).type === 'run');
  return r ? { ...r.info, date: new Date(r.info.date) } : undefined;
}

const gib = (b: number | undefined) => (b === undefined || b === 0 ? '–' : `${(b / 2 ** 30).toFixed(2)} GiB`);
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');

function value(v: number, unit: Figure['unit']): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (unit === 'steps') return `${v} steps`;
  return v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${fmtMs(v)} ms`;
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function ratioOf(f: Figure): number | undefined {
  if (f.ratio !== undefined) return f.ratio;
  if (!f.baseline || !Number.isFinite(f.ours) || !(f.baseline.value > 0)) return undefined;
  return f.ours / f.baseline.value;
}

/** The scaling plot's spec: time and peak memory against frames and against resolution, ours and PyTorch. */
function scalingSpec(points: readonly ScalingPoint[]): TopLevelSpec {
  type Row = { x: number; value: number; side: string };
  const rows = (axis: 'frames' | 'resolution', metric: 'time' | 'memory'): Row[] => {
    const out: Row[] = [];
    for (const p of points.filter((q) => q.axes.includes(axis))) {
      const x = axis === 'frames' ? p.frames : p.size;
      const ours = metric === 'time' ? p.oursMs / 1000 : (p.oursPeak ?? 0) / 2 ** 30;
      const torch = metric === 'time' ? (p.torchMs ?? 0) / 1000 : (p.torchPeak ?? 0) / 2 ** 30;
      if (ours > 0) out.push({ x, value: ours, side: 'ours (ORT)' });
      if (torch > 0) out.push({ x, value: torch, side: 'PyTorch 1.13' });
    }
    return out;
  };
  const first = points.find((p) => p.axes.includes('frames'));
  const firstRes = points.find((p) => p.axes.includes('resolution'));
  const chart = (axis: 'frames' | 'resolution', metric: 'time' | 'memory') => ({
    width: 300,
    height: 200,
    title:
      `${metric === 'time' ? 'time per evaluation' : 'peak memory (VmHWM)'} vs ` +
      (axis === 'frames' ? `frames (${first?.size ?? '?'}² px)` : `resolution (T = ${firstRes?.frames ?? '?'})`),
    data: { values: rows(axis, metric) as unknown as Record<string, unknown>[] },
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative' as const,
        title: axis === 'frames' ? 'frames T (batch 2T)' : 'frame side (pixels, square)',
        scale: { zero: false },
        axis: { values: [...new Set(rows(axis, metric).map((r) => r.x))] },
      },
      y: { field: 'value', type: 'quantitative' as const, title: metric === 'time' ? 'seconds' : 'GiB' },
      color: { field: 'side', type: 'nominal' as const, title: null },
    },
  });
  return {
    title: `svd-xt UNet, one evaluation (CFG batch), float32, CPU`,
    background: 'white',
    vconcat: [
      { hconcat: [chart('frames', 'time'), chart('resolution', 'time')] },
      { hconcat: [chart('frames', 'memory'), chart('resolution', 'memory')] },
    ],
  } as TopLevelSpec;
}

export async function writeScalingPlot(path: string, points: readonly ScalingPoint[]): Promise<void> {
  const view = new vega.View(vega.parse(compile(scalingSpec(points)).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).png().toFile(path);
  } finally {
    view.finalize();
  }
}

function scalingTable(points: readonly ScalingPoint[]): string[] {
  const lines = [
    '| sweep | size | T | batch | TFLOP | ours / evaluation | ours peak | PyTorch / evaluation | PyTorch peak | ratio ours/PyTorch | ours first call |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const sorted = [...points].sort((a, b) => a.size - b.size || a.frames - b.frames);
  for (const p of sorted) {
    lines.push(
      `| ${p.axes.join(', ')} | ${p.size}×${p.size} | ${p.frames} | ${p.batch} | ${p.tflop.toFixed(2)} | ${value(p.oursMs, 'ms')} | ${gib(p.oursPeak)} | ` +
        `${p.torchMs ? value(p.torchMs, 'ms') : '–'} | ${gib(p.torchPeak)} | ${p.torchMs ? `${(p.oursMs / p.torchMs).toFixed(2)}×` : '–'} | ${value(p.oursFirstMs, 'ms')} |`,
    );
  }
  return lines;
}

/** The markdown of bench/RESULTS.md. `plot`: the PNG's path relative to RESULTS.md, when one was written. */
export function resultsMarkdown(
  records: readonly ReportRecord[],
  m: Machine,
  run: RunInfo,
  plot: string | undefined,
): string {
  const figures = records.filter((r): r is Figure => r.type === 'figure');
  const scaling = records.filter((r): r is ScalingPoint => r.type === 'scaling');
  const notes = records.filter((r): r is SuiteNote => r.type === 'note');
  const minutes = (s: number) => (s >= 90 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);
  const out: string[] = [];
  out.push('# Benchmark results');
  out.push('');
  out.push(
    `Written by \`npm run bench\` (all suites) on ${run.date.toISOString().slice(0, 16).replace('T', ' ')} UTC; ` +
      'regenerate it rather than editing it. Each figure is ours beside its baseline measured in the same run; ' +
      'the ratio is ours / baseline in time per unit of work (**< 1: ours is faster**). Compare ratios, not ' +
      'milliseconds: absolute times move with the machine and its load.',
  );
  out.push('');
  out.push('## Machine and run');
  out.push('');
  const avx = m.avx512.length > 0 ? `yes (${m.avx512.join(', ')})` : 'no';
  out.push(`- CPU: ${m.cpu}; ${m.cores} cores usable (${m.cpuinfoProcessors} in /proc/cpuinfo); AVX-512: ${avx}`);
  out.push(`- memory ${gib(m.memory)}; Linux ${m.kernel}; Node ${m.node}; onnxruntime-node ${m.ort} (cpu provider)`);
  out.push(
    `- threads: ${run.threads} per side; float32. Baselines: raw ORT (hand-written graphs, same process), ` +
      `PyTorch ${m.torch ?? '(absent)'} (Debian python3-torch, OMP_WAIT_POLICY=${torchWaitPolicy()}), ` +
      `python3-opencv ${m.opencv ?? '(absent)'}`,
  );
  out.push(
    `- load average (1 / 5 / 15 min) at the start: ${load(run.loadStart)}, at the end: ${load(run.loadEnd)} ` +
      `(the bench itself keeps ~${run.threads} busy; more means other work ran beside it and slowed both sides)`,
  );
  out.push(`- run time: ${minutes(run.seconds)}; case sets: ${run.caseSets.join('; ')}`);
  out.push('');
  out.push('| suite | arguments | status | time |');
  out.push('|---|---|---|---|');
  for (const s of run.suites) {
    const status = s.status === 0 ? 'ok' : `failed (exit ${s.status ?? 'signal'})`;
    out.push(`| ${s.suite} | ${s.args.join(' ') || '–'} | ${status} | ${minutes(s.seconds)} |`);
  }
  if (notes.length > 0) {
    out.push('');
    for (const n of notes) out.push(`- ${n.suite}: ${cell(n.text)}`);
  }
  out.push('');
  out.push('## Summary');
  out.push('');
  out.push('| suite | baseline | figures | ratio range | geometric mean |');
  out.push('|---|---|---|---|---|');
  const groups = new Map<string, Figure[]>();
  for (const f of figures) {
    const key = `${f.suite}\u0000${f.baseline?.name ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  for (const fs of groups.values()) {
    const rs = fs.map(ratioOf).filter((r): r is number => r !== undefined && r > 0);
    const gm = rs.length > 0 ? Math.exp(rs.reduce((a, r) => a + Math.log(r), 0) / rs.length) : undefined;
    const range = rs.length > 0 ? `${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)}×` : '–';
    out.push(
      `| ${fs[0].suite} | ${cell(fs[0].baseline?.name ?? 'none')} | ${fs.length} | ${range} | ${gm !== undefined ? `${gm.toFixed(2)}×` : '–'} |`,
    );
  }
  out.push('');
  out.push('## Figures');
  out.push('');
  out.push(
    'Peak memory: the process VmHWM while that side ran, reset before each case through /proc/self/clear_refs ' +
      '(ops: both sides share one process; PyTorch / OpenCV: their own process).',
  );
  out.push('');
  out.push('| suite | case | ours | ours peak | baseline | baseline figure | baseline peak | ratio | notes |');
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const f of figures) {
    const r = ratioOf(f);
    const base = f.baseline
      ? `${cell(f.baseline.name)} | ${value(f.baseline.value, f.unit)} | ${gib(f.baseline.peak)}`
      : `${cell(f.baselineMissing ?? 'none')} | – | –`;
    out.push(
      `| ${f.suite} | ${cell(f.case)} | ${value(f.ours, f.unit)} | ${gib(f.peak)} | ${base} | ${r !== undefined ? `**${r.toFixed(2)}×**` : '–'} | ${cell(f.note ?? '')} |`,
    );
  }
  out.push('');
  out.push('## UNet scaling with frames and resolution');
  out.push('');
  if (scaling.length === 0) {
    out.push('No scaling points were recorded (the unet suite failed or did not run).');
  } else {
    out.push(
      'The full-size svd-xt UNet (1.52 G parameters, random weights), one evaluation of the CFG batch (2 × T rows), ' +
        'ours against the reference VideoUNet in PyTorch on the same shapes. Peak memory includes the resident ' +
        'weights (~5.7 GiB on each side).',
    );
    out.push('');
    if (plot) {
      out.push(`![UNet time and peak memory against frames and resolution](${plot})`);
      out.push('');
    }
    out.push(...scalingTable(scaling));
  }
  out.push('');
  return out.join('\n');
}

export async function writeResults(
  records: readonly ReportRecord[],
  run: RunInfo,
  paths: { markdown: string; plot: string; plotRelative: string },
): Promise<void> {
  const scaling = records.filter((r): r is ScalingPoint => r.type === 'scaling');
  let plot: string | undefined;
  if (scaling.length > 0) {
    await writeScalingPlot(paths.plot, scaling);
    plot = paths.plotRelative;
  }
  writeFileSync(paths.markdown, resultsMarkdown(records, machine(), run, plot));
}
