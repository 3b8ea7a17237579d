/**
 * Whole-model descriptions: presets and reference JSON configs declare exactly the released / golden checkpoint keys
 * (`declareModelParams`), and the groups the reference ignores at inference (`inferenceIgnoreGroups`) sit at the
 * model's own embedder indices.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { declareModelParams, inferenceIgnoreGroups } from '../../src/models/declare-params.ts';
import { condEncoderPrefix } from '../../src/models/description.ts';
import { PRESET_NAMES, PRESETS } from '../../src/models/presets.ts';
import { ModelConfigError } from '../../src/models/reference/errors.ts';
import { loadModelConfig, modelFromReferenceConfig } from '../../src/models/reference/model-config.ts';
import { formatShape } from '../../src/tensor/shape.ts';
import { ignoreMatcher, SafetensorsFile } from '../../src/weights/index.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';
import { readKeyTable } from '../helpers/manifest.ts';

const TINY = `${GOLDEN_DIR}pipeline-tiny/`;
const SV3D_SETS = ['pipeline-sv3d-tiny', 'pipeline-sv3d-u-tiny'];

function sameKeys(declared: ReadonlyMap<string, readonly number[]>, expected: ReadonlyMap<string, readonly number[]>) {
  const missing = [...expected.keys()].filter((k) => !declared.has(k));
  const extra = [...declared.keys()].filter((k) => !expected.has(k));
  const wrong = [...expected.keys()].filter(
    (k) => declared.has(k) && formatShape(declared.get(k)!) !== formatShape(expected.get(k)!),
  );
  assert.deepEqual(
    { missing: missing.slice(0, 5), extra: extra.slice(0, 5), wrong: wrong.slice(0, 5) },
    { missing: [], extra: [], wrong: [] },
    `${missing.length} missing, ${extra.length} extra, ${wrong.length} wrong`,
  );
}

async function checkpointShapes(path: string): Promise<Map<string, readonly number[]>> {
  const file = await SafetensorsFile.open(path);
  try {
    return new Map(file.names().map((n) => [n, file.info(n).shape]));
  } finally {
    await file.close();
  }
}

/** `keys` split by whether an ignore group of the model matches them. */
function byIgnored<T>(model: Parameters<typeof inferenceIgnoreGroups>[0], entries: Map<string, T>) {
  const matchers = inferenceIgnoreGroups(model).flatMap((g) => g.patterns.map(ignoreMatcher));
  const ignored = new Map([...entries].filter(([k]) => matchers.some((m) => m(k))));
  const kept = new Map([...entries].filter(([k]) => !ignored.has(k)));
  return { ignored, kept };
}

describe('released SVD', () => {
  for (const name of ['svd', 'svd-xt', 'svd-xt-1.1']) {
    test(`${name}: the declared tree is every key and shape of the reference manifests but the text leftovers`, () => {
      const tree = declareModelParams(PRESETS[name]);
      const expected = new Map<string, number[]>();
      for (const table of [
        'unet_keys_svd.tsv',
        'vae_keys_svd.tsv',
        'embedder3_keys_svd.tsv',
        'clip_visual_keys_svd.tsv',
      ]) {
        for (const [k, s] of readKeyTable(table)) expected.set(k, s);
      }
      assert.equal(expected.size, 1428 + 372 + 248 + 392);
      sameKeys(tree.shapes, expected);
      assert.equal(tree.count('model.diffusion_model.'), 1_524_623_082);
      assert.equal(tree.count('first_stage_model.'), 97_742_775);
      assert.equal(tree.count('conditioner.embedders.3.encoder.'), 83_653_863);
      assert.equal(tree.count('conditioner.embedders.0.open_clip.model.visual.'), 632_076_800);
      assert.equal(tree.count(), 2_338_096_520);
    });
  }

  test('the ignore groups cover exactly the text leftovers the model does not declare', () => {
    const leftovers = readKeyTable('clip_text_leftover_keys_svd.tsv');
    assert.equal(leftovers.size, 6);
    const { ignored } = byIgnored(PRESETS.svd, leftovers);
    assert.equal(ignored.size, 6);
    const tree = declareModelParams(PRESETS.svd);
    for (const k of leftovers.keys()) assert.ok(!tree.shapes.has(k), k);
    // The groups are placed by the embedder indices: svd's conditioning encoder is embedder 3.
    const patterns = inferenceIgnoreGroups(PRESETS.svd).flatMap((g) => g.patterns);
    assert.ok(patterns.includes('conditioner.embedders.3.encoder.decoder'));
    assert.ok(patterns.includes('first_stage_model.encoder'));
  });
});

