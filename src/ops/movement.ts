/**
 * Movement ops: they rearrange, select or repeat elements without computing new values.
 *
 * Eight primitives carry an engine: `reshape`, `transpose`, `broadcastTo`, `slice`, `pad`, `concat`,
 * `gather` and `scatterAdd`. All are linear, so each JVP applies the op itself to the tangent and each
 * VJP applies its transpose: reshape ↔ reshape, transpose ↔ inverse transpose, broadcastTo ↔ sum over
 * the broadcast axes, slice ↔ pad with zeros, concat ↔ slices, gather ↔ scatterAdd. Everything else
 * (`expandDims`, `squeeze`, `split`, `stack`, `tile`) is derived from them and needs no rules.
 *
 * Conventions, the same in every op here:
 * - axes may be negative (counted from the end);
 * - `slice`'s `begin` may be negative (counted from the end of its axis, as in Python), and a size of -1
 *   means "to the end of the axis";
 * - gather indices must lie in `[0, n)`: a negative or too large index is an error, never wrapped or clamped.
 *
 * Ops return their input unchanged when they would not move anything (reshape to the same shape, the
 * identity permutation, a full slice), and a reshape of a concrete tensor shares its elements (tensors are
 * immutable, so sharing is safe).
 */
import { Tensor } from "../tensor/tensor.js";
import { allocate, type DType } from "../tensor/dtype.js";
import { checkShape, checkSize, fmt, normalizeAxes, normalizeAxis, sameShape, sizeOf } from "../tensor/shape.js";
import { backend } from "../tensor/backend.js";
import { zeros } from "../tensor/creation.js";
import { bind } from "../autodiff/trace.js";
import { definePrimitive, defineNondifferentiable } from "../autodiff/primitive.js";
import { checkTensor, unbroadcast } from "./util.js";

// ---------------------------------------------------------------------------------------------------
// Helpers

/** `Array.isArray` without its type narrowing (which would turn a `readonly Tensor[]` into `any[]`). */
function isList(v: unknown): boolean {
  return Array.isArray(v);
}

function freeze(shape: number[]): readonly number[] {
  return Object.freeze(shape);
}

function checkInts(op: string, name: string, v: unknown): readonly number[] {
  if (!Array.isArray(v)) throw new TypeError(`${op}: ${name} must be an array of integers, got ${String(v)}`);
  for (const e of v as unknown[]) {
    if (typeof e !== "number" || !Number.isInteger(e)) {
      throw new TypeError(`${op}: ${name} must be an array of integers, got ${JSON.stringify(v)}`);
    }
  }
  return v as readonly number[];
}

function make(shape: readonly number[], dtype: DType): [Tensor, ReturnType<typeof allocate>] {
  const data = allocate(dtype, sizeOf(shape));
  return [new Tensor(shape, dtype, data), data];
}

/** A zero tangent standing in for a symbolic zero where a rule needs a concrete operand. */
function zerosOf(x: Tensor): Tensor {
  return zeros(x.shape, { dtype: x.dtype });
}

// ---------------------------------------------------------------------------------------------------
// reshape

interface ReshapeParams {
  readonly shape: readonly number[];
}

const reshapeP = definePrimitive<ReshapeParams>({
  name: "reshape",
  // Tensors are immutable, so the output shares the input's elements.
  impl: ([x], p) => new Tensor(p.shape, x!.dtype, x!._data),
  jvp: (_, [t], out) => reshape(t!, out.shape),
  vjp: (ct, [x]) => [reshape(ct, x!.shape)],
});

