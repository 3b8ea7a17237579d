/**
 * The cut detectors against PySceneDetect's own code (reference vectors of scripts/make-cut-vectors.py: PySceneDetect
 * 0.7.1 at 131c5f6 on Debian's OpenCV 4.6). The test videos are remade here by the exact ffmpeg command recorded in
 * the vectors (lossless FFV1) and decoded by frame-stream.ts with the command the script decoded with, so the frames
 * are the same bytes (checked by hash first); then, frame by frame: the HSV planes (hash) and means, the score and
 * its components (≤ 1e-6 relative; in fact equal), the luma-only score, AdaptiveDetector's ratio; and per video the
 * cuts of ContentDetector and AdaptiveDetector under every recorded parameter set.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AdaptiveCutDetector, ContentCutDetector } from '../../../src/curation/cuts/cascade.ts';
import { ContentScorer, LUMA_ONLY_WEIGHTS } from '../../../src/curation/cuts/content.ts';
import type { CutDetector } from '../../../src/curation/cuts/cut-detector.ts';
import { AdaptiveRule } from '../../../src/curation/cuts/detectors.ts';
import { rgbToHsvPlanes } from '../../../src/curation/cuts/hsv.ts';
import { frameStreamOf } from '../../../src/curation/frames.ts';
import { frameStreamArgs } from '../../../src/video/frame-stream.ts';
import { fill, loadVectors, PHOTO, readAllFrames, runFfmpeg, type VectorDetector, type VectorVideo } from './media.ts';

const vectors = loadVectors();
let dir: string;
const frames = new Map<string, Uint8Array[]>();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svd-cut-vectors-'));
  await Promise.all(
    vectors.videos.map(async (v) => {
      const out = join(dir, `${v.name}.mkv`);
      await runFfmpeg(fill(v.ffmpegArgs, { photo: PHOTO, out }));
      frames.set(v.name, await readAllFrames(out, v.width, v.height));
    }),
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

const short = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
};

/** Relative difference, with absolute difference for values near 0. */
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-12, Math.abs(b));

/** Our detector for a recorded PySceneDetect parameter set. */
function detectorFor(d: VectorDetector): CutDetector {
  const p = d.params;
  if (d.detector === 'ContentDetector') {
    return new ContentCutDetector({
      threshold: p.threshold as number | undefined,
      minSceneLen: p.min_scene_len as number | undefined,
      filterMode: p.filter_mode === 'SUPPRESS' ? 'suppress' : undefined,
      lumaOnly: p.luma_only as boolean | undefined,
    });
  }
  return new AdaptiveCutDetector({
    adaptiveThreshold: p.adaptive_threshold as number | undefined,
    minSceneLen: p.min_scene_len as number | undefined,
    windowWidth: p.window_width as number | undefined,
    minContentVal: p.min_content_val as number | undefined,
  });
}

test('the decode command is the one the vectors were decoded with', () => {
  for (const v of vectors.videos) {
    assert.deepEqual(frameStreamArgs('{in}', { width: v.width, height: v.height }), v.decodeArgs, v.name);
  }
});

