/**
 * The output plan of a generation job (src/pipeline/output-plan.ts), in-process: numbering (batch names, the next
 * number in outputs/), and every refusal before any compute — an existing video, its sidecar, an earlier run's
 * frames, a tensor file, a path used twice, a name without an extension, a missing folder — with the folders the
 * plan made removed again.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  nextOutputNumber,
  numberedPath,
  type OutputRequest,
  planOutputs,
  removeMadeFolders,
} from '../../src/pipeline/output-plan.ts';
import { GenerateRequestError } from '../../src/pipeline/request.ts';
import { VideoOutputError } from '../../src/video/errors.ts';

const root = mkdtempSync(join(tmpdir(), 'svd-plan-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  return d;
};

const request = (r: Partial<OutputRequest>): OutputRequest => ({ overwrite: false, ...r });

/** A GenerateRequestError of `field` whose "expected" matches `pattern`. */
const refused = (field: string, pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof GenerateRequestError, String(e));
  assert.equal(e.issues[0].field, field);
  assert.match(e.issues[0].expected, pattern);
  return true;
};

test('batch names: clip_00.gif …, frames/00/ …, lat_000.safetensors for 101 videos', () => {
  assert.equal(numberedPath('clip.gif', 0, 1, false), 'clip.gif');
  assert.equal(numberedPath(join('a', 'clip.gif'), 1, 3, false), join('a', 'clip_01.gif'));
  assert.equal(numberedPath('frames/', 2, 3, true), 'frames/02/');
  assert.equal(numberedPath('lat.safetensors', 7, 101, false), 'lat_007.safetensors');
});

test('the next number follows the highest numbered name (sidecars and gaps included); 0 for none', async () => {
  const d = fresh();
  assert.equal(await nextOutputNumber(d), 0);
  assert.equal(await nextOutputNumber(join(d, 'missing')), 0);
  writeFileSync(join(d, '000000.mp4'), '');
  assert.equal(await nextOutputNumber(d), 1);
  writeFileSync(join(d, '000041.mp4.json'), '');
  writeFileSync(join(d, 'notes.txt'), '');
  writeFileSync(join(d, 'take2.mp4'), '');
  assert.equal(await nextOutputNumber(d), 42);
});

test('a plan of three videos with tensor files: numbered paths, the frames folder made', async () => {
  const d = fresh();
  const plan = await planOutputs(
    request({ out: `${join(d, 'v')}/`, saveLatents: join(d, 'lat.safetensors'), orbit: { outFrames: join(d, 'o') } }),
    3,
  );
  assert.deepEqual(plan.made, [`${join(d, 'v')}/`, join(d, 'o')]);
  assert.deepEqual(plan.videos[2], {
    out: `${join(d, 'v', '02')}/`,
    saveLatents: join(d, 'lat_02.safetensors'),
    outFrames: `${join(d, 'o', '02')}/`,
  });
  await removeMadeFolders(plan);
  assert.deepEqual(readdirSync(d), []);
});

test('refusals without overwrite: video, sidecar, earlier frames, tensor file; overwrite allows them', async () => {
  const d = fresh();
  writeFileSync(join(d, 'old.gif'), '');
  writeFileSync(join(d, 'lone.gif.json'), '');
  writeFileSync(join(d, 'lat.safetensors'), '');
  mkdirSync(join(d, 'f'));
  writeFileSync(join(d, 'f', 'video.json'), '');
  mkdirSync(join(d, 'own'));
  writeFileSync(join(d, 'own', 'notes.txt'), '');
  await assert.rejects(planOutputs(request({ out: join(d, 'old.gif') }), 1), refused('out', /^a new path: it exists/));
  await assert.rejects(
    planOutputs(request({ out: join(d, 'lone.gif') }), 1),
    refused('out', /its sidecar lone\.gif\.json exists/),
  );
  await assert.rejects(planOutputs(request({ out: join(d, 'f') }), 1), refused('out', /earlier run’s frames/));
  await assert.rejects(
    planOutputs(request({ out: join(d, 'a.gif'), saveLatents: join(d, 'lat.safetensors') }), 1),
    refused('saveLatents', /^a new path: it exists \(--overwrite replaces it\)$/),
  );
  await assert.rejects(
    planOutputs(request({ out: join(d, 'a.gif'), orbit: { outFrames: join(d, 'f') } }), 1),
    refused('outFrames', /earlier run’s frames/),
  );
  await planOutputs(request({ out: join(d, 'own') }), 1); // a folder with other files only
  const all = { out: join(d, 'old.gif'), saveLatents: join(d, 'lat.safetensors'), overwrite: true };
  assert.equal((await planOutputs(all, 1)).videos[0].out, join(d, 'old.gif'));
  await planOutputs({ out: join(d, 'lone.gif'), overwrite: true }, 1);
  await planOutputs({ out: join(d, 'f'), overwrite: true }, 1);
});

test('one path for two outputs, a name without an extension, a missing folder', async () => {
  const d = fresh();
  const x = join(d, 'x.safetensors');
  await assert.rejects(
    planOutputs(request({ out: join(d, 'a.gif'), saveLatents: x, saveIntermediates: x }), 1),
    refused('saveIntermediates', /^a path of its own \(it is a latents file\)$/),
  );
  await assert.rejects(
    planOutputs(request({ out: join(d, 'a.gif'), saveLatents: join(d, 'a.gif.json') }), 1),
    refused('saveLatents', /it is the sidecar of .*a\.gif/),
  );
  await assert.rejects(
    planOutputs(request({ out: join(d, 'clip') }), 1),
    refused('out', /^a video file \(\.mp4, \.webm, \.gif, \.webp\) or a folder for PNG frames ending in \/$/),
  );
  await assert.rejects(planOutputs(request({ out: join(d, 'clip.avi') }), 1), refused('out', /a video file/));
  await assert.rejects(
    planOutputs(request({ out: join(d, 'a.gif'), saveIntermediates: join(d, 'nowhere', 'i.safetensors') }), 1),
    (e: unknown) =>
      e instanceof VideoOutputError && e.problem === 'unwritable' && /nowhere does not exist/.test(e.message),
  );
  assert.deepEqual(readdirSync(d), []);
});

test('a refused batch removes the folder it made', async () => {
  const d = fresh();
  writeFileSync(join(d, 'lat_01.safetensors'), '');
  await assert.rejects(
    planOutputs(request({ out: `${join(d, 'v')}/`, saveLatents: join(d, 'lat.safetensors') }), 2),
    refused('saveLatents', /it exists/),
  );
  assert.deepEqual(readdirSync(d), ['lat_01.safetensors']);
});
