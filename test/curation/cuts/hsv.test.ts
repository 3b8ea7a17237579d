/**
 * HSV equals OpenCV's `cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)` (8-bit) on all 2^24 colours: the hashes of OpenCV's
 * table in hsv-table.json (scripts/make-cut-vectors.py) are reproduced slice by slice, and a few colours are checked
 * by value so a failure shows numbers.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { rgbToHsvPixel, rgbToHsvPlanes } from '../../../src/curation/cuts/hsv.ts';
import { FIXTURES } from './media.ts';

interface HsvTable {
  opencv: string;
  all: string;
  bySlice: string[];
  samples: { rgb: [number, number, number]; hsv: [number, number, number] }[];
}

const table = JSON.parse(readFileSync(join(FIXTURES, 'hsv-table.json'), 'utf8')) as HsvTable;

describe('OpenCV HSV', () => {
  test('sample colours, by value', () => {
    assert.ok(table.samples.length >= 50);
    for (const { rgb, hsv } of table.samples) {
      assert.deepEqual(rgbToHsvPixel(rgb[0], rgb[1], rgb[2]), hsv, `rgb ${rgb}`);
    }
    // hue wraps below 0 (magenta-ish reds), H stays in [0, 180)
    assert.deepEqual(rgbToHsvPixel(255, 0, 40), [175, 255, 255]);
    assert.deepEqual(rgbToHsvPixel(255, 0, 1), [0, 255, 255]);
    assert.deepEqual(rgbToHsvPixel(0, 0, 0), [0, 0, 0]);
    assert.deepEqual(rgbToHsvPixel(255, 255, 255), [0, 0, 255]);
  });

  test(`every 8-bit colour equals OpenCV ${table.opencv} (2^24 colours, by hash per red value)`, () => {
    const n = 65536;
    const rgb = new Uint8Array(3 * n);
    const planes = new Uint8Array(3 * n);
    const interleaved = new Uint8Array(3 * n);
    const all = createHash('sha256');
    const bad: number[] = [];
    let maxH = 0;
    for (let r = 0; r < 256; r++) {
      for (let p = 0; p < n; p++) {
        rgb[3 * p] = r;
        rgb[3 * p + 1] = p >> 8;
        rgb[3 * p + 2] = p & 255;
      }
      rgbToHsvPlanes(rgb, planes, n);
      for (let p = 0; p < n; p++) {
        interleaved[3 * p] = planes[p];
        interleaved[3 * p + 1] = planes[n + p];
        interleaved[3 * p + 2] = planes[2 * n + p];
        if (planes[p] > maxH) maxH = planes[p];
      }
      all.update(interleaved);
      if (createHash('sha256').update(interleaved).digest('hex') !== table.bySlice[r]) bad.push(r);
    }
    assert.deepEqual(bad, [], `HSV differs from OpenCV for colours with these red values: ${bad.slice(0, 10)}`);
    assert.equal(all.digest('hex'), table.all);
    assert.equal(maxH, 179, 'H range is [0, 180)');
  });

  test('planar output: H, S, V planes of a frame, nothing written past 3·pixels', () => {
    const rgb = Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30);
    const out = new Uint8Array(13).fill(7);
    rgbToHsvPlanes(rgb, out, 4);
    assert.deepEqual([...out.subarray(0, 4)], [0, 60, 120, 105]);
    assert.deepEqual([...out.subarray(4, 8)], [255, 255, 255, 170]);
    assert.deepEqual([...out.subarray(8, 12)], [255, 255, 255, 30]);
    assert.equal(out[12], 7);
    assert.throws(() => rgbToHsvPlanes(rgb, new Uint8Array(6), 4), RangeError);
  });
});
