/**
 * `svd train`: the paper's training stages (src/training/stages/config.ts) on a folder of videos, a curated manifest
 * or a folder of images. A run folder holds the resolved config, JSONL logs, the loss curve, checkpoints and the
 * exported weights; `--resume RUN` continues exactly where the last checkpoint left off (also after kill -9); Ctrl-C
 * stops between steps, saves a checkpoint and exits 130.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LoraError } from '../models/lora/index.ts';
import { ModelConfigError } from '../models/reference/errors.ts';
import { trainDataProvider } from '../training/data/provider.ts';
import { loraHooks } from '../training/run/lora-hooks.ts';
import { RunFolderError } from '../training/run/run-folder.ts';
import { runTraining } from '../training/run/train-run.ts';
import { resolveTrainConfig, STAGE_KINDS, type StageKind, TrainConfigError } from '../training/stages/config.ts';
import { CliError, usageError } from './errors.ts';
import { createProgress } from './progress.ts';
import { writeValidationVideos } from './train-validation.ts';

export const TRAIN_USAGE = `usage: svd train --stage autoencoder|image|video|finetune|i2v|lora [--config FILE] [options]
       svd train --resume RUN

  --stage NAME         the paper's stage (image pretraining, video pretraining, high-res finetuning,
                       image-to-video, camera-motion LoRA); its preset fills what the config leaves out
  --config FILE        a JSON train config (any field of the stage preset; see the README)
  --run DIR            the run folder (default runs/<stage>-<date>); must not hold a run yet
  --resume DIR         continue the run in DIR from its last checkpoint
data and model (override the config):
  --videos DIR | --manifest FILE | --images DIR
  --preset NAME | --model-config JSON   --init CHECKPOINT (weights to start from)
  --steps N  --batch N  --lr X  --seed N  --threads N
  --quiet  --json`;

const OPTIONS = {
  stage: { type: 'string' },
  config: { type: 'string' },
  run: { type: 'string' },
  resume: { type: 'string' },
  videos: { type: 'string' },
  manifest: { type: 'string' },
  images: { type: 'string' },
  preset: { type: 'string' },
  'model-config': { type: 'string' },
  init: { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  threads: { type: 'string' },
  quiet: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The train config file: missing or unreadable is a failure (exit 1), as any input file; not JSON is bad usage. */
function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CliError(`svd train: --config ${path}: ${missing ? 'no such file' : (e as Error).message}`, 1);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw usageError(`svd train: --config ${path}: not valid JSON (${(e as Error).message})`);
  }
}

function number(flag: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw usageError(`svd train: --${flag} ${JSON.stringify(v)}: expected ${integer ? 'an integer' : 'a number'}`);
  }
  return n;
}

/** The config JSON with the command line's overrides. */
function overrides(
  values: Record<string, string | boolean | undefined>,
  json: Record<string, unknown>,
): Record<string, unknown> {
  const s = (k: string) => values[k] as string | undefined;
  const out: Record<string, unknown> = { ...json };
  const data = { ...((json.data as Record<string, unknown>) ?? {}) };
  const sources = ['videos', 'manifest', 'images'].filter((k) => s(k) !== undefined);
  if (sources.length > 1)
    throw usageError(`svd train: give one of --videos, --manifest, --images (got ${sources.join(', ')})`);
  if (sources.length === 1) {
    for (const k of ['videos', 'manifest', 'images']) delete data[k];
    data[sources[0]] = s(sources[0]);
  }
  out.data = data;
  const model = { ...((json.model as Record<string, unknown>) ?? {}) };
  if (s('preset') !== undefined && s('model-config') !== undefined) {
    throw usageError('svd train: give --preset or --model-config, not both');
  }
  if (s('preset') !== undefined) {
    model.preset = s('preset');
    delete model.config;
  }
  if (s('model-config') !== undefined) {
    model.config = s('model-config');
    delete model.preset;
  }
  if (s('init') !== undefined) model.init = s('init');
  out.model = model;
  for (const [flag, key, integer] of [
    ['steps', 'steps', true],
    ['batch', 'batch', true],
    ['lr', 'lr', false],
    ['seed', 'seed', true],
    ['threads', 'threads', true],
  ] as const) {
    const n = number(flag, s(flag), integer);
    if (n !== undefined) out[key] = n;
  }
  return out;
}