/**
 * The same elements (row-major order) in a new shape. One dimension may be -1: it is inferred from the
 * size. The result shares its elements with `x`: no copy is made.
 *
 * @param x a tensor of any shape.
 * @param shape the new shape, with as many elements as `x` (at most one -1).
 * @returns a tensor of shape `shape`.
 * @example
 * ```ts
 * reshape(tensor([1, 2, 3, 4, 5, 6]), [2, -1]).toArray(); // [[1, 2, 3], [4, 5, 6]]
 * ```
 * @category Shape and indexing
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const op = "reshape";
  checkTensor(op, "x", x);
  checkInts(op, "the shape", shape);
  let inferAt = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === -1) {
      if (inferAt >= 0) {
        throw new RangeError(`${op}: the shape ${fmt(shape)} has more than one -1; at most one dimension can be inferred`);
      }
      inferAt = i;
    } else if (d < 0) {
      throw new RangeError(`${op}: invalid dimension ${d} in ${fmt(shape)}; dimensions are non-negative integers (or one -1 to infer)`);
    } else known *= d;
  }
  const size = x.size;
  const target: number[] = shape.slice();
  if (inferAt >= 0) {
    if (known === 0 || size % known !== 0) {
      throw new RangeError(
        `${op}: cannot reshape ${fmt(x.shape)} (${size} elements) into ${fmt(shape)}: ` +
          (known === 0 ? "the other dimensions have no elements, so -1 is ambiguous" : `${size} is not a multiple of ${known}`),
      );
    }
    target[inferAt] = size / known;
  } else if (known !== size) {
    throw new RangeError(
      `${op}: cannot reshape ${fmt(x.shape)} (${size} elements) into ${fmt(shape)} (${known} elements); ` +
        `the sizes must agree (use -1 for one dimension to infer it)`,
    );
  }
  if (sameShape(target, x.shape)) return x;
  return bind(reshapeP, [x], { shape: freeze(target) });
}

// ---------------------------------------------------------------------------------------------------
// transpose

interface TransposeParams {
  readonly perm: readonly number[];
}

function invert(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  for (let i = 0; i < perm.length; i++) inv[perm[i]!] = i;
  return inv;
}

const transposeP = definePrimitive<TransposeParams>({
  name: "transpose",
  impl: ([x], { perm }) => {
    const [out, data] = make(freeze(perm.map((a) => x!.shape[a]!)), x!.dtype);
    backend().transpose(x!._data!, x!.shape, perm, data);
    return out;
  },
  jvp: (_, [t], _out, { perm }) => transpose(t!, perm),
  vjp: (ct, _, _out, { perm }) => [transpose(ct, invert(perm))],
});

/**
 * Permutes the axes: output axis `i` is input axis `perm[i]`.
 *
 * @param x a tensor of shape `[d0, …, d(r-1)]`.
 * @param perm a permutation of `0 … r-1` (negative entries count from the end); by default the axes
 *   are reversed (for a matrix, the usual transpose).
 * @returns a tensor of shape `perm.map(i => x.shape[i])`.
 * @example
 * ```ts
 * transpose(tensor([[1, 2, 3], [4, 5, 6]])).toArray(); // [[1, 4], [2, 5], [3, 6]]
 * transpose(zeros([2, 3, 4]), [1, 2, 0]).shape;        // [3, 4, 2]
 * ```
 * @category Shape and indexing
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const op = "transpose";
  checkTensor(op, "x", x);
  const r = x.rank;
  let p: number[];
  if (perm === undefined) {
    p = Array.from({ length: r }, (_, i) => r - 1 - i);
  } else {
    checkInts(op, "perm", perm);
    if (perm.length !== r) {
      throw new RangeError(
        `${op}: perm ${JSON.stringify(perm)} has ${perm.length} entries but the tensor of shape ${fmt(x.shape)} has rank ${r}; ` +
          `give one entry per axis`,
      );
    }
    p = perm.map((a) => normalizeAxis(op, a, r));
    const seen = new Array<boolean>(r).fill(false);
    for (const a of p) {
      if (seen[a]) {
        throw new RangeError(`${op}: perm ${JSON.stringify(perm)} is not a permutation of 0..${r - 1} (axis ${a} appears twice)`);
      }
      seen[a] = true;
    }
  }
  // Moving only size-1 axes (or nothing) keeps the row-major order: that is a reshape, with no copy.
  let last = -1;
  let orderKept = true;
  for (const a of p) {
    if (x.shape[a] === 1) continue;
    if (a < last) {
      orderKept = false;
      break;
    }
    last = a;
  }
  if (orderKept) return reshape(x, p.map((a) => x.shape[a]!));
  return bind(transposeP, [x], { perm: freeze(p) });
}

// ---------------------------------------------------------------------------------------------------
// expandDims, squeeze (derived from reshape)

/** Normalises the position of a new axis in a tensor of rank r: `[-(r+1), r]`, negative from the end. */
function insertionAxis(op: string, axis: number, x: Tensor): number {
  const r = x.rank;
  if (typeof axis !== "number" || !Number.isInteger(axis) || axis < -(r + 1) || axis > r) {
    throw new RangeError(
      `${op}: axis ${String(axis)} is out of range for a new axis in a tensor of shape ${fmt(x.shape)} (rank ${r}); ` +
        `a new axis goes at a position from ${-(r + 1)} to ${r} (-1 appends it)`,
    );
  }
  return axis < 0 ? axis + r + 1 : axis;
}

/**
 * Inserts an axis of size 1.
 *
 * @param x a tensor of rank `r`.
 * @param axis where the new axis goes, in `[-(r+1), r]` (negative counts from the end: -1 appends).
 * @returns a tensor of rank `r + 1`.
 * @example
 * ```ts
 * expandDims(zeros([2, 3]), 1).shape;  // [2, 1, 3]
 * expandDims(zeros([2, 3]), -1).shape; // [2, 3, 1]
 * ```
 * @category Shape and indexing
 */
