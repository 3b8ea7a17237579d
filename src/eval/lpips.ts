/**
 * LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual Metric"), version 0.1 with
 * the AlexNet trunk, as the `lpips` package computes it (richzhang/PerceptualSimilarity `lpips/lpips.py`,
 * `pretrained_networks.py`): inputs in [−1, 1] shifted by (−.030, −.088, −.188) and divided by (.458, .448, .450);
 * torchvision's AlexNet `features` tapped after relu1…relu5 (conv 11/4 pad 2 → 64, max-pool 3/2, conv 5 pad 2 → 192,
 * max-pool 3/2, conv 3 pad 1 → 384, 256, 256); each tap normalised over channels (x / (‖x‖₂ + 1e-10)); the squared
 * difference of the two images' taps weighted by a learned 1×1 conv (`lin<k>`, no bias), averaged over space and
 * summed over the five layers.
 *
 * Weights are user-supplied (nothing is bundled): the whole LPIPS module's state dict (`net.slice<k>.<i>.*`,
 * `lin<k>.model.1.weight`), or torchvision's AlexNet file (`features.<i>.*`) plus the package's `alex.pth` (`lin<k>.*`),
 * read from `torch.save` zip files.
 */
import { GraphBuilder, type SymTensor } from '../graph/builder.ts';
import type { Graph } from '../graph/ir.ts';
import * as op from '../graph/ops/index.ts';
import { conv } from '../nn/layers.ts';
import { Params } from '../nn/params.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import { readTorchStateDict } from '../weights/torch-zip.ts';

/** Channels of the five AlexNet taps. */
export const LPIPS_ALEX_CHANNELS = [64, 192, 384, 256, 256] as const;
const SHIFT = [-0.03, -0.088, -0.188];
const SCALE = [0.458, 0.448, 0.45];

/** AlexNet `features` layer index of each conv, and the LPIPS slice it sits in. */
const CONVS: readonly { slice: number; index: number; inC: number; outC: number; k: number; s: number; p: number }[] = [
  { slice: 1, index: 0, inC: 3, outC: 64, k: 11, s: 4, p: 2 },
  { slice: 2, index: 3, inC: 64, outC: 192, k: 5, s: 1, p: 2 },
  { slice: 3, index: 6, inC: 192, outC: 384, k: 3, s: 1, p: 1 },
  { slice: 4, index: 8, inC: 384, outC: 256, k: 3, s: 1, p: 1 },
  { slice: 5, index: 10, inC: 256, outC: 256, k: 3, s: 1, p: 1 },
];

/** torch.nn.MaxPool2d(3, stride 2), no padding: the max of nine strided slices. */
export function maxPool3x3s2(x: SymTensor): SymTensor {
  const [, , h, w] = x.shape;
  const oh = Math.floor((h - 3) / 2) + 1;
  const ow = Math.floor((w - 3) / 2) + 1;
  if (oh < 1 || ow < 1) throw new RangeError(`max-pool 3×3 needs at least 3×3, got ${h}×${w}`);
  let out: SymTensor | undefined;
  for (let a = 0; a < 3; a++)
    for (let b = 0; b < 3; b++) {
      const s = op.slice(x, [a, b], [a + 2 * (oh - 1) + 1, b + 2 * (ow - 1) + 1], [2, 3], [2, 2]);
      out = out ? op.maximum(out, s) : s;
    }
  return out as SymTensor;
}

/** The five relu taps of AlexNet for x [N, 3, H, W] (already scaled). `p` is the LPIPS module root. */
function alexTaps(p: Params, x: SymTensor): SymTensor[] {
  const taps: SymTensor[] = [];
  let h = x;
  for (const c of CONVS) {
    if (c.slice === 2 || c.slice === 3) h = maxPool3x3s2(h);
    h = op.relu(
      conv(p.pp('net').pp(`slice${c.slice}`).pp(c.index), h, c.inC, c.outC, { kernel: c.k, stride: c.s, padding: c.p }),
    );
    taps.push(h);
  }
  return taps;
}

/** in0, in1 [N, 3, H, W] in [−1, 1] → `distance` [N]. */
export function lpipsGraph(n: number, height: number, width: number): Graph {
  const b = new GraphBuilder(`lpips_alex_${n}x${height}x${width}`);
  const in0 = b.input('in0', [n, 3, height, width]);
  const in1 = b.input('in1', [n, 3, height, width]);
  const p = new Params(b);
  const shift = b.constant(HostTensor.float32([1, 3, 1, 1], SHIFT));
  const scale = b.constant(HostTensor.float32([1, 3, 1, 1], SCALE));
  const both = op.div(op.sub(op.concat([in0, in1], 0), shift), scale); // [2N, 3, H, W]
  const taps = alexTaps(p, both);
  let total: SymTensor | undefined;
  taps.forEach((t, k) => {
    const norm = op.add(op.sqrt(op.sum(op.mul(t, t), [1], true)), 1e-10);
    const f = op.div(t, norm);
    const [f0, f1] = op.split(f, [n, n], 0);
    const d = op.sub(f0, f1);
    const lin = conv(p.pp(`lin${k}`).pp('model').pp(1), op.mul(d, d), LPIPS_ALEX_CHANNELS[k], 1, {
      kernel: 1,
      bias: false,
    });
    const avg = op.mean(lin, [1, 2, 3]); // [N]
    total = total ? op.add(total, avg) : avg;
  });
  b.output('distance', total as SymTensor);
  return b.build();
}

/**
 * LPIPS weights under the module's own keys from one or two `torch.save` files: a whole LPIPS state dict, or
 * torchvision's AlexNet (`features.<i>.*`) and the `lin<k>` layers (the package's `alex.pth`) in either order.
 */
export async function loadLpipsWeights(paths: readonly string[]): Promise<Map<string, HostTensor<'float32'>>> {
  const out = new Map<string, HostTensor<'float32'>>();
  for (const path of paths) {
    for (const [k, t] of await readTorchStateDict(path)) {
      const m = /^features\.(\d+)\.(weight|bias)$/.exec(k);
      const conv = m ? CONVS.find((c) => c.index === Number(m[1])) : undefined;
      if (conv) out.set(`net.slice${conv.slice}.${conv.index}.${m![2]}`, t);
      else if (/^(net\.slice\d\.\d+|lin\d\.model\.1)\.(weight|bias)$/.test(k)) out.set(k, t);
    }
  }
  const missing: string[] = [];
  for (const c of CONVS)
    for (const s of ['weight', 'bias'])
      if (!out.has(`net.slice${c.slice}.${c.index}.${s}`)) missing.push(`net.slice${c.slice}.${c.index}.${s}`);
  for (let k = 0; k < 5; k++) if (!out.has(`lin${k}.model.1.weight`)) missing.push(`lin${k}.model.1.weight`);
  if (missing.length > 0)
    throw new Error(
      `LPIPS weights incomplete (${paths.join(', ')}): missing ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? `, … (${missing.length})` : ''}; give the LPIPS state dict, or torchvision's AlexNet file and the lpips package's alex.pth`,
    );
  return out;
}
