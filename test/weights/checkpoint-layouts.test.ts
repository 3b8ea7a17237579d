/**
 * The diffusers key layout is pure key renaming: block structure + the sgm prefixes of the pieces. A folder's layout
 * (read from its configs' block-structure fields, SVD prefixes) is the layout of the model it was written from.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diffusersConfigs, keyLayoutForModel } from '../../src/models/diffusers-config.ts';
import { PRESETS } from '../../src/models/presets.ts';
import { loadModelConfig } from '../../src/models/reference/model-config.ts';
import { CheckpointFormatError } from '../../src/weights/checkpoint-errors.ts';
import {
  diffusersHeldSources,
  keyLayoutFromDiffusersConfigs,
  SVD_DIFFUSERS_PREFIXES,
  sgmKeyToDiffusers,
} from '../../src/weights/layouts/diffusers-layout.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const tiny = () => loadModelConfig(`${GOLDEN_DIR}pipeline-tiny/config.json`);

describe('diffusers key layout', () => {
  test('the SVD prefixes of a diffusers folder are those of the svd preset', () => {
    assert.deepEqual(keyLayoutForModel(PRESETS.svd).prefixes, SVD_DIFFUSERS_PREFIXES);
    assert.deepEqual(diffusersHeldSources(SVD_DIFFUSERS_PREFIXES), {
      unet: 'model.diffusion_model.',
      vaeEncoder: 'conditioner.embedders.3.encoder.encoder.',
      quantConv: 'conditioner.embedders.3.encoder.quant_conv.',
      vaeDecoder: 'first_stage_model.decoder.',
      clipVisual: 'conditioner.embedders.0.open_clip.model.visual.',
    });
  });

  test("a folder's configs give the key layout of the model they were written from (released SVD, tiny)", () => {
    for (const model of [PRESETS.svd, PRESETS['svd-xt'], tiny()]) {
      assert.deepEqual(keyLayoutFromDiffusersConfigs(diffusersConfigs(model)), keyLayoutForModel(model), model.name);
    }
    assert.deepEqual(keyLayoutForModel(PRESETS.svd).unet, {
      numResBlocks: [2, 2, 2, 2],
      attention: [true, true, true, false],
    });
    assert.deepEqual(keyLayoutForModel(tiny()).vae, { numLevels: 4 });
  });

  test('absent fields take the diffusers class defaults; a bad field names its config.json', () => {
    const layout = keyLayoutFromDiffusersConfigs({ unet: {}, vae: {}, image_encoder: {} });
    assert.deepEqual(layout.unet, { numResBlocks: [2, 2, 2, 2], attention: [true, true, true, false] });
    assert.deepEqual(layout.vae, { numLevels: 1 });
    assert.throws(
      () => keyLayoutFromDiffusersConfigs({ unet: { layers_per_block: [1, 2] }, vae: {}, image_encoder: {} }, 'dir'),
      (e: unknown) =>
        e instanceof CheckpointFormatError &&
        e.code === 'bad-config' &&
        e.message === 'dir/unet/config.json: "layers_per_block" must be an integer or a list of 4 integers',
    );
  });

  test("the prefixes follow the model: sv3d's conditioning encoder is embedder 1", () => {
    const layout = keyLayoutForModel(PRESETS['sv3d-p']);
    assert.equal(layout.prefixes.condEncoder, 'conditioner.embedders.1.encoder');
    assert.deepEqual(sgmKeyToDiffusers('conditioner.embedders.1.encoder.quant_conv.weight', layout), {
      component: 'vae',
      keys: ['quant_conv.weight'],
      transform: { kind: 'copy' },
    });
    assert.equal(sgmKeyToDiffusers('conditioner.embedders.3.encoder.quant_conv.weight', layout), undefined);
    // A model without the piece: its keys have no diffusers place.
    const noClip = { ...layout, prefixes: { ...layout.prefixes, clipVisual: undefined } };
    assert.equal(sgmKeyToDiffusers('conditioner.embedders.0.open_clip.model.visual.proj', noClip), undefined);
  });
});
