/**
 * The README's shell examples, read and sorted for test/readme/readme-commands.test.ts: each ```sh block split into
 * commands (continuation lines joined, comments dropped), each command given a verdict with its reason:
 *
 * - `run`: it needs nothing a fresh clone lacks and ends in seconds, so the test runs it as written;
 * - `parse`: it cannot run here, so the test checks that its command and every `--flag` exist (`svd CMD --help`):
 *   a synopsis (placeholders, `[…]`, `a|b`); a command that trains (minutes), curates a folder (half a minute for
 *   the demo clips; test/cli/curate.test.ts runs curation), serves (keeps running) or needs a Redis server; one that reads files the user brings (`USER_FILES`: released or own weights and configs, CLIP /
 *   aesthetic / captioner / LPIPS / I3D weights, their own photos, clips and folders); one that reads what a command
 *   not run here would make;
 * - `skip`: not an svd command the test can check: installing, the whole test suite, the hours-long svd-mini recipe,
 *   a system service, HTTP calls to the example server (which is not started).
 *
 * A path a `run` command reads that is not the user's own must exist in a fresh clone or be made by an earlier
 * command of its block — else the README names a file that is not there, and the test fails.
 */
import { CAMERA_LORA_NAMES } from '../../src/models/shipped.ts';

/** Files and folders the user brings (never in a fresh clone), as the README names them. Matched against a path. */
export const USER_FILES =
  /^(svd(_xt(_1_1)?)?(_image_decoder)?\.safetensors|svd_xt_diffusers\/?|animatelcm-svd-xt\/?|sv3d_[pu]\.safetensors|tiny\.safetensors|tiny-config\.json|weights\.safetensors|pan-left\.safetensors|zoom\.safetensors|my-clips\/?|clip-vit-large-patch14\/?|sac\+logos\+ava1-l14-linearMSE\.pth|vitgpt2-onnx\/?|lpips_alex\.pth|rgb_imagenet_resaved\.pt|reference\.mp4|generated(\.mp4|\/)?|real-videos\/?|ground-truth-views\/?|photo\.(png|jpg)|object\.png|in\.png|[ab]\.png)$|^\/data\//;

/** Command lines that are not checked at all, with the reason. */
const SKIPPED: readonly [RegExp, string][] = [
  [/^bash scripts\/setup-debian\.sh|npm ci\b/, 'installs system and npm packages'],
  [/^npm test\b/, 'the whole test suite'],
  [/^bash scripts\/train-svd-mini\.sh\b/, 'the svd-mini recipe (hours)'],
  [/^redis-server\b/, 'a system service'],
  [/^(until )?curl\b|^\w+=\$\(curl\b/, 'an HTTP call to the example server, which is not started here'],
  [/^kill\b/, 'stops the example server'],
];

/** Flags whose value is a file or folder the command reads. */
const INPUT_FLAGS = new Set([
  'image',
  'checkpoint',
  'config',
  'model-config',
  'init',
  'noise',
  'videos',
  'images',
  'manifest',
  'lora',
  'resume',
  'clip-checkpoint',
  'aesthetic-head',
  'captioner',
  'lpips-weights',
  'i3d-weights',
  'real',
  'fake',
]);
/** Flags whose value is something the command makes. */
const OUTPUT_FLAGS = new Set([
  'out',
  'out-frames',
  'run',
  'db',
  'parquet',
  'png',
  'save-latents',
  'save-intermediates',
]);
const STORE_READERS = ['stats', 'filter', 'show', 'export'];
/** Flags that take no value (every other flag of an svd command takes one). */
const BOOLEAN_FLAGS = new Set(['json', 'quiet', 'split-cfg', 'overwrite', 'help', 'version', 'verbose']);

export type Verdict =
  | { kind: 'run'; expectExit: number[] }
  | { kind: 'parse'; why: string }
  | { kind: 'skip'; why: string };

export interface ReadmeCommand {
  /** As written (continuations joined, the trailing comment dropped). */
  text: string;
  /** The trailing comment, if any. */
  comment: string;
  /** For svd commands: the words after `npx svd` / `node bin/svd.mjs` (shell variables expanded). */
  svd?: string[];
  verdict: Verdict;
}

export interface ReadmeBlock {
  /** 1-based line of the block's first command in README.md. */
  line: number;
  commands: ReadmeCommand[];
}

/** The ```sh blocks of a README: their first line and their text. */
export function shellBlocks(readme: string): { line: number; body: string }[] {
  const out: { line: number; body: string }[] = [];
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```sh') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== '```') end++;
    out.push({ line: start + 1, body: lines.slice(start, end).join('\n') });
    i = end;
  }
  return out;
}

