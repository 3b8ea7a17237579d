/**
 * The Fréchet distance between Gaussian fits of feature sets — FVD's (Unterthiner et al. 2018) and FID's statistic:
 *   d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½),
 * in float64, with tr((Σ₁Σ₂)^½) = tr((Σ₁^½ Σ₂ Σ₁^½)^½) computed from symmetric eigendecompositions (cyclic Jacobi),
 * negative round-off eigenvalues clipped to 0 — stable where the usual `scipy.linalg.sqrtm(Σ₁Σ₂)` of a non-symmetric
 * product needs its imaginary part dropped. Feature statistics accumulate in a stream (count, Σx, Σxxᵀ), so the
 * features of many videos never sit in memory; the covariance is the unbiased one (`numpy.cov`'s default).
 */

/** Streaming mean and covariance of d-dimensional features. */
export class FeatureStats {
  count = 0;
  readonly sum: Float64Array;
  /** Σ x xᵀ, row-major d × d. */
  readonly outer: Float64Array;

  constructor(readonly dim: number) {
    this.sum = new Float64Array(dim);
    this.outer = new Float64Array(dim * dim);
  }

  add(x: ArrayLike<number>): void {
    const d = this.dim;
    if (x.length !== d) throw new RangeError(`feature of length ${x.length}, expected ${d}`);
    this.count++;
    for (let i = 0; i < d; i++) {
      const xi = x[i];
      this.sum[i] += xi;
      const row = i * d;
      for (let j = 0; j < d; j++) this.outer[row + j] += xi * x[j];
    }
  }

  mean(): Float64Array {
    return this.sum.map((s) => s / this.count);
  }

  /** Unbiased covariance (divides by n − 1). */
  covariance(): Float64Array {
    if (this.count < 2) throw new RangeError('a covariance needs at least 2 features');
    const d = this.dim;
    const m = this.mean();
    const out = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++)
        out[i * d + j] = (this.outer[i * d + j] - this.count * m[i] * m[j]) / (this.count - 1);
    return out;
  }
}

/** Eigenvalues and eigenvectors (columns of `vectors`, row-major) of a symmetric d × d matrix, by cyclic Jacobi. */
export function symmetricEigen(a: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < d; i++) {
      diag += m[i * d + i] ** 2;
      for (let j = i + 1; j < d; j++) off += m[i * d + j] ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < d; p++)
      for (let q = p + 1; q < d; q++) {
        const apq = m[p * d + q];
        if (apq === 0) continue;
        const theta = (m[q * d + q] - m[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const mkp = m[k * d + p];
          const mkq = m[k * d + q];
          m[k * d + p] = c * mkp - s * mkq;
          m[k * d + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < d; k++) {
          const mpk = m[p * d + k];
          const mqk = m[q * d + k];
          m[p * d + k] = c * mpk - s * mqk;
          m[q * d + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = m[i * d + i];
  return { values, vectors: v };
}

/** The PSD square root of a symmetric matrix (negative eigenvalues clipped to 0). */
export function sqrtSymmetric(a: Float64Array, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const s = Math.sqrt(Math.max(0, values[k]));
    if (s === 0) continue;
    for (let i = 0; i < d; i++) {
      const vik = vectors[i * d + k] * s;
      for (let j = 0; j < d; j++) out[i * d + j] += vik * vectors[j * d + k];
    }
  }
  return out;
}

function matmul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k];
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] += aik * b[k * d + j];
    }
  return out;
}

/** d² between N(μ₁, Σ₁) and N(μ₂, Σ₂) (see the module comment). */
export function frechetDistance(
  mu1: Float64Array,
  sigma1: Float64Array,
  mu2: Float64Array,
  sigma2: Float64Array,
): number {
  const d = mu1.length;
  if (mu2.length !== d || sigma1.length !== d * d || sigma2.length !== d * d)
    throw new RangeError('frechetDistance: means and covariances of different dimensions');
  let dm = 0;
  for (let i = 0; i < d; i++) dm += (mu1[i] - mu2[i]) ** 2;
  const s1h = sqrtSymmetric(sigma1, d);
  const inner = matmul(matmul(s1h, sigma2, d), s1h, d);
  for (let i = 0; i < d; i++)
    for (let j = i + 1; j < d; j++) {
      const avg = (inner[i * d + j] + inner[j * d + i]) / 2; // symmetric up to round-off
      inner[i * d + j] = avg;
      inner[j * d + i] = avg;
    }
  const { values } = symmetricEigen(inner, d);
  let trSqrt = 0;
  for (const v of values) trSqrt += Math.sqrt(Math.max(0, v));
  let tr = 0;
  for (let i = 0; i < d; i++) tr += sigma1[i * d + i] + sigma2[i * d + i];
  return dm + tr - 2 * trSqrt;
}

/** d² between two streams of features. */
export function frechetDistanceOf(a: FeatureStats, b: FeatureStats): number {
  return frechetDistance(a.mean(), a.covariance(), b.mean(), b.covariance());
}
