/**
 * `svd orbit`'s input view through the job: a transparent image is centred on white at the requested size (no
 * warning), an opaque one is used as it is with the no-rembg warning; `--help` and the default output name.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const U = `${GOLDEN_DIR}pipeline-sv3d-u-tiny/`;
const dir = mkdtempSync(join(tmpdir(), 'svd-orbit-in-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const orbit = (image: string, out: string, ...more: string[]) =>
  spawnSync(
    process.execPath,
    [
      BIN,
      'orbit',
      '--checkpoint',
      `${U}checkpoint.safetensors`,
      '--config',
      `${U}config.json`,
      '--image',
      image,
      '--frames',
      '2',
      '--steps',
      '1',
      '--out',
      out,
      '--threads',
      '2',
      '--quiet',
      ...more,
    ],
    { encoding: 'utf8', timeout: 300_000 },
  );

test('a transparent object is centred on white; an opaque photo is used as it is, with a warning', async () => {
  // A 128×96 transparent PNG with a blue disc near its top-left corner.
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="96"><circle cx="24" cy="20" r="14" fill="#0000ff"/></svg>`;
  const transparent = join(dir, 'object.png');
  await sharp(Buffer.from(svg)).png().toFile(transparent);
  const a = orbit(transparent, join(dir, 'a/'), '--size', '64x64');
  assert.equal(a.status, 0, a.stderr);
  assert.doesNotMatch(a.stderr, /rembg/);
  const sidecar = JSON.parse(readFileSync(join(dir, 'a', 'video.json'), 'utf8'));
  assert.equal(sidecar.preprocessing.background, 'transparent: object centred on white');
  assert.equal(sidecar.frames, 2);
  // The last view is the prepared input: white corners, the blue disc in the middle.
  const { data } = await sharp(join(dir, 'a', 'frame_0001.png'))
    .raw()
    .toBuffer({ resolveWithObject: true });
  const px = (x: number, y: number) => [...data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)];
  assert.deepEqual(px(1, 1), [255, 255, 255]);
  assert.deepEqual(px(62, 62), [255, 255, 255]);
  const [r, g, b] = px(32, 32);
  assert.ok(b > 200 && r < 60 && g < 60, `centre ${[r, g, b]}`);

  const b2 = orbit(`${U}input.png`, join(dir, 'b.gif'), '--size', '64x64');
  assert.equal(b2.status, 0, b2.stderr);
  assert.match(
    b2.stderr,
    /^warning: the image has no transparency: .*rembg, which svd-ts does not have; the image is used as it is/m,
  );
  const side = JSON.parse(readFileSync(join(dir, 'b.gif.json'), 'utf8'));
  assert.equal(side.preprocessing.background, 'opaque: used as it is (no background removal)');
});

test('svd orbit --help lists the camera and the background behaviour', () => {
  const r = spawnSync(process.execPath, [BIN, 'orbit', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const s of ['--elevation', '--azimuths', '--out-frames', 'rembg', 'numbered in outputs/', 'sv3d-p|sv3d-u']) {
    assert.ok(r.stdout.includes(s), s);
  }
});
