/**
 * What a checkpoint looks like, from its keys and shapes (no tensor data: the entries are the models' declared
 * shapes), and the one-line advice for one that does not fit: the preset to pass (naming the presets that share a
 * network), `--config` for another size, `--lora` for a LoRA file, the folder for one part of a diffusers folder,
 * `svd orbit` / `svd generate` for the other kind of model; every key in `details`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { identifyCheckpoint } from '../../src/models/checkpoint-identify.ts';
import { explainMismatch, type ModelOrigin } from '../../src/models/checkpoint-mismatch.ts';
import { declareModelParams, inferenceIgnoreGroups } from '../../src/models/declare-params.ts';
import type { SvdModel } from '../../src/models/description.ts';
import { PRESETS } from '../../src/models/presets.ts';
import { loadModelConfig } from '../../src/models/reference/model-config.ts';
import type { Shape } from '../../src/tensor/shape.ts';
import { CheckpointError, checkKeys } from '../../src/weights/checkpoint-check.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

type Entries = Map<string, { shape: Shape }>;

/** A checkpoint's entries with exactly the model's declared keys and shapes. */
function entriesOf(model: SvdModel): Entries {
  return new Map([...declareModelParams(model).shapes].map(([k, shape]) => [k, { shape }]));
}

const golden = (set: string) => loadModelConfig(`${GOLDEN_DIR}${set}/config.json`);

/** The CheckpointError of `entries` checked against `model` (which they must not fit). */
function mismatch(entries: Entries, model: SvdModel): CheckpointError {
  try {
    checkKeys(entries, declareModelParams(model), { ignore: inferenceIgnoreGroups(model) });
  } catch (e) {
    assert.ok(e instanceof CheckpointError);
    return e;
  }
  assert.fail('the checkpoint fits the model');
}

/** The one-line message for `entries` checked against `model`, chosen as `origin`. */
function advice(entries: Entries, model: SvdModel, origin: ModelOrigin): string {
  return explainMismatch(mismatch(entries, model), 'ckpt.safetensors', entries, model, origin).message;
}

describe('identifyCheckpoint', () => {
  test('presets: the ones sharing a network all fit; SV3D is multi-view', () => {
    assert.deepEqual(identifyCheckpoint(entriesOf(PRESETS['svd-xt'])), {
      kind: 'preset',
      presets: ['svd', 'svd-xt', 'svd-xt-1.1', 'animatelcm-svd-xt'],
      multiView: false,
    });
    assert.deepEqual(identifyCheckpoint(entriesOf(PRESETS['svd-image-decoder'])), {
      kind: 'preset',
      presets: ['svd-image-decoder', 'svd-xt-image-decoder'],
      multiView: false,
    });
    assert.deepEqual(identifyCheckpoint(entriesOf(PRESETS['sv3d-p'])), {
      kind: 'preset',
      presets: ['sv3d-p'],
      multiView: true,
    });
    assert.deepEqual(identifyCheckpoint(entriesOf(PRESETS['svd-mini'])), {
      kind: 'preset',
      presets: ['svd-mini'],
      multiView: false,
    });
  });

  test('a preset checkpoint without the keys inference ignores still fits it', () => {
    const pruned = entriesOf(PRESETS['svd-mini']);
    for (const k of [...pruned.keys()]) if (k.startsWith('first_stage_model.encoder.')) pruned.delete(k);
    assert.deepEqual(identifyCheckpoint(pruned), { kind: 'preset', presets: ['svd-mini'], multiView: false });
  });

  test('other sizes: the family from the keys', () => {
    assert.deepEqual(identifyCheckpoint(entriesOf(golden('pipeline-tiny'))), {
      kind: 'custom',
      family: 'image-to-video',
    });
    assert.deepEqual(identifyCheckpoint(entriesOf(golden('pipeline-sv3d-tiny'))), {
      kind: 'custom',
      family: 'multi-view',
    });
    const tiny = golden('pipeline-tiny');
    const imageDecoder = { ...tiny, firstStage: { ...tiny.firstStage, videoDecoder: false } } as SvdModel;
    assert.deepEqual(identifyCheckpoint(entriesOf(imageDecoder)), {
      kind: 'custom',
      family: 'image-to-video-image-decoder',
    });
  });

  test('a LoRA file, a diffusers part, something else', () => {
    const lora: Entries = new Map([
      ['lora_unet_input_blocks_1_1_proj_in.lora_down.weight', { shape: [4, 320] }],
      ['lora_unet_input_blocks_1_1_proj_in.lora_up.weight', { shape: [320, 4] }],
      ['lora_unet_input_blocks_1_1_proj_in.alpha', { shape: [] }],
      ['lora_unet_middle_block_1_proj_out.lora_down.weight', { shape: [4, 1280] }],
      ['lora_unet_middle_block_1_proj_out.lora_up.weight', { shape: [1280, 4] }],
    ]);
    assert.deepEqual(identifyCheckpoint(lora), { kind: 'lora', modules: 2 });
    const unet: Entries = new Map([
      ['conv_in.weight', { shape: [320, 8, 3, 3] }],
      ['time_embedding.linear_1.weight', { shape: [1280, 320] }],
      ['down_blocks.0.resnets.0.conv1.weight', { shape: [320, 320, 3, 3] }],
    ]);
    assert.deepEqual(identifyCheckpoint(unet), { kind: 'diffusers-part', part: 'unet' });
    const vae: Entries = new Map([['encoder.down_blocks.0.resnets.0.conv1.weight', { shape: [128, 128, 3, 3] }]]);
    assert.deepEqual(identifyCheckpoint(vae), { kind: 'diffusers-part', part: 'vae' });
    const clip: Entries = new Map([['vision_model.embeddings.patch_embedding.weight', { shape: [1280, 3, 14, 14] }]]);
    assert.deepEqual(identifyCheckpoint(clip), { kind: 'diffusers-part', part: 'image_encoder' });
    assert.deepEqual(identifyCheckpoint(new Map([['cond_noise', { shape: [1, 3, 64, 64] }]])), { kind: 'not-svd' });
  });
});

