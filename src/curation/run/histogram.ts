/** Histograms of a corpus's scores as PNG (Vega-Lite compiled and rendered to SVG headless by Vega, sharp → PNG). */
import sharp from 'sharp';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export async function writeHistogram(path: string, name: string, values: readonly number[]): Promise<void> {
  const spec: TopLevelSpec = {
    width: 480,
    height: 240,
    title: `${name} (${values.length} clips)`,
    background: 'white',
    data: { values: values.map((v) => ({ v })) },
    mark: 'bar',
    encoding: {
      x: { field: 'v', bin: { maxbins: 30 }, type: 'quantitative', title: name },
      y: { aggregate: 'count', type: 'quantitative', title: 'clips' },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).png().toFile(path);
  } finally {
    view.finalize();
  }
}
