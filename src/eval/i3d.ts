/**
 * The Inception-v1 I3D network (Carreira & Zisserman 2017, "Quo Vadis, Action Recognition?"), whose Kinetics-400
 * logits are the video features of FVD (Unterthiner et al. 2018), as the PyTorch port the FVD tools load it
 * (piergiaj/pytorch-i3d `pytorch_i3d.py`, `InceptionI3d`): every Unit3D is a bias-free Conv3d with TensorFlow 'same'
 * padding (total pad = max(k − s, 0), or max(k − (n mod s), 0), the smaller half in front), BatchNorm3d (eps 1e-3,
 * inference statistics) and ReLU; max-pools pad the same way with zeros; the Mixed blocks concatenate four branches
 * (1×1; 1×1 → 3×3×3; 1×1 → 3×3×3; 3×3×3 max-pool → 1×1); after Mixed_5c an average pool over [2, 7, 7] (stride 1)
 * and the 1×1×1 logits conv with bias; the logits averaged over the remaining time steps (the port's
 * `spatial_squeeze` keeps time). Input: [N, 3, T, 224, 224] RGB in [−1, 1]. Weights are user-supplied (the port's
 * `rgb_imagenet.pt`, a torch.save file; nothing is bundled). Parameter keys are the port's state-dict keys.
 */
import { GraphBuilder, type SymTensor } from '../graph/builder.ts';
import type { Graph } from '../graph/ir.ts';
import * as op from '../graph/ops/index.ts';
import { Params } from '../nn/params.ts';

type Triple = readonly [number, number, number];

/** TensorFlow 'same' padding of one dim: [front, back]. */
export function samePad(n: number, k: number, s: number): [number, number] {
  const total = n % s === 0 ? Math.max(k - s, 0) : Math.max(k - (n % s), 0);
  const front = Math.floor(total / 2);
  return [front, total - front];
}

function padSame(x: SymTensor, k: Triple, s: Triple): SymTensor {
  const [, , t, h, w] = x.shape;
  const pt = samePad(t, k[0], s[0]);
  const ph = samePad(h, k[1], s[1]);
  const pw = samePad(w, k[2], s[2]);
  if (pt[0] + pt[1] + ph[0] + ph[1] + pw[0] + pw[1] === 0) return x;
  return op.pad(x, [0, 0, pt[0], ph[0], pw[0], 0, 0, pt[1], ph[1], pw[1]]);
}

/** torch MaxPool3d (no padding) of an already padded x, as the max of strided slices. */
function maxPool(x: SymTensor, k: Triple, s: Triple): SymTensor {
  const [, , t, h, w] = x.shape;
  const o = [0, 1, 2].map((d) => Math.floor(([t, h, w][d] - k[d]) / s[d]) + 1);
  let out: SymTensor | undefined;
  for (let a = 0; a < k[0]; a++)
    for (let b = 0; b < k[1]; b++)
      for (let c = 0; c < k[2]; c++) {
        const start = [a, b, c];
        const sl = op.slice(
          x,
          start,
          start.map((v, d) => v + s[d] * (o[d] - 1) + 1),
          [2, 3, 4],
          [s[0], s[1], s[2]],
        );
        out = out ? op.maximum(out, sl) : sl;
      }
  return out as SymTensor;
}

/** MaxPool3dSamePadding. */
export function maxPoolSame(x: SymTensor, k: Triple, s: Triple): SymTensor {
  return maxPool(padSame(x, k, s), k, s);
}

/** Unit3D: 'same'-padded Conv3d, BatchNorm3d (eps 1e-3) unless `logits`, ReLU unless `logits`. */
function unit3d(p: Params, x: SymTensor, out: number, k: Triple, s: Triple = [1, 1, 1], logits = false): SymTensor {
  const inC = x.shape[1];
  const w = p.pp('conv3d').get('weight', [out, inC, ...k]);
  const bias = logits ? p.pp('conv3d').get('bias', [out]) : undefined;
  let y = op.conv(padSame(x, k, s), w, bias, { stride: [...s] });
  if (logits) return y;
  const bn = p.pp('bn');
  const shape = [1, out, 1, 1, 1];
  const scale = op.div(
    op.reshape(bn.get('weight', [out]), shape),
    op.sqrt(op.add(op.reshape(bn.get('running_var', [out]), shape), 1e-3)),
  );
  y = op.add(
    op.mul(op.sub(y, op.reshape(bn.get('running_mean', [out]), shape)), scale),
    op.reshape(bn.get('bias', [out]), shape),
  );
  return op.relu(y);
}

