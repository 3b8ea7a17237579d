/**
 * `convertCheckpoint`: sgm → diffusers → sgm restores every tensor of the tiny checkpoint byte for byte (names,
 * shapes, dtypes, bytes; header order may differ), dtype conversions, atomic output, strict config check.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ConvertOptions, type ConvertProgress, convertCheckpoint } from '../../src/models/checkpoint-convert.ts';
import { inferenceIgnoreGroups } from '../../src/models/declare-params.ts';
import { keyLayoutForModel } from '../../src/models/diffusers-config.ts';
import { loadModelConfig } from '../../src/models/reference/model-config.ts';
import { fromFloat32 } from '../../src/tensor/half.ts';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import { openCheckpoint } from '../../src/weights/checkpoint.ts';
import { CheckpointError, ignoreMatcher } from '../../src/weights/checkpoint-check.ts';
import { CheckpointFormatError } from '../../src/weights/checkpoint-errors.ts';
import { SafetensorsFile } from '../../src/weights/index.ts';
import { sgmKeyToDiffusers } from '../../src/weights/layouts/diffusers-layout.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const TINY = `${GOLDEN_DIR}pipeline-tiny/`;
const CKPT = `${TINY}checkpoint.safetensors`;
const model = loadModelConfig(`${TINY}config.json`);

let dir: string;
let original: Map<string, HostTensor>;
let originalMetadata: Readonly<Record<string, string>>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svd-convert-'));
  const file = await SafetensorsFile.open(CKPT);
  original = await file.readAll();
  originalMetadata = file.metadata;
  await file.close();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function convert(input: string, out: string, options: ConvertOptions) {
  const source = await openCheckpoint(input);
  try {
    return await convertCheckpoint(source, out, options);
  } finally {
    await source.close();
  }
}

async function readAll(path: string): Promise<{ tensors: Map<string, HostTensor>; metadata: Record<string, string> }> {
  const file = await SafetensorsFile.open(path);
  try {
    return { tensors: await file.readAll(), metadata: { ...file.metadata } };
  } finally {
    await file.close();
  }
}

function bytes(t: HostTensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Same names, and per tensor the same dtype, shape and bytes (order free). */
function assertSameTensors(got: Map<string, HostTensor>, want: Map<string, HostTensor>, what: string) {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${what}: names`);
  for (const [key, w] of want) {
    const g = got.get(key)!;
    assert.equal(g.dtype, w.dtype, `${what}: ${key} dtype`);
    assert.deepEqual([...g.shape], [...w.shape], `${what}: ${key} shape`);
    assert.ok(bytes(g).equals(bytes(w)), `${what}: ${key} bytes`);
  }
}

describe('sgm → diffusers → sgm', () => {
  test('restores every tensor byte for byte, and the sgm metadata', async () => {
    const folder = join(dir, 'rt');
    const back = join(dir, 'rt.safetensors');
    const notices: string[] = [];
    const result = await convert(CKPT, folder, { to: 'diffusers', model, onNotice: (l) => notices.push(l) });
    assert.deepEqual(
      result.files.map((f) => [f.file, f.tensors]),
      [
        ['unet/diffusion_pytorch_model.safetensors', 595],
        ['vae/diffusion_pytorch_model.safetensors', 266],
        ['image_encoder/model.safetensors', 40],
        ['sgm_extra.safetensors', 180],
      ],
    );
    assert.equal(notices.length, 1);
    assert.match(notices[0], /^keeping 180 tensors diffusers has no place for in sgm_extra\.safetensors: 6 open_clip/);
    await convert(folder, back, { to: 'sgm' });
    const restored = await readAll(back);
    assertSameTensors(restored.tensors, original, 'round trip');
    assert.deepEqual(restored.metadata, originalMetadata);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.includes('.tmp-')),
      [],
      'no temporary files left',
    );
  });

  test('the diffusers files hold exactly the rule-mapped keys, with configs and format "pt"', async () => {
    const folder = join(dir, 'layout');
    await convert(CKPT, folder, { to: 'diffusers', model });
    const layout = keyLayoutForModel(model);
    const expected = new Map<string, Set<string>>([
      ['unet', new Set()],
      ['vae', new Set()],
      ['image_encoder', new Set()],
    ]);
    for (const key of original.keys()) {
      const p = sgmKeyToDiffusers(key, layout);
      for (const k of p?.keys ?? []) expected.get(p!.component)!.add(k);
    }
    for (const [component, file] of [
      ['unet', 'diffusion_pytorch_model'],
      ['vae', 'diffusion_pytorch_model'],
      ['image_encoder', 'model'],
    ]) {
      const { tensors, metadata } = await readAll(join(folder, component, `${file}.safetensors`));
      assert.deepEqual(new Set(tensors.keys()), expected.get(component), component);
      assert.equal(metadata.format, 'pt');
      const cfg = JSON.parse(await readFile(join(folder, component, 'config.json'), 'utf8'));
      assert.ok(cfg._class_name || cfg.architectures, component);
    }
    const vae = (await readAll(join(folder, 'vae', 'diffusion_pytorch_model.safetensors'))).tensors;
    // diffusers' VAE encoder and quant_conv come from the conditioning encoder, not from first_stage_model.
    const enc = 'conditioner.embedders.3.encoder.';
    assert.ok(bytes(vae.get('encoder.conv_in.weight')!).equals(bytes(original.get(`${enc}encoder.conv_in.weight`)!)));
    assert.ok(bytes(vae.get('quant_conv.weight')!).equals(bytes(original.get(`${enc}quant_conv.weight`)!)));
    assert.ok(
      !bytes(vae.get('encoder.conv_in.weight')!).equals(
        bytes(original.get('first_stage_model.encoder.conv_in.weight')!),
      ),
    );
    assert.deepEqual([...vae.get('decoder.mid_block.attentions.0.to_q.weight')!.shape], [32, 32]);
  });
});

describe('an HF-style diffusers folder (no sgm_extra.safetensors, class defaults left out of the configs)', () => {
  test('converts to an sgm file that lacks only what the reference ignores, and says so', async () => {
    const folder = join(dir, 'hf-style');
    const out = join(dir, 'hf-style.safetensors');
    await convert(CKPT, folder, { to: 'diffusers', model });
    await rm(join(folder, 'sgm_extra.safetensors'));
    const unetConfig = join(folder, 'unet', 'config.json');
    const { num_frames: _, ...withoutFrames } = JSON.parse(await readFile(unetConfig, 'utf8'));
    await writeFile(unetConfig, JSON.stringify(withoutFrames));
    const notices: string[] = [];
    await convert(folder, out, { to: 'sgm', onNotice: (l) => notices.push(l) });
    assert.deepEqual(notices, [
      'no open_clip text-tower leftovers in the folder (no sgm_extra.safetensors); the sgm file has none (unused at inference)',
      'no first-stage encoder in the folder (no sgm_extra.safetensors); the sgm file has none (unused at inference)',
      'no conditioning autoencoder decoder and post_quant_conv in the folder (no sgm_extra.safetensors); the sgm file has none (unused at inference)',
    ]);
    const { tensors } = await readAll(out);
    assert.equal(tensors.size, 1073 - 180);
    const ignored = inferenceIgnoreGroups(model).flatMap((g) => g.patterns.map(ignoreMatcher));
    const held = new Map([...original].filter(([k]) => !ignored.some((m) => m(k))));
    assertSameTensors(tensors, held, 'HF-style folder');
  });
});

describe('dtype conversion', () => {
  for (const dtype of ['float16', 'bfloat16'] as const) {
    test(`sgm → diffusers ${dtype} → sgm: every tensor is the rounded original`, async () => {
      const folder = join(dir, `half-${dtype}`);
      const back = join(dir, `half-${dtype}.safetensors`);
      await convert(CKPT, folder, { to: 'diffusers', model, dtype });
      const cfg = JSON.parse(await readFile(join(folder, 'image_encoder', 'config.json'), 'utf8'));
      assert.equal(cfg.torch_dtype, dtype);
      await convert(folder, back, { to: 'sgm' });
      const want = new Map([...original].map(([k, t]) => [k, fromFloat32(t, dtype) as HostTensor]));
      assertSameTensors((await readAll(back)).tensors, want, dtype);
    });
  }

  test('sgm → sgm float16 needs no config; diffusers → diffusers keeps the folder configs', async () => {
    const half = join(dir, 'direct-f16.safetensors');
    await convert(CKPT, half, { to: 'sgm', dtype: 'float16' });
    const want = new Map([...original].map(([k, t]) => [k, fromFloat32(t, 'float16') as HostTensor]));
    assertSameTensors((await readAll(half)).tensors, want, 'sgm float16');
    const folder = join(dir, 'dd-src');
    const folder2 = join(dir, 'dd-bf16');
    await convert(CKPT, folder, { to: 'diffusers', model });
    await convert(folder, folder2, { to: 'diffusers', dtype: 'bfloat16' });
    const unet1 = await readFile(join(folder, 'unet', 'config.json'), 'utf8');
    assert.equal(await readFile(join(folder2, 'unet', 'config.json'), 'utf8'), unet1);
    const extra = (await readAll(join(folder2, 'sgm_extra.safetensors'))).tensors;
    assert.equal(extra.get('conditioner.embedders.0.open_clip.model.logit_scale')?.dtype, 'bfloat16');
  });
});

describe('the model decides the keys (sv3d: conditioning encoder at conditioner.embedders.1)', () => {
  const SV3D = `${GOLDEN_DIR}pipeline-sv3d-tiny/`;

  test('sv3d sgm → sgm with its config passes the strict check; the svd layout does not', async () => {
    const sv3d = loadModelConfig(`${SV3D}config.json`);
    const out = join(dir, 'sv3d-f16.safetensors');
    await convert(`${SV3D}checkpoint.safetensors`, out, { to: 'sgm', dtype: 'float16', model: sv3d });
    const { tensors } = await readAll(out);
    assert.equal(tensors.size, 740);
    assert.equal(tensors.get('conditioner.embedders.1.encoder.quant_conv.weight')?.dtype, 'float16');
    await assert.rejects(
      convert(`${SV3D}checkpoint.safetensors`, join(dir, 'sv3d-as-svd'), { to: 'sgm', model }),
      (err: unknown) =>
        err instanceof CheckpointError &&
        err.missing.some((k) => k.startsWith('conditioner.embedders.3.encoder.encoder.')) &&
        err.missing.includes('conditioner.embedders.3.encoder.quant_conv.weight'),
    );
  });

  test('sv3d → diffusers is refused with the reason (per-frame image decoder), nothing written', async () => {
    const sv3d = loadModelConfig(`${SV3D}config.json`);
    const out = join(dir, 'sv3d-diffusers');
    await assert.rejects(
      convert(`${SV3D}checkpoint.safetensors`, out, { to: 'diffusers', model: sv3d, configLabel: 'sv3d.json' }),
      (err: unknown) =>
        err instanceof CheckpointFormatError &&
        err.code === 'bad-config' &&
        /^sv3d\.json: cannot be written as diffusers: the first stage decoder is not the temporal VideoDecoder/.test(
          err.message,
        ),
    );
    assert.ok(!(await readdir(dir)).some((n) => n.startsWith('sv3d-diffusers')));
  });
});

describe('safety', () => {
  test('the released-SVD default does not fit the tiny checkpoint: strict error with a --config hint, nothing written', async () => {
    const out = join(dir, 'wrong-config');
    await assert.rejects(convert(CKPT, out, { to: 'diffusers' }), (err: unknown) => {
      assert.ok(err instanceof CheckpointError);
      assert.ok(err.missing.length > 0 && err.wrongShape.length > 0);
      assert.match(err.message, /\(model config: released SVD\): does not fit the preset svd \(\d+ keys missing/);
      assert.match(
        err.message,
        /this looks like a custom-size image-to-video model: pass its model config with --config$/,
      );
      return true;
    });
    assert.ok(!(await readdir(dir)).some((n) => n.startsWith('wrong-config')));
  });

  test('an existing output is refused', async () => {
    const out = join(dir, 'exists.safetensors');
    await convert(CKPT, out, { to: 'sgm' });
    await assert.rejects(
      convert(CKPT, out, { to: 'sgm' }),
      (err: unknown) =>
        err instanceof CheckpointFormatError && err.code === 'exists' && /already exists/.test(err.message),
    );
  });

  test('stopping midway removes the partial output; progress counts every tensor', async () => {
    const out = join(dir, 'aborted');
    const controller = new AbortController();
    const seen: ConvertProgress[] = [];
    await assert.rejects(
      convert(CKPT, out, {
        to: 'diffusers',
        model,
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p);
          if (p.tensorsDone === 700) controller.abort();
        },
      }),
      { name: 'AbortError' },
    );
    assert.equal(seen.length, 700);
    assert.equal(seen[0].tensorsTotal, 1081);
    assert.equal(
      seen[0].bytesTotal,
      [...original.values()].reduce((n, t) => n + t.data.byteLength, 0),
    );
    assert.ok(!(await readdir(dir)).some((n) => n.startsWith('aborted')), 'no output, no temporary folder');
  });
});
