/**
 * The camera-motion fit and class on analytic flow fields: the least-squares similarity fit recovers translation,
 * zoom and rotation exactly, and each documented threshold decides the class it should.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CAMERA_THRESHOLDS,
  type CameraFit,
  classifyCamera,
  fitCamera,
  meanCameraFit,
} from '../../../src/curation/motion/camera.ts';
import { Rng } from '../../../src/tensor/rng.ts';

const W = 160;
const H = 120;
const DIAG = Math.hypot(W, H);

/** The flow of a similarity motion (pixels), plus optional noise of RMS `noise` per component. */
function similarity(tx: number, ty: number, zoom: number, rotation: number, noise = 0, seed = 1): Float32Array {
  const flow = new Float32Array(W * H * 2);
  const n = noise > 0 ? new Rng(seed).randn('flow-noise', [W * H * 2]).data : undefined;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const xh = x - (W - 1) / 2;
      const yh = y - (H - 1) / 2;
      const i = (y * W + x) * 2;
      flow[i] = tx + zoom * xh - rotation * yh + (n ? noise * n[i] : 0);
      flow[i + 1] = ty + rotation * xh + zoom * yh + (n ? noise * n[i + 1] : 0);
    }
  }
  return flow;
}

const near = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

describe('fitCamera', () => {
  test('recovers translation, zoom and rotation of an exact similarity flow', () => {
    const f = fitCamera(similarity(3, -2, 0.04, 0.01), W, H);
    near(f.tx, 3 / DIAG, 1e-7, 'tx');
    near(f.ty, -2 / DIAG, 1e-7, 'ty');
    near(f.zoom, 0.04, 1e-7, 'zoom');
    near(f.rotation, 0.01, 1e-7, 'rotation');
    near(f.residualRms, 0, 1e-7, 'residual');
    near(f.modelRms ** 2, f.translationRms ** 2 + f.zoomRms ** 2 + f.rotationRms ** 2, 1e-12, 'orthogonal terms');
    near(f.zoomRms, 0.04 * f.radius, 1e-8, 'zoom displacement = zoom · radius');
  });

  test('noise goes to the residual, not to the parameters', () => {
    const f = fitCamera(similarity(2, 0, 0, 0, 0.5), W, H);
    near(f.tx, 2 / DIAG, 0.02 / DIAG, 'tx');
    near(f.residualRms, (Math.SQRT2 * 0.5) / DIAG, 0.02 / DIAG, 'residual = the noise');
  });

  test('the border margin is left out of the fit', () => {
    const flow = similarity(1, 0, 0, 0);
    for (let y = 0; y < H; y++) for (let x = 0; x < 4; x++) flow[(y * W + x) * 2] = 50; // a bad left edge
    near(fitCamera(flow, W, H).tx, 1 / DIAG, 1e-8, 'default margin 8 px');
    assert.ok(fitCamera(flow, W, H, 0).tx > 1.5 / DIAG, 'no margin: the edge pulls the fit');
  });

  test('meanCameraFit averages parameters and recomputes the terms', () => {
    const a = fitCamera(similarity(2, 0, 0.02, 0), W, H);
    const b = fitCamera(similarity(4, 0, 0, 0), W, H);
    const m = meanCameraFit([a, b]);
    near(m.tx, 3 / DIAG, 1e-8, 'tx');
    near(m.zoom, 0.01, 1e-8, 'zoom');
    near(m.zoomRms, 0.01 * m.radius, 1e-12, 'zoom term of the mean zoom');
    assert.throws(() => meanCameraFit([]), /no fits/);
  });
});

describe('classifyCamera', () => {
  const cls = (tx: number, ty: number, zoom = 0, rotation = 0, noise = 0) =>
    classifyCamera(fitCamera(similarity(tx, ty, zoom, rotation, noise), W, H));

  test('pans name the camera, which moves against the content', () => {
    assert.equal(cls(-4, 0), 'pan-right');
    assert.equal(cls(4, 0), 'pan-left');
    assert.equal(cls(0, -4), 'pan-down');
    assert.equal(cls(0, 4), 'pan-up');
    assert.equal(cls(4, 1.9), 'pan-left', 'within 26.6° of the axis');
  });

  test('zooms, static, rotation, diagonal pans and unexplained flow', () => {
    assert.equal(cls(0, 0, 0.05), 'zoom-in');
    assert.equal(cls(0, 0, -0.05), 'zoom-out');
    assert.equal(cls(0.5, 0, 0.05), 'zoom-in', 'zoom dominates a small drift');
    assert.equal(cls(0.1, 0.05), 'static', `below ${CAMERA_THRESHOLDS.static} of the diagonal`);
    assert.equal(cls(0, 0, 0, 0.05), 'other', 'rotation');
    assert.equal(cls(3, 3), 'other', 'diagonal pan');
    assert.equal(cls(1, 0, 0, 0, 3), 'other', 'noise larger than the model');
  });

  test('the thresholds are parameters', () => {
    const fit: CameraFit = fitCamera(similarity(0.1, 0, 0, 0), W, H);
    assert.equal(classifyCamera(fit), 'static');
    assert.equal(classifyCamera(fit, { ...CAMERA_THRESHOLDS, static: 0.0001 }), 'pan-left');
  });
});
