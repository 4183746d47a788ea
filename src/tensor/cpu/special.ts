/**
 * @internal CPU kernels of the ops added after the first elementwise family: rounding, the error function,
 * predicates, logical connectives, floored modulo, `atan2`, wrapping int32 products, checked int32 casts,
 * cumulative sums and products along an axis and stable sorting along an axis.
 *
 * They are kept apart from `elementwise.ts` (whose loops are tuned per op) because none of them is on a
 * training loop's hot path; each is a plain loop, written for clarity first.
 */
import erfImpl from "@stdlib/math-base-special-erf";
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

type Unary = (x: TypedArray, o: TypedArray, n: number) => void;
const unaryOps: Record<MathUnaryKernel, Unary> = {
  softplus(x, o, n) { for (let i = 0; i < n; i++) o[i] = softplus(x[i]!); },
  floor(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.floor(x[i]!); },
  ceil(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.ceil(x[i]!); },
  round(x, o, n) { for (let i = 0; i < n; i++) o[i] = roundHalfEven(x[i]!); },
  erf(x, o, n) { for (let i = 0; i < n; i++) o[i] = erfImpl(x[i]!); },
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
