/**
 * `svd convert IN OUT [--to diffusers|sgm] [--dtype float32|float16|bfloat16] [--config JSON]`: converts an SVD
 * checkpoint between the sgm single file and a diffusers folder (see `src/weights/checkpoint-convert.ts`).
 * Exit codes: 0 done, 1 failure (unreadable input, key mismatch, output exists, …), 2 bad usage, 130 interrupted.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { type CheckpointSource, openCheckpoint } from '../weights/checkpoint.ts';
import { CheckpointError } from '../weights/checkpoint-check.ts';
import {
  assertOutputFree,
  type ConvertDtype,
  type ConvertProgress,
  type ConvertTarget,
  convertCheckpoint,
} from '../weights/checkpoint-convert.ts';
import { CheckpointFormatError } from '../weights/checkpoint-errors.ts';
import type { SvdCheckpointConfig } from '../weights/layouts/model-config.ts';
import { checkpointConfigFromReference } from '../weights/layouts/reference-config.ts';
import { SafetensorsError } from '../weights/safetensors-errors.ts';

export const CONVERT_USAGE = `usage: svd convert IN OUT [--to diffusers|sgm] [--dtype float32|float16|bfloat16] [--config JSON]

  IN              an sgm single-file checkpoint (.safetensors) or a diffusers folder (unet/, vae/, image_encoder/)
  OUT             the folder (--to diffusers) or file (--to sgm) to create; must not exist
  --to            output layout (default: the other one)
  --dtype         cast floating-point tensors (default: keep the stored dtypes)
  --config JSON   model config file: { "engine_config": <sgm YAML model: section>, "clip_arch": <ViT dims> }
                  (default: the released SVD config for an sgm input, the folder's configs for a diffusers input)`;

const TARGETS: readonly ConvertTarget[] = ['diffusers', 'sgm'];
const DTYPES: readonly ConvertDtype[] = ['float32', 'float16', 'bfloat16'];
/** Minimum time between two progress lines. */
const PROGRESS_INTERVAL_MS = 2000;

export async function convertCommand(argv: readonly string[]): Promise<number> {
  const usage = (problem: string): number => {
    console.error(`svd convert: ${problem}\n\n${CONVERT_USAGE}`);
    return 2;
  };
  let values: { to?: string; dtype?: string; config?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: {
        to: { type: 'string' },
        dtype: { type: 'string' },
        config: { type: 'string' },
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

  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  let source: CheckpointSource | undefined;
  try {
    const config = values.config === undefined ? undefined : await loadConfig(values.config);
    await assertOutputFree(output);
    source = await openCheckpoint(input);
    const opened = source;
    const to = (values.to as ConvertTarget | undefined) ?? (source.layout === 'sgm' ? 'diffusers' : 'sgm');
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
      config,
      configLabel: values.config,
      onNotice: (line) => {
        announce();
        console.error(`svd convert: ${line}`);
      },
      onProgress: (p) => {
        announce();
        printProgress(p);
      },
      signal: controller.signal,
    });
    const summary = result.files
      .map((f) => `${f.file || output} (${f.tensors} tensors, ${formatBytes(f.bytes)})`)
      .join(', ');
    console.log(`svd convert: wrote ${output}: ${summary}`);
    return 0;
  } catch (err) {
    if (controller.signal.aborted) {
      console.error('svd convert: interrupted; nothing was written');
      return 130;
    }
    if (
      err instanceof CheckpointFormatError ||
      err instanceof CheckpointError ||
      err instanceof SafetensorsError ||
      err instanceof RangeError
    ) {
      console.error(`svd convert: ${err.message}`);
      return 1;
    }
    console.error(`svd convert: unexpected failure: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    await source?.close().catch(() => {});
  }
}

/** Reads `--config`: a JSON file path, or inline JSON when the value starts with `{`. */
async function loadConfig(value: string): Promise<SvdCheckpointConfig> {
  let text = value;
  if (!value.trimStart().startsWith('{')) {
    try {
      text = await readFile(value, 'utf8');
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      throw new CheckpointFormatError(value, 'bad-config', missing ? 'no such config file' : String(err));
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CheckpointFormatError(value, 'bad-config', `not valid JSON (${(err as Error).message})`);
  }
  return checkpointConfigFromReference(json, value.trimStart().startsWith('{') ? '--config' : value);
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