export function expandDims(x: Tensor, axis = 0): Tensor {
  const op = "expandDims";
  checkTensor(op, "x", x);
  const a = insertionAxis(op, axis, x);
  const shape = x.shape.slice();
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/**
 * Removes axes of size 1: all of them, or only those listed.
 *
 * @param x a tensor.
 * @param axes the axes to remove (each must have size 1); every size-1 axis by default.
 * @returns the tensor without those axes.
 * @example
 * ```ts
 * squeeze(zeros([1, 3, 1])).shape;     // [3]
 * squeeze(zeros([1, 3, 1]), 0).shape;  // [3, 1]
 * ```
 * @category Shape and indexing
 */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  const op = "squeeze";
  checkTensor(op, "x", x);
  let drop: number[];
  if (axes === undefined) {
    drop = [];
    for (let i = 0; i < x.rank; i++) if (x.shape[i] === 1) drop.push(i);
  } else {
    drop = normalizeAxes(op, axes, x.rank);
    for (const a of drop) {
      if (x.shape[a] !== 1) {
        throw new RangeError(
          `${op}: cannot squeeze axis ${a} of shape ${fmt(x.shape)}: it has size ${x.shape[a]}, not 1`,
        );
      }
    }
  }
  return reshape(x, x.shape.filter((_, i) => !drop.includes(i)));
}

// ---------------------------------------------------------------------------------------------------
// broadcastTo

interface ShapeParams {
  readonly shape: readonly number[];
}

const broadcastToP = definePrimitive<ShapeParams>({
  name: "broadcastTo",
  impl: ([x], { shape }) => {
    const [out, data] = make(shape, x!.dtype);
    backend().broadcastTo(x!._data!, x!.shape, shape, data);
    return out;
  },
  jvp: (_, [t], _out, { shape }) => broadcastTo(t!, shape),
  vjp: (ct, [x]) => [unbroadcast(ct, x!.shape)],
});

/**
 * Repeats `x` along new leading axes and along its size-1 axes, by NumPy's broadcasting rules: the
 * shapes are aligned on the right, and each dimension of `x` must equal the target's or be 1.
 *
 * @param x a tensor of rank at most `shape.length`.
 * @param shape the target shape.
 * @returns a tensor of shape `shape`.
 * @example
 * ```ts
 * broadcastTo(tensor([1, 2]), [2, 2]).toArray(); // [[1, 2], [1, 2]]
 * broadcastTo(tensor([[1], [2]]), [2, 3]).toArray(); // [[1, 1, 1], [2, 2, 2]]
 * ```
 * @category Shape and indexing
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const op = "broadcastTo";
  checkTensor(op, "x", x);
  const target = checkShape(op, shape);
  if (sameShape(x.shape, target)) return x;
  const lead = target.length - x.rank;
  if (lead < 0) {
    throw new RangeError(
      `${op}: cannot broadcast ${fmt(x.shape)} to ${fmt(target)}: the target has fewer axes (${target.length}) than the tensor (${x.rank})`,
    );
  }
  for (let i = 0; i < x.rank; i++) {
    const d = x.shape[i]!;
    const t = target[lead + i]!;
    if (d !== t && d !== 1) {
      throw new RangeError(
        `${op}: cannot broadcast ${fmt(x.shape)} to ${fmt(target)}: dimension ${i} of the tensor is ${d} but the target's is ${t}; ` +
          `each dimension must equal the target's or be 1 (shapes align on the right)`,
      );
    }
  }
  // Adding or keeping only size-1 axes does not repeat anything: a reshape (no copy) suffices.
  if (sizeOf(target) === x.size) return reshape(x, target);
  return bind(broadcastToP, [x], { shape: target });
}

// ---------------------------------------------------------------------------------------------------
// slice and pad (each other's transpose)

interface SliceParams {
  readonly begin: readonly number[];
  readonly size: readonly number[];
}

const sliceP = definePrimitive<SliceParams>({
  name: "slice",
  impl: ([x], { begin, size }) => {
    const [out, data] = make(size, x!.dtype);
    backend().slice(x!._data!, x!.shape, begin, size, data);
    return out;
  },
  jvp: (_, [t], _out, p) => slice(t!, p.begin, p.size),
  vjp: (ct, [x], _out, { begin, size }) => [
    pad(ct, begin.map((b, i) => [b, x!.shape[i]! - b - size[i]!] as const)),
  ],
});

/**
 * A contiguous block of `x`: along each axis `i`, the elements `begin[i]` to `begin[i] + size[i] - 1`.
 *
 * `begin` may be shorter than the rank (the remaining axes are taken whole), and a negative `begin[i]`
 * counts from the end of the axis (`-1` is the last element). A `size[i]` of -1 means "to the end".
 *
 * @param x a tensor of shape `[d0, …]`.
 * @param begin start index per axis, in `[-di, di]`.
 * @param size extent per axis (-1: to the end); by default every axis runs to the end.
 * @returns a tensor of shape `size` (with the -1s resolved).
 * @example
 * ```ts
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * slice(x, [0, 1], [2, 2]).toArray(); // [[2, 3], [5, 6]]
 * slice(x, [1]).toArray();            // [[4, 5, 6]]
 * slice(x, [0, -1]).toArray();        // [[3], [6]]
 * ```
 * @category Shape and indexing
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  const op = "slice";
  checkTensor(op, "x", x);
  checkInts(op, "begin", begin);
  if (size !== undefined) checkInts(op, "size", size);
  const r = x.rank;
  if (begin.length > r) {
    throw new RangeError(`${op}: begin ${JSON.stringify(begin)} has ${begin.length} entries but the tensor of shape ${fmt(x.shape)} has rank ${r}`);
  }
  if (size !== undefined && size.length !== begin.length) {
    throw new RangeError(
      `${op}: begin ${JSON.stringify(begin)} and size ${JSON.stringify(size)} must have the same length (one entry per sliced axis)`,
    );
  }
  const b = new Array<number>(r);
  const s = new Array<number>(r);
  let whole = true;
  for (let i = 0; i < r; i++) {
    const d = x.shape[i]!;
    let bi = i < begin.length ? begin[i]! : 0;
    if (bi < -d || bi > d) {
      throw new RangeError(
        `${op}: begin ${bi} is out of range for axis ${i} of shape ${fmt(x.shape)} (valid: ${-d} to ${d}; negative counts from the end)`,
      );
    }
    if (bi < 0) bi += d;
    let si = size !== undefined && i < size.length ? size[i]! : -1;
    if (si === -1) si = d - bi;
    else if (si < 0) {
      throw new RangeError(`${op}: size ${si} at axis ${i} is invalid; sizes are non-negative integers, or -1 for "to the end"`);
    } else if (bi + si > d) {
      throw new RangeError(
        `${op}: the slice at axis ${i} runs past the end of shape ${fmt(x.shape)} (begin ${bi} + size ${si} > ${d})`,
      );
    }
    b[i] = bi;
    s[i] = si;
    if (bi !== 0 || si !== d) whole = false;
  }
  if (whole) return x;
  return bind(sliceP, [x], { begin: freeze(b), size: freeze(s) });
}

interface PadParams {
  readonly paddings: readonly (readonly [number, number])[];
  readonly value: number;
}

const padP = definePrimitive<PadParams>({
  name: "pad",
  impl: ([x], { paddings, value }) => {
    const outShape = freeze(x!.shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1]));
    const [out, data] = make(outShape, x!.dtype);
    backend().pad(x!._data!, x!.shape, paddings.map((p) => p[0]), outShape, value, data);
    return out;
  },
  // The fill value is a constant: its tangent is zero.
  jvp: (_, [t], _out, { paddings }) => pad(t!, paddings, 0),
  vjp: (ct, [x], _out, { paddings }) => [slice(ct, paddings.map((p) => p[0]), x!.shape)],
});

/**
 * How {@link pad} fills: `'constant'` (a fill value), `'reflect'` (mirrored without repeating the edge:
 * `[1, 2, 3]` padded by 2 on each side is `[3, 2, 1, 2, 3, 2, 1]`) or `'symmetric'` (mirrored with the
 * edge repeated: `[2, 1, 1, 2, 3, 3, 2]`), the modes of TensorFlow's `pad` (NumPy's `reflect` and `symmetric`).
 * @category Shape and indexing
 */
