/**
 * CLIP score of a video (Hessel et al. 2021, "CLIPScore", as video generation papers use it: per frame, then the
 * mean over frames): 100 · max(cos(E_img(frame), E_txt(prompt)), 0) for text–video, and 100 · max(cos(E_img(frame),
 * E_img(image)), 0) for image–video (how closely the frames keep the conditioning image). The towers and weights are
 * the user's CLIP checkpoint (src/models/clip/clip-scorer.ts); frames are scaled to cover the tower's square input and
 * centre-cropped (ffmpeg bicubic), as the curation stage does.
 */
import { type ClipScorer, cosineSimilarity } from '../models/clip/clip-scorer.ts';
import { decodeFrames } from '../video/decode.ts';
import { streamFrames } from '../video/frame-stream.ts';
import { probeVideo } from '../video/probe.ts';

export interface ClipScore {
  /** Mean over frames of 100 · max(cos, 0). */
  mean: number;
  perFrame: number[];
}

/** The frames of a video (or the one of an image) at the tower's input size: scaled to cover, centre-cropped. */
async function towerFrames(path: string, scorer: ClipScorer, signal?: AbortSignal) {
  const s = scorer.frame.width;
  if (/\.(png|jpe?g|webp)$/i.test(path)) {
    const one = await decodeFrames(path, {
      count: 1,
      width: s,
      height: s,
      crop: { mode: 'center' },
      resample: 'bicubic',
      signal,
    });
    return one.data.map((data) => ({ width: s, height: s, data }));
  }
  const probe = await probeVideo(path, { signal });
  const k = s / Math.min(probe.width, probe.height);
  const cw = Math.max(s, Math.round(probe.width * k));
  const ch = Math.max(s, Math.round(probe.height * k));
  const x0 = Math.floor((cw - s) / 2);
  const y0 = Math.floor((ch - s) / 2);
  const frames: { width: number; height: number; data: Uint8Array }[] = [];
  for await (const f of streamFrames(path, { width: cw, height: ch, resample: 'bicubic', signal })) {
    const data = new Uint8Array(s * s * 3);
    for (let y = 0; y < s; y++) data.set(f.subarray(((y0 + y) * cw + x0) * 3, ((y0 + y) * cw + x0 + s) * 3), y * s * 3);
    frames.push({ width: s, height: s, data });
  }
  return frames;
}

function score(embeddings: readonly Float32Array[], target: Float32Array): ClipScore {
  const perFrame = embeddings.map((e) => 100 * Math.max(0, cosineSimilarity(e, target)));
  return { mean: perFrame.reduce((a, v) => a + v, 0) / Math.max(1, perFrame.length), perFrame };
}

/** Text–video CLIP score of `video` against `prompt`. */
export async function textVideoClipScore(
  video: string,
  prompt: string,
  scorer: ClipScorer,
  signal?: AbortSignal,
): Promise<ClipScore> {
  const frames = await scorer.embedImages(await towerFrames(video, scorer, signal));
  return score(frames, await scorer.embedText(prompt));
}

/** Image–video CLIP score of `video` against the conditioning `image`. */
export async function imageVideoClipScore(
  video: string,
  image: string,
  scorer: ClipScorer,
  signal?: AbortSignal,
): Promise<ClipScore> {
  const frames = await scorer.embedImages(await towerFrames(video, scorer, signal));
  const [target] = await scorer.embedImages(await towerFrames(image, scorer, signal));
  return score(frames, target);
}
