// AssemblyScript source of the optimizers' per-parameter kernels used by src/tensor/wasm/optimizer.ts.
// Same thread-pool signature as the other kernels: f(lo, hi, work, ...) handles elements [lo, hi).
//
// Adam's moment updates run in float64 (f64x2) with the operations, constants and order of the TypeScript
// loop in src/optimizers/adam.ts, so they give its bits exactly: float32 values are widened, combined in
// float64 and rounded once when stored, and the step reads the unrounded float64 moments as the loop does.
/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion */

/** Two float32 at p widened to float64. */
function load2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** Stores the two float64 lanes of x at p, rounded to float32. */
function store2(p: usize, x: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(x), 0);
}

/**
 * Elements [lo, hi) of one Adam step over float32 arrays m, v and g (g becomes the direction):
 * `m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g·g;  g ← (a·m + b·g) / (√(v / c2) + ε)`, where m and v are
 * the new moments before rounding. The eight float64 at `params` are β1, 1 − β1, β2, 1 − β2, a, b, c2 and ε
 * (the differences as the TypeScript side computed them; the thread pool passes only int32 arguments).
 */
export function adamF32(
  lo: i32, hi: i32, work: usize,
  m: usize, v: usize, g: usize, params: usize,
): void {
  const beta1 = load<f64>(params), oneMinusBeta1 = load<f64>(params, 8);
  const beta2 = load<f64>(params, 16), oneMinusBeta2 = load<f64>(params, 24);
  const a = load<f64>(params, 32), b = load<f64>(params, 40), c2 = load<f64>(params, 48), epsilon = load<f64>(params, 56);
  const B1 = f64x2.splat(beta1), C1 = f64x2.splat(oneMinusBeta1);
  const B2 = f64x2.splat(beta2), C2 = f64x2.splat(oneMinusBeta2);
  const A = f64x2.splat(a), B = f64x2.splat(b), D = f64x2.splat(c2), E = f64x2.splat(epsilon);
  let i = lo;
  for (; i + 2 <= hi; i += 2) {
    const at = <usize>i << 2;
    const gi = load2(g + at);
    const mi = f64x2.add(f64x2.mul(B1, load2(m + at)), f64x2.mul(C1, gi));
    const vi = f64x2.add(f64x2.mul(B2, load2(v + at)), f64x2.mul(f64x2.mul(C2, gi), gi));
    store2(m + at, mi);
    store2(v + at, vi);
    const mHat = f64x2.add(f64x2.mul(A, mi), f64x2.mul(B, gi));
    store2(g + at, f64x2.div(mHat, f64x2.add(f64x2.sqrt(f64x2.div(vi, D)), E)));
  }
  for (; i < hi; i++) {
    const at = <usize>i << 2;
    const gi = <f64>load<f32>(g + at);
    const mi = beta1 * <f64>load<f32>(m + at) + oneMinusBeta1 * gi;
    const vi = beta2 * <f64>load<f32>(v + at) + oneMinusBeta2 * gi * gi;
    store<f32>(m + at, <f32>mi);
    store<f32>(v + at, <f32>vi);
    store<f32>(g + at, <f32>((a * mi + b * gi) / (Math.sqrt(vi / c2) + epsilon)));
  }
}
