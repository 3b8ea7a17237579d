/**
 * Direct (loop) convolutions for any number of spatial dimensions: ONNX Conv and ONNX ConvTranspose with explicit
 * pads (no auto_pad). Layouts are channel-first: x [N, C, ...spatial].
 */
import { type F64Tensor, f64, nextIndex, numel, strides } from './tensor.ts';

export type ConvOptions = {
  /** One per spatial dim; default all 1. */
  strides?: readonly number[];
  /** One per spatial dim; default all 1. */
  dilations?: readonly number[];
  /** ONNX order [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; default all 0. */
  pads?: readonly number[];
  /** Default 1. */
  group?: number;
};

export type ConvTransposeOptions = ConvOptions & {
  /** Extra size added at the end of each spatial dim of the output; default all 0. */
  outputPadding?: readonly number[];
};

type Resolved = {
  strides: readonly number[];
  dilations: readonly number[];
  padBegin: readonly number[];
  padEnd: readonly number[];
  group: number;
};

function resolve(op: string, nd: number, o: ConvOptions): Resolved {
  const s = o.strides ?? new Array<number>(nd).fill(1);
  const d = o.dilations ?? new Array<number>(nd).fill(1);
  const p = o.pads ?? new Array<number>(2 * nd).fill(0);
  const group = o.group ?? 1;
  if (s.length !== nd || d.length !== nd || p.length !== 2 * nd) {
    throw new Error(`${op}: strides/dilations need ${nd} entries and pads ${2 * nd}`);
  }
  if (!Number.isInteger(group) || group < 1) throw new Error(`${op}: bad group ${group}`);
  return { strides: s, dilations: d, padBegin: p.slice(0, nd), padEnd: p.slice(nd), group };
}

/** Every multi-index of `shape`, in row-major order. */
function allIndices(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  if (numel(shape) === 0) return out;
  const idx = new Array<number>(shape.length).fill(0);
  do out.push([...idx]);
  while (nextIndex(idx, shape));
  return out;
}

/**
 * ONNX Conv: y[n, m, o] = b[m] + Σ_{c, k} x[n, g·C/G + c, o·s − pad_begin + k·d] · w[m, c, k], where g = the group
 * of output channel m, positions outside the input read as zero. x [N, C, ...S], w [M, C/G, ...K], b [M] or
 * undefined. Output spatial size floor((S + pad_begin + pad_end − ((K−1)·d + 1)) / s) + 1.
 */
export function conv(x: F64Tensor, w: F64Tensor, b: F64Tensor | undefined, options: ConvOptions = {}): F64Tensor {
  const nd = x.shape.length - 2;
  if (nd < 1 || w.shape.length !== nd + 2) throw new Error('conv: x must be [N, C, ...spatial] and w [M, C/G, ...K]');
  const { strides: st, dilations: dl, padBegin, padEnd, group } = resolve('conv', nd, options);
  const [N, C, ...S] = x.shape;
  const [M, Cg, ...K] = w.shape;
  if (C % group !== 0 || M % group !== 0 || Cg !== C / group) {
    throw new Error(`conv: channels C=${C}, M=${M}, w.shape[1]=${Cg} inconsistent with group ${group}`);
  }
  if (b && (b.shape.length !== 1 || b.shape[0] !== M)) throw new Error(`conv: bias must be [${M}]`);
  const O = S.map((s, i) => {
    const span = s + padBegin[i] + padEnd[i] - ((K[i] - 1) * dl[i] + 1);
    if (span < 0) throw new Error(`conv: kernel larger than padded input along spatial dim ${i}`);
    return Math.floor(span / st[i]) + 1;
  });
  const Mg = M / group;
  const xSpatialStrides = strides(S);
  const xSpatial = numel(S);
  const kSize = numel(K);
  const kernelPositions = allIndices(K);
  const outPositions = allIndices(O);
  const out = f64([N, M, ...O]);
  const oSpatial = numel(O);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      for (let op = 0; op < outPositions.length; op++) {
        const o = outPositions[op];
        let sum = b ? b.data[m] : 0;
        for (let kp = 0; kp < kernelPositions.length; kp++) {
          const k = kernelPositions[kp];
          let xOff = 0;
          let inside = true;
          for (let i = 0; i < nd; i++) {
            const pos = o[i] * st[i] - padBegin[i] + k[i] * dl[i];
            if (pos < 0 || pos >= S[i]) {
              inside = false;
              break;
            }
            xOff += pos * xSpatialStrides[i];
          }
          if (!inside) continue;
          for (let c = 0; c < Cg; c++) {
            const xv = x.data[(n * C + g * Cg + c) * xSpatial + xOff];
            const wv = w.data[(m * Cg + c) * kSize + kp];
            sum += xv * wv;
          }
        }
        out.data[(n * M + m) * oSpatial + op] = sum;
      }
    }
  }
  return out;
}

