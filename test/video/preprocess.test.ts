/** Image preprocessing to the model's frame size: cover geometry, crop, alpha on white, grayscale, input errors. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { ImageInputError } from '../../src/video/errors.ts';
import {
  checkSizeDivisible,
  coverGeometry,
  MAX_IMAGE_SIDE,
  preprocessImage,
  requiredSizeMultiple,
  SVD_FRAME_SIZE,
  unusualSizeWarning,
  upscaleWarning,
} from '../../src/video/preprocess.ts';

const dir = mkdtempSync(join(tmpdir(), 'svd-preprocess-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A PNG from raw pixels (channels 1, 3 or 4). */
async function png(width: number, height: number, channels: 1 | 3 | 4, pixel: (x: number, y: number) => number[]) {
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), (y * width + x) * channels);
  }
  return sharp(raw, { raw: { width, height, channels } }).png().toBuffer();
}

/** A PNG header of the given size with a token IDAT (no real pixels): enough for sharp to read the size. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  const idat = Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]); // an empty zlib stream
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

const pixelAt = (data: Uint8Array, width: number, x: number, y: number) => [
  ...data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3),
];

async function rejectsWith(p: Promise<unknown>, problem: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ImageInputError, `expected ImageInputError, got ${e}`);
    assert.equal(e.problem, problem);
    assert.match(e.message, pattern);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
}

describe('cover geometry (streamlit_helpers.py::load_img_for_prediction)', () => {
  test('100×60 → 64×64: scale 64/60, resized 107×64, crop at (21, 0)', () => {
    assert.deepEqual(coverGeometry({ width: 100, height: 60 }, { width: 64, height: 64 }), {
      resized: { width: 107, height: 64 },
      crop: { left: 21, top: 0 },
    });
  });

  test('the released models: 16:9 maps exactly, other aspects crop the centre', () => {
    assert.deepEqual(coverGeometry({ width: 1920, height: 1080 }, SVD_FRAME_SIZE), {
      resized: { width: 1024, height: 576 },
      crop: { left: 0, top: 0 },
    });
    assert.deepEqual(coverGeometry({ width: 1000, height: 1000 }, SVD_FRAME_SIZE), {
      resized: { width: 1024, height: 1024 },
      crop: { left: 0, top: 224 },
    });
    // portrait: W/w wins; ceil(1500·1024/1000) = 1536 → top = floor((1536 − 576)/2)
    assert.deepEqual(coverGeometry({ width: 1000, height: 1500 }, SVD_FRAME_SIZE), {
      resized: { width: 1024, height: 1536 },
      crop: { left: 0, top: 480 },
    });
  });
});

describe('preprocessImage', () => {
  test('100×60 RGBA → 64×64: transparent pixels become white, the crop keeps the centre', async () => {
    // left 40 columns fully transparent black, the rest opaque red
    const file = join(dir, 'rgba.png');
    writeFileSync(file, await png(100, 60, 4, (x) => (x < 40 ? [0, 0, 0, 0] : [255, 0, 0, 255])));
    const r = await preprocessImage(file, { target: { width: 64, height: 64 } });
    assert.deepEqual(r.original, { width: 100, height: 60 });
    assert.deepEqual(r.resized, { width: 107, height: 64 });
    assert.deepEqual(r.crop, { left: 21, top: 0 });
    assert.equal(r.image.width, 64);
    assert.equal(r.image.height, 64);
    assert.equal(r.image.data.length, 64 * 64 * 3);
    // output column x is resized column x + 21, i.e. source column (x + 21)·100/107: white up to x ≈ 21
    for (const y of [0, 31, 63]) {
      assert.deepEqual(pixelAt(r.image.data, 64, 2, y), [255, 255, 255]);
      assert.deepEqual(pixelAt(r.image.data, 64, 50, y), [255, 0, 0]);
    }
    assert.match(r.warnings.join(), /64×64 .* 1024×576/);
  });

  test('a crop without resampling is bit-exact (scale 1: 128×64 → 64×64 at left 32)', async () => {
    const pixel = (x: number, y: number) => [x * 2, y * 4, (x + y) % 256];
    const r = await preprocessImage(await png(128, 64, 3, pixel), { target: { width: 64, height: 64 } });
    assert.deepEqual(r.crop, { left: 32, top: 0 });
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) assert.deepEqual(pixelAt(r.image.data, 64, x, y), pixel(x + 32, y));
    }
  });

  test('grayscale becomes RGB with equal channels', async () => {
    const r = await preprocessImage(await png(64, 64, 1, (x) => [x * 4]), { target: { width: 64, height: 64 } });
    for (const x of [0, 17, 63]) assert.deepEqual(pixelAt(r.image.data, 64, x, 5), [x * 4, x * 4, x * 4]);
  });

  test('JPEG and WebP decode too (from files or buffers)', async () => {
    const base = sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 200, g: 100, b: 50 } } });
    const jpeg = join(dir, 'flat.jpg');
    writeFileSync(jpeg, await base.clone().jpeg({ quality: 95 }).toBuffer());
    const webp = await base.clone().webp({ lossless: true }).toBuffer();
    for (const input of [jpeg, webp]) {
      const r = await preprocessImage(input, { target: { width: 64, height: 64 } });
      assert.deepEqual(r.resized, { width: 96, height: 64 });
      assert.deepEqual(r.crop, { left: 16, top: 0 });
      const [red, green, blue] = pixelAt(r.image.data, 64, 32, 32);
      assert.ok(
        Math.abs(red - 200) <= 2 && Math.abs(green - 100) <= 2 && Math.abs(blue - 50) <= 2,
        `${red},${green},${blue}`,
      );
    }
  });

  test('the released size gives no warning; native mode keeps the size', async () => {
    const img = await png(512, 288, 3, () => [10, 20, 30]);
    const cover = await preprocessImage(img);
    assert.equal(cover.image.width, 1024);
    assert.equal(cover.image.height, 576);
    assert.deepEqual(cover.warnings, []);
    assert.deepEqual(pixelAt(cover.image.data, 1024, 500, 300), [10, 20, 30]);

    const native = await preprocessImage(await png(128, 64, 3, () => [1, 2, 3]), { mode: 'native' });
    assert.equal(native.image.width, 128);
    assert.equal(native.image.height, 64);
    assert.equal(native.warnings.length, 1);
  });

  test('native mode rounds a size off the multiple down, with a warning; below the multiple it refuses', async () => {
    const r = await preprocessImage(await png(130, 72, 3, () => [10, 20, 30]), { mode: 'native' });
    assert.deepEqual([r.image.width, r.image.height], [128, 64]);
    assert.deepEqual(r.resized, { width: 128, height: 64 });
    assert.deepEqual(pixelAt(r.image.data, 128, 100, 50), [10, 20, 30]);
    assert.match(r.warnings[0], /130×72 is not a multiple of 64: resized to 128×64 \(rounded down/);
    assert.equal(r.warnings.length, 2); // and 128×64 is not the trained size
    const exact = await preprocessImage(await png(128, 64, 3, () => [1, 2, 3]), { mode: 'native', multiple: 16 });
    assert.ok(!exact.warnings.some((w) => /rounded down/.test(w)));
    await rejectsWith(
      preprocessImage(await png(100, 40, 3, () => [1, 2, 3]), { mode: 'native' }),
      'not-divisible',
      /100×40 .*smaller than the model's 64-pixel multiple/,
    );
  });

  test('an input much smaller than the output warns that it is upscaled (over 2×)', async () => {
    const size = { width: 64, height: 64 };
    const tiny = await preprocessImage(await png(1, 1, 3, () => [9, 9, 9]), { target: size, trainedSize: size });
    assert.deepEqual(tiny.warnings, [
      'input image 1×1 is much smaller than the 64×64 output (upscaled 64×); expect a blurry video, or pass a smaller --size',
    ]);
    assert.equal(upscaleWarning({ width: 512, height: 288 }, { width: 1024, height: 576 }), undefined);
    assert.match(upscaleWarning({ width: 400, height: 300 }, { width: 1024, height: 576 }) ?? '', /upscaled 2\.6×/);
  });

  test('errors: missing file, directory, not an image, empty file, too large', async () => {
    await rejectsWith(preprocessImage(join(dir, 'nope.png')), 'missing', /not found: .*nope\.png/);
    await rejectsWith(preprocessImage(dir), 'unreadable', /directory/);
    const text = join(dir, 'text.png');
    writeFileSync(text, 'hello, not an image');
    await rejectsWith(preprocessImage(text), 'not-an-image', /not an image .*text\.png/);
    const empty = join(dir, 'empty.png');
    writeFileSync(empty, '');
    await rejectsWith(preprocessImage(empty), 'empty', /empty/);
    await rejectsWith(preprocessImage(new Uint8Array(0)), 'empty', /empty/);
    const wide = await sharp({
      create: { width: MAX_IMAGE_SIDE + 1, height: 2, channels: 3, background: { r: 0, g: 0, b: 0 } },
    })
      .png()
      .toBuffer();
    await rejectsWith(preprocessImage(wide), 'too-large', /16385×2 is too large: at most 16384 pixels a side/);
    await rejectsWith(preprocessImage(pngHeaderOnly(12000, 9000)), 'too-large', /100 megapixels/);
  });
});

describe('size divisibility', () => {
  test('the multiple is 8·2^(levels−1): 64 for SVD channel_mult [1, 2, 4, 4]', () => {
    assert.equal(requiredSizeMultiple(4), 64);
    assert.equal(requiredSizeMultiple(2), 16);
    assert.equal(requiredSizeMultiple(1), 8);
  });

  test('a size off the multiple is an ImageInputError naming the size and the multiple', () => {
    checkSizeDivisible({ width: 1024, height: 576 }, 64);
    assert.throws(
      () => checkSizeDivisible({ width: 1000, height: 576 }, 64),
      (e: unknown) =>
        e instanceof ImageInputError && e.problem === 'not-divisible' && /1000×576.*multiple of 64/.test(e.message),
    );
    assert.throws(() => checkSizeDivisible({ width: 0, height: 64 }, 64), ImageInputError);
  });

  test('a target off the multiple fails before the image is read', async () => {
    await rejectsWith(
      preprocessImage(join(dir, 'nope.png'), { target: { width: 100, height: 64 } }),
      'not-divisible',
      /100×64/,
    );
  });

  test('an unusual size is a warning, the trained size is not', () => {
    assert.equal(unusualSizeWarning({ width: 1024, height: 576 }), undefined);
    assert.match(unusualSizeWarning({ width: 576, height: 1024 }) ?? '', /576×1024 .* 1024×576/);
  });
});
