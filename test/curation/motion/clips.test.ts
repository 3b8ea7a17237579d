/**
 * Motion score and camera class on camera moves with known velocity (camera-clips.ts: the test photo tiled into a
 * background, panned at 1, 2, 4 px/frame in four directions, zoomed in and out, static; H.264 at 8 fps, made by
 * ffmpeg here): every score within 10 % of the truth, scores ordered by speed, the camera class right on ≥ 90 % of
 * the clips; the same pan at two resolutions scores the same within 2 %; the clip window and chunked decoding.
 *
 * Measured (this machine): pans −0.5 … +0.3 % of the true score, zoom in −2.6 %, zoom out +1.3 %, static 1e-5;
 * every class right (15/15), also per pair; the two resolutions agree within 0.5 %.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CameraMotionClass } from '../../../src/curation/motion/camera.ts';
import { type ClipMotion, clipMotion, motionOfFrames } from '../../../src/curation/motion/score.ts';
import { decodeFrames } from '../../../src/video/decode.ts';
import { VideoInputError } from '../../../src/video/errors.ts';
import { type CameraClip, CLIP_FPS, encode, makeCameraClips, tiledPhoto } from './camera-clips.ts';

let made: Awaited<ReturnType<typeof makeCameraClips>>;
const results = new Map<string, ClipMotion>();

before(async () => {
  made = await makeCameraClips();
  for (const clip of made.clips) results.set(clip.name, await clipMotion(clip.path));
});
after(() => made.remove());

const motion = (c: CameraClip) => results.get(c.name)!;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

describe('camera moves with known velocity', () => {
  test('each score is within 10 % of the true displacement per half second / diagonal', () => {
    for (const c of made.clips) {
      const m = motion(c);
      assert.deepEqual([m.width, m.height, m.sampleFps, m.pairScores.length], [320, 256, 2, 3], c.name);
      if (c.score === 0) {
        assert.ok(m.score < 0.001, `${c.name}: score ${m.score} for a static camera`);
        continue;
      }
      const err = m.score / c.score - 1;
      assert.ok(
        Math.abs(err) <= 0.1,
        `${c.name}: score ${m.score.toFixed(5)}, true ${c.score.toFixed(5)} (${pct(err)})`,
      );
    }
  });

  test('scores are ordered by speed', () => {
    const pans = made.clips.filter((c) => c.speed !== undefined);
    for (const dir of ['pan-left', 'pan-right', 'pan-up', 'pan-down']) {
      const s = [1, 2, 4].map((v) => motion(pans.find((c) => c.name === `${dir}-${v}`)!).score);
      assert.ok(s[0] < s[1] && s[1] < s[2], `${dir}: ${s.map((x) => x.toFixed(4)).join(' < ')}?`);
    }
    // across directions too: every 1 px/frame pan below every 2 px/frame pan, below every 4 px/frame pan
    const bySpeed = (v: number) => pans.filter((c) => c.speed === v).map((c) => motion(c).score);
    assert.ok(Math.max(...bySpeed(1)) < Math.min(...bySpeed(2)));
    assert.ok(Math.max(...bySpeed(2)) < Math.min(...bySpeed(4)));
    const still = motion(made.clips.find((c) => c.name === 'static')!).score;
    assert.ok(still < Math.min(...bySpeed(1)));
  });

  test('the camera-motion class is right on at least 90 % of the clips', () => {
    const wrong = made.clips.filter((c) => motion(c).camera !== c.camera);
    const report = wrong.map((c) => `${c.name} → ${motion(c).camera}`).join(', ');
    assert.ok(wrong.length <= Math.floor(0.1 * made.clips.length), `wrong: ${report}`);
    // per pair as well
    const pairs = made.clips.flatMap((c) =>
      motion(c).pairCameras.map((p): [string, CameraMotionClass] => [c.camera, p]),
    );
    const right = pairs.filter(([want, got]) => want === got).length;
    assert.ok(right >= 0.9 * pairs.length, `${right} of ${pairs.length} pairs classified right`);
  });

  test('the fitted camera terms have the right size and sign', () => {
    for (const c of made.clips) {
      const f = motion(c).cameraFit;
      if (c.speed !== undefined) {
        const t = c.score; // a pan moves every pixel by the same amount
        const want = {
          'pan-right': [-t, 0],
          'pan-left': [t, 0],
          'pan-down': [0, -t],
          'pan-up': [0, t],
        }[c.camera as 'pan-right'];
        assert.ok(
          Math.abs(f.tx - want[0]) < 0.1 * t && Math.abs(f.ty - want[1]) < 0.1 * t,
          `${c.name}: ${f.tx}, ${f.ty}`,
        );
        assert.ok(f.residualRms < 0.5 * f.modelRms, c.name);
      } else if (c.camera.startsWith('zoom')) {
        assert.ok(Math.sign(f.zoom) === (c.camera === 'zoom-in' ? 1 : -1), `${c.name}: zoom ${f.zoom}`);
        assert.ok(
          f.translationRms < 0.1 * f.zoomRms,
          `${c.name}: translation ${f.translationRms} vs zoom ${f.zoomRms}`,
        );
      }
    }
  });
});

describe('resolution independence and the clip window', () => {
  let full: string;
  let half: string;
  before(async () => {
    // one diagonal pan (2, 1) px/frame at 320×256, and the same frames scaled to 160×128
    const pan = `${tiledPhoto(2, 6)},crop=320:256:'224+n*2':'256+n'`;
    full = join(made.dir, 'res-full.mp4');
    half = join(made.dir, 'res-half.mp4');
    await Promise.all([encode(full, pan), encode(half, `${pan},scale=160:128:flags=area`)]);
  });

  test('the same pan at two resolutions scores the same within 2 %', async () => {
    const truth = (Math.hypot(2, 1) * (CLIP_FPS / 2)) / Math.hypot(320, 256);
    const a = await clipMotion(full); // analysed at 320×256
    const b = await clipMotion(half); // upscaled to the same analysis size
    const c = await clipMotion(half, { shortSide: 128 }); // analysed at its own 160×128
    const d = await clipMotion(full, { shortSide: 128 }); // downscaled
    assert.deepEqual([c.width, c.height], [160, 128]);
    for (const [name, m] of Object.entries({ b, c, d })) {
      assert.ok(Math.abs(m.score / a.score - 1) <= 0.02, `${name}: ${m.score} vs ${a.score}`);
    }
    assert.ok(Math.abs(a.score / truth - 1) <= 0.1, `${a.score} vs the truth ${truth}`);
    // the pixel magnitudes differ by the scale, the normalised scores do not
    assert.ok(Math.abs(a.meanMagnitude / c.meanMagnitude - 2) < 0.05);
  });

  test('a window of the video, chunked decoding and in-memory frames give the same numbers', async () => {
    const clip = made.clips.find((c) => c.name === 'pan-right-2')!;
    const whole = motion(clip);
    const chunked = await clipMotion(clip.path, { chunkSamples: 2 });
    assert.deepEqual(chunked.pairScores, whole.pairScores, 'chunks of 2 samples: the same samples');
    const window = await clipMotion(clip.path, { start: 0.5, duration: 1 });
    assert.equal(window.pairScores.length, 1, 'samples at 0.5 s and 1.0 s');
    assert.ok(Math.abs(window.score - whole.pairScores[1]) < 1e-9);
    const { data } = await decodeFrames(clip.path, { fps: 2, count: 4, width: 320, height: 256 });
    const mem = await motionOfFrames(data, 320, 256);
    assert.deepEqual(mem.pairScores, whole.pairScores);
  });

  test('a clip shorter than one sample interval is too short', async () => {
    const clip = made.clips[0];
    await assert.rejects(
      clipMotion(clip.path, { start: 1.8 }),
      (e: unknown) =>
        e instanceof VideoInputError && e.reason === 'too-short' && /shorter than one sample/.test(e.message),
    );
  });
});
