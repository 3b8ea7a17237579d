/**
 * Generation as a job, the whole of it top-down: a validated `GenerateRequest` → model → outputs planned and checked
 * (./output-plan.ts) → images preprocessed → checkpoint opened strictly → conditioning → sampling → decoding
 * (./image-to-video.ts) → videos encoded with their sidecars → result. Progress is a stream of `GenerateEvent`s and an
 * AbortSignal stops the job: at once when the job runs its own engine (the engine is disposed, which rejects the
 * call in flight), else between engine calls; the CLI and the HTTP server only translate requests and events. Every
 * output is written under a temporary name and renamed when complete, so a failure or Ctrl-C never leaves a
 * half-written file.
 */
import type { OrbitAngles } from '../conditioning/orbit.ts';
import { isMultiViewModel, type SvdModel } from '../models/description.ts';
import { openModelWeights } from '../models/load-weights.ts';
import { loraRecords, openLoras } from '../models/lora/apply.ts';
import type { FittedLora } from '../models/lora/fit.ts';
import { loraMergedSource } from '../models/lora/merged-source.ts';
import { loraSamplingDefaults } from '../models/lora/sampling-defaults.ts';
import { ModelConfigError } from '../models/reference/errors.ts';
import { Engine } from '../runtime/engine.ts';
import { ProviderUnavailableError } from '../runtime/errors.ts';
import { memoryFigures } from '../runtime/process-memory.ts';
import { probeProvider } from '../runtime/provider-probe.ts';
import type { HostTensor } from '../tensor/host-tensor.ts';
import { unitFramesToVideo } from '../video/frames.ts';
import { rgbToTensor } from '../video/image-io.ts';
import { prepareObjectImage } from '../video/object-image.ts';
import { type PreprocessedImage, preprocessImage, requiredSizeMultiple } from '../video/preprocess.ts';
import { writeSidecar } from '../video/sidecar.ts';
import { writeVideo } from '../video/writers.ts';
import { checkpointHash } from '../weights/checkpoint-hash.ts';
import { SafetensorsFile, writeSafetensors } from '../weights/index.ts';
import { untilAborted } from './abortable.ts';
import type { GeneratedVideo, GenerateEvent, GenerateJobResult } from './events.ts';
import { imageToVideoBatch, type VideoRequest } from './image-to-video.ts';
import type { MemoryPlan } from './memory-estimate.ts';
import { resolveOrbit } from './orbit-request.ts';
import { planOutputs, removeMadeFolders, type VideoOutputs } from './output-plan.ts';
import type { GenerateParams } from './params.ts';
import { type GenerateRequest, GenerateRequestError, type ImageSource, resolveParams } from './request.ts';
import { modelOrigin, resolveModel } from './resolve-model.ts';
import { latentPreview, latentRgbOf } from './stages/preview.ts';

export interface GenerateJobOptions {
  onEvent?: (event: GenerateEvent) => void;
  signal?: AbortSignal;
  /** Attach a small preview of the current denoised frame to each step event. */
  previews?: boolean;
  /** Run on this engine (kept open); default: a new engine for the job, disposed at the end. */
  engine?: Engine;
  /** Bytes of memory the memory plan may assume (default: `os.totalmem()`). */
  availableMemory?: number;
}

export { videoOutputPath } from './output-plan.ts';
export { resolveModel } from './resolve-model.ts';

function imageName(source: ImageSource): string {
  return typeof source === 'string' ? source : source.name;
}

interface PlannedVideo {
  index: number;
  image: number;
  seed: number;
  params: GenerateParams;
  /** Where its outputs go (./output-plan.ts). */
  outputs: VideoOutputs;
  /** A multi-view orbit's camera (request.orbit resolved for the model). */
  orbit?: OrbitAngles;
}

