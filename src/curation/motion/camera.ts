/**
 * Camera motion from a flow field: a least-squares fit of the 4-parameter similarity model (translation, zoom,
 * rotation about the frame centre) and a class read off its terms.
 *
 * Model, with (x̂, ŷ) = pixel position minus the frame centre:
 *
 *   u = tx + z·x̂ − r·ŷ,   v = ty + r·x̂ + z·ŷ
 *
 * On a region symmetric about the centre (the frame minus a border margin, where Farneback is weakest and where a
 * pan uncovers new content) the normal equations decouple: tx = mean u, ty = mean v, z = Σ(u·x̂ + v·ŷ) / Σ(x̂² + ŷ²),
 * r = Σ(v·x̂ − u·ŷ) / Σ(x̂² + ŷ²).
 *
 * Classes name what the camera does, the opposite of what the picture does: content moving left (tx < 0) is a
 * pan to the right; content moving up (ty < 0) is a pan down (a tilt, also called pan here); content expanding
 * (z > 0) is a zoom in. Thresholds (all displacements in fractions of the frame diagonal per sample pair, the unit of
 * the motion score, so they hold at any analysis size):
 *
 * - `static`: the mean flow magnitude is below {@link CAMERA_THRESHOLDS}.static (0.002: about 1 pixel per half
 *   second at the 455×256 analysis size of a 16:9 video);
 * - `other`: the model explains too little — the RMS residual exceeds `unexplained` (0.5) times the RMS of the
 *   model's own flow (independent motions, non-rigid content, parallax) — or the dominant term is a rotation, or a
 *   pan is diagonal (the smaller translation component is more than `diagonal` (0.5) times the larger, i.e. the
 *   direction is more than 26.6° off both axes);
 * - `zoom-in` / `zoom-out`: the zoom term's RMS displacement is the largest of the three terms;
 * - `pan-left` / `pan-right` / `pan-up` / `pan-down`: otherwise, by the dominant translation axis and its sign.
 */

/** What the camera does over a pair (or a clip). */
export type CameraMotionClass =
  | 'static'
  | 'pan-left'
  | 'pan-right'
  | 'pan-up'
  | 'pan-down'
  | 'zoom-in'
  | 'zoom-out'
  | 'other';

/** The similarity fit of one flow field; displacements in fractions of the frame diagonal. */
export interface CameraFit {
  /** Translation of the content (x right, y down). */
  tx: number;
  ty: number;
  /** Relative scale change of the content (0.05: 5 % larger). */
  zoom: number;
  /** Rotation of the content in radians (x toward y: clockwise on screen). */
  rotation: number;
  /** Mean flow magnitude over the fitted region. */
  magnitude: number;
  /** RMS distance of the fitted region's pixels from the centre (the lever arm of zoom and rotation). */
  radius: number;
  /**
   * RMS over the region of the model's flow, of each term's flow, and of the residual (flow − model). On a region
   * symmetric about the centre the terms are orthogonal: modelRms² = translationRms² + zoomRms² + rotationRms².
   */
  modelRms: number;
  translationRms: number;
  zoomRms: number;
  rotationRms: number;
  residualRms: number;
}

/** The thresholds of {@link classifyCamera}, in fractions of the frame diagonal or ratios. */
export interface CameraThresholds {
  static: number;
  unexplained: number;
  diagonal: number;
}

/** The documented thresholds of {@link classifyCamera}. */
export const CAMERA_THRESHOLDS: Readonly<CameraThresholds> = Object.freeze({
  /** Mean magnitude below which nothing moves. */
  static: 0.002,
  /** Residual RMS above this fraction of the model's RMS: the camera model does not explain the flow. */
  unexplained: 0.5,
  /** A pan whose minor translation component exceeds this fraction of the major one is diagonal ('other'). */
  diagonal: 0.5,
});

/**
 * Fits the similarity model to a width×height flow (interleaved dx, dy in pixels) over the frame minus `margin`
 * pixels on each side (default: 5 % of the shorter side, at least 8).
 */
