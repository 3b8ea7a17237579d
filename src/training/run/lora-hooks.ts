/**
 * The LoRA stage's hooks (paper §4: camera-motion LoRAs on the temporal attention): a LoRA set on the model's
 * targeted weights (src/models/lora), the UNet built through `withLora` so the base weights stay frozen weights and
 * only the low-rank factors are trainable, initialised from the run's seed and saved alone with their metadata.
 */
import { declareModelParams } from '../../models/declare-params.ts';
import type { SvdModel } from '../../models/description.ts';
import {
  addLoraTerms,
  createLoraSet,
  initLora,
  LORA_MOTION_BUCKET_KEY,
  type LoraTerm,
  medianLabel,
  saveLora,
} from '../../models/lora/index.ts';
import { loraParamNames, withLora } from '../../nn/lora.ts';
import { HostTensor } from '../../tensor/host-tensor.ts';
import { motionBucketOf } from '../data/labels.ts';
import { manifestSource } from '../data/manifest.ts';
import type { TrainConfig } from '../stages/config.ts';
import type { LoraHooks } from './train-run.ts';

/**
 * The median `motion_bucket_id` of a manifest's clips (each carries `motion_bucket` or `motion_score`): the LoRA's own
 * sampling default (src/models/lora/sampling-defaults.ts). Undefined for a folder of videos (no motion labels).
 */
async function manifestMotionBucket(config: TrainConfig): Promise<number | undefined> {
  if (config.data.manifest === undefined) return undefined;
  return medianLabel((await manifestSource(config.data.manifest)).map((r) => motionBucketOf(r)));
}

export function loraHooks(model: SvdModel, config: TrainConfig): LoraHooks {
  const lora = config.lora;
  if (!lora) throw new Error('the lora stage needs a "lora" section (rank, alpha, targets)');
  const set = createLoraSet(declareModelParams(model).shapes, lora);
  return {
    wrap: (p) => withLora(p, set),
    names: () => loraParamNames(set),
    init: (seed) => initLora(set, seed),
    merged: (base, values) => {
      const byBase = new Map<string, LoraTerm[]>();
      for (const a of set.adapters) {
        const up = values.get(a.up);
        const down = values.get(a.down);
        if (!up || !down) continue; // not trained (never read by the network)
        const list = byBase.get(a.base) ?? [];
        list.push({ up: up.data as Float32Array, down: down.data as Float32Array, rank: a.rank, factor: a.factor });
        byBase.set(a.base, list);
      }
      const read = async (key: string) => {
        const w = await base.read(key);
        const terms = byBase.get(key);
        if (!terms) return w;
        const data = Float32Array.from(w.data as Float32Array);
        addLoraTerms(data, w.shape, terms);
        return new HostTensor('float32', w.shape, data);
      };
      return { ...base, entries: () => base.entries(), read, readStored: read, close: async () => {} };
    },
    save: async (path, values) => {
      const bucket = await manifestMotionBucket(config);
      await saveLora(path, values, {
        rank: lora.rank,
        alpha: lora.alpha,
        targets: lora.targets,
        baseModel: model.name,
        extra: {
          svd_ts_stage: 'lora',
          svd_ts_steps: String(config.steps),
          ...(bucket !== undefined ? { [LORA_MOTION_BUCKET_KEY]: String(bucket) } : {}),
        },
      });
    },
  };
}
