/**
 * `svd generate` options: parsing and validation. Every bad value is a one-line CliError naming the value and what was
 * expected (exit 2); valid but unusual values (motion bucket outside 0–255, size ≠ the model's) are warnings.
 */
import { parseArgs } from 'node:util';
import type { GenerateParams, GuiderKind, SamplerKind } from '../pipeline/params.ts';
import type { Provider } from '../runtime/protocol.ts';
import { usageError } from './errors.ts';

export const GENERATE_USAGE = `usage: svd generate --image PATH [options]

model:
  --checkpoint PATH       sgm .safetensors file or diffusers folder (required until a default model ships)
  --preset NAME           svd | svd-xt | svd-xt-1.1 | svd-image-decoder | svd-xt-image-decoder (default svd-xt)
  --config JSON           model config in the reference structure ({ engine_config, clip_arch }) for other sizes
sampling:
  --frames N  --steps N  --seed N  --sampler euler|heun|dpmpp-2m  --guider linear|triangle|vanilla
  --min-cfg X  --max-cfg X  --fps N (video fps; the model gets fps_id = N − 1) | --fps-id N
  --motion-bucket N (0–255)  --cond-aug X  --size WxH|native  --decode-chunk N  --split-cfg
  --noise FILE            safetensors with cond_noise [1,3,H,W] and latent_noise [T,4,H/8,W/8] (instead of the RNG)
output:
  --out PATH              .mp4 | .webm | .gif | .webp | a directory (frame_0000.png …); default out.mp4
  --save-latents FILE     safetensors: latents [T,4,h,w] and frames [T,3,H,W] in [0,1]
  --save-intermediates FILE  sigmas, x_init, step.<i>.{denoised_raw,denoised,x}, cond.*, uncond.*
engine:
  --provider cpu|webgpu|cuda  --dtype float32|float16  --threads N
  --json  --quiet`;

export interface GenerateArgs {
  image: string;
  checkpoint?: string;
  preset: string;
  config?: string;
  out: string;
  size: { width: number; height: number } | 'native' | undefined;
  noise?: string;
  saveLatents?: string;
  saveIntermediates?: string;
  provider: Provider;
  dtype: 'float32' | 'float16';
  threads?: number;
  json: boolean;
  quiet: boolean;
  /** Only the values given on the command line; the rest come from the preset. */
  overrides: Partial<GenerateParams>;
  /** fps of the written video (default fps_id + 1). */
  fps?: number;
  warnings: string[];
}

const OPTIONS = {
  image: { type: 'string' },
  checkpoint: { type: 'string' },
  preset: { type: 'string' },
  config: { type: 'string' },
  frames: { type: 'string' },
  steps: { type: 'string' },
  fps: { type: 'string' },
  'fps-id': { type: 'string' },
  'motion-bucket': { type: 'string' },
  'cond-aug': { type: 'string' },
  'min-cfg': { type: 'string' },
  'max-cfg': { type: 'string' },
  guider: { type: 'string' },
  sampler: { type: 'string' },
  seed: { type: 'string' },
  size: { type: 'string' },
  'decode-chunk': { type: 'string' },
  'split-cfg': { type: 'boolean' },
  noise: { type: 'string' },
  'save-latents': { type: 'string' },
  'save-intermediates': { type: 'string' },
  out: { type: 'string' },
  provider: { type: 'string' },
  dtype: { type: 'string' },
  threads: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function int(name: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
    throw usageError(`--${name} ${JSON.stringify(v)}: expected ${range}`);
  }
  return n;
}

function num(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min)
    throw usageError(`--${name} ${JSON.stringify(v)}: expected a number ≥ ${min}`);
  return n;
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    throw usageError(`--${name} ${JSON.stringify(v)}: expected one of ${allowed.join(', ')}`);
  }
  return v as T;
}

/** Parses argv (after `generate`); throws CliError on bad usage. Returns undefined for --help. */
export function parseGenerateArgs(argv: readonly string[]): GenerateArgs | undefined {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (e) {
    throw usageError(`svd generate: ${(e as Error).message.split('\n')[0]}`);
  }
  if (values.help) return undefined;
  const s = (k: string) => values[k] as string | undefined;
  if (!s('image')) throw usageError('svd generate: --image PATH is required (a PNG, JPEG or WebP file)');
  const warnings: string[] = [];
  const overrides: Partial<GenerateParams> = {};
  const set = <K extends keyof GenerateParams>(k: K, v: GenerateParams[K] | undefined) => {
    if (v !== undefined) overrides[k] = v;
  };
  set('frames', int('frames', s('frames'), 1, 1000));
  set('steps', int('steps', s('steps'), 1, 10000));
  set('seed', int('seed', s('seed'), 0));
  const fps = int('fps', s('fps'), 1, 1000);
  const fpsId = int('fps-id', s('fps-id'), 0, 1000);
  if (fps !== undefined && fpsId !== undefined) throw usageError('give --fps or --fps-id, not both');
  set('fpsId', fpsId ?? (fps !== undefined ? fps - 1 : undefined));
  const motion = int('motion-bucket', s('motion-bucket'), 0, 100000);
  if (motion !== undefined && motion > 255) warnings.push(`motion bucket ${motion} is outside the trained range 0–255`);
  set('motionBucketId', motion);
  set('condAug', num('cond-aug', s('cond-aug'), 0));
  set('minCfg', num('min-cfg', s('min-cfg'), 0));
  set('maxCfg', num('max-cfg', s('max-cfg'), 0));
  set('guider', oneOf<GuiderKind>('guider', s('guider'), ['linear', 'triangle', 'vanilla']));
  set('sampler', oneOf<SamplerKind>('sampler', s('sampler'), ['euler', 'heun', 'dpmpp-2m']));
  set('decodeChunk', int('decode-chunk', s('decode-chunk'), 1));
  if (values['split-cfg']) overrides.splitCfg = true;
  let size: GenerateArgs['size'];
  const sz = s('size');
  if (sz !== undefined) {
    if (sz === 'native') size = 'native';
    else {
      const m = /^(\d+)x(\d+)$/.exec(sz);
      if (!m || Number(m[1]) < 1 || Number(m[2]) < 1)
        throw usageError(`--size ${JSON.stringify(sz)}: expected WxH (e.g. 1024x576) or native`);
      size = { width: Number(m[1]), height: Number(m[2]) };
    }
  }
  const provider = oneOf<Provider>('provider', s('provider'), ['cpu', 'webgpu', 'cuda']) ?? 'cpu';
  const dtype = oneOf<'float32' | 'float16'>('dtype', s('dtype'), ['float32', 'float16']) ?? 'float32';
  if (dtype === 'float16' && provider === 'cpu') {
    throw usageError(
      '--dtype float16 is not available on the cpu provider (ONNX Runtime computes fp16 there in fp32); use --provider webgpu or cuda',
    );
  }
  if (dtype === 'float16') throw usageError('--dtype float16 is not implemented yet; use float32');
  return {
    image: s('image')!,
    checkpoint: s('checkpoint'),
    preset: s('preset') ?? 'svd-xt',
    config: s('config'),
    out: s('out') ?? 'out.mp4',
    size,
    noise: s('noise'),
    saveLatents: s('save-latents'),
    saveIntermediates: s('save-intermediates'),
    provider,
    dtype,
    threads: int('threads', s('threads'), 1, 1024),
    json: values.json === true,
    quiet: values.quiet === true,
    overrides,
    fps,
    warnings,
  };
}
