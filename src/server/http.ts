/**
 * The HTTP API on Node's own `http` module: routing, the API key, bodies, and each endpoint's handler. Job ids in
 * paths must match the id pattern before anything else looks at them; files are only ever the paths the store holds.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { parseContentType, parseJsonObject, parseMultipart, readBody } from './body.ts';
import { type FieldIssue, fieldError, HttpError } from './errors.ts';
import { canonicalFieldName, normaliseFields } from './fields.ts';
import { isJobId } from './ids.ts';
import { type CheckedImage, checkImage, IMAGE_MIME, type ImageType } from './image-check.ts';
import { type JobManager, jobView } from './jobs.ts';
import type { Metrics } from './metrics.ts';
import { modelInfo } from './model-info.ts';
import { openApiDocument } from './openapi.ts';
import { PAGE_SECURITY_HEADERS, staticFile } from './static-files.ts';
import { type JobState, TERMINAL_STATES } from './store.ts';

export interface ApiContext {
  readonly jobs: JobManager;
  readonly metrics: Metrics;
  readonly apiKey?: string;
  readonly version: string;
  readonly startedAt: number;
}

const BASE_HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...BASE_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function keyMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function authorised(req: IncomingMessage, apiKey: string): boolean {
  const h = req.headers.authorization;
  if (!h) return false;
  const m = /^Bearer\s+(.+)$/i.exec(h);
  return m !== null && keyMatches(m[1].trim(), apiKey);
}

/** Handles one request; never throws (errors become JSON responses). */
export async function handle(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.on('finish', () => ctx.metrics.request(res.statusCode));
  try {
    await route(ctx, req, res);
  } catch (e) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (e instanceof HttpError) {
      if (e.status === 413) res.setHeader('connection', 'close');
      sendJson(res, e.status, { error: e.message, ...(e.issues ? { issues: e.issues } : {}) }, { ...e.headers });
    } else {
      sendJson(res, 500, { error: `internal error: ${(e as Error)?.message ?? String(e)}` });
    }
    if (!req.complete) req.resume();
  }
}

async function route(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  const method = req.method ?? 'GET';

  if (path === '/healthz') {
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'use GET', undefined, { allow: 'GET' });
    return sendJson(res, 200, {
      ok: true,
      queue: ctx.jobs.queue.kind,
      uptimeSeconds: (Date.now() - ctx.startedAt) / 1000,
    });
  }
  // The page's own files hold no data; a browser cannot send a bearer key when it navigates, so they are public and
  // the page asks for the key itself. Every data route below needs it.
  const page = method === 'GET' ? staticFile(path) : undefined;
  if (page) {
    res.writeHead(200, {
      ...BASE_HEADERS,
      ...PAGE_SECURITY_HEADERS,
      'cache-control': 'no-cache',
      'content-type': page.type,
      'content-length': page.body.length,
    });
    res.end(page.body);
    return;
  }
  if (ctx.apiKey !== undefined && !authorised(req, ctx.apiKey)) {
    throw new HttpError(401, 'an API key is required: Authorization: Bearer KEY', undefined, {
      'www-authenticate': 'Bearer',
    });
  }
  if (path === '/metrics' && method === 'GET') {
    const text = ctx.metrics.render(ctx.jobs.store.counts());
    res.writeHead(200, { ...BASE_HEADERS, 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(text);
    return;
  }
  if (path === '/openapi.json' && method === 'GET') {
    return sendJson(res, 200, openApiDocument(ctx.jobs.opts.limits, ctx.version, [...ctx.jobs.opts.loras.keys()]));
  }
  if (path === '/v1/model' && method === 'GET') {
    const { model, loras, limits } = ctx.jobs.opts;
    return sendJson(res, 200, modelInfo(model, loras, limits));
  }
  if (path === '/v1/videos') {
    if (method === 'POST') return postVideo(ctx, req, res);
    if (method === 'GET') return listVideos(ctx, url, res);
    throw new HttpError(405, 'use GET or POST', undefined, { allow: 'GET, POST' });
  }
  const m = /^\/v1\/videos\/([^/]+)(?:\/(events|file|image))?$/.exec(path);
  if (m) {
    const id = m[1];
    if (!isJobId(id)) throw new HttpError(404, 'no such job (a job id is v followed by 24 hex digits)');
    const sub = m[2];
    if (sub === undefined && method === 'GET') return getVideo(ctx, id, res);
    if (sub === undefined && method === 'DELETE') {
      const r = await ctx.jobs.remove(id);
      if (r.status === 204) {
        res.writeHead(204, BASE_HEADERS);
        res.end();
        return;
      }
      return sendJson(res, r.status, r.body);
    }
    if (sub === 'events' && method === 'GET') return events(ctx, id, req, res);
    if (sub === 'file' && (method === 'GET' || method === 'HEAD')) return videoFile(ctx, id, url, req, res);
    if (sub === 'image' && method === 'GET') return inputImage(ctx, id, res);
    throw new HttpError(405, `method ${method} not allowed here`);
  }
  throw new HttpError(404, `no route ${method} ${path}`);
}

function decodeBase64Image(v: unknown): { bytes: Buffer; type?: string } {
  if (typeof v !== 'string' || v.length === 0) {
    throw fieldError([{ field: 'image', expected: 'required: the image as base64 (or a data: URL) in a JSON string' }]);
  }
  let s = v;
  let type: string | undefined;
  const dataUrl = /^data:([\w/+.-]+);base64,/.exec(s);
  if (dataUrl) {
    type = dataUrl[1];
    s = s.slice(dataUrl[0].length);
  }
  s = s.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) {
    throw fieldError([{ field: 'image', expected: 'base64 (A–Z, a–z, 0–9, +, /, = padding) or a data: URL' }]);
  }
  return { bytes: Buffer.from(s, 'base64'), type };
}

