/**
 * Plane geometry for the text detector's post-processing: convex hull, the minimum-area enclosing rectangle of a
 * point set (what OpenCV's `minAreaRect` returns, via the hull's edge directions), and quadrilateral tests.
 */

export type Point = readonly [number, number];

/** Convex hull (Andrew's monotone chain), counter-clockwise in a y-up frame, no collinear points. */
export function convexHull(points: readonly Point[]): Point[] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length <= 2) return p;
  const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Point[] = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: Point[] = [];
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/** A rotated rectangle: its four corners in order around it, and its side lengths. */
export interface RotatedRect {
  corners: [Point, Point, Point, Point];
  width: number;
  height: number;
}

/**
 * The smallest-area rectangle enclosing the points (one of its sides lies on a hull edge). Fewer than three distinct
 * points give a degenerate rectangle (zero width or height), as OpenCV's `minAreaRect` does.
 */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0)
    return {
      corners: [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ],
      width: 0,
      height: 0,
    };
  let best: RotatedRect | undefined;
  let bestArea = Number.POSITIVE_INFINITY;
  const edges = hull.length === 1 ? 1 : hull.length;
  for (let i = 0; i < edges; i++) {
    const a = hull[i];
    const b = hull[(i + 1) % hull.length];
    let ux = b[0] - a[0];
    let uy = b[1] - a[1];
    const len = Math.hypot(ux, uy);
    if (len === 0) {
      ux = 1;
      uy = 0;
    } else {
      ux /= len;
      uy /= len;
    }
    // project on the edge direction u and its normal v
    let minU = Number.POSITIVE_INFINITY;
    let maxU = Number.NEGATIVE_INFINITY;
    let minV = Number.POSITIVE_INFINITY;
    let maxV = Number.NEGATIVE_INFINITY;
    for (const q of hull) {
      const pu = q[0] * ux + q[1] * uy;
      const pv = -q[0] * uy + q[1] * ux;
      minU = Math.min(minU, pu);
      maxU = Math.max(maxU, pu);
      minV = Math.min(minV, pv);
      maxV = Math.max(maxV, pv);
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea - 1e-9) {
      bestArea = area;
      const at = (pu: number, pv: number): Point => [pu * ux - pv * uy, pu * uy + pv * ux];
      best = {
        corners: [at(minU, minV), at(maxU, minV), at(maxU, maxV), at(minU, maxV)],
        width: maxU - minU,
        height: maxV - minV,
      };
    }
  }
  return best as RotatedRect;
}

/** The rectangle grown by `d` on every side (same centre and orientation). */
export function growRect(r: RotatedRect, d: number): RotatedRect {
  const [p0, p1, , p3] = r.corners;
  const ux = r.width > 0 ? (p1[0] - p0[0]) / r.width : 1;
  const uy = r.width > 0 ? (p1[1] - p0[1]) / r.width : 0;
  const vx = r.height > 0 ? (p3[0] - p0[0]) / r.height : -uy;
  const vy = r.height > 0 ? (p3[1] - p0[1]) / r.height : ux;
  const w = r.width + 2 * d;
  const h = r.height + 2 * d;
  const o: Point = [p0[0] - d * ux - d * vx, p0[1] - d * uy - d * vy];
  const at = (a: number, b: number): Point => [o[0] + a * ux + b * vx, o[1] + a * uy + b * vy];
  return { corners: [at(0, 0), at(w, 0), at(w, h), at(0, h)], width: w, height: h };
}

/** Whether (x, y) lies inside the convex quadrilateral (or within `tolerance` of its edges). */
export function insideConvexQuad(q: readonly Point[], x: number, y: number, tolerance = 0): boolean {
  let sign = 0;
  for (let i = 0; i < q.length; i++) {
    const a = q[i];
    const b = q[(i + 1) % q.length];
    const ex = b[0] - a[0];
    const ey = b[1] - a[1];
    const len = Math.hypot(ex, ey) || 1;
    const c = (ex * (y - a[1]) - ey * (x - a[0])) / len; // signed distance to the edge line
    if (Math.abs(c) <= tolerance) continue;
    const s = Math.sign(c);
    if (sign === 0) sign = s;
    else if (s !== sign) return false;
  }
  return true;
}
