/**
 * `svd generate` options → a `GenerateRequestInput` (src/pipeline/request.ts validates it, for the CLI and the HTTP
 * server alike). This file only knows flag names: which exist, which take values, and how a request issue's field
 * is spelled as a flag in messages.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { GenerateRequestInput, RequestField, RequestIssue } from '../pipeline/request.ts';
import { usageError } from './errors.ts';

export const GENERATE_USAGE = `usage: svd generate --image PATH [--image PATH …] [options]

model:
  --checkpoint PATH       sgm .safetensors file or diffusers folder (default: svd-mini, the model in models/svd-mini/)
  --preset NAME           svd | svd-xt | svd-xt-1.1 | animatelcm-svd-xt | svd-image-decoder | svd-xt-image-decoder | svd-mini (default with
                          --checkpoint: a diffusers folder's own config.json files, else svd-xt)
  --config JSON           model config in the reference structure ({ engine_config, clip_arch }) for other sizes
  --lora FILE[:SCALE]     a LoRA (kohya-named .safetensors, e.g. from svd lora / a LoRA training run) merged into the
                          UNet's weights at SCALE (default 1); repeatable: the LoRAs' updates add. With the default
                          model, a camera motion by name: pan-left | pan-right | pan-up | pan-down | zoom-in |
                          zoom-out | static (e.g. --lora zoom-in:0.8)
videos:
  --seed N|N,N,…|random   one video per seed (default 23); random draws one and records it in the sidecar
  --num-videos N          N videos per image, seeds s, s+1, … from the (first) seed
sampling:
  --frames N  --steps N  --sampler euler|heun|dpmpp-2m|lcm  --guider linear|triangle|vanilla|identity
  --min-cfg X  --max-cfg X  --fps N (video fps; the model gets fps_id = N − 1) | --fps-id N
  --motion-bucket N (0–255)  --cond-aug X  --size WxH|native  --decode-chunk N  --split-cfg
  --s-churn X  --s-tmin X  --s-tmax X  --s-noise X   EDM churn for euler/heun (default off)
  --noise FILE            safetensors with cond_noise [1,3,H,W] and latent_noise [T,4,H/8,W/8] (and churn_noise.<i>)
output (each path is checked before any work; an existing output is refused unless --overwrite):
  --out PATH              .mp4 | .webm | .gif | .webp, or a folder for PNG frames ending in / (frame_0000.png …,
                          video.json); default: numbered in outputs/ (000000.mp4, 000001.mp4, …, never replacing one);
                          several videos: PATH_00.mp4, PATH_01.mp4, … (a folder: PATH/00/, PATH/01/, …)
  --overwrite             replace existing outputs (a frames folder's earlier frame_*.png files are all replaced)
  --save-latents FILE     safetensors: latents [T,4,h,w] and frames [T,3,H,W] in [0,1]
  --save-intermediates FILE  sigmas, x_init, step.<i>.{denoised_raw,denoised,x}, cond.*, uncond.*
engine:
  --provider cpu|webgpu|cuda  --threads N
  --json  --quiet  --verbose (a checkpoint that does not fit the model: every disagreeing key)
aliases (the reference script's and diffusers' names): --num-frames = --frames; --num-steps, --num-inference-steps =
  --steps; --version = --preset; --motion-bucket-id = --motion-bucket; --noise-aug-strength = --cond-aug;
  --decoding-t, --decode-chunk-size = --decode-chunk; --width W --height H = --size WxH`;

type ParseArgsOptions = NonNullable<ParseArgsConfig['options']>;

export interface GenerateCliArgs {
  input: GenerateRequestInput;
  json: boolean;
  quiet: boolean;
  /** Say more about a failure (a checkpoint's disagreeing keys). */
  verbose: boolean;
}

/** Flag → request field (string-valued flags). */
const VALUE_FLAGS: Readonly<Record<string, RequestField>> = {
  image: 'image',
  checkpoint: 'checkpoint',
  preset: 'preset',
  config: 'config',
  lora: 'lora',
  frames: 'frames',
  steps: 'steps',
  seed: 'seed',
  'num-videos': 'numVideos',
  fps: 'fps',
  'fps-id': 'fpsId',
  'motion-bucket': 'motionBucket',
  'cond-aug': 'condAug',
  'min-cfg': 'minCfg',
  'max-cfg': 'maxCfg',
  guider: 'guider',
  sampler: 'sampler',
  's-churn': 'sChurn',
  's-tmin': 'sTmin',
  's-tmax': 'sTmax',
  's-noise': 'sNoise',
  size: 'size',
  'decode-chunk': 'decodeChunk',
  noise: 'noise',
  out: 'out',
  'save-latents': 'saveLatents',
  'save-intermediates': 'saveIntermediates',
  provider: 'provider',
  threads: 'threads',
  // svd orbit only (the request refuses them for svd generate)
  elevation: 'elevation',
  azimuths: 'azimuths',
  'out-frames': 'outFrames',
};

