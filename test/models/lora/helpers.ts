/** LoRA files for tests: a new LoRA on a model's parameters, with `up` drawn at random so that it changes the output. */
import { readFileSync } from 'node:fs';
import { declareModelParams } from '../../../src/models/declare-params.ts';
import type { SvdModel } from '../../../src/models/description.ts';
import {
  createLoraSet,
  DEFAULT_LORA_TARGETS,
  initLora,
  type LoraMeta,
  saveLora,
} from '../../../src/models/lora/index.ts';
import { modelFromReferenceConfig } from '../../../src/models/reference/model-config.ts';
import { Rng } from '../../../src/tensor/rng.ts';
import type { Shape } from '../../../src/tensor/shape.ts';
import { GOLDEN_DIR } from '../../helpers/golden.ts';

export const TINY = `${GOLDEN_DIR}pipeline-tiny/`;
export const TINY_CKPT = `${TINY}checkpoint.safetensors`;
export const TINY_CONFIG = `${TINY}config.json`;

export function tinyModel(): SvdModel {
  return modelFromReferenceConfig(JSON.parse(readFileSync(TINY_CONFIG, 'utf8')), 'pipeline-tiny');
}

export interface TestLoraOptions {
  targets?: readonly string[];
  rank?: number;
  alpha?: number;
  seed?: number;
  /** Standard deviation of `up` (default 0.05; 0 = the untrained initial LoRA). */
  upStd?: number;
  meta?: Partial<LoraMeta>;
}

/** Writes a LoRA for `shapes` (default: the tiny model's parameters) to `path`. */
export async function writeTestLora(
  path: string,
  options: TestLoraOptions = {},
  shapes: ReadonlyMap<string, Shape> = declareModelParams(tinyModel()).shapes,
): Promise<void> {
  const rank = options.rank ?? 4;
  const set = createLoraSet(shapes, { targets: options.targets, rank, alpha: options.alpha });
  const seed = options.seed ?? 1;
  const values = initLora(set, seed);
  const rng = new Rng(seed + 1000);
  for (const a of set.adapters) {
    const up = values.get(a.up)!;
    const eps = rng.randn(a.up, up.shape);
    for (let i = 0; i < up.data.length; i++) up.data[i] = eps.data[i] * (options.upStd ?? 0.05);
  }
  await saveLora(path, values, {
    rank,
    alpha: options.alpha,
    targets: options.targets ?? DEFAULT_LORA_TARGETS,
    ...options.meta,
  });
}
