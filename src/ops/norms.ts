/**
 * Norms: `norm` (vector norms along one axis or all, matrix norms over a pair of axes) and
 * `l2Normalize`. Both are derived from reductions and elementwise ops.
 *
 * The Euclidean and p-norms are not differentiable at 0 (every direction has slope 1 there). Where the
 * norm is 0 its derivative is taken as 0, the subgradient of least norm (the convention of `abs` at 0),
 * and its second derivative as 0 as well; computing `sqrt(sum(x²))` naively would give `0 · ∞ = NaN`
 * there (which is what JAX and TensorFlow return). The square root only ever sees positive sums, so no
 * infinity enters a derivative of any order.
 */
import { Tensor } from "../tensor/tensor.js";
import { fmt, normalizeAxes, normalizeAxis } from "../tensor/shape.js";
import { checkTensor } from "./util.js";
import { greater, maximum, pow, where, mul } from "./binary.js";
import { abs, sqrt, rsqrt, cast } from "./unary.js";
import { sum, max, min } from "./reduce.js";
import { reshape } from "./movement.js";

/**
 * The order of a norm: a number `p >= 1` (`1`, `2`, any other, `Infinity`; `-Infinity` is the smallest
 * magnitude) for vectors; `'fro'` (Frobenius), `1` (largest column sum), `Infinity` (largest row sum) for
 * matrices; `'euclidean'` is 2 for vectors and `'fro'` for matrices.
 * @category Linear algebra
 */
export type NormOrder = number | "fro" | "euclidean";

/** `s^(1/p)` where `s > 0` and 0 where `s = 0`, with the root never taken at 0 (derivative 0 there). */
function safeRoot(s: Tensor, p: number): Tensor {
  const positive = greater(s, 0);
  const safe = where(positive, s, 1);
  return where(positive, p === 2 ? sqrt(safe) : pow(safe, 1 / p), 0);
}

function vectorNorm(op: string, x: Tensor, ord: number, axes: number[], keepDims: boolean): Tensor {
  if (ord === Infinity) return max(abs(x), axes, keepDims);
  if (ord === -Infinity) return min(abs(x), axes, keepDims);
  if (ord === 1) return sum(abs(x), axes, keepDims);
  if (ord === 2) return safeRoot(sum(mul(x, x), axes, keepDims), 2);
  if (!(ord > 1) || !Number.isFinite(ord)) {
    throw new RangeError(`${op}: the vector norm order must be a number >= 1, Infinity or -Infinity, got ${String(ord)}`);
  }
  return safeRoot(sum(pow(abs(x), ord), axes, keepDims), ord);
}

/**
 * The norm of `x`: a vector norm over all elements (no `axes`) or along one axis, or a matrix norm over a
 * pair of axes. At a zero vector or matrix the derivative is taken as 0 (see the module notes).
 * @param x a tensor (int32 is converted to float32).
 * @param ord the order (default 2): a number `p >= 1`, `Infinity` or `-Infinity` for vectors;
 *   `'fro'`, `1` or `Infinity` over a pair of axes (the spectral norm `2` there is not yet supported);
 *   `'euclidean'` is 2 for vectors and `'fro'` for matrices.
 * @param axes none (every element, as one vector), one axis, or a pair `[rowAxis, columnAxis]`.
 * @param keepDims keep the reduced axes as size 1 (default false).
 * @returns the norms, with the reduced axes removed (or kept as 1).
 * @example
 * ```ts
 * norm(tensor([3, -4])).item();                          // 5
 * norm(tensor([3, -4]), 1).item();                       // 7
 * // Over two axes, the induced matrix norm: ∞ is the largest row sum of |x|.
 * norm(tensor([[1, -2], [3, 4]]), Infinity, [0, 1]).item(); // 7
 * gradient(tensor([0, 0]), (x) => norm(x)).toArray();    // [0, 0]
 * ```
 * @category Linear algebra
 */
export function norm(x: Tensor, ord: NormOrder = 2, axes?: number | readonly number[], keepDims = false): Tensor {
  const op = "norm";
  checkTensor(op, "x", x);
  const f = x.dtype === "int32" ? cast(x, "float32") : x;
  const ax = normalizeAxes(op, axes, x.rank);
  const matrix = axes !== undefined && typeof axes !== "number" && ax.length === 2;
  if (axes !== undefined && typeof axes !== "number" && ax.length > 2) {
    throw new RangeError(`${op}: axes ${JSON.stringify(axes)} has ${ax.length} entries; give one axis (a vector norm) or two (a matrix norm), or none for all elements`);
  }
  if (!matrix) {
    if (ord === "fro" && axes !== undefined) {
      throw new RangeError(`${op}: 'fro' is a matrix norm; give a pair of axes, or use 2 for a vector norm`);
    }
    const p = ord === "euclidean" || ord === "fro" ? 2 : ord;
    if (typeof p !== "number") throw new TypeError(`${op}: unknown order ${JSON.stringify(ord)}; use a number, 'fro' or 'euclidean'`);
    return vectorNorm(op, f, p, ax, keepDims);
  }
  const given = (typeof axes === "number" ? [axes] : axes).map((a) => normalizeAxis(op, a, x.rank));
  const [rowAxis, colAxis] = given as [number, number];
  if (ord === "fro" || ord === "euclidean") return safeRoot(sum(mul(f, f), ax, keepDims), 2);
  if (ord === 1 || ord === Infinity) {
    // 1: the largest column sum (sum over rows, then max over columns); ∞: the largest row sum.
    const [first, second] = ord === 1 ? [rowAxis, colAxis] : [colAxis, rowAxis];
    const sums = sum(abs(f), first, true);
    const r = max(sums, second, true);
    return keepDims ? r : reshape(r, x.shape.filter((_, i) => i !== rowAxis && i !== colAxis));
  }
  throw new RangeError(
    `${op}: matrix norm order ${JSON.stringify(ord)} over axes ${fmt(given)} is not supported (yet): use 'fro', 1 or Infinity` +
      (ord === 2 ? "; the spectral norm needs a singular value decomposition" : ""),
  );
}

/**
 * Scales `x` to unit Euclidean norm along `axis`: `x / sqrt(max(sum(x²), epsilon))` (TensorFlow's
 * `l2_normalize`). The floor `epsilon` keeps a zero vector at 0 with a finite derivative (`1/√epsilon`
 * times the tangent).
 * @param x a float tensor (int32 is converted to float32).
 * @param axis the axis (default -1, the last, as for `softmax`; TensorFlow's default is every axis) or axes
 *   along which the norm is taken.
 * @param epsilon the floor on the squared norm (default 1e-12).
 * @returns a tensor of the shape of `x`.
 * @example
 * ```ts
 * l2Normalize(tensor([[3, 4], [0, 0]])).toArray(); // [[0.6, 0.8], [0, 0]]
 * ```
 * @category Linear algebra
 */
export function l2Normalize(x: Tensor, axis: number | readonly number[] = -1, epsilon = 1e-12): Tensor {
  const op = "l2Normalize";
  checkTensor(op, "x", x);
  if (typeof epsilon !== "number" || !(epsilon > 0)) throw new RangeError(`${op}: epsilon must be a positive number, got ${String(epsilon)}`);
  const ax = normalizeAxes(op, axis, x.rank);
  const f = x.dtype === "int32" ? cast(x, "float32") : x;
  return mul(f, rsqrt(maximum(sum(mul(f, f), ax, true), epsilon)));
}
