/**
 * `svd serve` refusing what it must: field-level 422s naming the field (bad values, limits, unknown and server-only
 * fields), images checked by their bytes, malformed bodies (garbage JSON, wrong types, truncated multipart, huge
 * bodies) as 4xx, path-like ids as 404, the API key on every route but /healthz (and the page's own files), the page's
 * security headers — and the server still answering after all of it. No job here is valid, so nothing runs.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { FAST, type Loose, multipart, startTinyServer, TINY_IMAGE, type TinyServer } from '../helpers/server.ts';

let server: TinyServer;
const KEY = 'test-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };

before(async () => {
  server = await startTinyServer({
    apiKey: KEY,
    limits: { maxFrames: 8, maxSteps: 10, maxBodyBytes: 200_000, maxPixels: 128 * 128 },
  });
});
after(async () => server.stop());

async function post(body: RequestInit['body'], headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/v1/videos`, { method: 'POST', body, headers: { ...auth, ...headers } });
  return { status: res.status, body: (await res.json()) as Loose, headers: res.headers };
}

function fieldsOf(body: Loose): string[] {
  return (body.issues ?? []).map((i: { field: string }) => i.field);
}

test('bad values → 422 naming each field, with what was expected', async () => {
  const r = await post(multipart({ frames: '0', steps: 'many', sampler: 'ddim', seed: '-1', size: '65x64x3' }));
  assert.equal(r.status, 422);
  assert.deepEqual(fieldsOf(r.body).sort(), ['frames', 'sampler', 'seed', 'size', 'steps']);
  const frames = r.body.issues.find((i: { field: string }) => i.field === 'frames');
  assert.equal(frames.value, '0');
  assert.match(frames.expected, /integer from 1 to 1000/);
});

test("over the server's limits → 422: frames, steps, videos, output pixels, size multiple", async () => {
  const r = await post(multipart({ frames: '9', steps: '11', seed: '1,2,3,4,5', size: '256x256' }));
  assert.equal(r.status, 422);
  assert.deepEqual(fieldsOf(r.body).sort(), ['frames', 'seed', 'size', 'steps']); // size: 256×256 > 128×128 pixels
  assert.match(JSON.stringify(r.body.issues), /at most 8 frames/);
  assert.match(JSON.stringify(r.body.issues), /at most 16384 pixels \(256×256 is more\)/);
  // The model's own size (64×64 for the tiny config, not the released models' 1024×576) is within the limit.
  const fits = await post(multipart({ frames: '9' }));
  assert.equal(fits.status, 422);
  assert.deepEqual(fieldsOf(fits.body), ['frames']);
  const odd = await post(multipart({ ...FAST, size: '72x64' }));
  assert.equal(odd.status, 422);
  assert.deepEqual(fieldsOf(odd.body), ['size']);
  assert.match(odd.body.issues[0].expected, /multiples of \d+ \(72×64 is not\)/);
});

test('unknown fields and the fields only the server sets → 422 by name', async () => {
  const r = await post(
    multipart({ ...FAST, out: '/etc/passwd', checkpoint: '/tmp/x.safetensors', 'save-latents': 'a', frobnicate: '1' }),
  );
  assert.equal(r.status, 422);
  assert.deepEqual(fieldsOf(r.body).sort(), ['checkpoint', 'frobnicate', 'out', 'save-latents']);
  assert.match(JSON.stringify(r.body), /not settable over HTTP/);
  const json = await post(
    JSON.stringify({ image: TINY_IMAGE.toString('base64'), noise: 'n.safetensors', config: '{}' }),
    {
      'content-type': 'application/json',
    },
  );
  assert.equal(json.status, 422);
  assert.deepEqual(fieldsOf(json.body).sort(), ['config', 'noise']);
});

test('images are checked by their bytes', async () => {
  const text = await post(multipart(FAST, Buffer.from('#!/bin/sh\nrm -rf /\n'), 'image/png'));
  assert.equal(text.status, 422);
  assert.deepEqual(fieldsOf(text.body), ['image']);
  assert.match(text.body.issues[0].expected, /PNG, JPEG or WebP/);
  const mislabelled = await post(multipart(FAST, TINY_IMAGE, 'image/jpeg'));
  assert.equal(mislabelled.status, 422);
  assert.match(mislabelled.body.issues[0].expected, /image\/png, not image\/jpeg/);
  const truncated = await post(multipart(FAST, TINY_IMAGE.subarray(0, 30)));
  assert.equal(truncated.status, 422);
  assert.deepEqual(fieldsOf(truncated.body), ['image']);
  const missing = await post(JSON.stringify({ frames: 4 }), { 'content-type': 'application/json' });
  assert.equal(missing.status, 422);
  assert.deepEqual(fieldsOf(missing.body), ['image']);
  const notBase64 = await post(JSON.stringify({ image: '../../etc/passwd' }), { 'content-type': 'application/json' });
  assert.equal(notBase64.status, 422);
});

test('malformed bodies → 400 / 413 / 415 / 422, never a 5xx', async () => {
  const garbage = await post('{"frames": 4,,,', { 'content-type': 'application/json' });
  assert.equal(garbage.status, 400);
  assert.match(garbage.body.error, /not valid JSON/);
  const array = await post('[1, 2]', { 'content-type': 'application/json' });
  assert.equal(array.status, 400);
  const types = await post(
    JSON.stringify({ image: TINY_IMAGE.toString('base64'), frames: { $gt: 1 }, splitCfg: 'yes', steps: [2] }),
    {
      'content-type': 'application/json',
    },
  );
  assert.equal(types.status, 422);
  assert.deepEqual(fieldsOf(types.body).sort(), ['frames', 'splitCfg', 'steps']);
  const plain = await post('frames=4', { 'content-type': 'text/plain' });
  assert.equal(plain.status, 415);
  const huge = await post(Buffer.alloc(300_000, 0x41), { 'content-type': 'application/json' });
  assert.equal(huge.status, 413);
  // A multipart body cut off before its closing boundary.
  const form = new Response(multipart(FAST));
  const full = Buffer.from(await form.arrayBuffer());
  const truncated = await post(full.subarray(0, full.length - 40), {
    'content-type': form.headers.get('content-type') ?? '',
  });
  assert.equal(truncated.status, 400);
  assert.match(truncated.body.error, /truncated|malformed/);
  const noBoundary = await post('x', { 'content-type': 'multipart/form-data' });
  assert.equal(noBoundary.status, 400);
});

test('a body that grows past the limit without a Content-Length is cut off with 413', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${server.url}/v1/videos`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < 1_000_000) {
        sent += chunk.length;
        if (!req.write(chunk)) return req.once('drain', pump);
      }
      req.end();
    };
    pump();
  }).catch(() => 413); // the server may close the connection while the client still writes
  assert.equal(status, 413);
});

test('ids are checked before anything else: path-like and unknown ids → 404', async () => {
  for (const path of [
    '/v1/videos/..%2F..%2Fetc%2Fpasswd',
    '/v1/videos/..%2Fjobs.sqlite/file',
    '/v1/videos/v0123/file',
    '/v1/videos/V0123456789ABCDEF01234567',
    '/v1/videos/v0123456789abcdef01234567/file',
    '/v1/videos/v0123456789abcdef01234567/image',
  ]) {
    const res = await fetch(`${server.url}${path}`, { headers: auth });
    assert.equal(res.status, 404, path);
    await res.text();
  }
  const del = await fetch(`${server.url}/v1/videos/v0123456789abcdef01234567`, { method: 'DELETE', headers: auth });
  assert.equal(del.status, 404);
  await del.text();
});

test('--api-key: 401 without the bearer key on data routes; /healthz and the page are open', async () => {
  for (const path of ['/v1/videos', '/metrics', '/openapi.json', '/v1/videos/v0123456789abcdef01234567']) {
    const res = await fetch(`${server.url}${path}`);
    assert.equal(res.status, 401, path);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    await res.text();
    const wrong = await fetch(`${server.url}${path}`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    await wrong.text();
  }
  const unauthPost = await fetch(`${server.url}/v1/videos`, { method: 'POST', body: multipart(FAST) });
  assert.equal(unauthPost.status, 401);
  await unauthPost.text();
  assert.equal((await fetch(`${server.url}/v1/videos`, { headers: auth })).status, 200);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
});

test('the page: served with security headers, no third-party origin anywhere', async () => {
  const page = await fetch(`${server.url}/`);
  assert.equal(page.status, 200);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  const html = await page.text();
  assert.match(html, /<script type="module" src="\/app.js">/);
  for (const file of ['/app.js', '/style.css']) {
    const res = await fetch(`${server.url}${file}`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.doesNotMatch(text, /https?:\/\//, `${file} loads nothing from elsewhere`);
  }
  assert.doesNotMatch(html, /https?:\/\//);
  assert.equal((await fetch(`${server.url}/../package.json`)).status, 401, 'not a page file: a data route');
});

test('after all of that the server still answers, and nothing was queued', async () => {
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  const list = (await (await fetch(`${server.url}/v1/videos`, { headers: auth })).json()) as Loose;
  assert.deepEqual(list.videos, []);
  const metrics = await (await fetch(`${server.url}/metrics`, { headers: auth })).text();
  assert.match(metrics, /svd_submissions_rejected_total\{reason="invalid"\} \d+/);
  assert.match(metrics, /svd_http_requests_total\{code="422"\} \d+/);
});
