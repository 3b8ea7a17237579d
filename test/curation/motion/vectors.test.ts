/**
 * Farneback against OpenCV: the reference vectors of scripts/make-flow-vectors.py (Debian's python3-opencv 4.6,
 * `cv2.calcOpticalFlowFarneback` on the gray PNG frames in test/fixtures/curation/motion/frames/). Per case: the mean
 * endpoint error against OpenCV's flow on the recorded grid (every 4th row and column plus the last), the largest one,
 * and the whole-field mean magnitude and mean flow against OpenCV's; the stripes case pins the closed-form solve's
 * blindness to one-dimensional texture (OpenCV: 7.5e-11 px of flow for a 1 px move). And the RGB → gray conversion against OpenCV's
 * COLOR_RGB2GRAY on all 2²⁴ colours (one hash).
 *
 * Measured (this machine): EPE 1e-7 … 2.1e-6 px and relative magnitude error < 1.1e-7 on every photo case (float32
 * rounding: OpenCV computes in float32 with SIMD, we in float64); testsrc2 — flat areas and sharp edges, with 11 px
 * motion of its moving parts — EPE 4.4e-3 px, magnitude 3.9e-4 relative: in flat areas det G ≈ 0 and the solve
 * adj(G)·h / (det G + 1e-3) amplifies rounding noise ~1000×, and the coarse levels hand it on (OpenCV itself gives
 * 1.3e-3 px of "flow" in the middle of testsrc2's uniform background).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { farnebackFlow } from '../../../src/curation/motion/farneback.ts';
import { rgbToGray } from '../../../src/curation/motion/gray.ts';
import { meanFlowMagnitude } from '../../../src/curation/motion/score.ts';

const DIR = new URL('../../fixtures/curation/motion/', import.meta.url);

interface VectorCase {
  name: string;
  what: string;
  prev: string;
  next: string;
  width: number;
  height: number;
  params: {
    pyrScale: number;
    levels: number;
    winsize: number;
    iterations: number;
    polyN: number;
    polySigma: number;
    flags: number;
  };
  grid: { xs: number[]; ys: number[]; dx: string; dy: string };
  stats: { meanDx: number; meanDy: number; meanMagnitude: number; maxMagnitude: number };
}

const vectors = JSON.parse(readFileSync(new URL('vectors.json', DIR), 'utf8')) as {
  opencv: string;
  grayTable: { sha256: string };
  cases: VectorCase[];
};

/** Bounds per case: mean EPE (px), max EPE (px), relative mean-magnitude error. */
const BOUNDS: Record<string, { epe: number; maxEpe: number; magnitude: number }> = {
  testsrc2: { epe: 0.02, maxEpe: 2, magnitude: 0.01 },
};
const PHOTO_BOUNDS = { epe: 1e-4, maxEpe: 2e-3, magnitude: 1e-5 };

async function grayPng(name: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(new URL(name, DIR).pathname)
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 1);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

function float32s(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

test(`RGB → gray equals OpenCV ${vectors.opencv} COLOR_RGB2GRAY on all 2^24 colours`, () => {
  const rgb = new Uint8Array(3 << 24);
  for (let i = 0; i < 1 << 24; i++) {
    rgb[i * 3] = i >>> 16;
    rgb[i * 3 + 1] = (i >>> 8) & 255;
    rgb[i * 3 + 2] = i & 255;
  }
  const digest = createHash('sha256').update(rgbToGray(rgb)).digest('hex');
  assert.equal(digest, vectors.grayTable.sha256);
  assert.throws(() => rgbToGray(new Uint8Array(4)), /whole number of RGB pixels/);
});

describe(`Farneback vs OpenCV ${vectors.opencv}`, () => {
  for (const c of vectors.cases) {
    test(`${c.name}: ${c.what} (${c.width}×${c.height})`, async () => {
      const [a, b] = await Promise.all([grayPng(c.prev), grayPng(c.next)]);
      assert.deepEqual([a.width, a.height, b.width, b.height], [c.width, c.height, c.width, c.height]);
      const p = c.params;
      const flow = farnebackFlow(a.data, b.data, c.width, c.height, {
        pyrScale: p.pyrScale,
        levels: p.levels,
        winsize: p.winsize,
        iterations: p.iterations,
        polyN: p.polyN,
        polySigma: p.polySigma,
        gaussianWindow: p.flags === 256, // cv2.OPTFLOW_FARNEBACK_GAUSSIAN
      });
      const dx = float32s(c.grid.dx);
      const dy = float32s(c.grid.dy);
      let sum = 0;
      let max = 0;
      let k = 0;
      for (const y of c.grid.ys) {
        for (const x of c.grid.xs) {
          const i = (y * c.width + x) * 2;
          const e = Math.hypot(flow[i] - dx[k], flow[i + 1] - dy[k]);
          sum += e;
          max = Math.max(max, e);
          k++;
        }
      }
      assert.equal(k, dx.length);
      const epe = sum / k;
      const bound = BOUNDS[c.name] ?? PHOTO_BOUNDS;
      assert.ok(epe <= bound.epe, `mean endpoint error ${epe.toExponential(2)} px > ${bound.epe}`);
      assert.ok(max <= bound.maxEpe, `largest endpoint error ${max.toExponential(2)} px > ${bound.maxEpe}`);
      const magnitude = meanFlowMagnitude(flow);
      // relative, or absolute below 0.01 px (the stripes' flow is ~1e-10)
      const relative = Math.abs(magnitude - c.stats.meanMagnitude) / Math.max(c.stats.meanMagnitude, 0.01);
      assert.ok(
        relative <= bound.magnitude,
        `mean magnitude ${magnitude} vs OpenCV ${c.stats.meanMagnitude}: ${relative.toExponential(2)} relative`,
      );
      let mx = 0;
      let my = 0;
      for (let i = 0; i < flow.length; i += 2) {
        mx += flow[i];
        my += flow[i + 1];
      }
      const n = flow.length / 2;
      assert.ok(Math.abs(mx / n - c.stats.meanDx) <= bound.epe, `mean dx ${mx / n} vs ${c.stats.meanDx}`);
      assert.ok(Math.abs(my / n - c.stats.meanDy) <= bound.epe, `mean dy ${my / n} vs ${c.stats.meanDy}`);
    });
  }
});
