/**
 * @internal The float32 exp, log, tanh and sigmoid: scalar twins of the SIMD kernels in
 * `assembly/elementwise.ts`, so that one definition of each value holds everywhere (small tensors, the
 * WebAssembly kernels at any thread count, where WebAssembly is unavailable, and compiled fused loops).
 *
 * Each function runs the same float32 operations in the same order as its SIMD twin, with the same constants
 * and the same special-value handling: every intermediate is rounded with `Math.fround`. An operation on
 * float32 operands computed in float64 and then rounded gives the correctly rounded float32 result (float64
 * carries more than 2·24 + 2 bits, so the double rounding is harmless), which is what one wasm f32x4 lane
 * computes; there is no fused multiply-add on either side. NaN results are NaN, with whatever payload
 * JavaScript gives (the wasm kernels' NaN payloads are not specified either).
 *
 * - exp: Cody and Waite's range reduction x = n·ln2 + r with ln2 in two parts, e^r by its degree-7 Taylor
 *   polynomial, then scaling by 2^n in two halves (denormal results rounded once, overflow to Infinity).
 * - log: fdlibm's logf (as in musl): x = m·2^e with m in [√½, √2), s = f / (2 + f) with f = m - 1, and
 *   log(m) = f - f²/2 + s·(f²/2 + R(s²)) with its degree-4 coefficients for R.
 * - tanh: below |x| = 0.625 an odd polynomial x + x·u·Q(u), u = x²; above, 1 - 2 / (e^(2|x|) + 1).
 * - sigmoid: with t = e^-|x|, 1/(1 + t) for x ≥ 0 and t/(1 + t) for x < 0.
 *
 * Bit-for-bit agreement with the wasm kernels is asserted over a sweep of float32 bit patterns and the
 * special values in `test/tensor/float32-math.test.ts`.
 */

const fround = Math.fround;

// Reinterpreting float32 bits (log's exponent and mantissa split).
const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

const LOG2E = fround(1.44269504);
const LN2_HI = fround(0.693145751953125);
const LN2_LO = fround(1.42860677e-6);
const E2 = fround(1 / 2);
const E3 = fround(1 / 6);
const E4 = fround(1 / 24);
const E5 = fround(1 / 120);
const E6 = fround(1 / 720);
const E7 = fround(1 / 5040);
const E8 = fround(1 / 40320);

/** 2^k for k in [-75, 64] (the halves of exp's scale), at index k + 75; exact powers of two. */
const POW2 = (() => {
  const t = new Float64Array(140);
  t[75] = 1;
  for (let k = 76; k < 140; k++) t[k] = t[k - 1]! * 2;
  for (let k = 74; k >= 0; k--) t[k] = t[k + 1]! / 2;
  return t;
})();

/** 1.5·2^52: adding and subtracting it rounds a float64 below 2^51 in magnitude to an integer, ties to even. */
const ROUND = 6755399441055744;

/**
 * e^x in float32 arithmetic (float32 in, float32 out).
 * @param x A float32 value.
 * @returns The value the wasm kernel computes for e^x.
 */
export function expF32(x: number): number {
  // pmax/pmin: NaN passes through the clamp
  let xc = x < -104 ? -104 : x;
  xc = 89 < xc ? 89 : xc;
  // wasm's `nearest` (ties to even); it may give -0 where this gives +0, which changes no later bit
  const nf = fround(xc * LOG2E) + ROUND - ROUND;
  const r = fround(fround(xc - fround(nf * LN2_HI)) - fround(nf * LN2_LO));
  let p = fround(E7 + fround(r * E8));
  p = fround(E6 + fround(r * p));
  p = fround(E5 + fround(r * p));
  p = fround(E4 + fround(r * p));
  p = fround(E3 + fround(r * p));
  p = fround(E2 + fround(r * p));
  p = fround(r + fround(fround(r * r) * p));
  p = fround(1 + p);
  const n = nf === nf ? nf : 0; // a saturating truncation sends NaN to 0
  const n1 = n >> 1;
  const n2 = n - n1;
  return fround(fround(p * POW2[n1 + 75]!) * POW2[n2 + 75]!);
}

const LG1 = fround(0.66666662693);
const LG2 = fround(0.40000972152);
const LG3 = fround(0.28498786688);
const LG4 = fround(0.24279078841);
const MIN_NORMAL = fround(1.17549435e-38);

/**
 * The natural logarithm in float32 arithmetic.
 * @param x A float32 value.
 * @returns The value the wasm kernel computes for log(x).
 */
export function logF32(x: number): number {
  if (x === 0) return -Infinity;
  if (x < 0) return NaN;
  if (x === Infinity || x !== x) return x;
  // Denormals are scaled into the normal range first (×2^23, exponent corrected by -23).
  const tiny = x < MIN_NORMAL;
  f32[0] = tiny ? x * 8388608 : x;
  const bits = (i32[0]! - 0x3f3504f3) | 0;
  const e = (bits >> 23) - (tiny ? 23 : 0);
  i32[0] = ((bits & 0x007fffff) + 0x3f3504f3) | 0;
  const m = f32[0];
  const f = fround(m - 1);
  const s = fround(f / fround(2 + f));
  const z = fround(s * s);
  let rr = fround(LG3 + fround(z * LG4));
  rr = fround(LG2 + fround(z * rr));
  rr = fround(LG1 + fround(z * rr));
  rr = fround(z * rr);
  const hfsq = fround(0.5 * fround(f * f));
  const t = fround(fround(s * fround(hfsq + rr)) + fround(e * LN2_LO));
  return fround(fround(e * LN2_HI) - fround(fround(hfsq - t) - f));
}

const T0 = fround(-0.3333328068256378);
const T1 = fround(0.13331381976604462);
const T2 = fround(-0.05373531952500343);
const T3 = fround(0.020626291632652283);
const T4 = fround(-0.005691985599696636);

/**
 * The hyperbolic tangent in float32 arithmetic.
 * @param x A float32 value.
 * @returns The value the wasm kernel computes for tanh(x).
 */
export function tanhF32(x: number): number {
  const ax = Math.abs(x);
  const negative = x < 0 || 1 / x === -Infinity;
  let y: number;
  if (ax >= 0.625) {
    const e = expF32(fround(ax + ax));
    y = fround(1 - fround(2 / fround(e + 1)));
  } else {
    // NaN lands here (the comparison is false) and stays NaN
    const u = fround(x * x);
    let q = fround(T3 + fround(u * T4));
    q = fround(T2 + fround(u * q));
    q = fround(T1 + fround(u * q));
    q = fround(T0 + fround(u * q));
    y = Math.abs(fround(x + fround(x * fround(u * q))));
  }
  // tanh is odd: the sign of x is put back (which keeps tanh(-0) = -0)
  return negative ? -y : y;
}

/**
 * The logistic sigmoid 1 / (1 + e^-x) in float32 arithmetic.
 * @param x A float32 value.
 * @returns The value the wasm kernel computes for sigmoid(x).
 */
export function sigmoidF32(x: number): number {
  const t = expF32(-Math.abs(x));
  const d = fround(1 + t);
  return fround((x < 0 ? t : 1) / d);
}
