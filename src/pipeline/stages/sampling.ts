/**
 * Stages 3–5 of image-to-video (svd-spec.md §2.1): denoiser = guidance(v-scaling(F)) on the CFG batch
 * [uncond; cond], the initial latent noise·√(1 + σ₀²), and the sampler loop with step events and cancellation. F is
 * `svdNetwork` (OpenAIWrapper + VideoUNet); the sampler and guider come from `samplerConfig`, the same function the
 * sgm config reader uses. The UNet weights are loaded once for every video of the request.
 */
import { runSampler, type SamplerConfig, samplerConfig, samplerSigmas } from '../../diffusion/config.ts';
import { makeVDenoiser } from '../../diffusion/denoiser.ts';
import type { StepInfo } from '../../diffusion/samplers.ts';
import { scaleInitialNoise } from '../../diffusion/schedule.ts';
import type { Graph } from '../../graph/ir.ts';
import type { SvdModel } from '../../models/description.ts';
import { svdNetworkGraph } from '../../models/svd-network.ts';
import type { ResidentTensor } from '../../runtime/engine.ts';
import { HostTensor } from '../../tensor/host-tensor.ts';
import type { GenerateParams } from '../params.ts';
import type { StageRunner } from '../stage-runner.ts';
import type { Conditioning } from './conditioning.ts';

export interface VideoToSample {
  conditioning: Conditioning;
  /** [T, C, h, w] standard normal. */
  latentNoise: HostTensor;
  params: GenerateParams;
  /** ε for the churn of step i ([T, C, h, w]); needed only when churn is on. */
  churnNoise?: (step: number) => Float32Array;
}

export interface SampleHooks {
  /** After every sampler step of video `video`. */
  onStep?: (video: number, info: StepInfo) => void;
  signal?: AbortSignal;
  /** Per video: receives `sigmas`, `x_init`, `step.<i>.{denoised_raw,denoised,x}`. */
  intermediates?: readonly (Map<string, HostTensor> | undefined)[];
}

/**
 * The CFG halves (0 unconditional, 1 conditional) each UNet call of a step takes: both at once (2T rows), one per
 * call when split, only the conditional one without guidance.
 */
function callHalves(p: GenerateParams): (0 | 1)[][] {
  if (p.guider === 'identity') return [[1]];
  return p.splitCfg ? [[0], [1]] : [[0, 1]];
}

/** The sampler configuration of a generation (the one place that turns parameters into sampler and guider). */
export function samplerConfigOf(p: GenerateParams): SamplerConfig {
  return samplerConfig({
    sampler: p.sampler,
    numSteps: p.steps,
    discretization: { sigmaMin: p.sigmaMin, sigmaMax: p.sigmaMax, rho: p.rho },
    guider: { kind: p.guider, minScale: p.minCfg, maxScale: p.maxCfg, numFrames: p.frames },
    churn: { sChurn: p.sChurn, sTmin: p.sTmin, sTmax: p.sTmax, sNoise: p.sNoise },
  });
}

function repeatRows(t: HostTensor, times: number): Float32Array {
  const src = t.data as Float32Array;
  const out = new Float32Array(src.length * times);
  for (let i = 0; i < times; i++) out.set(src, i * src.length);
  return out;
}

