/**
 * Normalization layers: batch, layer, group and instance normalization. Each normalizes with statistics
 * computed from the input, then applies a learned per-feature `scale` and `offset`.
 */
import { Tensor } from "../tensor/tensor.js";
import { zeros, ones } from "../tensor/creation.js";
import { withoutDerivative } from "../autodiff/operators.js";
import { differentiable, noDerivative } from "../keypaths/decorators.js";
import { NoDerivative } from "../protocols/differentiable.js";
import { Layer, expectLastDim } from "./layer.js";
import { learningPhase } from "./phase.js";
import { positiveInt } from "./dense.js";
import type { FloatDType } from "./initializers.js";

/**
 * Options of {@link BatchNorm}.
 * @category Layers
 */
export interface BatchNormOptions {
  /** The number of features (channels) on the normalized axis. */
  featureCount: number;
  /** The feature axis (default −1, the channels of NHWC / NWC / `[batch, features]` inputs). */
  axis?: number;
  /** Running statistics keep this fraction of their old value at each training step (default 0.99). */
  momentum?: number;
  /** Added to the variance before the square root (default 0.001). */
  epsilon?: number;
  /** The parameters' and statistics' dtype (default `'float32'`). */
  dtype?: FloatDType;
}

/** Reduction axes and broadcast shape for a per-feature vector on `axis` of `x`. */
function featureAxes(layer: string, x: Tensor, axis: number, featureCount: number): { axes: number[]; shape: number[] } {
  const a = axis < 0 ? axis + x.rank : axis;
  if (x.rank < 1 || a < 0 || a >= x.rank) {
    throw new RangeError(`${layer}: axis ${axis} is out of range for an input of shape [${x.shape.join(",")}]`);
  }
  if (x.shape[a] !== featureCount) {
    throw new RangeError(`${layer}: the input has ${x.shape[a]} features on axis ${axis} (shape [${x.shape.join(",")}]) but the layer was built for ${featureCount}`);
  }
  const axes: number[] = [];
  const shape: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    if (i === a) shape.push(featureCount);
    else {
      axes.push(i);
      shape.push(1);
    }
  }
  return { axes, shape };
}

/**
 * Batch normalization (Ioffe & Szegedy, 2015, "Batch Normalization: Accelerating Deep Network Training by
 * Reducing Internal Covariate Shift"). In the training phase it normalizes with the batch's mean and
 * (biased) variance over every axis but `axis`, and updates the running statistics
 * `running ← momentum · running + (1 − momentum) · batch`; in the inference phase it uses the running
 * statistics. The running statistics are `NoDerivative` boxes: never differentiated, never moved by an
 * optimizer nor decayed by weight decay, yet saved in checkpoints. Updates made while a differential
 * operator runs the layer reach the model itself (the box is shared with the copy the operator works on).
 *
 * @example
 * ```ts
 * const bn = new BatchNorm({ featureCount: 3, momentum: 0.9 });
 * // Training: each feature is normalized with the batch's mean and variance (2.5 and 2.25 for the first),
 * withLearningPhase("training", () => bn.callAsFunction(x)); // [[-0.9998, -0.9998, -0.9998], [0.9998, 0.9998, 0.9998]]
 * // and the running statistics move a tenth of the way towards them:
 * bn.runningMean.value;     // [0.25, 0.35, 0.45]
 * bn.runningVariance.value; // [1.125, 1.125, 1.125]
 * // Inference (the default phase) uses the running statistics:
 * bn.callAsFunction(x).shape; // [2, 3]
 * ```
 * @category Layers
 */
export class BatchNorm extends Layer<Tensor, Tensor> {
  /** `γ`, `[featureCount]`, initially ones. */
  @differentiable scale: Tensor;
  /** `β`, `[featureCount]`, initially zeros. */
  @differentiable offset: Tensor;
  /** The running mean, `[featureCount]`. */
  @noDerivative readonly runningMean: NoDerivative<Tensor>;
  /** The running (biased) variance, `[featureCount]`. */
  @noDerivative readonly runningVariance: NoDerivative<Tensor>;
  /** The feature axis. */
  @noDerivative readonly axis: number;
  /** The running statistics' momentum. */
  @noDerivative readonly momentum: number;
  /** The variance epsilon. */
  @noDerivative readonly epsilon: number;

  /** @param options feature count, axis, momentum, epsilon and dtype. */
  constructor(options: BatchNormOptions) {
    super();
    positiveInt("BatchNorm", "featureCount", options.featureCount);
    const dtype = options.dtype ?? "float32";
    const n = options.featureCount;
    this.scale = ones([n], { dtype });
    this.offset = zeros([n], { dtype });
    this.runningMean = new NoDerivative(zeros([n], { dtype }));
    this.runningVariance = new NoDerivative(ones([n], { dtype }));
    this.axis = options.axis ?? -1;
    this.momentum = options.momentum ?? 0.99;
    this.epsilon = options.epsilon ?? 1e-3;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new RangeError(`BatchNorm: momentum must be in [0, 1], got ${this.momentum}`);
    if (!(this.epsilon > 0)) throw new RangeError(`BatchNorm: epsilon must be positive, got ${this.epsilon}`);
  }