/** The ```ts blocks of a README: their first line and their text. */
export function tsBlocks(readme: string): { line: number; body: string }[] {
  const re = /^```ts\n([\s\S]*?)^```/gm;
  return [...readme.matchAll(re)].map((m) => ({
    line: readme.slice(0, m.index).split('\n').length + 1,
    body: m[1],
  }));
}

/** `text` without a trailing ` # comment` outside quotes, and that comment. */
function splitComment(text: string): [string, string] {
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1])))
      return [text.slice(0, i).trimEnd(), text.slice(i + 1).trim()];
  }
  return [text.trimEnd(), ''];
}

/** Shell words of a simple command line (quotes removed; no globbing). */
function words(text: string): string[] {
  return [...text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** The command lines of a block: continuation lines joined, blank and comment lines dropped. */
export function commandLines(body: string): { text: string; comment: string }[] {
  const out: { text: string; comment: string }[] = [];
  let pending = '';
  for (const raw of body.split('\n')) {
    const line = pending + (pending ? raw.trimStart() : raw);
    if (line.endsWith('\\')) {
      pending = `${line.slice(0, -1).trimEnd()} `;
      continue;
    }
    pending = '';
    const [text, comment] = splitComment(line.trim());
    if (text !== '') out.push({ text, comment });
  }
  return out;
}

/** Placeholders and alternatives of a synopsis line (`IN OUT`, `[--x]`, `a|b`, `…`). */
function isSynopsis(svd: readonly string[]): boolean {
  return svd.some((w) => /^[A-Z][A-Z0-9_.:[\]…-]*$/.test(w) || /[[\]…|]/.test(w));
}

/** A `--lora` value as the file it reads: a shipped camera name is svd-mini's file of that name. */
function loraPath(value: string): string {
  return (CAMERA_LORA_NAMES as readonly string[]).includes(value)
    ? `models/svd-mini/loras/${value}.safetensors`
    : value;
}

/** The paths an svd command reads and makes (`svd` = the words after `svd`). */
export function svdPaths(svd: readonly string[]): { inputs: string[]; outputs: string[] } {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const positional: string[] = [];
  /** `svd curate stats|filter|show|export` read the store that `svd curate` writes. */
  const readsStore = svd[0] === 'curate' && STORE_READERS.includes(svd[1] ?? '');
  for (let i = 0; i < svd.length; i++) {
    const w = svd[i];
    const flag = /^--([a-z][a-z0-9-]*)(=(.*))?$/.exec(w);
    if (!flag) {
      positional.push(w);
      continue;
    }
    if (BOOLEAN_FLAGS.has(flag[1])) continue;
    const value = flag[3] ?? svd[++i];
    if (value === undefined) break;
    if (INPUT_FLAGS.has(flag[1]) || (flag[1] === 'db' && readsStore)) {
      inputs.push(flag[1] === 'lora' ? loraPath(value.replace(/:[\d.]+$/, '')) : value);
    } else if (OUTPUT_FLAGS.has(flag[1])) outputs.push(value);
  }
  const [command, sub] = positional;
  const rest = positional.slice(1);
  if (command === 'convert') {
    inputs.push(...rest.slice(0, 1));
    outputs.push(...rest.slice(1, 2));
  } else if (command === 'eval') inputs.push(...rest.slice(1));
  else if (command === 'lora' && sub === 'merge') {
    inputs.push(...rest.slice(1, -1).map((p) => p.replace(/:[\d.]+$/, '')));
    outputs.push(...rest.slice(-1));
  } else if (command === 'curate' && sub !== 'worker' && !readsStore) {
    inputs.push(...rest);
  }
  return { inputs, outputs };
}

/** Shell variables `NAME=value` set so far in a block, expanded in `text`. */
function expand(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{?([A-Za-z_]\w*)\}?/g, (all, name: string) => vars.get(name) ?? all);
}

/**
 * Verdicts for the commands of one block. `exists(path)` says whether a fresh clone has the path (relative to the
 * repository root); made paths are tracked here. Throws when a `run` command reads a path that is neither there, nor
 * made earlier, nor the user's own.
 */
export function classify(body: string, exists: (path: string) => boolean): ReadmeCommand[] {
  const vars = new Map<string, string>();
  const made = new Set<string>();
  /** Outputs of commands that are not run: what reads them cannot run either. */
  const notMade = new Set<string>();
  const under = (set: ReadonlySet<string>, p: string) =>
    [...set].some((d) => p === d || p.startsWith(`${d.replace(/\/$/, '')}/`));
  const out: ReadmeCommand[] = [];
  for (const { text, comment } of commandLines(body)) {
    const assignment = /^([A-Za-z_]\w*)=(\S+)$/.exec(text);
    if (assignment) {
      vars.set(assignment[1], expand(assignment[2], vars));
      out.push({ text, comment, verdict: { kind: 'run', expectExit: [0] } });
      continue;
    }
    const skipped = SKIPPED.find(([re]) => re.test(text));
    if (skipped) {
      out.push({ text, comment, verdict: { kind: 'skip', why: skipped[1] } });
      continue;
    }
    // Synopsis lines list alternatives: `npx svd a … | npx svd b …`.
    const svdStart = /^(npx svd|node bin\/svd\.mjs)\b/.exec(text);
    if (!svdStart) {
      // Another tool (bash scripts/…, ffmpeg, mkdir): run; the folders it makes are made.
      for (const w of words(expand(text, vars))) if (/\//.test(w) && !w.startsWith('-')) made.add(w);
      out.push({ text, comment, verdict: { kind: 'run', expectExit: [0] } });
      continue;
    }
    for (const alternative of text.split(/\s+\|\s+(?=npx svd\b)/)) {
      const svd = words(expand(alternative.replace(/\s*&$/, ''), vars)).slice(2);
      const { inputs, outputs } = svdPaths(svd);
      const command = svd[0] ?? '';
      const sub = svd[1] ?? '';
      let why: string | undefined;
      if (isSynopsis(svd)) why = 'a synopsis';
      else if (command === 'train') why = 'training takes minutes';
      else if (command === 'curate' && inputs.length > 0) why = 'curation scores every clip (half a minute here)';
      else if (command === 'serve' || command === 'worker' || sub === 'worker') why = 'a server keeps running';
      else if (svd.includes('--redis')) why = 'needs a Redis server';
      else if (inputs.some((p) => USER_FILES.test(p)))
        why = `reads files the user brings (${inputs.filter((p) => USER_FILES.test(p)).join(', ')})`;
      else if (inputs.some((p) => under(notMade, p))) why = 'reads what a command not run here makes';
      if (why) {
        for (const o of outputs) notMade.add(o);
        out.push({ text: alternative, comment, svd, verdict: { kind: 'parse', why } });
        continue;
      }
      const missing = inputs.filter((p) => !exists(p) && !under(made, p));
      if (missing.length > 0) {
        throw new Error(
          `README: "${alternative}" reads ${missing.join(', ')}: not in a fresh clone, not made before it`,
        );
      }
      for (const o of outputs) made.add(o);
      const exit = /\bexit (\d+)\b/.exec(comment);
      out.push({
        text: alternative,
        comment,
        svd,
        verdict: { kind: 'run', expectExit: exit ? [0, Number(exit[1])] : [0] },
      });
    }
  }
  return out;
}

/** The `--flags` a command line names. */
export function flagsOf(svd: readonly string[]): string[] {
  return [...new Set(svd.flatMap((w) => [...w.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0])))];
}
