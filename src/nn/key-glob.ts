/**
 * Globs over dotted parameter keys (`model.diffusion_model.input_blocks.1.1.time_stack.0.attn1.to_q.weight`):
 * `*` matches within one path segment, `**` across segments; every other character is literal. Shared by parameter
 * selection for training (`src/training/freeze.ts`) and LoRA targets (`src/nn/lora.ts`), hence this low layer.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^.]*';
    } else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