  /**
   * Normalizes the input.
   * @param input a float tensor with `featureCount` entries on `axis`, e.g. `[batch, height, width, channels]`.
   * @returns a tensor of the same shape.
   */
  callAsFunction(input: Tensor): Tensor {
    const { axes, shape } = featureAxes("BatchNorm", input, this.axis, this.scale.shape[0]!);
    const scale = this.scale.reshape(shape);
    const offset = this.offset.reshape(shape);
    if (learningPhase() === "inference") {
      const inv = this.runningVariance.value.reshape(shape).add(this.epsilon).rsqrt();
      return input.sub(this.runningMean.value.reshape(shape)).mul(inv.mul(scale)).add(offset);
    }
    const mean = input.mean(axes, true);
    const centered = input.sub(mean);
    const variance = centered.mul(centered).mean(axes, true);
    const m = this.momentum;
    const dtype = this.runningMean.value.dtype;
    const batchMean = withoutDerivative(mean).reshape([-1]).cast(dtype);
    const batchVariance = withoutDerivative(variance).reshape([-1]).cast(dtype);
    this.runningMean.value = this.runningMean.value.mul(m).add(batchMean.mul(1 - m));
    this.runningVariance.value = this.runningVariance.value.mul(m).add(batchVariance.mul(1 - m));
    return centered.mul(variance.add(this.epsilon).rsqrt().mul(scale)).add(offset);
  }
}

/**
 * Options of {@link LayerNorm}.
 * @category Layers
 */
export interface LayerNormOptions {
  /** The size of the normalized (last) axis. */
  featureCount: number;
  /** Added to the variance before the square root (default 1e-5). */
  epsilon?: number;
  /** The parameters' dtype (default `'float32'`). */
  dtype?: FloatDType;
}

/**
 * Layer normalization (Ba, Kiros & Hinton, 2016, "Layer Normalization"): each example is normalized over
 * its last axis with its own mean and variance, then scaled and offset per feature. The same in both
 * learning phases.
 *
 * @example
 * ```ts
 * const norm = new LayerNorm({ featureCount: 3 });
 * norm.callAsFunction(x); // [[-1.2247, 0, 1.2247], [-1.2247, 0, 1.2247]]
 * norm.callAsFunction(zeros([4, 10, 3])).shape; // [4, 10, 3]
 * ```
 * @category Layers
 */
export class LayerNorm extends Layer<Tensor, Tensor> {
  /** `γ`, `[featureCount]`, initially ones. */
  @differentiable scale: Tensor;
  /** `β`, `[featureCount]`, initially zeros. */
  @differentiable offset: Tensor;
  /** The variance epsilon. */
  @noDerivative readonly epsilon: number;

  /** @param options feature count, epsilon and dtype. */
  constructor(options: LayerNormOptions) {
    super();
    positiveInt("LayerNorm", "featureCount", options.featureCount);
    const dtype = options.dtype ?? "float32";
    this.scale = ones([options.featureCount], { dtype });
    this.offset = zeros([options.featureCount], { dtype });
    this.epsilon = options.epsilon ?? 1e-5;
    if (!(this.epsilon > 0)) throw new RangeError(`LayerNorm: epsilon must be positive, got ${this.epsilon}`);
  }

  /**
   * Normalizes each example over its last axis.
   * @param input `[..., featureCount]`.
   * @returns a tensor of the same shape.
   */
  callAsFunction(input: Tensor): Tensor {
    expectLastDim("LayerNorm", input, this.scale.shape[0]!, "features");
    const mean = input.mean(-1, true);
    const centered = input.sub(mean);
    const variance = centered.mul(centered).mean(-1, true);
    return centered.mul(variance.add(this.epsilon).rsqrt()).mul(this.scale).add(this.offset);
  }
}

/**
 * Options of {@link GroupNorm}.
 * @category Layers
 */
export interface GroupNormOptions {
  /** The number of channels (last axis). */
  featureCount: number;
  /** The number of groups; must divide `featureCount`. */
  groupCount: number;
  /** Added to the variance before the square root (default 1e-5). */
  epsilon?: number;
  /** The parameters' dtype (default `'float32'`). */
  dtype?: FloatDType;
}

/**
 * Group normalization (Wu & He, 2018, "Group Normalization"): the channels of each example are split
 * into `groupCount` groups, each normalized over its channels and every spatial position. With one group
 * per channel it is instance normalization; with one group, layer normalization over all axes. The same
 * in both learning phases, and independent of the batch size.
 *
 * @example
 * ```ts
 * new GroupNorm({ featureCount: 8, groupCount: 2 }).callAsFunction(zeros([2, 4, 4, 8])).shape; // [2, 4, 4, 8]
 * ```
 * @category Layers
 */
