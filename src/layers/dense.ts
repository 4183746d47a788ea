/**
 * The fully connected layer.
 */
import { Tensor } from "../tensor/tensor.js";
import type { RandomKey } from "../tensor/random.js";
import { differentiable, noDerivative } from "../keypaths/decorators.js";
import { Layer, expectLastDim } from "./layer.js";
import { identity, type Activation } from "./activations.js";
import { glorotUniform, zerosInitializer, layerKey, type FloatDType, type Initializer } from "./initializers.js";

/**
 * Options of {@link Dense}.
 * @category Layers
 */
export interface DenseOptions {
  /** The number of input features. */
  inputSize: number;
  /** The number of output features. */
  outputSize: number;
  /** Applied to the affine output; {@link identity} by default. */
  activation?: Activation;
  /** Whether to add a bias (default true). Without one, `bias` is an empty `[0]` tensor. */
  useBias?: boolean;
  /** Seed (or key) of the initializers; without one the global generator is used. */
  seed?: number | RandomKey;
  /** The parameters' dtype (default `'float32'`). */
  dtype?: FloatDType;
  /** Initializer of `weight` (default {@link glorotUniform}). */
  weightInitializer?: Initializer;
  /** Initializer of `bias` (default zeros). */
  biasInitializer?: Initializer;
}

/**
 * A fully connected layer: `activation(input · weight + bias)` (the multilayer perceptron's layer;
 * Rumelhart, Hinton & Williams, 1986, "Learning representations by back-propagating errors").
 * One matrix product and one broadcast add per call, so forward and backward time are the matmul kernel's.
 *
 * @example
 * ```ts
 * const dense = new Dense({ inputSize: 784, outputSize: 10, activation: relu, seed: 0 });
 * dense.callAsFunction(zeros([32, 784])).shape; // [32, 10]
 * dense.weight.shape; // [784, 10]
 * ```
 * @category Layers
 */
export class Dense extends Layer<Tensor, Tensor> {
  /** `[inputSize, outputSize]`. */
  @differentiable weight: Tensor;
  /** `[outputSize]` (`[0]` when `useBias` is false). */
  @differentiable bias: Tensor;
  /** The activation applied last. */
  @noDerivative readonly activation: Activation;
  /** Whether `bias` is added. */
  @noDerivative readonly useBias: boolean;

  /**
   * @param options sizes, activation, bias, seed, dtype and initializers.
   */
  constructor(options: DenseOptions) {
    super();
    const { inputSize, outputSize } = options;
    positiveInt("Dense", "inputSize", inputSize);
    positiveInt("Dense", "outputSize", outputSize);
    const dtype = options.dtype ?? "float32";
    const [wk, bk] = layerKey(options.seed).split(2);
    this.useBias = options.useBias ?? true;
    this.activation = options.activation ?? identity;
    this.weight = (options.weightInitializer ?? glorotUniform())([inputSize, outputSize], { seed: wk, dtype });
    this.bias = (options.biasInitializer ?? zerosInitializer())([this.useBias ? outputSize : 0], { seed: bk, dtype });
  }

  /**
   * Applies the layer.
   * @param input `[..., inputSize]` (usually `[batch, inputSize]`).
   * @returns `[..., outputSize]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectLastDim("Dense", input, this.weight.shape[0]!, "features");
    const y = input.matmul(this.weight);
    return this.activation(this.useBias ? y.add(this.bias) : y);
  }
}

/** @internal Checks a positive-integer option. */
export function positiveInt(layer: string, name: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`${layer}: ${name} must be a positive integer, got ${String(v)}`);
  }
}
