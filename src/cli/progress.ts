/**
 * Progress reporting for long CLI runs (`svd generate`: load, encode, sample, decode, write). Progress always goes
 * to stderr by default, so that stdout stays free for results (`--json` prints only the final JSON there).
 * - On a TTY: one line redrawn in place with `\r` (stage, step i/N, it/s, ETA), at most ~10 times a second; when a
 *   stage ends its line is finalised with the stage's time and a newline.
 * - Otherwise (a pipe, a log file): plain lines without control characters, one when a stage starts, one per step
 *   and one when it ends.
 * - `quiet`: nothing at all.
 */
import { performance } from 'node:perf_hooks';

/** The part of a stream the reporter uses (`process.stderr` satisfies it). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Default `process.stderr`. */
  stream?: ProgressStream;
  /** Redraw one line in place; default `stream.isTTY`. */
  tty?: boolean;
  /** Print nothing. */
  quiet?: boolean;
  /** Least time between two TTY redraws, ms (default 100, i.e. ~10 Hz). */
  intervalMs?: number;
  /** Clock in ms (tests inject one); default `performance.now`. */
  now?: () => number;
}

export interface Progress {
  /** Ends the current stage (if any) and starts `name`. */
  stage(name: string): void;
  /** `i` of `n` steps of the current stage are done; `step(0, n)` restarts the rate clock. */
  step(i: number, n: number): void;
  /** A message line that does not disturb the TTY progress line. */
  log(message: string): void;
  /** Ends the current stage and prints `summary`, if given. */
  done(summary?: string): void;
}

const NO_PROGRESS: Progress = { stage() {}, step() {}, log() {}, done() {} };

/** A progress reporter writing to `stream` (see the module comment for the three modes). */
export function createProgress(opts: ProgressOptions = {}): Progress {
  if (opts.quiet) return NO_PROGRESS;
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? stream.isTTY === true;
  const now = opts.now ?? (() => performance.now());
  const intervalMs = opts.intervalMs ?? 100;

  let current: StageState | undefined;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let drawn = ''; // the TTY line currently on screen

  const draw = (line: string): void => {
    const max = stream.columns ? stream.columns - 1 : Number.POSITIVE_INFINITY;
    drawn = line.length > max ? line.slice(0, max) : line;
    stream.write(`\r${drawn}\x1b[K`);
    lastDraw = now();
  };
  const endStage = (): void => {
    if (!current) return;
    const line = `${current.name}: ${finishedText(current, now())}`;
    if (tty) {
      draw(line);
      stream.write('\n');
      drawn = '';
    } else {
      stream.write(`${line}\n`);
    }
    current = undefined;
  };

  function startStage(name: string): StageState {
    endStage();
    const t = now();
    const s: StageState = { name: clean(name), start: t, base: t, baseStep: 0, step: 0, total: 0, seen: false };
    current = s;
    if (tty) draw(`${s.name} …`);
    else stream.write(`${s.name}: started\n`);
    return s;
  }

  return {
    stage(name) {
      startStage(name);
    },
    step(i, n) {
      const s = current ?? startStage('progress');
      const t = now();
      if (i <= 0 || i < s.step) {
        s.base = t;
        s.baseStep = Math.max(i, 0);
      } else if (!s.seen) {
        // The first step of a stage may be step 433 of a resumed run: the rate counts the one step done since the
        // stage started, not the 432 done by an earlier process.
        s.baseStep = i - 1;
      }
      s.seen = true;
      s.step = i;
      s.total = n;
      const line = `${s.name}: step ${i}/${n}${rateText(s, t)}`;
      if (!tty) stream.write(`${line}\n`);
      else if (i >= n || t - lastDraw >= intervalMs) draw(line);
    },
    log(message) {
      const text = clean(message);
      if (!tty) {
        stream.write(`${text}\n`);
        return;
      }
      const restore = drawn;
      stream.write(`\r\x1b[K${text}\n`);
      if (restore) draw(restore);
    },
    done(summary) {
      endStage();
      if (summary !== undefined) stream.write(`${clean(summary)}\n`);
    },
  };
}

interface StageState {
  name: string;
  start: number;
  /** Time and step count the rate is measured from. */
  base: number;
  baseStep: number;
  step: number;
  total: number;
  /** Whether a step has been reported in this stage. */
  seen: boolean;
}

/** `, 1.23 it/s, ETA 0:16` (or `s/it` below one step a second); empty before the first step. */
function rateText(s: StageState, t: number): string {
  const steps = s.step - s.baseStep;
  const seconds = (t - s.base) / 1000;
  if (steps <= 0 || seconds <= 0) return '';
  const rate = steps / seconds;
  const speed = rate >= 1 ? `${rate.toFixed(2)} it/s` : `${(1 / rate).toFixed(2)} s/it`;
  const eta = s.total > s.step ? `, ETA ${formatDuration((s.total - s.step) / rate)}` : '';
  return `, ${speed}${eta}`;
}

function finishedText(s: StageState, t: number): string {
  const seconds = (t - s.start) / 1000;
  if (s.total === 0) return `done in ${formatSeconds(seconds)}`;
  return `${s.step}/${s.total} steps in ${formatSeconds(seconds)}${rateText(s, t).replace(/, ETA .*/, '')}`;
}

/** 0:07, 12:34, 1:02:03. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

function formatSeconds(seconds: number): string {
  return seconds < 60 ? `${seconds.toFixed(1)} s` : formatDuration(seconds);
}

/** Removes control characters so that a name cannot break the line protocol. */
function clean(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}
