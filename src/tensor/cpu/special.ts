/**
 * @internal CPU kernels of the ops added after the first elementwise family: rounding, the error function,
 * predicates, logical connectives, floored modulo, `atan2`, wrapping int32 products, checked int32 casts,
 * cumulative sums and products along an axis and stable sorting along an axis.
 *
 * They are kept apart from `elementwise.ts` (whose loops are tuned per op) because none of them is on a
 * training loop's hot path; each is a plain loop, written for clarity first.
 */
import type { TypedArray } from "../dtype.js";
import { broadcastStrides } from "./elementwise.js";

/** @internal Elementwise kernels of one operand. Predicates and `logicalNot` write 0/1. */
export type MathUnaryKernel =
  | "softplus" | "floor" | "ceil" | "round" | "erf" | "isFinite" | "isNaN" | "logicalNot";

/** @internal Elementwise kernels of two broadcast operands. The logical ones write 0/1. */
export type MathBinaryKernel = "mod" | "atan2" | "imul" | "logicalAnd" | "logicalOr";

/** @internal The kernels of this family. */
export interface SpecialKernels {
  mathUnary(op: MathUnaryKernel, x: TypedArray, out: TypedArray): void;
  mathBinary(op: MathBinaryKernel, a: TypedArray, aShape: readonly number[], b: TypedArray, bShape: readonly number[], out: TypedArray, outShape: readonly number[]): void;
  /**
   * Float to int32 truncating toward zero. Returns the flat index of the first value that is NaN, infinite
   * or outside the int32 range after truncation (writing nothing meaningful), or -1 when all convert.
   */
  castToInt32(x: TypedArray, out: Int32Array): number;
  /**
   * Cumulative sum or product along `axis` of `x` (shape `shape`): `exclusive` starts from the identity
   * (the element itself is left out), `reverse` runs from the end of the axis. Accumulates in float64
   * (int32 products wrap exactly, like int32 `mul`).
   */
  cumulative(op: "sum" | "prod", x: TypedArray, shape: readonly number[], axis: number, exclusive: boolean, reverse: boolean, out: TypedArray): void;
  /**
   * For every line along `axis`, the positions of its elements in sorted order (a stable sort: equal
   * elements keep their order). Ascending puts NaN last; descending puts NaN first (the reverse order).
   */
  argsort(x: TypedArray, shape: readonly number[], axis: number, descending: boolean, out: Int32Array): void;
  /**
   * For each of `rows` consecutive lines of length `n`, the positions of the `k` largest elements, largest
   * first, the lower position first among equals, NaN counted as the largest: the first `k` entries of a
   * stable descending argsort, found with a bounded heap in O(n log k).
   */
  topkIndices(x: TypedArray, rows: number, n: number, k: number, out: Int32Array): void;
}