describe('explainMismatch', () => {
  const svdXt: ModelOrigin = { kind: 'preset', name: 'svd-xt' };

  test('a preset checkpoint: which preset to pass, and the command for the other kind of model', () => {
    assert.equal(
      advice(entriesOf(PRESETS['svd-xt']), PRESETS['svd-image-decoder'], { kind: 'preset', name: 'svd-image-decoder' }),
      'ckpt.safetensors: does not fit the preset svd-image-decoder (4 keys missing, 128 unexpected): this looks ' +
        'like svd-xt, svd-xt-1.1 or svd (one network; 25 frames for the XT models, 14 for svd): pass --preset svd-xt',
    );
    assert.match(
      advice(entriesOf(PRESETS['svd-mini']), golden('pipeline-tiny'), { kind: 'config', config: 'tiny.json' }),
      /^ckpt\.safetensors: does not fit the --config model \(.*\): this looks like svd-mini: pass --preset svd-mini instead of --config$/,
    );
    assert.match(
      advice(entriesOf(PRESETS['sv3d-u']), PRESETS['svd-xt'], svdXt),
      /: this looks like sv3d-u: pass --preset sv3d-u with svd orbit$/,
    );
  });

  test('another size: --config, or the config it was made with; the other kind of model: the other command', () => {
    const tiny = entriesOf(golden('pipeline-tiny'));
    assert.match(
      advice(tiny, PRESETS['svd-xt'], svdXt),
      /: this looks like a custom-size image-to-video model: pass its model config with --config$/,
    );
    assert.match(
      advice(entriesOf(golden('pipeline-sv3d-tiny')), PRESETS['svd-xt'], svdXt),
      /: this looks like a custom-size multi-view \(SV3D\) model: pass its model config with --config with svd orbit$/,
    );
    assert.match(
      advice(tiny, golden('pipeline-sv3d-tiny'), { kind: 'config', config: 'sv3d.json' }),
      /: this looks like an image-to-video model, not the kind of model the config describes: use it with svd generate and the config it was made with \(--config\)$/,
    );
  });

  test('a few disagreeing keys are named; every one is in the details', () => {
    const changed = entriesOf(golden('pipeline-tiny'));
    const key = 'model.diffusion_model.out.2.bias';
    const n = changed.get(key)?.shape[0] ?? 0;
    changed.set(key, { shape: [n + 1] });
    assert.equal(
      advice(changed, golden('pipeline-tiny'), { kind: 'config', config: 'tiny.json' }),
      `ckpt.safetensors: does not fit the --config model (${key} is [${n + 1}], the model's [${n}]): this looks like ` +
        'an image-to-video model of another size than the config describes: pass the config it was made with (--config)',
    );
    assert.match(
      advice(changed, golden('pipeline-tiny'), { kind: 'diffusers-configs' }),
      /does not fit the model its own diffusers config\.json files describe .*: the folder is inconsistent/,
    );

    const model = PRESETS['svd-xt'];
    const e = mismatch(changed, model);
    const err = explainMismatch(e, 'ckpt.safetensors', changed, model, svdXt);
    assert.equal(err.name, 'CheckpointMismatchError');
    assert.ok(err instanceof CheckpointError, 'still a CheckpointError');
    assert.doesNotMatch(err.message, /model\.diffusion_model\./, 'no key in the one line');
    assert.deepEqual(
      err.details.filter((l) => !l.startsWith('  ')),
      [
        `missing from the checkpoint (${e.missing.length}):`,
        `unexpected in the checkpoint (${e.unexpected.length}):`,
        `of another shape (${e.wrongShape.length}):`,
      ],
    );
    assert.equal(err.details.length, 3 + e.missing.length + e.unexpected.length + e.wrongShape.length);
    assert.ok(err.details.includes(`  ${e.missing[0]}`));
  });
});
