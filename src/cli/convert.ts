/**
 * `svd convert IN OUT [--to diffusers|sgm] [--dtype float32|float16|bfloat16] [--config JSON]`: converts an SVD
 * checkpoint between the sgm single file and a diffusers folder (see `src/models/checkpoint-convert.ts`). The model is
 * `--config` (read by the same adapter as `svd generate --config`), else the svd preset for an sgm input and the
 * folder's own configs for a diffusers input.
 * OUT must be what `--to` writes: a `.safetensors` name is never made a diffusers folder, nor a name ending in `/` an
 * sgm file. Ctrl-C stops after the tensor being written and removes the partial output (repeated SIGINTs, as a
 * terminal and `npx` both deliver, do not cut that short; ./interrupt.ts).
 * Exit codes: 0 done, 1 failure (unreadable input, bad config, key mismatch, output exists, …), 2 bad usage,
 * 130 interrupted.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  assertOutputFree,
  type ConvertDtype,
  type ConvertProgress,
  type ConvertTarget,
  convertCheckpoint,
  convertTemporaryPath,
} from '../models/checkpoint-convert.ts';
import { getPreset, PRESET_NAMES } from '../models/presets.ts';
import { ModelConfigError } from '../models/reference/errors.ts';
import { loadModelConfig } from '../models/reference/model-config.ts';
import { type CheckpointSource, openCheckpoint } from '../weights/checkpoint.ts';
import { CheckpointError } from '../weights/checkpoint-check.ts';
import { CheckpointFormatError } from '../weights/checkpoint-errors.ts';
import { SafetensorsError } from '../weights/safetensors-errors.ts';
import { listenForInterrupt } from './interrupt.ts';

export const CONVERT_USAGE = `usage: svd convert IN OUT [--to diffusers|sgm] [--dtype float32|float16|bfloat16] [--preset NAME | --config JSON]

  IN              an sgm single-file checkpoint (.safetensors) or a diffusers folder (unet/, vae/, image_encoder/)
  OUT             the folder (--to diffusers; not a .safetensors name) or .safetensors file (--to sgm) to create;
                  must not exist
  --to            output layout (default: the other one)
  --dtype         cast floating-point tensors (default: keep the stored dtypes)
  --preset NAME   ${PRESET_NAMES.join(' | ')}: the model the checkpoint is (default: svd for an sgm
                  input, the folder's configs for a diffusers input)
  --config JSON   model config file: { "engine_config": <sgm YAML model: section>, "clip_arch": <ViT dims> }
                  (as svd generate --config) for other sizes`;

const TARGETS: readonly ConvertTarget[] = ['diffusers', 'sgm'];
const DTYPES: readonly ConvertDtype[] = ['float32', 'float16', 'bfloat16'];
/** Minimum time between two progress lines. */
const PROGRESS_INTERVAL_MS = 2000;

