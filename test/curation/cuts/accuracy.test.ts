/**
 * Accuracy on real-ish media made at test time (media.ts: ffmpeg test sources and the repository's test photo,
 * panned and zoomed with known velocities, H.264 at 384×216, analysed at 256×144): hard-cut F1 ≥ 0.95 within ±1 frame
 * for the cascade and both single-rate detectors, no cut inside a pan or zoom, what each does with the 1 s
 * cross-fade, and the clips. Then real footage from Debian's opencv-doc when it is installed (optional).
 *
 * The cross-fade (a soft cut): no single frame of it scores 27, so ContentDetector at the native rate ignores it;
 * the cascade's coarse levels see the change add up between samples and cut at its start (the first blended frame
 * jumps in hue) and its end, so the transition becomes its own sub-2 s piece and no kept clip contains it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AdaptiveCutDetector,
  CascadeCutDetector,
  type CascadeResult,
  ContentCutDetector,
} from '../../../src/curation/cuts/cascade.ts';
import { detectVideoCuts, splitVideo, type VideoCuts } from '../../../src/curation/cuts/video.ts';
import { openFrameStream } from '../../../src/curation/frames.ts';
import { type AccuracyTruth, cutScores, makeAccuracyVideo } from './media.ts';

let dir: string;
let video: string;
let truth: AccuracyTruth;
/** Each detector's result on the video (one decode each, shared by the tests). */
const results = new Map<string, VideoCuts>();
let split: Awaited<ReturnType<typeof splitVideo>>;
let cascade: CascadeResult;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svd-cut-accuracy-'));
  video = join(dir, 'accuracy.mp4');
  truth = await makeAccuracyVideo(video);
  const det = new CascadeCutDetector();
  const [s, content, adaptive, r] = await Promise.all([
    splitVideo(video),
    detectVideoCuts(video, { detector: new ContentCutDetector() }),
    detectVideoCuts(video, { detector: new AdaptiveCutDetector() }),
    openFrameStream(video, { size: (p) => det.analysisSize(p.width, p.height) }).then(({ stream }) => det.run(stream)),
  ]);
  split = s;
  cascade = r;
  results.set('cascade', s.cuts);
  results.set('content', content);
  results.set('adaptive', adaptive);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Cuts outside the cross-fade (±1 frame), which is scored on its own. */
const outsideFade = (cuts: number[]) =>
  cuts.filter((c) => c < truth.crossFade.start - 1 || c > truth.crossFade.end + 1);
const insideFade = (cuts: number[]) =>
  cuts.filter((c) => c >= truth.crossFade.start - 1 && c <= truth.crossFade.end + 1);

