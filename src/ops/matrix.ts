/**
 * Matrix building blocks that are not linear algebra proper: `outer`, `diag` and `bandPart`. All are
 * derived (from `mul`, `gatherNd`/`scatter` and `where`), so they carry no rules of their own.
 */
import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { zeros } from "../tensor/creation.js";
import { checkTensor } from "./util.js";
import { mul, where } from "./binary.js";
import { reshape } from "./movement.js";
import { gatherNd, scatter } from "./indexing.js";

/**
 * The outer product `out[i, j] = a[i] · b[j]`. Operands of higher rank are flattened first, as NumPy's
 * and JAX's `outer` do.
 * @param a a tensor of n elements. @param b a tensor of m elements (dtypes are promoted as in `mul`).
 * @returns `[n, m]`.
 * @example
 * ```ts
 * outer(tensor([1, 2]), tensor([1, 10, 100])).toArray(); // [[1, 10, 100], [2, 20, 200]]
 * ```
 * @category Linear algebra
 */
export function outer(a: Tensor, b: Tensor): Tensor {
  checkTensor("outer", "a", a);
  checkTensor("outer", "b", b);
  return mul(reshape(a, [-1, 1]), reshape(b, [1, -1]));
}

function checkOffset(op: string, k: unknown): number {
  if (typeof k !== "number" || !Number.isInteger(k)) throw new TypeError(`${op}: the diagonal offset k must be an integer, got ${String(k)}`);
  return k;
}

/**
 * The `k`-th diagonal, NumPy's and JAX's `diag`: for a vector, the square matrix that holds it on
 * diagonal `k` (zeros elsewhere); for a matrix, that diagonal as a vector. `k > 0` is above the main
 * diagonal, `k < 0` below. For batches of matrices use `einsum("...ii->...i", x)` or {@link bandPart}.
 * @param x a vector `[n]` or a matrix `[n, m]`.
 * @param k the diagonal (default 0, the main one).
 * @returns `[n + |k|, n + |k|]` for a vector; for a matrix, a vector of the diagonal's length (0 if it lies outside).
 * @example
 * ```ts
 * diag(tensor([1, 2])).toArray();                  // [[1, 0], [0, 2]]
 * diag(tensor([[1, 2], [3, 4]])).toArray();        // [1, 4]
 * diag(tensor([[1, 2], [3, 4]]), 1).toArray();     // [2]
 * ```
 * @category Linear algebra
 */
export function diag(x: Tensor, k = 0): Tensor {
  const op = "diag";
  checkTensor(op, "x", x);
  checkOffset(op, k);
  const positions = (len: number): number[][] =>
    Array.from({ length: len }, (_, i) => (k >= 0 ? [i, i + k] : [i - k, i]));
  if (x.rank === 1) {
    const n = x.shape[0]! + Math.abs(k);
    if (x.shape[0] === 0) return zeros([n, n], { dtype: x.dtype }); // nothing to place, nothing to differentiate
    return scatter(positions(x.shape[0]!), x, [n, n]);
  }
  if (x.rank === 2) {
    const [n, m] = x.shape as [number, number];
    const len = Math.max(0, k >= 0 ? Math.min(n, m - k) : Math.min(n + k, m));
    if (len === 0) return zeros([0], { dtype: x.dtype });
    return gatherNd(x, positions(len));
  }
  throw new RangeError(
    `${op}: x must be a vector or a matrix, got shape ${fmt(x.shape)}; for batches of matrices use einsum("...ii->...i", x) or bandPart`,
  );
}

/**
 * Keeps a band around the main diagonal of each matrix in the last two axes and zeros the rest
 * (TensorFlow's `matrix_band_part`): element `[i, j]` is kept when `i - j <= numLower` and
 * `j - i <= numUpper`; a negative count keeps the whole triangle on that side. `bandPart(x, 0, -1)` is
 * the upper triangle, `bandPart(x, -1, 0)` the lower, `bandPart(x, 0, 0)` the diagonal. The derivative
 * is the same mask.
 * @param x a tensor `[..., n, m]`.
 * @param numLower how many diagonals below the main one to keep (negative: all).
 * @param numUpper how many diagonals above the main one to keep (negative: all).
 * @returns a tensor of the shape and dtype of `x`.
 * @example
 * ```ts
 * bandPart(tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), 0, 1).toArray(); // [[1, 2, 0], [0, 5, 6], [0, 0, 9]]
 * ```
 * @category Linear algebra
 */
export function bandPart(x: Tensor, numLower: number, numUpper: number): Tensor {
  const op = "bandPart";
  checkTensor(op, "x", x);
  if (x.rank < 2) throw new RangeError(`${op}: x must have rank >= 2 (matrices in the last two axes), got shape ${fmt(x.shape)}`);
  for (const [name, v] of [["numLower", numLower], ["numUpper", numUpper]] as const) {
    if (typeof v !== "number" || !Number.isInteger(v)) throw new TypeError(`${op}: ${name} must be an integer (negative keeps the whole triangle), got ${String(v)}`);
  }
  const n = x.shape[x.rank - 2]!;
  const m = x.shape[x.rank - 1]!;
  const mask = new Int32Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      mask[i * m + j] = +((numLower < 0 || i - j <= numLower) && (numUpper < 0 || j - i <= numUpper));
    }
  }
  return where(new Tensor(Object.freeze([n, m]), "int32", mask), x, 0);
}
