/**
 * `svd lora merge BASE LORA[:SCALE] [LORA[:SCALE] …] OUT [--config JSON | --preset NAME]`: merges LoRAs (Hu et al.,
 * arXiv 2106.09685; kohya tensor names, `src/models/lora/names.ts`) into a base checkpoint and writes an sgm single
 * file (`src/models/lora/merge.ts`: streaming, one tensor at a time, atomic). Generating from OUT equals generating
 * from BASE with `--lora` (same arithmetic, `src/models/lora/merged-source.ts`).
 * Exit codes: 0 done, 1 failure (unreadable input, a LoRA that does not fit, output exists, …), 2 bad usage,
 * 130 interrupted (nothing written).
 */
import { parseArgs } from 'node:util';
import { assertOutputFree } from '../models/checkpoint-convert.ts';
import { declareModelParams } from '../models/declare-params.ts';
import type { SvdModel } from '../models/description.ts';
import { openLoras } from '../models/lora/apply.ts';
import { LoraError } from '../models/lora/errors.ts';
import type { FittedLora } from '../models/lora/fit.ts';
import { mergeLoraCheckpoint } from '../models/lora/merge.ts';
import { type LoraSpec, parseLoraSpec } from '../models/lora/spec.ts';
import { getPreset, PRESET_NAMES, PRESETS } from '../models/presets.ts';
import { ModelConfigError } from '../models/reference/errors.ts';
import { loadModelConfig } from '../models/reference/model-config.ts';
import type { Shape } from '../tensor/shape.ts';
import { type CheckpointSource, openCheckpoint } from '../weights/checkpoint.ts';
import { CheckpointError } from '../weights/checkpoint-check.ts';
import { CheckpointFormatError } from '../weights/checkpoint-errors.ts';
import { checkpointHash } from '../weights/checkpoint-hash.ts';
import { SafetensorsError } from '../weights/safetensors-errors.ts';

export const LORA_USAGE = `usage: svd lora merge BASE LORA[:SCALE] [LORA[:SCALE] …] OUT [--config JSON | --preset NAME]

  BASE            the base checkpoint: an sgm single file (.safetensors) or a diffusers folder
  LORA[:SCALE]    a LoRA file (kohya names: lora_unet_<sgm path>.lora_down.weight / .lora_up.weight / .alpha) and
                  its multiplier (default 1); several LoRAs add
  OUT             the sgm .safetensors file to write; must not exist
  --config JSON   model config ({ engine_config, clip_arch }, as svd generate --config): BASE is checked strictly
  --preset NAME   ${PRESET_NAMES.join(' | ')}: the same, for a released model
                  (neither: the LoRAs are fitted to BASE's own weights, without a model check)`;

/** Minimum time between two progress lines. */
const PROGRESS_INTERVAL_MS = 2000;

export async function loraCommand(argv: readonly string[]): Promise<number> {
  const usage = (problem: string): number => {
    console.error(`svd lora: ${problem}\n\n${LORA_USAGE}`);
    return 2;
  };
  let values: { config?: string; preset?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: { config: { type: 'string' }, preset: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    return usage((e as Error).message.split('\n')[0]);
  }
  if (values.help) {
    console.log(LORA_USAGE);
    return 0;
  }
  const [sub, ...paths] = positionals;
  if (sub !== 'merge')
    return usage(sub === undefined ? 'expected a subcommand (merge)' : `unknown subcommand "${sub}"`);
  if (paths.length < 3) return usage(`merge expects BASE, at least one LORA and OUT, got ${paths.length} argument(s)`);
  const base = paths[0];
  const output = paths[paths.length - 1];
  const specs: LoraSpec[] = [];
  for (const text of paths.slice(1, -1)) {
    const spec = parseLoraSpec(text);
    if (!spec) return usage(`"${text}" is not LORA[:SCALE] (SCALE a number)`);
    specs.push(spec);
  }
  if (values.config !== undefined && values.preset !== undefined) return usage('give --config or --preset, not both');
  if (values.preset !== undefined && !PRESETS[values.preset]) {
    return usage(`--preset must be one of ${PRESET_NAMES.join(', ')}, got "${values.preset}"`);
  }

  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  let source: CheckpointSource | undefined;
  let loras: FittedLora[] = [];
  try {
    const model: SvdModel | undefined =
      values.config !== undefined
        ? loadModelConfig(values.config)
        : values.preset !== undefined
          ? getPreset(values.preset)
          : undefined;
    await assertOutputFree(output);
    source = await openCheckpoint(base);
    const shapes: ReadonlyMap<string, Shape> = model
      ? declareModelParams(model).shapes
      : new Map([...source.entries()].map(([k, e]) => [k, e.shape]));
    const hash = await checkpointHash(base);
    loras = await openLoras(specs, shapes, {
      baseHash: hash.sha256,
      onNotice: (line) => console.error(`warning: ${line}`),
    });
    const what = loras.map((l) => `${l.file.path} ×${l.scale} (${l.modules.length} weights)`).join(', ');
    console.error(`svd lora merge: ${base} + ${what} → ${output}`);
    let last = 0;
    const result = await mergeLoraCheckpoint(source, loras, output, {
      model,
      configLabel: values.config ?? values.preset,
      signal: controller.signal,
      onNotice: (line) => console.error(`svd lora merge: ${line}`),
      onProgress: (p) => {
        const now = Date.now();
        if (now - last < PROGRESS_INTERVAL_MS && p.tensorsDone !== p.tensorsTotal) return;
        last = now;
        const pct = p.bytesTotal > 0 ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100;
        console.error(`svd lora merge: ${p.tensorsDone}/${p.tensorsTotal} tensors (${pct}%)`);
      },
    });
    const f = result.files[0];
    console.log(`svd lora merge: wrote ${output} (${f.tensors} tensors, ${(f.bytes / 1e6).toFixed(1)} MB)`);
    return 0;
  } catch (err) {
    if (controller.signal.aborted) {
      console.error('svd lora merge: interrupted; nothing was written');
      return 130;
    }
    const known =
      err instanceof LoraError ||
      err instanceof CheckpointFormatError ||
      err instanceof CheckpointError ||
      err instanceof ModelConfigError ||
      err instanceof SafetensorsError;
    const message = err instanceof Error ? err.message : String(err);
    console.error(`svd lora merge: ${known ? message : `unexpected failure: ${message}`}`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    for (const l of loras) await l.file.close().catch(() => {});
    await source?.close().catch(() => {});
  }
}
