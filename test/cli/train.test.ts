/**
 * `svd train` end to end on demo clips (scripts/make-demo-clips.sh): a run killed with SIGKILL at a random step and
 * resumed ends with the same weights, byte for byte, as an uninterrupted run; Ctrl-C saves and exits 130; bad
 * input is one line with its exit code.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/svd.mjs');
const G = `${GOLDEN_DIR}pipeline-tiny/`;
let dir: string;
let config: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'svd-train-cli-'));
  const made = spawnSync('bash', [join(ROOT, 'scripts/make-demo-clips.sh'), join(dir, 'demo')], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  config = join(dir, 'i2v.json');
  writeFileSync(
    config,
    JSON.stringify({
      stage: 'i2v',
      model: { config: `${G}config.json`, init: `${G}checkpoint.safetensors` },
      data: { videos: join(dir, 'demo', 'videos'), frames: 4, width: 64, height: 64, fps: [4, 8] },
      steps: 8,
      lr: 3e-3,
      warmupSteps: 2,
      ema: 0.9,
      threads: 2,
      validation: { every: 4, seeds: [1], steps: 2 },
      checkpoint: { every: 2, keep: 2 },
    }),
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

function train(args: string[]) {
  return spawnSync(process.execPath, [BIN, 'train', ...args], { encoding: 'utf8', timeout: 300_000 });
}

/** Starts a run and resolves once its log shows step `step` (then the caller signals it). */
function startUntil(args: string[], run: string, step: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'train', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const log = existsSync(join(run, 'log.jsonl')) ? readFileSync(join(run, 'log.jsonl'), 'utf8') : '';
      if (log.includes(`"step":${step},"loss"`)) {
        clearInterval(timer);
        resolve(child);
      }
    }, 20);
    child.on('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`the run ended (${code}) before step ${step}`));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
}

describe('svd train', () => {
  test('kill -9 at a random step, resume: the same weights as an uninterrupted run, byte for byte', async () => {
    const whole = join(dir, 'whole');
    const r = train(['--config', config, '--run', whole, '--quiet']);
    assert.equal(r.status, 0, r.stderr);

    const parts = join(dir, 'parts');
    const killAt = 3 + Math.floor(Math.random() * 4); // 3 … 6: between checkpoints or right after one
    const child = await startUntil(['--config', config, '--run', parts, '--quiet'], parts, killAt);
    child.kill('SIGKILL');
    await exited(child);
    assert.equal(existsSync(join(parts, 'model.safetensors')), false, 'killed before the end');
    const resumed = train(['--resume', parts, '--quiet']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.ok(
      readFileSync(join(parts, 'model.safetensors')).equals(readFileSync(join(whole, 'model.safetensors'))),
      `killed at step ${killAt}: the resumed run's weights differ`,
    );
    const steps = readFileSync(join(parts, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => typeof l.loss === 'number')
      .map((l) => l.step);
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8], 'each step logged once');
  });

  test('Ctrl-C stops between steps with a checkpoint, exits 130 and says how to resume', async () => {
    const run = join(dir, 'interrupted');
    const child = await startUntil(['--config', config, '--run', run], run, 3);
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    child.kill('SIGINT');
    assert.equal(await exited(child), 130);
    assert.match(stderr, /interrupted; the run is saved: continue it with svd train --resume/);
    const latest = JSON.parse(readFileSync(join(run, 'ckpt', 'latest.json'), 'utf8'));
    assert.ok(latest.step >= 3, `checkpoint at step ${latest.step}`);
  });

  test('bad input: one line and its exit code', () => {
    const cases: [string[], number, RegExp][] = [
      [['--stage', 'pretrain'], 2, /--stage "pretrain": expected one of autoencoder, image, video/],
      [['--config', join(dir, 'nope.json')], 1, /nope\.json: no such file/],
      [['--stage', 'video', '--videos', join(dir, 'demo', 'videos'), '--steps', 'many'], 2, /--steps "many"/],
      [['--config', config, '--run', join(dir, 'whole')], 1, /already holds a run/],
      [['--resume', join(dir, 'no-run')], 1, /not a run folder/],
      // a run folder that cannot be written (below a regular file): one line naming it, before any training
      [['--config', config, '--run', join(config, 'run')], 1, /cannot write .*i2v\.json\/run/],
    ];
    for (const [args, code, pattern] of cases) {
      const r = train([...args, '--quiet']);
      assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], pattern);
    }
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ stage: 'video', data: { videos: 'x' }, stepz: 3 }));
    const r = train(['--config', bad, '--quiet']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /stepz: unknown field/);
  });
});
