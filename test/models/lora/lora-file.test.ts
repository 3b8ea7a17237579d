/**
 * LoRA files and their fit to a model (no engine): kohya names, targets, save → open round trip with metadata,
 * one-line errors for files that are not LoRAs or do not fit, the base-hash warning, FILE[:SCALE], and the host
 * merge (the arithmetic, dtypes, scale 0, sums, `mergeLoraCheckpoint` and its abort).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { declareModelParams } from '../../../src/models/declare-params.ts';
import {
  adaptableWeights,
  addLoraTerms,
  baseHashNotice,
  DEFAULT_LORA_TARGETS,
  fitLora,
  kohyaModuleName,
  LORA_FORMAT,
  LoraError,
  LoraFile,
  loraMergedSource,
  MERGED_LORAS_METADATA,
  mergeLoraCheckpoint,
  openLoras,
  parseLoraSpec,
  resolveLoraTargets,
} from '../../../src/models/lora/index.ts';
import { getPreset } from '../../../src/models/presets.ts';
import { fromFloat32 } from '../../../src/tensor/half.ts';
import { HostTensor } from '../../../src/tensor/host-tensor.ts';
import type { Shape } from '../../../src/tensor/shape.ts';
import { openCheckpoint } from '../../../src/weights/checkpoint.ts';
import { checkpointHash } from '../../../src/weights/checkpoint-hash.ts';
import type { CheckpointSource } from '../../../src/weights/checkpoint-source.ts';
import { writeSafetensors } from '../../../src/weights/safetensors-writer.ts';
import { randn } from '../../helpers/random.ts';
import { TINY_CKPT, tinyModel, writeTestLora } from './helpers.ts';

const ATTN_Q = 'model.diffusion_model.middle_block.1.time_stack.0.attn1.to_q';

let dir: string;
let shapes: ReadonlyMap<string, Shape>;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svd-lora-'));
  shapes = declareModelParams(tinyModel()).shapes;
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('names and targets', () => {
  test('kohya names of sgm UNet paths; other components have none', () => {
    assert.equal(kohyaModuleName(ATTN_Q), 'lora_unet_middle_block_1_time_stack_0_attn1_to_q');
    assert.equal(
      kohyaModuleName('model.diffusion_model.input_blocks.1.1.time_stack.0.attn1.to_out.0'),
      'lora_unet_input_blocks_1_1_time_stack_0_attn1_to_out_0',
    );
    assert.equal(kohyaModuleName('first_stage_model.decoder.conv_in'), undefined);
    const w = adaptableWeights(shapes).get('lora_unet_middle_block_1_time_stack_0_attn1_to_q');
    assert.deepEqual(w, { module: ATTN_Q, key: `${ATTN_Q}.weight`, shape: [64, 64], name: w!.name });
  });

  test('default targets: the 8 temporal attention projections of each of the 7 video transformer blocks', () => {
    const t = resolveLoraTargets(shapes);
    assert.equal(t.length, 56);
    assert.ok(t.every((w) => /\.time_stack\.0\.attn[12]\.(to_[qkv]|to_out\.0)$/.test(w.module)));
    assert.ok(t.some((w) => w.key === `${ATTN_Q}.weight`));
    assert.equal(DEFAULT_LORA_TARGETS.length, 8);
  });

  test('a glob that matches no weight of the model is an error naming it', () => {
    assert.throws(
      () => resolveLoraTargets(shapes, [...DEFAULT_LORA_TARGETS, 'model.diffusion_model.**.attn3.to_q']),
      (e: Error) =>
        e instanceof LoraError &&
        e.message.startsWith('LoRA target "model.diffusion_model.**.attn3.to_q" matches no weight of this model') &&
        !e.message.includes('\n'),
    );
    // Norm scales (rank 1) and non-UNet weights are not adaptable.
    assert.throws(() => resolveLoraTargets(shapes, ['model.diffusion_model.**.norm1']), LoraError);
    assert.throws(() => resolveLoraTargets(shapes, ['first_stage_model.**']), LoraError);
  });
});

describe('LoRA files', () => {
  test('save → open: kohya tensors, alpha, metadata', async () => {
    const path = join(dir, 'meta.safetensors');
    await writeTestLora(path, {
      rank: 4,
      alpha: 2,
      meta: { baseModelHash: 'abc', baseModelHashScope: 'full', baseModel: 'pipeline-tiny' },
    });
    const f = await LoraFile.open(path);
    try {
      assert.equal(f.modules.size, 56);
      const m = f.modules.get('lora_unet_middle_block_1_time_stack_0_attn1_to_q')!;
      assert.deepEqual(m, { name: m.name, down: [4, 64], up: [64, 4], rank: 4, alpha: 2 });
      assert.deepEqual(
        { ...f.metadata },
        {
          format: LORA_FORMAT,
          rank: '4',
          alpha: '2',
          targets: JSON.stringify(DEFAULT_LORA_TARGETS),
          base_model_hash: 'abc',
          base_model_hash_scope: 'full',
          base_model: 'pipeline-tiny',
          ss_network_module: 'networks.lora',
          ss_network_dim: '4',
          ss_network_alpha: '2',
        },
      );
      const fitted = fitLora(f, shapes, 0.5);
      assert.equal(fitted.modules.length, 56);
      assert.equal(fitted.modules[0].factor, (2 / 4) * 0.5);
      assert.equal(baseHashNotice(f, 'abc'), undefined);
      assert.match(baseHashNotice(f, 'def')!, /^LoRA .* was trained on another base checkpoint \(pipeline-tiny\)/);
    } finally {
      await f.close();
    }
  });

  test('a LoRA for another model does not fit: one line', async () => {
    const path = join(dir, 'svd.safetensors');
    await writeTestLora(path, { rank: 1 }, declareModelParams(getPreset('svd')).shapes);
    const f = await LoraFile.open(path);
    try {
      assert.throws(
        () => fitLora(f, shapes),
        (e: Error) =>
          e instanceof LoraError &&
          e.message.startsWith(`LoRA ${path} does not fit this model: `) &&
          /modules name weights it does not have: lora_unet_/.test(e.message) &&
          /modules have other shapes: lora_unet_input_blocks_1_1_time_stack_0_attn1_to_q has \[1, 320\]·\[320, 1\] for a \[32, 32\] weight/.test(
            e.message,
          ) &&
          !e.message.includes('\n'),
      );
    } finally {
      await f.close();
    }
  });

  test('unknown modules, text-encoder modules, malformed files: one line each', async () => {
    const t = (shape: Shape) => randn(shape);
    const cases: [string, Record<string, HostTensor>, RegExp][] = [
      [
        'unknown',
        { 'lora_unet_nope_to_q.lora_down.weight': t([2, 4]), 'lora_unet_nope_to_q.lora_up.weight': t([4, 2]) },
        /does not fit this model: 1 modules name weights it does not have: lora_unet_nope_to_q$/,
      ],
      [
        'te',
        { 'lora_te_x.lora_down.weight': t([2, 4]), 'lora_te_x.lora_up.weight': t([4, 2]) },
        /\(only lora_unet_\* modules exist in SVD\): lora_te_x$/,
      ],
      [
        'no-up',
        { 'lora_unet_a.lora_down.weight': t([2, 4]) },
        /is not a kohya-style LoRA file: lora_unet_a has no lora_up/,
      ],
      [
        'foreign',
        { 'unet.down_blocks.0.lora_A.weight': t([2, 4]) },
        /is not a kohya-style LoRA file: 1 tensors are not <module>\.lora_down\.weight/,
      ],
      [
        'rank',
        { 'lora_unet_a.lora_down.weight': t([2, 4]), 'lora_unet_a.lora_up.weight': t([4, 3]) },
        /are not a rank-r pair/,
      ],
    ];
    for (const [name, tensors, re] of cases) {
      const path = join(dir, `${name}.safetensors`);
      await writeSafetensors(path, tensors);
      await assert.rejects(
        openLoras([{ path, scale: 1 }], shapes),
        (e: Error) => e instanceof LoraError && re.test(e.message) && !e.message.includes('\n'),
        name,
      );
    }
    await assert.rejects(
      openLoras([{ path: join(dir, 'missing.safetensors'), scale: 1 }], shapes),
      /^LoraError: LoRA .*missing/,
    );
  });

  test('FILE[:SCALE]', () => {
    assert.deepEqual(parseLoraSpec('a.safetensors'), { path: 'a.safetensors', scale: 1 });
    assert.deepEqual(parseLoraSpec('a.safetensors:0.5'), { path: 'a.safetensors', scale: 0.5 });
    assert.deepEqual(parseLoraSpec('dir/a.safetensors:-1e-1'), { path: 'dir/a.safetensors', scale: -0.1 });
    assert.deepEqual(parseLoraSpec('C:\\loras\\a.safetensors'), { path: 'C:\\loras\\a.safetensors', scale: 1 });
    assert.deepEqual(parseLoraSpec('C:\\loras\\a.safetensors:2'), { path: 'C:\\loras\\a.safetensors', scale: 2 });
    assert.equal(parseLoraSpec('a.safetensors:abc'), undefined);
    assert.equal(parseLoraSpec('a.safetensors:'), undefined);
    assert.equal(parseLoraSpec(':2'), undefined);
    assert.equal(parseLoraSpec(''), undefined);
  });
});

describe('host merge', () => {
  test('addLoraTerms: W + Σ factor·(up as [out, r])·(down as [r, rest]) for a conv3d-shaped weight', () => {
    const shape = [3, 2, 3, 1, 1];
    const w = randn(shape);
    const terms = [
      { up: randn([3, 2, 1, 1, 1]).data, down: randn([2, 2, 3, 1, 1]).data, rank: 2, factor: 0.25 },
      { up: randn([3, 1, 1, 1, 1]).data, down: randn([1, 2, 3, 1, 1]).data, rank: 1, factor: -1 },
    ];
    const got = Float32Array.from(w.data);
    addLoraTerms(got, shape, terms);
    for (let o = 0; o < 3; o++)
      for (let j = 0; j < 6; j++) {
        let acc = 0;
        for (const t of terms)
          for (let r = 0; r < t.rank; r++) acc += t.factor * t.up[o * t.rank + r] * t.down[r * 6 + j];
        assert.equal(got[o * 6 + j], Math.fround(w.data[o * 6 + j] + acc));
      }
  });

  test('scale 0 is the base exactly; LoRAs add; float16 bases stay float16', async () => {
    const a = join(dir, 'sum-a.safetensors');
    const b = join(dir, 'sum-b.safetensors');
    await writeTestLora(a, { rank: 4, alpha: 4, seed: 3 });
    await writeTestLora(b, { rank: 2, alpha: 1, seed: 4 });
    const key = `${ATTN_Q}.weight`;
    const open = async (specs: [string, number][]) =>
      loraMergedSource(
        await openCheckpoint(TINY_CKPT),
        await openLoras(
          specs.map(([path, scale]) => ({ path, scale })),
          shapes,
        ),
      );
    const read = async (specs: [string, number][], k = key) => {
      const s = await open(specs);
      try {
        return (await s.readStored(k)).data as Float32Array;
      } finally {
        await s.close();
      }
    };
    const base = await read([]);
    assert.deepEqual(await read([[a, 0]]), base);
    assert.deepEqual(
      await read([[a, 1]], 'model.diffusion_model.out.2.weight'),
      await read([], 'model.diffusion_model.out.2.weight'),
    );
    const da = await read([[a, 1]]);
    const db = await read([[b, 0.5]]);
    const dab = await read([
      [a, 1],
      [b, 0.5],
    ]);
    let maxErr = 0;
    let maxDelta = 0;
    for (let i = 0; i < base.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(dab[i] - base[i] - (da[i] - base[i]) - (db[i] - base[i])));
      maxDelta = Math.max(maxDelta, Math.abs(da[i] - base[i]));
    }
    assert.ok(maxDelta > 1e-3, 'the LoRA changes the weight');
    assert.ok(maxErr < 1e-6, `sum: ${maxErr}`);

    // A float16 base: readStored keeps float16 (rounded), read gives the float32 merge of the widened base.
    const half = new Map<string, HostTensor>([
      [key, fromFloat32(new HostTensor('float32', [64, 64], base), 'float16')],
    ]);
    const fake: CheckpointSource = {
      path: 'fake',
      layout: 'sgm',
      metadata: {},
      entries: () => new Map([[key, { dtype: 'float16', shape: [64, 64] }]]),
      read: async (k) => (await import('../../../src/tensor/half.ts')).toFloat32(half.get(k)!),
      readStored: async (k) => half.get(k)!,
      close: async () => {},
    };
    const s = loraMergedSource(fake, await openLoras([{ path: a, scale: 1 }], shapes));
    const stored = await s.readStored(key);
    assert.equal(stored.dtype, 'float16');
    assert.deepEqual(stored.data, fromFloat32(await s.read(key), 'float16').data);
    await s.close();
  });

  test('mergeLoraCheckpoint writes an sgm file recording the LoRAs; an abort leaves nothing', async () => {
    const a = join(dir, 'merge-a.safetensors');
    await writeTestLora(a, { seed: 5 });
    const base = await openCheckpoint(TINY_CKPT);
    try {
      const out = join(dir, 'merged.safetensors');
      const hash = (await checkpointHash(TINY_CKPT)).sha256;
      const loras = await openLoras([{ path: a, scale: 0.5 }], shapes, { baseHash: hash });
      const res = await mergeLoraCheckpoint(base, loras, out, { model: tinyModel() });
      assert.equal(res.files[0].tensors, base.entries().size);
      const merged = await openCheckpoint(out);
      try {
        const rec = JSON.parse(merged.metadata[MERGED_LORAS_METADATA]);
        assert.deepEqual(rec, [{ file: a, scale: 0.5, modules: 56, rank: [4], alpha: [4] }]);
        assert.deepEqual(
          (await merged.readStored('model.diffusion_model.out.2.weight')).data,
          (await base.readStored('model.diffusion_model.out.2.weight')).data,
        );
        assert.notDeepEqual(
          (await merged.readStored(`${ATTN_Q}.weight`)).data,
          (await base.readStored(`${ATTN_Q}.weight`)).data,
        );
      } finally {
        await merged.close();
      }
      // Refuses an existing output.
      await assert.rejects(
        mergeLoraCheckpoint(base, await openLoras([{ path: a, scale: 1 }], shapes), out),
        /already exists/,
      );
      // Aborted: no output, no temporary file.
      const controller = new AbortController();
      controller.abort(new Error('stop'));
      const out2 = join(dir, 'aborted.safetensors');
      await assert.rejects(
        mergeLoraCheckpoint(base, await openLoras([{ path: a, scale: 1 }], shapes), out2, {
          signal: controller.signal,
        }),
        /stop/,
      );
      assert.equal(existsSync(out2), false);
      assert.deepEqual(
        (await readdir(dir)).filter((f) => f.includes('.tmp-')),
        [],
      );
    } finally {
      await base.close();
    }
  });
});
