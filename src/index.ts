/**
 * difftypes: differentiable programming with types.
 *
 * Models are ordinary TypeScript classes; their gradients are values of the derived type
 * `TangentVector<Model>`; automatic differentiation runs in reverse and forward mode, nested to any order.
 *
 * @packageDocumentation
 * @module difftypes
 */
import "./keypaths/metadata-polyfill.js";

// Tensor values
export { Tensor, type TensorLike, type NestedArray } from "./tensor/tensor.js";
export type { DType, TypedArray } from "./tensor/dtype.js";
export { tensor, zeros, ones, full, type CreationOptions, type TensorOptions } from "./tensor/creation.js";
export { MAX_TENSOR_SIZE } from "./tensor/shape.js";
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

// Kernels: how many threads they may use
export { setThreadCount, getThreadCount } from "./tensor/wasm/threads.js";

// Operations (also available as Tensor methods)
export { add, sub, mul, div, pow, maximum, minimum, clip, equal, notEqual, less, lessEqual, greater, greaterEqual, where } from "./ops/binary.js";
export { mod, atan2, logicalAnd, logicalOr } from "./ops/binary.js";
export { neg, exp, log, log1p, expm1, sqrt, rsqrt, square, reciprocal, abs, sign, sin, cos, tan, tanh, sigmoid, relu, softplus, cast } from "./ops/unary.js";
export { erf, floor, ceil, round, isFinite, isNaN, logicalNot } from "./ops/unary.js";
export { sum, mean, max, min, prod, logSumExp, softmax, logSoftmax, argmax, argmin } from "./ops/reduce.js";
export { reshape, transpose, expandDims, squeeze, broadcastTo, slice, split, concat, stack, gather, pad, tile } from "./ops/movement.js";
export type { PadMode, PadOptions } from "./ops/movement.js";
export { cumsum, cumprod, reverse, type ScanOptions } from "./ops/scan.js";
export { sort, argsort, topk, type SortOptions, type TopK } from "./ops/sort.js";
export { gatherNd, scatter, segmentSum } from "./ops/indexing.js";
export { einsum } from "./ops/einsum.js";
export { norm, l2Normalize, type NormOrder } from "./ops/norms.js";
export { outer, diag, bandPart } from "./ops/matrix.js";
export {
  matmul,
  cholesky,
  triangularSolve,
  solve,
  inverse,
  det,
  logDet,
  qr,
  type TriangularSolveOptions,
  type QRResult,
} from "./ops/linalg.js";
export {
  conv2d,
  conv1d,
  conv2dBackpropInput,
  conv2dBackpropFilter,
  conv2dTranspose,
  depthwiseConv2dBackpropInput,
  depthwiseConv2dBackpropFilter,
  depthwiseConv2d,
  maxPool2d,
  avgPool2d,
  conv3d,
  conv3dBackpropInput,
  conv3dBackpropFilter,
  maxPool1d,
  avgPool1d,
  maxPool3d,
  avgPool3d,
  type Conv3DOptions,
  type Pool1DOptions,
  type Pool3DOptions,
  type Padding3D,
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
  type Synchronous,
} from "./autodiff/operators.js";
export { customDerivative, withRecomputationInPullbacks, withDerivative, type CustomVJP, type CustomJVP } from "./autodiff/custom.js";
export { jacobian, hessian } from "./autodiff/jacobian.js";
export { checkGradients, GradientCheckError, type CheckGradientsOptions, type GradientCheckReport } from "./autodiff/check.js";

// Differentiable types (protocols, stored properties, key paths) — owned by the differentiable-types work
export type { TangentVector, HasLeaf } from "./protocols/tangent.js";
export { type Differentiable, TangentVectorType, NoDerivative } from "./protocols/differentiable.js";
export {
  type VectorSpace,
  tangentAdd,
  tangentSub,
  tangentScale,
  tangentAddScalar,
  tangentMul,
  tangentDiv,
  tangentNeg,
  tangentSqrt,
  tangentDot,
  tangentSquaredNorm,
  tangentZerosLike,
  tangentOnesLike,
  tangentMap,
  tangentZip,
} from "./protocols/vector-space.js";
export { move, zeroTangentVector } from "./protocols/move.js";
export {
  differentiable,
  noDerivative,
  storedProperties,
  type StoredProperty,
  type StoredPropertyKind,
  type FieldDecorator,
  type FieldCheck,
  type LegacyFieldCheck,
  type DecoratorTypeError,
} from "./keypaths/decorators.js";
export { keyPathChildren, type CustomKeyPathIterable, type Segment } from "./keypaths/walk.js";
export {
  KeyPath,
  WritableKeyPath,
  keyPath,
  type KeyPathString,
  type ValueAtPath,
  type TangentArgument,
  type NotInTangent,
  type SegmentCheck,
  type ForbiddenSegmentError,
} from "./keypaths/keypath.js";
export {
  allKeyPaths,
  allWritableKeyPaths,
  recursivelyAllKeyPaths,
  recursivelyAllWritableKeyPaths,
  differentiableKeyPaths,
  type KeyPathValueType,
  type ValueOfType,
} from "./keypaths/iterate.js";

