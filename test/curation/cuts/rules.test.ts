/**
 * The decision rules on hand-made score sequences (PySceneDetect 0.7.1 semantics, worked out by hand in the
 * comments), the score on a hand-computed pair of frames, the cascade's strides, localisation and merging on
 * synthetic frames, the analysis size, clips, the TransNetV2 interface and option checks.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analysisSize, roundHalfEven } from '../../../src/curation/cuts/analysis-size.ts';
import {
  AdaptiveCutDetector,
  type CascadeCut,
  CascadeCutDetector,
  ContentCutDetector,
  levelStride,
  localise,
  mergeLevels,
} from '../../../src/curation/cuts/cascade.ts';
import { ContentScorer } from '../../../src/curation/cuts/content.ts';
import { CutDetectorError, TransNetV2CutDetector } from '../../../src/curation/cuts/cut-detector.ts';
import { AdaptiveRule, ContentRule, FlashFilter } from '../../../src/curation/cuts/detectors.ts';
import { clipsFromCuts } from '../../../src/curation/cuts/split.ts';
import { frameStreamOf } from '../../../src/curation/frames.ts';

/** Runs a rule over `scores` (frame i has scores[i]); returns [cut, frame at which it was reported]. */
function run(rule: { push(frame: number, score: number): readonly number[] }, scores: number[]): number[][] {
  const out: number[][] = [];
  scores.forEach((s, i) => {
    for (const c of rule.push(i, s)) out.push([c, i]);
  });
  return out;
}

/** `length` frames of `base` with `value` at the given frames. */
function seq(length: number, base: number, spikes: Record<number, number>): number[] {
  return Array.from({ length }, (_, i) => spikes[i] ?? base);
}

describe('ContentDetector rule and FlashFilter', () => {
  // Above the threshold at 10, 20, 40, 45, 62, 100, 105, 200 (min_scene_len 15).
  const scores = seq(240, 1, { 10: 50, 20: 50, 40: 50, 45: 50, 62: 50, 100: 50, 105: 50, 200: 50 });

  test('merge (default): early cuts restart the clock, close cuts merge into the last one, reported late', () => {
    // 10 and 20 come within 15 frames of the last above-threshold frame (frame 0, then 10): no cut, clock moves on.
    // 40: 20 frames after 20 → cut. 45: too soon → merge starts at 45; 62 extends it; at 77 (15 below after 62, and
    // the merge spans 62 − 45 = 17 ≥ 15) the cut 62 is reported. 100 → cut. 105 starts a merge that never lasts 15
    // frames, until 200 extends it: 200 is reported at 215.
    assert.deepEqual(run(new ContentRule(), scores), [
      [40, 40],
      [62, 77],
      [100, 100],
      [200, 215],
    ]);
  });

  test('suppress: a cut needs min_scene_len frames since the last cut', () => {
    assert.deepEqual(
      run(new ContentRule({ filterMode: 'suppress' }), scores).map(([c]) => c),
      [20, 40, 62, 100, 200],
    );
  });

  test('threshold is ≥; min_scene_len 0 reports every frame above it', () => {
    const s = seq(40, 0, { 5: 27, 6: 26.999, 20: 30, 21: 30 });
    assert.deepEqual(
      run(new ContentRule({ minSceneLen: 0 }), s).map(([c]) => c),
      [5, 20, 21],
    );
    assert.deepEqual(
      run(new ContentRule(), s).map(([c]) => c),
      [20],
    );
  });

  test('a flash inside a scene (two cuts 2 frames apart) is one merged cut', () => {
    const f = new FlashFilter('merge', 15);
    const got: number[][] = [];
    for (let t = 0; t < 120; t++) {
      const above = t === 30 || t === 60 || t === 62;
      for (const c of f.filter(t, above)) got.push([c, t]);
    }
    // 30 is a cut; 60 is a cut; 62 starts a merge that never spans 15 frames: nothing more is reported.
    assert.deepEqual(got, [
      [30, 30],
      [60, 60],
    ]);
  });
});

