/**
 * `svd generate`: image → video with a released or compatible checkpoint (the reference script's chain, see
 * src/pipeline/image-to-video.ts). Bad input is a one-line error with a non-zero exit code and no output file; Ctrl-C
 * stops between engine calls, removes the temporary output and exits 130; the video is written under a temporary
 * name and renamed at the end, with a sidecar JSON of every parameter, the seed, the checkpoint hash and timings.
 */

import { openModelWeights } from '../models/load-weights.ts';
import { getPreset } from '../models/presets.ts';
import { loadModelSpec, type SvdModel, svdModelFromSpec } from '../models/svd-model.ts';
import { imageToVideo } from '../pipeline/image-to-video.ts';
import { defaultParams, type GenerateParams } from '../pipeline/params.ts';
import { Engine } from '../runtime/engine.ts';
import { memoryFigures } from '../runtime/process-memory.ts';
import type { HostTensor } from '../tensor/host-tensor.ts';
import { unitFramesToVideo } from '../video/frames.ts';
import { rgbToTensor } from '../video/image-io.ts';
import { preprocessImage, requiredSizeMultiple } from '../video/preprocess.ts';
import { writeSidecar } from '../video/sidecar.ts';
import { checkVideoOutput, writeVideo } from '../video/writers.ts';
import { SafetensorsFile, writeSafetensors } from '../weights/index.ts';
import { checkpointHash } from './checkpoint-hash.ts';
import { CliError, usageError } from './errors.ts';
import { GENERATE_USAGE, type GenerateArgs, parseGenerateArgs } from './generate-args.ts';
import { createProgress } from './progress.ts';

const NO_MODEL = `svd generate: no model ships with svd-ts yet, so --checkpoint is required: pass the released SVD-XT
weights (svd_xt.safetensors from Stability AI's stable-video-diffusion-img2vid-xt release, or its diffusers folder),
e.g. svd generate --image in.png --checkpoint svd_xt.safetensors`.replace(/\n/g, ' ');

function resolveModel(args: GenerateArgs): SvdModel {
  try {
    return svdModelFromSpec(args.config ? loadModelSpec(args.config) : getPreset(args.preset));
  } catch (e) {
    throw usageError(`svd generate: ${(e as Error).message}`);
  }
}

async function readNoise(
  path: string,
  image: HostTensor,
  frames: number,
): Promise<{ cond: HostTensor; latent: HostTensor }> {
  const file = await SafetensorsFile.open(path);
  try {
    for (const k of ['cond_noise', 'latent_noise'])
      if (!file.has(k)) throw usageError(`--noise ${path}: no tensor "${k}"`);
    const cond = await file.read('cond_noise');
    const latent = await file.read('latent_noise');
    const [, , H, W] = image.shape;
    const want = { cond_noise: [1, 3, H, W], latent_noise: [frames, 4, H / 8, W / 8] };
    for (const [k, t] of [
      ['cond_noise', cond],
      ['latent_noise', latent],
    ] as const) {
      const s = want[k];
      if (t.dtype !== 'float32' || t.shape.join(',') !== s.join(',')) {
        throw usageError(
          `--noise ${path}: "${k}" is ${t.dtype} [${t.shape.join(', ')}], expected float32 [${s.join(', ')}]`,
        );
      }
    }
    return { cond, latent };
  } finally {
    await file.close();
  }
}