async function readNoise(path: string, image: HostTensor, params: GenerateParams, latentChannels: number) {
  const file = await SafetensorsFile.open(path);
  try {
    const [, , H, W] = image.shape;
    const want: Record<string, number[]> = {
      cond_noise: [1, 3, H, W],
      latent_noise: [params.frames, latentChannels, H / 8, W / 8],
    };
    const read: Record<string, HostTensor> = {};
    for (const [k, shape] of Object.entries(want)) {
      if (!file.has(k)) throw new GenerateRequestError([{ field: 'noise', value: path, expected: `a tensor "${k}"` }]);
      const t = await file.read(k);
      if (t.dtype !== 'float32' || t.shape.join() !== shape.join()) {
        throw new GenerateRequestError([
          {
            field: 'noise',
            value: path,
            expected: `"${k}" float32 [${shape.join(', ')}] (it is ${t.dtype} [${t.shape.join(', ')}])`,
          },
        ]);
      }
      read[k] = t;
    }
    const churn = new Map<number, Float32Array>();
    for (const name of file.names()) {
      const m = /^churn_noise\.(\d+)$/.exec(name);
      if (m) churn.set(Number(m[1]), (await file.read(name)).data as Float32Array);
    }
    const churnNoise =
      churn.size > 0
        ? (step: number) => {
            const eps = churn.get(step);
            if (!eps) throw new Error(`--noise ${path}: no tensor "churn_noise.${step}" for the churn of step ${step}`);
            return eps;
          }
        : undefined;
    return { condNoise: read.cond_noise, latentNoise: read.latent_noise, churnNoise };
  } finally {
    await file.close();
  }
}

/** The sidecar's record of an orbit: the camera of every view (degrees and what the model got, in radians). */
function orbitRecord(model: SvdModel, orbit: OrbitAngles, frames: string | undefined) {
  const camera = model.embedders.some((e) => e.inputKey === 'polars_rad' || e.inputKey === 'azimuths_rad');
  return {
    camera: camera ? 'polars_rad, azimuths_rad (SV3D_p)' : 'none (SV3D_u: the views are evenly spaced as trained)',
    views: orbit.azimuthsDeg.length,
    ...(camera ? { elevationsDeg: orbit.elevationsDeg } : {}),
    azimuthsDeg: orbit.azimuthsDeg,
    ...(camera ? { polarsRad: orbit.polarsRad, azimuthsRad: orbit.azimuthsRad } : {}),
    lastFrame: 'the input image (the input view, azimuth 0)',
    ...(frames ? { frames } : {}),
  };
}

/** The CFG split a video ran with: asked for, or chosen by the memory plan. */
function splitUsed(params: GenerateParams, plan: MemoryPlan): boolean {
  return params.splitCfg || plan.splitCfg;
}

/** The sidecar's record of the memory plan: the split used and why, the arena, the estimated peaks. */
function memoryPlanRecord(params: GenerateParams, plan: MemoryPlan) {
  const split = splitUsed(params, plan);
  return {
    splitCfg: split,
    splitBy: split ? (params.splitCfg ? 'request' : 'memory plan') : null,
    memoryArena: plan.memoryArena,
    estimatedPeakBytes: { unet: plan.unetPeakBytes, decode: plan.decodePeakBytes },
  };
}

/** A `size` the model cannot take (a side off its multiple) is a bad value, refused before any work. */
function checkSizeFits(request: GenerateRequest, model: SvdModel): void {
  if (request.size === undefined || request.size === 'native') return;
  const multiple = requiredSizeMultiple(model.unet.channelMult.length);
  const { width, height } = request.size;
  if (width % multiple === 0 && height % multiple === 0) return;
  const down = (n: number) => Math.max(multiple, n - (n % multiple));
  throw new GenerateRequestError([
    {
      field: 'size',
      value: `${width}x${height}`,
      expected: `sides that are multiples of ${multiple}, as the model needs (e.g. ${down(width)}x${down(height)})`,
    },
  ]);
}

