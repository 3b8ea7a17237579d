/** Strict loading: missing, unexpected and wrong-shape keys are errors naming the keys; reference-ignored keys are notices. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { Params } from '../../src/nn/params.ts';
import type { Shape } from '../../src/tensor/shape.ts';
import { openCheckpoint } from '../../src/weights/checkpoint.ts';
import { CheckpointError, checkKeys, DEFAULT_IGNORE, ignoreMatcher } from '../../src/weights/checkpoint-check.ts';
import { checkpointConfigFromReference } from '../../src/weights/layouts/reference-config.ts';
import { svdCheckpointShapes } from '../../src/weights/layouts/sgm-state-dict.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const TINY = `${GOLDEN_DIR}pipeline-tiny/`;

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

/** The model's keys: everything of the tiny checkpoint but the groups the reference ignores. */
function tinyModelShapes(): Map<string, Shape> {
  const config = checkpointConfigFromReference(JSON.parse(readFileSync(`${TINY}config.json`, 'utf8')));
  const ignored = DEFAULT_IGNORE.flatMap((g) => g.patterns.map(ignoreMatcher));
  return new Map([...svdCheckpointShapes(config)].filter(([k]) => !ignored.some((m) => m(k))));
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
    assert.deepEqual(lines, ['ignoring 2 checkpoint keys: ignored pattern c']);
  });
});

describe('strict loading of the tiny checkpoint', () => {
  test('the keys the reference ignores are skipped with one notice line per group', async () => {
    const ckpt = await openCheckpoint(`${TINY}checkpoint.safetensors`);
    try {
      const lines: string[] = [];
      const r = checkKeys(ckpt.entries(), tinyModelShapes(), { onNotice: (l) => lines.push(l) });
      assert.equal(r.matched, 1073 - 180);
      assert.equal(lines.length, 3);
      assert.match(lines[0], /^ignoring 6 checkpoint keys: open_clip text-tower leftovers/);
      assert.match(lines[1], /^ignoring 70 checkpoint keys: first-stage encoder/);
      assert.match(lines[2], /^ignoring 104 checkpoint keys: conditioning autoencoder decoder and post_quant_conv/);
      // With nothing ignored, the same keys are unexpected.
      const e = catchError(() => checkKeys(ckpt.entries(), tinyModelShapes(), { ignore: [] }));
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
      const e = catchError(() => checkKeys(ckpt.entries(), model));
      assert.deepEqual(e.missing, ['model.diffusion_model.out.3.weight']);
      assert.deepEqual(e.unexpected, ['model.diffusion_model.out.2.bias']);
      assert.deepEqual(e.wrongShape, [{ key: 'model.diffusion_model.out.0.weight', actual: [32], expected: [64] }]);
      for (const key of ['out.3.weight', 'out.2.bias', 'out.0.weight']) assert.ok(e.message.includes(key), key);
    } finally {
      await ckpt.close();
    }
  });
});