export async function generateCommand(argv: readonly string[]): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => controller.abort(new CliError('svd generate: interrupted; no output was written', 130));
  process.once('SIGINT', onSigint);
  let engine: Engine | undefined;
  try {
    const args = parseGenerateArgs(argv);
    if (!args) {
      console.log(GENERATE_USAGE);
      return 0;
    }
    const progress = createProgress({ quiet: args.quiet });
    // Warnings go to stderr even with --quiet: they describe the result, not its progress.
    const warn = (w: string) => console.error(`warning: ${w}`);
    for (const w of args.warnings) warn(w);
    if (!args.checkpoint) throw new CliError(NO_MODEL, 2);
    const model = resolveModel(args);
    const params: GenerateParams = { ...defaultParams(model.sampling), ...args.overrides };
    const t0 = performance.now();

    await checkVideoOutput(args.out); // unwritable output or missing ffmpeg: fail before any work
    const [tw, th] = model.sampling.size;
    const pre = await preprocessImage(args.image, {
      mode: args.size === 'native' ? 'native' : 'cover',
      target: args.size && args.size !== 'native' ? args.size : { width: tw, height: th },
      multiple: requiredSizeMultiple(model.unet.channelMult.length),
      trainedSize: { width: tw, height: th },
    });
    for (const w of pre.warnings) warn(w);
    const image = rgbToTensor(pre.image);
    const noise = args.noise ? await readNoise(args.noise, image, params.frames) : undefined;

    progress.stage('loading checkpoint');
    const weights = await openModelWeights(args.checkpoint, model, { onNotice: (l) => progress.log(l) });
    const hash = await checkpointHash(args.checkpoint);
    engine = await Engine.create({ provider: args.provider, threads: args.threads });
    const intermediates = args.saveIntermediates ? new Map<string, HostTensor>() : undefined;
    let result: Awaited<ReturnType<typeof imageToVideo>>;
    try {
      result = await imageToVideo(
        engine,
        model,
        weights.source,
        { image, condNoise: noise?.cond, latentNoise: noise?.latent },
        params,
        {
          onStage: (s) => progress.stage(s),
          onStep: (i, n) => progress.step(i, n),
          onNotice: (line) => warn(line),
          signal: controller.signal,
          intermediates,
        },
      );
    } finally {
      await weights.source.close();
    }
    controller.signal.throwIfAborted();
    if (args.saveLatents) {
      await writeSafetensors(args.saveLatents, { latents: result.latents, frames: result.frames });
    }
    if (intermediates) await writeSafetensors(args.saveIntermediates!, intermediates);

    progress.stage('writing video');
    const fps = args.fps ?? params.fpsId + 1;
    const written = await writeVideo(unitFramesToVideo(result.frames), args.out, { fps, signal: controller.signal });
    const mem = memoryFigures();
    const record = {
      tool: 'svd-ts',
      output: written.path,
      format: written.format,
      width: written.width,
      height: written.height,
      frames: written.frameCount,
      fps,
      image: args.image,
      preprocessing: {
        mode: args.size === 'native' ? 'native' : 'cover',
        original: pre.original,
        resized: pre.resized,
        crop: pre.crop,
      },
      model: {
        preset: args.config ? undefined : args.preset,
        config: args.config,
        checkpoint: args.checkpoint,
        checkpointHash: hash,
      },
      params,
      noise: args.noise ?? `seeded RNG (Philox4x32-10, seed ${params.seed}, streams cond_noise and latent_noise)`,
      provider: args.provider,
      threads: engine.threads,
      timingsMs: { ...result.timings, total: performance.now() - t0 },
      memory: { vmHWM: mem.vmHWM, pss: mem.pss },
    };
    const sidecar = await writeSidecar(args.out, record, written.format);
    progress.done(
      `wrote ${written.path} (${written.frameCount} frames, ${written.width}×${written.height}, ${fps} fps)`,
    );
    if (args.json) console.log(JSON.stringify({ ...record, sidecar }, null, 2));
    return 0;
  } catch (e) {
    const err = controller.signal.aborted ? controller.signal.reason : e;
    const code = err instanceof CliError ? err.exitCode : 1;
    const message = (err as Error)?.message ?? String(err);
    console.error(message.startsWith('svd ') ? message : `svd generate: ${message}`);
    return code;
  } finally {
    process.removeListener('SIGINT', onSigint);
    await engine?.dispose();
  }
}
