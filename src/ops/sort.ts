/**
 * Sorting along an axis: `argsort` (a primitive without derivative: positions are integers) and the ops
 * derived from it, `sort` and `topk`, which take the elements at those positions with `gather`, so their
 * derivative sends each output's cotangent back to the element it came from.
 *
 * Conventions (the same in all three): the sort is stable, so equal elements keep their order (ascending
 * or descending), and `topk` prefers the lower index among ties, as TensorFlow's `top_k` does; NaN sorts
 * as the largest value (last ascending, first descending), as in NumPy. At a tie the derivative goes to
 * the element the stable order put in that position (a subgradient: the sorted values are continuous, so
 * either choice is one side's derivative).
 */
import { Tensor } from "../tensor/tensor.js";
import { fmt, normalizeAxis, sizeOf } from "../tensor/shape.js";
import { backend } from "../tensor/backend.js";
import { bind } from "../autodiff/trace.js";
import { defineNondifferentiable } from "../autodiff/primitive.js";
import { checkTensor } from "./util.js";
import { add, mul } from "./binary.js";
import { reshape, transpose, gather, slice } from "./movement.js";
import { arange } from "../tensor/ranges.js";

/**
 * Options of {@link sort} and {@link argsort}.
 * @category Scans and sorting
 */
export interface SortOptions {
  /** Largest first. Default false (smallest first). */
  descending?: boolean;
}

interface ArgsortParams {
  readonly axis: number;
  readonly descending: boolean;
}

const topkIndicesP = defineNondifferentiable<number>("topk", ([x], k) => {
  const n = x!.shape[x!.rank - 1]!;
  const rows = n === 0 ? 0 : x!.size / n;
  const out = new Int32Array(rows * k);
  backend().topkIndices(x!._data!, rows, n, k, out);
  return new Tensor(Object.freeze([...x!.shape.slice(0, -1), k]), "int32", out);
});

const argsortP = defineNondifferentiable<ArgsortParams>("argsort", ([x], { axis, descending }) => {
  const out = new Int32Array(x!.size);
  backend().argsort(x!._data!, x!.shape, axis, descending, out);
  return new Tensor(x!.shape, "int32", out);
});

function sortArgs(op: string, x: Tensor, axis: number, options: SortOptions | undefined): ArgsortParams {
  checkTensor(op, "x", x);
  if (x.rank === 0) throw new RangeError(`${op}: needs a tensor of rank >= 1 to sort along an axis, got a scalar; reshape it to [1] first`);
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`${op}: options must be an object { descending? }, got ${String(options)}`);
  }
  return { axis: normalizeAxis(op, axis, x.rank), descending: options?.descending === true };
}

/**
 * @internal `out[…, j, …] = x[…, indices[…, j, …], …]` along `axis`, where `indices` has the shape of `x`
 * except along `axis` (NumPy's `take_along_axis`). Built on `gather` of the flattened tensor, so it is
 * differentiable in `x`.
 */
export function takeAlongAxis(x: Tensor, indices: Tensor, axis: number): Tensor {
  const r = x.rank;
  const last = r - 1;
  const perm = x.shape.map((_, i) => i);
  perm[axis] = last;
  perm[last] = axis;
  const xt = transpose(x, perm);
  const it = transpose(indices, perm);
  const n = xt.shape[last]!;
  const m = it.shape[last]!;
  const rows = xt.size / Math.max(n, 1);
  const offsets = mul(arange(0, rows, 1, { dtype: "int32" }), n).reshape([rows, 1]);
  const flat = add(reshape(it, [rows, m]), offsets);
  const taken = reshape(gather(reshape(xt, [-1]), flat.reshape([-1])), it.shape);
  return transpose(taken, perm);
}

/**
 * The positions that sort each line of `x` along `axis` (stable; NaN counts as the largest value). No
 * derivative: the result is integers.
 * @param x a tensor of rank >= 1, any dtype.
 * @param axis the axis to sort along (default -1, the last).
 * @param options `descending` (largest first).
 * @returns an int32 tensor of the shape of `x`: along `axis`, the source positions in sorted order.
 * @example
 * ```ts
 * argsort(tensor([3, 1, 2])).toArray();                         // [1, 2, 0]
 * argsort(tensor([3, 1, 3]), -1, { descending: true }).toArray(); // [0, 2, 1]
 * ```
 * @category Scans and sorting
 */
export function argsort(x: Tensor, axis = -1, options?: SortOptions): Tensor {
  const p = sortArgs("argsort", x, axis, options);
  return bind(argsortP, [x._concrete], p);
}

/**
 * The elements of `x` sorted along `axis` (stable; NaN counts as the largest value). The derivative sends
 * each sorted element's cotangent back to the position it came from.
 * @param x a tensor of rank >= 1, any dtype.
 * @param axis the axis to sort along (default -1, the last).
 * @param options `descending` (largest first).
 * @returns a tensor of the shape and dtype of `x`, sorted along `axis`.
 * @example
 * ```ts
 * sort(tensor([[3, 1, 2], [0, 5, 4]])).toArray();              // [[1, 2, 3], [0, 4, 5]]
 * sort(tensor([3, 1, 2]), 0, { descending: true }).toArray();  // [3, 2, 1]
 * ```
 * @category Scans and sorting
 */
export function sort(x: Tensor, axis = -1, options?: SortOptions): Tensor {
  const p = sortArgs("sort", x, axis, options);
  if (x.size === 0) return x;
  return takeAlongAxis(x, bind(argsortP, [x._concrete], p), p.axis);
}

/**
 * The result of {@link topk}.
 * @category Scans and sorting
 */
export interface TopK {
  /** The `k` largest elements of each line, largest first: `[..., k]`, the dtype of the input. */
  readonly values: Tensor;
  /** Their positions along the last axis, int32 `[..., k]`. */
  readonly indices: Tensor;
}

/**
 * The `k` largest elements along the last axis, largest first, with their positions (TensorFlow's
 * `top_k`, JAX's `lax.top_k`). Among equal elements the lower index comes first; NaN counts as the largest
 * value. The derivative of `values` sends each cotangent back to the element it came from; `indices`
 * carries none.
 * @param x a tensor of rank >= 1, any dtype: `[..., n]`.
 * @param k how many to take, an integer in `[0, n]`.
 * @returns `{ values, indices }`, each `[..., k]`.
 * @example
 * ```ts
 * const { values, indices } = topk(tensor([1, 5, 3, 5]), 2);
 * values.toArray();  // [5, 5]
 * indices.toArray(); // [1, 3]
 * ```
 * @category Scans and sorting
 */
export function topk(x: Tensor, k: number): TopK {
  const op = "topk";
  checkTensor(op, "x", x);
  if (x.rank === 0) throw new RangeError(`${op}: needs a tensor of rank >= 1 (the last axis is searched), got a scalar`);
  const n = x.shape[x.rank - 1]!;
  if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k > n) {
    throw new RangeError(`${op}: k must be an integer from 0 to ${n} (the last axis of shape ${fmt(x.shape)}), got ${String(k)}`);
  }
  const last = x.rank - 1;
  const size = x.shape.slice();
  size[last] = k;
  if (x.size === 0 || k === 0) {
    return { values: slice(x, new Array<number>(x.rank).fill(0), size), indices: new Tensor(Object.freeze(size), "int32", new Int32Array(sizeOf(size))) };
  }
  const indices = bind(topkIndicesP, [x._concrete], k);
  const values = takeAlongAxis(x, indices, last);
  return { values, indices };
}
