import { poolable, pooled } from "./pool.js";
import { residentArray } from "./wasm/arena.js";

/**
 * The element types a {@link Tensor} can hold. `float32` is the default everywhere.
 * @category Tensors
 */
export type DType = "float32" | "float64" | "int32";

/**
 * The typed array that stores a tensor's elements.
 * @category Tensors
 */
export type TypedArray = Float32Array | Float64Array | Int32Array;

/**
 * @internal Allocates a zero-filled typed array of `dtype` holding `size` elements: large float32 and int32
 * ones may live in the kernels' WebAssembly memory (`wasm/arena.ts`), other large ones may reuse the storage
 * of collected tensors (`pool.ts`).
 */
export function allocate(dtype: DType, size: number): TypedArray {
  return allocateStorage(dtype, size, true);
}

/**
 * @internal {@link allocate} for a kernel that writes every element: the elements are unspecified (recycled
 * storage is not zero-filled first).
 */
export function allocateForOverwrite(dtype: DType, size: number): TypedArray {
  return allocateStorage(dtype, size, false);
}

function allocateStorage(dtype: DType, size: number, zero: boolean): TypedArray {
  const bytes = size * (dtype === "float64" ? 8 : 4);
  if (dtype !== "float64") {
    const resident = residentArray(dtype, size, zero);
    if (resident !== null) return resident;
  }
  if (poolable(bytes)) return pooled(dtype, size, bytes, zero);
  switch (dtype) {
    case "float32":
      return new Float32Array(size);
    case "float64":
      return new Float64Array(size);
    case "int32":
      return new Int32Array(size);
  }
}

/** @internal True for the floating-point dtypes, the only ones that carry derivatives. */
export function isFloat(dtype: DType): boolean {
  return dtype !== "int32";
}

/**
 * @internal The dtype of a binary op's result: the wider of the two, where any float beats int32
 * (int32 op float32 is float32, float32 op float64 is float64).
 */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === "float64" || b === "float64") return "float64";
  return "float32";
}

/** @internal Validates a dtype given by a user, naming the operation on failure. */
export function checkDType(op: string, dtype: unknown): DType {
  if (dtype === "float32" || dtype === "float64" || dtype === "int32") return dtype;
  throw new TypeError(`${op}: unknown dtype ${JSON.stringify(dtype)}; use 'float32', 'float64' or 'int32'`);
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * @internal Writes JS numbers into an array of `dtype`, rejecting what would be silently mangled:
 * a non-integer or out-of-range value for int32.
 */
export function fillFrom(op: string, dtype: DType, values: ArrayLike<number>, out: TypedArray): void {
  const n = values.length;
  if (dtype === "int32") {
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) {
        throw new RangeError(
          `${op}: value ${v} at flat index ${i} is not an int32 (an integer in [${INT32_MIN}, ${INT32_MAX}]); ` +
            `round it first or use dtype 'float32'`,
        );
      }
      out[i] = v;
    }
  } else {
    for (let i = 0; i < n; i++) out[i] = values[i]!;
  }
}
