// AssemblyScript source of the float32 elementwise and reduction kernels used by src/tensor/wasm/elementwise.ts.
// Every export has the thread pool's signature f(lo, hi, work, ...): it handles items [lo, hi) (elements or
// rows) of one call and writes only their outputs, so any split gives the same bits.
//
// exp, log, tanh and sigmoid are SIMD polynomial approximations in float32 arithmetic, with every special
// case (±0, denormals, ±Infinity, NaN) handled by lane masks instead of branches. Their largest errors,
// measured over every 61st float32 bit pattern plus the special values, are stated in
// test/tensor/wasm-elementwise.test.ts, which asserts them.
/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion */

// ---- binary ops: opcode order matches BINARY_OPS in src/tensor/wasm/elementwise.ts ----
const ADD: i32 = 0;
const SUB: i32 = 1;
const MUL: i32 = 2;
const DIV: i32 = 3;
const MAXIMUM: i32 = 4;
const MINIMUM: i32 = 5;
const EQUAL: i32 = 6;
const NOT_EQUAL: i32 = 7;
const LESS: i32 = 8;
const LESS_EQUAL: i32 = 9;
const GREATER: i32 = 10;
const GREATER_EQUAL: i32 = 11;

function binary4(op: i32, x: v128, y: v128): v128 {
  switch (op) {
    case ADD: return f32x4.add(x, y);
    case SUB: return f32x4.sub(x, y);
    case MUL: return f32x4.mul(x, y);
    case DIV: return f32x4.div(x, y);
    // x when x >= y or x is NaN, else y: NaN propagates and the first operand wins ties (as the TS kernel)
    case MAXIMUM: return v128.bitselect(x, y, v128.or(f32x4.ge(x, y), f32x4.ne(x, x)));
    case MINIMUM: return v128.bitselect(x, y, v128.or(f32x4.le(x, y), f32x4.ne(x, x)));
    // comparisons write int32 1 or 0
    case EQUAL: return v128.and(f32x4.eq(x, y), i32x4.splat(1));
    case NOT_EQUAL: return v128.and(f32x4.ne(x, y), i32x4.splat(1));
    case LESS: return v128.and(f32x4.lt(x, y), i32x4.splat(1));
    case LESS_EQUAL: return v128.and(f32x4.le(x, y), i32x4.splat(1));
    case GREATER: return v128.and(f32x4.gt(x, y), i32x4.splat(1));
    case GREATER_EQUAL: return v128.and(f32x4.ge(x, y), i32x4.splat(1));
    default: return f32x4.splat(NaN);
  }
}

/** One lane of binary4, for row tails. */
function binary1(op: i32, x: f32, y: f32, o: usize): void {
  const r = binary4(op, f32x4.splat(x), f32x4.splat(y));
  v128.store32_lane(o, r, 0);
}

/**
 * Rows [lo, hi) of a broadcasting binary op: row r of the output (elements [r·len, min(r·len + len, total))
 * at o) combines a[r·aRow + i·aStep] and b[r·bRow + i·bStep], where aStep and bStep are 1 (contiguous) or
 * 0 (broadcast).
 */
