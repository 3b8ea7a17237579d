/**
 * A submission's fields → a checked `GenerateRequest`: the pipeline's `parseGenerateRequest` (the validation
 * `svd generate` uses) with the server's model and a placeholder output, then the server's limits on the values the
 * job will really run with (the model's defaults filled in). Camera-motion LoRAs are read by name against the model's
 * own (./camera-loras.ts) and stored by name. Every problem is a field-level 422.
 */
import type { SvdModel } from '../models/description.ts';
import { GenerateRequestError, type ModelChoice, parseGenerateRequest, resolveParams } from '../pipeline/request.ts';
import { requiredSizeMultiple } from '../video/preprocess.ts';
import { cameraLoraFiles, cameraLoraText, readCameraLoras } from './camera-loras.ts';
import { type FieldIssue, fieldError } from './errors.ts';
import type { CheckedImage } from './image-check.ts';
import type { ServerLimits } from './limits.ts';

export interface CheckedSubmission {
  /** The fields to store and run with: a drawn seed is replaced by the number drawn. */
  readonly fields: Record<string, unknown>;
  /** The parameters the job runs with, for display. */
  readonly params: Record<string, unknown>;
}

export function checkSubmission(
  fields: Readonly<Record<string, unknown>>,
  image: CheckedImage,
  model: SvdModel,
  choice: ModelChoice,
  limits: ServerLimits,
  loras: ReadonlyMap<string, string> = new Map(),
): CheckedSubmission {
  const camera = readCameraLoras(fields.lora, loras);
  let request: ReturnType<typeof parseGenerateRequest>;
  try {
    request = parseGenerateRequest(
      {
        ...fields,
        lora: cameraLoraFiles(camera.loras, loras),
        image: { name: `upload.${image.type}`, bytes: image.bytes },
        checkpoint: choice.checkpoint,
        preset: choice.preset,
        config: choice.config,
        out: 'out.mp4',
      },
      { shipped: null },
    );
  } catch (e) {
    if (e instanceof GenerateRequestError) throw fieldError([...camera.issues, ...e.issues]);
    throw e;
  }
  const issues: FieldIssue[] = [...camera.issues];
  const first = resolveParams(request, model.sampling, request.seeds[0]);
  if (first.frames > limits.maxFrames) {
    issues.push({
      field: 'frames',
      value: first.frames,
      expected: `at most ${limits.maxFrames} frames (this server's limit)`,
    });
  }
  if (first.steps > limits.maxSteps) {
    issues.push({
      field: 'steps',
      value: first.steps,
      expected: `at most ${limits.maxSteps} steps (this server's limit)`,
    });
  }
  if (request.seeds.length > limits.maxVideos) {
    const field = fields.numVideos !== undefined ? 'numVideos' : 'seed';
    issues.push({ field, value: fields[field], expected: `at most ${limits.maxVideos} videos per job` });
  }
  const multiple = requiredSizeMultiple(model.unet.channelMult.length);
  const [tw, th] = model.sampling.size;
  // native: the image's size rounded down to the multiple, as the job does (src/video/preprocess.ts nativeSize)
  const size =
    request.size === 'native'
      ? { width: image.width - (image.width % multiple), height: image.height - (image.height % multiple) }
      : (request.size ?? { width: tw, height: th });
  const sizeField = request.size === 'native' ? 'image' : 'size';
  if (size.width === 0 || size.height === 0) {
    issues.push({
      field: sizeField,
      value: `${image.width}x${image.height}`,
      expected: `an image at least ${multiple} pixels a side for size native`,
    });
  } else if (size.width * size.height > limits.maxPixels) {
    issues.push({
      field: sizeField,
      value: fields.size,
      expected: `an output of at most ${limits.maxPixels} pixels (${size.width}×${size.height} is more)`,
    });
  } else if (size.width % multiple !== 0 || size.height % multiple !== 0) {
    issues.push({
      field: sizeField,
      value: fields.size,
      expected: `an output size whose sides are multiples of ${multiple} (${size.width}×${size.height} is not)`,
    });
  }
  if (issues.length > 0) throw fieldError(issues);
  const stored: Record<string, unknown> = { ...fields };
  if (request.seedsDrawn || fields.numVideos !== undefined) {
    stored.seed = request.seeds.length === 1 ? request.seeds[0] : [...request.seeds];
    delete stored.numVideos;
  }
  if (fields.lora !== undefined) stored.lora = camera.loras.map(cameraLoraText);
  const params: Record<string, unknown> = {
    frames: first.frames,
    steps: first.steps,
    seeds: [...request.seeds],
    fps: request.fps ?? first.fpsId + 1,
    fpsId: first.fpsId,
    motionBucket: first.motionBucketId,
    condAug: first.condAug,
    minCfg: first.minCfg,
    maxCfg: first.maxCfg,
    guider: first.guider,
    sampler: first.sampler,
    size: `${size.width}x${size.height}`,
    model: model.name,
    ...(camera.loras.length > 0 ? { lora: camera.loras.map(cameraLoraText) } : {}),
  };
  return { fields: stored, params };
}
