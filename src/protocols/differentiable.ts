/**
 * The `Differentiable` protocol, the key under which a type can declare its tangent vector type, and the
 * `NoDerivative` box for state that must never be differentiated.
 */

/**
 * A value that has tangent vectors of type `TV` and can move along one (Swift's
 * `Differentiable.move(by:)`: for the Euclidean spaces of this library, `self += offset`).
 *
 * Classes do not have to implement it: the free function {@link move} moves any differentiable value.
 * The library's layers implement it by delegating to that function.
 *
 * @typeParam TV the tangent vector type, usually `TangentVector<Self>`.
 * @example
 * ```ts
 * class Line implements Differentiable<TangentVector<Line>> {
 *   @differentiable slope = tensor(0);
 *   // `this as Line`: inside a class, `this` is a generic type, whose tangent type TypeScript defers.
 *   move(by: TangentVector<Line>): void { move(this as Line, by); }
 * }
 * ```
 */
export interface Differentiable<TV> {
  /**
   * Moves the value in place along `by`: each differentiable leaf `p` becomes `p + by[p]`.
   * @param by a tangent vector shaped like the value.
   */
  move(by: TV): void;
}

/**
 * The key of a phantom property through which a class declares its tangent vector type itself, overriding
 * the derivation from its fields. Needed only by classes whose children the type system cannot see (a
 * {@link CustomKeyPathIterable} container). Declare it with `declare`, so that nothing exists at run time.
 *
 * @example
 * ```ts
 * class LayerDict implements CustomKeyPathIterable {
 *   declare readonly [TangentVectorType]?: Record<string, TangentVector<Dense>>;
 *   [keyPathChildren]() { return Object.keys(this); }
 * }
 * type G = TangentVector<LayerDict>; // Record<string, { weight: Tensor; bias: Tensor }>
 * ```
 */
export const TangentVectorType: unique symbol = Symbol.for("difftypes.TangentVectorType");

/** The private brand of {@link NoDerivative} (a type only: nothing exists at run time). */
export declare const noDerivativeBrand: unique symbol;

/**
 * A box for a value that lives in a model but is never differentiated: BatchNorm's running statistics, a
 * frozen embedding table, an RNG state. Swift for TensorFlow's `Parameter` class played this role.
 *
 * The box makes the type and the runtime agree: `TangentVector<Model>` counts every `Tensor`-typed field
 * as differentiable, and a field typed `NoDerivative<Tensor>` as not. The walk treats a box as a
 * constant (never lifted, absent from tangents, not descended into by key paths), and the box is copied by
 * reference into the value a differentiated function receives, so writes to `box.value` inside the
 * function (updating running statistics during training) reach the model.
 *
 * @typeParam T the boxed value's type.
 * @example
 * ```ts
 * class BatchNormLike {
 *   @differentiable scale = ones([3]);
 *   @noDerivative runningMean = new NoDerivative(zeros([3]));
 * }
 * type G = TangentVector<BatchNormLike>; // { scale: Tensor }
 * ```
 */
export class NoDerivative<T> {
  declare private readonly [noDerivativeBrand]: true;
  /** The boxed value; replace it freely. */
  value: T;

  /**
   * Boxes `value`.
   * @param value the value to hold, e.g. a running statistic tensor.
   */
  constructor(value: T) {
    this.value = value;
  }

  /**
   * A readable rendering.
   * @returns `NoDerivative(<value>)`.
   */
  toString(): string {
    return `NoDerivative(${String(this.value)})`;
  }
}