export function binaryRows(
  lo: i32, hi: i32, work: usize,
  op: i32,
  a: usize, aRow: i32, aStep: i32,
  b: usize, bRow: i32, bStep: i32,
  o: usize, rowLen: i32, total: i32,
): void {
  for (let r = lo; r < hi; r++) {
    let pa = a + (<usize>(r * aRow) << 2);
    let pb = b + (<usize>(r * bRow) << 2);
    let po = o + (<usize>(r * rowLen) << 2);
    const len = min(rowLen, total - r * rowLen);
    let i = 0;
    if (aStep == 1 && bStep == 1) {
      for (; i + 4 <= len; i += 4) {
        v128.store(po, inline.always(binary4(op, v128.load(pa), v128.load(pb))));
        pa += 16; pb += 16; po += 16;
      }
      for (; i < len; i++) { binary1(op, load<f32>(pa), load<f32>(pb), po); pa += 4; pb += 4; po += 4; }
    } else if (aStep == 1) {
      const y = v128.load32_splat(pb);
      for (; i + 4 <= len; i += 4) {
        v128.store(po, inline.always(binary4(op, v128.load(pa), y)));
        pa += 16; po += 16;
      }
      for (; i < len; i++) { binary1(op, load<f32>(pa), load<f32>(pb), po); pa += 4; po += 4; }
    } else if (bStep == 1) {
      const x = v128.load32_splat(pa);
      for (; i + 4 <= len; i += 4) {
        v128.store(po, inline.always(binary4(op, x, v128.load(pb))));
        pb += 16; po += 16;
      }
      for (; i < len; i++) { binary1(op, load<f32>(pa), load<f32>(pb), po); pb += 4; po += 4; }
    } else {
      const v = binary4(op, v128.load32_splat(pa), v128.load32_splat(pb));
      for (; i + 4 <= len; i += 4) { v128.store(po, v); po += 16; }
      for (; i < len; i++) { v128.store32_lane(po, v, 0); po += 4; }
    }
  }
}

/** Elements [lo, hi) of `where`: o[i] = c[i] != 0 ? a[i] : b[i] (all contiguous, c int32). */
export function whereF32(lo: i32, hi: i32, work: usize, c: usize, a: usize, b: usize, o: usize): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const at = <usize>i << 2;
    const keep = i32x4.ne(v128.load(c + at), i32x4.splat(0));
    v128.store(o + at, v128.bitselect(v128.load(a + at), v128.load(b + at), keep));
  }
  for (; i < hi; i++) {
    const at = <usize>i << 2;
    store<f32>(o + at, load<i32>(c + at) != 0 ? load<f32>(a + at) : load<f32>(b + at));
  }
}

// ---- unary ops: opcode order matches UNARY_OPS in src/tensor/wasm/elementwise.ts ----
const EXP: i32 = 0;
const LOG: i32 = 1;
const TANH: i32 = 2;
const SIGMOID: i32 = 3;
const NEG: i32 = 4;
const ABS: i32 = 5;
const SQRT: i32 = 6;
const RELU: i32 = 7;
const STEP: i32 = 8;

// exp: x = n·ln2 + r with |r| ≤ ln2/2 (Cody and Waite's two-part ln2, the high part exact for |n| ≤ 255),
// e^r by its degree-7 Taylor polynomial (truncation below 4e-9 relative), then scaled by 2^n in two
// halves so that results in the denormal range are rounded once and overflow gives Infinity.
const LOG2E: f32 = 1.44269504;
const LN2_HI: f32 = 0.693145751953125;
const LN2_LO: f32 = 1.42860677e-6;

