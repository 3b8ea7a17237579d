/**
 * Request bodies, bounded: the whole body is read into memory up to `maxBytes` (a larger Content-Length is refused
 * before reading, a body that grows past it is cut off), then parsed as JSON or as multipart/form-data by the small
 * parser below (RFC 7578: parts split on the boundary, a Content-Disposition per part; a body without the closing
 * delimiter is truncated and refused). Every failure is an HttpError: 400 malformed, 413 too large, 415 wrong type.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.ts';

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(new HttpError(413, `the request body is over the limit of ${maxBytes} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        chunks.length = 0;
        reject(new HttpError(413, `the request body is over the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    req.on('aborted', () => {
      if (!failed) reject(new HttpError(400, 'the request body was cut off'));
      failed = true;
    });
    req.on('error', (e) => {
      if (!failed) reject(new HttpError(400, `the request body could not be read: ${e.message}`));
      failed = true;
    });
  });
}

/** The media type of a Content-Type header, lowercased, and its parameters. */
export function parseContentType(header: string | undefined): { type: string; params: Record<string, string> } {
  if (!header) return { type: '', params: {} };
  const [type, ...rest] = header.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const k = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
    params[k] = v;
  }
  return { type: type.trim().toLowerCase(), params };
}

export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'the body must be a JSON object of request fields');
  }
  return value as Record<string, unknown>;
}

export interface MultipartPart {
  readonly name: string;
  readonly filename?: string;
  readonly contentType?: string;
  readonly data: Buffer;
}

const MAX_PARTS = 64;
const MAX_PART_HEADER = 8192;

/** Splits a multipart/form-data body. */
export function parseMultipart(body: Buffer, boundary: string | undefined): MultipartPart[] {
  if (!boundary || boundary.length > 70 || !/^[0-9A-Za-z'()+_,\-./:=? ]+$/.test(boundary)) {
    throw new HttpError(400, 'multipart/form-data without a valid boundary parameter');
  }
  const delimiter = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new HttpError(400, 'the multipart body has no part (boundary not found)');
  const parts: MultipartPart[] = [];
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts; // the closing delimiter `--boundary--`
    // Skip transport padding and the CRLF after the delimiter.
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a) throw new HttpError(400, 'malformed multipart body');
    pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0 || headerEnd - pos > MAX_PART_HEADER) {
      throw new HttpError(400, 'malformed or truncated multipart body (a part without its headers)');
    }
    const headers = new Map<string, string>();
    for (const line of body.subarray(pos, headerEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) throw new HttpError(400, 'truncated multipart body (no closing boundary)');
    const disposition = parseContentType(headers.get('content-disposition'));
    if (disposition.type !== 'form-data' || disposition.params.name === undefined) {
      throw new HttpError(400, 'a multipart part without Content-Disposition: form-data; name=…');
    }
    parts.push({
      name: disposition.params.name,
      filename: disposition.params.filename,
      contentType: headers.get('content-type'),
      data: body.subarray(headerEnd + 4, next),
    });
    if (parts.length > MAX_PARTS) throw new HttpError(400, `more than ${MAX_PARTS} multipart parts`);
    pos = next + 2;
  }
}