export async function convertCommand(argv: readonly string[]): Promise<number> {
  const usage = (problem: string): number => {
    console.error(`svd convert: ${problem}\n\n${CONVERT_USAGE}`);
    return 2;
  };
  let values: { to?: string; dtype?: string; config?: string; preset?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: {
        to: { type: 'string' },
        dtype: { type: 'string' },
        config: { type: 'string' },
        preset: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) {
    console.log(CONVERT_USAGE);
    return 0;
  }
  if (positionals.length !== 2) return usage(`expected IN and OUT, got ${positionals.length} path(s)`);
  const [input, output] = positionals;
  if (values.to !== undefined && !TARGETS.includes(values.to as ConvertTarget)) {
    return usage(`--to must be diffusers or sgm, got "${values.to}"`);
  }
  if (values.dtype !== undefined && !DTYPES.includes(values.dtype as ConvertDtype)) {
    return usage(`--dtype must be float32, float16 or bfloat16, got "${values.dtype}"`);
  }
  if (values.preset !== undefined && values.config !== undefined) return usage('either --preset or --config, not both');
  if (values.preset !== undefined && !PRESET_NAMES.includes(values.preset)) {
    return usage(`--preset must be one of ${PRESET_NAMES.join(', ')}, got "${values.preset}"`);
  }
  const given = values.to as ConvertTarget | undefined;
  const mismatch = given && outputMismatch(output, given, true);
  if (mismatch) return usage(mismatch);

  const interrupt = listenForInterrupt({
    reason: () => new Error('interrupted'),
    cleanupSync: () => rmSync(convertTemporaryPath(output), { recursive: true, force: true }),
    // Unwinding is a tensor's write and a removal; a loaded machine (CI) can still take seconds over it, and a forced
    // end reports a signal instead of 130.
    graceMs: 10_000,
    forcedMessage: 'svd convert: interrupted; nothing was written',
  });
  const { signal } = interrupt;
  let source: CheckpointSource | undefined;
  try {
    const model =
      values.config !== undefined
        ? loadModelConfig(values.config)
        : values.preset !== undefined
          ? getPreset(values.preset)
          : undefined;
    await assertOutputFree(output);
    source = await openCheckpoint(input);
    const opened = source;
    const to = given ?? (source.layout === 'sgm' ? 'diffusers' : 'sgm');
    const implied = outputMismatch(output, to, false);
    if (implied) return usage(implied);
    const dtype = values.dtype as ConvertDtype | undefined;
    // Said once the checks have passed and writing starts, so that a refusal is the only line printed.
    let announced = false;
    const announce = () => {
      if (announced) return;
      announced = true;
      const what = `${opened.layout}, ${opened.entries().size} tensors`;
      console.error(`svd convert: ${input} (${what}) → ${output} (${to}${dtype ? `, ${dtype}` : ''})`);
    };
    const printProgress = progressPrinter();
    const result = await convertCheckpoint(source, output, {
      to,
      dtype,
      model,
      configLabel: values.config ?? (values.preset !== undefined ? `preset ${values.preset}` : undefined),
      onNotice: (line) => {
        announce();
        console.error(`svd convert: ${line}`);
      },
      onProgress: (p) => {
        announce();
        printProgress(p);
      },
      signal,
    });
    const summary = result.files
      .map((f) => `${f.file || output} (${f.tensors} tensors, ${formatBytes(f.bytes)})`)
      .join(', ');
    console.log(`svd convert: wrote ${output}: ${summary}`);
    return 0;
  } catch (err) {
    if (signal.aborted) {
      console.error('svd convert: interrupted; nothing was written');
      return 130;
    }
    if (
      err instanceof CheckpointFormatError ||
      err instanceof CheckpointError ||
      err instanceof ModelConfigError ||
      err instanceof SafetensorsError ||
      err instanceof RangeError
    ) {
      console.error(`svd convert: ${err.message}`);
      return 1;
    }
    console.error(`svd convert: unexpected failure: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await source?.close().catch(() => {});
    interrupt.dispose();
  }
}

/**
 * Why OUT cannot be what `to` writes, if it cannot: a `.safetensors` name for a diffusers folder, a name ending in
 * `/` for an sgm file. `given`: whether `--to` was given (else it follows from IN's layout).
 */
function outputMismatch(output: string, to: ConvertTarget, given: boolean): string | undefined {
  const why = given ? `--to ${to}` : `--to ${to} (the default for this input)`;
  if (to === 'diffusers' && /\.safetensors$/i.test(output)) {
    return `OUT ${output} names a .safetensors file, but ${why} writes a folder: give a folder name, or --to sgm`;
  }
  if (to === 'sgm' && /[/\\]$/.test(output)) {
    return `OUT ${output} names a folder, but ${why} writes one .safetensors file`;
  }
  return undefined;
}

/** Prints a progress line when a new file starts, then at most every 2 s, and when everything is written. */
function progressPrinter(): (p: ConvertProgress) => void {
  let lastFile: string | undefined;
  let lastTime = 0;
  return (p) => {
    const now = Date.now();
    const finished = p.tensorsDone === p.tensorsTotal;
    if (p.file === lastFile && now - lastTime < PROGRESS_INTERVAL_MS && !finished) return;
    lastFile = p.file;
    lastTime = now;
    const pct = p.bytesTotal > 0 ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100;
    console.error(
      `svd convert: ${p.file || 'sgm file'}: ${p.tensorsDone}/${p.tensorsTotal} tensors, ` +
        `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)} (${pct}%)`,
    );
  };
}

function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}