/**
 * Names users know from the reference script (`scripts/sampling/simple_video_sample.py`: `num_frames`, `num_steps`,
 * `version`, `motion_bucket_id`, `cond_aug`, `decoding_t`) and from diffusers' `StableVideoDiffusionPipeline`
 * (`num_inference_steps`, `noise_aug_strength`, `decode_chunk_size`, `width`, `height`) → ours. Each means exactly
 * what our flag means; giving both spellings of one option is an error.
 */
export const FLAG_ALIASES: Readonly<Record<string, string>> = {
  'num-frames': 'frames',
  'num-steps': 'steps',
  'num-inference-steps': 'steps',
  version: 'preset',
  'motion-bucket-id': 'motion-bucket',
  'noise-aug-strength': 'cond-aug',
  'decoding-t': 'decode-chunk',
  'decode-chunk-size': 'decode-chunk',
};

/** simple_video_sample.py's SV3D names (`elevations_deg`, `azimuths_deg`) → the camera flags of `svd orbit`. */
export const ORBIT_FLAG_ALIASES: Readonly<Record<string, string>> = {
  'elevations-deg': 'elevation',
  'azimuths-deg': 'azimuths',
};

const ALL_ALIASES: Readonly<Record<string, string>> = { ...FLAG_ALIASES, ...ORBIT_FLAG_ALIASES };

/** The flag that sets a request field, for messages. */
export function flagOf(field: RequestField): string {
  if (field === 'splitCfg') return '--split-cfg';
  if (field === 'overwrite') return '--overwrite';
  const flag = Object.keys(VALUE_FLAGS).find((f) => VALUE_FLAGS[f] === field);
  return `--${flag ?? field}`;
}

/** One line for a request issue, in the CLI's terms: `--frames "0": expected an integer from 1 to 1000`. */
export function describeIssueForCli(issue: RequestIssue): string {
  if (issue.value === undefined) return `${flagOf(issue.field)}: ${issue.expected}`;
  const shown = typeof issue.value === 'string' ? issue.value : JSON.stringify(issue.value);
  return `${flagOf(issue.field)} ${JSON.stringify(shown)}: expected ${issue.expected}`;
}

/** Flags that may be given several times (a list in the request). */
const REPEATABLE = new Set(['image', 'lora']);

const OPTIONS = {
  ...Object.fromEntries(
    Object.keys(VALUE_FLAGS).map((f) => [
      f,
      REPEATABLE.has(f) ? { type: 'string', multiple: true } : { type: 'string' },
    ]),
  ),
  ...Object.fromEntries(Object.keys(ALL_ALIASES).map((f) => [f, { type: 'string' }])),
  width: { type: 'string' },
  height: { type: 'string' },
  'split-cfg': { type: 'boolean' },
  overwrite: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `--frames -5` → `--frames=-5`, so that a negative number is a value (and gets the range message), not a flag. */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    const takesValue =
      name !== undefined && (name in VALUE_FLAGS || name in ALL_ALIASES || name === 'width' || name === 'height');
    if (takesValue && /^-\d|^-\.\d/.test(argv[i + 1] ?? '')) {
      out.push(`${a}=${argv[i + 1]}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/**
 * Parses argv (after `generate`, or after `orbit`: the same options plus the camera); throws a CliError (exit 2) on
 * bad usage. Returns undefined for --help.
 */
export function parseGenerateArgs(argv: readonly string[], command = 'generate'): GenerateCliArgs | undefined {
  if (argv.some((a) => a === '--dtype' || a.startsWith('--dtype='))) {
    throw usageError(
      `svd ${command}: --dtype is not offered: every provider computes in float32 in this version (fp16/bf16 checkpoints are upcast when loaded)`,
    );
  }
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: joinNegativeValues(argv),
      options: OPTIONS as ParseArgsOptions,
      strict: true,
      allowPositionals: false,
    }) as { values: Record<string, string | string[] | boolean | undefined> });
  } catch (e) {
    throw usageError(`svd ${command}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (values.help) return undefined;
  for (const [alias, flag] of Object.entries(ALL_ALIASES)) {
    if (values[alias] === undefined) continue;
    if (values[flag] !== undefined)
      throw usageError(`svd ${command}: --${alias} and --${flag} are the same option; give one`);
    values[flag] = values[alias];
  }
  if (values.width !== undefined || values.height !== undefined) {
    if (values.size !== undefined)
      throw usageError(`svd ${command}: --width/--height and --size are the same option; give one`);
    if (values.width === undefined || values.height === undefined)
      throw usageError(`svd ${command}: --width and --height go together (or --size WxH)`);
    values.size = `${values.width}x${values.height}`;
  }
  const input: GenerateRequestInput = {};
  for (const [flag, field] of Object.entries(VALUE_FLAGS)) {
    const v = values[flag];
    if (v !== undefined) (input as Record<string, unknown>)[field] = v;
  }
  if (values['split-cfg']) input.splitCfg = true;
  if (values.overwrite) input.overwrite = true;
  return { input, json: values.json === true, quiet: values.quiet === true, verbose: values.verbose === true };
}