test('every preset builds and reports its parameter count', () => {
  const counts: Record<string, number> = {};
  for (const name of PRESET_NAMES) counts[name] = declareModelParams(PRESETS[name]).count();
  // image-decoder variants: AutoencoderKL (encoder + quant convs + plain decoder) instead of the temporal decoder.
  assert.equal(counts['svd-image-decoder'], counts['svd-xt-image-decoder']);
  assert.ok(counts['svd-image-decoder'] < counts.svd);
  // sv3d: no first-stage encoder; adm 256 (u) or 1280 (p).
  assert.ok(counts['sv3d-u'] < counts['sv3d-p']);
  // the released sizes; svd-mini, the project's own model, is small (20.9 M)
  for (const [name, n] of Object.entries(counts)) {
    if (name === 'svd-mini') assert.ok(n > 1e7 && n < 2.2e7, `${name}: ${n}`);
    else assert.ok(n > 2e9, `${name}: ${n}`);
  }
});

test('sv3d presets place the conditioning encoder at conditioner.embedders.1 (svd: 3)', () => {
  for (const name of ['sv3d-p', 'sv3d-u']) {
    const model = PRESETS[name];
    assert.equal(condEncoderPrefix(model), 'conditioner.embedders.1.encoder', name);
    const keys = [...declareModelParams(model).shapes.keys()];
    assert.ok(
      keys.some((k) => k.startsWith('conditioner.embedders.1.encoder.encoder.conv_in.')),
      name,
    );
    assert.ok(!keys.some((k) => k.startsWith('conditioner.embedders.3.')), name);
    assert.ok(!keys.some((k) => k.startsWith('first_stage_model.encoder.')), `${name}: no first-stage encoder`);
    const patterns = inferenceIgnoreGroups(model).flatMap((g) => g.patterns);
    assert.ok(patterns.includes('conditioner.embedders.1.encoder.decoder'), name);
    assert.ok(!patterns.some((p) => p.startsWith('conditioner.embedders.3')), name);
  }
});

