/**
 * Helpers for the rules' staged forms (`applyStaged`), which `Optimizer.update` runs inside `compile`.
 * The rules' loops compute in double precision and round only where they store into a parameter-typed
 * array; the staged forms do the same by widening float32 operands to float64 (exact), computing in
 * float64 in the loop's order, and narrowing where the loop stores. Elementwise chains fuse into one loop
 * per parameter, casts included, so the widening costs no pass over memory.
 */
import type { Tensor } from "../tensor/tensor.js";
import type { DType } from "../tensor/dtype.js";
import { scalar } from "../tensor/creation.js";

/** @internal `t` as float64 (exact for float32). */
export function wide(t: Tensor): Tensor {
  return t.dtype === "float64" ? t : t.cast("float64");
}

/** @internal `t` rounded to `dtype`, as a store into an array of that dtype rounds. */
export function narrow(t: Tensor, dtype: DType): Tensor {
  return t.dtype === dtype ? t : t.cast(dtype);
}

/** @internal A float64 scalar constant. */
export function f64(x: number): Tensor {
  return scalar(x, "float64");
}

/** @internal `1 − b^t` in float64 (the bias correction `1 - Math.pow(b, t)`). */
export function oneMinusPow(b: number, t: Tensor): Tensor {
  return f64(b).pow(t).neg().add(1);
}