function exp4(x: v128): v128 {
  // Beyond these, e^x is 0 or Infinity in float32; clamping keeps n small. pmax/pmin (one instruction each,
  // unlike the IEEE min/max) return their first operand when a comparison fails, so NaN passes through.
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-104)), f32x4.splat(89));
  const nf = f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(nf, f32x4.splat(LN2_HI))), f32x4.mul(nf, f32x4.splat(LN2_LO)));
  let p = f32x4.add(f32x4.splat(1.0 / 5040.0), f32x4.mul(r, f32x4.splat(1.0 / 40320.0)));
  p = f32x4.add(f32x4.splat(1.0 / 720.0), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(1.0 / 120.0), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(1.0 / 24.0), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(1.0 / 6.0), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(0.5), f32x4.mul(r, p));
  p = f32x4.add(r, f32x4.mul(f32x4.mul(r, r), p));
  p = f32x4.add(f32x4.splat(1), p);
  const n = i32x4.trunc_sat_f32x4_s(nf);
  const n1 = i32x4.shr_s(n, 1);
  const n2 = i32x4.sub(n, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

// log: x = m·2^e with m in [√½, √2), f = m - 1, s = f / (2 + f), and
// log(m) = f - f²/2 + s·(f²/2 + R(s²)) with fdlibm's (musl's) logf coefficients for R.
const LG1: f32 = 0.66666662693;
const LG2: f32 = 0.40000972152;
const LG3: f32 = 0.28498786688;
const LG4: f32 = 0.24279078841;

function log4(x: v128): v128 {
  // Denormals are scaled into the normal range first (×2^23, exponent corrected by -23).
  const tiny = f32x4.lt(x, f32x4.splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(8388608)), x, tiny);
  const bits = i32x4.sub(xs, i32x4.splat(0x3f3504f3));
  const e = i32x4.sub(i32x4.shr_s(bits, 23), v128.and(tiny, i32x4.splat(23)));
  const m = i32x4.add(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f3504f3));
  const f = f32x4.sub(m, f32x4.splat(1));
  const s = f32x4.div(f, f32x4.add(f32x4.splat(2), f));
  const z = f32x4.mul(s, s);
  let rr = f32x4.add(f32x4.splat(LG3), f32x4.mul(z, f32x4.splat(LG4)));
  rr = f32x4.add(f32x4.splat(LG2), f32x4.mul(z, rr));
  rr = f32x4.add(f32x4.splat(LG1), f32x4.mul(z, rr));
  rr = f32x4.mul(z, rr);
  const hfsq = f32x4.mul(f32x4.splat(0.5), f32x4.mul(f, f));
  const ef = f32x4.convert_i32x4_s(e);
  // log = e·ln2_hi - ((hfsq - (s·(hfsq + R) + e·ln2_lo)) - f)
  const t = f32x4.add(f32x4.mul(s, f32x4.add(hfsq, rr)), f32x4.mul(ef, f32x4.splat(LN2_LO)));
  let y = f32x4.sub(f32x4.mul(ef, f32x4.splat(LN2_HI)), f32x4.sub(f32x4.sub(hfsq, t), f));
  // Special cases: log(±0) = -Infinity, log(x < 0) = NaN, log(+Infinity) = +Infinity, NaN stays NaN.
  y = v128.bitselect(f32x4.splat(-Infinity), y, f32x4.eq(x, f32x4.splat(0)));
  y = v128.bitselect(f32x4.splat(NaN), y, f32x4.lt(x, f32x4.splat(0)));
  y = v128.bitselect(x, y, v128.or(f32x4.eq(x, f32x4.splat(Infinity)), f32x4.ne(x, x)));
  return y;
}

// tanh: below |x| = 0.625, x + x·u·Q(u) with u = x² and Q a degree-4 least-squares fit of
// (tanh(x)/x - 1)/u on Chebyshev nodes (relative error 4.7e-9 in exact arithmetic); above, the identity
// tanh|x| = 1 - 2 / (e^(2|x|) + 1), with the sign put back.
const T0: f32 = -0.3333328068256378;
const T1: f32 = 0.13331381976604462;
const T2: f32 = -0.05373531952500343;
const T3: f32 = 0.020626291632652283;
const T4: f32 = -0.005691985599696636;

function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const u = f32x4.mul(x, x);
  let q = f32x4.add(f32x4.splat(T3), f32x4.mul(u, f32x4.splat(T4)));
  q = f32x4.add(f32x4.splat(T2), f32x4.mul(u, q));
  q = f32x4.add(f32x4.splat(T1), f32x4.mul(u, q));
  q = f32x4.add(f32x4.splat(T0), f32x4.mul(u, q));
  // tanh is odd: the sign of x is put on both branches (which also keeps tanh(-0) = -0)
  const sign = v128.and(x, i32x4.splat(0x80000000));
  const small = v128.or(f32x4.abs(f32x4.add(x, f32x4.mul(x, f32x4.mul(u, q)))), sign);
  const e = inline.always(exp4(f32x4.add(ax, ax)));
  let big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  big = v128.or(big, sign);
  // NaN takes the polynomial branch (the comparison is false) and stays NaN there.
  return v128.bitselect(big, small, f32x4.ge(ax, f32x4.splat(0.625)));
}

