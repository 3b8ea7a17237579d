/**
 * The README's examples work as written from the repository root. Every ```sh block is split into commands and each
 * command gets a verdict by the rule in ./readme-blocks.ts:
 * - `run`: needs nothing a fresh clone lacks and takes seconds — run in order, in the block's own shell, in a
 *   temporary copy of the repository root (its tracked entries and node_modules linked, so outputs land there and not
 *   in the checkout), asserting exit code 0 (or the code the line's comment names, e.g. "exit 1 with the reason");
 *   `npx svd` is run as `node bin/svd.mjs` (what npx runs; one test checks that `npx svd` resolves to it);
 * - `parse`: user-supplied weights or media, training (minutes), curating a folder (half a minute), servers, Redis,
 *   synopsis lines — the command must exist and accept every `--flag` it names (its `--help` lists it);
 * - `skip`: installing, the whole suite, the svd-mini recipe, system services, HTTP calls to the example server.
 * A `run` command that reads a path a fresh clone lacks (and no earlier command makes) fails the test. The ```ts
 * blocks: every name they import must exist; the ones that read no user file are run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { main } from '../../src/cli/main.ts';
import { classify, flagsOf, type ReadmeCommand, shellBlocks, tsBlocks, USER_FILES } from './readme-blocks.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
let mirror: string;

before(() => {
  mirror = mkdtempSync(join(tmpdir(), 'svd-readme-'));
  const tracked = spawnSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(tracked.status, 0, tracked.stderr);
  const top = new Set(
    tracked.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('/')[0]),
  );
  for (const name of [...top, 'node_modules']) symlinkSync(join(ROOT, name), join(mirror, name));
});
after(() => rmSync(mirror, { recursive: true, force: true }));

/** `svd ARGS --help` in this process: what it printed on stdout and its exit code. */
async function helpOf(args: string[]): Promise<{ code: number; text: string }> {
  const out: string[] = [];
  const log = mock.method(console, 'log', (...a: unknown[]) => out.push(a.join(' ')));
  const error = mock.method(console, 'error', () => {});
  const listeners = process.stdout.listeners('error');
  try {
    return { code: await main([...args, '--help']), text: out.join('\n') };
  } finally {
    log.mock.restore();
    error.mock.restore();
    for (const l of process.stdout.listeners('error')) {
      if (!listeners.includes(l)) process.stdout.off('error', l as (e: Error) => void);
    }
  }
}

/** A `parse` command: its command exists and its help lists every flag it names. */
async function checkParses(c: ReadmeCommand) {
  const svd = c.svd ?? [];
  const command = svd[0]?.startsWith('-') ? [] : svd.slice(0, 1);
  const help = await helpOf(command);
  assert.equal(help.code, 0, `svd ${command.join(' ')} --help: exit ${help.code}`);
  assert.match(help.text, /^usage: svd/, `svd ${command.join(' ')} --help`);
  for (const flag of flagsOf(svd)) {
    assert.match(help.text, new RegExp(`(^|[^\\w-])${flag}(?![\\w-])`), `"${c.text}": ${flag} is not an option`);
  }
}

/** The block's `run` commands as one bash script (`npx svd` → node bin/svd.mjs), each announced on stderr. */
function script(commands: readonly ReadmeCommand[]): string {
  const lines = [
    'set -eo pipefail',
    `npx() { if [ "$1" = svd ]; then shift; node ${JSON.stringify(join(ROOT, 'bin/svd.mjs'))} "$@"; else return 127; fi; }`,
  ];
  commands.forEach((c, i) => {
    if (c.verdict.kind !== 'run') return;
    lines.push(`echo "::: command ${i}" >&2`);
    const allowed = c.verdict.expectExit.filter((e) => e !== 0);
    lines.push(allowed.length > 0 ? `${c.text} || [ $? -eq ${allowed[0]} ]` : c.text);
  });
  return `${lines.join('\n')}\n`;
}

describe('README shell examples', () => {
  for (const block of shellBlocks(README)) {
    let commands: ReadmeCommand[] = [];
    let problem: Error | undefined;
    try {
      // relative to the root; an absolute path (a Debian package's file, e.g. opencv-doc's photos) as it is
      commands = classify(block.body, (p) => existsSync(resolve(ROOT, p)));
    } catch (e) {
      problem = e as Error; // a path that is not there: the block's test fails with it
    }
    const counts = ['run', 'parse', 'skip'].map((k) => `${commands.filter((c) => c.verdict.kind === k).length} ${k}`);
    test(`README line ${block.line}: ${counts.join(', ')}`, async (t) => {
      if (problem) throw problem;
      for (const c of commands) {
        if (c.verdict.kind !== 'run') t.diagnostic(`${c.verdict.kind} (${c.verdict.why}): ${c.text}`);
        if (c.verdict.kind === 'parse') await checkParses(c);
      }
      if (!commands.some((c) => c.verdict.kind === 'run' && c.svd)) return;
      const r = spawnSync('bash', ['-c', script(commands)], { cwd: mirror, encoding: 'utf8', timeout: 180_000 });
      const at = [...r.stderr.matchAll(/::: command (\d+)/g)].pop();
      const failed = at ? commands[Number(at[1])].text : '(before the first command)';
      assert.equal(r.status, 0, `README line ${block.line}: "${failed}" failed:\n${r.stderr.slice(-2000)}`);
    });
  }
});

describe('README TypeScript examples', () => {
  for (const block of tsBlocks(README)) {
    const readsUserFiles = [...block.body.matchAll(/'([^']+\.[a-z]+)'/g)].some((m) => USER_FILES.test(m[1]));
    test(`README line ${block.line}: ${readsUserFiles ? 'imports exist (reads user files)' : 'runs'}`, async () => {
      for (const m of block.body.matchAll(/import \{([^}]+)\} from '(\.\/src\/[^']+)'/g)) {
        const module = await import(pathToFileURL(join(ROOT, m[2])).href);
        for (const name of m[1].split(',').map((n) => n.trim().replace(/^type /, ''))) {
          if (name !== '') assert.ok(name in module, `${m[2]} exports no ${name}`);
        }
      }
      if (readsUserFiles) return;
      const file = join(mirror, `readme-example-${block.line}.ts`);
      writeFileSync(file, block.body);
      const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
        cwd: mirror,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 0, `README line ${block.line}:\n${r.stderr.slice(-2000)}`);
    });
  }
});

test('`npx svd` from the repository root runs bin/svd.mjs', () => {
  const r = spawnSync('npx', ['--no-install', 'svd', '--version'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(r.stdout.trim(), pkg.version);
});
