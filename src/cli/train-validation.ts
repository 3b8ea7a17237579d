/**
 * Validation videos of `svd train` (image-to-video stages): at each validation, the image-to-video pipeline runs with
 * the weights trained so far on the fixed validation image, once per seed of `validation.seeds`, and writes
 * `<run>/val/step-<n>-seed-<s>.gif` — the same seeds every time, so the videos show what training changed.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { imageToVideoBatch } from '../pipeline/image-to-video.ts';
import { defaultParams } from '../pipeline/params.ts';
import { Engine } from '../runtime/engine.ts';
import type { ValidationVideoRequest } from '../training/run/train-run.ts';
import { unitFramesToVideo } from '../video/frames.ts';
import { writeVideo } from '../video/writers.ts';

export async function writeValidationVideos(r: ValidationVideoRequest): Promise<string[]> {
  const { config, model } = r;
  const frames = config.data.frames;
  const fps = config.data.fps[0];
  const engine = await Engine.create({ threads: config.threads });
  try {
    const batch = await imageToVideoBatch(
      engine,
      model,
      r.weights,
      config.validation.seeds.map((seed) => ({
        inputs: { image: r.image },
        params: {
          ...defaultParams(model.sampling),
          frames,
          steps: config.validation.steps,
          decodeChunk: frames,
          fpsId: Math.max(0, Math.round(fps) - 1),
          seed,
        },
      })),
    );
    await mkdir(r.dir, { recursive: true });
    const written: string[] = [];
    for (let i = 0; i < batch.videos.length; i++) {
      const path = join(r.dir, `step-${String(r.step).padStart(7, '0')}-seed-${config.validation.seeds[i]}.gif`);
      await writeVideo(unitFramesToVideo(batch.videos[i].frames), path, { fps });
      written.push(path);
    }
    return written;
  } finally {
    await engine.dispose();
  }
}
