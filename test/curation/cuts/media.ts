/**
 * Test media for the cut detectors, made with ffmpeg at test time (nothing is committed): the reference-vector
 * videos by the exact command recorded in test/fixtures/curation/cuts/vectors.json, and an accuracy video with known
 * hard cuts, pans, a zoom and a cross-fade.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { streamFrames } from '../../../src/video/frame-stream.ts';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const FIXTURES = join(ROOT, 'test/fixtures/curation/cuts');
/** The repository's test photo (64×64 RGB). */
export const PHOTO = join(ROOT, 'test/fixtures/golden/pipeline-tiny/input.png');

/** Runs ffmpeg with exactly `args`; rejects with its stderr when it fails. */
export function runFfmpeg(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`ffmpeg ${args.join(' ')} failed (${code}): ${stderr}`)),
    );
  });
}

/** Replaces `{name}` placeholders in recorded command lines. */
export function fill(args: readonly string[], values: Record<string, string>): string[] {
  return args.map((a) => a.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m));
}

/** Every frame of `path` at width×height (copies; small test videos only). */
export async function readAllFrames(path: string, width: number, height: number): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  for await (const f of streamFrames(path, { width, height })) frames.push(f);
  return frames;
}

export interface VectorFrame {
  rgb: string;
  hsv: string;
  hsvMean: [number, number, number];
  /** [content_val, delta_hue, delta_sat, delta_lum]; null for frame 0. */
  content: [number, number, number, number] | null;
  luma: [number, number, number, number] | null;
  adaptiveRatio: Record<string, number | null>;
}

export interface VectorDetector {
  detector: 'ContentDetector' | 'AdaptiveDetector';
  params: Record<string, number | string | boolean>;
  cuts: number[];
  sceneManagerCuts: number[];
}

export interface VectorVideo {
  name: string;
  description: string;
  width: number;
  height: number;
  fps: number;
  frameCount: number;
  hardCuts: number[];
  ffmpegArgs: string[];
  decodeArgs: string[];
  rgbSha256: string;
  detectors: Record<string, VectorDetector>;
  frames: VectorFrame[];
}

export interface Vectors {
  pyscenedetect: { version: string; commit: string };
  opencv: string;
  ffmpeg: string;
  videos: VectorVideo[];
}

export function loadVectors(): Vectors {
  return JSON.parse(readFileSync(join(FIXTURES, 'vectors.json'), 'utf8')) as Vectors;
}

/** Known content of the accuracy video (24 fps, 384×216, H.264; analysed at 256×144). */
export interface AccuracyTruth {
  frameCount: number;
  fps: number;
  /** First frames of new shots at hard cuts. */
  hardCuts: number[];
  /** The cross-fade: frames [start, end) blend the two shots (xfade over 1 s). */
  crossFade: { start: number; end: number };
  /** Camera motion inside one shot, [start, end): no cut may fall strictly inside. */
  motion: { what: string; start: number; end: number }[];
}

const S = '384x216';
const N = ',format=yuv420p,setsar=1,settb=1/24';

/**
 * The accuracy video: testsrc2 | the photo panned at (4, 2) px/frame | mandelbrot | the photo zoomed in
 * (z = 1 + 0.01·frame) | smptebars cross-fading (1 s) into testsrc | the photo panned at −8 px/frame | a still
 * region of the photo elsewhere (a hard cut within the same picture) | rgbtestsrc. The photo is upscaled to
 * 1024×1024 first, so a 384×216 window shows a part of it.
 */
export async function makeAccuracyVideo(out: string): Promise<AccuracyTruth> {
  const graph = [
    '[0:v]scale=1024:1024:flags=lanczos,split=4[p1][p2][p3][p4]',
    `testsrc2=s=${S}:r=24,trim=end_frame=48${N}[s1]`,
    `[p1]crop=w=384:h=216:x='100+4*n':y='300+2*n',trim=end_frame=72${N}[s2]`,
    `mandelbrot=s=${S}:r=24,trim=end_frame=48${N}[s3]`,
    `[p2]crop=1024:576:0:224,zoompan=z='1+0.01*on':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=${S}:fps=24,` +
      `trim=end_frame=72${N}[s4]`,
    `smptebars=s=${S}:r=24,trim=end_frame=60${N}[s5]`,
    `testsrc=s=${S}:r=24,trim=end_frame=72${N}[s6]`,
    `[s5][s6]xfade=transition=fade:duration=1:offset=1.5${N}[x56]`,
    `[p3]crop=w=384:h=216:x='600-8*n':y=100,trim=end_frame=48${N}[s7]`,
    `[p4]crop=w=384:h=216:x=200:y=650,trim=end_frame=48${N}[s8]`,
    `rgbtestsrc=s=${S}:r=24,trim=end_frame=36${N}[s9]`,
    '[s1][s2][s3][s4][x56][s7][s8][s9]concat=n=8:v=1:a=0[v]',
  ].join(';');
  await runFfmpeg([
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-loop', '1', '-framerate', '24', '-i', PHOTO],
    ...['-filter_complex', graph, '-map', '[v]', '-frames:v', '480'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', out],
  ]);
  return {
    frameCount: 480,
    fps: 24,
    hardCuts: [48, 120, 168, 240, 348, 396, 444],
    crossFade: { start: 276, end: 300 },
    motion: [
      { what: 'pan (4, 2) px/frame', start: 48, end: 120 },
      { what: 'zoom 1 + 0.01·frame', start: 168, end: 240 },
      { what: 'pan −8 px/frame', start: 348, end: 396 },
    ],
  };
}

/** Precision, recall and F1 of `found` against `truth`, one-to-one matches within ±`tolerance` frames. */
export function cutScores(
  found: readonly number[],
  truth: readonly number[],
  tolerance = 1,
): { precision: number; recall: number; f1: number; matched: number } {
  const free = new Set(truth);
  let matched = 0;
  for (const c of found) {
    let best: number | undefined;
    for (const t of free)
      if (Math.abs(t - c) <= tolerance && (best === undefined || Math.abs(t - c) < Math.abs(best - c))) best = t;
    if (best !== undefined) {
      free.delete(best);
      matched++;
    }
  }
  const precision = found.length === 0 ? 1 : matched / found.length;
  const recall = truth.length === 0 ? 1 : matched / truth.length;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, matched };
}
