/**
 * Image input: decode PNG/JPEG/WebP with sharp into the reference's tensor layout. The reference script does
 * `ToTensor()(image) * 2 − 1` on an RGB PIL image: uint8/255 in float32, then ×2 − 1 → [1, 3, H, W] in [−1, 1].
 * Transparent images are composited on white (the reference demos' behaviour); grayscale becomes RGB.
 */
import sharp from 'sharp';
import { HostTensor } from '../tensor/host-tensor.ts';

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved RGB, row-major, uint8. */
  data: Uint8Array;
}

/** Decodes an image file (or buffer) to 8-bit RGB; alpha is composited on white. */
export async function decodeImageRgb(input: string | Uint8Array): Promise<RgbImage> {
  const { data, info } = await sharp(input)
    .flatten({ background: { r: 255, g: 255, b: 255 } })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after decoding, got ${info.channels}`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** RGB uint8 → [1, 3, H, W] float32 in [−1, 1], computed as torch does: (u8 / 255) · 2 − 1 in float32. */
export function rgbToTensor(img: RgbImage): HostTensor<'float32'> {
  const { width: w, height: h, data } = img;
  const out = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < h * w; i++) {
      const unit = Math.fround(data[i * 3 + c] / 255);
      out[c * h * w + i] = Math.fround(Math.fround(unit * 2) - 1);
    }
  }
  return new HostTensor('float32', [1, 3, h, w], out);
}

export async function loadImageTensor(input: string | Uint8Array): Promise<HostTensor<'float32'>> {
  return rgbToTensor(await decodeImageRgb(input));
}
