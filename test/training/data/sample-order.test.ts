/**
 * Sample order and per-sample choices: a seeded permutation per epoch, an exact resume from a saved position, and
 * choices that depend only on (seed, epoch, index); windows chosen inside the clip at allowed rates.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/tensor/rng.ts';
import {
  checkWindowSpec,
  drawChoices,
  resolveWindow,
  type SampleChoices,
  windowKey,
} from '../../../src/training/data/choices.ts';
import type { ResolvedRecord } from '../../../src/training/data/record.ts';
import { SampleOrder, type SamplePosition } from '../../../src/training/data/sample-order.ts';
import { VideoInputError } from '../../../src/video/errors.ts';

test('each epoch is a permutation; epochs differ; the seed fixes the order', () => {
  const order = new SampleOrder(50, 7);
  const epochs: number[][] = [];
  for (let e = 0; e < 3; e++) {
    const seen: number[] = [];
    for (let i = 0; i < 50; i++) {
      const step = order.next();
      assert.deepEqual(step.position, { epoch: e, index: i });
      seen.push(step.record);
    }
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i),
      `epoch ${e} visits every record once`,
    );
    epochs.push(seen);
  }
  assert.notDeepEqual(epochs[0], epochs[1]);
  assert.notDeepEqual(
    epochs[0],
    Array.from({ length: 50 }, (_, i) => i),
    'shuffled',
  );
  assert.deepEqual([...new SampleOrder(50, 7).permutation(1)], epochs[1], 'same seed, same order');
  assert.notDeepEqual([...new SampleOrder(50, 8).permutation(0)], epochs[0], 'another seed, another order');
  // the permutation is the sort of the documented keys
  const keys = new Rng(7).uint32('order.0', 50);
  const expected = Array.from({ length: 50 }, (_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);
  assert.deepEqual(epochs[0], expected);
});

test('a resumed order continues with exactly the next sample', () => {
  const full = new SampleOrder(13, 99);
  const reference = Array.from({ length: 40 }, () => full.next());
  for (const stop of [0, 5, 12, 13, 27]) {
    const first = new SampleOrder(13, 99);
    for (let i = 0; i < stop; i++) first.next();
    const saved = JSON.parse(JSON.stringify(first.position)) as SamplePosition;
    const resumed = new SampleOrder(13, 99, saved);
    const rest = Array.from({ length: 40 - stop }, () => resumed.next());
    assert.deepEqual(rest, reference.slice(stop), `resumed after ${stop} samples`);
  }
  assert.throws(() => new SampleOrder(13, 99, { epoch: 0, index: 13 }), /index must be below 13/);
  assert.throws(() => new SampleOrder(0, 1), /at least one record/);
});

test('choices depend on (seed, epoch, index) only, not on the order of the draws', () => {
  const rng = new Rng(5);
  const positions = [
    { epoch: 0, index: 0 },
    { epoch: 0, index: 1 },
    { epoch: 1, index: 0 },
  ];
  const forward = positions.map((p) => drawChoices(rng, p));
  const backward = [...positions].reverse().map((p) => drawChoices(new Rng(5), p));
  assert.deepEqual(forward, backward.reverse());
  assert.notDeepEqual(forward[0], forward[1]);
  assert.notDeepEqual(forward[0], forward[2]);
  for (const c of forward) for (const u of Object.values(c).flat()) assert.ok(u > 0 && u < 1);
});

const clip: ResolvedRecord = { id: 'c', path: '/c.mp4', start: 2, end: 6, fps: 30 };
const mid: SampleChoices = {
  fps: 0.5,
  start: 0.5,
  cropX: 0.25,
  cropY: 0.75,
  flip: 0.3,
  colour: [0.1, 0.5, 0.9],
  order: 0.7,
};

test('resolveWindow: rates up to the native one that fit, start inside the clip', () => {
  const spec = { frames: 14, rate: { fps: [4, 8, 12, 60] } };
  // 60 fps is above the native 30 (left out); 14 frames at 4 fps span 13/4 + 1/30 = 3.28 s ≤ 4 s: all three fit
  const picks = [0.01, 0.4, 0.99].map((u) => resolveWindow(clip, { ...mid, fps: u }, spec).fps);
  assert.deepEqual(picks, [4, 8, 12]);
  const w = resolveWindow(clip, { ...mid, fps: 0.01, start: 0.999999 }, spec);
  assert.ok(w.start >= 2 && w.start + 13 / 4 + 1 / 30 <= 6 + 1e-6, `window from ${w.start} fits in [2, 6]`);
  assert.deepEqual(resolveWindow(clip, { ...mid, start: 0.000001 }, spec).start.toFixed(3), '2.000');
  assert.deepEqual(w.crop, { x: 0.25, y: 0.75 });
  assert.equal(w.flip, false, 'no flipping by default');
  assert.equal(resolveWindow(clip, mid, { ...spec, flipProbability: 0.5 }).flip, true);
  assert.deepEqual(resolveWindow(clip, mid, { ...spec, randomCrop: false }).crop, { x: 0.5, y: 0.5 });
  // shorter clip: only the faster rates fit (14 frames at 4 fps need 3.28 s)
  const short = { ...clip, end: 4 };
  assert.deepEqual(
    [0.01, 0.99].map((u) => resolveWindow(short, { ...mid, fps: u }, spec).fps),
    [8, 12],
  );
  assert.equal(resolveWindow(clip, mid, { frames: 4, rate: { stride: [3] } }).fps, 10);
  assert.throws(
    () => resolveWindow({ ...clip, end: 2.2 }, mid, spec),
    (e: unknown) =>
      e instanceof VideoInputError && e.reason === 'too-short' && /too short for 14 frames/.test(e.message),
  );
  assert.equal(windowKey(w), `f4_t14_s${w.start.toFixed(6)}_c0.2500x0.7500_n`);
});

test('drawChoices: the colour uniforms and then the channel order come after the first five, which stay as they were', () => {
  const rng = new Rng(5);
  const c = drawChoices(rng, { epoch: 0, index: 3 });
  const u = new Rng(5).uniform('sample.0.3', 9);
  assert.deepEqual([...new Rng(5).uniform('sample.0.3', 8)], [...u.subarray(0, 8)]);
  assert.deepEqual([c.fps, c.start, c.cropX, c.cropY, c.flip], [...u.subarray(0, 5)]);
  assert.deepEqual(c.colour, [...u.subarray(5, 8)]);
  assert.equal(c.order, u[8]);
});

test('resolveWindow: a channel order from the order uniform only with channelShuffle, all six orders reached', () => {
  const spec = { frames: 14, rate: { fps: [8] } };
  assert.equal(resolveWindow(clip, mid, spec).channels, undefined);
  const orders = [0, 0.17, 0.34, 0.5, 0.67, 0.84, 0.999999].map(
    (order) => resolveWindow(clip, { ...mid, order }, { ...spec, channelShuffle: true }).channels!,
  );
  assert.deepEqual(orders[0], [0, 1, 2]);
  assert.deepEqual(orders[4], [2, 0, 1]);
  assert.equal(new Set(orders.map((o) => o.join(''))).size, 6);
  for (const o of orders) assert.deepEqual([...o].sort(), [0, 1, 2]);
  const w = resolveWindow(clip, { ...mid, order: 0.7 }, { ...spec, channelShuffle: true });
  assert.match(windowKey(w), /_n_p201$/);
});

test('resolveWindow: gains 1 ± a from the colour uniforms only with a colour jitter; refused outside [0, 1)', () => {
  const spec = { frames: 14, rate: { fps: [8] } };
  assert.equal(resolveWindow(clip, mid, spec).gains, undefined);
  const w = resolveWindow(clip, mid, { ...spec, colourJitter: 0.25 });
  assert.deepEqual(w.gains, [1 + 0.25 * (0.2 - 1), 1, 1 + 0.25 * (1.8 - 1)]);
  assert.notEqual(windowKey(w), windowKey(resolveWindow(clip, mid, spec)));
  assert.throws(() => checkWindowSpec({ ...spec, colourJitter: 1 }), /colourJitter must be in \[0, 1\), got 1/);
});
