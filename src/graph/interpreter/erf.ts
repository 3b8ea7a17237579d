/**
 * The error function in float64, after W. J. Cody, "Rational Chebyshev approximations for the error function",
 * Math. Comp. 23 (1969), as in his CALERF routine (netlib specfun). Three rational approximations: erf on
 * |x| <= 0.46875, erfc on 0.46875 < |x| <= 4, and an asymptotic form of erfc beyond 4. exp(-x²) is evaluated as
 * exp(-y²)·exp(-(x-y)(x+y)) with y = x rounded down to 1/16 so that the large argument loses no digits. Absolute
 * error of erf is a few ulp (well below 1e-15); erfc keeps its relative accuracy far into the tail.
 */

// Cody's coefficients, written as the shortest decimals that round to the same float64 values as his 18-digit tables.
const THRESH = 0.46875;
const XSMALL = 1.11e-16;
const XBIG = 26.543;
const SQRPI = 0.5641895835477563; // 1/sqrt(pi)

const A = [3.1611237438705655, 113.86415415105016, 377.485237685302, 3209.3775891384694, 0.18577770618460315];
const B = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171];
const C = [
  0.5641884969886701, 8.883149794388375, 66.11919063714163, 298.6351381974001, 881.952221241769, 1712.0476126340707,
  2051.0783778260716, 1230.3393547979972, 2.1531153547440383e-8,
];
const D = [
  15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334597, 4362.619090143247,
  3439.3676741437216, 1230.3393548037495,
];
const P = [
  0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275, 0.0006587491615298367,
  0.016315387137302097,
];
const Q = [2.5685201922898684, 1.8729528499234604, 0.5279051029514283, 0.06051834131244132, 0.0023352049762686918];

/** exp(-y²) for y >= 0 without the cancellation of squaring a large y directly. */
function expNegSquare(y: number): number {
  const ysq = Math.trunc(y * 16) / 16;
  const del = (y - ysq) * (y + ysq);
  return Math.exp(-ysq * ysq) * Math.exp(-del);
}

/** erfc(y) for y > THRESH (Cody's second and third ranges). */
function erfcPositive(y: number): number {
  if (y <= 4) {
    let xnum = C[8] * y;
    let xden = y;
    for (let i = 0; i < 7; i++) {
      xnum = (xnum + C[i]) * y;
      xden = (xden + D[i]) * y;
    }
    return (expNegSquare(y) * (xnum + C[7])) / (xden + D[7]);
  }
  if (y >= XBIG) return 0;
  const ysq = 1 / (y * y);
  let xnum = P[5] * ysq;
  let xden = ysq;
  for (let i = 0; i < 4; i++) {
    xnum = (xnum + P[i]) * ysq;
    xden = (xden + Q[i]) * ysq;
  }
  const r = (ysq * (xnum + P[4])) / (xden + Q[4]);
  return (expNegSquare(y) * (SQRPI - r)) / y;
}

/** erf on |x| <= THRESH. */
function erfSmall(x: number): number {
  const y = Math.abs(x);
  const ysq = y > XSMALL ? y * y : 0;
  let xnum = A[4] * ysq;
  let xden = ysq;
  for (let i = 0; i < 3; i++) {
    xnum = (xnum + A[i]) * ysq;
    xden = (xden + B[i]) * ysq;
  }
  return (x * (xnum + A[3])) / (xden + B[3]);
}

/** The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt (ONNX Erf). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const y = Math.abs(x);
  if (y <= THRESH) return erfSmall(x);
  const r = 0.5 - erfcPositive(y) + 0.5;
  return x < 0 ? -r : r;
}

/** The complementary error function erfc(x) = 1 − erf(x), accurate in relative terms for large positive x. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const y = Math.abs(x);
  if (y <= THRESH) return 0.5 - erfSmall(x) + 0.5;
  const r = erfcPositive(y);
  return x < 0 ? 2 - r : r;
}
