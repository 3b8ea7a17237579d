/** Strict loading: missing, unexpected and wrong-shape keys are errors naming the keys; reference-ignored keys are notices. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { declareModelParams, inferenceIgnoreGroups } from '../../src/models/declare-params.ts';
import { loadModelConfig } from '../../src/models/reference/model-config.ts';
import { Params } from '../../src/nn/params.ts';
import type { Shape } from '../../src/tensor/shape.ts';
import { openCheckpoint } from '../../src/weights/checkpoint.ts';
import { CheckpointError, checkKeys, ignoreMatcher } from '../../src/weights/checkpoint-check.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const TINY = `${GOLDEN_DIR}pipeline-tiny/`;
const tinyModel = () => loadModelConfig(`${TINY}config.json`);

const entries = (shapes: Record<string, Shape>) =>
  new Map(Object.entries(shapes).map(([k, shape]) => [k, { dtype: 'float32' as const, shape }]));

function catchError(fn: () => unknown): CheckpointError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CheckpointError, String(err));
    assert.ok(!err.message.includes('\n'), 'one-line message');
    return err;
  }
  assert.fail('expected a CheckpointError');
}

/**
 * The tiny model's keys without the groups the reference ignores (as a loader that builds only what inference
 * uses would declare them), so that every ignore group has keys to skip.
 */
function tinyModelShapes(): Map<string, Shape> {
  const ignored = inferenceIgnoreGroups(tinyModel()).flatMap((g) => g.patterns.map(ignoreMatcher));
  return new Map([...declareModelParams(tinyModel()).shapes].filter(([k]) => !ignored.some((m) => m(k))));
}

describe('checkKeys', () => {
  const model = new Map<string, Shape>([
    ['a.weight', [2, 3]],
    ['a.bias', [2]],
    ['b.weight', [4]],
  ]);

  test('passes when keys and shapes match, and reports the count', () => {
    const r = checkKeys(entries({ 'a.weight': [2, 3], 'a.bias': [2], 'b.weight': [4] }), model);
    assert.equal(r.matched, 3);
    assert.equal(r.ignored.size, 0);
  });

  test('a missing key is named', () => {
    const e = catchError(() => checkKeys(entries({ 'a.weight': [2, 3], 'a.bias': [2] }), model, { label: 'ckpt' }));
    assert.deepEqual(e.missing, ['b.weight']);
    assert.deepEqual([e.unexpected, e.wrongShape], [[], []]);
    assert.equal(e.message, 'ckpt: checkpoint does not match the model: 1 missing (b.weight)');
  });

  test('an unexpected key is named', () => {
    const e = catchError(() =>
      checkKeys(entries({ 'a.weight': [2, 3], 'a.bias': [2], 'b.weight': [4], 'c.extra': [1] }), model),
    );
    assert.deepEqual(e.unexpected, ['c.extra']);
    assert.match(e.message, /1 unexpected \(c\.extra\)/);
  });

  test('a wrong shape is named with both shapes', () => {
    const e = catchError(() => checkKeys(entries({ 'a.weight': [3, 2], 'a.bias': [2], 'b.weight': [4] }), model));
    assert.deepEqual(e.wrongShape, [{ key: 'a.weight', actual: [3, 2], expected: [2, 3] }]);
    assert.match(e.message, /1 with the wrong shape \(a\.weight: checkpoint \[3, 2\], model \[2, 3\]\)/);
  });

  test('every kind at once; long lists show 10 keys and the count', () => {
    const many: Record<string, Shape> = { 'a.weight': [9], 'a.bias': [2] };
    for (let i = 0; i < 25; i++) many[`extra.${i}`] = [1];
    const e = catchError(() => checkKeys(entries(many), model));
    assert.deepEqual(e.missing, ['b.weight']);
    assert.equal(e.unexpected.length, 25);
    assert.equal(e.wrongShape.length, 1);
    assert.match(e.message, /25 unexpected \(extra\.0, .*extra\.9, … and 15 more\)/);
    assert.ok(!e.message.includes('extra.10'));
  });

  test('accepts a ParamTree', () => {
    const p = new Params(new GraphBuilder('t'));
    p.pp('a').get('weight', [2, 3]);
    p.pp('a').declare('bias', [2]);
    assert.equal(checkKeys(entries({ 'a.weight': [2, 3], 'a.bias': [2] }), p.tree).matched, 2);
    const e = catchError(() => checkKeys(entries({ 'a.weight': [2, 3] }), p.tree));
    assert.deepEqual(e.missing, ['a.bias']);
  });

  test('ignore patterns: prefixes match whole segments, globs match anywhere', () => {
    const m = ignoreMatcher('first_stage_model.encoder');
    assert.ok(m('first_stage_model.encoder.conv_in.weight'));
    assert.ok(!m('first_stage_model.encoder_x.weight'));
    assert.ok(!m('first_stage_model.decoder.conv_in.weight'));
    const g = ignoreMatcher('*.num_batches_tracked');
    assert.ok(g('a.b.num_batches_tracked'));
    assert.ok(!g('a.b.weight'));
    const lines: string[] = [];
    const r = checkKeys(
      entries({ 'a.weight': [2, 3], 'a.bias': [2], 'b.weight': [4], 'c.x': [1], 'c.y': [1] }),
      model,
      {
        ignore: ['c'],
        onNotice: (l) => lines.push(l),
      },
    );
    assert.deepEqual(r.ignored.get('ignored pattern c'), ['c.x', 'c.y']);
    assert.deepEqual(lines, ['ignoring 2 checkpoint keys under c: ignored pattern c']);
  });

  test('with no ignore option every key is checked', () => {
    const e = catchError(() =>
      checkKeys(
        entries({ 'a.weight': [2, 3], 'a.bias': [2], 'b.weight': [4], 'first_stage_model.encoder.x': [1] }),
        model,
      ),
    );
    assert.deepEqual(e.unexpected, ['first_stage_model.encoder.x']);
  });
});

