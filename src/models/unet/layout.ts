/**
 * The module layout of sgm `sgm/modules/diffusionmodules/video_model.py::VideoUNet.__init__` (svd-spec.md §1.2): which
 * layers each `input_blocks.i`, `middle_block` and `output_blocks.i` (a TimestepEmbedSequential) holds, with their
 * channel counts, in module-index order. The graph builder walks this; the checkpoint keys follow from it.
 */
import { attentionHeads, type VideoUNetConfig } from './config.ts';

export type LayerSpec =
  /** Conv2d 3×3 pad 1 (`input_blocks.0.0`). */
  | { kind: 'conv_in'; inChannels: number; outChannels: number }
  /** VideoResBlock. */
  | { kind: 'res'; inChannels: number; outChannels: number }
  /** SpatialVideoTransformer. */
  | { kind: 'attn'; channels: number; heads: number; dimHead: number; depth: number }
  | { kind: 'down'; channels: number }
  | { kind: 'up'; channels: number };

export interface VideoUNetLayout {
  inputBlocks: LayerSpec[][];
  middleBlock: LayerSpec[];
  outputBlocks: LayerSpec[][];
  /** Channels entering `out`. */
  finalChannels: number;
}

export function videoUNetLayout(cfg: VideoUNetConfig): VideoUNetLayout {
  const mc = cfg.modelChannels;
  const attn = (ch: number, depth: number): LayerSpec => ({
    kind: 'attn',
    channels: ch,
    depth,
    ...attentionHeads(cfg, ch),
  });
  const inputBlocks: LayerSpec[][] = [[{ kind: 'conv_in', inChannels: cfg.inChannels, outChannels: mc }]];
  const skipChannels = [mc];
  let ch = mc;
  let ds = 1;
  cfg.channelMult.forEach((mult, level) => {
    for (let i = 0; i < cfg.numResBlocks; i++) {
      const block: LayerSpec[] = [{ kind: 'res', inChannels: ch, outChannels: mult * mc }];
      ch = mult * mc;
      if (cfg.attentionResolutions.includes(ds)) block.push(attn(ch, cfg.transformerDepth[level]));
      inputBlocks.push(block);
      skipChannels.push(ch);
    }
    if (level !== cfg.channelMult.length - 1) {
      inputBlocks.push([{ kind: 'down', channels: ch }]);
      skipChannels.push(ch);
      ds *= 2;
    }
  });

  const middleBlock: LayerSpec[] = [
    { kind: 'res', inChannels: ch, outChannels: ch },
    attn(ch, cfg.transformerDepthMiddle),
    { kind: 'res', inChannels: ch, outChannels: ch },
  ];

  const outputBlocks: LayerSpec[][] = [];
  for (let level = cfg.channelMult.length - 1; level >= 0; level--) {
    const mult = cfg.channelMult[level];
    for (let i = 0; i <= cfg.numResBlocks; i++) {
      const skip = skipChannels.pop()!;
      const block: LayerSpec[] = [{ kind: 'res', inChannels: ch + skip, outChannels: mult * mc }];
      ch = mult * mc;
      if (cfg.attentionResolutions.includes(ds)) block.push(attn(ch, cfg.transformerDepth[level]));
      if (level > 0 && i === cfg.numResBlocks) {
        block.push({ kind: 'up', channels: ch });
        ds /= 2;
      }
      outputBlocks.push(block);
    }
  }
  return { inputBlocks, middleBlock, outputBlocks, finalChannels: ch };
}
