/**
 * An uploaded image is checked by its bytes, not by what the client says it is: the magic bytes must be PNG, JPEG or
 * WebP (a declared Content-Type that disagrees is refused too), and the header must decode to a size within the
 * pixel limit. The bytes are then stored under the job's generated id with the extension of the detected type.
 */
import sharp from 'sharp';
import { type FieldIssue, fieldError } from './errors.ts';

export type ImageType = 'png' | 'jpeg' | 'webp';

export const IMAGE_MIME: Readonly<Record<ImageType, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

export function sniffImage(bytes: Uint8Array): ImageType | undefined {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (
    b.length >= 12 &&
    Buffer.from(b.subarray(0, 4)).toString('latin1') === 'RIFF' &&
    Buffer.from(b.subarray(8, 12)).toString('latin1') === 'WEBP'
  )
    return 'webp';
  return undefined;
}

export interface CheckedImage {
  readonly type: ImageType;
  readonly width: number;
  readonly height: number;
  readonly bytes: Buffer;
}

export async function checkImage(
  bytes: Buffer,
  declaredType: string | undefined,
  maxPixels: number,
): Promise<CheckedImage> {
  const issue = (expected: string): never => {
    const i: FieldIssue = { field: 'image', expected };
    throw fieldError([i]);
  };
  if (bytes.length === 0) issue('required: an image (PNG, JPEG or WebP)');
  const type = sniffImage(bytes);
  if (!type) return issue('a PNG, JPEG or WebP image (the bytes are none of these)');
  const declared = declaredType?.split(';')[0].trim().toLowerCase();
  if (declared && declared !== 'application/octet-stream' && declared !== IMAGE_MIME[type]) {
    issue(`a Content-Type that matches the bytes (${IMAGE_MIME[type]}, not ${declared})`);
  }
  let width = 0;
  let height = 0;
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    width = meta.width ?? 0;
    height = meta.height ?? 0;
  } catch (e) {
    issue(`a readable ${type.toUpperCase()} image (${(e as Error).message})`);
  }
  if (width < 1 || height < 1) issue(`a ${type.toUpperCase()} image with a size`);
  if (width * height > maxPixels) issue(`at most ${maxPixels} pixels (it is ${width}×${height})`);
  return { type, width, height, bytes };
}
