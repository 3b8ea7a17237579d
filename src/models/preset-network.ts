/**
 * Which preset a model's network is: the same UNet and first stage, key for key and shape for shape (the conditioner
 * and the sampling defaults may differ). A model description read from a config or a diffusers folder takes that
 * preset's trained size; a model of another size has none.
 */
import { declareModelParams, FIRST_STAGE_PREFIX } from './declare-params.ts';
import type { SvdModel } from './description.ts';
import { PRESETS } from './presets.ts';
import { UNET_PREFIX } from './svd-network.ts';

/** The keys and shapes of the UNet's and the first stage's weights, one string: equal for the same networks. */
function networkShapes(model: SvdModel): string {
  return [...declareModelParams(model).shapes]
    .filter(([k]) => k.startsWith(`${UNET_PREFIX}.`) || k.startsWith(`${FIRST_STAGE_PREFIX}.`))
    .map(([k, shape]) => `${k}:${shape.join('x')}`)
    .join('\n');
}

/** The first preset (in PRESETS order) whose UNet and first stage are `model`'s, weight for weight; else undefined. */
export function presetWithSameNetwork(model: SvdModel): SvdModel | undefined {
  const candidates = Object.values(PRESETS).filter(
    (p) =>
      p.unet.modelChannels === model.unet.modelChannels &&
      p.unet.channelMult.join() === model.unet.channelMult.join() &&
      p.firstStage.kind === model.firstStage.kind,
  );
  if (candidates.length === 0) return undefined;
  const shapes = networkShapes(model);
  return candidates.find((p) => networkShapes(p) === shapes);
}