describe('AdaptiveDetector rule', () => {
  test('ratio to the neighbours, decided window_width frames later, min_scene_len counted from the current frame', () => {
    const rule = new AdaptiveRule();
    // Spikes of 40 over a floor of 5: ratio 40 / 5 = 8 ≥ 3 and 40 ≥ 15.
    const got = run(rule, seq(60, 5, { 20: 40, 30: 40, 34: 40 }));
    // 20 is decided at 22 (22 − 0 ≥ 15). 30 at 32: 32 − 20 = 12 < 15, no. 34 at 36: 36 − 20 = 16 ≥ 15 → a cut only
    // 14 frames after the previous one (PySceneDetect compares the current frame, not the target).
    assert.deepEqual(got, [
      [20, 22],
      [34, 36],
    ]);
  });

  test('a zero mean gives ratio 255 when the score reaches min_content_val, else 0', () => {
    const rule = new AdaptiveRule({ minSceneLen: 0 });
    const ratios = new Map<number, number>();
    seq(30, 0, { 10: 20, 20: 10 }).forEach((s, i) => {
      rule.push(i, s);
      if (rule.lastTarget >= 0) ratios.set(rule.lastTarget, rule.lastRatio);
    });
    assert.equal(ratios.get(10), 255);
    assert.equal(ratios.get(20), 0);
    assert.equal(ratios.get(9), 0, 'a neighbour of the spike: 0 / mean(0, 0, 20, 0)');
    assert.ok(!ratios.has(28) && !ratios.has(29), 'the last window_width frames are never decided');
  });

  test('steady motion (a constant high score) is no cut; a jump above it is', () => {
    const s = seq(80, 20, { 50: 70 });
    assert.deepEqual(
      run(new AdaptiveRule(), s).map(([c]) => c),
      [50],
    );
    assert.deepEqual(
      run(new ContentRule(), s).map(([c]) => c),
      [50],
    );
    // With threshold 15 every frame is above it from frame 0 on: before the first cut each above-threshold frame
    // restarts the clock, so MERGE never reports anything.
    assert.deepEqual(run(new ContentRule({ threshold: 15 }), s), []);
  });
});

describe('score', () => {
  test('a hand-computed pair: red → green on one of two pixels', () => {
    const scorer = new ContentScorer(2, 1);
    assert.equal(scorer.push(Uint8Array.of(255, 0, 0, 0, 0, 0)), 0, 'the first frame scores 0');
    // red (0, 255, 255) → green (60, 255, 255); black stays (0, 0, 0): dH = 60 / 2, dS = dV = 0; mean of 3 = 10.
    assert.equal(scorer.push(Uint8Array.of(0, 255, 0, 0, 0, 0)), 10);
    assert.deepEqual([...scorer.components], [30, 0, 0]);
  });

  test('weights: the edge component is refused, all-zero weights are refused', () => {
    assert.throws(() => new ContentScorer(2, 2, { deltaHue: 1, deltaSat: 1, deltaLum: 1, deltaEdges: 1 }), /edge/);
    assert.throws(() => new ContentScorer(2, 2, { deltaHue: 0, deltaSat: 0, deltaLum: 0, deltaEdges: 0 }), /all be 0/);
  });
});

/** Solid-colour frames with a little deterministic noise, w×h. */
function solid(w: number, h: number, rgb: [number, number, number], seed: number): Uint8Array {
  const f = new Uint8Array(w * h * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < f.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    f[i] = Math.max(0, Math.min(255, rgb[i % 3] + ((x >>> 16) % 5) - 2));
  }
  return f;
}

/** Linear blend of a into b at weight t. */
function blend(a: Uint8Array, b: Uint8Array, t: number): Uint8Array {
  return a.map((v, i) => Math.round(v * (1 - t) + b[i] * t));
}

