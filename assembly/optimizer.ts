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

/**
 * Elements [lo, hi) of a whole Adam step of one float32 parameter, the learning-rate scaling and θ + u
 * folded in: `adamF32`'s moments and direction d (rounded to float32, as the chain stores it), then
 * `u = f·d` rounded to float32 (f is −α, or a constant scale), then `θ + u` rounded to float32, written over
 * g; with λ ≠ 0, AdamW's decoupled decay `d + λθ` (rounded) comes between. Each rounding is the one the
 * separate TypeScript loops make when they store, so the bits are theirs. The ten float64 at `params` are
 * adamF32's eight, f and λ.
 */
export function adamStepF32(
  lo: i32, hi: i32, work: usize,
  theta: usize, m: usize, v: usize, g: usize, params: usize,
): void {
  const beta1 = load<f64>(params), oneMinusBeta1 = load<f64>(params, 8);
  const beta2 = load<f64>(params, 16), oneMinusBeta2 = load<f64>(params, 24);
  const a = load<f64>(params, 32), b = load<f64>(params, 40), c2 = load<f64>(params, 48), epsilon = load<f64>(params, 56);
  const f = load<f64>(params, 64), lambda = load<f64>(params, 72), decay = lambda != 0;
  const B1 = f64x2.splat(beta1), C1 = f64x2.splat(oneMinusBeta1);
  const B2 = f64x2.splat(beta2), C2 = f64x2.splat(oneMinusBeta2);
  const A = f64x2.splat(a), B = f64x2.splat(b), D = f64x2.splat(c2), E = f64x2.splat(epsilon), F = f64x2.splat(f);
  const L = f64x2.splat(lambda);
  let i = lo;
  for (; i + 2 <= hi; i += 2) {
    const at = <usize>i << 2;
    const gi = load2(g + at);
    const mi = f64x2.add(f64x2.mul(B1, load2(m + at)), f64x2.mul(C1, gi));
    const vi = f64x2.add(f64x2.mul(B2, load2(v + at)), f64x2.mul(f64x2.mul(C2, gi), gi));
    store2(m + at, mi);
    store2(v + at, vi);
    const mHat = f64x2.add(f64x2.mul(A, mi), f64x2.mul(B, gi));
    const th = load2(theta + at);
    let d = round2(f64x2.div(mHat, f64x2.add(f64x2.sqrt(f64x2.div(vi, D)), E)));
    if (decay) d = round2(f64x2.add(d, f64x2.mul(L, th)));
    const u = round2(f64x2.mul(F, d));
    // u first: when both are NaN, x64 keeps the first operand's, and the TypeScript loop (as V8 compiles it)
    // keeps the update's.
    store2(g + at, f64x2.add(u, th));
  }
  for (; i < hi; i++) {
    const at = <usize>i << 2;
    const gi = <f64>load<f32>(g + at);
    const mi = beta1 * <f64>load<f32>(m + at) + oneMinusBeta1 * gi;
    const vi = beta2 * <f64>load<f32>(v + at) + oneMinusBeta2 * gi * gi;
    store<f32>(m + at, <f32>mi);
    store<f32>(v + at, <f32>vi);
    const th = <f64>load<f32>(theta + at);
    let d = <f64><f32>((a * mi + b * gi) / (Math.sqrt(vi / c2) + epsilon));
    if (decay) d = <f64><f32>(d + lambda * th);
    const u = <f64><f32>(f * d);
    store<f32>(g + at, <f32>(u + th));
  }
}

/** The two float64 lanes of x rounded to float32 and widened back (a store and a load of float32). */
function round2(x: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(x));
}

/**
 * The index of the first NaN or ±Infinity among the n float32 at p, or -1: four at a time, a value being
 * non-finite exactly when its exponent bits are all ones.
 */
export function firstNonFiniteF32(p: usize, n: i32): i32 {
  const E = i32x4.splat(0x7f800000);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const at = p + (<usize>i << 2);
    const a = i32x4.eq(v128.and(v128.load(at), E), E);
    const b = i32x4.eq(v128.and(v128.load(at, 16), E), E);
    const c = i32x4.eq(v128.and(v128.load(at, 32), E), E);
    const d = i32x4.eq(v128.and(v128.load(at, 48), E), E);
    if (v128.any_true(v128.or(v128.or(a, b), v128.or(c, d)))) break;
  }
  for (; i < n; i++) if ((load<i32>(p + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return i;
  return -1;
}

/**
 * Elements [lo, hi) of a momentum step of one float32 parameter (`trace`, then the tail and θ + u):
 * `v ← μ·v + g` (stored rounded), the direction `v` (rounded) or, with Nesterov, `g + μ·v` from the unrounded
 * v (rounded), then `u = f·d` rounded and `θ + u` rounded, written over g. The three float64 at `params` are
 * μ, the Nesterov flag (0 or 1) and f.
 */
export function momentumStepF32(
  lo: i32, hi: i32, work: usize,
  theta: usize, v: usize, g: usize, params: usize,
): void {
  const mu = load<f64>(params), nesterov = load<f64>(params, 8) != 0, f = load<f64>(params, 16);
  const M = f64x2.splat(mu), F = f64x2.splat(f);
  let i = lo;
  for (; i + 2 <= hi; i += 2) {
    const at = <usize>i << 2;
    const gi = load2(g + at);
    const vi = f64x2.add(f64x2.mul(M, load2(v + at)), gi);
    store2(v + at, vi);
    const d = round2(nesterov ? f64x2.add(gi, f64x2.mul(M, vi)) : vi);
    store2(g + at, f64x2.add(round2(f64x2.mul(F, d)), load2(theta + at)));
  }
  for (; i < hi; i++) {
    const at = <usize>i << 2;
    const gi = <f64>load<f32>(g + at);
    const vi = mu * <f64>load<f32>(v + at) + gi;
    store<f32>(v + at, <f32>vi);
    const d = <f64><f32>(nesterov ? gi + mu * vi : vi);
    store<f32>(g + at, <f32>(<f64><f32>(f * d) + <f64>load<f32>(theta + at)));
  }
}

/** Elements [lo, hi) of `θ + f·g` over float32 (plain gradient descent): f·g rounded, then the sum rounded, over g. */
export function scaledAddF32(
  lo: i32, hi: i32, work: usize,
  theta: usize, g: usize, params: usize,
): void {
  const f = load<f64>(params);
  const F = f64x2.splat(f);
  let i = lo;
  for (; i + 2 <= hi; i += 2) {
    const at = <usize>i << 2;
    store2(g + at, f64x2.add(round2(f64x2.mul(F, load2(g + at))), load2(theta + at)));
  }
  for (; i < hi; i++) {
    const at = <usize>i << 2;
    store<f32>(g + at, <f32>(<f64><f32>(f * <f64>load<f32>(g + at)) + <f64>load<f32>(theta + at)));
  }
}
