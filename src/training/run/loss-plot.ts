/**
 * The run's loss curve as a PNG: a Vega-Lite spec compiled and rendered to SVG headless by Vega (no canvas, no
 * browser), rasterised by sharp. Training loss per step (thin) and the validation loss (points), log scale.
 */
import sharp from 'sharp';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface LossPoint {
  step: number;
  loss: number;
  /** `train` or `validation`. */
  series: string;
}

/** The SVG text of the loss curve. */
export async function lossCurveSvg(points: readonly LossPoint[], title: string): Promise<string> {
  const spec: TopLevelSpec = {
    width: 640,
    height: 320,
    title,
    background: 'white',
    data: {
      values: points.filter((p) => Number.isFinite(p.loss) && p.loss > 0) as unknown as Record<string, unknown>[],
    },
    mark: { type: 'line', point: { size: 12 }, strokeWidth: 1.2 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { type: 'log' } },
      color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 400 } },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes the loss curve to `path` (PNG). */
export async function writeLossCurve(path: string, points: readonly LossPoint[], title: string): Promise<void> {
  const svg = await lossCurveSvg(points, title);
  await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).png().toFile(path);
}