export type PadMode = "constant" | "reflect" | "symmetric";

/**
 * Options of {@link pad}.
 * @category Shape and indexing
 */
export interface PadOptions {
  /** The fill mode (default `'constant'`). */
  mode?: PadMode;
  /** The fill value of `'constant'` mode (default 0). */
  value?: number;
}

/**
 * Pads along every axis: along axis `i`, `paddings[i][0]` elements before and `paddings[i][1]` after,
 * with a constant (the default) or a mirror image of the tensor's edge (`'reflect'`, `'symmetric'`).
 * Mirrored padding is differentiable in `x`: a padded element passes its cotangent to the element it copies.
 *
 * @param x a tensor of rank `r`.
 * @param paddings `r` pairs `[before, after]` of non-negative integers; `'reflect'` allows up to
 *   `x.shape[i] - 1` on each side, `'symmetric'` up to `x.shape[i]`.
 * @param value the fill value (default 0; an integer for int32 tensors), or options `{ mode, value }`.
 * @returns a tensor of shape `x.shape[i] + before + after` per axis.
 * @example
 * ```ts
 * pad(tensor([[1, 2]]), [[1, 0], [0, 1]]).toArray();                      // [[0, 0, 0], [1, 2, 0]]
 * pad(tensor([1, 2, 3]), [[2, 2]], { mode: "reflect" }).toArray();   // [3, 2, 1, 2, 3, 2, 1]
 * pad(tensor([1, 2, 3]), [[2, 2]], { mode: "symmetric" }).toArray(); // [2, 1, 1, 2, 3, 3, 2]
 * ```
 * @category Shape and indexing
 */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value: number | PadOptions = 0): Tensor {
  const op = "pad";
  checkTensor(op, "x", x);
  if (typeof value === "object" && value !== null) {
    const mode = value.mode ?? "constant";
    if (mode !== "constant" && mode !== "reflect" && mode !== "symmetric") {
      throw new TypeError(`${op}: unknown mode ${JSON.stringify(mode)}; use 'constant', 'reflect' or 'symmetric'`);
    }
    if (mode !== "constant") {
      if (value.value !== undefined) throw new TypeError(`${op}: a fill value only applies to 'constant' mode, not '${mode}'`);
      return mirrorPad(x, paddings, mode);
    }
    return pad(x, paddings, value.value ?? 0);
  }
  const { pairs: ps, none } = checkPaddings(op, x, paddings);
  if (typeof value !== "number") throw new TypeError(`${op}: the fill value must be a number, got ${typeof value}`);
  if (x.dtype === "int32" && !Number.isInteger(value)) {
    throw new RangeError(`${op}: the fill value ${value} is not an integer, but the tensor is int32; cast it to float32 first`);
  }
  if (none) return x;
  return bind(padP, [x], { paddings: Object.freeze(ps), value });
}

