/**
 * `svd convert` writes only what `--to` implies (a `.safetensors` name never becomes a diffusers folder, a name ending
 * in `/` never an sgm file), and Ctrl-C in the middle of a conversion, delivered twice as a terminal and `npx` both
 * deliver it, exits 130 with nothing written: no output and no `.tmp-*` folder or file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { encodeSafetensors } from '../../src/weights/index.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const CKPT = `${GOLDEN_DIR}pipeline-tiny/checkpoint.safetensors`;
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'svd-convert-out-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stderr: string;
}

function svd(args: string[], onStderr?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr, child);
    });
    child.on('error', reject);
    // Ended by its own SIGINT (a second Ctrl-C: src/cli/interrupt.ts endInterrupted) is status 130 to a shell.
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === 'SIGINT' ? 130 : null), stderr }));
  });
}

test('OUT must be what --to writes; nothing is created otherwise', async () => {
  const work = mkdtempSync(join(dir, 'to-'));
  const [byDefault, diffusers, sgm] = await Promise.all([
    svd(['convert', CKPT, join(work, 'a.safetensors')]),
    svd(['convert', CKPT, join(work, 'b.SafeTensors'), '--to', 'diffusers']),
    svd(['convert', CKPT, `${join(work, 'c')}/`, '--to', 'sgm']),
  ]);
  for (const r of [byDefault, diffusers, sgm]) assert.equal(r.code, 2, r.stderr);
  assert.match(
    byDefault.stderr.split('\n')[0],
    /^svd convert: OUT .*a\.safetensors names a \.safetensors file, but --to diffusers \(the default for this input\) writes a folder/,
  );
  assert.match(diffusers.stderr.split('\n')[0], /b\.SafeTensors names a \.safetensors file, but --to diffusers writes/);
  assert.match(sgm.stderr.split('\n')[0], /c\/ names a folder, but --to sgm writes one \.safetensors file/);
  assert.deepEqual(readdirSync(work), []);
});

test('Ctrl-C twice in the middle of a conversion: exit 130, no output, no temporary folder', async () => {
  const work = mkdtempSync(join(dir, 'sigint-'));
  // 15 000 small tensors: long enough (seconds) to be interrupted after the first progress line.
  const tensors = new Map<string, HostTensor>();
  for (let i = 0; i < 15_000; i++) tensors.set(`t.${i}`, new HostTensor('float32', [16], new Float32Array(16).fill(i)));
  const source = join(work, 'many.safetensors');
  writeFileSync(source, encodeSafetensors(tensors));
  let sent = 0;
  const r = await svd(
    ['convert', source, join(work, 'half.safetensors'), '--to', 'sgm', '--dtype', 'float16'],
    (stderr, child) => {
      if (sent === 0 && /sgm file: \d+\/15000 tensors/.test(stderr)) {
        sent = Date.now();
        child.kill('SIGINT');
        setTimeout(() => child.kill('SIGINT'), 5);
      }
    },
  );
  assert.ok(sent > 0, `no progress line: ${r.stderr}`);
  assert.equal(r.code, 130, r.stderr);
  // Prompt (milliseconds when quiet), with room for a loaded CI machine; the command's grace period is 10 s.
  assert.ok(Date.now() - sent < 8000, `exited ${Date.now() - sent} ms after Ctrl-C`);
  assert.match(r.stderr, /svd convert: interrupted; nothing was written/);
  assert.deepEqual(readdirSync(work), ['many.safetensors']);
});
