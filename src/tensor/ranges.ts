/**
 * Tensors built from a rule rather than from data: ranges, evenly spaced points, identity matrices,
 * one-hot encodings, and tensors shaped like another.
 */
import { Tensor } from "./tensor.js";
import { allocate, checkDType, fillFrom, type DType } from "./dtype.js";
import { full, type CreationOptions } from "./creation.js";
import { MAX_TENSOR_SIZE, checkSize } from "./shape.js";

function dtypeOf(op: string, options: CreationOptions | undefined, fallback: DType = "float32"): DType {
  return options?.dtype === undefined ? fallback : checkDType(op, options.dtype);
}

function finite(op: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new RangeError(`${op}: ${name} must be a finite number, got ${String(v)}`);
  }
  return v;
}

/** Refuses sizes no tensor can hold ({@link MAX_TENSOR_SIZE}), before trying to allocate them. */
const MAX_ELEMENTS = MAX_TENSOR_SIZE;

/**
 * Evenly spaced values in the half-open interval `[start, stop)`: `start, start + step, …`.
 * With one argument, the range is `[0, start)`.
 *
 * @param start the first value (or, alone, the end of `[0, start)`).
 * @param stop the end (exclusive).
 * @param step the spacing (default 1; negative for a decreasing range; never 0).
 * @param options `dtype` (`'float32'` by default; `'int32'` needs integer start and step).
 * @returns a rank-1 tensor of `max(0, ceil((stop - start) / step))` elements.
 * @example
 * ```ts
 * arange(4).toArray();           // [0, 1, 2, 3]
 * arange(1, 2, 0.25).toArray();  // [1, 1.25, 1.5, 1.75]
 * arange(3, 0, -1).toArray();    // [3, 2, 1]
 * ```
 * @category Tensors
 */
export function arange(start: number, stop?: number, step = 1, options?: CreationOptions): Tensor {
  const op = "arange";
  let lo = finite(op, "start", start);
  let hi: number;
  if (stop === undefined) {
    hi = lo;
    lo = 0;
  } else hi = finite(op, "stop", stop);
  finite(op, "step", step);
  if (step === 0) throw new RangeError(`${op}: step must not be 0 (the range would never reach ${hi})`);
  const dtype = dtypeOf(op, options);
  if (dtype === "int32" && (!Number.isInteger(lo) || !Number.isInteger(step))) {
    throw new RangeError(`${op}: an int32 range needs an integer start and step, got start ${lo}, step ${step}; use a float dtype`);
  }
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  if (n > MAX_ELEMENTS) throw new RangeError(`${op}: the range from ${lo} to ${hi} by ${step} has ${n} elements, more than a tensor can hold (${MAX_ELEMENTS}, 2^31 - 1); use a larger step or a shorter range`);
  const last = lo + (n - 1) * step;
  if (dtype === "int32" && n > 0 && (Math.min(lo, last) < -(2 ** 31) || Math.max(lo, last) >= 2 ** 31)) {
    throw new RangeError(`${op}: the range from ${lo} to ${last} leaves the int32 range; use a float dtype`);
  }
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = lo + i * step;
  return new Tensor(Object.freeze([n]), dtype, data);
}

/**
 * `num` evenly spaced values from `start` to `stop`, both included.
 *
 * @param start the first value.
 * @param stop the last value (exactly, when `num >= 2`).
 * @param num how many values (a non-negative integer).
 * @param options `dtype` (`'float32'` by default).
 * @returns a rank-1 tensor of `num` elements.
 * @example
 * ```ts
 * linspace(0, 1, 5).toArray(); // [0, 0.25, 0.5, 0.75, 1]
 * ```
 * @category Tensors
 */
export function linspace(start: number, stop: number, num: number, options?: CreationOptions): Tensor {
  const op = "linspace";
  finite(op, "start", start);
  finite(op, "stop", stop);
  if (typeof num !== "number" || !Number.isInteger(num) || num < 0) {
    throw new RangeError(`${op}: num must be a non-negative integer, got ${String(num)}`);
  }
  if (num > MAX_ELEMENTS) throw new RangeError(`${op}: num ${num} is more than a tensor can hold (${MAX_ELEMENTS}, 2^31 - 1)`);
  const dtype = dtypeOf(op, options);
  const values = new Array<number>(num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) values[i] = start + i * step;
  if (num > 1) values[num - 1] = stop;
  if (dtype === "int32") {
    for (let i = 0; i < num; i++) values[i] = Math.round(values[i]!);
  }
  const data = allocate(dtype, num);
  fillFrom(op, dtype, values, data);
  return new Tensor(Object.freeze([num]), dtype, data);
}

