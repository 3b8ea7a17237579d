/**
 * Float32 arithmetic as PyTorch's CPU kernels perform it, on JS numbers.
 *
 * `Math.fround(a ∘ b)` of two float32 values is the correctly rounded float32 result of ∘ ∈ {+, −, ×, ÷, √}: float64
 * carries more than 2·24 + 2 bits, so rounding twice never differs from rounding once. Storing into a
 * Float32Array rounds the same way. Transcendental functions (`log`, `exp`, `pow`) are rounded from float64 here;
 * torch uses Sleef (≤ 1 ulp) in its vector loops and libm in its scalar tails, so those may differ by one ulp.
 */

/** Rounds to the nearest float32 (ties to even). */
export const f32 = Math.fround;

/**
 * `fma(a, b, c)` rounded once to float32: what a C++ compiler emits for `a * b + c` on float operands when it contracts
 * the expression (GCC's default `-ffp-contract=fast` with FMA enabled). Exact when a and b are float32 and |b| < 2^29
 * is an integer, or both are float32 (the product then fits in float64's 53 bits).
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b; // exact in float64 under the conditions above
  const s = p + c;
  // TwoSum: the exact rounding error of s = p + c.
  const bv = s - p;
  const err = p - (s - bv) + (c - bv);
  const r = Math.fround(s);
  if (err === 0 || r === s) return r;
  // Rounding s instead of s + err differs only when s sits exactly on a float32 midpoint; then the sign of err decides.
  const other = 2 * s - r;
  if (Math.fround(other) !== other || other === r) return r;
  return err > 0 === r > s ? r : other;
}
