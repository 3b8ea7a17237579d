/**
 * Input image preprocessing to the model's frame size, as the reference demos do it
 * (`scripts/demo/streamlit_helpers.py::load_img_for_prediction` and `get_resizing_factor` at Stability-AI/generative-models
 * 059d8e9): RGBA composited on white, scale to *cover* the target (s = max(W/w, H/h), new size ceil(w·s) × ceil(h·s)),
 * then a centre crop at offset floor((new − target)/2) on each axis. The demo resamples with `F.interpolate(mode="area")`
 * on floats; this port resamples the decoded 8-bit image with sharp's `lanczos3` (as `gradio_app.py::resize_image` uses
 * PIL LANCZOS), so pixels differ slightly from the demo while the geometry is identical.
 *
 * NOTE: `scripts/sampling/simple_video_sample.py` itself does not resize to a target: it resizes W, H down to multiples
 * of 64 when they are not; `native` mode does the same (with a warning) and otherwise keeps the decoded image as it
 * is. An input much smaller than the output is upscaled with a warning.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { ImageInputError } from './errors.ts';
import { decodeImageRgb, type RgbImage } from './image-io.ts';

export interface ImageSize {
  width: number;
  height: number;
}

/** The frame size the released SVD / SVD-XT models were trained at (W×H = 1024×576). */
export const SVD_FRAME_SIZE: Readonly<ImageSize> = Object.freeze({ width: 1024, height: 576 });
/** Largest accepted side of an input image, in pixels. */
export const MAX_IMAGE_SIDE = 16384;
/** Largest accepted input image area, in pixels (100 MP). */
export const MAX_IMAGE_PIXELS = 100_000_000;

/** `cover`: scale to cover the target and centre-crop (the demos); `native`: keep the image size. */
export type ResizeMode = 'cover' | 'native';

export interface PreprocessOptions {
  /** Default `cover`. */
  mode?: ResizeMode;
  /** Output size in `cover` mode. Default {@link SVD_FRAME_SIZE}. */
  target?: ImageSize;
  /** The output size must be a multiple of this (see {@link requiredSizeMultiple}). Default 64 (SVD). */
  multiple?: number;
  /** A different output size than this is valid but gets a warning. Default {@link SVD_FRAME_SIZE}. */
  trainedSize?: ImageSize;
}

export interface PreprocessedImage {
  /** The model input: RGB of the target size (`cover`) or of the decoded size rounded down (`native`). */
  image: RgbImage;
  /** The decoded input size. */
  original: ImageSize;
  /** The size after resizing, before cropping (in `native` mode: `original` rounded down to the multiple). */
  resized: ImageSize;
  /** Top-left corner of the crop in the resized image. */
  crop: { left: number; top: number };
  /** Valid-but-unusual input, for the caller to show (e.g. a size the model was not trained at). */
  warnings: string[];
}

/** Geometry of the cover-resize and centre crop: the resized size and the crop offsets. */
export interface CoverGeometry {
  resized: ImageSize;
  crop: { left: number; top: number };
}

/**
 * The pixel multiple a frame size must have: the VAE downsamples by 8 and the UNet by 2 per level after the first,
 * so H and W must be multiples of `8 · 2^(levels − 1)` with levels = len(channel_mult) (64 for SVD's [1, 2, 4, 4]).
 */
export function requiredSizeMultiple(levels: number): number {
  if (!Number.isInteger(levels) || levels < 1) throw new RangeError(`levels must be a positive integer, got ${levels}`);
  return 8 * 2 ** (levels - 1);
}

/** Throws {@link ImageInputError} unless both sides of `size` are positive multiples of `multiple`. */
export function checkSizeDivisible(size: ImageSize, multiple: number, source = '<image>'): void {
  const { width, height } = size;
  if (width % multiple !== 0 || height % multiple !== 0 || width <= 0 || height <= 0) {
    const fix = `${roundDown(width, multiple)}×${roundDown(height, multiple)}`;
    throw new ImageInputError(
      'not-divisible',
      source,
      `image size ${width}×${height} (W×H) is not a multiple of ${multiple} pixels on both sides, which the model needs; use e.g. ${fix}`,
    );
  }
}