/** An Inception module with branch widths [b0, b1a, b1b, b2a, b2b, b3b]. */
function mixed(p: Params, x: SymTensor, c: readonly number[]): SymTensor {
  const one: Triple = [1, 1, 1];
  const three: Triple = [3, 3, 3];
  const b0 = unit3d(p.pp('b0'), x, c[0], one);
  const b1 = unit3d(p.pp('b1b'), unit3d(p.pp('b1a'), x, c[1], one), c[2], three);
  const b2 = unit3d(p.pp('b2b'), unit3d(p.pp('b2a'), x, c[3], one), c[4], three);
  const b3 = unit3d(p.pp('b3b'), maxPoolSame(x, three, one), c[5], one);
  return op.concat([b0, b1, b2, b3], 1);
}

/** The network up to Mixed_5c: x [N, 3, T, H, W] → [N, 1024, T/8, H/32, W/32]. */
export function i3dFeatures(p: Params, x: SymTensor): SymTensor {
  let h = unit3d(p.pp('Conv3d_1a_7x7'), x, 64, [7, 7, 7], [2, 2, 2]);
  h = maxPoolSame(h, [1, 3, 3], [1, 2, 2]);
  h = unit3d(p.pp('Conv3d_2b_1x1'), h, 64, [1, 1, 1]);
  h = unit3d(p.pp('Conv3d_2c_3x3'), h, 192, [3, 3, 3]);
  h = maxPoolSame(h, [1, 3, 3], [1, 2, 2]);
  h = mixed(p.pp('Mixed_3b'), h, [64, 96, 128, 16, 32, 32]);
  h = mixed(p.pp('Mixed_3c'), h, [128, 128, 192, 32, 96, 64]);
  h = maxPoolSame(h, [3, 3, 3], [2, 2, 2]);
  h = mixed(p.pp('Mixed_4b'), h, [192, 96, 208, 16, 48, 64]);
  h = mixed(p.pp('Mixed_4c'), h, [160, 112, 224, 24, 64, 64]);
  h = mixed(p.pp('Mixed_4d'), h, [128, 128, 256, 24, 64, 64]);
  h = mixed(p.pp('Mixed_4e'), h, [112, 144, 288, 32, 64, 64]);
  h = mixed(p.pp('Mixed_4f'), h, [256, 160, 320, 32, 128, 128]);
  h = maxPoolSame(h, [2, 2, 2], [2, 2, 2]);
  h = mixed(p.pp('Mixed_5b'), h, [256, 160, 320, 32, 128, 128]);
  return mixed(p.pp('Mixed_5c'), h, [384, 192, 384, 48, 128, 128]);
}

/** AvgPool3d([2, 7, 7], stride 1) then the logits conv, averaged over time: features [N, 1024, t, 7, 7] → [N, C]. */
export function i3dLogits(p: Params, features: SymTensor, classes = 400): SymTensor {
  const [n, , t, h, w] = features.shape;
  const ot = t - 1;
  const oh = h - 6;
  const ow = w - 6;
  if (ot < 1 || oh < 1 || ow < 1)
    throw new RangeError(`I3D's [2, 7, 7] average pool needs ≥ 2 × 7 × 7 features, got ${t} × ${h} × ${w}`);
  let sum: SymTensor | undefined;
  for (let a = 0; a < 2; a++)
    for (let b = 0; b < 7; b++)
      for (let d = 0; d < 7; d++) {
        const sl = op.slice(features, [a, b, d], [a + ot, b + oh, d + ow], [2, 3, 4]);
        sum = sum ? op.add(sum, sl) : sl;
      }
  const avg = op.div(sum as SymTensor, 98); // [N, C, ot, oh, ow]
  const logits = unit3d(p.pp('logits'), avg, classes, [1, 1, 1], [1, 1, 1], true); // [N, classes, ot, oh, ow]
  return op.reshape(op.mean(logits, [2, 3, 4]), [n, classes]); // time averaged (and 1×1 space when 224 input)
}

/** video [N, 3, T, H, W] in [−1, 1] → `features` [N, 1024, …] (Mixed_5c) and, when H = W = 224, `logits` [N, 400]. */
export function i3dGraph(n: number, frames: number, height: number, width: number, withLogits = true): Graph {
  const b = new GraphBuilder(`i3d_${n}x${frames}x${height}x${width}`);
  const x = b.input('video', [n, 3, frames, height, width]);
  const p = new Params(b);
  const f = i3dFeatures(p, x);
  b.output('features', f);
  if (withLogits) b.output('logits', i3dLogits(p, f));
  return b.build();
}