for (const v of vectors.videos as VectorVideo[]) {
  describe(`vectors: ${v.name} (${v.frameCount} frames)`, () => {
    test('the remade video decodes to the same frames', () => {
      const fs = frames.get(v.name)!;
      assert.equal(fs.length, v.frameCount);
      const firstBad = fs.findIndex((f, i) => short(f) !== v.frames[i].rgb);
      assert.equal(
        firstBad,
        -1,
        `frame ${firstBad} differs from the one the vectors were made from (vectors: ${vectors.ffmpeg}); ` +
          'an ffmpeg that makes other pixels needs new vectors (scripts/make-cut-vectors.py)',
      );
      const all = createHash('sha256');
      for (const f of fs) all.update(f);
      assert.equal(all.digest('hex'), v.rgbSha256);
    });

    test('HSV planes equal OpenCV on every pixel; HSV means', () => {
      const fs = frames.get(v.name)!;
      const n = v.width * v.height;
      const hsv = new Uint8Array(3 * n);
      fs.forEach((f, i) => {
        rgbToHsvPlanes(f, hsv, n);
        assert.equal(short(hsv), v.frames[i].hsv, `frame ${i}: HSV planes differ from OpenCV's`);
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let p = 0; p < n; p++) sum += hsv[c * n + p];
          assert.ok(rel(sum / n, v.frames[i].hsvMean[c]) <= 1e-12, `frame ${i} channel ${c}`);
        }
      });
    });

    test('content scores and components (≤ 1e-6 relative), luma-only scores, adaptive ratios', () => {
      const fs = frames.get(v.name)!;
      const all = new ContentScorer(v.width, v.height);
      const luma = new ContentScorer(v.width, v.height, LUMA_ONLY_WEIGHTS);
      const adaptive = Object.entries(v.detectors)
        .filter(([, d]) => d.detector === 'AdaptiveDetector')
        .map(([id, d]) => ({
          id,
          rule: new AdaptiveRule({
            adaptiveThreshold: d.params.adaptive_threshold as number | undefined,
            minSceneLen: d.params.min_scene_len as number | undefined,
            windowWidth: d.params.window_width as number | undefined,
            minContentVal: d.params.min_content_val as number | undefined,
          }),
          checked: 0,
        }));
      let worst = 0;
      let nonZero = 0;
      fs.forEach((f, i) => {
        const score = all.push(f);
        const lumaScore = luma.push(f);
        const ref = v.frames[i].content;
        if (ref === null) {
          assert.equal(i, 0, 'only the first frame has no score');
          assert.equal(score, 0);
        } else {
          const mine = [score, ...all.components];
          for (let k = 0; k < 4; k++) {
            const e = rel(mine[k], ref[k]);
            worst = Math.max(worst, e);
            assert.ok(e <= 1e-6, `frame ${i} ${['score', 'dHue', 'dSat', 'dLum'][k]}: ${mine[k]} vs ${ref[k]}`);
          }
          if (ref[0] > 0) nonZero++;
          assert.ok(rel(lumaScore, v.frames[i].luma![0]) <= 1e-6, `frame ${i} luma score`);
        }
        for (const a of adaptive) {
          a.rule.push(i, score);
          if (a.rule.lastTarget >= 0) {
            const expected = v.frames[a.rule.lastTarget].adaptiveRatio[a.id];
            assert.ok(expected !== null, `${a.id}: PySceneDetect has a ratio for frame ${a.rule.lastTarget}`);
            assert.ok(rel(a.rule.lastRatio, expected) <= 1e-6, `${a.id} frame ${a.rule.lastTarget}`);
            a.checked++;
          }
        }
      });
      assert.equal(worst, 0, 'the scores are bit-identical');
      assert.ok(nonZero > v.frameCount / 3, 'most frames have a non-zero score');
      for (const a of adaptive) {
        const w = a.rule.options.windowWidth;
        assert.equal(a.checked, v.frameCount - 2 * w, `${a.id}: every frame but the first and last ${w}`);
      }
    });

    for (const [id, d] of Object.entries(v.detectors)) {
      test(`cuts: ${id} ${JSON.stringify(d.params)} → ${JSON.stringify(d.cuts)}`, async () => {
        const cuts = await detectorFor(d).detect(frameStreamOf(frames.get(v.name)!, v.width, v.height, v.fps));
        assert.deepEqual(cuts, d.cuts);
      });
    }
  });
}

test('the vectors exercise the rules: merged flashes, suppressed early cuts, late merge reports, fades', () => {
  const cuts = vectors.videos.find((v) => v.name === 'cuts')!;
  // The hard cut at frame 8 is inside the first min_scene_len frames, 114 follows 104 by 10 frames (a flash),
  // and the Game of Life segment keeps scores above 27 after its cut at 162, so MERGE reports 164.
  assert.deepEqual(cuts.detectors.content.cuts, [56, 104, 164, 198]);
  assert.deepEqual(cuts.detectors['content-suppress'].cuts, [56, 104, 162, 198]);
  assert.deepEqual(cuts.detectors['content-len0'].cuts.slice(0, 4), [8, 56, 104, 114]);
  const fades = vectors.videos.find((v) => v.name === 'fades')!;
  assert.deepEqual(fades.detectors.content.cuts, [36, 144], 'fade-in from black: the hue of near-black pixels jumps');
  assert.deepEqual(fades.detectors.adaptive.cuts, [36, 96, 144], 'the end of the cross-fade stands out');
});