/** Validates `paddings` (one `[before, after]` pair of non-negative integers per axis); returns frozen pairs. */
function checkPaddings(op: string, x: Tensor, paddings: readonly (readonly [number, number])[]): { pairs: (readonly [number, number])[]; none: boolean } {
  if (!Array.isArray(paddings) || paddings.length !== x.rank) {
    throw new RangeError(
      `${op}: paddings must hold one [before, after] pair per axis: the tensor of shape ${fmt(x.shape)} has rank ${x.rank}, ` +
        `got ${JSON.stringify(paddings)}`,
    );
  }
  let none = true;
  const ps: (readonly [number, number])[] = [];
  for (let i = 0; i < paddings.length; i++) {
    const p = paddings[i] as unknown;
    if (
      !Array.isArray(p) ||
      p.length !== 2 ||
      !p.every((v) => typeof v === "number" && Number.isInteger(v) && v >= 0)
    ) {
      throw new RangeError(
        `${op}: paddings[${i}] must be a pair [before, after] of non-negative integers, got ${JSON.stringify(p)}`,
      );
    }
    const pair = Object.freeze([p[0] as number, p[1] as number] as const);
    if (pair[0] !== 0 || pair[1] !== 0) none = false;
    ps.push(pair);
  }
  return { pairs: ps, none };
}

/** Reflect or symmetric padding: one `gather` per padded axis, with the mirrored source positions. */
function mirrorPad(x: Tensor, paddings: readonly (readonly [number, number])[], mode: "reflect" | "symmetric"): Tensor {
  const op = "pad";
  checkPaddings(op, x, paddings);
  let y = x;
  paddings.forEach(([before, after], axis) => {
    if (before === 0 && after === 0) return;
    const d = x.shape[axis]!;
    const most = mode === "reflect" ? d - 1 : d;
    if (before > most || after > most) {
      throw new RangeError(
        `${op}: ${mode} padding of [${before}, ${after}] on axis ${axis} of shape ${fmt(x.shape)} is too wide: ` +
          `${mode} mode allows at most ${most} on each side of an axis of size ${d} (${mode === "reflect" ? "its size - 1" : "its size"})`,
      );
    }
    const positions = Array.from({ length: before + d + after }, (_, o) => {
      const p = o - before;
      if (p < 0) return mode === "reflect" ? -p : -p - 1;
      if (p >= d) return mode === "reflect" ? 2 * (d - 1) - p : 2 * d - 1 - p;
      return p;
    });
    y = gather(y, positions, axis);
  });
  return y;
}

// ---------------------------------------------------------------------------------------------------
// concat and the ops derived from slice / concat

interface AxisParams {
  readonly axis: number;
}

const concatP = definePrimitive<AxisParams>({
  name: "concat",
  impl: (xs, { axis }) => {
    const first = xs[0]!;
    const shape = first.shape.slice();
    shape[axis] = 0;
    for (const x of xs) shape[axis] += x.shape[axis]!;
    const [out, data] = make(freeze(shape), first.dtype);
    backend().concat(xs.map((x) => x._data!), xs.map((x) => x.shape), axis, data);
    return out;
  },
  jvp: (xs, ts, _out, { axis }) => concat(ts.map((t, i) => t ?? zerosOf(xs[i]!)), axis),
  vjp: (ct, xs, _out, { axis }) => {
    let at = 0;
    return xs.map((x) => {
      const begin = new Array<number>(ct.rank).fill(0);
      begin[axis] = at;
      at += x.shape[axis]!;
      return slice(ct, begin, x.shape);
    });
  },
});

