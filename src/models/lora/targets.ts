/**
 * Which weights a new LoRA adapts: globs over sgm module paths (`*` within one segment, `**` across segments, as
 * parameter selection for training). The default is the temporal attention of the video transformer blocks — the
 * camera-motion LoRAs of SVD (Blattmann et al., arXiv 2311.15127, §4.3) — `…time_stack.<i>.attn1` (self-attention
 * over frames) and `…attn2` (cross-attention to the CLIP image embedding): to_q, to_k, to_v, to_out.0.
 */
import { globToRegExp } from '../../nn/key-glob.ts';
import type { Shape } from '../../tensor/shape.ts';
import { UNET_PREFIX } from '../svd-network.ts';
import { LoraError } from './errors.ts';
import { type AdaptableWeight, adaptableWeights } from './names.ts';

const PROJECTIONS = ['to_q', 'to_k', 'to_v', 'to_out.0'];

/** The temporal attention projections of every video transformer block. */
export const DEFAULT_LORA_TARGETS: readonly string[] = ['attn1', 'attn2'].flatMap((a) =>
  PROJECTIONS.map((m) => `${UNET_PREFIX}.**.time_stack.*.${a}.${m}`),
);

/**
 * The weights the globs select among `shapes` (the model's parameters), in the model's order. A glob that selects no
 * adaptable weight (a `.weight` of rank ≥ 2 under the UNet) is an error naming it.
 */
export function resolveLoraTargets(
  shapes: ReadonlyMap<string, Shape>,
  globs: readonly string[] = DEFAULT_LORA_TARGETS,
): AdaptableWeight[] {
  if (globs.length === 0) throw new LoraError('LoRA targets: no glob given');
  const weights = [...adaptableWeights(shapes).values()];
  const regs = globs.map(globToRegExp);
  const empty = globs.filter((_, i) => !weights.some((w) => regs[i].test(w.module)));
  if (empty.length > 0) {
    throw new LoraError(
      `LoRA target ${empty.map((g) => JSON.stringify(g)).join(', ')} matches no weight of this model ` +
        `(targets are module paths under ${UNET_PREFIX}, e.g. ${UNET_PREFIX}.**.time_stack.*.attn1.to_q)`,
    );
  }
  return weights.filter((w) => regs.some((r) => r.test(w.module)));
}