function concatData(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function latentShape(model: SvdModel, v: VideoToSample): [number, number, number, number] {
  const [T, C, h, w] = v.latentNoise.shape;
  if (C !== model.unet.outChannels || T !== v.params.frames) {
    throw new Error(
      `latent_noise must be [${v.params.frames}, ${model.unet.outChannels}, h, w], got [${v.latentNoise.shape}]`,
    );
  }
  return [T, C, h, w];
}

function graphKey(rows: number, T: number, h: number, w: number): string {
  return `${rows}x${T}x${h}x${w}`;
}

/** Samples every video; returns the final latents [T, C, h, w] in order. */
export async function sampleVideos(
  runner: StageRunner,
  model: SvdModel,
  videos: readonly VideoToSample[],
  hooks: SampleHooks = {},
): Promise<HostTensor<'float32'>[]> {
  const graphs = new Map<string, Graph>();
  const graphOf = (v: VideoToSample): Graph => {
    const [T, , h, w] = latentShape(model, v);
    const rows = callHalves(v.params)[0].length * T;
    const key = graphKey(rows, T, h, w);
    let g = graphs.get(key);
    if (!g) {
      g = svdNetworkGraph(model.unet, rows, T, h, w);
      graphs.set(key, g);
    }
    return g;
  };
  for (const v of videos) graphOf(v);
  return runner.withGraphs(graphs.values(), async () => {
    const out: HostTensor<'float32'>[] = [];
    for (let i = 0; i < videos.length; i++) {
      hooks.signal?.throwIfAborted();
      out.push(await sampleOne(runner, model, videos[i], graphOf(videos[i]), i, hooks));
    }
    return out;
  });
}

async function sampleOne(
  runner: StageRunner,
  model: SvdModel,
  v: VideoToSample,
  graph: Graph,
  index: number,
  hooks: SampleHooks,
): Promise<HostTensor<'float32'>> {
  const { engine } = runner;
  const p = v.params;
  const unet = model.unet;
  const [T, C, h, w] = latentShape(model, v);
  const inter = hooks.intermediates?.[index];
  const halves = [v.conditioning.uc, v.conditioning.c];
  const row = C * h * w;
  const resident: ResidentTensor[] = [];
  const upload = async (t: HostTensor) => {
    const r = await engine.upload(t);
    resident.push(r);
    return r;
  };
  try {
    // One call takes both halves (2T rows, unconditional first) or, split, one half (T rows) at a time; without
    // guidance only the conditional half is evaluated (T rows, one call per step).
    const calls: { concat?: ResidentTensor; context: ResidentTensor; y?: ResidentTensor; indicator: HostTensor }[] = [];
    for (const parts of callHalves(p).map((call) => call.map((i) => halves[i]))) {
      const rows = parts.length * T;
      const concat = parts[0].concat
        ? await upload(
            new HostTensor(
              'float32',
              [rows, ...parts[0].concat.shape.slice(1)],
              concatData(parts.map((half) => repeatRows(half.concat, T))), // [1, c, h, w] -> [T, c, h, w] per half
            ),
          )
        : undefined;
      const context = await upload(
        new HostTensor(
          'float32',
          [rows, 1, unet.contextDim],
          concatData(parts.map((half) => repeatRows(half.crossattn, T))), // [1, 1, D] -> [T, 1, D] per half
        ),
      );
      const y =
        unet.numClasses === 'sequential'
          ? await upload(
              new HostTensor(
                'float32',
                [rows, unet.admInChannels!],
                concatData(parts.map((half) => half.vector.data as Float32Array)),
              ),
            )
          : undefined;
      calls.push({ concat, context, y, indicator: HostTensor.zeros('float32', [parts.length, T]) });
    }

    let stepIndex = 0;
    const network = async (xScaled: Float32Array, cNoise: Float32Array, firstRow: number): Promise<Float32Array> => {
      const rows = cNoise.length;
      const call = calls[calls.length === 2 ? firstRow / T : 0];
      const out = await runner.run(graph, {
        x: new HostTensor('float32', [rows, C, h, w], xScaled),
        timesteps: new HostTensor('float32', [rows], cNoise),
        context: call.context,
        ...(call.concat ? { concat: call.concat } : {}),
        ...(call.y ? { y: call.y } : {}),
        image_only_indicator: call.indicator,
      });
      return out.out.data as Float32Array;
    };
    const vDenoiser = makeVDenoiser<[number]>(network);
    const batchDenoiser = async (x: Float32Array, sigma: Float32Array, firstRow: number) => {
      const d = await vDenoiser(x, sigma, firstRow);
      if (inter) {
        const key = `step.${stepIndex}.denoised_raw`;
        const prev = inter.get(key);
        const all = (prev?.data as Float32Array | undefined) ?? new Float32Array(2 * T * row);
        all.set(d, firstRow * row);
        if (!prev) inter.set(key, new HostTensor('float32', [2 * T, C, h, w], all));
      }
      return d;
    };

    const config = samplerConfigOf(p);
    const sigmas = samplerSigmas(config);
    const x0 = scaleInitialNoise(v.latentNoise.data as Float32Array, sigmas[0]);
    inter?.set('sigmas', new HostTensor('float32', [sigmas.length], sigmas));
    inter?.set('x_init', new HostTensor('float32', [T, C, h, w], x0));
    const latent = await runSampler(config, batchDenoiser, x0, {
      rows: T,
      splitCfg: p.splitCfg,
      signal: hooks.signal,
      noise: v.churnNoise,
      onStep: (info: StepInfo) => {
        if (inter) {
          inter.set(`step.${info.i}.denoised`, new HostTensor('float32', [T, C, h, w], info.denoised));
          inter.set(`step.${info.i}.x`, new HostTensor('float32', [T, C, h, w], info.x));
        }
        stepIndex = info.i + 1;
        hooks.onStep?.(index, info);
      },
    });
    return new HostTensor('float32', [T, C, h, w], latent);
  } finally {
    await engine.free(resident);
  }
}
