/** The generation request: validated once, with field-level issues, for the CLI (strings) and JSON (numbers) alike. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PRESETS } from '../../src/models/presets.ts';
import { videoOutputPath } from '../../src/pipeline/generate-job.ts';
import {
  describeIssue,
  GenerateRequestError,
  type GenerateRequestInput,
  type ParseRequestOptions,
  parseGenerateRequest,
  resolveParams,
} from '../../src/pipeline/request.ts';

const OK: GenerateRequestInput = { image: 'in.png', checkpoint: 'model.safetensors' };

function issues(input: GenerateRequestInput, options: ParseRequestOptions = {}) {
  try {
    parseGenerateRequest({ ...OK, ...input }, options);
  } catch (e) {
    assert.ok(e instanceof GenerateRequestError, String(e));
    return e.issues.map((i) => ({ field: i.field, value: i.value, expected: i.expected }));
  }
  assert.fail('expected a GenerateRequestError');
}

describe('parseGenerateRequest', () => {
  test('strings from argv and numbers from JSON give the same request', () => {
    const fromArgv = parseGenerateRequest({ ...OK, frames: '8', maxCfg: '2.5', seed: '4', splitCfg: true });
    const fromJson = parseGenerateRequest({ ...OK, frames: 8, maxCfg: 2.5, seed: 4, splitCfg: true });
    assert.deepEqual(fromArgv, fromJson);
    assert.deepEqual(fromJson.overrides, { frames: 8, maxCfg: 2.5, splitCfg: true });
    assert.deepEqual(fromJson.seeds, [4]);
    // No preset named: resolveModel picks a diffusers folder's own configs, else svd-xt.
    assert.equal(fromJson.model.preset, undefined);
  });

  test('every bad field is reported with its name, value and what was expected', () => {
    assert.deepEqual(issues({ frames: '0', maxCfg: -1, sampler: 'ddim' }), [
      { field: 'frames', value: '0', expected: 'an integer from 1 to 1000' },
      { field: 'maxCfg', value: -1, expected: 'a number ≥ 0' },
      { field: 'sampler', value: 'ddim', expected: 'one of euler, heun, dpmpp-2m, lcm' },
    ]);
    assert.equal(
      describeIssue({ field: 'frames', value: '0', expected: 'an integer from 1 to 1000' }),
      'frames "0": expected an integer from 1 to 1000',
    );
  });

  test('contradictions are errors', () => {
    assert.equal(issues({ minCfg: 3, maxCfg: 1 })[0].field, 'minCfg');
    assert.equal(issues({ preset: 'svd', config: 'c.json' })[0].field, 'config');
    assert.equal(issues({ fps: 7, fpsId: 6 })[0].field, 'fpsId');
    assert.equal(issues({ seed: '1,2', noise: 'n.safetensors' })[0].field, 'noise');
    assert.equal(issues({ seed: '1,1' })[0].field, 'seed');
  });

  test('a missing image or checkpoint says what to give', () => {
    assert.deepEqual(
      issues({ image: undefined }).map((i) => i.field),
      ['image'],
    );
    const e = issues({ checkpoint: undefined }, { shipped: null });
    assert.equal(e[0].field, 'checkpoint');
    assert.match(e[0].expected, /checkpoint/);
  });

  test('seeds: a list, --num-videos from one seed, random (drawn and flagged)', () => {
    assert.deepEqual(parseGenerateRequest({ ...OK, seed: '1,2,3' }).seeds, [1, 2, 3]);
    assert.deepEqual(parseGenerateRequest({ ...OK, seed: [5, 9] }).seeds, [5, 9]);
    assert.deepEqual(parseGenerateRequest({ ...OK, seed: 10, numVideos: 3 }).seeds, [10, 11, 12]);
    assert.deepEqual(parseGenerateRequest({ ...OK, numVideos: 2 }).seeds, [23, 24]);
    const r = parseGenerateRequest({ ...OK, seed: 'random' });
    assert.equal(r.seedsDrawn, true);
    assert.ok(Number.isInteger(r.seeds[0]) && r.seeds[0] >= 0);
    assert.equal(issues({ seed: '1,2', numVideos: 3 })[0].field, 'numVideos');
    assert.equal(issues({ seed: '-1' })[0].field, 'seed');
  });

  test('several images; the model’s defaults fill what the request leaves out', () => {
    const r = parseGenerateRequest({ ...OK, image: ['a.png', 'b.png'], steps: 4 });
    assert.deepEqual(r.images, ['a.png', 'b.png']);
    const p = resolveParams(r, PRESETS['svd-xt'].sampling, 42);
    assert.equal(p.frames, 25);
    assert.equal(p.steps, 4);
    assert.equal(p.seed, 42);
    assert.equal(p.sampler, 'euler');
  });
});

describe('videoOutputPath', () => {
  test('one video keeps the name; several are numbered beside it', () => {
    assert.equal(videoOutputPath('clip.mp4', 0, 1), 'clip.mp4');
    assert.equal(videoOutputPath('out/clip.mp4', 1, 3), 'out/clip_01.mp4');
    assert.equal(videoOutputPath('clip.gif', 10, 120), 'clip_010.gif');
    assert.equal(videoOutputPath('frames/', 2, 3), 'frames/02/');
  });
});
