/**
 * `openCheckpoint`: the sgm single file and a diffusers folder present the same sgm keys and values, read lazily;
 * half-precision checkpoints are widened to float32 on read; bad inputs fail with clear codes.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { convertCheckpoint } from '../../src/models/checkpoint-convert.ts';
import { loadModelConfig } from '../../src/models/reference/model-config.ts';
import { fromFloat32, toFloat32 } from '../../src/tensor/half.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { type CheckpointSource, openCheckpoint } from '../../src/weights/checkpoint.ts';
import { DiffusersFolderSource } from '../../src/weights/checkpoint-diffusers.ts';
import { CheckpointFormatError, type CheckpointFormatErrorCode } from '../../src/weights/checkpoint-errors.ts';
import { SafetensorsFile, writeSafetensors } from '../../src/weights/index.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const TINY = `${GOLDEN_DIR}pipeline-tiny/`;
const CKPT = `${TINY}checkpoint.safetensors`;
const QKV = 'conditioner.embedders.0.open_clip.model.visual.transformer.resblocks.1.attn.in_proj_weight';
const PROJ = 'conditioner.embedders.0.open_clip.model.visual.proj';
const VAE_Q = 'first_stage_model.decoder.mid.attn_1.q.weight';

let dir: string;
let folder: string;
let folder16: string;
let folderBf16: string;
let original: Map<string, HostTensor>;

async function convertTiny(out: string, dtype?: 'float16' | 'bfloat16'): Promise<void> {
  const model = loadModelConfig(`${TINY}config.json`);
  const source = await openCheckpoint(CKPT);
  try {
    await convertCheckpoint(source, out, { to: 'diffusers', dtype, model });
  } finally {
    await source.close();
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svd-checkpoint-'));
  folder = join(dir, 'diffusers');
  folder16 = join(dir, 'diffusers-fp16');
  folderBf16 = join(dir, 'diffusers-bf16');
  await convertTiny(folder);
  await convertTiny(folder16, 'float16');
  await convertTiny(folderBf16, 'bfloat16');
  const file = await SafetensorsFile.open(CKPT);
  original = await file.readAll();
  await file.close();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withSource<T>(path: string, fn: (s: CheckpointSource) => Promise<T>): Promise<T> {
  const s = await openCheckpoint(path);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

function sameBits(a: HostTensor, b: HostTensor): boolean {
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return a.dtype === b.dtype && a.shape.join() === b.shape.join() && Buffer.compare(x, y) === 0;
}

describe('sgm single file', () => {
  test('presents the file keys, dtypes and shapes, and reads float32 values', async () => {
    await withSource(CKPT, async (s) => {
      assert.equal(s.layout, 'sgm');
      const e = s.entries();
      assert.equal(e.size, 1073);
      assert.deepEqual(e.get(PROJ), { dtype: 'float32', shape: [32, 32] });
      assert.deepEqual(e.get('conditioner.embedders.0.open_clip.model.logit_scale'), { dtype: 'float32', shape: [] });
      assert.ok(sameBits(await s.read(QKV), original.get(QKV)!));
      assert.equal(s.metadata.set, 'pipeline-tiny');
      await assert.rejects(
        s.read('no.such.key'),
        (err: unknown) => err instanceof CheckpointFormatError && err.code === 'bad-layout',
      );
    });
  });
});

describe('diffusers folder', () => {
  test('presents the same sgm keys, dtypes, shapes and values as the sgm file', async () => {
    await withSource(folder, async (s) => {
      assert.equal(s.layout, 'diffusers');
      assert.ok(s instanceof DiffusersFolderSource);
      assert.deepEqual(s.skipped, []);
      const e = s.entries();
      assert.deepEqual([...e.keys()].sort(), [...original.keys()].sort());
      for (const [key, ref] of original) {
        assert.deepEqual(e.get(key), { dtype: ref.dtype, shape: ref.shape }, key);
        assert.ok(sameBits(await s.read(key), ref), key);
      }
      assert.deepEqual(s.metadata, (await withSource(CKPT, async (o) => o.metadata)) as object);
    });
  });

  test('reads one tensor without reading the others (lazy, by offset)', async () => {
    const reads: string[] = [];
    const realRead = SafetensorsFile.prototype.read;
    SafetensorsFile.prototype.read = function (this: SafetensorsFile, name: string, options) {
      reads.push(name);
      return realRead.call(this, name, options);
    };
    try {
      await withSource(folder, async (s) => {
        reads.length = 0;
        await s.read(QKV);
        assert.deepEqual(reads, [
          'vision_model.encoder.layers.1.self_attn.q_proj.weight',
          'vision_model.encoder.layers.1.self_attn.k_proj.weight',
          'vision_model.encoder.layers.1.self_attn.v_proj.weight',
        ]);
        reads.length = 0;
        await s.read('model.diffusion_model.out.2.weight');
        assert.deepEqual(reads, ['conv_out.weight']);
        reads.length = 0;
        await s.read('first_stage_model.encoder.conv_in.weight');
        assert.deepEqual(reads, ['first_stage_model.encoder.conv_in.weight']); // from sgm_extra.safetensors
      });
    } finally {
      SafetensorsFile.prototype.read = realRead;
    }
  });

  test('diffusers transforms are undone: transposed projection, squeezed VAE attention, packed q/k/v', async () => {
    await withSource(folder, async (s) => {
      assert.deepEqual(s.entries().get(VAE_Q)?.shape, [32, 32, 1, 1]);
      for (const key of [PROJ, VAE_Q, QKV]) assert.ok(sameBits(await s.readStored(key), original.get(key)!), key);
    });
    const clip = await SafetensorsFile.open(join(folder, 'image_encoder', 'model.safetensors'));
    const hfProj = await clip.read('visual_projection.weight');
    await clip.close();
    const proj = original.get(PROJ)!.data as Float32Array;
    const t = hfProj.data as Float32Array;
    assert.equal(t[1 * 32 + 0], proj[0 * 32 + 1]); // HF weight = projᵀ
  });

  for (const [name, dtype] of [
    ['float16', 'float16'],
    ['bfloat16', 'bfloat16'],
  ] as const) {
    test(`a ${name} folder lists ${name} entries and reads them widened to float32`, async () => {
      await withSource(dtype === 'float16' ? folder16 : folderBf16, async (s) => {
        const e = s.entries();
        assert.equal(e.get(QKV)?.dtype, dtype);
        for (const key of [QKV, PROJ, VAE_Q, 'model.diffusion_model.time_embed.0.weight']) {
          const ref = original.get(key)!;
          const expected = toFloat32(fromFloat32(ref, dtype));
          const got = await s.read(key);
          assert.equal(got.dtype, 'float32');
          assert.ok(sameBits(got, expected), key);
          assert.ok(sameBits(await s.readStored(key), fromFloat32(ref, dtype)), key);
        }
      });
    });
  }
});

describe('open errors', () => {
  async function expectCode(path: string, code: CheckpointFormatErrorCode, pattern: RegExp) {
    await assert.rejects(openCheckpoint(path), (err: unknown) => {
      assert.ok(err instanceof CheckpointFormatError, String(err));
      assert.equal(err.code, code, err.message);
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  }

  test('a missing path, a file that is not safetensors, a folder that is not diffusers', async () => {
    await expectCode(join(dir, 'nope.safetensors'), 'not-found', /nope\.safetensors: no such file or folder/);
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'hello, this is not a checkpoint at all');
    await expectCode(text, 'not-safetensors', /notes\.txt: not a safetensors file \(header length/);
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await expectCode(empty, 'unknown-layout', /not a diffusers SVD folder: no unet\/, vae\/, image_encoder\//);
  });

  test('a diffusers folder without a config, or with only some parts of a split tensor', async () => {
    const broken = join(dir, 'broken');
    for (const c of ['unet', 'vae', 'image_encoder']) {
      await mkdir(join(broken, c), { recursive: true });
      await copyFile(join(folder, c, 'config.json'), join(broken, c, 'config.json'));
    }
    await rm(join(broken, 'vae', 'config.json'));
    await expectCode(broken, 'bad-config', /vae\/config\.json: missing or unreadable/);
    await copyFile(join(folder, 'vae', 'config.json'), join(broken, 'vae', 'config.json'));
    await expectCode(broken, 'not-found', /unet: no diffusion_pytorch_model\.safetensors/);
    await copyFile(
      join(folder, 'unet', 'diffusion_pytorch_model.safetensors'),
      join(broken, 'unet', 'diffusion_pytorch_model.safetensors'),
    );
    await copyFile(
      join(folder, 'vae', 'diffusion_pytorch_model.safetensors'),
      join(broken, 'vae', 'diffusion_pytorch_model.safetensors'),
    );
    const w = HostTensor.zeros('float32', [32, 32]);
    await writeSafetensors(join(broken, 'image_encoder', 'model.safetensors'), {
      'vision_model.encoder.layers.0.self_attn.q_proj.weight': w,
      'vision_model.encoder.layers.0.self_attn.k_proj.weight': w,
      'vision_model.embeddings.position_ids': HostTensor.int64([1, 2], [0, 1]),
      'vision_model.something_new.weight': w,
    });
    await expectCode(broken, 'bad-layout', /found without the other parts of sgm tensor .*in_proj_weight/);
    await writeSafetensors(join(broken, 'image_encoder', 'model.safetensors'), {
      'vision_model.embeddings.position_ids': HostTensor.int64([1, 2], [0, 1]),
      'vision_model.something_new.weight': w,
    });
    await withSource(broken, async (s) => {
      assert.deepEqual((s as DiffusersFolderSource).skipped, ['image_encoder/vision_model.embeddings.position_ids']);
      assert.ok(s.entries().has('diffusers:image_encoder/vision_model.something_new.weight'));
    });
  });
});