/** Above this upscaling factor (output side over input side) the input counts as much smaller than the output. */
export const MAX_QUIET_UPSCALE = 2;

/** A warning when covering `target` upscales `source` more than {@link MAX_QUIET_UPSCALE}×; undefined otherwise. */
export function upscaleWarning(source: ImageSize, target: ImageSize): string | undefined {
  const s = Math.max(target.width / source.width, target.height / source.height);
  if (s <= MAX_QUIET_UPSCALE) return undefined;
  return (
    `input image ${source.width}×${source.height} is much smaller than the ${target.width}×${target.height} output ` +
    `(upscaled ${s < 10 ? s.toFixed(1) : Math.round(s)}×); expect a blurry video, or pass a smaller --size`
  );
}

/**
 * `native` mode's size: the image's own, each side rounded down to `multiple` as the reference script does
 * (`simple_video_sample.py`: `image.resize((w - w % 64, h - h % 64))`); an image smaller than `multiple` on a side
 * is an {@link ImageInputError}.
 */
export function nativeSize(original: ImageSize, multiple: number, source = '<image>'): ImageSize {
  const size = {
    width: original.width - (original.width % multiple),
    height: original.height - (original.height % multiple),
  };
  if (size.width === 0 || size.height === 0) {
    throw new ImageInputError(
      'not-divisible',
      source,
      `image size ${original.width}×${original.height} (W×H) is smaller than the model's ${multiple}-pixel multiple on a side; use a larger image or --size`,
    );
  }
  return size;
}

/** A warning when `size` is valid but not the size the model was trained at; undefined otherwise. */
export function unusualSizeWarning(size: ImageSize, trainedSize: ImageSize = SVD_FRAME_SIZE): string | undefined {
  if (size.width === trainedSize.width && size.height === trainedSize.height) return undefined;
  return (
    `frame size ${size.width}×${size.height} (W×H) differs from the ${trainedSize.width}×${trainedSize.height} ` +
    'the model was trained at; results may be worse'
  );
}

/**
 * Cover-resize geometry of `get_resizing_factor` + `load_img_for_prediction`: s = max(W/w, H/h) (the demo's
 * piecewise rule picks the same quotient), size ceil(w·s) × ceil(h·s) in float64, crop at floor((new − target)/2).
 */
export function coverGeometry(source: ImageSize, target: ImageSize): CoverGeometry {
  const s = Math.max(target.width / source.width, target.height / source.height);
  const width = Math.max(target.width, Math.ceil(source.width * s));
  const height = Math.max(target.height, Math.ceil(source.height * s));
  return {
    resized: { width, height },
    crop: { left: Math.floor((width - target.width) / 2), top: Math.floor((height - target.height) / 2) },
  };
}

/**
 * Loads an image file (or encoded buffer) and prepares it as the model's conditioning frame: decode (alpha on white,
 * grayscale → RGB), resize per `mode`, check the size is divisible, and collect warnings for unusual sizes.
 */