/**
 * An identity matrix: ones on the main diagonal, zeros elsewhere.
 *
 * @param n the number of rows.
 * @param m the number of columns (default `n`).
 * @param options `dtype`.
 * @returns a tensor of shape `[n, m]`.
 * @example
 * ```ts
 * eye(2).toArray();    // [[1, 0], [0, 1]]
 * eye(2, 3).toArray(); // [[1, 0, 0], [0, 1, 0]]
 * ```
 * @category Tensors
 */
export function eye(n: number, m?: number, options?: CreationOptions): Tensor {
  const op = "eye";
  const cols = m ?? n;
  for (const [name, v] of [["n", n], ["m", cols]] as const) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      throw new RangeError(`${op}: ${name} must be a non-negative integer, got ${String(v)}`);
    }
  }
  const dtype = dtypeOf(op, options);
  const data = allocate(dtype, checkSize(op, [n, cols]));
  const k = Math.min(n, cols);
  for (let i = 0; i < k; i++) data[i * cols + i] = 1;
  return new Tensor(Object.freeze([n, cols]), dtype, data);
}

/**
 * Options of {@link oneHot}.
 * @category Tensors
 */
export interface OneHotOptions extends CreationOptions {
  /** The value at the index; 1 by default. */
  onValue?: number;
  /** The value everywhere else; 0 by default. */
  offValue?: number;
}

/**
 * One-hot encoding: for each index `k`, a vector of `depth` values that is `onValue` at `k` and
 * `offValue` elsewhere.
 *
 * @param indices integer class indices (an int32 tensor of any shape, a float tensor holding integers,
 *   or an array of numbers), each in `[0, depth)`.
 * @param depth the number of classes.
 * @param options `dtype` (`'float32'` by default), `onValue`, `offValue`.
 * @returns a tensor of shape `[...indices.shape, depth]`.
 * @example
 * ```ts
 * oneHot([0, 2], 3).toArray(); // [[1, 0, 0], [0, 0, 1]]
 * ```
 * @category Tensors
 */
export function oneHot(indices: Tensor | readonly number[], depth: number, options?: OneHotOptions): Tensor {
  const op = "oneHot";
  if (typeof depth !== "number" || !Number.isInteger(depth) || depth < 0) {
    throw new RangeError(`${op}: depth must be a non-negative integer, got ${String(depth)}`);
  }
  let values: ArrayLike<number>;
  let shape: readonly number[];
  if (indices instanceof Tensor) {
    values = indices._values;
    shape = indices.shape;
  } else if (Array.isArray(indices)) {
    values = indices;
    shape = [indices.length];
  } else {
    throw new TypeError(`${op}: indices must be a Tensor or an array of integers, got ${typeof indices}`);
  }
  const dtype = dtypeOf(op, options);
  const on = finite(op, "onValue", options?.onValue ?? 1);
  const off = finite(op, "offValue", options?.offValue ?? 0);
  if (dtype === "int32" && (!Number.isInteger(on) || !Number.isInteger(off))) {
    throw new RangeError(`${op}: int32 output needs integer onValue and offValue, got ${on} and ${off}`);
  }
  const n = values.length;
  const data = allocate(dtype, checkSize(op, [...shape, depth]));
  if (off !== 0) data.fill(off);
  for (let i = 0; i < n; i++) {
    const k = values[i] as unknown;
    if (typeof k !== "number" || !Number.isInteger(k)) {
      throw new TypeError(`${op}: indices must be integers, got ${String(k)} at flat position ${i}`);
    }
    if (k < 0 || k >= depth) {
      throw new RangeError(
        `${op}: index ${k} at flat position ${i} is out of range for depth ${depth} (valid: 0 to ${depth - 1})`,
      );
    }
    data[i * depth + k] = on;
  }
  return new Tensor(Object.freeze([...shape, depth]), dtype, data);
}

/**
 * Zeros with the shape and dtype of `x`.
 * @param x any tensor.
 * @param options `dtype` to override `x`'s.
 * @returns a new tensor of zeros.
 * @example
 * ```ts
 * zerosLike(ones([2, 3])).shape; // [2, 3]
 * ```
 * @category Tensors
 */
export function zerosLike(x: Tensor, options?: CreationOptions): Tensor {
  return like("zerosLike", x, 0, options);
}

/**
 * Ones with the shape and dtype of `x`.
 * @param x any tensor.
 * @param options `dtype` to override `x`'s.
 * @returns a new tensor of ones.
 * @example
 * ```ts
 * onesLike(zeros([2])).toArray(); // [1, 1]
 * ```
 * @category Tensors
 */
export function onesLike(x: Tensor, options?: CreationOptions): Tensor {
  return like("onesLike", x, 1, options);
}

function like(op: string, x: Tensor, value: number, options: CreationOptions | undefined): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: x must be a Tensor, got ${typeof x}`);
  return full(x.shape, value, { dtype: dtypeOf(op, options, x.dtype) });
}
