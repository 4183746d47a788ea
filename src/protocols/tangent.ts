import type { Tensor } from "../tensor/tensor.js";

/** Values that are never differentiable inside an object: they are carried as constants. */
type Constant = number | string | boolean | bigint | symbol | null | undefined | ((...args: never[]) => unknown);

/**
 * The type of a value's tangent vectors (and gradients): `number → number`, `Tensor → Tensor`, arrays and
 * tuples element-wise, and objects (plain or class instances) to an object type with exactly their
 * differentiable fields, each mapped again. Inside objects, numbers, strings, booleans and functions are
 * constants and do not appear.
 *
 * @example
 * ```ts
 * class Linear { @differentiable weight = zeros([2, 2]); @noDerivative steps = 0; }
 * type G = TangentVector<Linear>; // { weight: Tensor }
 * ```
 */
export type TangentVector<T> = T extends number
  ? number
  : T extends Tensor
    ? Tensor
    : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: TangentVector<T[K]> }
      : T extends object
        ? { -readonly [K in keyof T as T[K] extends Constant ? never : K]: TangentVector<T[K]> }
        : never;