export class GroupNorm extends Layer<Tensor, Tensor> {
  /** `γ`, `[featureCount]`, initially ones. */
  @differentiable scale: Tensor;
  /** `β`, `[featureCount]`, initially zeros. */
  @differentiable offset: Tensor;
  /** The number of groups. */
  @noDerivative readonly groupCount: number;
  /** The variance epsilon. */
  @noDerivative readonly epsilon: number;

  /** @param options feature count, group count, epsilon and dtype. */
  constructor(options: GroupNormOptions) {
    super();
    positiveInt("GroupNorm", "featureCount", options.featureCount);
    positiveInt("GroupNorm", "groupCount", options.groupCount);
    if (options.featureCount % options.groupCount !== 0) {
      throw new RangeError(`GroupNorm: groupCount (${options.groupCount}) must divide featureCount (${options.featureCount})`);
    }
    const dtype = options.dtype ?? "float32";
    this.scale = ones([options.featureCount], { dtype });
    this.offset = zeros([options.featureCount], { dtype });
    this.groupCount = options.groupCount;
    this.epsilon = options.epsilon ?? 1e-5;
    if (!(this.epsilon > 0)) throw new RangeError(`GroupNorm: epsilon must be positive, got ${this.epsilon}`);
  }

  /**
   * Normalizes each group of channels.
   * @param input `[batch, ..., featureCount]` (rank at least 2).
   * @returns a tensor of the same shape.
   */
  callAsFunction(input: Tensor): Tensor {
    if (input.rank < 2) throw new RangeError(`GroupNorm: expected an input of rank at least 2 [batch, ..., channels], got shape [${input.shape.join(",")}]`);
    const c = this.scale.shape[0]!;
    expectLastDim("GroupNorm", input, c, "channels");
    const n = input.shape[0]!;
    const g = this.groupCount;
    const grouped = input.reshape([n, -1, g, c / g]);
    const mean = grouped.mean([1, 3], true);
    const centered = grouped.sub(mean);
    const variance = centered.mul(centered).mean([1, 3], true);
    const normalized = centered.mul(variance.add(this.epsilon).rsqrt()).reshape(input.shape);
    return normalized.mul(this.scale).add(this.offset);
  }
}

/**
 * Options of {@link InstanceNorm}.
 * @category Layers
 */
export interface InstanceNormOptions {
  /** The number of channels (last axis). */
  featureCount: number;
  /** Added to the variance before the square root (default 1e-5). */
  epsilon?: number;
  /** The parameters' dtype (default `'float32'`). */
  dtype?: FloatDType;
}

/**
 * Instance normalization (Ulyanov, Vedaldi & Lempitsky, 2016, "Instance Normalization: The Missing
 * Ingredient for Fast Stylization"): each channel of each example is normalized over its spatial (or time)
 * positions, `y[b, …, c] = (x[b, …, c] − μ[b, c]) / √(σ²[b, c] + ε) · scale[c] + offset[c]`, with the
 * biased variance. The same in both learning phases, and independent of the batch.
 *
 * It is {@link GroupNorm} with one channel per group (`groupCount = featureCount`), as in Swift for
 * TensorFlow; that is exactly the definition above: GroupNorm groups `[batch, positions, groups,
 * channels / groups]` and reduces over positions and the channels of a group, which with one channel per
 * group leaves the positions alone. Like Swift's (and unlike the paper's, which has none) it learns a
 * per-channel `scale` and `offset`, initially 1 and 0, so a new layer computes exactly the paper's
 * normalization. Unlike GroupNorm it requires at least one spatial axis: with none, every value would be
 * normalized by itself.
 *
 * @example
 * ```ts
 * new InstanceNorm({ featureCount: 8 }).callAsFunction(zeros([2, 4, 4, 8])).shape; // [2, 4, 4, 8]
 * ```
 * @category Layers
 */
export class InstanceNorm extends GroupNorm {
  /** @param options feature count, epsilon and dtype. */
  constructor(options: InstanceNormOptions) {
    positiveInt("InstanceNorm", "featureCount", options.featureCount);
    if (options.epsilon !== undefined && !(options.epsilon > 0)) throw new RangeError(`InstanceNorm: epsilon must be positive, got ${options.epsilon}`);
    super({ featureCount: options.featureCount, groupCount: options.featureCount, epsilon: options.epsilon, dtype: options.dtype });
  }

  /**
   * Normalizes each channel of each example over its positions.
   * @param input `[batch, ...positions, featureCount]` with at least one positional axis (NWC, NHWC, …).
   * @returns a tensor of the same shape.
   */
  override callAsFunction(input: Tensor): Tensor {
    if (input.rank < 3) {
      throw new RangeError(`InstanceNorm: expected an input of rank at least 3 [batch, ...positions, channels], got shape [${input.shape.join(",")}]`);
    }
    expectLastDim("InstanceNorm", input, this.scale.shape[0]!, "channels");
    return super.callAsFunction(input);
  }
}
