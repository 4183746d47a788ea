/**
 * Activation functions, written in the library's differentiable primitives (they carry no derivative rules
 * of their own, so every order of derivative comes for free). Each is a plain `(x: Tensor) => Tensor` that a
 * layer accepts as its `activation`; the ones with a parameter take it as an optional second argument.
 * `relu`, `sigmoid`, `tanh`, `softplus`, `softmax` and `logSoftmax` are the tensor operations of the same
 * names (the last two along the last axis by default).
 */
import { Tensor } from "../tensor/tensor.js";
import { where, minimum } from "../ops/binary.js";
import { erf } from "../ops/unary.js";

// The activations that are also tensor operations are the operations themselves.
export { relu, sigmoid, tanh, softplus } from "../ops/unary.js";
export { softmax, logSoftmax } from "../ops/reduce.js";

/**
 * A function applied elementwise (or, for `softmax`, along the last axis) to a layer's output.
 * @category Layers
 */
export type Activation = (x: Tensor) => Tensor;

/**
 * The identity: returns `x` unchanged (the default activation of `Dense` and the convolutions).
 * @param x any tensor.
 * @returns `x`.
 * @example
 * ```ts
 * identity(tensor([-1, 2])); // [-1, 2]
 * ```
 * @category Layers
 */
export function identity(x: Tensor): Tensor {
  return x;
}

/**
 * Leaky ReLU: `x` where positive, `alpha · x` elsewhere (Maas, Hannun & Ng, 2013, "Rectifier
 * Nonlinearities Improve Neural Network Acoustic Models").
 * @param x a float tensor of any shape.
 * @param alpha the slope for negative inputs (default 0.01).
 * @returns a tensor of the same shape.
 * @example
 * ```ts
 * leakyRelu(tensor([-1, 2]), 0.1); // [-0.1, 2]
 * leakyRelu(tensor([-1, 2]));      // [-0.01, 2]
 * // As a layer's activation, with its slope chosen:
 * const dense = new Dense({ inputSize: 3, outputSize: 4, activation: (v) => leakyRelu(v, 0.2), seed: 0 });
 * dense.callAsFunction(x).shape; // [2, 4]
 * ```
 * @category Layers
 */
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  return where(x.greater(0), x, x.mul(alpha));
}

/**
 * Exponential linear unit: `x` where positive, `alpha · (eᵡ − 1)` elsewhere (Clevert, Unterthiner &
 * Hochreiter, 2016, "Fast and Accurate Deep Network Learning by Exponential Linear Units"). The exponential
 * sees `min(x, 0)`, so large positive inputs never overflow into the unused branch's derivative.
 * @param x a float tensor of any shape.
 * @param alpha the saturation value for negative inputs (default 1).
 * @returns a tensor of the same shape.
 * @example
 * ```ts
 * elu(tensor([-1, 0, 1]));      // [-0.6321, 0, 1]
 * elu(tensor([-1, 0, 1]), 0.5); // [-0.3161, 0, 1]
 * ```
 * @category Layers
 */
export function elu(x: Tensor, alpha = 1): Tensor {
  return where(x.greater(0), x, minimum(x, 0).expm1().mul(alpha));
}

/** The constants of SELU, from Klambauer et al. (2017), equation (14). */
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/**
 * Scaled exponential linear unit `λ · elu(x, α)` with λ ≈ 1.0507 and α ≈ 1.6733, the self-normalizing
 * activation of Klambauer, Unterthiner, Mayr & Hochreiter, 2017, "Self-Normalizing Neural Networks".
 * Pair it with {@link leCunNormal} initialization.
 * @param x a float tensor of any shape.
 * @returns a tensor of the same shape.
 * @example
 * ```ts
 * selu(tensor([-1, 0, 1])); // [-1.1113, 0, 1.0507]
 * // Self-normalizing layers pair it with LeCun-normal weights:
 * const dense = new Dense({ inputSize: 3, outputSize: 4, activation: selu, weightInitializer: leCunNormal(), seed: 0 });
 * dense.callAsFunction(x).shape; // [2, 4]
 * ```
 * @category Layers
 */
export function selu(x: Tensor): Tensor {
  return elu(x, SELU_ALPHA).mul(SELU_SCALE);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * Gaussian error linear unit `x · Φ(x) = ½ x (1 + erf(x / √2))` (Hendrycks & Gimpel, 2016, "Gaussian Error
 * Linear Units"), exact by default (as PyTorch and Keras compute it). With `approximate: true` it is the
 * paper's tanh approximation `½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))` (JAX's default, and Swift's
 * `gelu`), which differs from the exact form by less than 1e-3 everywhere.
 * @param x a float tensor of any shape.
 * @param approximate use the tanh approximation (default false).
 * @returns a tensor of the same shape.
 * @example
 * ```ts
 * gelu(tensor([0, 1])).toArray();       // [0, 0.8413]
 * gelu(tensor([0, 1]), true).toArray(); // [0, 0.8412]
 * ```
 * @category Layers
 */
export function gelu(x: Tensor, approximate = false): Tensor {
  if (approximate) {
    const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(SQRT_2_OVER_PI);
    return x.mul(inner.tanh().add(1)).mul(0.5);
  }
  return x.mul(erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5);
}

/**
 * Swish / SiLU `x · σ(x)` (Elfwing, Uchibe & Doya, 2018, "Sigmoid-Weighted Linear Units for Neural Network
 * Function Approximation in Reinforcement Learning"; Ramachandran, Zoph & Le, 2017, "Searching for
 * Activation Functions").
 * @param x a float tensor of any shape.
 * @returns a tensor of the same shape.
 * @example
 * ```ts
 * swish(tensor([-1, 0, 1])); // [-0.2689, 0, 0.7311]
 * ```
 * @category Layers
 */
export function swish(x: Tensor): Tensor {
  return x.mul(x.sigmoid());
}

/**
 * SiLU, the same function as {@link swish} under its other name.
 * @param x a float tensor of any shape.
 * @returns a tensor of the same shape.
 * @example
 * ```ts
 * silu(tensor([-1, 0, 1])); // [-0.2689, 0, 0.7311]
 * ```
 * @category Layers
 */
export function silu(x: Tensor): Tensor {
  return swish(x);
}