async function postVideo(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const limits = ctx.jobs.opts.limits;
  const ct = parseContentType(req.headers['content-type']);
  if (ct.type !== 'application/json' && ct.type !== 'multipart/form-data') {
    ctx.metrics.submissionRejected('content_type');
    throw new HttpError(415, 'send multipart/form-data (an image file part and fields) or application/json');
  }
  const body = await readBody(req, limits.maxBodyBytes);
  let raw: Record<string, unknown>;
  let imageBytes: Buffer;
  let imageType: string | undefined;
  let fromText: boolean;
  if (ct.type === 'application/json') {
    const { image, ...rest } = parseJsonObject(body);
    ({ bytes: imageBytes, type: imageType } = decodeBase64Image(image));
    raw = rest;
    fromText = false;
  } else {
    const parts = parseMultipart(body, ct.params.boundary);
    const images = parts.filter((p) => p.name === 'image');
    if (images.length !== 1) {
      throw fieldError([{ field: 'image', expected: 'exactly one image file part (PNG, JPEG or WebP)' }]);
    }
    imageBytes = images[0].data;
    imageType = images[0].contentType;
    raw = {};
    const issues: FieldIssue[] = [];
    for (const p of parts) {
      if (p.name === 'image') continue;
      if (p.filename !== undefined || p.data.length > 4096) {
        issues.push({ field: p.name, expected: 'a short text value (only image is a file)' });
        continue;
      }
      const text = p.data.toString('utf8');
      if (p.name in raw) {
        // `lora` may be repeated (one camera LoRA per part); any other field is given once.
        const previous = raw[p.name];
        if (canonicalFieldName(p.name) === 'lora')
          raw[p.name] = [...(Array.isArray(previous) ? previous : [previous]), text];
        else issues.push({ field: p.name, expected: 'given once' });
        continue;
      }
      raw[p.name] = text;
    }
    if (issues.length > 0) throw fieldError(issues);
    fromText = true;
  }
  const fields = normaliseFields(raw, fromText);
  let image: CheckedImage;
  try {
    image = await checkImage(imageBytes, imageType, limits.maxPixels);
  } catch (e) {
    ctx.metrics.submissionRejected('invalid');
    throw e;
  }
  const job = await ctx.jobs.submit(fields, image).catch((e: unknown) => {
    if (e instanceof HttpError && e.status === 422) ctx.metrics.submissionRejected('invalid');
    throw e;
  });
  const position = ctx.jobs.queue.position(job.id);
  sendJson(
    res,
    202,
    {
      id: job.id,
      state: job.state,
      ...(position !== undefined ? { position } : {}),
      links: jobView(job, position).links,
    },
    { location: `/v1/videos/${job.id}` },
  );
}

const STATES: readonly JobState[] = ['queued', 'running', 'done', 'failed', 'cancelled'];

function listVideos(ctx: ApiContext, url: URL, res: ServerResponse): void {
  const issues: FieldIssue[] = [];
  const limitText = url.searchParams.get('limit');
  const limit = limitText === null ? 20 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    issues.push({ field: 'limit', value: limitText, expected: 'an integer from 1 to 100' });
  }
  const cursorText = url.searchParams.get('cursor');
  const cursor = cursorText === null ? undefined : Number(cursorText);
  if (cursor !== undefined && (!Number.isSafeInteger(cursor) || cursor < 1)) {
    issues.push({ field: 'cursor', value: cursorText, expected: 'the next value of the previous page' });
  }
  const state = url.searchParams.get('state') ?? undefined;
  if (state !== undefined && !STATES.includes(state as JobState)) {
    issues.push({ field: 'state', value: state, expected: `one of ${STATES.join(', ')}` });
  }
  if (issues.length > 0) throw fieldError(issues);
  const jobs = ctx.jobs.store.list({ limit: limit + 1, before: cursor, state: state as JobState | undefined });
  const page = jobs.slice(0, limit);
  sendJson(res, 200, {
    videos: page.map((j) => jobView(j, ctx.jobs.queue.position(j.id))),
    ...(jobs.length > limit ? { next: String(page[page.length - 1].seq) } : {}),
  });
}

