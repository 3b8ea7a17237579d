/**
 * The input view of a multi-view orbit, prepared as `scripts/sampling/simple_video_sample.py` (Stability-AI/
 * generative-models, SV3D) prepares it: SV3D was trained on one object on a white background, 576×576.
 *   - An image with transparency (RGBA): the object's box (alpha > 0, `cv2.threshold(alpha, 0)` + `boundingRect`) is
 *     cut out and centred on a transparent square whose side is the image height (the script's `in_w`, the first array
 *     dimension; enlarged here when the object would not fit, where the script fails), the square is resized to the
 *     target with Lanczos (sharp `lanczos3`; the script uses PIL LANCZOS, so pixels differ slightly), then composited
 *     on white in float64 and truncated to 8 bits: `rgb·a + (1 − a)`, `(·255).astype(uint8)`.
 *   - An opaque image: the script removes the background with rembg (a U²-Net segmentation model) first. svd-ts has
 *     no background remover, so the image is used as it is — cover-resized and centre-cropped to the target like
 *     `svd generate` — and a warning says so. Cut the object out first (any editor, rembg, SAM) for the reference
 *     behaviour.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { ImageInputError } from './errors.ts';
import type { RgbImage } from './image-io.ts';
import {
  checkSizeDivisible,
  coverGeometry,
  cropRgb,
  type ImageSize,
  type PreprocessedImage,
  preprocessImage,
  resizeRgb,
  unusualSizeWarning,
  upscaleWarning,
} from './preprocess.ts';

export interface ObjectImage extends PreprocessedImage {
  /** How the background was handled. */
  background: 'transparent: object centred on white' | 'opaque: used as it is (no background removal)';
  /** The object's box in the input (transparent inputs). */
  object?: { left: number; top: number; width: number; height: number };
}

export const NO_BACKGROUND_REMOVAL_WARNING =
  'the image has no transparency: SV3D expects one object on a white background, and the reference removes the ' +
  'background with rembg, which svd-ts does not have; the image is used as it is. For the reference behaviour give ' +
  'a PNG whose background is transparent';

/** The box of the pixels with alpha > 0 in RGBA data, or undefined when there are none. */
export function alphaBox(
  rgba: Uint8Array,
  width: number,
  height: number,
): { left: number; top: number; width: number; height: number } | undefined {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (rgba[(y * width + x) * 4 + 3] > 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? undefined : { left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** RGBA on white as the script: `(rgb/255 · a/255 + (1 − a/255)) · 255` in float64, truncated. */
export function compositeOnWhite(rgba: Uint8Array): Uint8Array {
  const n = rgba.length / 4;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = rgba[i * 4 + 3] / 255;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.trunc(((rgba[i * 4 + c] / 255) * a + (1 - a)) * 255);
  }
  return out;
}

/**
 * The input view at `target` (default 576×576): see the module comment. `native` keeps the image's size (alpha on
 * white, no re-centring), as the golden multi-view sets use it.
 */
export async function prepareObjectImage(
  input: string | Uint8Array,
  opts: { target: ImageSize | 'native'; multiple: number; trainedSize: ImageSize },
): Promise<ObjectImage> {
  const source = typeof input === 'string' ? input : '<buffer>';
  const bytes = typeof input === 'string' ? await readFile(input).catch(() => undefined) : input;
  // Unreadable or not an image: preprocessImage reports it with its messages.
  let rgba: { data: Uint8Array; width: number; height: number } | undefined;
  if (bytes) {
    try {
      const { data, info } = await sharp(bytes).toColourspace('srgb').ensureAlpha().raw().toBuffer({
        resolveWithObject: true,
      });
      rgba = {
        data: new Uint8Array(data.buffer, data.byteOffset, data.length),
        width: info.width,
        height: info.height,
      };
    } catch {
      rgba = undefined;
    }
  }
  const opaque = !rgba?.data.some((v, i) => i % 4 === 3 && v < 255);
  if (opts.target === 'native' || opaque) {
    const pre = await preprocessImage(bytes ?? input, {
      mode: opts.target === 'native' ? 'native' : 'cover',
      target: opts.target === 'native' ? opts.trainedSize : opts.target,
      multiple: opts.multiple,
      trainedSize: opts.trainedSize,
    });
    const warnings =
      opaque && opts.target !== 'native' ? [NO_BACKGROUND_REMOVAL_WARNING, ...pre.warnings] : pre.warnings;
    return {
      ...pre,
      warnings,
      background: opaque ? 'opaque: used as it is (no background removal)' : 'transparent: object centred on white',
    };
  }
  const target = opts.target;
  checkSizeDivisible(target, opts.multiple, source);
  const { data, width, height } = rgba!;
  const box = alphaBox(data, width, height);
  if (!box) throw new ImageInputError('empty', source, `image is fully transparent: there is no object in ${source}`);
  // Centre the object's box on a transparent square (the script's side: the image height).
  const side = Math.max(height, box.width, box.height);
  const square = new Uint8Array(side * side * 4);
  const center = Math.floor(side / 2);
  const top = center - Math.floor(box.height / 2);
  const left = center - Math.floor(box.width / 2);
  for (let y = 0; y < box.height; y++) {
    const from = ((box.top + y) * width + box.left) * 4;
    square.set(data.subarray(from, from + box.width * 4), ((top + y) * side + left) * 4);
  }
  // Resize the square to cover the target (a square target: a plain resize), then centre-crop.
  const geometry = coverGeometry({ width: side, height: side }, target);
  const resized = await sharp(square, { raw: { width: side, height: side, channels: 4 } })
    .resize(geometry.resized.width, geometry.resized.height, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer();
  let image: RgbImage = {
    ...geometry.resized,
    data: compositeOnWhite(new Uint8Array(resized.buffer, resized.byteOffset, resized.length)),
  };
  image = cropRgb(image, geometry.crop.left, geometry.crop.top, target);
  if (image.width !== target.width || image.height !== target.height) image = await resizeRgb(image, target);
  const warnings = [upscaleWarning({ width, height }, target), unusualSizeWarning(image, opts.trainedSize)];
  return {
    image,
    original: { width, height },
    resized: geometry.resized,
    crop: geometry.crop,
    warnings: warnings.filter((w): w is string => w !== undefined),
    background: 'transparent: object centred on white',
    object: box,
  };
}