describe('cascade', () => {
  test('strides: video2dataset floor(native / level fps), at least 1', () => {
    assert.equal(levelStride(24, 'native'), 1);
    assert.equal(levelStride(24, 8), 3);
    assert.equal(levelStride(24, 2), 12);
    assert.equal(levelStride(30000 / 1001, 2), 14);
    assert.equal(levelStride(25, 8), 3);
    assert.equal(levelStride(10, 8), 1);
    assert.throws(() => levelStride(24, 0), RangeError);
  });

  test('localise: the highest native score in (sample − stride, sample], the first of equals', () => {
    const s = Float64Array.from([0, 1, 9, 3, 9, 2, 0, 0]);
    assert.equal(localise(s, 5, 4), 2);
    assert.equal(localise(s, 5, 1), 5);
    assert.equal(localise(s, 3, 12), 2, 'clamped to frame 1');
  });

  test('merge: a coarser level within mergeWithin frames of a finer cut is the same cut', () => {
    const cut = (frame: number, level: number): CascadeCut => ({
      frame,
      level,
      stride: 1,
      sampleFrame: frame,
      score: 1,
    });
    const merged = mergeLevels(
      [[cut(100, 0)], [cut(100, 1), cut(130, 1)], [cut(114, 2), cut(144, 2), cut(145, 2)]],
      15,
    );
    // 114 and 144 are within 15 frames of 100 and 130; 145 is 15 away from 130: a shot of min_scene_len frames.
    assert.deepEqual(
      merged.map((c) => [c.frame, c.level]),
      [
        [100, 0],
        [130, 1],
        [145, 2],
      ],
    );
  });

  test('a hard cut seen only at a coarse level is localised to the exact frame', async () => {
    const w = 16;
    const h = 9;
    const frames = Array.from({ length: 200 }, (_, i) =>
      i < 101 ? solid(w, h, [200, 40, 40], i) : solid(w, h, [30, 60, 220], i),
    );
    const det = new CascadeCutDetector({ levels: [{ fps: 8, rule: { kind: 'content' } }] });
    const r = await det.run(frameStreamOf(frames, w, h, 24));
    assert.deepEqual(r.levels[0].reported, [102], 'stride 3 samples 99 and 102');
    assert.deepEqual(
      r.cuts.map((c) => [c.frame, c.sampleFrame]),
      [[101, 102]],
    );
    assert.equal(r.frameCount, 200);
    assert.equal(r.scores.length, 200);
  });

  test('a 1 s dissolve: no native-rate cut, the coarse levels find it; hard cuts stay at the native level', async () => {
    const w = 16;
    const h = 9;
    // yellow → blue: no single frame of the dissolve changes enough for the threshold of 27
    const a: [number, number, number] = [200, 200, 40];
    const b: [number, number, number] = [40, 60, 220];
    const c: [number, number, number] = [240, 230, 40];
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 240; i++) {
      if (i < 100) frames.push(solid(w, h, a, i));
      else if (i < 124) frames.push(blend(solid(w, h, a, i), solid(w, h, b, i), (i - 99) / 25));
      else if (i < 180) frames.push(solid(w, h, b, i));
      else frames.push(solid(w, h, c, i));
    }
    const content = await new ContentCutDetector().detect(frameStreamOf(frames, w, h, 24));
    assert.deepEqual(content, [180], 'ContentDetector at the native rate misses the dissolve');
    const r = await new CascadeCutDetector().run(frameStreamOf(frames, w, h, 24));
    assert.ok(Math.max(...r.scores.subarray(100, 125)) < 27);
    const soft = r.cuts.filter((x) => x.frame >= 100 && x.frame < 124);
    assert.equal(soft.length, 1, JSON.stringify(r.cuts));
    assert.equal(soft[0].level, 2, 'found at 2 fps (12 frames between samples)');
    assert.equal(soft[0].stride, 12);
    assert.ok(r.cuts.some((x) => x.frame === 180 && x.level === 0));
    assert.equal(r.cuts.length, 2, JSON.stringify(r.cuts));
    assert.deepEqual(
      r.levels.map((l) => l.stride),
      [1, 3, 12],
    );
  });

  test('a 10 fps video: the 8 fps level is the native rate (stride 1) and is not run twice', async () => {
    const frames = Array.from({ length: 30 }, (_, i) => solid(4, 4, [10 * i, 0, 0], i));
    const r = await new CascadeCutDetector().run(frameStreamOf(frames, 4, 4, 10));
    assert.deepEqual(
      r.levels.map((l) => [l.stride, l.duplicate]),
      [
        [1, false],
        [1, true],
        [5, false],
      ],
    );
  });

  test('options are checked when the detector is made', () => {
    assert.throws(() => new CascadeCutDetector({ levels: [] }), /at least one level/);
    assert.throws(() => new AdaptiveCutDetector({ windowWidth: 0 }), /windowWidth/);
    assert.throws(() => new ContentCutDetector({ filterMode: 'drop' as 'merge' }), /filterMode/);
    assert.throws(
      () => new CascadeCutDetector({ levels: [{ fps: 8, rule: { kind: 'edges' } as unknown as { kind: 'content' } }] }),
      /unknown level rule/,
    );
    assert.throws(() => new CascadeCutDetector({ mergeWithin: -1 }), /mergeWithin/);
    const params = new CascadeCutDetector().params as { levels: { fps: unknown; rule: { kind: string } }[] };
    assert.deepEqual(
      params.levels.map((l) => [l.fps, l.rule.kind]),
      [
        ['native', 'content'],
        [8, 'adaptive'],
        [2, 'adaptive'],
      ],
    );
  });

  test('a frame of the wrong size is an error naming the frame', async () => {
    const frames = [new Uint8Array(12), new Uint8Array(9)];
    const stream = {
      width: 2,
      height: 2,
      fps: 24,
      source: 'x',
      frames: (async function* () {
        yield* frames;
      })(),
    };
    await assert.rejects(new ContentCutDetector().detect(stream), /frame 1 of x has 9 bytes/);
  });

  test('abort stops detection with the signal reason', async () => {
    const controller = new AbortController();
    async function* frames() {
      for (let i = 0; ; i++) {
        if (i === 5) controller.abort(new Error('stop'));
        yield new Uint8Array(12);
      }
    }
    const stream = { width: 2, height: 2, fps: 24, source: 'x', frames: frames() };
    await assert.rejects(new CascadeCutDetector().detect(stream, { signal: controller.signal }), /stop/);
  });
});