/**
 * The sampling defaults the request's LoRAs carry (a camera LoRA's motion bucket and guidance), each unless the
 * request sets it; a notice says where each value came from.
 */
async function loraParams(
  request: GenerateRequest,
  notice: (message: string) => void,
): Promise<Partial<GenerateParams>> {
  if (request.loras.length === 0) return {};
  const own = request.overrides;
  const { motionBucketId, sources, guidance } = await loraSamplingDefaults(request.loras);
  const out: Partial<GenerateParams> = {};
  if (motionBucketId !== undefined && own.motionBucketId === undefined) {
    notice(
      `motion bucket ${motionBucketId} from the LoRA (${sources.join(', ')}: its training clips' median); --motion-bucket N sets another`,
    );
    out.motionBucketId = motionBucketId;
  }
  if (guidance && own.minCfg === undefined && own.maxCfg === undefined) {
    const round = (x: number) => Math.round(x * 1000) / 1000;
    const [lo, hi] = [round(guidance.minCfg), round(guidance.maxCfg)];
    notice(
      `guidance ${lo} → ${hi} from the LoRA (${guidance.sources.join(', ')}: what it was measured at); --min-cfg / --max-cfg set another`,
    );
    out.minCfg = lo;
    out.maxCfg = hi;
  }
  return out;
}

/** Runs a whole generation request; resolves with what was written. */
export async function runGenerateJob(
  request: GenerateRequest,
  options: GenerateJobOptions = {},
): Promise<GenerateJobResult> {
  const emit = options.onEvent ?? (() => {});
  const notice = (message: string) => emit({ type: 'notice', message });
  const t0 = performance.now();

  // The model and the parameters of every video (images outermost, then seeds).
  let model: SvdModel;
  try {
    model = resolveModel(request);
  } catch (e) {
    // A config that is not valid is a bad option (exit 2); a missing or unreadable file a failure (exit 1).
    if (e instanceof ModelConfigError && e.problem === 'invalid') {
      throw new GenerateRequestError([{ field: 'config', value: request.model.config, expected: e.message }]);
    }
    throw e;
  }
  if (!request.orbit && isMultiViewModel(model)) {
    const value = request.model.config ?? request.model.preset ?? model.name;
    throw new GenerateRequestError([
      {
        field: request.model.config ? 'config' : 'preset',
        value,
        expected: `an image-to-video model: ${model.name} is a multi-view model (SV3D); use svd orbit`,
      },
    ]);
  }
  checkSizeFits(request, model);
  const count = request.images.length * request.seeds.length;
  const loraDefaults = await loraParams(request, notice);
  const pending: Omit<PlannedVideo, 'outputs'>[] = [];
  for (let image = 0; image < request.images.length; image++) {
    for (const seed of request.seeds) {
      const params = resolveParams(request, model.sampling, seed, loraDefaults);
      const orbit = request.orbit ? resolveOrbit(model, request.orbit, params.frames) : undefined;
      pending.push({ index: pending.length, image, seed, params, orbit });
    }
  }
  const motion = pending[0].params.motionBucketId;
  if (motion > 255) notice(`motion bucket ${motion} is outside the trained range 0–255`);

  // Outputs first: a refused or unwritable path or a missing ffmpeg fails before any work. Folders made for the
  // outputs are removed again if the job fails while they are empty (finished videos stay).
  const plan = await planOutputs(request, count);
  const planned = pending.map((v) => ({ ...v, outputs: plan.videos[v.index] }));
  try {
    return await runPlanned(request, model, planned, options, t0);
  } catch (e) {
    await removeMadeFolders(plan);
    throw e;
  }
}

