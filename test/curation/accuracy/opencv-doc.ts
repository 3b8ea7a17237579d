/**
 * Real photographs and footage from Debian's `opencv-doc` (installed by scripts/setup-debian.sh; its copyright file:
 * Apache-2.0 AND BSD-3-Clause, the OpenCV copyright holders), used by the accuracy tests. Nothing is copied into
 * the repository: clips are made from these files with ffmpeg at test time.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const OPENCV_DATA = '/usr/share/doc/opencv-doc/examples/data';

/** Photographs in which the PP-OCRv4 detector finds no text at all (checked one by one). */
export const TEXT_FREE_PHOTOS = [
  'fruits.jpg',
  'starry_night.jpg',
  'baboon.jpg',
  'home.jpg',
  'building.jpg',
  'orange.jpg',
  'aero1.jpg',
  'aero3.jpg',
  'apple.jpg',
  'butterfly.jpg',
  'leuvenA.jpg',
  'smarties.png',
  'squirrel_cls.jpg',
  'basketball1.png',
  'rubberwhale1.png',
  'aloeL.jpg',
];

/** The absolute path of an opencv-doc data file; throws a one-line instruction when the package is missing. */
export function opencvData(name: string): string {
  const p = join(OPENCV_DATA, name);
  if (!existsSync(p))
    throw new Error(`${p} is missing: install Debian's opencv-doc (bash scripts/setup-debian.sh does it)`);
  return p;
}