/** Rounds half to even, as IEEE 754's default rounding, NumPy, JAX and TensorFlow do. */
function roundHalfEven(v: number): number {
  const r = Math.round(v); // half up
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** `ln(1 + e^v)` without overflow or loss: `max(v, 0) + log1p(e^-|v|)`. */
function softplus(v: number): number {
  return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
}

/** `c[0] + c[1] t + … + c[n] tⁿ` by Horner's rule. */
function polynomial(c: readonly number[], t: number): number {
  let p = c[c.length - 1]!;
  for (let i = c.length - 2; i >= 0; i--) p = p * t + c[i]!;
  return p;
}

// Coefficients of the piecewise rational approximations of Sun Microsystems' fdlibm `s_erf.c` (SunPro, 1993;
// the same values ship in FreeBSD's msun), lowest degree first. Each numerator/denominator pair is fitted on
// one interval of |x|, with the fitting error bound fdlibm states beside it.
/** `2/√π − 1`: for |x| < 2⁻²⁸, `erf(x) = x + x·(2/√π − 1)` (the next Taylor term is below 2^-56 relative). */
const ERF_TINY = 1.28379167095512586316e-1;
/** |x| < 0.84375: `erf(x) = x + x·P(x²)/Q(x²)`, fitting error below 2^-57.9. */
const ERF_SMALL_P = [1.28379167095512558561e-1, -3.25042107247001499370e-1, -2.84817495755985104766e-2, -5.77027029648944159157e-3, -2.37630166566501626084e-5];
const ERF_SMALL_Q = [1, 3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3, 1.32494738004321644526e-4, -3.96022827877536812320e-6];
/**
 * 0.84375 ≤ |x| < 1.25: `erf(|x|) = c + P(s)/Q(s)` with `s = |x| − 1` and `c` a 24-bit constant near erf(1),
 * so the fitted part stays small (below 0.08); error below 2^-59.
 */
const ERF_AT_ONE = 8.45062911510467529297e-1;
const ERF_MID_P = [-2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1, -1.10894694282396677476e-1, 3.54783043256182359371e-2, -2.16637559486879084300e-3];
const ERF_MID_Q = [1, 1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2, 1.26171219808761642112e-1, 1.36370839120290507362e-2, 1.19844998467991074170e-2];
/**
 * 1.25 ≤ |x| < 1/0.35: `erfc(|x|) = e^(−x² − 0.5625 + R(t)/S(t)) / |x|` with `t = 1/x²` (the asymptotic
 * series' correction to `e^(−x²)/(|x|√π)`, fitted in the exponent), error below 2^-62.5.
 */
const ERFC_NEAR_R = [-9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1, -6.23753324503260060396e1, -1.62396669462573470355e2, -1.84605092906711035994e2, -8.12874355063065934246e1, -9.81432934416914548592];
const ERFC_NEAR_S = [1, 1.96512716674392571292e1, 1.37657754143519042600e2, 4.34565877475229228821e2, 6.45387271733267880336e2, 4.29008140027567833386e2, 1.08635005541779435134e2, 6.57024977031928170135, -6.04244152148580987438e-2];
/** 1/0.35 ≤ |x| < 6: the same form with its own fit, error below 2^-61.5. */
const ERFC_FAR_R = [-9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1, -1.60636384855821916062e2, -6.37566443368389627722e2, -1.02509513161107724954e3, -4.83519191608651397019e2];
const ERFC_FAR_S = [1, 3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3, 2.55305040643316442583e3, 4.74528541206955367215e2, -2.24409524465858183362e1];

/**
 * The error function in float64, within about one ulp, by fdlibm's piecewise method (coefficients above).
 * Odd by construction, `±1` from |x| = 6 on (erfc(6) ≈ 2e-17 is below half an ulp of 1), NaN for NaN, and
 * `−0` for `−0`.
 */
function erf(x: number): number {
  if (x !== x) return NaN;
  const a = Math.abs(x);
  if (a < 2 ** -28) return x + ERF_TINY * x; // also exact for ±0 and within an ulp for subnormals
  if (a < 0.84375) {
    const z = x * x;
    return x + (x * polynomial(ERF_SMALL_P, z)) / polynomial(ERF_SMALL_Q, z);
  }
  let e: number;
  if (a < 1.25) {
    const s = a - 1;
    e = ERF_AT_ONE + polynomial(ERF_MID_P, s) / polynomial(ERF_MID_Q, s);
  } else if (a >= 6) {
    e = 1;
  } else {
    const t = 1 / (a * a);
    const q = a < 1 / 0.35
      ? polynomial(ERFC_NEAR_R, t) / polynomial(ERFC_NEAR_S, t)
      : polynomial(ERFC_FAR_R, t) / polynomial(ERFC_FAR_S, t);
    // e^(−a²) without the rounding of a²: with h = a rounded to 24 bits, h² is exact in float64 and
    // −a² = −h² + (h − a)(h + a), whose second part is tiny.
    const h = Math.fround(a);
    e = 1 - (Math.exp(-h * h - 0.5625) * Math.exp((h - a) * (h + a) + q)) / a;
  }
  return x < 0 ? -e : e;
}

type Unary = (x: TypedArray, o: TypedArray, n: number) => void;
const unaryOps: Record<MathUnaryKernel, Unary> = {
  softplus(x, o, n) { for (let i = 0; i < n; i++) o[i] = softplus(x[i]!); },
  floor(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.floor(x[i]!); },
  ceil(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.ceil(x[i]!); },
  round(x, o, n) { for (let i = 0; i < n; i++) o[i] = roundHalfEven(x[i]!); },
  erf(x, o, n) { for (let i = 0; i < n; i++) o[i] = erf(x[i]!); },
  isFinite(x, o, n) { for (let i = 0; i < n; i++) o[i] = +Number.isFinite(x[i]!); },
  isNaN(x, o, n) { for (let i = 0; i < n; i++) o[i] = +Number.isNaN(x[i]!); },
  logicalNot(x, o, n) { for (let i = 0; i < n; i++) o[i] = +(x[i] === 0); },
};

/** Floored modulo (the result takes the sign of the divisor), as Python's `%` and NumPy's `mod`. */
function floorMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

const binaryOps: Record<MathBinaryKernel, (a: number, b: number) => number> = {
  mod: floorMod,
  atan2: Math.atan2,
  imul: Math.imul,
  logicalAnd: (a, b) => +(a !== 0 && b !== 0),
  logicalOr: (a, b) => +(a !== 0 || b !== 0),
};

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * True when position `i` (value `u`) ranks strictly below position `j` (value `v`) in a stable descending
 * order: a smaller value, or an equal value at a later position. NaN ranks above every number.
 */
function ranksBelow(u: number, i: number, v: number, j: number): boolean {
  const un = u !== u, vn = v !== v;
  if (un || vn) return un === vn ? i > j : vn;
  return u < v || (u === v && i > j);
}

/** @internal The CPU implementation of this family. */
export const cpuSpecial: SpecialKernels = {
  mathUnary(op, x, o) {
    unaryOps[op](x, o, x.length);
  },
  mathBinary(op, a, aShape, b, bShape, o, outShape) {
    const f = binaryOps[op];
    const r = outShape.length;
    const sa = broadcastStrides(aShape, outShape);
    const sb = broadcastStrides(bShape, outShape);
    const idx = new Array<number>(r).fill(0);
    let ai = 0, bi = 0;
    for (let i = 0; i < o.length; i++) {
      o[i] = f(a[ai]!, b[bi]!);
      for (let d = r - 1; d >= 0; d--) {
        idx[d]!++;
        ai += sa[d]!;
        bi += sb[d]!;
        if (idx[d]! < outShape[d]!) break;
        ai -= sa[d]! * outShape[d]!;
        bi -= sb[d]! * outShape[d]!;
        idx[d] = 0;
      }
    }
  },
  castToInt32(x, o) {
    for (let i = 0; i < x.length; i++) {
      const v = Math.trunc(x[i]!);
      if (!(v >= INT32_MIN && v <= INT32_MAX)) return i; // NaN fails both comparisons
      o[i] = v;
    }
    return -1;
  },
  cumulative(op, x, shape, axis, exclusive, reverse, o) {
    const product = op === "prod";
    const wrap = product && o instanceof Int32Array;
    let outer = 1;
    for (let d = 0; d < axis; d++) outer *= shape[d]!;
    const len = shape[axis]!;
    let inner = 1;
    for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
    const step = reverse ? -inner : inner;
    for (let p = 0; p < outer; p++) {
      for (let k = 0; k < inner; k++) {
        let at = p * len * inner + k + (reverse ? (len - 1) * inner : 0);
        let acc = product ? 1 : 0;
        for (let j = 0; j < len; j++, at += step) {
          const v = x[at]!;
          if (exclusive) o[at] = acc;
          acc = !product ? acc + v : wrap ? Math.imul(acc, v) : acc * v;
          if (!exclusive) o[at] = acc;
        }
      }
    }
  },
  argsort(x, shape, axis, descending, o) {
    let outer = 1;
    for (let d = 0; d < axis; d++) outer *= shape[d]!;
    const len = shape[axis]!;
    let inner = 1;
    for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
    const line = new Float64Array(len);
    const order = Array.from({ length: len }, (_, i) => i);
    // NaN compares as the largest value; ties fall back to the position, which makes the sort stable
    // whatever the engine's sort does.
    const ascending = (i: number, j: number): number => {
      const u = line[i]!, v = line[j]!;
      if (u < v) return -1;
      if (u > v) return 1;
      const un = u !== u, vn = v !== v;
      if (un !== vn) return un ? 1 : -1;
      return 0;
    };
    const cmp = descending
      ? (i: number, j: number): number => -ascending(i, j) || i - j
      : (i: number, j: number): number => ascending(i, j) || i - j;
    for (let p = 0; p < outer; p++) {
      for (let k = 0; k < inner; k++) {
        const base = p * len * inner + k;
        for (let j = 0; j < len; j++) {
          line[j] = x[base + j * inner]!;
          order[j] = j;
        }
        order.sort(cmp);
        for (let j = 0; j < len; j++) o[base + j * inner] = order[j]!;
      }
    }
  },
  topkIndices(x, rows, n, k, o) {
    // A min-heap (by rank) of the best k positions seen so far; its root is the weakest of them.
    const heap = new Int32Array(k);
    for (let r = 0; r < rows; r++) {
      const base = r * n;
      const below = (a: number, b: number): boolean => ranksBelow(x[base + a]!, a, x[base + b]!, b);
      const siftDown = (size: number): void => {
        let at = 0;
        for (;;) {
          const l = 2 * at + 1, rr = l + 1;
          let least = at;
          if (l < size && below(heap[l]!, heap[least]!)) least = l;
          if (rr < size && below(heap[rr]!, heap[least]!)) least = rr;
          if (least === at) return;
          const t = heap[at]!;
          heap[at] = heap[least]!;
          heap[least] = t;
          at = least;
        }
      };
      let size = 0;
      for (let i = 0; i < n; i++) {
        if (size < k) {
          let at = size++;
          heap[at] = i;
          while (at > 0) {
            const parent = (at - 1) >> 1;
            if (!below(heap[at]!, heap[parent]!)) break;
            const t = heap[at]!;
            heap[at] = heap[parent]!;
            heap[parent] = t;
            at = parent;
          }
        } else if (k > 0 && below(heap[0]!, i)) {
          heap[0] = i;
          siftDown(size);
        }
      }
      // Pop the weakest first into the back of the output row.
      for (let j = size - 1; j >= 0; j--) {
        o[r * k + j] = heap[0]!;
        heap[0] = heap[j]!;
        siftDown(j);
      }
    }
  },
};
