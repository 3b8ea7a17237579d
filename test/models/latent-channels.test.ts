/** withLatentChannels: one latent width through the first stage, the conditioning encoder and the UNet. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { declareModelParams } from '../../src/models/declare-params.ts';
import { findEmbedder } from '../../src/models/description.ts';
import { latentChannels, withLatentChannels } from '../../src/models/latent-channels.ts';
import { getPreset, SVD_MINI } from '../../src/models/presets.ts';

test('svd-mini has 16 latent channels; the released svd keeps 4', () => {
  assert.equal(latentChannels(SVD_MINI), 16);
  assert.equal(SVD_MINI.unet.inChannels, 32);
  assert.equal(latentChannels(getPreset('svd')), 4);
});

test('withLatentChannels(svd-mini, 4): every tensor that sees the latent has width 4, the rest unchanged', () => {
  const narrow = withLatentChannels(SVD_MINI, 4);
  const wide = new Map([...declareModelParams(SVD_MINI).shapes].map(([k, s]) => [k, s.join()]));
  const shapes = declareModelParams(narrow).shapes;
  assert.deepEqual([...shapes.keys()].sort(), [...wide.keys()].sort());
  assert.deepEqual(shapes.get('first_stage_model.encoder.conv_out.weight')!.slice(0, 2), [8, 128]);
  assert.deepEqual(shapes.get('first_stage_model.decoder.conv_in.weight')!.slice(0, 2), [64, 4]);
  assert.deepEqual(shapes.get('model.diffusion_model.input_blocks.0.0.weight')!.slice(0, 2), [64, 8]);
  assert.deepEqual(shapes.get('model.diffusion_model.out.2.weight')!.slice(0, 2), [4, 64]);
  assert.deepEqual(shapes.get('conditioner.embedders.3.encoder.quant_conv.weight')!.slice(0, 2), [8, 8]);
  const changed = [...shapes].filter(([k, s]) => wide.get(k) !== s.join()).map(([k]) => k);
  assert.ok(changed.length >= 5 && changed.length < 20, `${changed.length} tensors changed: ${changed.join(', ')}`);
  assert.equal(findEmbedder(narrow, 'cond-frames-encoder')!.autoencoder.embedDim, 4);
  assert.equal(withLatentChannels(SVD_MINI, 16), SVD_MINI);
  assert.throws(() => withLatentChannels(SVD_MINI, 0), /positive integer/);
});
