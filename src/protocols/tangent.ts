/**
 * The derived type of tangent vectors. It mirrors, rule for rule, what the structural walk
 * (`src/keypaths/walk.ts`) builds at run time, so that `TangentVector<Model>` and the gradient object have
 * the same fields. See `src/protocols/README.md` for the rules and their limits.
 */
import type { Tensor } from "../tensor/tensor.js";
import type { NoDerivative, TangentVectorType } from "./differentiable.js";

/** Values that are never differentiable below an object: they are carried as constants. */
type Constant = number | string | boolean | bigint | symbol | null | undefined | ((...args: never[]) => unknown);

/** True when `T` is `any`. */
type IsAny<T> = 0 extends 1 & T ? true : false;

/** Recursion budget of {@link HasLeaf}, so that self-referential classes terminate. */
type Budget = [never, 0, 1, 2, 3, 4, 5, 6];

/**
 * `true` when a value of type `V`, found below an object, holds a differentiable leaf: a `Tensor`, or an
 * array, object or class holding one. Numbers, strings, booleans, functions, `null`, `undefined` and
 * `NoDerivative` boxes hold none. Distributes over unions (`Tensor | undefined` holds one).
 * @example
 * ```ts
 * const a: HasLeaf<Tensor | undefined> = true;
 * const b: HasLeaf<number[]> = false;
 * // @ts-expect-error an array of numbers below an object holds no differentiable leaf
 * const c: HasLeaf<number[]> = true;
 * ```
 * @category Differentiable types
 */
export type HasLeaf<V, D extends number = 7> = true extends LeafIn<V, D> ? true : false;

type LeafIn<V, D extends number> = [D] extends [never]
  ? false
  : IsAny<V> extends true
    ? true
    : V extends Tensor
      ? true
      : V extends Constant
        ? false
        : V extends NoDerivative<unknown>
          ? false
          : V extends { readonly [TangentVectorType]?: unknown }
            ? typeof TangentVectorType extends keyof V
              ? true
              : ObjectHasLeaf<V, D>
            : ObjectHasLeaf<V, D>;

type ObjectHasLeaf<V, D extends number> = V extends readonly (infer E)[]
  ? LeafIn<E, Budget[D]>
  : V extends object
    ? true extends { [K in keyof V]-?: LeafIn<V[K], Budget[D]> }[keyof V]
      ? true
      : false
    : false;

/**
 * The tangent type of a value found below an object (a field, or an element of an array held by a
 * field): numbers there are constants, so they vanish from unions and stay unchanged inside arrays.
 */
type FieldTangent<V> = IsAny<V> extends true
  ? any // eslint-disable-line @typescript-eslint/no-explicit-any
  : V extends null | undefined
    ? V
    : V extends Tensor
      ? Tensor
      : V extends Constant | NoDerivative<unknown>
        ? never
        : V extends { readonly [TangentVectorType]?: infer TV }
          ? typeof TangentVectorType extends keyof V
            ? NonNullable<TV>
            : Structure<V>
          : Structure<V>;

/** Arrays element-wise (numbers kept, as the runtime carries them), objects to their leaf-holding fields. */
type Structure<V> = V extends readonly unknown[]
  ? { -readonly [K in keyof V]: V[K] extends number ? V[K] : FieldTangent<V[K]> }
  : V extends object
    ? { -readonly [K in keyof V as HasLeaf<V[K]> extends true ? K : never]: FieldTangent<V[K]> }
    : never;

/**
 * The type of a value's tangent vectors (and gradients), mirroring the walk:
 * - `number → number`, `Tensor → Tensor`;
 * - arrays and tuples element-wise (at the root, and in arrays of arrays, numbers are leaves);
 * - objects, plain or class instances, to an object type with exactly their fields that hold a `Tensor`
 *   (directly, or in nested arrays, objects and classes), each mapped again. Numbers, strings, booleans,
 *   functions (methods), `NoDerivative` boxes, and objects holding only those are constants and vanish;
 *   `Tensor | undefined` maps to `Tensor | undefined`.
 * - a class that declares `[TangentVectorType]` has that type as its tangent.
 *
 * The type is plain data (no methods), so a literal `{ weight: t, bias: b }` is a valid tangent, and
 * exact-type tests compare it with object literal types. Vector-space operations on any tangent are the
 * free functions `tangentAdd`, `tangentScale`, …; a class's runtime tangent also has them as methods.
 *
 * @typeParam T the type of the point (model).
 * @example
 * ```ts
 * class Linear {
 *   @differentiable weight = zeros([2, 2]);
 *   @noDerivative steps = 0;
 * }
 * const g: TangentVector<Linear> = { weight: ones([2, 2]) }; // { weight: Tensor }
 * const h: TangentVector<{ layers: Linear[]; lr: number }> = { layers: [g] }; // { layers: { weight: Tensor }[] }
 * // @ts-expect-error steps is @noDerivative: the tangent has no such field
 * const bad: TangentVector<Linear> = { weight: ones([2, 2]), steps: 1 };
 * // A gradient has the type:
 * const grad: TangentVector<Linear> = gradient(new Linear(), (m) => m.weight.sum());
 * grad.weight; // [[1, 1], [1, 1]]
 * ```
 * @category Differentiable types
 */
export type TangentVector<T> = IsAny<T> extends true
  ? any // eslint-disable-line @typescript-eslint/no-explicit-any
  : T extends number
    ? number
    : T extends Tensor
      ? Tensor
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: TangentVector<T[K]> }
        : FieldTangent<T>;