// sigmoid: with t = e^-|x|, 1/(1 + t) for x ≥ 0 and t/(1 + t) for x < 0 (no cancellation on either side).
function sigmoid4(x: v128): v128 {
  const t = inline.always(exp4(f32x4.neg(f32x4.abs(x))));
  const d = f32x4.add(f32x4.splat(1), t);
  const neg = f32x4.lt(x, f32x4.splat(0));
  return f32x4.div(v128.bitselect(t, f32x4.splat(1), neg), d);
}

function unary4(op: i32, x: v128): v128 {
  switch (op) {
    case EXP: return inline.always(exp4(x));
    case LOG: return inline.always(log4(x));
    case TANH: return inline.always(tanh4(x));
    case SIGMOID: return inline.always(sigmoid4(x));
    case NEG: return f32x4.neg(x);
    case ABS: return f32x4.abs(x);
    case SQRT: return f32x4.sqrt(x);
    // x where x > 0 or NaN, else +0 (relu(-0) = +0, like the TS kernel)
    case RELU: return v128.and(x, v128.or(f32x4.gt(x, f32x4.splat(0)), f32x4.ne(x, x)));
    case STEP: return v128.and(f32x4.gt(x, f32x4.splat(0)), f32x4.splat(1));
    default: return f32x4.splat(NaN);
  }
}

/** Elements [lo, hi) of a unary op: o[i] = op(x[i]). */
export function unaryF32(lo: i32, hi: i32, work: usize, op: i32, x: usize, o: usize): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const at = <usize>i << 2;
    v128.store(o + at, inline.always(unary4(op, v128.load(x + at))));
  }
  for (; i < hi; i++) {
    const at = <usize>i << 2;
    v128.store32_lane(o + at, unary4(op, v128.load32_splat(x + at)), 0);
  }
}

// ---- reductions: opcode order matches REDUCE_OPS in src/tensor/wasm/elementwise.ts ----
const SUM: i32 = 0;
const MAX: i32 = 1;
/** Any other opcode (MIN = 2) reduces by the minimum. */
const _MIN: i32 = 2;

/**
 * Rows [lo, hi) of a reduction: out[r] (float64) reduces x[r·len .. min(r·len + len, total)). Sums run in
 * float64 over four fixed lanes combined in a fixed order, so a row's result depends only on its values.
 */
export function reduceRows(lo: i32, hi: i32, work: usize, op: i32, x: usize, len: i32, total: i32, out: usize): void {
  for (let r = lo; r < hi; r++) {
    const start = r * len;
    const end = min(start + len, total);
    let p = x + (<usize>start << 2);
    let i = start;
    if (op == SUM) {
      let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
      for (; i + 4 <= end; i += 4) {
        const v = v128.load(p);
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
        p += 16;
      }
      let s = (f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s1, 0)) + (f64x2.extract_lane(s0, 1) + f64x2.extract_lane(s1, 1));
      for (; i < end; i++) { s += <f64>load<f32>(p); p += 4; }
      store<f64>(out + (<usize>r << 3), s);
    } else {
      const isMax = op == MAX;
      let m = f32x4.splat(isMax ? -Infinity : Infinity);
      for (; i + 4 <= end; i += 4) {
        const v = v128.load(p);
        // v where it beats the running value or is NaN (NaN then sticks: no comparison beats it)
        const take = v128.or(isMax ? f32x4.gt(v, m) : f32x4.lt(v, m), f32x4.ne(v, v));
        m = v128.bitselect(v, m, v128.andnot(take, f32x4.ne(m, m)));
        p += 16;
      }
      let s = f32x4.extract_lane(m, 0);
      for (let l = 1; l < 4; l++) {
        const t = l == 1 ? f32x4.extract_lane(m, 1) : l == 2 ? f32x4.extract_lane(m, 2) : f32x4.extract_lane(m, 3);
        if (s == s && ((isMax ? t > s : t < s) || t != t)) s = t;
      }
      for (; i < end; i++) {
        const t = load<f32>(p);
        if (s == s && ((isMax ? t > s : t < s) || t != t)) s = t;
        p += 4;
      }
      store<f64>(out + (<usize>r << 3), <f64>s);
    }
  }
}