describe('analysis size (PySceneDetect auto downscale)', () => {
  test('larger side to 256, Python rounding, no upscaling', () => {
    assert.deepEqual(analysisSize(1280, 720), { width: 256, height: 144 });
    assert.deepEqual(analysisSize(1920, 1080), { width: 256, height: 144 });
    assert.deepEqual(analysisSize(720, 528), { width: 256, height: 188 });
    assert.deepEqual(analysisSize(720, 1280), { width: 144, height: 256 });
    assert.deepEqual(analysisSize(96, 64), { width: 96, height: 64 });
    assert.deepEqual(analysisSize(256, 100), { width: 256, height: 100 });
    assert.deepEqual(analysisSize(1024, 10), { width: 256, height: 2 }, '2.5 rounds to even');
    assert.deepEqual(analysisSize(1024, 2), { width: 256, height: 1 }, 'never 0');
    assert.deepEqual(analysisSize(1280, 720, 128), { width: 128, height: 72 });
    assert.deepEqual([0.5, 1.5, 2.5, 2.4999, 3.5001].map(roundHalfEven), [0, 2, 2, 2, 4]);
    assert.throws(() => analysisSize(0, 10), RangeError);
  });
});

describe('clips', () => {
  test('between cuts, shorter than 2 s dropped (Open-Sora min_seconds), times are frame / fps', () => {
    const clips = clipsFromCuts([120, 48, 48, 0, 170, 500], 200, 24, 'v.mp4');
    // bounds 0 | 48 | 120 | 170 | 200 (0 and 500 are ignored, 48 counted once): [170, 200) is 1.25 s
    assert.deepEqual(
      clips.map((c) => [c.startFrame, c.endFrame]),
      [
        [0, 48],
        [48, 120],
        [120, 170],
      ],
    );
    assert.deepEqual(clips[1], { source: 'v.mp4', startFrame: 48, endFrame: 120, startTime: 2, endTime: 5, fps: 24 });
    assert.deepEqual(
      clipsFromCuts([48, 120], 200, 24, 'v', { minSeconds: 2.5 }).map((c) => c.startFrame),
      [48, 120],
    );
    assert.deepEqual(
      clipsFromCuts([48, 120], 200, 24, 'v', { minSeconds: 0, minFrames: 73 }).map((c) => c.startFrame),
      [120],
    );
    assert.equal(clipsFromCuts([], 0, 24, 'v').length, 0);
    assert.deepEqual(
      clipsFromCuts([], 60, 30, 'v').map((c) => [c.startTime, c.endTime]),
      [[0, 2]],
      'a whole 2 s video is one clip',
    );
    assert.throws(() => clipsFromCuts([1.5], 10, 24, 'v'), RangeError);
    assert.throws(() => clipsFromCuts([], 10, 0, 'v'), RangeError);
  });
});

