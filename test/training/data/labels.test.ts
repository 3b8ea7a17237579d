/**
 * Micro-condition labels: the motion-score → bucket mapping (monotone, clamped to 0–255, the documented scale),
 * the precedence of an explicit bucket, and fps_id = round(fps) − 1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_MOTION_BUCKET,
  MOTION_SCORE_SCALE,
  motionBucketFromScore,
} from '../../../src/conditioning/motion-bucket.ts';
import { fpsIdFromFps, motionBucketOf } from '../../../src/training/data/labels.ts';

test('motionBucketFromScore: linear with the documented scale, rounded, clamped to [0, 255]', () => {
  assert.equal(MOTION_SCORE_SCALE, 2550);
  assert.equal(motionBucketFromScore(0), 0);
  assert.equal(motionBucketFromScore(0.01), 26, '0.01 · 2550 = 25.5 rounds to 26');
  assert.equal(motionBucketFromScore(127 / 2550), 127);
  assert.equal(motionBucketFromScore(0.1), 255, 'a tenth of the diagonal per half second saturates');
  assert.equal(motionBucketFromScore(3), 255);
  assert.equal(motionBucketFromScore(Number.POSITIVE_INFINITY), 255);
  assert.equal(motionBucketFromScore(-0.2), 0);
  assert.equal(motionBucketFromScore(0.05, 1000), 50, 'another scale');
  assert.throws(() => motionBucketFromScore(Number.NaN), /NaN/);
  assert.throws(() => motionBucketFromScore(0.1, 0), /scale/);
});

test('motionBucketFromScore is monotone and integer over the whole range', () => {
  let previous = -1;
  for (let s = -0.01; s <= 0.12; s += 0.0001) {
    const b = motionBucketFromScore(s);
    assert.ok(Number.isInteger(b) && b >= 0 && b <= 255, `bucket ${b} at ${s}`);
    assert.ok(b >= previous, `not monotone at score ${s}: ${previous} → ${b}`);
    previous = b;
  }
  assert.equal(previous, 255);
});

test('motionBucketOf: an explicit bucket wins, then the score, then the default 127', () => {
  const base = { id: 'a', path: '/a.mp4', start: 0 };
  assert.equal(motionBucketOf({ ...base, motionBucket: 3, motionScore: 0.09 }), 3);
  assert.equal(motionBucketOf({ ...base, motionScore: 0.02 }), 51);
  assert.equal(motionBucketOf(base), DEFAULT_MOTION_BUCKET);
  assert.equal(motionBucketOf(base, 40), 40);
});

test('fpsIdFromFps: the reference convention fps − 1, rounded, never negative', () => {
  assert.equal(fpsIdFromFps(7), 6);
  assert.equal(fpsIdFromFps(30), 29);
  assert.equal(fpsIdFromFps(29.97 / 2), 14);
  assert.equal(fpsIdFromFps(0.4), 0);
  assert.throws(() => fpsIdFromFps(0), /positive/);
});
