/**
 * The layer protocol and the base class of every layer.
 *
 * A layer is a decorated class (its parameters are `@differentiable` fields, its configuration
 * `@noDerivative` ones) with a `callAsFunction(input)`. Nothing else is needed for gradients, key paths,
 * optimizers and checkpoints: they all walk the class's stored properties. The base class adds `move(by)`,
 * which moves every parameter along a tangent in place, as Swift's synthesized `move(by:)` does.
 */
import type { Tensor } from "../tensor/tensor.js";
import type { TangentVector } from "../protocols/tangent.js";
import { move } from "../protocols/move.js";
import { differentiable } from "../keypaths/decorators.js";

/**
 * The base class of layers: a differentiable function object from `Input` to `Output` whose parameters
 * are its `@differentiable` stored properties (Swift for TensorFlow's `Layer` protocol). Subclasses
 * implement {@link Layer.callAsFunction}; the base supplies {@link Layer.move}. A layer without parameters
 * (pooling, `Flatten`, activations) has an empty tangent vector.
 *
 * Models are layers too: extend `Layer`, declare sub-layers as `@differentiable` fields, and call them.
 *
 * @typeParam Input what the layer takes (usually a `Tensor`).
 * @typeParam Output what it returns.
 * @example
 * ```ts
 * class MLP extends Layer<Tensor, Tensor> {
 *   @differentiable hidden = new Dense({ inputSize: 3, outputSize: 16, activation: relu, seed: 0 });
 *   @differentiable out = new Dense({ inputSize: 16, outputSize: 4, seed: 1 });
 *   callAsFunction(input: Tensor): Tensor {
 *     return this.out.callAsFunction(this.hidden.callAsFunction(input));
 *   }
 * }
 * const model = new MLP();
 * const labels = tensor([2, 0], { dtype: "int32" });
 * const loss = (m: MLP) => softmaxCrossEntropy(m.callAsFunction(x), labels);
 * const before = loss(model).item();
 * // One step of gradient descent by hand (an optimizer does the same with `opt.update(model, g)`):
 * const g = gradient(model, loss);
 * model.move(tangentScale(g, -0.1));
 * loss(model).item() < before; // true
 * ```
 * @category Layers
 */
export abstract class Layer<Input, Output> {
  /**
   * Applies the layer.
   * @param input the input.
   * @returns the output.
   */
  abstract callAsFunction(input: Input): Output;

  /**
   * Moves every differentiable stored property (recursively) by the matching field of `by`, in place:
   * `weight ← weight + by.weight` (the library's {@link move}; each parameter keeps its dtype). The whole
   * tangent is checked before anything is written. A tensor shared by several fields (tied weights) moves
   * once, by the sum of its fields' steps, and stays shared.
   * @param by a tangent vector of this layer (e.g. a gradient scaled by `-learningRate`).
   * @example
   * ```ts
   * const dense = new Dense({ inputSize: 3, outputSize: 1, seed: 0 });
   * const g = gradient(dense, (d) => d.callAsFunction(x).sum());
   * g.weight; // [[5], [7], [9]]
   * g.bias;   // [2]
   * dense.move({ weight: g.weight.mul(-0.1), bias: g.bias.mul(-0.1) });
   * dense.bias; // [-0.2]
   * ```
   */
  move(by: TangentVector<this>): void {
    move(this as Layer<Input, Output>, by as TangentVector<Layer<Input, Output>>);
  }
}

/**
 * The input type of a layer.
 * @example
 * ```ts
 * const input: InputOf<Embedding> = tensor([[0, 1]], { dtype: "int32" });
 * ```
 * @category Layers
 */
export type InputOf<L> = L extends Layer<infer I, unknown> ? I : never;
/**
 * The output type of a layer.
 * @example
 * ```ts
 * const cell = new LSTMCell({ inputSize: 3, hiddenSize: 4, seed: 0 });
 * const out: OutputOf<LSTMCell> = cell.callAsFunction({ input: x, state: cell.zeroState(2) });
 * out.output.shape; // [2, 4]
 * ```
 * @category Layers
 */
export type OutputOf<L> = L extends Layer<never, infer O> ? O : never;

/** @internal Checks that `x` is a tensor of the given rank (or one of the ranks), naming the layer. */
export function expectRank(layer: string, x: Tensor, ranks: number | readonly number[], layout: string): void {
  const ok = typeof ranks === "number" ? x.rank === ranks : ranks.includes(x.rank);
  if (!ok) {
    throw new RangeError(`${layer}: expected an input of rank ${typeof ranks === "number" ? ranks : ranks.join(" or ")} ${layout}, got shape [${x.shape.join(",")}]`);
  }
}

/** @internal Checks the size of the last axis (the features or channels) of a layer's input. */
export function expectLastDim(layer: string, x: Tensor, size: number, what: string): void {
  const d = x.shape[x.rank - 1];
  if (d !== size) {
    throw new RangeError(`${layer}: the input's last axis (${what}) has size ${d} but the layer was built for ${size}; input shape [${x.shape.join(",")}]`);
  }
}

/**
 * @internal `@differentiable` for a field whose type is a type parameter (`Sequential`'s `layers: L`,
 * `RNN`'s `cell: Cell`): the decorator's compile-time check cannot resolve a generic type, so these fields
 * use this alias with the check's type erased. At run time it is the same decorator.
 */
export const differentiableGeneric = differentiable as unknown as {
  (value: undefined, context: ClassFieldDecoratorContext): void;
  (target: object, propertyKey: string): void;
};