/**
 * Columns [lo, hi) of a reduction over the rows of a rows × cols matrix: out[j] (float64) reduces
 * x[i·cols + j] for i = 0, 1, … in order, exactly as the TypeScript kernel does.
 */
export function reduceColumns(lo: i32, hi: i32, work: usize, op: i32, x: usize, rows: i32, cols: i32, out: usize): void {
  const rowBytes = <usize>cols << 2;
  let j = lo;
  if (op == SUM) {
    for (; j + 2 <= hi; j += 2) {
      let s = f64x2.splat(0);
      let p = x + (<usize>j << 2);
      for (let i = 0; i < rows; i++) { s = f64x2.add(s, f64x2.promote_low_f32x4(v128.load64_zero(p))); p += rowBytes; }
      v128.store(out + (<usize>j << 3), s);
    }
    for (; j < hi; j++) {
      let s: f64 = 0;
      let p = x + (<usize>j << 2);
      for (let i = 0; i < rows; i++) { s += <f64>load<f32>(p); p += rowBytes; }
      store<f64>(out + (<usize>j << 3), s);
    }
    return;
  }
  const isMax = op == MAX;
  for (; j < hi; j++) {
    let s: f32 = isMax ? -Infinity : Infinity;
    let p = x + (<usize>j << 2);
    for (let i = 0; i < rows; i++) {
      const t = load<f32>(p);
      if (s == s && ((isMax ? t > s : t < s) || t != t)) s = t;
      p += rowBytes;
    }
    store<f64>(out + (<usize>j << 3), <f64>s);
  }
}

// ---- arg-reductions: the index of the maximum (isMax != 0) or minimum, first on ties; the first NaN wins ----

/** Rows [lo, hi) of length len (≥ 4): out[r] (int32) is the arg-reduction of x[r·len .. r·len + len). */
export function argRows(lo: i32, hi: i32, work: usize, isMax: i32, x: usize, len: i32, out: usize): void {
  for (let r = lo; r < hi; r++) {
    let p = x + (<usize>(r * len) << 2);
    // Lane l sees the elements i ≡ l (mod 4) in order and keeps its first NaN, else its first extreme.
    let best = v128.load(p);
    let idx = i32x4(0, 1, 2, 3);
    let at = i32x4(4, 5, 6, 7);
    let i = 4;
    p += 16;
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(p);
      const beats = isMax ? f32x4.gt(v, best) : f32x4.lt(v, best);
      const take = v128.and(v128.or(beats, f32x4.ne(v, v)), f32x4.eq(best, best));
      best = v128.bitselect(v, best, take);
      idx = v128.bitselect(at, idx, take);
      at = i32x4.add(at, i32x4.splat(4));
      p += 16;
    }
    // Lanes in index order of their candidates: a NaN beats a number, then the extreme, then the lower index.
    let b = f32x4.extract_lane(best, 0);
    let k = i32x4.extract_lane(idx, 0);
    for (let l = 1; l < 4; l++) {
      const t = l == 1 ? f32x4.extract_lane(best, 1) : l == 2 ? f32x4.extract_lane(best, 2) : f32x4.extract_lane(best, 3);
      const j = l == 1 ? i32x4.extract_lane(idx, 1) : l == 2 ? i32x4.extract_lane(idx, 2) : i32x4.extract_lane(idx, 3);
      const tNaN = t != t, bNaN = b != b;
      let better: bool;
      if (tNaN || bNaN) better = tNaN && (!bNaN || j < k);
      else better = (isMax ? t > b : t < b) || (t == b && j < k);
      if (better) { b = t; k = j; }
    }
    for (; i < len; i++) {
      const t = load<f32>(p);
      if (b == b && ((isMax ? t > b : t < b) || t != t)) { b = t; k = i; }
      p += 4;
    }
    store<i32>(out + (<usize>r << 2), k);
  }
}