describe('strict loading of the tiny checkpoint', () => {
  test('the keys the reference ignores are skipped with one notice line per group', async () => {
    const ckpt = await openCheckpoint(`${TINY}checkpoint.safetensors`);
    try {
      const lines: string[] = [];
      const ignore = inferenceIgnoreGroups(tinyModel());
      const r = checkKeys(ckpt.entries(), tinyModelShapes(), { ignore, onNotice: (l) => lines.push(l) });
      assert.equal(r.matched, 1073 - 180);
      assert.deepEqual(
        lines.map((l) => l.split(' (')[0]),
        [
          'ignoring 6 checkpoint keys under conditioner.embedders.0.open_clip.model: open_clip text-tower leftovers',
          'ignoring 70 checkpoint keys under first_stage_model.encoder: first-stage encoder',
          'ignoring 104 checkpoint keys under conditioner.embedders.3.encoder: conditioning autoencoder decoder and post_quant_conv',
        ],
      );
      // With nothing ignored, the same keys are unexpected.
      const e = catchError(() => checkKeys(ckpt.entries(), tinyModelShapes()));
      assert.equal(e.unexpected.length, 180);
      assert.ok(e.unexpected.includes('conditioner.embedders.0.open_clip.model.logit_scale'));
    } finally {
      await ckpt.close();
    }
  });

  test('a model key the checkpoint lacks, a stray key and a wrong shape are all reported', async () => {
    const ckpt = await openCheckpoint(`${TINY}checkpoint.safetensors`);
    try {
      const model = tinyModelShapes();
      model.set('model.diffusion_model.out.3.weight', [4]);
      model.delete('model.diffusion_model.out.2.bias');
      model.set('model.diffusion_model.out.0.weight', [64]);
      const e = catchError(() => checkKeys(ckpt.entries(), model, { ignore: inferenceIgnoreGroups(tinyModel()) }));
      assert.deepEqual(e.missing, ['model.diffusion_model.out.3.weight']);
      assert.deepEqual(e.unexpected, ['model.diffusion_model.out.2.bias']);
      assert.deepEqual(e.wrongShape, [{ key: 'model.diffusion_model.out.0.weight', actual: [32], expected: [64] }]);
      for (const key of ['out.3.weight', 'out.2.bias', 'out.0.weight']) assert.ok(e.message.includes(key), key);
    } finally {
      await ckpt.close();
    }
  });
});