export async function trainCommand(argv: readonly string[]): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => controller.abort(new CliError('svd train: interrupted', 130));
  process.once('SIGINT', onSigint);
  let runDir: string | undefined;
  try {
    let values: Record<string, string | boolean | undefined>;
    try {
      ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
    } catch (e) {
      throw usageError(`svd train: ${(e as Error).message.split('\n')[0]}`);
    }
    if (values.help) {
      console.log(TRAIN_USAGE);
      return 0;
    }
    const resume = values.resume as string | undefined;
    let config: ReturnType<typeof resolveTrainConfig> | undefined;
    if (resume) {
      const extra = Object.keys(values).filter((k) => !['resume', 'quiet', 'json'].includes(k));
      if (extra.length > 0)
        throw usageError(`svd train: --resume takes the run's own config; drop --${extra.join(', --')}`);
      runDir = resume;
    } else {
      const stage = values.stage as string | undefined;
      if (stage !== undefined && !STAGE_KINDS.includes(stage as StageKind)) {
        throw usageError(`svd train: --stage ${JSON.stringify(stage)}: expected one of ${STAGE_KINDS.join(', ')}`);
      }
      const json = values.config ? readJson(values.config as string) : {};
      if (typeof json !== 'object' || json === null || Array.isArray(json)) {
        throw usageError(`svd train: --config ${values.config}: a train config is a JSON object`);
      }
      config = resolveTrainConfig(overrides(values, json as Record<string, unknown>), stage as StageKind | undefined);
      checkInputPaths(config);
      runDir =
        (values.run as string | undefined) ?? `runs/${config.stage}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    }
    const progress = createProgress({ quiet: values.quiet === true });
    const result = await runTraining(config, {
      run: runDir,
      resume: resume !== undefined,
      samples: trainDataProvider,
      lora: loraHooks,
      validationVideos: writeValidationVideos,
      signal: controller.signal,
      onEvent: (e) => {
        switch (e.type) {
          case 'stage':
            progress.stage(e.stage);
            break;
          case 'step':
            progress.step(e.step, e.steps);
            break;
          case 'validation':
            progress.log(
              `step ${e.step}: validation loss ${e.loss.toPrecision(4)}${e.videos ? `; videos ${e.videos.join(', ')}` : ''}`,
            );
            break;
          case 'checkpoint':
            progress.log(`step ${e.step}: checkpoint ${e.path}`);
            break;
          case 'skipped':
            console.error(`warning: skipped ${e.id}: ${e.reason}`);
            break;
          case 'notice':
            progress.log(e.message);
            break;
        }
      },
    });
    progress.done(
      `${runDir}: ${result.step} steps, loss ${result.lastLoss.toPrecision(4)}` +
        (result.validationLoss !== undefined ? `, validation ${result.validationLoss.toPrecision(4)}` : '') +
        (result.exported ? `; wrote ${result.exported}` : ''),
    );
    if (values.json) console.log(JSON.stringify({ run: runDir, ...result }, null, 2));
    return 0;
  } catch (e) {
    if (controller.signal.aborted) {
      console.error(`svd train: interrupted; the run is saved: continue it with svd train --resume ${runDir}`);
      return 130;
    }
    const known =
      e instanceof CliError ||
      e instanceof TrainConfigError ||
      e instanceof RunFolderError ||
      e instanceof ModelConfigError ||
      e instanceof LoraError;
    const code = e instanceof CliError ? e.exitCode : e instanceof TrainConfigError ? 2 : 1;
    const message = (e as Error)?.message ?? String(e);
    console.error(message.startsWith('svd ') ? message : `svd train: ${known ? '' : 'failed: '}${message}`);
    return code;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** The data and the init weights exist, checked before the model is built (a full-size model takes minutes). */
function checkInputPaths(config: ReturnType<typeof resolveTrainConfig>): void {
  const { videos, manifest, images } = config.data;
  const paths: [string, string | undefined][] = [
    ['--videos', videos],
    ['--manifest', manifest],
    ['--images', images],
    ['--init', config.model.init],
  ];
  for (const [flag, path] of paths) {
    if (path !== undefined && !existsSync(path))
      throw new CliError(`svd train: ${flag} ${path}: no such file or folder`);
  }
}