/**
 * Columns [lo, hi) of a rows × cols block: out[j] (int32) is the arg-reduction of x[i·cols + j] over the
 * rows i = 0, 1, … in order (four columns at a time).
 */
export function argColumns(lo: i32, hi: i32, work: usize, isMax: i32, x: usize, rows: i32, cols: i32, out: usize): void {
  const rowBytes = <usize>cols << 2;
  let j = lo;
  for (; j + 4 <= hi; j += 4) {
    let p = x + (<usize>j << 2);
    let best = v128.load(p);
    let idx = i32x4.splat(0);
    for (let i = 1; i < rows; i++) {
      p += rowBytes;
      const v = v128.load(p);
      const beats = isMax ? f32x4.gt(v, best) : f32x4.lt(v, best);
      const take = v128.and(v128.or(beats, f32x4.ne(v, v)), f32x4.eq(best, best));
      best = v128.bitselect(v, best, take);
      idx = v128.bitselect(i32x4.splat(i), idx, take);
    }
    v128.store(out + (<usize>j << 2), idx);
  }
  for (; j < hi; j++) {
    let p = x + (<usize>j << 2);
    let b = load<f32>(p);
    let k = 0;
    for (let i = 1; i < rows; i++) {
      p += rowBytes;
      const t = load<f32>(p);
      if (b == b && ((isMax ? t > b : t < b) || t != t)) { b = t; k = i; }
    }
    store<i32>(out + (<usize>j << 2), k);
  }
}

// ---- pooling ----

/**
 * Output rows [lo, hi) (row q = image q / oh, output row q % oh) of a 2×2, stride-2 max pooling over NHWC
 * float32 x (c a multiple of 4): out[...] (int32) is the flat input index of each window's maximum, the
 * first of the four cells (row-major) on ties and the first NaN winning, four channels at a time.
 */
export function maxPool2x2Argmax(lo: i32, hi: i32, work: usize, x: usize, h: i32, w: i32, c: i32, oh: i32, ow: i32, out: usize): void {
  const wc = w * c;
  for (let q = lo; q < hi; q++) {
    const b = q / oh;
    const oy = q - b * oh;
    const rowStart = (b * h + 2 * oy) * wc;
    let o = q * ow * c;
    for (let ox = 0; ox < ow; ox++) {
      const p = rowStart + 2 * ox * c;
      for (let ch = 0; ch < c; ch += 4) {
        const i0 = p + ch;
        let best = v128.load(x + (<usize>i0 << 2));
        let idx = i32x4.add(i32x4.splat(i0), i32x4(0, 1, 2, 3));
        // cells 1, 2, 3 in order: taken when strictly larger, or NaN over a number
        for (let cell = 1; cell < 4; cell++) {
          const off = cell == 1 ? c : cell == 2 ? wc : wc + c;
          const v = v128.load(x + (<usize>(i0 + off) << 2));
          const take = v128.and(v128.or(f32x4.gt(v, best), f32x4.ne(v, v)), f32x4.eq(best, best));
          best = v128.bitselect(v, best, take);
          idx = v128.bitselect(i32x4.add(i32x4.splat(i0 + off), i32x4(0, 1, 2, 3)), idx, take);
        }
        v128.store(out + (<usize>(o + ch) << 2), idx);
      }
      o += c;
    }
  }
}
