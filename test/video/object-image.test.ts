/**
 * The SV3D input view (src/video/object-image.ts): a transparent image's object centred on a white square and
 * resized to the target, as simple_video_sample.py does; an opaque image used as it is with the no-rembg warning.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import {
  alphaBox,
  compositeOnWhite,
  NO_BACKGROUND_REMOVAL_WARNING,
  prepareObjectImage,
} from '../../src/video/object-image.ts';

const SIZE = { width: 64, height: 64 };
const OPTS = { target: SIZE, multiple: 64, trainedSize: SIZE } as const;

/** A 96×80 (W×H) RGBA PNG: transparent, with an opaque red 20×10 box at (x 60, y 5). */
async function cornerObject(): Promise<Uint8Array> {
  const [w, h] = [96, 80];
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 5; y < 15; y++) for (let x = 60; x < 80; x++) rgba.set([255, 0, 0, 255], (y * w + x) * 4);
  return sharp(rgba, { raw: { width: w, height: h, channels: 4 } })
    .png()
    .toBuffer();
}

describe('prepareObjectImage', () => {
  test('alphaBox and the white composite (float64, truncated)', () => {
    const rgba = new Uint8Array(4 * 4 * 4);
    rgba.set([10, 20, 30, 128], (1 * 4 + 2) * 4);
    rgba.set([0, 0, 0, 255], (2 * 4 + 3) * 4);
    assert.deepEqual(alphaBox(rgba, 4, 4), { left: 2, top: 1, width: 2, height: 2 });
    assert.equal(alphaBox(new Uint8Array(16), 2, 2), undefined);
    // (10/255 · 128/255 + (1 − 128/255)) · 255 = 132.0196… → 132
    assert.deepEqual(
      [...compositeOnWhite(new Uint8Array([10, 20, 30, 128, 9, 9, 9, 0]))],
      [132, 137, 142, 255, 255, 255],
    );
  });

  test('a transparent image: the object is centred on white at the target size', async () => {
    const pre = await prepareObjectImage(await cornerObject(), OPTS);
    assert.equal(pre.background, 'transparent: object centred on white');
    assert.deepEqual(pre.object, { left: 60, top: 5, width: 20, height: 10 });
    assert.deepEqual(pre.warnings, []);
    assert.deepEqual([pre.image.width, pre.image.height], [64, 64]);
    const px = (x: number, y: number) => [...pre.image.data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)];
    // Square side 80 (the image height) → 64: the 20×10 box lands at the centre, 16×8 pixels around (32, 32).
    assert.deepEqual(px(32, 32), [255, 0, 0]);
    assert.deepEqual(px(25, 29), [255, 0, 0]);
    assert.deepEqual(px(2, 2), [255, 255, 255]);
    assert.deepEqual(px(60, 8), [255, 255, 255]);
    let red = 0;
    for (let i = 0; i < 64 * 64; i++) if (pre.image.data[i * 3 + 1] < 128) red++;
    assert.ok(red > 100 && red < 160, `${red} red pixels (16×8 = 128 expected)`);
  });

  test('an opaque image: used as it is (cover-resized), with the no-background-removal warning', async () => {
    const png = await sharp({ create: { width: 128, height: 96, channels: 3, background: { r: 0, g: 90, b: 0 } } })
      .png()
      .toBuffer();
    const pre = await prepareObjectImage(png, OPTS);
    assert.equal(pre.background, 'opaque: used as it is (no background removal)');
    assert.equal(pre.warnings[0], NO_BACKGROUND_REMOVAL_WARNING);
    assert.match(NO_BACKGROUND_REMOVAL_WARNING, /rembg, which svd-ts does not have/);
    assert.deepEqual([pre.image.width, pre.image.height], [64, 64]);
    assert.deepEqual([...pre.image.data.subarray(0, 3)], [0, 90, 0]);
  });

  test('native keeps the image (alpha on white, no re-centring); a fully transparent image has no object', async () => {
    const pre = await prepareObjectImage(await cornerObject(), { ...OPTS, target: 'native', multiple: 16 });
    assert.deepEqual([pre.image.width, pre.image.height], [96, 80]);
    assert.deepEqual(pre.object, undefined);
    const empty = await sharp({
      create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    await assert.rejects(prepareObjectImage(empty, OPTS), /fully transparent: there is no object/);
  });
});