describe('TransNetV2 (interface only)', () => {
  test('needs a model file, and says so', async () => {
    const stream = frameStreamOf([], 48, 27, 24);
    const none = new TransNetV2CutDetector();
    assert.equal(none.name, 'transnetv2');
    assert.deepEqual(none.analysisSize(), { width: 48, height: 27 });
    assert.equal((none.params as { threshold: number }).threshold, 0.5);
    await assert.rejects(
      none.detect(stream),
      (e: unknown) =>
        e instanceof CutDetectorError && e.problem === 'model-missing' && /needs a model file/.test(e.message),
    );
    const dir = mkdtempSync(join(tmpdir(), 'svd-transnet-'));
    try {
      const missing = join(dir, 'transnetv2.onnx');
      await assert.rejects(
        new TransNetV2CutDetector({ modelPath: missing }).detect(stream),
        (e: unknown) => e instanceof CutDetectorError && e.problem === 'model-missing' && e.message.includes(missing),
      );
      writeFileSync(missing, 'not really a model');
      await assert.rejects(
        new TransNetV2CutDetector({ modelPath: missing }).detect(stream),
        (e: unknown) => e instanceof CutDetectorError && e.problem === 'not-implemented',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('speed', () => {
  test('HSV + score at 256×144 (1280×720 analysed as PySceneDetect does): well above real time', (t) => {
    const w = 256;
    const h = 144;
    const frames = Array.from({ length: 8 }, (_, k) => {
      const f = new Uint8Array(w * h * 3);
      let x = k + 1;
      for (let i = 0; i < f.length; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        f[i] = x >>> 24;
      }
      return f;
    });
    const scorer = new ContentScorer(w, h);
    for (let i = 0; i < 50; i++) scorer.push(frames[i & 7]); // warm up
    const n = 400;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) scorer.push(frames[i & 7]);
    const fps = n / ((performance.now() - t0) / 1000);
    t.diagnostic(`${fps.toFixed(0)} frames/s on one core = ${(fps / 30).toFixed(0)}× real time at 30 fps`);
    // measured ~1000–1500 frames/s on the 2-core development machine under load; 100 is a regression alarm only
    assert.ok(fps > 100, `${fps} frames/s`);
  });
});
