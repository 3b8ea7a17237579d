/**
 * The second footage set of svd-mini (issue 11): more zooms. The first set (build-footage.ts) pans each training photo
 * at three speeds in four directions (12 clips a photo) but zooms it at one rate each way (2 clips), and the models
 * trained on it did not learn to zoom (README, "Zoom"). This set adds, for every training photo, zooms in and out at
 * three rates (0.0125, 0.025 and 0.05 of the frame per frame, as the pans have three speeds) over the photo and its
 * mirror image, less the two clips the first set already has: 10 clips a photo, so that zooms (12 a photo) weigh as
 * much as pans in training. Clips go to OUT/footage/train-zoom/, their records to OUT/footage-zoom.jsonl.
 * Usage: node --import tsx scripts/svd-mini/build-zoom-footage.ts OUT_DIR [--size 128]
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { cameraClip, type FootageRecord, TRAIN_PHOTOS, ZOOM_RATE } from './build-footage.ts';

/** Zoom factor change per frame, slow to fast: half, once and twice the first set's rate. */
const ZOOM_RATES = [ZOOM_RATE / 2, ZOOM_RATE, ZOOM_RATE * 2];

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { size: { type: 'string', default: '128' } },
    allowPositionals: true,
  });
  const outDir = positionals[0];
  if (!outDir) throw new Error('usage: build-zoom-footage.ts OUT_DIR [--size 128]');
  const size = Number(values.size);
  const clips = join(outDir, 'footage', 'train-zoom');
  mkdirSync(clips, { recursive: true });
  const records: FootageRecord[] = [];
  const started = Date.now();
  for (const photo of TRAIN_PHOTOS) {
    const base = basename(photo).replace(/\.\w+$/, '');
    for (const [k, rate] of ZOOM_RATES.entries())
      for (const camera of ['zoom-in', 'zoom-out'] as const)
        for (const mirror of [false, true]) {
          if (rate === ZOOM_RATE && !mirror) continue; // the first set has it
          const file = `${base}${mirror ? '-mirrored' : ''}-${camera}-${k + 1}.mp4`;
          await cameraClip(photo, join(clips, file), camera, rate, size, mirror);
          const zoomRate = camera === 'zoom-in' ? rate : -rate;
          records.push({
            file: join('footage', 'train-zoom', file),
            split: 'train',
            photo: basename(photo),
            kind: 'camera',
            camera,
            zoomRate,
          });
        }
    process.stderr.write(`build-zoom-footage: ${records.length} clips\r`);
  }
  // the records last, whole: the recipe takes their presence as "this set is built"
  const list = join(outDir, 'footage-zoom.jsonl');
  writeFileSync(`${list}.partial`, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  renameSync(`${list}.partial`, list);
  process.stderr.write(
    `build-zoom-footage: ${records.length} clips from ${TRAIN_PHOTOS.length} photos in ${clips} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
