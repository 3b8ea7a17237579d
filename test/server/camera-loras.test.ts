/**
 * Camera-motion LoRAs over HTTP (src/server/camera-loras.ts, served-model.ts): the `lora` field takes names of the
 * LoRAs the served model has, never a path; the served model's choice (the shipped svd-mini by default, its LoRAs
 * with it; any other checkpoint none); `GET /v1/model` and the OpenAPI schema list the names; and a job with a LoRA
 * end to end on the tiny golden model, with a test LoRA made for it standing in for the model's `zoom-in`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { findShippedModel } from '../../src/models/shipped.ts';
import { GenerateRequestError } from '../../src/pipeline/request.ts';
import { readCameraLoras } from '../../src/server/camera-loras.ts';
import { executeJob } from '../../src/server/execute.ts';
import { ServedModelError, servedModel } from '../../src/server/served-model.ts';
import {
  FAST,
  type Loose,
  multipart,
  startTinyServer,
  TINY_DIR,
  TINY_IMAGE,
  type TinyServer,
  waitForJob,
} from '../helpers/server.ts';
import { writeTestLora } from '../models/lora/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'svd-camera-loras-'));
const loraFile = join(dir, 'zoom-in.safetensors');
let server: TinyServer;
let plain: TinyServer;

before(async () => {
  await writeTestLora(loraFile, { seed: 5, upStd: 0.2 });
  server = await startTinyServer({ loras: new Map([['zoom-in', loraFile]]) });
  plain = await startTinyServer();
});
after(async () => {
  await server?.stop();
  await plain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const AVAILABLE = new Map([
  ['zoom-in', '/models/zoom-in.safetensors'],
  ['pan-left', '/models/pan-left.safetensors'],
]);

test('readCameraLoras: names with optional scales, as a comma list or an array; anything else is an issue', () => {
  assert.deepEqual(readCameraLoras('zoom-in', AVAILABLE), { loras: [{ name: 'zoom-in', scale: 1 }], issues: [] });
  assert.deepEqual(readCameraLoras('zoom-in:0.8, pan-left:-.5', AVAILABLE).loras, [
    { name: 'zoom-in', scale: 0.8 },
    { name: 'pan-left', scale: -0.5 },
  ]);
  assert.deepEqual(readCameraLoras(['pan-left:2'], AVAILABLE).loras, [{ name: 'pan-left', scale: 2 }]);
  assert.deepEqual(readCameraLoras(undefined, AVAILABLE), { loras: [], issues: [] });
  assert.deepEqual(readCameraLoras('', AVAILABLE), { loras: [], issues: [] });
  const refused = [
    '/models/zoom-in.safetensors',
    '../zoom-in',
    'zoom-in.safetensors',
    'loras/zoom-in',
    'zoom-out', // a camera motion, but not one this model has
    'ZOOM-IN',
    'zoom-in:2.5',
    'zoom-in:1e3',
    'zoom-in:../../etc/passwd',
    'zoom-in:',
  ];
  for (const value of refused) {
    const r = readCameraLoras(value, AVAILABLE);
    assert.deepEqual(r.loras, [], value);
    assert.equal(r.issues.length, 1, value);
    assert.equal(r.issues[0].field, 'lora');
    assert.equal(r.issues[0].value, value);
  }
  assert.match(readCameraLoras('zoom-in,zoom-in:0.5', AVAILABLE).issues[0].expected, /zoom-in given once/);
  assert.equal(readCameraLoras(42, AVAILABLE).issues.length, 1);
  assert.equal(readCameraLoras([{ path: '/x.safetensors' }], AVAILABLE).issues.length, 1);
  assert.match(readCameraLoras('zoom-in', new Map()).issues[0].expected, /has no camera-motion LoRAs/);
});

test('servedModel: the shipped model and its LoRAs by default or by its checkpoint; any other model has none', () => {
  const shippedDir = join(dir, 'svd-mini');
  mkdirSync(join(shippedDir, 'loras'), { recursive: true });
  writeFileSync(join(shippedDir, 'svd-mini.safetensors'), '');
  writeFileSync(join(shippedDir, 'loras', 'pan-up.safetensors'), '');
  const shipped = findShippedModel(shippedDir);
  assert.ok(shipped);
  const byDefault = servedModel({}, shipped);
  assert.deepEqual(byDefault.choice, { checkpoint: shipped.checkpoint, preset: 'svd-mini' });
  assert.deepEqual([...byDefault.loras], [['pan-up', join(shippedDir, 'loras', 'pan-up.safetensors')]]);
  assert.equal(servedModel({ preset: 'svd-mini' }, shipped).shipped, true);
  const named = servedModel({ checkpoint: shipped.checkpoint }, shipped);
  assert.equal(named.choice.preset, 'svd-mini');
  assert.equal(named.loras.size, 1);
  const other = servedModel({ checkpoint: '/w/svd_xt.safetensors' }, shipped);
  // No preset named: the checkpoint's own diffusers configs when it is a folder, else svd-xt (resolveModel).
  assert.deepEqual(other.choice, { checkpoint: '/w/svd_xt.safetensors', config: undefined, preset: undefined });
  assert.equal(other.loras.size, 0);
  // the shipped weights with another structure are not the shipped model
  assert.equal(servedModel({ checkpoint: shipped.checkpoint, config: 'c.json' }, shipped).loras.size, 0);
  const refuses = (flags: Parameters<typeof servedModel>[0], s: typeof shipped | null, message: RegExp) =>
    assert.throws(
      () => servedModel(flags, s),
      (e: unknown) => e instanceof ServedModelError && message.test(e.message),
    );
  refuses({}, null, /--checkpoint is required .*not here/);
  refuses({ config: 'c.json' }, shipped, /--config needs --checkpoint/);
  refuses({ preset: 'svd-xt' }, shipped, /--preset svd-xt needs --checkpoint/);
  refuses({ checkpoint: 'x', config: 'c', preset: 'p' }, shipped, /either --config or --preset/);
});

async function post(base: string, body: FormData | string, json = false) {
  const res = await fetch(`${base}/v1/videos`, {
    method: 'POST',
    body,
    headers: json ? { 'content-type': 'application/json' } : {},
  });
  return { status: res.status, body: (await res.json()) as Loose };
}

test('GET /v1/model and /openapi.json list the LoRA names; a server without LoRAs lists none', async () => {
  const info = (await (await fetch(`${server.url}/v1/model`)).json()) as Loose;
  assert.deepEqual(info.cameraLoras, ['zoom-in']);
  assert.match(info.defaults.size, /^\d+x\d+$/);
  assert.equal(info.limits.maxFrames, 32);
  assert.deepEqual(((await (await fetch(`${plain.url}/v1/model`)).json()) as Loose).cameraLoras, []);
  const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Loose;
  const schema = doc.components.schemas.GenerateFields.properties.lora;
  const pattern = new RegExp(schema.oneOf[0].pattern);
  assert.ok(pattern.test('zoom-in:0.8'));
  assert.ok(!pattern.test('pan-left'));
  assert.ok(!pattern.test('/tmp/zoom-in.safetensors'));
  assert.doesNotMatch(doc.info.description, /lora/);
  const plainDoc = (await (await fetch(`${plain.url}/openapi.json`)).json()) as Loose;
  assert.deepEqual(plainDoc.components.schemas.GenerateFields.properties.lora.not, {});
});

test('lora over HTTP: paths, unknown names, bad scales, repeats → 422 naming lora; a model without LoRAs refuses any', async () => {
  for (const lora of ['/etc/passwd', 'pan-left', 'zoom-in:9', `${loraFile}:1`]) {
    const r = await post(server.url, multipart({ ...FAST, lora }));
    assert.equal(r.status, 422, lora);
    assert.deepEqual(
      r.body.issues.map((i: { field: string }) => i.field),
      ['lora'],
    );
  }
  const form = multipart(FAST);
  form.append('lora', 'zoom-in');
  form.append('lora', 'zoom-in:0.5');
  const repeated = await post(server.url, form);
  assert.equal(repeated.status, 422);
  assert.match(repeated.body.issues[0].expected, /given once/);
  const json = await post(
    server.url,
    JSON.stringify({ image: TINY_IMAGE.toString('base64'), ...FAST, frames: 0, lora: [{ path: loraFile }] }),
    true,
  );
  assert.equal(json.status, 422);
  assert.deepEqual(json.body.issues.map((i: { field: string }) => i.field).sort(), ['frames', 'lora']);
  const none = await post(plain.url, multipart({ ...FAST, lora: 'zoom-in' }));
  assert.equal(none.status, 422);
  assert.equal(none.body.issues[0].field, 'lora');
  assert.match(none.body.issues[0].expected, /has no camera-motion LoRAs/);
});

async function runJob(fields: Record<string, string>) {
  const r = await post(server.url, multipart({ ...FAST, seed: '5', ...fields }));
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const job = (await waitForJob(server.url, r.body.id)) as Loose;
  assert.equal(job.state, 'done', job.error);
  const video = Buffer.from(await (await fetch(`${server.url}${job.result.videos[0].url}`)).arrayBuffer());
  const sidecar = JSON.parse(readFileSync(join(server.dataDir, 'videos', `${job.id}.mp4.json`), 'utf8'));
  return { job, video, sidecar };
}

test('a job with a camera LoRA: stored by name, merged into the model; the next job runs without it', async () => {
  const base = await runJob({});
  const moved = await runJob({ lora: 'zoom-in:1.5' });
  const again = await runJob({});
  assert.deepEqual(moved.job.parameters.lora, ['zoom-in:1.5']);
  assert.deepEqual(moved.job.resolved.lora, ['zoom-in:1.5']);
  assert.equal(base.job.resolved.lora, undefined);
  assert.equal(JSON.stringify(moved.sidecar).includes('"scale":1.5'), true, JSON.stringify(moved.sidecar));
  assert.equal(JSON.stringify(base.sidecar).includes(loraFile), false);
  assert.notDeepEqual(moved.video, base.video, 'the LoRA changes the video');
  assert.deepEqual(again.video, base.video, 'the engine kept across jobs carries no LoRA over');
});

test('a worker whose model lacks the LoRA a job names fails it with a request error (not retried)', async () => {
  await assert.rejects(
    executeJob(
      {
        id: 'v000000000000000000000001',
        fields: { lora: ['zoom-in:1'] },
        image: { name: 'in.png', bytes: TINY_IMAGE },
      },
      dir,
      { model: { checkpoint: `${TINY_DIR}checkpoint.safetensors`, config: `${TINY_DIR}config.json` } },
    ),
    (e: unknown) => e instanceof GenerateRequestError && /a camera LoRA this model has \(none\)/.test(e.message),
  );
});
