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
 *   move(by: TangentVector<Line>): void {
 *     move(this as Line, by);
 *   }
 * }
 * const line = new Line();
 * line.move({ slope: tensor(0.5) });
 * line.slope; // 0.5
 * ```
 * @category Differentiable types
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
 *   [name: string]: Dense;
 *   [keyPathChildren]() {
 *     return Object.keys(this);
 *   }
 * }
 * const dict = new LayerDict();
 * dict["head"] = new Dense({ inputSize: 3, outputSize: 2, seed: 0 });
 * // The gradient's type is the declared one, Record<string, { weight: Tensor; bias: Tensor }>:
 * const g: Record<string, { weight: Tensor; bias: Tensor }> = gradient(dict, (d) => d["head"]!.callAsFunction(x).sum());
 * g["head"]!.bias; // [2, 2]
 * ```
 * @category Differentiable types
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
 * class Normalizer {
 *   @differentiable scale = ones([3]);
 *   @noDerivative runningMean = new NoDerivative(zeros([3]));
 *   callAsFunction(input: Tensor): Tensor {
 *     // Training updates the running mean through the box, even inside a differentiated function.
 *     this.runningMean.value = this.runningMean.value.mul(0.9).add(input.mean(0).mul(0.1));
 *     return input.sub(this.runningMean.value).mul(this.scale);
 *   }
 * }
 * const norm = new Normalizer();
 * const g: { scale: Tensor } = gradient(norm, (n) => n.callAsFunction(x).sum()); // TangentVector<Normalizer>
 * Object.keys(g);             // ["scale"]
 * norm.runningMean.value;     // [0.25, 0.35, 0.45]
 * ```
 * @category Differentiable types
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
