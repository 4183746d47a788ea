/**
 * Shape layers and the closure layer. None has parameters.
 */
import { Tensor } from "../tensor/tensor.js";
import { Layer } from "./layer.js";

/**
 * Flattens every axis but the first (the batch): `[batch, d1, d2, …] → [batch, d1·d2·…]`.
 *
 * @example
 * ```ts
 * new Flatten().callAsFunction(zeros([8, 7, 7, 16])).shape; // [8, 784]
 * ```
 * @category Layers
 */
export class Flatten extends Layer<Tensor, Tensor> {
  /**
   * Applies the layer.
   * @param input `[batch, ...]` (rank at least 1).
   * @returns `[batch, product of the other axes]`.
   */
  callAsFunction(input: Tensor): Tensor {
    if (input.rank === 0) throw new RangeError("Flatten: the input needs a batch axis; got a scalar");
    const batch = input.shape[0]!;
    return input.reshape([batch, batch === 0 ? 0 : input.size / batch]);
  }
}

/**
 * Reshapes every example, keeping the batch axis: `[batch, ...] → [batch, ...shape]`.
 *
 * @example
 * ```ts
 * new Reshape([28, 28, 1]).callAsFunction(zeros([8, 784])).shape; // [8, 28, 28, 1]
 * ```
 * @category Layers
 */
export class Reshape extends Layer<Tensor, Tensor> {
  /** The shape of one example (one entry may be -1, inferred). */
  private readonly shape: readonly number[];
  /** @param shape the per-example shape, without the batch axis; one entry may be -1. */
  constructor(shape: readonly number[]) {
    super();
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < -1)) {
      throw new RangeError(`Reshape: the shape must be an array of non-negative integers (one may be -1), got ${JSON.stringify(shape)}`);
    }
    this.shape = Object.freeze(Array.from(shape, Number));
  }
  /**
   * Applies the layer.
   * @param input `[batch, ...]` with as many elements per example as `shape`.
   * @returns `[batch, ...shape]`.
   */
  callAsFunction(input: Tensor): Tensor {
    if (input.rank === 0) throw new RangeError("Reshape: the input needs a batch axis; got a scalar");
    return input.reshape([input.shape[0]!, ...this.shape]);
  }
}

/**
 * A layer made of a differentiable function: Swift's `Function` layer (named `FunctionLayer` here, as
 * `Function` is JavaScript's own). It has no parameters; any tensor it closes over is a constant.
 *
 * @typeParam Input the function's input.
 * @typeParam Output its output.
 * @example
 * ```ts
 * const double = new FunctionLayer((v: Tensor) => v.mul(2));
 * double.callAsFunction(tensor([1, 2])); // [2, 4]
 * // In a chain of layers (it has no parameters, so it adds nothing to the tangent):
 * const model = new Sequential(new Dense({ inputSize: 3, outputSize: 2, seed: 0 }), double);
 * model.callAsFunction(x).shape; // [2, 2]
 * ```
 * @category Layers
 */
export class FunctionLayer<Input, Output> extends Layer<Input, Output> {
  /** The wrapped function. */
  readonly body: (input: Input) => Output;
  /** @param body a function written in differentiable operations. */
  constructor(body: (input: Input) => Output) {
    super();
    if (typeof body !== "function") throw new TypeError(`FunctionLayer: expected a function, got ${typeof body}`);
    this.body = body;
  }
  /**
   * Applies the function.
   * @param input the input.
   * @returns `body(input)`.
   */
  callAsFunction(input: Input): Output {
    return this.body(input);
  }
}
