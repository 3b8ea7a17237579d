/**
 * The CLIP text tower and the checkpoint loader against open_clip v3.3.0's `CLIP.encode_text` / `encode_image`, run
 * by scripts/make-clip-vectors.py on a tiny random CLIP (vocabulary 634, text 16 wide × 2 layers × 2 heads, 77
 * tokens, image 28 px / patch 7): the same weights in open_clip's layout (GELU, `open_clip_config.json`) and in
 * transformers' `CLIPModel` layout (QuickGELU, `config.json`, q/k/v split, projections transposed). The configs come
 * from the files, the ids from the folder's vocabulary, and text embeddings, image embeddings and the cosine
 * similarities must match the reference within 1e-5 of max|ref| (the golden README's single-op bound; measured
 * errors are printed).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GraphBuilder } from '../../../src/graph/builder.ts';
import {
  CLIP_IMAGE_PREFIX,
  CLIP_TEXT_PREFIX,
  type ClipCheckpoint,
  ClipCheckpointError,
  clipConfigFromOpenClip,
  loadClipCheckpoint,
} from '../../../src/models/clip/clip-checkpoint.ts';
import { clipTextPoolIndex, clipTextTransformer } from '../../../src/models/clip/text-transformer.ts';
import { clipVisionTransformer } from '../../../src/models/clip/vision-transformer.ts';
import { Params } from '../../../src/nn/params.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { SafetensorsFile } from '../../../src/weights/index.ts';
import { assertClose } from '../../helpers/compare.ts';
import { createTestEngine } from '../../helpers/engine.ts';

const FIX = fileURLToPath(new URL('../../fixtures/clip/', import.meta.url));
const TOL = 1e-5;

async function embed(engine: Engine, ck: ClipCheckpoint, texts: readonly string[], pixels: HostTensor) {
  const text = ck.config.text!;
  const ids = ck.tokenizer!.tokenize(texts, text.contextLength);
  const tb = new GraphBuilder('clip_text');
  const root = new Params(tb);
  const out = clipTextTransformer(
    root.pp(CLIP_TEXT_PREFIX),
    tb.input('ids', ids.shape, 'int64'),
    tb.input('pool', [texts.length], 'int64'),
    text,
  );
  tb.output('y', out);
  const ib = new GraphBuilder('clip_image');
  ib.output(
    'y',
    clipVisionTransformer(new Params(ib).pp(CLIP_IMAGE_PREFIX), ib.input('x', pixels.shape), ck.config.vision),
  );
  await engine.setWeights(Object.fromEntries(ck.weights));
  const t = (await engine.run(tb.build(), { ids, pool: clipTextPoolIndex(ids) })).y;
  const i = (await engine.run(ib.build(), { x: pixels })).y;
  return { ids, text: t, image: i };
}

/** Cosine similarities [images, texts] of two embedding matrices, as open_clip's normalize + matmul. */
function cosine(img: HostTensor, txt: HostTensor): HostTensor {
  const [ni, d] = img.shape;
  const nt = txt.shape[0];
  const a = img.data as Float32Array;
  const b = txt.data as Float32Array;
  const norm = (x: Float32Array, r: number) => Math.hypot(...x.subarray(r * d, r * d + d));
  const out = new Float32Array(ni * nt);
  for (let i = 0; i < ni; i++) {
    for (let j = 0; j < nt; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += a[i * d + k] * b[j * d + k];
      out[i * nt + j] = s / (norm(a, i) * norm(b, j));
    }
  }
  return HostTensor.float32([ni, nt], out);
}

describe('CLIP text tower and checkpoints', () => {
  let engine: Engine;
  let ref: Map<string, HostTensor>;
  let texts: string[];

  before(async () => {
    engine = await createTestEngine();
    const f = await SafetensorsFile.open(`${FIX}reference.safetensors`);
    ref = await f.readAll();
    texts = JSON.parse(f.metadata.texts) as string[];
    await f.close();
  });
  after(async () => {
    await engine.dispose();
  });

  for (const [folder, act] of [
    ['tiny-openclip', 'gelu'],
    ['tiny-hf', 'quick_gelu'],
  ] as const) {
    test(`${folder}: config from the checkpoint; ids, text and image embeddings, similarities (${act})`, async () => {
      const ck = await loadClipCheckpoint(`${FIX}${folder}`);
      assert.equal(ck.files.layout, folder === 'tiny-hf' ? 'transformers' : 'open_clip');
      assert.equal(ck.config.vision.activation, act === 'gelu' ? undefined : 'quick_gelu');
      assert.equal(ck.config.text?.activation, act === 'gelu' ? undefined : 'quick_gelu');
      assert.deepEqual(
        { ...ck.config.text, activation: undefined },
        {
          contextLength: 77,
          vocabSize: 634,
          width: 16,
          heads: 2,
          layers: 2,
          mlpRatio: 4,
          outputDim: 16,
          layerNormEps: 1e-5,
          activation: undefined,
        },
      );
      assert.equal(ck.config.vision.imageSize, 28);
      assert.equal(ck.config.vision.heads, 2);
      const r = await embed(engine, ck, texts, ref.get('image.pixels')!);
      assert.deepEqual([...r.ids.data], [...ref.get('text.ids')!.data]);
      const et = assertClose(r.text, ref.get(`${act}.text`)!, TOL, `${act}.text`);
      const ei = assertClose(r.image, ref.get(`${act}.image`)!, TOL, `${act}.image`);
      const es = assertClose(cosine(r.image, r.text), ref.get(`${act}.similarity`)!, TOL, `${act}.similarity`);
      console.log(
        `  ${folder}: text ${et.toExponential(2)}, image ${ei.toExponential(2)}, cosine ${es.toExponential(2)}`,
      );
    });
  }

  test('the transformers layout reads into the same tensors as the open_clip layout (bit for bit)', async () => {
    const a = await loadClipCheckpoint(`${FIX}tiny-openclip`);
    const b = await loadClipCheckpoint(`${FIX}tiny-hf/model.safetensors`);
    assert.deepEqual([...a.weights.keys()].sort(), [...b.weights.keys()].sort());
    for (const [k, t] of a.weights) assert.deepEqual(b.weights.get(k)!.data, t.data, k);
  });

  test('image-only loading skips the text tower', async () => {
    const ck = await loadClipCheckpoint(`${FIX}tiny-hf`, { text: false });
    assert.equal(ck.config.text, undefined);
    assert.equal(ck.tokenizer, undefined);
    assert.ok([...ck.weights.keys()].every((k) => k.startsWith('visual.')));
  });

  test('errors: no config, a tensor missing, an unsupported open_clip option', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clip-ck-'));
    try {
      cpSync(`${FIX}tiny-hf/model.safetensors`, join(dir, 'model.safetensors'));
      await assert.rejects(loadClipCheckpoint(dir), /no open_clip_config\.json or config\.json/);
      const cfg = JSON.parse(readFileSync(`${FIX}tiny-hf/config.json`, 'utf8')) as {
        text_config: { num_hidden_layers: number };
      };
      cfg.text_config.num_hidden_layers = 3;
      writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
      await assert.rejects(
        loadClipCheckpoint(dir),
        (e: unknown) =>
          e instanceof ClipCheckpointError && /missing text\.transformer\.resblocks\.2\.ln_1\.weight/.test(e.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(
      () => clipConfigFromOpenClip({ embed_dim: 8, vision_cfg: { width: 64, layers: 1, attentional_pool: true } }),
      /attentional_pool/,
    );
  });
});
