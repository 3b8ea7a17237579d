/**
 * The LoRA stage's hooks (paper §4: camera-motion LoRAs on the temporal attention): a LoRA set on the model's
 * targeted weights (src/models/lora), the UNet built through `withLora` so the base weights stay frozen weights and
 * only the low-rank factors are trainable, initialised from the run's seed and saved alone with their metadata.
 */
import { declareModelParams } from '../../models/declare-params.ts';
import type { SvdModel } from '../../models/description.ts';
import { createLoraSet, initLora, saveLora } from '../../models/lora/index.ts';
import { loraParamNames, withLora } from '../../nn/lora.ts';
import type { TrainConfig } from '../stages/config.ts';
import type { LoraHooks } from './train-run.ts';

export function loraHooks(model: SvdModel, config: TrainConfig): LoraHooks {
  const lora = config.lora;
  if (!lora) throw new Error('the lora stage needs a "lora" section (rank, alpha, targets)');
  const set = createLoraSet(declareModelParams(model).shapes, lora);
  return {
    wrap: (p) => withLora(p, set),
    names: () => loraParamNames(set),
    init: (seed) => initLora(set, seed),
    save: (path, values) =>
      saveLora(path, values, {
        rank: lora.rank,
        alpha: lora.alpha,
        targets: lora.targets,
        baseModel: model.name,
        extra: { svd_ts_stage: 'lora', svd_ts_steps: String(config.steps) },
      }),
  };
}