describe('accuracy on generated media', () => {
  for (const [key, name] of [
    ['cascade', 'cascade (native content, 8 fps and 2 fps adaptive)'],
    ['content', 'ContentDetector'],
    ['adaptive', 'AdaptiveDetector'],
  ] as const) {
    test(`${name}: hard cuts F1 ≥ 0.95 within ±1 frame, no cut inside pans or the zoom`, (t) => {
      const r = results.get(key)!;
      assert.equal(r.detector.name, key);
      assert.equal(r.frameCount, truth.frameCount);
      assert.deepEqual(r.analysis, { width: 256, height: 144 }, 'PySceneDetect auto downscale of 384×216');
      const s = cutScores(outsideFade(r.cuts), truth.hardCuts, 1);
      t.diagnostic(
        `cuts ${JSON.stringify(r.cuts)}; P ${s.precision.toFixed(3)} R ${s.recall.toFixed(3)} F1 ${s.f1.toFixed(3)}`,
      );
      assert.ok(s.f1 >= 0.95, `F1 ${s.f1} (${JSON.stringify(r.cuts)} vs ${JSON.stringify(truth.hardCuts)})`);
      for (const m of truth.motion) {
        const inside = r.cuts.filter((c) => c > m.start && c < m.end);
        assert.deepEqual(inside, [], `a cut inside the ${m.what} (frames ${m.start}–${m.end - 1})`);
      }
    });
  }

  test('the cross-fade: ignored at the native rate, cut at its start and end by the cascade', () => {
    assert.deepEqual(insideFade(results.get('content')!.cuts), []);
    const r = cascade;
    assert.deepEqual(
      r.cuts.map((c) => c.frame),
      results.get('cascade')!.cuts,
    );
    const fade = r.cuts.filter((c) => c.frame >= truth.crossFade.start - 1 && c.frame <= truth.crossFade.end + 1);
    assert.ok(fade.length >= 1, `the cascade finds the cross-fade: ${JSON.stringify(r.cuts)}`);
    assert.ok(
      fade.every((c) => c.level > 0),
      'found by the coarse levels only',
    );
    assert.ok(Math.max(...r.scores.subarray(truth.crossFade.start, truth.crossFade.end + 1)) < 27);
    // hard cuts come from the native level, exactly
    assert.deepEqual(
      r.cuts.filter((c) => c.level === 0).map((c) => c.frame),
      truth.hardCuts,
    );
  });

  test('clips: between cuts, ≥ 2 s, none containing the cross-fade', () => {
    const { cuts, clips } = split;
    assert.equal(cuts.detector.name, 'cascade');
    assert.ok(clips.length >= 6, JSON.stringify(clips));
    for (const c of clips) {
      assert.ok(c.endFrame - c.startFrame >= 48, `${c.startFrame}–${c.endFrame} is at least 2 s`);
      assert.equal(c.source, video);
      assert.equal(c.fps, 24);
      assert.equal(c.startTime, c.startFrame / 24);
      assert.equal(c.endTime, c.endFrame / 24);
      const fadeFrames =
        Math.min(c.endFrame, truth.crossFade.end - 1) - Math.max(c.startFrame, truth.crossFade.start + 1);
      assert.ok(fadeFrames <= 0, `clip ${c.startFrame}–${c.endFrame} contains the cross-fade`);
      const cutInside = truth.hardCuts.some((h) => h > c.startFrame + 1 && h < c.endFrame - 1);
      assert.ok(!cutInside, `clip ${c.startFrame}–${c.endFrame} spans a hard cut`);
    }
    // the shots of 2 s or more between hard cuts are all there
    for (const [a, b] of [
      [0, 48],
      [48, 120],
      [120, 168],
      [168, 240],
      [348, 396],
      [396, 444],
    ]) {
      assert.ok(
        clips.some((c) => c.startFrame === a && c.endFrame === b),
        `clip ${a}–${b}`,
      );
    }
    assert.ok(!clips.some((c) => c.startFrame === 444), 'the last 1.5 s shot is dropped');
  });
});

const DATA = '/usr/share/doc/opencv-doc/examples/data';
const realFootage = existsSync(join(DATA, 'Megamind.avi')) && existsSync(join(DATA, 'vtest.avi'));

describe('real footage (Debian opencv-doc)', () => {
  test('Megamind.avi: its three shot changes; vtest.avi (CCTV, walking people): none', {
    skip: realFootage ? false : `opencv-doc is not installed (no ${DATA}/Megamind.avi): apt-get install opencv-doc`,
  }, async (t) => {
    const mm = await detectVideoCuts(join(DATA, 'Megamind.avi'));
    t.diagnostic(`Megamind.avi ${mm.width}×${mm.height} @ ${mm.fps.toFixed(3)} → ${JSON.stringify(mm.cuts)}`);
    assert.deepEqual(mm.analysis, { width: 256, height: 188 });
    // The film clip's shot changes (checked by eye); frame numbers on ffmpeg's constant-rate timeline, which starts
    // one frame before the first decoded frame of this AVI.
    assert.equal(cutScores(mm.cuts, [99, 155, 201], 1).f1, 1, JSON.stringify(mm.cuts));
    const cctv = await detectVideoCuts(join(DATA, 'vtest.avi'));
    assert.equal(cctv.frameCount, 795);
    assert.deepEqual(cctv.cuts, [], 'people walking past a fixed camera are no cut');
  });
});
