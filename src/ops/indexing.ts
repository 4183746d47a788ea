/**
 * Indexing by tuples and by segment: `gatherNd`, its transpose `scatter`, and `segmentSum`. All three are
 * derived: the index tuples are turned into flat row numbers once (they are integers, with no derivative),
 * and the data moves with the `gather` / `scatterAdd` primitives, each other's transpose, so every order
 * of derivative comes for free.
 *
 * Indices are checked, never wrapped or clamped: a negative or too large index is an error naming its
 * position (TensorFlow drops or zero-fills out-of-range entries on some devices; JAX clamps them).
 */
import { Tensor } from "../tensor/tensor.js";
import { checkShape, fmt, sameShape, sizeOf } from "../tensor/shape.js";
import { tensor } from "../tensor/creation.js";
import { checkTensor } from "./util.js";
import { reshape, gather, scatterAdd } from "./movement.js";

/** Reads integer indices from a tensor or nested arrays, as a concrete tensor (floats holding integers are accepted). */
function indexTensor(op: string, name: string, indices: unknown): Tensor {
  let t: Tensor;
  if (indices instanceof Tensor) t = indices._concrete;
  else if (Array.isArray(indices)) {
    try {
      t = tensor(indices as number[], { dtype: "int32" });
    } catch (e) {
      throw new TypeError(`${op}: ${name} must be integers in nested arrays of one shape: ${(e as Error).message}`);
    }
  } else throw new TypeError(`${op}: ${name} must be an int32 Tensor or nested arrays of integers, got ${typeof indices}`);
  const v = t._data!;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isInteger(v[i])) {
      throw new TypeError(`${op}: ${name} must be integers, got ${v[i]} at flat position ${i} (cast them with cast('int32'))`);
    }
  }
  return t;
}

/**
 * Turns index tuples (the last axis of `indices`, of length m) into row numbers of the tensor of `shape`
 * viewed as `[shape[0] · … · shape[m-1], ...shape[m:]]`, checking every component.
 */
function rowsOf(op: string, indices: Tensor, shape: readonly number[], what: string): Tensor {
  if (indices.rank === 0) throw new RangeError(`${op}: indices need at least one axis (the last holds the index tuples), got a scalar`);
  const m = indices.shape[indices.rank - 1]!;
  if (m > shape.length) {
    throw new RangeError(
      `${op}: index tuples of length ${m} (indices ${fmt(indices.shape)}) cannot index ${what} of shape ${fmt(shape)} (rank ${shape.length}); ` +
        `the last axis of indices must be at most the rank`,
    );
  }
  const v = indices._data!;
  const count = sizeOf(indices.shape.slice(0, -1));
  const rows = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let r = 0;
    for (let d = 0; d < m; d++) {
      const k = v[i * m + d]!;
      const n = shape[d]!;
      if (k < 0 || k >= n) {
        throw new RangeError(
          `${op}: index ${k} in tuple ${i} (component ${d}) is out of range for axis ${d} of ${what} ${fmt(shape)} (valid: 0 to ${n - 1})`,
        );
      }
      r = r * n + k;
    }
    rows[i] = r;
  }
  return new Tensor(Object.freeze(indices.shape.slice(0, -1)), "int32", rows);
}

/**
 * Gathers slices of `x` addressed by index tuples (TensorFlow's `gather_nd`): the last axis of `indices`
 * holds tuples of length m that index the first m axes of `x`; each picks `x[i0, …, i(m-1)]`, a slice of
 * shape `x.shape[m:]`. The derivative scatters (adds) the cotangent back, so repeated tuples accumulate.
 * @param x a tensor of rank r >= m.
 * @param indices int32 `[..., m]` (or nested arrays of integers), each component in range.
 * @returns a tensor of shape `[...indices.shape[:-1], ...x.shape[m:]]`.
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]]);
 * gatherNd(x, [[0, 1], [1, 0]]).toArray(); // [2, 3]
 * gatherNd(x, [[1]]).toArray();            // [[3, 4]]
 * ```
 * @category Shape and indexing
 */
export function gatherNd(x: Tensor, indices: Tensor | readonly unknown[]): Tensor {
  const op = "gatherNd";
  checkTensor(op, "x", x);
  const idx = indexTensor(op, "indices", indices);
  const rows = rowsOf(op, idx, x.shape, "x");
  const m = idx.shape[idx.rank - 1]!;
  const rest = x.shape.slice(m);
  const table = reshape(x, [sizeOf(x.shape.slice(0, m)), ...rest]);
  return gather(table, rows, 0);
}

