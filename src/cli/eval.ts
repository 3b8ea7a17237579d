/**
 * `svd eval psnr|ssim REFERENCE CANDIDATE [--json]`: per-frame quality of a generated video against a reference
 * (src/eval/video-quality.ts), as JSON or a markdown table.
 */
import { parseArgs } from 'node:util';
import { type QualityMetric, videoQuality } from '../eval/video-quality.ts';
import { CliError, usageError } from './errors.ts';

export const EVAL_USAGE = `usage: svd eval psnr|ssim|lpips|quality REFERENCE CANDIDATE [--json] [--lpips-weights FILE[,FILE]]

  REFERENCE, CANDIDATE  videos or images (anything ffmpeg decodes), or folders of frames (PNG/JPEG/WebP in numeric
                        name order, e.g. svd orbit --out-frames); frames are compared in order at the reference's
                        size, up to the shorter one
  psnr                  PSNR in dB over RGB in [0, 1]
  ssim                  SSIM, Gaussian window σ = 1.5 (11×11), per channel, as scikit-image's
  lpips                 LPIPS v0.1 (AlexNet), as the lpips package; needs --lpips-weights: the LPIPS state dict, or
                        torchvision's AlexNet file and the package's alex.pth (torch.save zip files; nothing bundled)
  quality               psnr and ssim (and lpips when --lpips-weights is given)
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
