/**
 * Differentiable-Binarization post-processing (Liao et al. 2020, "Real-time Scene Text Detection with Differentiable
 * Binarization"), as PaddleOCR's `DBPostProcess` (ppocr/postprocess/db_postprocess.py) does it for PP-OCRv4's
 * detector with its inference defaults: the probability map thresholded at `thresh` 0.3; each connected region of the
 * bitmap (OpenCV's outer contours: 8-connected) → its minimum-area rectangle, dropped when its short side < 3 px;
 * its score = the mean probability inside that rectangle ("fast" mode), dropped below `box_thresh` 0.6; the rectangle
 * grown by area·`unclip_ratio`/perimeter on every side (unclip_ratio 1.5: the shrink the model was trained with,
 * undone — for a rectangle, the Clipper round-join offset's enclosing rectangle is the rectangle grown by that
 * distance), dropped when its short side < 5 px; at most `max_candidates` 1000 regions.
 */
import { growRect, insideConvexQuad, minAreaRect, type Point } from './min-area-rect.ts';

export interface DbPostprocessOptions {
  thresh: number;
  boxThresh: number;
  unclipRatio: number;
  maxCandidates: number;
  minSize: number;
}

/** PaddleOCR's PP-OCRv4 detection defaults (tools/infer/utility.py: det_db_thresh, det_db_box_thresh, …). */
export const DB_DEFAULTS: Readonly<DbPostprocessOptions> = Object.freeze({
  thresh: 0.3,
  boxThresh: 0.6,
  unclipRatio: 1.5,
  maxCandidates: 1000,
  minSize: 3,
});

/** A detected text region: its quadrilateral in probability-map pixels and its mean probability. */
export interface TextBox {
  corners: [Point, Point, Point, Point];
  score: number;
}

/** The connected regions (8-connectivity) of `mask`, each as the list of its pixel coordinates, in scan order. */
export function connectedRegions(mask: Uint8Array, width: number, height: number): Point[][] {
  const label = new Int32Array(width * height).fill(-1);
  const regions: Point[][] = [];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || label[start] >= 0) continue;
    const id = regions.length;
    const pts: Point[] = [];
    label[start] = id;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack.pop() as number;
      const x = i % width;
      const y = (i - x) / width;
      pts.push([x, y]);
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const j = yy * width + xx;
          if (mask[j] && label[j] < 0) {
            label[j] = id;
            stack.push(j);
          }
        }
      }
    }
    regions.push(pts);
  }
  return regions;
}

/** Mean of `prob` over the pixels of the rectangle's bounding box that lie inside it (PaddleOCR `box_score_fast`). */
export function boxScore(prob: Float32Array, width: number, height: number, corners: readonly Point[]): number {
  const xs = corners.map((p) => p[0]);
  const ys = corners.map((p) => p[1]);
  const clamp = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  const x0 = clamp(Math.floor(Math.min(...xs)), width - 1);
  const x1 = clamp(Math.ceil(Math.max(...xs)), width - 1);
  const y0 = clamp(Math.floor(Math.min(...ys)), height - 1);
  const y1 = clamp(Math.ceil(Math.max(...ys)), height - 1);
  let sum = 0;
  let n = 0;
  for (let y = y0; y <= y1; y++)
    for (let x = x0; x <= x1; x++)
      if (insideConvexQuad(corners, x, y, 0.5)) {
        sum += prob[y * width + x];
        n++;
      }
  return n === 0 ? 0 : sum / n;
}

/** Boundary pixels of a region (those with a 4-neighbour outside it): the points OpenCV's contour would list. */
function boundary(region: readonly Point[], inRegion: (x: number, y: number) => boolean): Point[] {
  return region.filter(
    ([x, y]) => !inRegion(x - 1, y) || !inRegion(x + 1, y) || !inRegion(x, y - 1) || !inRegion(x, y + 1),
  );
}

/** Text boxes from a detector probability map [height, width] (values in 0…1). */
export function dbPostprocess(
  prob: Float32Array,
  width: number,
  height: number,
  options: Partial<DbPostprocessOptions> = {},
): TextBox[] {
  const o = { ...DB_DEFAULTS, ...options };
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = prob[i] > o.thresh ? 1 : 0;
  const inMask = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] === 1;
  const boxes: TextBox[] = [];
  const regions = connectedRegions(mask, width, height).slice(0, o.maxCandidates);
  for (const region of regions) {
    // regions do not touch each other (8-connected), so a pixel of the mask next to this region is in it
    const rect = minAreaRect(boundary(region, inMask));
    if (Math.min(rect.width, rect.height) < o.minSize) continue;
    const score = boxScore(prob, width, height, rect.corners);
    if (score < o.boxThresh) continue;
    const area = rect.width * rect.height;
    const perimeter = 2 * (rect.width + rect.height);
    const grown = growRect(rect, (area * o.unclipRatio) / perimeter);
    if (Math.min(grown.width, grown.height) < o.minSize + 2) continue;
    const clip = (p: Point): Point => [Math.min(width, Math.max(0, p[0])), Math.min(height, Math.max(0, p[1]))];
    boxes.push({ corners: grown.corners.map(clip) as TextBox['corners'], score });
  }
  return boxes;
}

/** Fraction of a width×height frame covered by the union of the boxes (pixel centres — integer coordinates, as OpenCV — inside any box). */
export function textAreaFraction(boxes: readonly TextBox[], width: number, height: number): number {
  if (boxes.length === 0) return 0;
  const covered = new Uint8Array(width * height);
  for (const b of boxes) {
    const xs = b.corners.map((p) => p[0]);
    const ys = b.corners.map((p) => p[1]);
    const x0 = Math.max(0, Math.floor(Math.min(...xs)));
    const x1 = Math.min(width - 1, Math.ceil(Math.max(...xs)));
    const y0 = Math.max(0, Math.floor(Math.min(...ys)));
    const y1 = Math.min(height - 1, Math.ceil(Math.max(...ys)));
    for (let y = y0; y <= y1; y++)
      for (let x = x0; x <= x1; x++) if (insideConvexQuad(b.corners, x, y)) covered[y * width + x] = 1;
  }
  let n = 0;
  for (const c of covered) n += c;
  return n / (width * height);
}
