/**
 * A LoRA's own sampling defaults (src/models/lora/sampling-defaults.ts): the LoRA stage writes the median motion
 * bucket of its manifest's clips into the file, svd-mini's export the guidance it was measured at; `svd generate
 * --lora` samples at them unless `--motion-bucket` / `--min-cfg` / `--max-cfg` are given, and says so.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  LORA_MAX_CFG_KEY,
  LORA_MIN_CFG_KEY,
  LORA_MOTION_BUCKET_KEY,
  LoraError,
  loraSamplingDefaults,
  medianLabel,
} from '../../../src/models/lora/index.ts';
import { SVD_MINI } from '../../../src/models/presets.ts';
import { loraHooks } from '../../../src/training/run/lora-hooks.ts';
import { resolveTrainConfig } from '../../../src/training/stages/config.ts';
import { SafetensorsFile } from '../../../src/weights/index.ts';
import { TINY, TINY_CKPT, TINY_CONFIG, writeTestLora } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../../bin/svd.mjs', import.meta.url));

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svd-lora-defaults-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A LoRA for the tiny model recording `bucket` (none when undefined) and `extra` metadata. */
async function loraWith(name: string, bucket: string | undefined, extra: Record<string, string> = {}): Promise<string> {
  const path = join(dir, name);
  await writeTestLora(path, {
    seed: 3,
    meta: { extra: { ...(bucket === undefined ? {} : { [LORA_MOTION_BUCKET_KEY]: bucket }), ...extra } },
  });
  return path;
}
const cfg = (lo: string, hi: string) => ({ [LORA_MIN_CFG_KEY]: lo, [LORA_MAX_CFG_KEY]: hi });

function svd(...args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { timeout: 120_000 });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

