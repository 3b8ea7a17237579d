/**
 * The model a request names: `--config` (a model config in the reference's structure), else `--preset`, else — when
 * the checkpoint is a diffusers folder — the model its own `config.json` files describe (as `svd convert` reads it),
 * else svd-xt. `modelOrigin` says which, for the advice of a checkpoint that does not fit (src/models/
 * checkpoint-mismatch.ts) and for the sidecar.
 */
import type { ModelOrigin } from '../models/checkpoint-mismatch.ts';
import type { SvdModel } from '../models/description.ts';
import { modelFromDiffusersConfigs } from '../models/diffusers-config.ts';
import { getPreset, PRESET_NAMES, PRESETS } from '../models/presets.ts';
import { loadModelConfig } from '../models/reference/model-config.ts';
import { isDiffusersFolder, readDiffusersConfigs } from '../weights/diffusers-folder.ts';
import { GenerateRequestError, type ModelChoice } from './request.ts';

/** The preset a checkpoint runs with when nothing else names its model. */
export const DEFAULT_PRESET = 'svd-xt';

/** How the request's model is chosen. */
export function modelOrigin(choice: ModelChoice): ModelOrigin {
  if (choice.config !== undefined) return { kind: 'config', config: choice.config };
  if (choice.preset === undefined && isDiffusersFolder(choice.checkpoint)) return { kind: 'diffusers-configs' };
  return { kind: 'preset', name: choice.preset ?? DEFAULT_PRESET };
}

/**
 * The model of a request. Throws a ModelConfigError for a bad `--config`, a CheckpointFormatError for a diffusers
 * folder's bad `config.json`, a GenerateRequestError for an unknown preset.
 */
export function resolveModel(request: { readonly model: ModelChoice }): SvdModel {
  const origin = modelOrigin(request.model);
  switch (origin.kind) {
    case 'config':
      return loadModelConfig(origin.config);
    case 'diffusers-configs':
      return modelFromDiffusersConfigs(readDiffusersConfigs(request.model.checkpoint), request.model.checkpoint);
    case 'preset':
      if (!PRESETS[origin.name]) {
        throw new GenerateRequestError([
          { field: 'preset', value: origin.name, expected: `one of ${PRESET_NAMES.join(', ')}` },
        ]);
      }
      return getPreset(origin.name);
  }
}
