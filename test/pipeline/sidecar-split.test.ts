/**
 * The sidecar tells the truth about the CFG split: when the memory plan splits the CFG batch by itself (too little
 * memory for one call), the sidecar's params say `splitCfg: true` and the memory plan says it chose it — not the
 * `false` the request carried. Without memory pressure nothing is split.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runGenerateJob } from '../../src/pipeline/generate-job.ts';
import { parseGenerateRequest } from '../../src/pipeline/request.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const G = `${GOLDEN_DIR}pipeline-tiny/`;
const dir = mkdtempSync(join(tmpdir(), 'svd-split-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function sidecarOf(name: string, availableMemory?: number, extra: Record<string, unknown> = {}) {
  const out = join(dir, `${name}.gif`);
  const notices: string[] = [];
  const request = parseGenerateRequest({
    image: `${G}input.png`,
    checkpoint: `${G}checkpoint.safetensors`,
    config: `${G}config.json`,
    frames: 4,
    steps: 1,
    decodeChunk: 2,
    threads: 2,
    out,
    ...extra,
  });
  await runGenerateJob(request, {
    availableMemory,
    onEvent: (e) => {
      if (e.type === 'notice') notices.push(e.message);
    },
  });
  return { sidecar: JSON.parse(readFileSync(`${out}.json`, 'utf8')), notices };
}

test('a split chosen by the memory plan is recorded as used, with its reason', async () => {
  // 16 MiB: one call of 8 rows (15 MiB estimated for the tiny model at 64×64) is over 80 % of it, two of 4 rows not.
  const { sidecar, notices } = await sidecarOf('tight', 16 * 2 ** 20);
  assert.ok(notices.some((n) => /two UNet calls .* one call of 8 rows would need about 15 MiB of 16 MiB/.test(n)));
  assert.equal(sidecar.params.splitCfg, true);
  assert.equal(sidecar.memoryPlan.splitCfg, true);
  assert.equal(sidecar.memoryPlan.splitBy, 'memory plan');
  assert.ok(sidecar.memoryPlan.estimatedPeakBytes.unet > 0);
});

test('no memory pressure: no split; asked for: split by request', async () => {
  const plain = await sidecarOf('plain');
  assert.equal(plain.sidecar.params.splitCfg, false);
  assert.equal(plain.sidecar.memoryPlan.splitBy, null);
  const asked = await sidecarOf('asked', undefined, { splitCfg: true });
  assert.equal(asked.sidecar.params.splitCfg, true);
  assert.equal(asked.sidecar.memoryPlan.splitBy, 'request');
});