/** Checks that `tensors` is a non-empty array of tensors, naming the first bad element; returns the first. */
function checkTensorList(op: string, tensors: readonly Tensor[]): Tensor {
  if (!isList(tensors) || tensors.length === 0) {
    throw new RangeError(`${op}: expected a non-empty array of tensors`);
  }
  tensors.forEach((t, i) => checkTensor(op, `tensors[${i}]`, t));
  return tensors[0]!;
}

/**
 * Joins tensors end to end along an existing axis.
 *
 * @param tensors one or more tensors of the same dtype and rank (at least 1), with equal dimensions
 *   except along `axis`.
 * @param axis the axis to join along (default 0; negative counts from the end).
 * @returns a tensor whose `axis` dimension is the sum of the inputs'.
 * @example
 * ```ts
 * concat([tensor([[1, 2]]), tensor([[3, 4], [5, 6]])]).toArray(); // [[1, 2], [3, 4], [5, 6]]
 * concat([tensor([[1], [2]]), tensor([[3], [4]])], 1).toArray();  // [[1, 3], [2, 4]]
 * ```
 * @category Shape and indexing
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  const op = "concat";
  const first = checkTensorList(op, tensors);
  if (first.rank === 0) {
    throw new RangeError(`${op}: cannot concatenate scalars (rank 0); use stack to create a new axis`);
  }
  const a = normalizeAxis(op, axis, first.rank);
  for (let i = 1; i < tensors.length; i++) {
    const t = tensors[i]!;
    if (t.dtype !== first.dtype) {
      throw new TypeError(
        `${op}: tensors[${i}] has dtype ${t.dtype} but tensors[0] has ${first.dtype}; cast them to one dtype first`,
      );
    }
    const ok = t.rank === first.rank && t.shape.every((d: number, j: number) => j === a || d === first.shape[j]);
    if (!ok) {
      throw new RangeError(
        `${op}: tensors[${i}] has shape ${fmt(t.shape)}, incompatible with tensors[0] of shape ${fmt(first.shape)} along axis ${a}; ` +
          `all dimensions except axis ${a} must agree`,
      );
    }
  }
  if (tensors.length === 1) return first;
  return bind(concatP, tensors, { axis: a });
}

/**
 * Joins tensors of one shape along a new axis.
 *
 * @param tensors one or more tensors of the same shape and dtype.
 * @param axis where the new axis goes in the result (default 0; in `[-(r+1), r]`).
 * @returns a tensor of rank `r + 1` whose `axis` dimension is `tensors.length`.
 * @example
 * ```ts
 * stack([tensor([1, 2]), tensor([3, 4])]).toArray();    // [[1, 2], [3, 4]]
 * stack([tensor([1, 2]), tensor([3, 4])], 1).toArray(); // [[1, 3], [2, 4]]
 * ```
 * @category Shape and indexing
 */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  const op = "stack";
  const first = checkTensorList(op, tensors);
  const a = insertionAxis(op, axis, first);
  tensors.forEach((t, i) => {
    if (!sameShape(t.shape, first.shape)) {
      throw new RangeError(
        `${op}: tensors[${i}] has shape ${fmt(t.shape)} but tensors[0] has ${fmt(first.shape)}; stacked tensors must have one shape`,
      );
    }
  });
  return concat(tensors.map((t) => expandDims(t, a)), a);
}

/**
 * Splits a tensor along an axis into consecutive parts.
 *
 * @param x a tensor of rank at least 1.
 * @param sizes a number of equal parts (it must divide the axis), or the size of each part (they must
 *   sum to the axis; one entry may be -1 to take the rest).
 * @param axis the axis to split (default 0).
 * @returns the parts, in order.
 * @example
 * ```ts
 * split(tensor([1, 2, 3, 4, 5, 6]), 3).map((t) => t.toArray()); // [[1, 2], [3, 4], [5, 6]]
 * split(tensor([1, 2, 3, 4, 5, 6]), [1, -1]).map((t) => t.shape); // [[1], [5]]
 * ```
 * @category Shape and indexing
 */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const op = "split";
  checkTensor(op, "x", x);
  if (x.rank === 0) throw new RangeError(`${op}: cannot split a scalar (rank 0)`);
  const a = normalizeAxis(op, axis, x.rank);
  const d = x.shape[a]!;
  let parts: number[];
  if (typeof sizes === "number") {
    if (!Number.isInteger(sizes) || sizes < 1 || d % sizes !== 0) {
      throw new RangeError(
        `${op}: cannot split axis ${a} of shape ${fmt(x.shape)} (size ${d}) into ${sizes} equal parts; ` +
          `the count must be a positive integer that divides ${d}, or pass the sizes of the parts`,
      );
    }
    parts = new Array<number>(sizes).fill(d / sizes);
  } else {
    checkInts(op, "sizes", sizes);
    parts = sizes.slice();
    const infer = parts.indexOf(-1);
    if (infer !== parts.lastIndexOf(-1)) throw new RangeError(`${op}: sizes ${JSON.stringify(sizes)} has more than one -1`);
    if (parts.some((p) => p < -1)) throw new RangeError(`${op}: sizes ${JSON.stringify(sizes)} must be non-negative (or one -1)`);
    const known = parts.reduce((acc, p) => (p === -1 ? acc : acc + p), 0);
    if (infer >= 0 && known <= d) parts[infer] = d - known;
    else if (known !== d || infer >= 0) {
      throw new RangeError(
        `${op}: sizes ${JSON.stringify(sizes)} sum to ${known}, but axis ${a} of shape ${fmt(x.shape)} has size ${d}; they must add up`,
      );
    }
  }
  const out: Tensor[] = [];
  let at = 0;
  for (const p of parts) {
    const begin = new Array<number>(x.rank).fill(0);
    const size = x.shape.slice();
    begin[a] = at;
    size[a] = p;
    out.push(slice(x, begin, size));
    at += p;
  }
  return out;
}

