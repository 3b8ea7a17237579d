/**
 * Model levels of profiled nodes, read from the node names (graph/lower.ts names a node `<scope>/<Op>_<i>`; the UNet
 * traces each block in the scope of its checkpoint prefix, the decoder its `mid` and each `up.N`).
 */
import type { VideoUNetConfig } from '../src/models/unet/config.ts';
import { videoUNetLayout } from '../src/models/unet/layout.ts';
import type { ProfiledNode } from '../src/runtime/ort-profile.ts';

/**
 * The UNet level of a node: input block i and output block i at the level whose resolution they read (a down- or
 * upsampling block counts at the level before it), the middle block apart; `h`×`w` is the latent size.
 */
export function unetLevelOf(cfg: VideoUNetConfig, h: number, w: number): (n: ProfiledNode) => string | undefined {
  const layout = videoUNetLayout(cfg);
  const levels = cfg.channelMult.length;
  const inLevel: number[] = [];
  let l = 0;
  for (const block of layout.inputBlocks) {
    inLevel.push(l);
    if (block.some((s) => s.kind === 'down')) l++;
  }
  const outLevel: number[] = [];
  l = levels - 1;
  for (const block of layout.outputBlocks) {
    outLevel.push(l);
    if (block.some((s) => s.kind === 'up')) l--;
  }
  const label = (level: number) => `level ${level} (${h >> level}×${w >> level})`;
  return (n) => {
    const m = /(input_blocks|output_blocks)\.(\d+)\//.exec(n.name);
    if (m) return label((m[1] === 'input_blocks' ? inLevel : outLevel)[Number(m[2])]);
    if (n.name.includes('middle_block/')) return `middle (${h >> (levels - 1)}×${w >> (levels - 1)})`;
    return undefined;
  };
}

/** The decoder level of a node: `mid` or `up.N` (N = 0 is full resolution), with its output resolution. */
export function decoderLevelOf(levels: number, h: number, w: number): (n: ProfiledNode) => string | undefined {
  return (n) => {
    const m = /\.up\.(\d+)\//.exec(n.name);
    if (m) {
      const s = 2 ** (levels - 1 - Number(m[1]));
      return `up.${m[1]} (${h * s}×${w * s})`;
    }
    if (n.name.includes('.mid/')) return `mid (${h}×${w})`;
    return undefined;
  };
}