/** The job after its outputs were checked: images, weights, the pipeline, then encoding. */
async function runPlanned(
  request: GenerateRequest,
  model: SvdModel,
  planned: readonly PlannedVideo[],
  options: GenerateJobOptions,
  t0: number,
): Promise<GenerateJobResult> {
  const emit = options.onEvent ?? (() => {});
  const notice = (message: string) => emit({ type: 'notice', message });
  const { signal } = options;
  const count = planned.length;

  // Images, once each.
  const [tw, th] = model.sampling.size;
  const images: (PreprocessedImage & { background?: string })[] = [];
  for (const source of request.images) {
    const input = typeof source === 'string' ? source : source.bytes;
    const target = request.size && request.size !== 'native' ? request.size : { width: tw, height: th };
    const multiple = requiredSizeMultiple(model.unet.channelMult.length);
    const trainedSize = { width: tw, height: th };
    const pre = request.orbit
      ? await prepareObjectImage(input, {
          target: request.size === 'native' ? 'native' : target,
          multiple,
          trainedSize,
        })
      : await preprocessImage(input, {
          mode: request.size === 'native' ? 'native' : 'cover',
          target,
          multiple,
          trainedSize,
        });
    for (const w of pre.warnings) notice(w);
    images.push(pre);
  }
  const tensors = images.map((pre) => rgbToTensor(pre.image));
  const noise = request.noise
    ? await readNoise(request.noise, tensors[0], planned[0].params, model.unet.outChannels)
    : undefined;

  // A provider other than the CPU is first tested in a child process (src/runtime/provider-probe.ts): an unavailable
  // one fails here with one line, before the checkpoint is read, and the native libraries' warnings stay out of the
  // terminal. A caller's engine (the server's) has been tested already.
  if (!options.engine && request.provider !== 'cpu') {
    const status = await untilAborted(probeProvider(request.provider), signal);
    if (!status.available) throw new ProviderUnavailableError(`--provider ${request.provider}: ${status.detail}`);
  }
  signal?.throwIfAborted();
  emit({ type: 'stage', stage: 'loading checkpoint' });
  const origin = modelOrigin(request.model);
  const weights = await openModelWeights(request.model.checkpoint, model, { onNotice: notice, origin });
  // LoRAs are merged on the host as each weight loads (src/models/lora/merged-source.ts): the UNet graph stays the
  // base model's, with no per-step cost. They are fitted to the model here, before any engine work.
  let source = weights.source;
  let loras: FittedLora[] = [];
  let hash: { sha256: string; scope: string };
  try {
    hash = await untilAborted(checkpointHash(request.model.checkpoint), signal);
    if (request.loras.length > 0) {
      loras = await openLoras(request.loras, weights.tree.shapes, { baseHash: hash.sha256, onNotice: notice });
      source = loraMergedSource(weights.source, loras);
    }
  } catch (e) {
    await weights.source.close();
    throw e;
  }
  const engine = options.engine ?? (await Engine.create({ provider: request.provider, threads: request.threads }));
  // An abort disposes the job's own engine at once: the call in flight (a decode can last minutes) rejects now and
  // the job unwinds; the worker ends when ONNX Runtime returns. A caller's engine finishes its call.
  const stopEngine = () => void engine.dispose();
  if (!options.engine) signal?.addEventListener('abort', stopEngine, { once: true });
  try {
    signal?.throwIfAborted();
    const intermediates = planned.map(() => (request.saveIntermediates ? new Map<string, HostTensor>() : undefined));
    const videos: VideoRequest[] = planned.map((v) => ({
      inputs: { image: tensors[v.image], ...(noise ?? {}), ...(v.orbit ? { orbit: v.orbit } : {}) },
      params: v.params,
    }));
    const rgb = latentRgbOf(model);
    const batch = await imageToVideoBatch(engine, model, source, videos, {
      signal,
      intermediates,
      availableMemory: options.availableMemory,
      onNotice: notice,
      onStage: (stage) => emit({ type: 'stage', stage }),
      onStep: (video, info) => {
        const [, , H, W] = tensors[planned[video].image].shape;
        const frame = Math.floor(planned[video].params.frames / 2);
        const preview = options.previews && rgb ? latentPreview(info.denoised, frame, H / 8, W / 8, rgb) : undefined;
        emit({
          type: 'step',
          video,
          videos: planned.length,
          i: info.i + 1,
          n: info.n,
          ...(preview ? { preview } : {}),
        });
      },
    });
    signal?.throwIfAborted();

    // Tensors the user asked for, then the videos.
    for (const v of planned) {
      const result = batch.videos[v.index];
      const { saveLatents, saveIntermediates } = v.outputs;
      if (saveLatents) await writeSafetensors(saveLatents, { latents: result.latents, frames: result.frames });
      const inter = intermediates[v.index];
      if (inter && saveIntermediates) await writeSafetensors(saveIntermediates, inter);
    }
    emit({ type: 'stage', stage: 'encoding' });
    const written: GeneratedVideo[] = [];
    const encodeStart = performance.now();
    for (const v of planned) {
      const result = batch.videos[v.index];
      const fps = request.fps ?? v.params.fpsId + 1;
      const { out, outFrames: framesOut } = v.outputs;
      const overwrite = request.overwrite;
      const video = await writeVideo(unitFramesToVideo(result.frames), out, { fps, signal, overwrite });
      if (framesOut) {
        await writeVideo(unitFramesToVideo(result.frames), framesOut, { fps, signal, format: 'frames', overwrite });
      }
      const pre = images[v.image];
      const mem = memoryFigures();
      const record = {
        tool: 'svd-ts',
        output: video.path,
        format: video.format,
        width: video.width,
        height: video.height,
        frames: video.frameCount,
        fps,
        video: { index: v.index, of: count },
        image: imageName(request.images[v.image]),
        preprocessing: {
          mode: request.size === 'native' ? 'native' : 'cover',
          original: pre.original,
          resized: pre.resized,
          crop: pre.crop,
          ...(pre.background ? { background: pre.background } : {}),
        },
        ...(v.orbit ? { orbit: orbitRecord(model, v.orbit, framesOut) } : {}),
        model: {
          name: model.name,
          preset: origin.kind === 'preset' ? origin.name : undefined,
          config: request.model.config,
          ...(origin.kind === 'diffusers-configs' ? { configs: 'the diffusers folder’s own config.json files' } : {}),
          checkpoint: request.model.checkpoint,
          checkpointHash: hash,
          ...(loras.length > 0 ? { loras: loraRecords(loras) } : {}),
        },
        params: { ...v.params, splitCfg: splitUsed(v.params, batch.plan) },
        seedDrawn: request.seedsDrawn,
        noise:
          request.noise ??
          `seeded RNG (Philox4x32-10, seed ${v.seed}, streams cond_noise, latent_noise, churn_noise.<step>)`,
        provider: request.provider,
        threads: engine.threads,
        memoryPlan: memoryPlanRecord(v.params, batch.plan),
        timingsMs: { ...batch.timings, total: performance.now() - t0 },
        memory: { vmHWM: mem.vmHWM, pss: mem.pss },
      };
      const sidecar = await writeSidecar(out, record, video.format);
      const done: GeneratedVideo = {
        index: v.index,
        image: imageName(request.images[v.image]),
        seed: v.seed,
        output: video.path,
        sidecar,
        format: video.format,
        width: video.width,
        height: video.height,
        frames: video.frameCount,
        fps,
      };
      written.push(done);
      emit({ type: 'video', video: done });
    }
    const mem = memoryFigures();
    const result: GenerateJobResult = {
      videos: written,
      timingsMs: { ...batch.timings, encoding: performance.now() - encodeStart, total: performance.now() - t0 },
      memory: { vmHWM: mem.vmHWM, pss: mem.pss },
    };
    emit({ type: 'done', result });
    return result;
  } finally {
    signal?.removeEventListener('abort', stopEngine);
    await source.close(); // the merged source closes the base and the LoRA files
    if (!options.engine) await engine.dispose();
  }
}
