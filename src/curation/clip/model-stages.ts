/**
 * The per-clip stages that need user-given models, in the order they run (a caption is needed before the CLIP
 * text–image similarity):
 *
 * - `caption`: the image captioner on the middle frame, the video captioner on N uniform frames, the summariser on
 *   the two (src/curation/caption) → label `caption` (+ `caption_image`, `caption_video`); without a captioner:
 *   "no captioner given".
 * - `clip`: CLIP image embeddings of the first, middle and last frame and the text embedding of the caption →
 *   `clip_text_similarity` = the mean of the three cosines; without CLIP weights "not scored: no CLIP weights
 *   given", without a caption (this run's or an earlier run's label) or a text tower, why not.
 * - `aesthetic`: the LAION head on the same three (L2-normalised) image embeddings → `aesthetic` = their mean;
 *   without a head "not scored: no aesthetic head given".
 *
 * Nothing is ever invented: a stage without its model records why it was not scored.
 */
import { VideoInputError } from '../../video/errors.ts';
import { type Captioners, captionClip } from '../caption/captioner.ts';
import type { ClipStageResult } from '../run/stages.ts';
import type { AestheticHead } from './aesthetic-head.ts';
import { type ClipScorer, clipFrameEmbeddings, cosineSimilarity } from './clip-scorer.ts';

/** The models these stages use (part of the run's ClipModels). */
export interface ModelStageModels {
  clip?: ClipScorer;
  aesthetic?: AestheticHead;
  captioners?: Captioners;
}

/** The clip as these stages read it: a time range of a file, and the labels earlier runs stored for it. */
export interface ModelStageClip {
  path: string;
  startTime: number;
  endTime: number;
  fps?: number;
  labels?: Readonly<Record<string, string>>;
}

/** The stage names and what each records when its model is not given. */
export const MODEL_STAGE_DEFAULTS: readonly (readonly [string, string])[] = [
  ['caption', 'no captioner given'],
  ['clip', 'not scored: no CLIP weights given'],
  ['aesthetic', 'not scored: no aesthetic head given'],
];

const round = (v: number) => Number(v.toFixed(6));

/** Runs the caption, clip and aesthetic stages not in `skip`; an unreadable clip is a rejection. */
export async function scoreModelStages(
  clip: ModelStageClip,
  models: ModelStageModels,
  opts: { skip?: ReadonlySet<string>; signal?: AbortSignal } = {},
): Promise<ClipStageResult[] | { rejected: string }> {
  const want = (s: string) => !opts.skip?.has(s);
  const out: ClipStageResult[] = [];
  const why = Object.fromEntries(MODEL_STAGE_DEFAULTS);
  let caption = clip.labels?.caption;
  let stage = 'caption';
  try {
    if (want('caption')) {
      const c = models.captioners ? await captionClip(clip, models.captioners, opts.signal) : undefined;
      if (!c) out.push({ stage: 'caption', status: 'skipped', detail: why.caption });
      else {
        caption = c.caption;
        const labels: Record<string, string> = { caption: c.caption };
        if (c.image !== undefined) labels.caption_image = c.image;
        if (c.video !== undefined) labels.caption_video = c.video;
        const by = models.captioners!;
        const detail = {
          image: by.image?.name,
          video: by.video?.name,
          summariser: c.summary !== undefined ? by.summariser?.name : undefined,
        };
        out.push({ stage: 'caption', status: 'done', labels, detail: JSON.stringify(detail) });
      }
    }
    // The three image embeddings, only when a stage will use them (ViT-L/14 is seconds per clip on a CPU).
    const needSimilarity = want('clip') && models.clip && !models.clip.textUnavailable && caption;
    const needAesthetic = want('aesthetic') && models.clip && models.aesthetic;
    stage = 'clip';
    const embeddings =
      needSimilarity || needAesthetic ? await clipFrameEmbeddings(clip, models.clip!, opts.signal) : [];
    if (want('clip')) {
      const scorer = models.clip;
      const textWhy = scorer?.textUnavailable;
      if (!scorer) out.push({ stage: 'clip', status: 'skipped', detail: why.clip });
      else if (textWhy) out.push({ stage: 'clip', status: 'skipped', detail: `not scored: ${textWhy}` });
      else if (!caption) {
        out.push({ stage: 'clip', status: 'skipped', detail: 'not scored: the clip has no caption to compare with' });
      } else {
        const text = await scorer.embedText(caption);
        const sims = embeddings.map((e) => cosineSimilarity(e, text));
        out.push({
          stage: 'clip',
          status: 'done',
          scores: { clip_text_similarity: sims.reduce((a, s) => a + s, 0) / sims.length },
          detail: JSON.stringify({ frames: sims.map(round), text: caption }),
        });
      }
    }
    if (want('aesthetic')) {
      if (!models.aesthetic) out.push({ stage: 'aesthetic', status: 'skipped', detail: why.aesthetic });
      else if (!models.clip) {
        out.push({
          stage: 'aesthetic',
          status: 'skipped',
          detail: 'not scored: the aesthetic head needs CLIP weights',
        });
      } else {
        const scores = embeddings.map((e) => models.aesthetic!.scoreEmbedding(e));
        out.push({
          stage: 'aesthetic',
          status: 'done',
          scores: { aesthetic: scores.reduce((a, s) => a + s, 0) / scores.length },
          detail: JSON.stringify({ frames: scores.map(round) }),
        });
      }
    }
  } catch (e) {
    if (!(e instanceof VideoInputError)) throw e;
    return { rejected: `${stage}: ${e.message}` };
  }
  return out;
}
