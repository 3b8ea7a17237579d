/**
 * Small test videos made with ffmpeg's lavfi sources in a temporary folder (nothing is committed), and the broken
 * inputs the decoder must refuse. Sizes and rates are tiny so the whole set is made in about a second.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs ffmpeg with `args` (quiet, overwrite); rejects with its stderr when it fails. */
export function ffmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${args.join(' ')}: ${stderr}`))));
  });
}

export interface TestVideos {
  dir: string;
  /** testsrc, 96×64, 10 fps, 3 s, H.264 mp4 with the index first (+faststart): 30 frames. */
  bars: string;
  /** Gray frames whose level is 8·N for frame N, 32×16, 10 fps, 3 s, lossless FFV1 in Matroska. */
  gray: string;
  /** A horizontal ramp R = 2·x, G = 8·y, B = 128, 128×32, 10 fps, 1 s, lossless FFV1 (RGB). */
  ramp: string;
  /** mandelbrot, 64×48, 12 fps, 1 s, VP9 WebM. */
  mandel: string;
  /** testsrc, 48×32, 10 fps, 1 s, GIF. */
  gif: string;
  /** A sine tone in an .mp4 (audio only). */
  audio: string;
  /** A text file named .mp4. */
  text: string;
  /** 0 bytes. */
  empty: string;
  /** `bars` cut to 60 % of its bytes: the index is there, the end of the frames is not. */
  truncated: string;
  /** The first 2 KB of an mp4 whose index is at the end (late.mp4): no index at all. */
  noIndex: string;
  remove(): void;
}

export type VideoName = Exclude<keyof TestVideos, 'dir' | 'remove'>;

const FILES: Record<VideoName, string> = {
  bars: 'bars.mp4',
  gray: 'gray.mkv',
  ramp: 'ramp.mkv',
  mandel: 'm.webm',
  gif: 'anim.gif',
  audio: 'audio.mp4',
  text: 'text.mp4',
  empty: 'empty.mp4',
  truncated: 'truncated.mp4',
  noIndex: 'noindex.mp4',
};

const lavfi = (graph: string) => ['-f', 'lavfi', '-i', graph];
const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

/**
 * Makes the test videos (`only` those listed, default all) in a fresh temporary folder, a few ffmpeg runs at a time.
 */
export async function makeTestVideos(only?: readonly VideoName[]): Promise<TestVideos> {
  const dir = mkdtempSync(join(tmpdir(), 'svd-videos-'));
  const p = (name: string) => join(dir, name);
  const want = new Set<VideoName>(only ?? (Object.keys(FILES) as VideoName[]));
  const make: Record<VideoName, () => Promise<void>> = {
    bars: () =>
      ffmpeg([...lavfi('testsrc=size=96x64:rate=10:duration=3'), ...x264, '-movflags', '+faststart', p('bars.mp4')]),
    gray: () =>
      ffmpeg([...lavfi("color=black:s=32x16:r=10:d=3,format=gray,geq=lum='N*8'"), '-c:v', 'ffv1', p('gray.mkv')]),
    ramp: () =>
      ffmpeg([
        ...lavfi("color=black:s=128x32:r=10:d=1,format=gbrp,geq=r='X*2':g='Y*8':b='128'"),
        '-c:v',
        'ffv1',
        p('ramp.mkv'),
      ]),
    mandel: () =>
      ffmpeg([
        ...lavfi('mandelbrot=size=64x48:rate=12'),
        '-t',
        '1',
        '-c:v',
        'libvpx-vp9',
        '-deadline',
        'realtime',
        p('m.webm'),
      ]),
    gif: () => ffmpeg([...lavfi('testsrc=size=48x32:rate=10:duration=1'), p('anim.gif')]),
    audio: () => ffmpeg([...lavfi('sine=frequency=440:duration=1'), '-c:a', 'aac', '-f', 'mp4', p('audio.mp4')]),
    text: async () => writeFileSync(p('text.mp4'), 'this is not a video\n'.repeat(20)),
    empty: async () => writeFileSync(p('empty.mp4'), ''),
    truncated: async () => {
      if (!want.has('bars')) await make.bars();
      const bars = readFileSync(p('bars.mp4'));
      writeFileSync(p('truncated.mp4'), bars.subarray(0, Math.floor(bars.length * 0.6)));
    },
    noIndex: async () => {
      await ffmpeg([...lavfi('testsrc=size=96x64:rate=10:duration=1'), ...x264, p('late.mp4')]);
      writeFileSync(p('noindex.mp4'), readFileSync(p('late.mp4')).subarray(0, 2048));
    },
  };
  // `truncated` reads `bars`: make it after the others.
  const first = [...want].filter((n) => n !== 'truncated');
  for (let i = 0; i < first.length; i += 3) await Promise.all(first.slice(i, i + 3).map((n) => make[n]()));
  if (want.has('truncated')) await make.truncated();
  const paths = Object.fromEntries(Object.entries(FILES).map(([k, f]) => [k, p(f)])) as Record<VideoName, string>;
  return { dir, ...paths, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Copies `from` to `dir/name` and returns the new path. */
export function copyTo(from: string, dir: string, name: string): string {
  const to = join(dir, name);
  copyFileSync(from, to);
  return to;
}
