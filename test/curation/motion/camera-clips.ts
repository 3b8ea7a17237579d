/**
 * Camera moves with known velocity, made by ffmpeg at test time in a temporary folder (nothing is committed): the
 * repository's 64×64 test photo (test/fixtures/golden/pipeline-tiny/input.png) upscaled ×2 and tiled 6×6 into a
 * 768×768 background, and a 320×256 window that pans across it (crop x/y = start ± n·v), zooms about its centre
 * (zoompan, zoom factor linear in the frame number) or stays. 8 fps, 16 frames (2 s: 4 samples at 2 fps, 3 pairs),
 * H.264 (crf 16, yuv420p: real compression noise), as scripts/make-demo-clips.sh makes its demo clips.
 *
 * Why ×2 tiles: the photo upscaled ×4 has large smooth areas where Farneback under-reads a 4-pixel pan by 7–10 %
 * (measured); at ×2 the texture is dense enough that the pans read within 0.5 % of the truth.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CameraMotionClass } from '../../../src/curation/motion/camera.ts';
import { ffmpeg } from '../../training/data/test-videos.ts';

export const PHOTO = new URL('../../fixtures/golden/pipeline-tiny/input.png', import.meta.url).pathname;
export const CLIP_FPS = 8;
const FRAMES = 16;
const W = 320;
const H = 256;

export interface CameraClip {
  name: string;
  path: string;
  camera: CameraMotionClass;
  width: number;
  height: number;
  /** The true motion score: mean displacement between frames 0.5 s apart over the frame diagonal. */
  score: number;
  /** Pans: pixels per frame. */
  speed?: number;
}

/** The photo upscaled ×`scale` and tiled n×n. */
export function tiledPhoto(scale: number, n: number): string {
  const s = 64 * scale;
  const ins = (p: string) => Array.from({ length: n }, (_, i) => `[${p}${i}]`).join('');
  return `scale=${s}:${s}:flags=lanczos,split=${n}${ins('a')};${ins('a')}hstack=${n},split=${n}${ins('r')};${ins('r')}vstack=${n}`;
}

/** Encodes `FRAMES` frames of the filter graph over the looped photo. */
export function encode(path: string, graph: string, frames = FRAMES): Promise<void> {
  return ffmpeg([
    ...['-loop', '1', '-framerate', String(CLIP_FPS), '-i', PHOTO, '-filter_complex', graph],
    ...['-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '16', '-pix_fmt', 'yuv420p'],
    path,
  ]);
}

/** Mean distance of a w×h frame's pixel centres from its centre. */
function meanRadius(w: number, h: number): number {
  let s = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) s += Math.hypot(x - (w - 1) / 2, y - (h - 1) / 2);
  return s / (w * h);
}

/**
 * The 15 clips: pans left/right/up/down at 1, 2 and 4 px per frame, zoom in and out (zoom factor 1 + 0.02·n and
 * 1.4 − 0.02·n), static.
 */
export async function makeCameraClips(): Promise<{ dir: string; clips: CameraClip[]; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'svd-motion-'));
  const bg = tiledPhoto(2, 6); // 768×768
  const diag = Math.hypot(W, H);
  const step = CLIP_FPS / 2; // frames per sample interval
  const specs: Array<{ name: string; graph: string; camera: CameraMotionClass; score: number; speed?: number }> = [];
  for (const v of [1, 2, 4]) {
    const score = (v * step) / diag;
    const pan = (camera: CameraMotionClass, x: string, y: string) =>
      specs.push({ name: `${camera}-${v}`, graph: `${bg},crop=${W}:${H}:${x}:${y}`, camera, score, speed: v });
    pan('pan-right', `'224+n*${v}'`, '256');
    pan('pan-left', `'224-n*${v}'`, '256');
    pan('pan-down', '224', `'256+n*${v}'`);
    pan('pan-up', '224', `'256-n*${v}'`);
  }
  const radius = meanRadius(W, H);
  for (const [camera, z0, dz] of [
    ['zoom-in', 1, 0.02],
    ['zoom-out', 1.4, -0.02],
  ] as const) {
    const z = (n: number) => z0 + dz * n;
    const ratios = [0, step, 2 * step].map((n) => Math.abs(z(n + step) / z(n) - 1));
    const score = ((ratios.reduce((a, b) => a + b) / ratios.length) * radius) / diag;
    const graph = `${bg},zoompan=z='${z0}+${dz}*on':d=1:x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':s=${W}x${H}:fps=${CLIP_FPS}`;
    specs.push({ name: camera, graph, camera, score });
  }
  specs.push({ name: 'static', graph: `${bg},crop=${W}:${H}:224:256`, camera: 'static', score: 0 });

  const clips = specs.map(({ name, camera, score, speed }) => {
    const clip: CameraClip = { name, path: join(dir, `${name}.mp4`), camera, width: W, height: H, score };
    if (speed !== undefined) clip.speed = speed;
    return clip;
  });
  for (let i = 0; i < specs.length; i += 2) {
    await Promise.all(specs.slice(i, i + 2).map((s, j) => encode(clips[i + j].path, s.graph)));
  }
  return { dir, clips, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
