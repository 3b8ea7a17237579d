/**
 * CLIP scores of a clip (arXiv 2311.15127 §3.1 / App. C: "CLIP embeddings of the first, middle and last frame", from
 * which the aesthetic score and the CLIP text–image similarity are computed):
 *
 * - the image tower of a user-given CLIP checkpoint (src/models/clip, its sizes and activation from the checkpoint)
 *   on the first, middle and last frame, each scaled to cover the tower's square input and centre-cropped (ffmpeg
 *   bicubic; open_clip / transformers resize the shorter side with PIL bicubic, then centre-crop), divided by 255
 *   and normalised with the checkpoint's mean / std;
 * - `aesthetic`: the LAION head (aesthetic-head.ts) on each L2-normalised image embedding, the mean of the three;
 * - `clip_text_similarity`: the cosine of each image embedding with the text tower's embedding of the clip's caption,
 *   the mean of the three (only when there is a caption).
 *
 * The towers run in src/models/clip/clip-scorer.ts's `ClipScorer` (an engine of its own, loaded once per process).
 */
import type { ClipScorer } from '../../models/clip/clip-scorer.ts';
import { frameAt, type RgbFrame } from '../caption/captioner.ts';
import { sampleTimes } from '../text/clip-text.ts';

export { ClipScorer, type ClipScorerOptions, cosineSimilarity } from '../../models/clip/clip-scorer.ts';

/** The image embeddings of a clip's first, middle and last frame. */
export async function clipFrameEmbeddings(
  clip: { path: string; startTime: number; endTime: number; fps?: number },
  scorer: ClipScorer,
  signal?: AbortSignal,
): Promise<Float32Array[]> {
  const fps = clip.fps && clip.fps > 0 ? clip.fps : 25;
  const frames: RgbFrame[] = [];
  for (const t of sampleTimes(clip.startTime, clip.endTime, fps))
    frames.push(await frameAt(clip.path, t, scorer.frame, signal));
  return scorer.embedImages(frames);
}