/**
 * Repeats a tensor `reps[i]` times along each axis `i`, with NumPy's rules for unequal lengths: a shorter
 * `reps` is padded with leading 1s, and a longer one gives the tensor new leading axes of size 1 first.
 * (Derived: a reshape that interleaves size-1 axes, a broadcast, and a reshape; its derivative sums the copies.)
 *
 * @param x a tensor of rank `r`.
 * @param reps non-negative integers, one per axis (aligned on the right).
 * @returns a tensor of rank `max(r, reps.length)` whose axis `i` has size `shape[i] * reps[i]`.
 * @example
 * ```ts
 * tile(tensor([[1, 2]]), [2, 2]).toArray(); // [[1, 2, 1, 2], [1, 2, 1, 2]]
 * tile(tensor([1, 2]), [2, 1]).toArray();   // [[1, 2], [1, 2]]
 * ```
 * @category Shape and indexing
 */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  const op = "tile";
  checkTensor(op, "x", x);
  checkInts(op, "reps", reps);
  if (reps.some((r) => r < 0)) throw new RangeError(`${op}: reps ${JSON.stringify(reps)} must be non-negative integers`);
  const rank = Math.max(x.rank, reps.length);
  const shape = [...new Array<number>(rank - x.rank).fill(1), ...x.shape];
  const r = [...new Array<number>(rank - reps.length).fill(1), ...reps];
  checkSize(op, shape.map((d, i) => d * r[i]!));
  const base = rank === x.rank ? x : reshape(x, shape);
  if (r.every((k) => k === 1)) return base;
  const interleaved: number[] = [];
  const repeated: number[] = [];
  for (let i = 0; i < rank; i++) {
    interleaved.push(1, shape[i]!);
    repeated.push(r[i]!, shape[i]!);
  }
  const big = broadcastTo(reshape(base, interleaved), repeated);
  return reshape(big, shape.map((d, i) => d * r[i]!));
}

// ---------------------------------------------------------------------------------------------------
// gather and scatterAdd (each other's transpose)

const gatherP = definePrimitive<AxisParams>({
  name: "gather",
  impl: ([x, indices], { axis }) => {
    const outShape = freeze([...x!.shape.slice(0, axis), ...indices!.shape, ...x!.shape.slice(axis + 1)]);
    const [out, data] = make(outShape, x!.dtype);
    backend().gather(x!._data!, x!.shape, indices!._data as Int32Array, axis, data);
    return out;
  },
  jvp: ([, indices], [t], _out, { axis }) => (t === null ? null : gather(t!, indices!, axis)),
  vjp: (ct, [x, indices], _out, { axis }) => [scatterAdd(ct, indices!, axis, x!.shape), null],
});

interface ScatterParams {
  readonly axis: number;
  readonly shape: readonly number[];
}

const scatterAddP = definePrimitive<ScatterParams>({
  name: "scatterAdd",
  impl: ([updates, indices], { axis, shape }) => {
    const [out, data] = make(shape, updates!.dtype);
    backend().scatterAdd(updates!._data!, indices!._data as Int32Array, axis, shape, data);
    return out;
  },
  jvp: ([, indices], [t], _out, { axis, shape }) => (t === null ? null : scatterAdd(t!, indices!, axis, shape)),
  vjp: (ct, [, indices], _out, { axis }) => [gather(ct, indices!, axis), null],
});

/**
 * Validates indices for an axis of size `n` and returns them as a concrete int32 tensor. Numbers
 * and float tensors holding integers are accepted (labels often arrive as float32).
 */
