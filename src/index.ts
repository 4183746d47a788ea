/**
 * difftypes: differentiable programming with types.
 *
 * Models are ordinary TypeScript classes; their gradients are values of the derived type
 * `TangentVector<Model>`; automatic differentiation runs in reverse and forward mode, nested to any order.
 *
 * @packageDocumentation
 */
import "./keypaths/metadata-polyfill.js";

// Tensor values
export { Tensor, type TensorLike, type NestedArray } from "./tensor/tensor.js";
export type { DType, TypedArray } from "./tensor/dtype.js";
export { tensor, zeros, ones, full, type CreationOptions, type TensorOptions } from "./tensor/creation.js";
export { arange, linspace, eye, oneHot, zerosLike, onesLike, type OneHotOptions } from "./tensor/ranges.js";
export {
  randomUniform,
  randomNormal,
  truncatedNormal,
  RandomKey,
  splitSeed,
  setGlobalSeed,
  type RandomUniformOptions,
  type RandomNormalOptions,
} from "./tensor/random.js";

// Operations (also available as Tensor methods)
export { add, sub, mul, div, pow, maximum, minimum, clip, equal, notEqual, less, lessEqual, greater, greaterEqual, where } from "./ops/binary.js";
export { neg, exp, log, log1p, expm1, sqrt, rsqrt, square, reciprocal, abs, sign, sin, cos, tan, tanh, sigmoid, relu, softplus, cast } from "./ops/unary.js";
export { sum, mean, max, min, prod, logSumExp, softmax, logSoftmax, argmax, argmin } from "./ops/reduce.js";
export { reshape, transpose, expandDims, squeeze, broadcastTo, slice, split, concat, stack, gather, pad, tile } from "./ops/movement.js";
export { matmul } from "./ops/linalg.js";
export {
  conv2d,
  conv1d,
  conv2dBackpropInput,
  conv2dBackpropFilter,
  conv2dTranspose,
  depthwiseConv2d,
  maxPool2d,
  avgPool2d,
  type Conv2DOptions,
  type Conv1DOptions,
  type Pool2DOptions,
  type Padding2D,
} from "./ops/conv.js";

// Automatic differentiation
export {
  gradient,
  valueWithGradient,
  pullback,
  valueWithPullback,
  differential,
  valueWithDifferential,
  derivative,
  valueWithDerivative,
  gradientOf,
  derivativeOf,
  withoutDerivative,
  type Lifted,
  type Scalar,
} from "./autodiff/operators.js";
export { customDerivative, withRecomputationInPullbacks, type CustomVJP, type CustomJVP } from "./autodiff/custom.js";
export { jacobian, hessian } from "./autodiff/jacobian.js";
export { checkGradients, GradientCheckError, type CheckGradientsOptions, type GradientCheckReport } from "./autodiff/check.js";

// Differentiable types
export type { TangentVector } from "./protocols/tangent.js";
export { differentiable, noDerivative, storedProperties, type StoredProperty, type StoredPropertyKind, type FieldDecorator } from "./keypaths/decorators.js";
