/**
 * Writes a freshly initialised checkpoint of a preset (src/models/fresh-weights.ts): the start of a from-scratch
 * training run. Usage: node --import tsx scripts/svd-mini/fresh-checkpoint.ts OUT.safetensors [--preset svd-mini] [--seed 0]
 */
import { parseArgs } from 'node:util';
import { freshWeights } from '../../src/models/fresh-weights.ts';
import { getPreset } from '../../src/models/presets.ts';
import { writeSafetensors } from '../../src/weights/index.ts';

const { values, positionals } = parseArgs({
  options: { preset: { type: 'string', default: 'svd-mini' }, seed: { type: 'string', default: '0' } },
  allowPositionals: true,
});
const out = positionals[0];
if (!out) throw new Error('usage: fresh-checkpoint.ts OUT.safetensors [--preset NAME] [--seed N]');
const model = getPreset(values.preset as string);
const weights = freshWeights(model, Number(values.seed));
let n = 0;
for (const t of weights.values()) n += t.data.length;
await writeSafetensors(out, weights, { format: 'pt', init: `fresh seed ${values.seed}`, preset: model.name });
console.error(
  `fresh-checkpoint: ${model.name}, ${weights.size} tensors, ${(n / 1e6).toFixed(2)} M parameters → ${out}`,
);