export function fitCamera(flow: Float32Array, width: number, height: number, margin?: number): CameraFit {
  const m = Math.min(
    margin ?? Math.max(8, Math.round(0.05 * Math.min(width, height))),
    Math.floor((Math.min(width, height) - 1) / 2),
  );
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  let n = 0;
  let su = 0;
  let sv = 0;
  let sr2 = 0;
  let sz = 0;
  let sr = 0;
  let smag = 0;
  for (let y = m; y < height - m; y++) {
    const yh = y - cy;
    for (let x = m; x < width - m; x++) {
      const xh = x - cx;
      const i = (y * width + x) * 2;
      const u = flow[i];
      const v = flow[i + 1];
      n++;
      su += u;
      sv += v;
      sr2 += xh * xh + yh * yh;
      sz += u * xh + v * yh;
      sr += v * xh - u * yh;
      smag += Math.sqrt(u * u + v * v);
    }
  }
  const tx = su / n;
  const ty = sv / n;
  const zoom = sr2 > 0 ? sz / sr2 : 0;
  const rotation = sr2 > 0 ? sr / sr2 : 0;
  // second pass: the residual
  let res2 = 0;
  for (let y = m; y < height - m; y++) {
    const yh = y - cy;
    for (let x = m; x < width - m; x++) {
      const xh = x - cx;
      const i = (y * width + x) * 2;
      const mu = tx + zoom * xh - rotation * yh;
      const mv = ty + rotation * xh + zoom * yh;
      const du = flow[i] - mu;
      const dv = flow[i + 1] - mv;
      res2 += du * du + dv * dv;
    }
  }
  const diag = Math.hypot(width, height);
  return withTerms({
    tx: tx / diag,
    ty: ty / diag,
    zoom,
    rotation,
    magnitude: smag / n / diag,
    radius: Math.sqrt(sr2 / n) / diag,
    residualRms: Math.sqrt(res2 / n) / diag,
  });
}

type FitParams = Pick<CameraFit, 'tx' | 'ty' | 'zoom' | 'rotation' | 'magnitude' | 'radius' | 'residualRms'>;

function withTerms(p: FitParams): CameraFit {
  const translationRms = Math.hypot(p.tx, p.ty);
  const zoomRms = Math.abs(p.zoom) * p.radius;
  const rotationRms = Math.abs(p.rotation) * p.radius;
  const modelRms = Math.sqrt(translationRms ** 2 + zoomRms ** 2 + rotationRms ** 2);
  return { ...p, modelRms, translationRms, zoomRms, rotationRms };
}

/**
 * A clip's fit from its pairs' fits: the mean of the parameters and of the magnitude, the RMS of the residuals; the
 * terms' RMS are those of the mean parameters.
 */
export function meanCameraFit(fits: readonly CameraFit[]): CameraFit {
  if (fits.length === 0) throw new RangeError('meanCameraFit: no fits');
  const mean = (k: keyof CameraFit) => fits.reduce((s, f) => s + f[k], 0) / fits.length;
  return withTerms({
    tx: mean('tx'),
    ty: mean('ty'),
    zoom: mean('zoom'),
    rotation: mean('rotation'),
    magnitude: mean('magnitude'),
    radius: mean('radius'),
    residualRms: Math.sqrt(fits.reduce((s, f) => s + f.residualRms ** 2, 0) / fits.length),
  });
}

/** The camera-motion class of a fit (see the module comment for the rules and thresholds). */
export function classifyCamera(fit: CameraFit, t: CameraThresholds = CAMERA_THRESHOLDS): CameraMotionClass {
  if (fit.magnitude < t.static) return 'static';
  if (fit.residualRms > t.unexplained * fit.modelRms) return 'other';
  const { translationRms, zoomRms, rotationRms } = fit;
  if (zoomRms >= translationRms && zoomRms >= rotationRms) return fit.zoom > 0 ? 'zoom-in' : 'zoom-out';
  if (rotationRms > translationRms) return 'other';
  const ax = Math.abs(fit.tx);
  const ay = Math.abs(fit.ty);
  if (Math.min(ax, ay) > t.diagonal * Math.max(ax, ay)) return 'other';
  if (ax >= ay) return fit.tx < 0 ? 'pan-right' : 'pan-left';
  return fit.ty < 0 ? 'pan-down' : 'pan-up';
}
