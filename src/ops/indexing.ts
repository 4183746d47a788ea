/**
 * Indexing by tuples and by segment: `gatherNd`, its transpose `scatter`, and `segmentSum`. Each is a
 * primitive whose inputs are the data and the index tensor itself: turning index tuples into row numbers
 * happens inside the primitive, when its values exist, so a compiled program or an exported model computes
 * the rows from whatever indices it is given (nothing about them is frozen at trace time). Indices carry no
 * derivative; the data moves linearly, so each JVP applies the op to the tangent and each VJP its
 * transpose (gatherNd ↔ scatter, segmentSum ↔ gather), written with the public ops so every order works.
 *
 * Indices are checked when the primitive runs, never wrapped or clamped: a negative or too large index is
 * an error naming its position (TensorFlow drops or zero-fills out-of-range entries on some devices; JAX
 * clamps them). Float tensors holding integers are accepted (labels often arrive as float32).
 */
import { Tensor } from "../tensor/tensor.js";
import { allocate, type DType, type TypedArray } from "../tensor/dtype.js";
import { checkShape, fmt, sameShape, sizeOf } from "../tensor/shape.js";
import { tensor } from "../tensor/creation.js";
import { backend } from "../tensor/backend.js";
import { bind } from "../autodiff/trace.js";
import { definePrimitive } from "../autodiff/primitive.js";
import { checkTensor } from "./util.js";
import { gather } from "./movement.js";

// ---------------------------------------------------------------------------------------------------
// Index values, read inside the primitives

const NEVER_WRAPPED = "indices are never wrapped or clamped (a negative index does not count from the end)";

function make(shape: readonly number[], dtype: DType): [Tensor, TypedArray] {
  const data = allocate(dtype, sizeOf(shape));
  return [new Tensor(Object.freeze(shape.slice()), dtype, data), data];
}

/** The value at flat position `i` of an index tensor, which must be an integer. */
function integerAt(op: string, name: string, v: TypedArray, i: number): number {
  const k = v[i]!;
  if (!Number.isInteger(k)) {
    throw new TypeError(`${op}: ${name} must be integers, got ${k} at flat position ${i} (round them, or cast them with cast('int32'))`);
  }
  return k;
}

/**
 * Turns index tuples (the last axis of `indices`, of length m) into row numbers of the tensor of `shape`
 * viewed as `[shape[0] · … · shape[m-1], ...shape[m:]]`, checking every component.
 */
function rowsOf(op: string, indices: Tensor, shape: readonly number[], what: string): Int32Array {
  const m = indices.shape[indices.rank - 1]!;
  const v = indices._values;
  const count = sizeOf(indices.shape.slice(0, -1));
  const rows = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let r = 0;
    for (let d = 0; d < m; d++) {
      const k = integerAt(op, "indices", v, i * m + d);
      const n = shape[d]!;
      if (k < 0 || k >= n) {
        throw new RangeError(
          `${op}: index ${k} in tuple ${i} (component ${d}) of indices ${fmt(indices.shape)} is out of range for axis ${d} of ${what} ${fmt(shape)} ` +
            `(valid: 0 to ${n - 1}); ${NEVER_WRAPPED}: fix that index, or ${what === "x" ? "index a larger tensor" : "scatter into a larger shape"}`,
        );
      }
      r = r * n + k;
    }
    rows[i] = r;
  }
  return rows;
}