/**
 * Scatters `updates` into a zero tensor of `shape` at index tuples (TensorFlow's `scatter_nd`), adding
 * where tuples repeat; the transpose of {@link gatherNd}, which is its derivative in `updates`.
 * @param indices int32 `[..., m]` (or nested arrays of integers): tuples indexing the first m axes of `shape`.
 * @param updates `[...indices.shape[:-1], ...shape[m:]]`, a float or int32 tensor.
 * @param shape the output shape.
 * @returns a tensor of shape `shape` and the dtype of `updates`.
 * @example
 * ```ts
 * scatter([[0], [2], [0]], tensor([1, 2, 3]), [4]).toArray(); // [4, 0, 2, 0]
 * scatter([[1, 1]], tensor([5]), [2, 2]).toArray();           // [[0, 0], [0, 5]]
 * ```
 * @category Shape and indexing
 */
export function scatter(indices: Tensor | readonly unknown[], updates: Tensor, shape: readonly number[]): Tensor {
  const op = "scatter";
  checkTensor(op, "updates", updates);
  const s = checkShape(op, shape);
  const idx = indexTensor(op, "indices", indices);
  const rows = rowsOf(op, idx, s, "the output");
  const m = idx.shape[idx.rank - 1]!;
  const rest = s.slice(m);
  const expected = [...rows.shape, ...rest];
  if (!sameShape(expected, updates.shape)) {
    throw new RangeError(
      `${op}: updates have shape ${fmt(updates.shape)} but indices ${fmt(idx.shape)} scattered into ${fmt(s)} need updates of shape ${fmt(expected)} ` +
        `(the indices' leading axes, then the output's axes after the first ${m})`,
    );
  }
  return reshape(scatterAdd(updates, rows, 0, [sizeOf(s.slice(0, m)), ...rest]), s);
}

/**
 * Sums the slices of `data` that share a segment id (TensorFlow's `unsorted_segment_sum`): `out[s]` is
 * the sum of `data[i]` over every `i` with `segmentIds[i] = s`, and 0 for a segment with no member. Ids
 * need not be sorted; every id must lie in `[0, numSegments)` (an error otherwise, never dropped).
 * @param data `[...ids.shape, ...rest]`: the ids index its leading axes.
 * @param segmentIds int32 (or an array of integers) of shape `data.shape[:k]` for some k >= 1.
 * @param numSegments the number of segments (default: the largest id + 1).
 * @returns a tensor of shape `[numSegments, ...rest]` and the dtype of `data`.
 * @example
 * ```ts
 * segmentSum(tensor([1, 2, 3, 4]), [0, 1, 0, 1]).toArray();              // [4, 6]
 * segmentSum(tensor([[1, 2], [3, 4], [5, 6]]), [1, 1, 0], 3).toArray(); // [[5, 6], [4, 6], [0, 0]]
 * ```
 * @category Shape and indexing
 */
export function segmentSum(data: Tensor, segmentIds: Tensor | readonly number[], numSegments?: number): Tensor {
  const op = "segmentSum";
  checkTensor(op, "data", data);
  const ids = indexTensor(op, "segmentIds", segmentIds);
  const k = ids.rank;
  if (k === 0 || k > data.rank || !sameShape(ids.shape, data.shape.slice(0, k))) {
    throw new RangeError(
      `${op}: segmentIds of shape ${fmt(ids.shape)} must match the leading axes of data ${fmt(data.shape)} (one id per slice, rank >= 1)`,
    );
  }
  const v = ids._data!;
  let top = -1;
  for (let i = 0; i < v.length; i++) top = Math.max(top, v[i]!);
  const n = numSegments ?? top + 1;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new RangeError(`${op}: numSegments must be a non-negative integer, got ${String(numSegments)}`);
  }
  for (let i = 0; i < v.length; i++) {
    if (v[i]! < 0 || v[i]! >= n) {
      throw new RangeError(`${op}: segment id ${v[i]} at flat position ${i} is out of range for ${n} segments (valid: 0 to ${n - 1}); raise numSegments or fix the id`);
    }
  }
  const int32Ids = ids.dtype === "int32" ? ids : new Tensor(ids.shape, "int32", Int32Array.from(v));
  return scatterAdd(data, int32Ids, 0, [n, ...data.shape.slice(k)]);
}
