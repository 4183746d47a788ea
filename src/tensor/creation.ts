import { Tensor, type NestedArray } from "./tensor.js";
import { allocate, checkDType, fillFrom, type DType, type TypedArray } from "./dtype.js";
import { checkShape, checkSize, fmt, sizeOf } from "./shape.js";

/**
 * Options shared by the creation functions.
 * @category Tensors
 */
export interface CreationOptions {
  /** The element type; `'float32'` by default. */
  dtype?: DType;
}

/**
 * Options of {@link tensor}.
 * @category Tensors
 */
export interface TensorOptions extends CreationOptions {
  /** Reshapes the values (given flat, or nested) to this shape; the sizes must agree. */
  shape?: readonly number[];
}

/** @internal Wraps an owned typed array as a concrete tensor (no copy, no checks). */
export function fromTyped(data: TypedArray, shape: readonly number[], dtype: DType): Tensor {
  return new Tensor(shape, dtype, data);
}

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

/**
 * Allocates the elements of a new tensor of `shape`, with a clear error when the shape is larger than
 * {@link MAX_TENSOR_SIZE} or the engine cannot find the memory.
 */
function allocateFor(op: string, dtype: DType, shape: readonly number[]): TypedArray {
  const n = checkSize(op, shape);
  try {
    return allocate(dtype, n);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new RangeError(
      `${op}: cannot allocate ${n} ${dtype} elements (${(n * BYTES[dtype] / 2 ** 20).toFixed(1)} MiB) for shape ${fmt(shape)}: ` +
        `the JavaScript engine has no memory for it (${e.message}); use a smaller shape`,
    );
  }
}

function dtypeOf(op: string, options: CreationOptions | undefined): DType {
  return options?.dtype === undefined ? "float32" : checkDType(op, options.dtype);
}

/** Infers the shape of nested arrays, rejecting ragged ones and non-numbers. */
function inferShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0]!;
  }
  return shape;
}

function flattenInto(op: string, v: NestedArray, shape: readonly number[], d: number, out: number[], path: number[]): void {
  if (d === shape.length) {
    if (typeof v !== "number") {
      throw new TypeError(`${op}: expected a number at index [${path.join(",")}], got ${Array.isArray(v) ? "an array (ragged nesting)" : typeof v}`);
    }
    out.push(v);
    return;
  }
  if (!Array.isArray(v) || v.length !== shape[d]) {
    throw new RangeError(
      `${op}: ragged nested array: index [${path.join(",")}] has ${Array.isArray(v) ? `length ${v.length}` : "a number"} ` +
        `where the first row implies length ${shape[d]}; every row must have the same length`,
    );
  }
  for (let i = 0; i < v.length; i++) {
    path.push(i);
    flattenInto(op, v[i]!, shape, d + 1, out, path);
    path.pop();
  }
}

/**
 * Creates a tensor from a number or nested arrays of numbers.
 *
 * @param values a number (a scalar), nested arrays (shape inferred), or a flat array or typed array with `options.shape`.
 * @param options `dtype` (`'float32'` default, `'float64'`, `'int32'`) and `shape`.
 * @returns a new tensor holding a copy of the values.
 * @example
 * ```ts
 * tensor([[1, 2], [3, 4]]).shape;              // [2, 2]
 * tensor([1, 2, 3, 4], { shape: [2, 2] });     // [[1, 2], [3, 4]]
 * tensor(3, { dtype: "int32" }).item();        // 3
 * ```
 * @category Tensors
 */
export function tensor(values: number | NestedArray | ArrayLike<number>, options?: TensorOptions): Tensor {
  const op = "tensor";
  const dtype = dtypeOf(op, options);
  let flat: ArrayLike<number>;
  let shape: readonly number[];
  if (typeof values === "number") {
    flat = [values];
    shape = [];
  } else if (ArrayBuffer.isView(values)) {
    flat = values as unknown as ArrayLike<number>;
    shape = [flat.length];
  } else if (Array.isArray(values)) {
    const inferred = inferShape(values);
    const out: number[] = [];
    flattenInto(op, values, inferred, 0, out, []);
    flat = out;
    shape = inferred;
  } else {
    throw new TypeError(`${op}: expected a number, nested arrays of numbers or a typed array, got ${typeof values}`);
  }
  if (options?.shape !== undefined) {
    const target = checkShape(op, options.shape);
    if (sizeOf(target) !== flat.length) {
      throw new RangeError(
        `${op}: ${flat.length} values cannot fill shape ${fmt(target)} (${sizeOf(target)} elements); ` +
          `give as many values as the shape has elements`,
      );
    }
    shape = target;
  } else {
    shape = Object.freeze(shape.slice());
  }
  const data = allocateFor(op, dtype, shape);
  fillFrom(op, dtype, flat, data);
  return new Tensor(shape, dtype, data);
}

/**
 * A tensor of the given shape filled with `value`.
 * @param shape the dimensions (at most {@link MAX_TENSOR_SIZE} elements in all).
 * @param value the fill value.
 * @param options `dtype`.
 * @returns the filled tensor.
 * @example
 * ```ts
 * full([2, 2], 7).toArray(); // [[7, 7], [7, 7]]
 * ```
 * @category Tensors
 */
export function full(shape: readonly number[], value: number, options?: CreationOptions): Tensor {
  return filled("full", shape, value, options);
}

function filled(op: string, shape: readonly number[], value: number, options: CreationOptions | undefined): Tensor {
  const s = checkShape(op, shape);
  const dtype = dtypeOf(op, options);
  const data = allocateFor(op, dtype, s);
  if (value !== 0) {
    fillFrom(op, dtype, [value], data.subarray(0, Math.min(1, data.length)));
    data.fill(value);
  }
  return new Tensor(s, dtype, data);
}

/**
 * A tensor of zeros.
 * @param shape the dimensions (at most {@link MAX_TENSOR_SIZE} elements in all).
 * @param options `dtype`.
 * @returns the zero tensor.
 * @example
 * ```ts
 * zeros([2, 3]).shape; // [2, 3]
 * ```
 * @category Tensors
 */
export function zeros(shape: readonly number[], options?: CreationOptions): Tensor {
  return filled("zeros", shape, 0, options);
}

/**
 * A tensor of ones.
 * @param shape the dimensions (at most {@link MAX_TENSOR_SIZE} elements in all).
 * @param options `dtype`.
 * @returns the tensor of ones.
 * @example
 * ```ts
 * ones([3]).toArray(); // [1, 1, 1]
 * ```
 * @category Tensors
 */
export function ones(shape: readonly number[], options?: CreationOptions): Tensor {
  return filled("ones", shape, 1, options);
}

/**
 * @internal A concrete scalar of `dtype`: how a number operand enters an op. Tensors are immutable, so the
 * scalars of recently used numbers are shared instead of allocated on every op (a training loop reuses the
 * same few constants thousands of times).
 */
export function scalar(value: number, dtype: DType): Tensor {
  const cache = scalarCache[dtype];
  const hit = cache.get(value);
  if (hit !== undefined && !Object.is(value, -0)) return hit;
  const data = allocate(dtype, 1);
  data[0] = value;
  const t = new Tensor(SCALAR_SHAPE, dtype, data);
  if (cache.size >= 512) cache.clear();
  cache.set(value, t);
  return t;
}
const SCALAR_SHAPE: readonly number[] = Object.freeze([]);
const scalarCache: Record<DType, Map<number, Tensor>> = { float32: new Map(), float64: new Map(), int32: new Map() };