/** Segment ids as int32, each checked to lie in `[0, n)`. */
function segmentsOf(op: string, ids: Tensor, n: number): Int32Array {
  const v = ids._values;
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const k = integerAt(op, "segmentIds", v, i);
    if (k < 0 || k >= n) {
      throw new RangeError(
        `${op}: segment id ${k} at flat position ${i} of segmentIds ${fmt(ids.shape)} is out of range for ${n} segments (valid: 0 to ${n - 1}); ` +
          `raise numSegments or fix the id`,
      );
    }
    out[i] = k;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// gatherNd and scatter (each other's transpose)

const gatherNdP = definePrimitive({
  name: "gatherNd",
  impl: ([x, indices]) => {
    const m = indices!.shape[indices!.rank - 1]!;
    const rows = rowsOf("gatherNd", indices!, x!.shape, "x");
    const rest = x!.shape.slice(m);
    const [out, data] = make([...indices!.shape.slice(0, -1), ...rest], x!.dtype);
    backend().gather(x!._data!, [sizeOf(x!.shape.slice(0, m)), ...rest], rows, 0, data);
    return out;
  },
  jvp: ([, indices], [t]) => (t === null ? null : gatherNd(t!, indices!)),
  // Repeated tuples took the same slice several times, so their cotangents add up there.
  vjp: (ct, [x, indices]) => [scatter(indices!, ct, x!.shape), null],
});

interface ShapeParams {
  readonly shape: readonly number[];
}

const scatterP = definePrimitive<ShapeParams>({
  name: "scatter",
  impl: ([updates, indices], { shape }) => {
    const m = indices!.shape[indices!.rank - 1]!;
    const rows = rowsOf("scatter", indices!, shape, "the output");
    const [out, data] = make(shape, updates!.dtype);
    backend().scatterAdd(updates!._data!, rows, 0, [sizeOf(shape.slice(0, m)), ...shape.slice(m)], data);
    return out;
  },
  jvp: ([, indices], [t], _out, { shape }) => (t === null ? null : scatter(indices!, t!, shape)),
  vjp: (ct, [, indices]) => [gatherNd(ct, indices!), null],
});

/**
 * An index argument as a tensor, without reading its values: a Tensor is used as it is (staged tensors
 * have no values yet; its values are checked when the primitive runs), nested arrays become an int32
 * constant.
 */
function indexTensor(op: string, name: string, indices: unknown): Tensor {
  if (indices instanceof Tensor) return indices._concrete;
  if (Array.isArray(indices)) {
    try {
      return tensor(indices as number[], { dtype: "int32" });
    } catch (e) {
      throw new TypeError(`${op}: ${name} must be integers in nested arrays of one shape: ${(e as Error).message}`);
    }
  }
  throw new TypeError(`${op}: ${name} must be an int32 Tensor or nested arrays of integers, got ${indices === null ? "null" : typeof indices}`);
}

/** Checks that the tuples of `indices` (its last axis) can index the leading axes of `shape`; returns m. */
function tupleLength(op: string, indices: Tensor, shape: readonly number[], what: string): number {
  if (indices.rank === 0) {
    throw new RangeError(`${op}: indices need at least one axis (the last holds the index tuples), got a scalar; reshape it to [1]`);
  }
  const m = indices.shape[indices.rank - 1]!;
  if (m > shape.length) {
    throw new RangeError(
      `${op}: index tuples of length ${m} (indices ${fmt(indices.shape)}) cannot index ${what} of shape ${fmt(shape)} (rank ${shape.length}); ` +
        `the last axis of indices must be at most the rank`,
    );
  }
  return m;
}

/**
 * Gathers slices of `x` addressed by index tuples (TensorFlow's `gather_nd`): the last axis of `indices`
 * holds tuples of length m that index the first m axes of `x`; each picks `x[i0, …, i(m-1)]`, a slice of
 * shape `x.shape[m:]`. The derivative scatters (adds) the cotangent back, so repeated tuples accumulate.
 * The indices are an input like any other: under `compile` and in an exported model they may change from
 * call to call.
 * @param x a tensor of rank r >= m.
 * @param indices int32 `[..., m]` (or nested arrays of integers; a float tensor holding integers is
 *   accepted), each component in range.
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
  tupleLength(op, idx, x.shape, "x");
  return bind(gatherNdP, [x, idx], undefined);
}

/**
 * Scatters `updates` into a zero tensor of `shape` at index tuples (TensorFlow's `scatter_nd`), adding
 * where tuples repeat; the transpose of {@link gatherNd}, which is its derivative in `updates`.
 * @param indices int32 `[..., m]` (or nested arrays of integers; a float tensor holding integers is
 *   accepted): tuples indexing the first m axes of `shape`.
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
  const m = tupleLength(op, idx, s, "the output");
  const expected = [...idx.shape.slice(0, -1), ...s.slice(m)];
  if (!sameShape(expected, updates.shape)) {
    throw new RangeError(
      `${op}: updates have shape ${fmt(updates.shape)} but indices ${fmt(idx.shape)} scattered into ${fmt(s)} need updates of shape ${fmt(expected)} ` +
        `(the indices' leading axes, then the output's axes after the first ${m})`,
    );
  }
  return bind(scatterP, [updates, idx], { shape: s });
}

// ---------------------------------------------------------------------------------------------------
// segmentSum

const segmentSumP = definePrimitive<ShapeParams>({
  name: "segmentSum",
  impl: ([data, ids], { shape }) => {
    const segments = segmentsOf("segmentSum", ids!, shape[0]!);
    const [out, values] = make(shape, data!.dtype);
    backend().scatterAdd(data!._data!, segments, 0, shape, values);
    return out;
  },
  jvp: ([, ids], [t], _out, { shape }) => (t === null ? null : segmentSum(t!, ids!, shape[0])),
  // Each slice of data went to its segment, so its cotangent is that segment's cotangent.
  vjp: (ct, [, ids]) => [gather(ct, ids!, 0), null],
});

/**
 * Sums the slices of `data` that share a segment id (TensorFlow's `unsorted_segment_sum`): `out[s]` is
 * the sum of `data[i]` over every `i` with `segmentIds[i] = s`, and 0 for a segment with no member. Ids
 * need not be sorted; every id must lie in `[0, numSegments)` (an error otherwise, never dropped).
 * Without `numSegments` the count is read from the ids' values, so ids that are the input of a compiled
 * function or of an exported model need `numSegments` (the output's shape cannot wait for their values).
 * @param data `[...ids.shape, ...rest]`: the ids index its leading axes.
 * @param segmentIds int32 (or an array of integers; a float tensor holding integers is accepted) of shape
 *   `data.shape[:k]` for some k >= 1.
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
  const n = numSegments ?? largestId(op, ids) + 1;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new RangeError(`${op}: numSegments must be a non-negative integer, got ${String(numSegments)}`);
  }
  return bind(segmentSumP, [data, ids], { shape: Object.freeze([n, ...data.shape.slice(k)]) });
}

/** The largest id (-1 for none), read from the ids' values: the default count of segments. */
function largestId(op: string, ids: Tensor): number {
  if (ids._data === undefined) {
    throw new TypeError(
      `${op}: without numSegments the number of segments is read from the ids' values, but these ids ${fmt(ids.shape)} ${ids.dtype} are staged ` +
        `(inside compile or exportOnnx they have no values until the program runs) and the output's shape cannot depend on them; pass numSegments`,
    );
  }
  const v = ids._data;
  let top = -1;
  for (let i = 0; i < v.length; i++) top = Math.max(top, integerAt(op, "segmentIds", v, i));
  return top;
}