describe('reference JSON configs (golden sets)', () => {
  for (const set of ['pipeline-tiny', ...SV3D_SETS]) {
    test(`${set}: config.json declares exactly the checkpoint's keys and shapes but the ignored text leftovers`, async () => {
      const model = loadModelConfig(`${GOLDEN_DIR}${set}/config.json`);
      const declared = declareModelParams(model).shapes;
      const checkpoint = await checkpointShapes(`${GOLDEN_DIR}${set}/checkpoint.safetensors`);
      const undeclared = new Map([...checkpoint].filter(([k]) => !declared.has(k)));
      const { ignored, kept } = byIgnored(model, undeclared);
      assert.deepEqual([...kept.keys()], [], 'every checkpoint key the model does not declare is an ignored one');
      sameKeys(declared, new Map([...checkpoint].filter(([k]) => !ignored.has(k))));
      assert.deepEqual(
        [...ignored.keys()].map((k) => k.replace(/^conditioner\.embedders\.0\.open_clip\.model\./, '')).sort(),
        [
          'ln_final.bias',
          'ln_final.weight',
          'logit_scale',
          'positional_embedding',
          'text_projection',
          'token_embedding.weight',
        ],
      );
    });
  }

  test('pipeline-tiny: the dimensions of engine_config and clip_arch', () => {
    const m = loadModelConfig(`${TINY}config.json`);
    assert.deepEqual(m.unet.channelMult, [1, 2]);
    assert.equal(m.unet.numResBlocks, 1);
    assert.deepEqual(m.unet.attentionResolutions, [2, 1]);
    assert.equal(m.unet.numHeadChannels, 16);
    assert.equal(m.unet.admInChannels, 24);
    assert.equal(m.firstStage.kind === 'autoencoding-engine' && m.firstStage.decoder.chMult.join(), '1,1,1,1');
    assert.equal(m.clip.width, 32);
    assert.equal(m.clip.heads, 2);
    assert.deepEqual(
      m.embedders.map((e) => (e.kind === 'timestep' ? e.outdim : e.kind)),
      ['clip-image', 8, 8, 'cond-frames-encoder', 8],
    );
    assert.equal(m.sampling.numFrames, 4);
    assert.equal(m.sampling.maxCfg, 2.5);
  });

  test("a config's default size is the model's own: the preset's whose networks it describes, else the VAE's", () => {
    const json = () => JSON.parse(readFileSync(`${TINY}config.json`, 'utf8'));
    // The tiny golden config: its first stage's resolution, 64×64 (not the released models' 1024×576).
    assert.deepEqual(modelFromReferenceConfig(json()).sampling.size, [64, 64]);
    // Its own sampling.size wins.
    assert.deepEqual(modelFromReferenceConfig({ ...json(), sampling: { size: [96, 64] } }).sampling.size, [96, 64]);
    // A config with svd.yaml's UNet and first stage (ddconfig resolution 256) is the released model: 1024×576.
    const svd = json();
    const p = svd.engine_config.params;
    Object.assign(p.network_config.params, {
      model_channels: 320,
      channel_mult: [1, 2, 4, 4],
      attention_resolutions: [4, 2, 1],
      num_res_blocks: 2,
      num_head_channels: 64,
      context_dim: 1024,
      adm_in_channels: 768,
    });
    for (const part of ['encoder_config', 'decoder_config']) {
      Object.assign(p.first_stage_config.params[part].params, {
        ch: 128,
        ch_mult: [1, 2, 4, 4],
        num_res_blocks: 2,
        resolution: 256,
      });
    }
    assert.deepEqual(modelFromReferenceConfig(svd).sampling.size, [1024, 576]);
    // One channel fewer in the first stage: another model, its VAE's 256×256.
    p.first_stage_config.params.decoder_config.params.ch = 64;
    assert.deepEqual(modelFromReferenceConfig(svd).sampling.size, [256, 256]);
  });

  test('errors name the JSON path (and the file)', () => {
    const json = JSON.parse(readFileSync(`${TINY}config.json`, 'utf8'));
    delete json.engine_config.params.network_config.params.model_channels;
    assert.throws(
      () => modelFromReferenceConfig(json, 'my.json'),
      (e: unknown) =>
        e instanceof ModelConfigError &&
        /^engine_config\.params\.network_config\.params: .*model_channels is required/.test(e.message),
    );
    assert.throws(
      () => loadModelConfig(JSON.stringify(json)),
      (e: unknown) =>
        e instanceof ModelConfigError && /^--config: engine_config\.params\.network_config/.test(e.message),
    );
    assert.throws(() => modelFromReferenceConfig([], 'x.json'), ModelConfigError);
  });

  test('unsupported configs fail with a clear message', () => {
    const json = JSON.parse(readFileSync(`${TINY}config.json`, 'utf8'));
    json.engine_config.params.denoiser_config.params.scaling_config.target = 'sgm.EpsScaling';
    assert.throws(() => modelFromReferenceConfig(json), /denoiser scaling sgm\.EpsScaling is not supported/);
    assert.throws(() => modelFromReferenceConfig({ engine_config: {} }), /engine_config\.target must be/);
  });
});