export async function preprocessImage(
  input: string | Uint8Array,
  opts: PreprocessOptions = {},
): Promise<PreprocessedImage> {
  const mode = opts.mode ?? 'cover';
  const target = opts.target ?? SVD_FRAME_SIZE;
  const multiple = opts.multiple ?? 64;
  const source = typeof input === 'string' ? input : '<buffer>';
  if (mode === 'cover') {
    if (!isPositiveInt(target.width) || !isPositiveInt(target.height)) {
      throw new ImageInputError('bad-target', source, `target size ${target.width}×${target.height} is not positive`);
    }
    checkSizeDivisible(target, multiple, source);
  }

  const bytes = await readImageBytes(input, source);
  const original = await probeImageSize(bytes, source);
  let image: RgbImage;
  try {
    image = await decodeImageRgb(bytes);
  } catch (e) {
    throw new ImageInputError('not-an-image', source, `cannot decode image ${source}: ${sharpReason(e)}`);
  }

  let resized: ImageSize = original;
  let crop = { left: 0, top: 0 };
  const warnings: string[] = [];
  if (mode === 'cover') {
    ({ resized, crop } = coverGeometry(original, target));
    const small = upscaleWarning(original, target);
    if (small) warnings.push(small);
    const scaled = await resizeRgb(image, resized);
    image = cropRgb(scaled, crop.left, crop.top, target);
  } else {
    resized = nativeSize(original, multiple, source);
    if (resized.width !== original.width || resized.height !== original.height) {
      warnings.push(
        `image size ${original.width}×${original.height} is not a multiple of ${multiple}: resized to ` +
          `${resized.width}×${resized.height} (rounded down, as the reference script does)`,
      );
      image = await resizeRgb(image, resized);
    }
  }

  const warning = unusualSizeWarning(image, opts.trainedSize ?? SVD_FRAME_SIZE);
  if (warning) warnings.push(warning);
  return { image, original, resized, crop, warnings };
}

/** Resizes 8-bit RGB with sharp's lanczos3 to exactly `size` (aspect ratio is the caller's business). */
export async function resizeRgb(img: RgbImage, size: ImageSize): Promise<RgbImage> {
  if (img.width === size.width && img.height === size.height) return img;
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(size.width, size.height, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer();
  return { width: size.width, height: size.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** The `size` window of `img` whose top-left corner is (left, top). */
export function cropRgb(img: RgbImage, left: number, top: number, size: ImageSize): RgbImage {
  if (left < 0 || top < 0 || left + size.width > img.width || top + size.height > img.height) {
    throw new RangeError(
      `crop ${size.width}×${size.height} at (${left}, ${top}) is outside the ${img.width}×${img.height} image`,
    );
  }
  const out = new Uint8Array(size.width * size.height * 3);
  const rowBytes = size.width * 3;
  for (let y = 0; y < size.height; y++) {
    const from = ((top + y) * img.width + left) * 3;
    out.set(img.data.subarray(from, from + rowBytes), y * rowBytes);
  }
  return { width: size.width, height: size.height, data: out };
}

async function readImageBytes(input: string | Uint8Array, source: string): Promise<Uint8Array> {
  if (typeof input !== 'string') {
    if (input.length === 0) throw new ImageInputError('empty', source, 'image data is empty (0 bytes)');
    return input;
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(input);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ImageInputError('missing', source, `image file not found: ${input}`);
    }
    const why = code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? 'error');
    throw new ImageInputError('unreadable', source, `cannot read image file ${input}: ${why}`);
  }
  if (bytes.length === 0) throw new ImageInputError('empty', source, `image file is empty (0 bytes): ${input}`);
  return bytes;
}

/** Reads the image header only: refuses non-images, zero sizes and images over the size limits before decoding. */
async function probeImageSize(bytes: Uint8Array, source: string): Promise<ImageSize> {
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
  } catch (e) {
    throw new ImageInputError(
      'not-an-image',
      source,
      `not an image (PNG, JPEG or WebP expected): ${source} (${sharpReason(e)})`,
    );
  }
  if (!width || !height) {
    throw new ImageInputError('empty', source, `image has zero size (${width ?? 0}×${height ?? 0}): ${source}`);
  }
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    throw new ImageInputError(
      'too-large',
      source,
      `image ${width}×${height} is too large: at most ${MAX_IMAGE_SIDE} pixels a side and ${MAX_IMAGE_PIXELS / 1e6} megapixels; downscale it first (${source})`,
    );
  }
  return { width, height };
}

function sharpReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0].trim();
}

function isPositiveInt(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}

function roundDown(n: number, multiple: number): number {
  return Math.max(multiple, n - (n % multiple));
}
