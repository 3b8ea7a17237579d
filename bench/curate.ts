/**
 * `npm run bench -- curate`: the CPU curation cascade on one core — decode, cut detection (the three-rate cascade),
 * motion (Farneback at 2 fps), text area (PP-OCRv4 on three frames per clip) and the whole `curate()` run — on 720p
 * H.264 built here from real photographs and footage (Debian opencv-doc), each figure beside the anchors' algorithms
 * run with Debian's python3-opencv in the same run (bench/curate_baseline.py: cv2 decode + HSV content score;
 * cv2.calcOpticalFlowFarneback at 2 fps), as × real time and the ratio ours / baseline (> 1: we are faster).
 * The process pins itself to one core (taskset) so that "per core" means one core for ffmpeg, Node and
 * onnxruntime together; the target of issue 10 is ≥ 10× real time per core for the cascade.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analysisSize as cutAnalysisSize } from '../src/curation/cuts/analysis-size.ts';
import { splitVideo } from '../src/curation/cuts/video.ts';
import { openFrameStream } from '../src/curation/frames.ts';
import { clipMotion, analysisSize as motionAnalysisSize } from '../src/curation/motion/score.ts';
import { curate } from '../src/curation/run/curate.ts';
import { CurationStore } from '../src/curation/store/curation-store.ts';
import { clipTextArea } from '../src/curation/text/clip-text.ts';
import { TextDetector } from '../src/curation/text/text-detector.ts';
import { runFfmpeg } from '../src/video/ffmpeg.ts';
import { probeVideo } from '../src/video/probe.ts';
import { peakBytes, recordFigure, resetPeak } from './report.ts';
import { machineLine } from './stats.ts';

const DATA = '/usr/share/doc/opencv-doc/examples/data';
const W = 1280;
const H = 720;
const FPS = 30;

/** ffmpeg with `args` (the last one the output), quiet and overwriting; rejects with its last error line. */
function ffmpeg(args: string[]): Promise<void> {
  return runFfmpeg(['-hide_banner', '-loglevel', 'error', '-y', ...args], [], { outputName: args[args.length - 1] });
}

const ENCODE = ['-c:v', 'libx264', '-preset', 'medium', '-crf', '20', '-pix_fmt', 'yuv420p', '-r', String(FPS)];

/** A 5 s 720p pan (or zoom) over a photo: the photo scaled to cover 1.5× the frame, a window moving across it. */
async function photoShot(photo: string, out: string, move: 'right' | 'down' | 'zoom' | 'static'): Promise<void> {
  const big = `scale=${W * 1.5}:${H * 1.5}:force_original_aspect_ratio=increase,crop=${W * 1.5}:${H * 1.5}`;
  const crop =
    move === 'right'
      ? `crop=${W}:${H}:x='t/5*${W / 2}':y=${H / 4}`
      : move === 'down'
        ? `crop=${W}:${H}:x=${W / 4}:y='t/5*${H / 2}'`
        : move === 'static'
          ? `crop=${W}:${H}:${W / 4}:${H / 4}`
          : `zoompan=z='1+0.004*on':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s=${W}x${H}:fps=${FPS}`;
  await ffmpeg([
    '-loop',
    '1',
    '-framerate',
    String(FPS),
    '-i',
    photo,
    '-t',
    '5',
    '-vf',
    `${big},${crop},setsar=1`,
    ...ENCODE,
    out,
  ]);
}

/** Three 20 s 720p30 videos: photo pans joined by hard cuts, CCTV footage, zooms and statics. */
async function buildCorpus(dir: string): Promise<string[]> {
  const out = [join(dir, 'pans.mp4'), join(dir, 'cctv.mp4'), join(dir, 'zooms.mp4')];
  if (out.every(existsSync)) return out;
  mkdirSync(dir, { recursive: true });
  const shots: string[] = [];
  const plan: [string, 'right' | 'down' | 'zoom' | 'static'][] = [
    ['building.jpg', 'right'],
    ['fruits.jpg', 'down'],
    ['aero1.jpg', 'right'],
    ['home.jpg', 'down'],
    ['starry_night.jpg', 'zoom'],
    ['baboon.jpg', 'static'],
    ['leuvenA.jpg', 'zoom'],
    ['orange.jpg', 'static'],
  ];
  for (const [i, [photo, move]] of plan.entries()) {
    const s = join(dir, `shot${i}.mp4`);
    await photoShot(join(DATA, photo), s, move);
    shots.push(s);
  }
  const concat = async (parts: string[], dest: string) => {
    const inputs = parts.flatMap((p) => ['-i', p]);
    const filter = `${parts.map((_, i) => `[${i}:v]`).join('')}concat=n=${parts.length}:v=1:a=0[v]`;
    await ffmpeg([...inputs, '-filter_complex', filter, '-map', '[v]', ...ENCODE, dest]);
  };
  await concat(shots.slice(0, 4), out[0]);
  await ffmpeg(['-i', join(DATA, 'vtest.avi'), '-t', '20', '-vf', `scale=${W}:${H},setsar=1`, ...ENCODE, out[1]]);
  await concat(shots.slice(4), out[2]);
  return out;
}

interface Figure {
  seconds: number;
  video: number;
  clips?: number;
  /** Peak resident size of the process during the stage, bytes. */
  peak?: number;
}