function getVideo(ctx: ApiContext, id: string, res: ServerResponse): void {
  const job = ctx.jobs.store.get(id);
  if (!job) throw new HttpError(404, `no job ${id}`);
  sendJson(res, 200, jobView(job, ctx.jobs.queue.position(id)));
}

function events(ctx: ApiContext, id: string, req: IncomingMessage, res: ServerResponse): void {
  const job = ctx.jobs.store.get(id);
  if (!job) throw new HttpError(404, `no job ${id}`);
  const last = req.headers['last-event-id'];
  const lastId = typeof last === 'string' && /^\d{1,9}$/.test(last.trim()) ? Number(last) : undefined;
  res.setHeader('x-content-type-options', 'nosniff');
  ctx.jobs.hub.subscribe(id, res, lastId, () => {
    const now = ctx.jobs.store.get(id) ?? job;
    const view = jobView(now, ctx.jobs.queue.position(id));
    const terminal = TERMINAL_STATES.includes(now.state);
    const event = now.state === 'done' ? 'done' : now.state;
    const data: Record<string, unknown> =
      now.state === 'done' ? { ...view } : now.state === 'failed' ? { ...view, error: now.error } : { ...view };
    return { event, data, terminal };
  });
}

async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  type: string,
  extra: Record<string, string>,
): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new HttpError(404, 'the file is gone');
  const size = info.size;
  const headers: Record<string, string | number> = {
    ...BASE_HEADERS,
    'cache-control': 'private, max-age=3600',
    'content-type': type,
    'accept-ranges': 'bytes',
    ...extra,
  };
  const range = req.headers.range;
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (range !== undefined) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    if (!m || (m[1] === '' && m[2] === '')) {
      throw new HttpError(416, 'only one byte range, bytes=A-B, bytes=A- or bytes=-N', undefined, {
        'content-range': `bytes */${size}`,
      });
    }
    if (m[1] === '') {
      start = Math.max(0, size - Number(m[2]));
    } else {
      start = Number(m[1]);
      end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    }
    if (start > end || start >= size) {
      throw new HttpError(416, `the range is outside the file (${size} bytes)`, undefined, {
        'content-range': `bytes */${size}`,
      });
    }
    status = 206;
    headers['content-range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['content-length'] = end - start + 1;
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const stream = createReadStream(path, { start, end });
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}

async function videoFile(ctx: ApiContext, id: string, url: URL, req: IncomingMessage, res: ServerResponse) {
  const job = ctx.jobs.store.get(id);
  if (!job) throw new HttpError(404, `no job ${id}`);
  if (job.state !== 'done' || !job.result) throw new HttpError(409, `the job is ${job.state}, not done`);
  const indexText = url.searchParams.get('video') ?? '0';
  const index = /^\d{1,4}$/.test(indexText) ? Number(indexText) : -1;
  const video = job.result.videos.find((v) => v.index === index);
  if (!video)
    throw fieldError([{ field: 'video', value: indexText, expected: `0 to ${job.result.videos.length - 1}` }]);
  const download = url.searchParams.get('download') === '1';
  const name = `${id}${job.result.videos.length > 1 ? `_${index}` : ''}.${video.format}`;
  const type = video.format === 'mp4' ? 'video/mp4' : 'application/octet-stream';
  await sendFile(req, res, join(ctx.jobs.opts.dataDir, video.file), type, {
    'content-disposition': `${download ? 'attachment' : 'inline'}; filename="${name}"`,
  });
}

async function inputImage(ctx: ApiContext, id: string, res: ServerResponse): Promise<void> {
  const job = ctx.jobs.store.get(id);
  if (!job) throw new HttpError(404, `no job ${id}`);
  const type = IMAGE_MIME[job.image.type as ImageType] ?? 'application/octet-stream';
  const path = join(ctx.jobs.opts.dataDir, job.image.file);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new HttpError(404, 'the image is gone');
  res.writeHead(200, {
    ...BASE_HEADERS,
    'cache-control': 'private, max-age=3600',
    'content-type': type,
    'content-length': info.size,
  });
  createReadStream(path).pipe(res);
}
