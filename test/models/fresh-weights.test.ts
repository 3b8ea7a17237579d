/**
 * Fresh weights (src/models/fresh-weights.ts): every declared key, PyTorch's default bounds for Linear/Conv weights and
 * biases, norms at 1/0, sgm's zero_module layers at 0, mix factors at their configured start, CLIP embeddings at
 * width^-½ scale, and the same values for the same seed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { declareModelParams } from '../../src/models/declare-params.ts';
import { freshWeights } from '../../src/models/fresh-weights.ts';
import { getPreset } from '../../src/models/presets.ts';

const model = getPreset('svd-mini');
const w = freshWeights(model, 3);

function maxAbs(k: string): number {
  let m = 0;
  for (const v of w.get(k)!.data as Float32Array) m = Math.max(m, Math.abs(v));
  return m;
}
function std(k: string): number {
  const d = w.get(k)!.data as Float32Array;
  let s = 0;
  for (const v of d) s += v * v;
  return Math.sqrt(s / d.length);
}

test('every declared parameter, with its shape', () => {
  const shapes = declareModelParams(model).shapes;
  assert.equal(w.size, shapes.size);
  for (const [k, s] of shapes) assert.deepEqual(w.get(k)!.shape, s, k);
});

test('Linear and Conv: U(±1/√fan_in) for weight and bias; norms 1 and 0', () => {
  const u = 'model.diffusion_model.input_blocks.1.0.in_layers.2';
  const [, cin, kh, kw] = w.get(`${u}.weight`)!.shape;
  const bound = 1 / Math.sqrt(cin * kh * kw);
  assert.ok(maxAbs(`${u}.weight`) <= bound && maxAbs(`${u}.weight`) > 0.95 * bound);
  assert.ok(maxAbs(`${u}.bias`) <= bound && maxAbs(`${u}.bias`) > 0);
  // uniform on (−b, b) has std b/√3
  assert.ok(Math.abs(std(`${u}.weight`) - bound / Math.sqrt(3)) < 0.05 * bound);
  const norm = 'model.diffusion_model.input_blocks.1.0.in_layers.0';
  assert.ok((w.get(`${norm}.weight`)!.data as Float32Array).every((v) => v === 1));
  assert.ok((w.get(`${norm}.bias`)!.data as Float32Array).every((v) => v === 0));
});

test("sgm's zero modules start at 0; mix factors at merge_factor (UNet) and alpha 0 (video decoder)", () => {
  const zero = [
    'model.diffusion_model.out.2.weight',
    'model.diffusion_model.input_blocks.1.0.out_layers.3.weight',
    'model.diffusion_model.input_blocks.1.0.time_stack.out_layers.3.weight',
    'model.diffusion_model.middle_block.1.proj_out.weight',
    'first_stage_model.decoder.mid.block_1.time_stack.out_layers.3.weight',
  ];
  for (const k of zero) assert.equal(maxAbs(k), 0, k);
  assert.ok(maxAbs('first_stage_model.encoder.mid.attn_1.proj_out.weight') > 0, 'the VAE attention is not zeroed');
  assert.equal(w.get('model.diffusion_model.input_blocks.1.0.time_mixer.mix_factor')!.data[0], model.unet.mergeFactor);
  assert.equal(w.get('first_stage_model.decoder.mid.block_1.mix_factor')!.data[0], 0);
});

test('CLIP: embeddings width^-½ · N(0, 1); attention in_proj xavier, biases 0; same seed, same values', () => {
  const v = 'conditioner.embedders.0.open_clip.model.visual';
  const s = std(`${v}.positional_embedding`);
  assert.ok(Math.abs(s - model.clip.width ** -0.5) < 0.1 * model.clip.width ** -0.5, `${s}`);
  const [out, inp] = w.get(`${v}.transformer.resblocks.0.attn.in_proj_weight`)!.shape;
  assert.ok(maxAbs(`${v}.transformer.resblocks.0.attn.in_proj_weight`) <= Math.sqrt(6 / (out + inp)));
  assert.equal(maxAbs(`${v}.transformer.resblocks.0.attn.in_proj_bias`), 0);
  const again = freshWeights(model, 3);
  const other = freshWeights(model, 4);
  const k = `${v}.positional_embedding`;
  assert.deepEqual(again.get(k)!.data, w.get(k)!.data);
  assert.notDeepEqual(other.get(k)!.data, w.get(k)!.data);
});