function checkIndices(op: string, indices: Tensor | readonly number[], n: number, axisDesc: string): Tensor {
  let t: Tensor;
  if (indices instanceof Tensor) {
    t = indices;
  } else if (Array.isArray(indices)) {
    const data = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const v = indices[i] as unknown;
      if (typeof v !== "number" || !Number.isInteger(v)) {
        throw new TypeError(`${op}: indices must be integers, got ${JSON.stringify(v)} at position ${i}`);
      }
      data[i] = v;
      if (v < 0 || v >= n) {
        throw new RangeError(`${op}: index ${v} at position ${i} is out of range for ${axisDesc} (valid: 0 to ${n - 1})`);
      }
    }
    return new Tensor(freeze([indices.length]), "int32", data);
  } else {
    throw new TypeError(`${op}: indices must be an int32 Tensor or an array of integers, got ${typeof indices}`);
  }
  // Staged indices have no values yet: an equation checks them when the program runs.
  const c = t._concrete;
  if (c._data === undefined) return bind(checkedIndicesP, [c], { op, n, axisDesc });
  return validIndices(op, t, n, axisDesc);
}

interface IndexCheckParams {
  readonly op: string;
  readonly n: number;
  readonly axisDesc: string;
}

/** @internal Checks indices when they only get values later (in a staged program); no derivative. */
export const checkedIndicesP = defineNondifferentiable<IndexCheckParams>("checkIndices", ([t], p) => validIndices(p.op, t!, p.n, p.axisDesc));

function validIndices(op: string, t: Tensor, n: number, axisDesc: string): Tensor {
  const v = t._values;
  let data = v;
  if (t.dtype !== "int32") data = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const k = v[i]!;
    if (!Number.isInteger(k)) {
      throw new TypeError(`${op}: indices must be integers, got ${k} at flat position ${i} (cast them with cast('int32'))`);
    }
    if (k < 0 || k >= n) {
      throw new RangeError(`${op}: index ${k} at flat position ${i} is out of range for ${axisDesc} (valid: 0 to ${n - 1})`);
    }
    data[i] = k;
  }
  if (t.dtype === "int32" && t._data !== undefined) return t;
  return new Tensor(t.shape, "int32", data);
}

/**
 * Takes the slices of `x` at `indices` along `axis`: `out[…, j…, …] = x[…, indices[j…], …]`.
 *
 * The derivative with respect to `x` scatters (adds) the cotangent back into the rows it came from, so
 * repeated indices accumulate. Indices carry no derivative.
 *
 * @param x a tensor of rank at least 1.
 * @param indices an int32 tensor of any shape (or an array of integers), each in `[0, x.shape[axis])`;
 *   float tensors holding integers are accepted and converted.
 * @param axis the axis to index (default 0).
 * @returns a tensor of shape `[...x.shape[:axis], ...indices.shape, ...x.shape[axis+1:]]`.
 * @example
 * ```ts
 * gather(tensor([[1, 2], [3, 4], [5, 6]]), [2, 0]).toArray(); // [[5, 6], [1, 2]]
 * gather(tensor([[1, 2], [3, 4]]), [1], 1).toArray();         // [[2], [4]]
 * ```
 * @category Shape and indexing
 */
export function gather(x: Tensor, indices: Tensor | readonly number[], axis = 0): Tensor {
  const op = "gather";
  checkTensor(op, "x", x);
  if (x.rank === 0) throw new RangeError(`${op}: cannot gather from a scalar (rank 0)`);
  const a = normalizeAxis(op, axis, x.rank);
  const idx = checkIndices(op, indices, x.shape[a]!, `axis ${a} of shape ${fmt(x.shape)}`);
  return bind(gatherP, [x, idx], { axis: a });
}

/**
 * @internal The transpose of {@link gather}: a zero tensor of shape `shape` into which the slices of
 * `updates` are added at `indices` along `axis` (duplicates accumulate). `gather` is its derivative.
 *
 * @param updates a tensor of shape `[...shape[:axis], ...indices.shape, ...shape[axis+1:]]`.
 * @param indices int32 indices, each in `[0, shape[axis])`.
 * @param axis the axis indexed.
 * @param shape the output shape.
 * @returns a tensor of shape `shape` and the dtype of `updates`: `scatterAdd(tensor([1, 2, 3]), [0, 2, 0], 0, [3])`
 * is `[4, 0, 2]`.
 */
export function scatterAdd(updates: Tensor, indices: Tensor | readonly number[], axis: number, shape: readonly number[]): Tensor {
  const op = "scatterAdd";
  checkTensor(op, "updates", updates);
  const s = checkShape(op, shape);
  if (s.length === 0) throw new RangeError(`${op}: the output shape must have rank at least 1`);
  const a = normalizeAxis(op, axis, s.length);
  const idx = checkIndices(op, indices, s[a]!, `axis ${a} of shape ${fmt(s)}`);
  const expected = [...s.slice(0, a), ...idx.shape, ...s.slice(a + 1)];
  if (!sameShape(expected, updates.shape)) {
    throw new RangeError(
      `${op}: updates have shape ${fmt(updates.shape)} but scattering indices of shape ${fmt(idx.shape)} into ${fmt(s)} ` +
        `along axis ${a} needs ${fmt(expected)}`,
    );
  }
  return bind(scatterAddP, [updates, idx], { axis: a, shape: s });
}