/**
 * ONNX ConvTranspose: the adjoint (gradient w.r.t. input) of Conv with the same strides, dilations, pads and group,
 * plus bias: y[n, g·M/G + m, i·s + k·d − pad_begin] += x[n, c, i] · w[c, m, k] for input channel c in group g.
 * x [N, C, ...S], w [C, M/G, ...K], b [M] or undefined. Output spatial size
 * s·(S − 1) + output_padding + ((K − 1)·d + 1) − pad_begin − pad_end.
 */
export function convTranspose(
  x: F64Tensor,
  w: F64Tensor,
  b: F64Tensor | undefined,
  options: ConvTransposeOptions = {},
): F64Tensor {
  const nd = x.shape.length - 2;
  if (nd < 1 || w.shape.length !== nd + 2) {
    throw new Error('convTranspose: x must be [N, C, ...spatial] and w [C, M/G, ...K]');
  }
  const { strides: st, dilations: dl, padBegin, padEnd, group } = resolve('convTranspose', nd, options);
  const outPad = options.outputPadding ?? new Array<number>(nd).fill(0);
  if (outPad.length !== nd) throw new Error(`convTranspose: outputPadding needs ${nd} entries`);
  const [N, C, ...S] = x.shape;
  const [Cw, Mg, ...K] = w.shape;
  if (Cw !== C || C % group !== 0)
    throw new Error(`convTranspose: w.shape[0]=${Cw} must equal C=${C}, divisible by group`);
  const M = Mg * group;
  const Cg = C / group;
  if (b && (b.shape.length !== 1 || b.shape[0] !== M)) throw new Error(`convTranspose: bias must be [${M}]`);
  const O = S.map((s, i) => st[i] * (s - 1) + outPad[i] + ((K[i] - 1) * dl[i] + 1) - padBegin[i] - padEnd[i]);
  if (O.some((o) => o < 0)) throw new Error(`convTranspose: negative output size [${O.join(', ')}]`);
  const oStrides = strides(O);
  const oSpatial = numel(O);
  const xSpatial = numel(S);
  const kSize = numel(K);
  const kernelPositions = allIndices(K);
  const inPositions = allIndices(S);
  const out = f64([N, M, ...O]);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / Cg);
      for (let ip = 0; ip < inPositions.length; ip++) {
        const xv = x.data[(n * C + c) * xSpatial + ip];
        const i = inPositions[ip];
        for (let kp = 0; kp < kernelPositions.length; kp++) {
          const k = kernelPositions[kp];
          let oOff = 0;
          let inside = true;
          for (let a = 0; a < nd; a++) {
            const pos = i[a] * st[a] + k[a] * dl[a] - padBegin[a];
            if (pos < 0 || pos >= O[a]) {
              inside = false;
              break;
            }
            oOff += pos * oStrides[a];
          }
          if (!inside) continue;
          for (let m = 0; m < Mg; m++) {
            const oc = g * Mg + m;
            out.data[(n * M + oc) * oSpatial + oOff] += xv * w.data[(c * Mg + m) * kSize + kp];
          }
        }
      }
    }
  }
  if (b) {
    for (let n = 0; n < N; n++) {
      for (let m = 0; m < M; m++) {
        const base = (n * M + m) * oSpatial;
        for (let p = 0; p < oSpatial; p++) out.data[base + p] += b.data[m];
      }
    }
  }
  return out;
}