describe("a LoRA's motion bucket", () => {
  test('medianLabel: the middle label (the lower one of an even count); undefined when empty', () => {
    assert.equal(medianLabel([200, 10, 190]), 190);
    assert.equal(medianLabel([4, 1, 3, 2]), 2);
    assert.equal(medianLabel([]), undefined);
  });

  test('loraSamplingDefaults: the scale-weighted mean of the LoRAs that record one; scale 0 and unlabelled ones left out', async () => {
    const a = await loraWith('a.safetensors', '180');
    const b = await loraWith('b.safetensors', '20');
    const none = await loraWith('none.safetensors', undefined);
    assert.deepEqual(await loraSamplingDefaults([{ path: a, scale: 1 }]), {
      motionBucketId: 180,
      sources: ['a.safetensors 180'],
    });
    // (1·180 + 0.5·20) / 1.5 = 126.7
    assert.equal(
      (
        await loraSamplingDefaults([
          { path: a, scale: 1 },
          { path: b, scale: 0.5 },
        ])
      ).motionBucketId,
      127,
    );
    assert.equal(
      (
        await loraSamplingDefaults([
          { path: a, scale: 0 },
          { path: b, scale: 1 },
        ])
      ).motionBucketId,
      20,
    );
    assert.deepEqual(await loraSamplingDefaults([{ path: none, scale: 1 }]), { sources: [] });
    const bad = await loraWith('bad.safetensors', 'fast');
    await assert.rejects(loraSamplingDefaults([{ path: bad, scale: 1 }]), (e: Error) => {
      assert.ok(e instanceof LoraError);
      assert.match(e.message, /svd_ts_motion_bucket_id must be an integer ≥ 0, got "fast"/);
      return true;
    });
    await assert.rejects(loraSamplingDefaults([{ path: join(dir, 'missing.safetensors'), scale: 1 }]), LoraError);
  });

  test('loraSamplingDefaults: the guidance of the LoRAs that record one, scale-weighted; both ends or neither', async () => {
    const a = await loraWith('ga.safetensors', '180', cfg('1', '1'));
    const b = await loraWith('gb.safetensors', undefined, cfg('2', '4'));
    const none = await loraWith('gnone.safetensors', '20');
    assert.deepEqual((await loraSamplingDefaults([{ path: a, scale: 1 }])).guidance, {
      minCfg: 1,
      maxCfg: 1,
      sources: ['ga.safetensors 1 → 1'],
    });
    const both = await loraSamplingDefaults([
      { path: a, scale: 1 },
      { path: b, scale: 0.5 },
      { path: none, scale: 1 },
    ]);
    assert.equal(both.motionBucketId, 100); // (180 + 20) / 2; gb records none
    assert.deepEqual([both.guidance?.minCfg, both.guidance?.maxCfg], [4 / 3, 2]); // (1·1 + 0.5·2) / 1.5, (1 + 2) / 1.5
    assert.equal((await loraSamplingDefaults([{ path: none, scale: 1 }])).guidance, undefined);
    const half = await loraWith('ghalf.safetensors', undefined, { [LORA_MAX_CFG_KEY]: '2' });
    await assert.rejects(loraSamplingDefaults([{ path: half, scale: 1 }]), /come together/);
    const neg = await loraWith('gneg.safetensors', undefined, cfg('-1', '2'));
    await assert.rejects(
      loraSamplingDefaults([{ path: neg, scale: 1 }]),
      /svd_ts_min_cfg must be a number ≥ 0, got "-1"/,
    );
  });

  test("the LoRA stage records its manifest's median motion bucket", async () => {
    const manifest = join(dir, 'manifest.jsonl');
    const line = (id: string, extra: object) =>
      JSON.stringify({ id, clip: `${id}.mp4`, start: 0, end: 2, fps: 8, ...extra });
    await writeFile(
      manifest,
      [
        line('a', { motion_bucket: 200 }),
        line('b', { motion_bucket: 10 }),
        line('c', { motion_bucket: 190 }),
        line('d', { motion_score: 0 }), // bucket 0 from its score
      ].join('\n'),
    );
    const config = resolveTrainConfig({
      stage: 'lora',
      model: { preset: 'svd-mini' },
      data: { manifest, frames: 14, width: 128, height: 128, fps: [8] },
      lora: { rank: 1, alpha: 1, targets: ['model.diffusion_model.middle_block.1.time_stack.0.attn1.to_q'] },
    });
    const hooks = loraHooks(SVD_MINI, config);
    const out = join(dir, 'trained.safetensors');
    await hooks.save(out, hooks.init(0));
    const file = await SafetensorsFile.open(out);
    try {
      assert.equal(file.metadata[LORA_MOTION_BUCKET_KEY], '10'); // of 0, 10, 190, 200
    } finally {
      await file.close();
    }
  });

  test('svd generate --lora samples at the LoRA’s bucket and guidance and says so; the options win', async () => {
    const lora = await loraWith('camera.safetensors', '40', cfg('1', '1.5'));
    const gen = (out: string, ...extra: string[]) =>
      svd(
        'generate',
        '--checkpoint',
        TINY_CKPT,
        '--config',
        TINY_CONFIG,
        '--image',
        `${TINY}input.png`,
        '--size',
        'native',
        '--frames',
        '2',
        '--steps',
        '1',
        '--quiet',
        '--threads',
        '1',
        '--lora',
        lora,
        '--out',
        join(dir, out),
        ...extra,
      );
    const [own, given] = await Promise.all([gen('own/'), gen('given/', '--motion-bucket', '5', '--max-cfg', '3')]);
    assert.equal(own.status, 0, own.stderr);
    assert.equal(given.status, 0, given.stderr);
    const params = (out: string) => JSON.parse(readFileSync(join(dir, out, 'video.json'), 'utf8')).params;
    assert.equal(params('own').motionBucketId, 40);
    assert.deepEqual([params('own').minCfg, params('own').maxCfg], [1, 1.5]);
    assert.match(
      own.stderr,
      /^warning: motion bucket 40 from the LoRA \(camera\.safetensors 40: its training clips' median\)/m,
    );
    assert.match(own.stderr, /^warning: guidance 1 → 1\.5 from the LoRA \(camera\.safetensors 1 → 1\.5: /m);
    assert.equal(params('given').motionBucketId, 5);
    assert.equal(params('given').maxCfg, 3);
    assert.doesNotMatch(given.stderr, /from the LoRA/);
  });
});