/** Prints a stage's line and records it: time per second of video, ours / baseline (< 1: ours faster). */
function line(name: string, ours: Figure, base?: Figure, missing?: string): void {
  const perVideo = (f: Figure) => f.seconds / f.video;
  recordFigure({
    suite: 'curate',
    case: `${name}, one core, ${ours.video.toFixed(0)} s of 720p30 H.264`,
    ours: ours.seconds * 1000,
    peak: ours.peak,
    ...(base
      ? {
          // the baseline's time for the same seconds of video as ours (motion: it scores whole videos, we score clips)
          baseline: { name: 'python3-opencv', value: perVideo(base) * ours.video * 1000, peak: base.peak },
          ratio: perVideo(ours) / perVideo(base),
        }
      : { baselineMissing: missing ?? 'none' }),
    note:
      `${(ours.video / ours.seconds).toFixed(1)}× real time${base ? ` vs ${(base.video / base.seconds).toFixed(1)}×` : ''}` +
      (name.startsWith('whole') ? '; the baseline’s whole is its decode + cuts + motion (no text)' : ''),
  });
  const rt = (f: Figure) => f.video / f.seconds;
  const clips = ours.clips !== undefined ? `, ${(ours.clips / ours.seconds).toFixed(2)} clips/s` : '';
  const b = base ? ` | baseline ${rt(base).toFixed(1)}× real time | ratio ${(rt(ours) / rt(base)).toFixed(2)}` : '';
  console.log(
    `${name.padEnd(22)} ours ${rt(ours).toFixed(1).padStart(6)}× real time (${ours.seconds.toFixed(2)} s${clips})${b}`,
  );
}

export async function benchCurate(): Promise<void> {
  if (!process.env.SVD_BENCH_PINNED) {
    // re-run pinned to one core: ffmpeg, Node and onnxruntime share it, as "per core" means
    const r = spawnSync('taskset', ['-c', '0', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, SVD_BENCH_PINNED: '1' },
    });
    if (r.error) throw new Error(`taskset: ${r.error.message} (install util-linux)`);
    process.exit(r.status ?? 1);
  }
  if (!existsSync(join(DATA, 'vtest.avi')))
    throw new Error(`${DATA} is missing: bash scripts/setup-debian.sh installs opencv-doc`);
  console.log(`curate bench — ${machineLine()}, pinned to one core; 3 × 20 s of 720p30 H.264`);
  const files = await buildCorpus(join(tmpdir(), 'svd-bench-curate'));
  const probes = await Promise.all(files.map((f) => probeVideo(f)));
  const video = probes.reduce((s, p) => s + p.duration, 0);

  // baseline (python3-opencv, one thread)
  const cut = cutAnalysisSize(W, H);
  const mot = motionAnalysisSize(W, H);
  const py = spawnSync(
    '/usr/bin/python3',
    [
      join(import.meta.dirname, 'curate_baseline.py'),
      String(cut.width),
      String(cut.height),
      String(mot.width),
      String(mot.height),
      ...files,
    ],
    { encoding: 'utf8' },
  );
  let base: { decode_cuts: Figure; motion: Figure } | undefined;
  if (py.status === 0) base = JSON.parse(py.stdout);
  else console.log(`baseline skipped: python3-opencv did not run (${py.stderr.trim().split('\n').pop()})`);

  // decode alone at the cut analysis size
  const noBase = base ? undefined : 'python3-opencv did not run';
  resetPeak();
  let t0 = performance.now();
  for (const f of files) {
    const { stream } = await openFrameStream(f, { size: () => cut, threads: 1 });
    for await (const _ of stream.frames);
  }
  line(
    'decode (256×144)',
    { seconds: (performance.now() - t0) / 1000, video, peak: peakBytes() },
    undefined,
    'none alone: the baseline decodes and scores in one pass (the next figure)',
  );

  resetPeak();
  t0 = performance.now();
  const clips: { path: string; start: number; end: number }[] = [];
  for (const f of files) {
    const { clips: cs } = await splitVideo(f, { threads: 1 });
    for (const c of cs) clips.push({ path: f, start: c.startTime, end: c.endTime });
  }
  line(
    'decode + cut cascade',
    { seconds: (performance.now() - t0) / 1000, video, clips: clips.length, peak: peakBytes() },
    base?.decode_cuts,
    noBase,
  );

  resetPeak();
  t0 = performance.now();
  let clipVideo = 0;
  for (const c of clips) {
    await clipMotion(c.path, { start: c.start, duration: c.end - c.start });
    clipVideo += c.end - c.start;
  }
  line(
    'motion (2 fps)',
    { seconds: (performance.now() - t0) / 1000, video: clipVideo, clips: clips.length, peak: peakBytes() },
    base?.motion,
    noBase,
  );

  resetPeak();
  const detector = await TextDetector.load({ threads: 1 });
  t0 = performance.now();
  for (const c of clips) await clipTextArea(c.path, detector, { start: c.start, end: c.end });
  line(
    'text (3 frames/clip)',
    { seconds: (performance.now() - t0) / 1000, video: clipVideo, clips: clips.length, peak: peakBytes() },
    undefined,
    'none: no OCR in the anchors’ CPU cascade',
  );

  const store = CurationStore.open(':memory:');
  resetPeak();
  t0 = performance.now();
  const r = await curate({ inputs: files, store, models: { text: detector } });
  const whole = { seconds: (performance.now() - t0) / 1000, video, clips: r.clips, peak: peakBytes() };
  const baseWhole = base
    ? {
        seconds: base.decode_cuts.seconds + base.motion.seconds,
        video: base.decode_cuts.video,
        peak: Math.max(base.decode_cuts.peak ?? 0, base.motion.peak ?? 0) || undefined,
      }
    : undefined;
  line('whole curate()', whole, baseWhole, noBase);
  store.close();
  await detector.release();
  console.log(`(${clips.length} clips; baseline whole = its decode + cuts + motion, no text; target ≥ 10× real time)`);
}
