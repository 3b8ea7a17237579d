import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  boxScore,
  connectedRegions,
  dbPostprocess,
  textAreaFraction,
} from '../../../src/curation/text/db-postprocess.ts';
import { convexHull, growRect, minAreaRect } from '../../../src/curation/text/min-area-rect.ts';

/** A probability map with value `p` on the rectangle [x0, x1) × [y0, y1). */
function map(w: number, h: number, rects: [number, number, number, number, number][]): Float32Array {
  const m = new Float32Array(w * h);
  for (const [x0, y0, x1, y1, p] of rects) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * w + x] = p;
  return m;
}

test('convex hull and minimum-area rectangle of a rotated rectangle', () => {
  assert.equal(
    convexHull([
      [0, 0],
      [1, 1],
      [2, 2],
      [2, 0],
      [0, 2],
      [1, 0.5],
    ]).length,
    4,
  );
  // a 10 × 4 rectangle rotated by 30°: its minimum-area rectangle is itself
  const a = Math.PI / 6;
  const pts: [number, number][] = [];
  for (let u = 0; u <= 10; u += 0.5)
    for (let v = 0; v <= 4; v += 0.5) pts.push([u * Math.cos(a) - v * Math.sin(a), u * Math.sin(a) + v * Math.cos(a)]);
  const r = minAreaRect(pts);
  assert.ok(Math.abs(Math.max(r.width, r.height) - 10) < 1e-9, `${r.width} × ${r.height}`);
  assert.ok(Math.abs(Math.min(r.width, r.height) - 4) < 1e-9);
  const g = growRect(r, 1);
  assert.ok(Math.abs(g.width * g.height - (r.width + 2) * (r.height + 2)) < 1e-9);
  // a single point is degenerate
  assert.equal(minAreaRect([[3, 3]]).width, 0);
});

test('connected regions are 8-connected', () => {
  // two diagonal pixels touch; a third apart
  const m = new Uint8Array(5 * 5);
  m[0] = 1;
  m[6] = 1;
  m[4 * 5 + 4] = 1;
  assert.deepEqual(
    connectedRegions(m, 5, 5).map((r) => r.length),
    [2, 1],
  );
});

test('a confident text region becomes one box grown by area·1.5/perimeter; weak and tiny regions are dropped', () => {
  const w = 64;
  const h = 48;
  // a 30 × 8 region at p = 0.9 (the shrunk text kernel), a 10 × 10 region at 0.45 (above thresh 0.3, below
  // box_thresh 0.6), a 2-pixel-high sliver at 0.95 (short side < 3)
  const prob = map(w, h, [
    [10, 10, 40, 18, 0.9],
    [45, 30, 55, 40, 0.45],
    [5, 40, 30, 42, 0.95],
  ]);
  const boxes = dbPostprocess(prob, w, h);
  assert.equal(boxes.length, 1);
  const [b] = boxes;
  assert.ok(Math.abs(b.score - 0.9) < 1e-6, `score ${b.score}`);
  // pixel centres span 29 × 7; grown by d = 29·7·1.5 / (2·36)
  const d = (29 * 7 * 1.5) / 72;
  const xs = b.corners.map((p) => p[0]);
  const ys = b.corners.map((p) => p[1]);
  assert.ok(Math.abs(Math.min(...xs) - (10 - d)) < 1e-9 && Math.abs(Math.max(...xs) - (39 + d)) < 1e-9);
  assert.ok(Math.abs(Math.min(...ys) - (10 - d)) < 1e-9 && Math.abs(Math.max(...ys) - (17 + d)) < 1e-9);
  // the text area is about the grown box's area over the frame
  const area = textAreaFraction(boxes, w, h);
  const expected = ((29 + 2 * d) * (7 + 2 * d)) / (w * h);
  assert.ok(Math.abs(area - expected) < 0.02, `area ${area} vs ${expected}`);
  assert.equal(textAreaFraction([], w, h), 0);
  // thresholds are options
  assert.equal(dbPostprocess(prob, w, h, { boxThresh: 0.4 }).length, 2);
});

test('box score is the mean probability inside the box', () => {
  const w = 20;
  const h = 20;
  const prob = map(w, h, [[0, 0, 10, 20, 1]]); // left half 1, right half 0
  const s = boxScore(prob, w, h, [
    [5, 5],
    [14, 5],
    [14, 14],
    [5, 14],
  ]);
  assert.ok(Math.abs(s - 0.5) < 1e-9, `${s}`);
});