// ---- Optimizers (src/optimizers) ----
export * from "./optimizers/index.js";

// ---- Layers, losses and checkpoints (src/layers, src/checkpoint) ----
// Activations: relu, sigmoid, tanh, softplus, softmax and logSoftmax are the operations exported above.
export { Layer, type InputOf, type OutputOf } from "./layers/layer.js";
export { learningPhase, withLearningPhase, learningPhaseIsAsyncSafe, type LearningPhase } from "./layers/phase.js";
export { identity, leakyRelu, elu, selu, gelu, swish, silu, type Activation } from "./layers/activations.js";
export {
  zerosInitializer,
  onesInitializer,
  constantInitializer,
  randomUniformInitializer,
  randomNormalInitializer,
  truncatedNormalInitializer,
  glorotUniform,
  glorotNormal,
  heUniform,
  heNormal,
  leCunUniform,
  leCunNormal,
  orthogonal,
  type Initializer,
  type InitializerOptions,
  type FloatDType,
} from "./layers/initializers.js";
export { Dense, type DenseOptions } from "./layers/dense.js";
export {
  Conv1D,
  Conv2D,
  Conv3D,
  TransposedConv2D,
  DepthwiseConv2D,
  SeparableConv2D,
  ZeroPadding1D,
  ZeroPadding2D,
  type ConvLayerOptions,
  type Conv1DLayerOptions,
  type Conv2DLayerOptions,
  type Conv3DLayerOptions,
  type TransposedConv2DLayerOptions,
  type DepthwiseConv2DLayerOptions,
  type SeparableConv2DLayerOptions,
  type ZeroPadding1DOptions,
  type ZeroPadding2DOptions,
} from "./layers/convolutional.js";
export { UpSampling1D, UpSampling2D, type UpSampling1DOptions, type UpSampling2DOptions } from "./layers/upsampling.js";
export {
  MaxPool2D,
  AvgPool2D,
  GlobalAvgPool2D,
  GlobalMaxPool2D,
  MaxPool1D,
  AvgPool1D,
  GlobalAvgPool1D,
  GlobalMaxPool1D,
  MaxPool3D,
  AvgPool3D,
  GlobalAvgPool3D,
  GlobalMaxPool3D,
  type Pool2DLayerOptions,
  type Pool1DLayerOptions,
  type Pool3DLayerOptions,
} from "./layers/pooling.js";
export { Flatten, Reshape, FunctionLayer } from "./layers/core.js";
export { Dropout, AlphaDropout, type DropoutOptions } from "./layers/dropout.js";
export {
  BatchNorm,
  LayerNorm,
  GroupNorm,
  InstanceNorm,
  type BatchNormOptions,
  type LayerNormOptions,
  type GroupNormOptions,
  type InstanceNormOptions,
} from "./layers/normalization.js";
export { Embedding, type EmbeddingOptions } from "./layers/embedding.js";
export {
  RecurrentCell,
  SimpleRNNCell,
  LSTMCell,
  GRUCell,
  RNN,
  Bidirectional,
  type RNNCellInput,
  type RNNCellOutput,
  type LSTMState,
  type RecurrentCellOptions,
  type RNNOptions,
  type BidirectionalOptions,
  type BidirectionalMerge,
  type StateOf,
} from "./layers/recurrent.js";
export { Sequential, type AnyLayer, type Chained } from "./layers/sequential.js";
export { summary, type SummaryOptions } from "./layers/summary.js";
export {
  meanSquaredError,
  meanAbsoluteError,
  huberLoss,
  logCoshLoss,
  softmaxCrossEntropy,
  sigmoidCrossEntropy,
  kullbackLeiblerDivergence,
  hingeLoss,
  l1Loss,
  l2Loss,
  meanSquaredLogarithmicError,
  meanAbsolutePercentageError,
  squaredHingeLoss,
  categoricalHingeLoss,
  poissonLoss,
  cosineSimilarity,
  type Reduction,
  type LossOptions,
} from "./layers/losses.js";
export {
  encodeSafetensors,
  decodeSafetensors,
  CheckpointError,
  MAX_HEADER_BYTES,
  type DecodedSafetensors,
  type SafetensorsDType,
} from "./checkpoint/safetensors.js";
// Checkpoint files (saveCheckpoint, loadCheckpoint) need Node's file system: they are in `difftypes/node`.
export { serializeCheckpoint, deserializeCheckpoint, type SaveCheckpointOptions, type LoadedCheckpoint } from "./checkpoint/checkpoint.js";

// ONNX export (bytes; the file helpers are in the Node-only entry)
export { exportOnnx, type OnnxExportOptions, type OnnxOpset, type CallableModel } from "./onnx/export.js";
export { importOnnxInitializers, type ImportedInitializers } from "./onnx/import.js";

// Staged execution
export { compile, type CompiledFunction, type CompiledArgs, type CompileStats, type CompiledProgramText } from "./staged/compile.js";
export { type CompileOptions } from "./staged/execute.js";
export { cond, fori } from "./staged/control.js";
