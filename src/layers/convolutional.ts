/**
 * Convolution layers over channels-last tensors (NWC, NHWC and NDHWC): each is one convolution primitive and a
 * broadcast bias add (a separable convolution is two), so forward and backward passes run in the
 * convolution kernels. The zero-padding layers live here too, as in Swift for TensorFlow.
 */
import { Tensor } from "../tensor/tensor.js";
import type { RandomKey } from "../tensor/random.js";
import {
  conv2d,
  conv2dTranspose,
  conv3d,
  depthwiseConv2d,
  type Conv2DOptions,
  type Conv3DOptions,
  type Padding2D,
  type Padding3D,
} from "../ops/conv.js";
import { differentiable, noDerivative } from "../keypaths/decorators.js";
import { Layer, expectRank, expectLastDim } from "./layer.js";
import { identity, type Activation } from "./activations.js";
import { glorotUniform, zerosInitializer, layerKey, type FloatDType, type Initializer } from "./initializers.js";
import { positiveInt } from "./dense.js";

/**
 * Options shared by the convolution layers.
 * @category Layers
 */
export interface ConvLayerOptions {
  /** Applied to the output; {@link identity} by default. */
  activation?: Activation;
  /** Whether to add a bias (default true). Without one, `bias` is an empty `[0]` tensor. */
  useBias?: boolean;
  /** Seed (or key) of the initializers; without one the global generator is used. */
  seed?: number | RandomKey;
  /** The parameters' dtype (default `'float32'`). */
  dtype?: FloatDType;
  /** Initializer of `filter` (default {@link glorotUniform}). */
  filterInitializer?: Initializer;
  /** Initializer of `bias` (default zeros). */
  biasInitializer?: Initializer;
}

/**
 * Options of {@link Conv2D}.
 * @category Layers
 */
export interface Conv2DLayerOptions extends ConvLayerOptions {
  /** `[filterHeight, filterWidth, inChannels, outChannels]`. */
  filterShape: readonly [number, number, number, number];
  /** Step between windows: a number or `[height, width]` (default 1). */
  strides?: number | readonly [number, number];
  /** `'valid'` (default), `'same'`, or explicit zero padding. */
  padding?: Padding2D;
  /** Dilation (atrous convolution): a number or `[height, width]` (default 1). */
  dilations?: number | readonly [number, number];
}

function checkFilterShape(layer: string, shape: readonly number[], rank: number): void {
  if (!Array.isArray(shape) || shape.length !== rank) {
    throw new RangeError(`${layer}: filterShape must have ${rank} entries, got ${JSON.stringify(shape)}`);
  }
  shape.forEach((d, i) => positiveInt(layer, `filterShape[${i}]`, d));
}

/**
 * What the convolution layers share (not exported from the package root): the filter and bias built from {@link ConvLayerOptions}, the
 * activation, and the bias add and activation after the convolution. Subclasses hold their geometry.
 */
export abstract class ConvLayer extends Layer<Tensor, Tensor> {
  /** The filter, laid out as the layer's `filterShape` option says. */
  @differentiable filter: Tensor;
  /** One entry per output channel (`[0]` without bias). */
  @differentiable bias: Tensor;
  /** The activation applied last. */
  @noDerivative readonly activation: Activation;
  /** Whether `bias` is added. */
  @noDerivative readonly useBias: boolean;

  /**
   * @param layer the layer's name, for messages.
   * @param filterShape the filter's shape, checked to have `rank` positive integer entries.
   * @param rank the filter's rank.
   * @param outChannels the number of output channels (the bias size), from the checked filter shape.
   * @param options activation, bias, seed, dtype, initializers.
   */
  protected constructor(
    layer: string,
    filterShape: readonly number[],
    rank: number,
    outChannels: (filterShape: readonly number[]) => number,
    options: ConvLayerOptions,
  ) {
    super();
    checkFilterShape(layer, filterShape, rank);
    const dtype = options.dtype ?? "float32";
    const [fk, bk] = layerKey(options.seed).split(2);
    this.useBias = options.useBias ?? true;
    this.filter = (options.filterInitializer ?? glorotUniform())(filterShape, { seed: fk, dtype });
    this.bias = (options.biasInitializer ?? zerosInitializer())([this.useBias ? outChannels(filterShape) : 0], { seed: bk, dtype });
    this.activation = options.activation ?? identity;
  }

  /** @internal The end of every convolution layer: the bias add (when used), then the activation. */
  protected biasAndActivation(y: Tensor): Tensor {
    return this.activation(this.useBias ? y.add(this.bias) : y);
  }
}

/** Strides, padding and dilations of a 2-D convolution layer, with their defaults (1, `'valid'`, 1). */
function geometry2d(o: Conv2DLayerOptions | DepthwiseConv2DLayerOptions | SeparableConv2DLayerOptions): Conv2DOptions {
  return { strides: o.strides ?? 1, padding: o.padding ?? "valid", dilations: o.dilations ?? 1 };
}

/**
 * 2-D convolution over NHWC images (LeCun et al., 1989, "Backpropagation Applied to Handwritten Zip Code
 * Recognition"), with strides, padding and dilation (Yu & Koltun, 2016, "Multi-Scale Context Aggregation
 * by Dilated Convolutions").
 *
 * @example
 * ```ts
 * const conv = new Conv2D({ filterShape: [3, 3, 1, 8], padding: "same", activation: relu, seed: 0 });
 * conv.callAsFunction(zeros([2, 28, 28, 1])).shape; // [2, 28, 28, 8]
 * // A 2×2 box filter without bias sums each window of a 2×4 image ('valid' padding: three windows).
 * const box = new Conv2D({ filterShape: [2, 2, 1, 1], filterInitializer: onesInitializer(), useBias: false });
 * box.callAsFunction(tensor([[[[1], [2], [5], [6]], [[3], [4], [7], [8]]]])); // [[[[10], [18], [26]]]]
 * ```
 * @category Layers
 */
export class Conv2D extends ConvLayer {
  /** Strides, padding and dilations (a private field, so `TangentVector<Conv2D>` holds only parameters). */
  private readonly geometry: Conv2DOptions;

  /** @param options filter shape, strides, padding, dilations, activation, bias, seed, dtype, initializers. */
  constructor(options: Conv2DLayerOptions) {
    super("Conv2D", options.filterShape, 4, (s) => s[3]!, options);
    this.geometry = geometry2d(options);
  }

  /**
   * Applies the layer.
   * @param input `[batch, height, width, inChannels]`.
   * @returns `[batch, outHeight, outWidth, outChannels]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("Conv2D", input, 4, "[batch, height, width, channels]");
    expectLastDim("Conv2D", input, this.filter.shape[2]!, "channels");
    return this.biasAndActivation(input.conv2d(this.filter, this.geometry));
  }
}

/**
 * Options of {@link Conv1D}.
 * @category Layers
 */
export interface Conv1DLayerOptions extends ConvLayerOptions {
  /** `[filterWidth, inChannels, outChannels]`. */
  filterShape: readonly [number, number, number];
  /** Step between windows (default 1). */
  stride?: number;
  /** `'valid'` (default), `'same'`, or a number of zeros on both ends. */
  padding?: "same" | "valid" | number;
  /** Spacing between filter taps (default 1). */
  dilation?: number;
}

/**
 * 1-D convolution over NWC sequences (the temporal convolution of Waibel et al., 1989, "Phoneme
 * Recognition Using Time-Delay Neural Networks").
 *
 * @example
 * ```ts
 * const conv = new Conv1D({ filterShape: [3, 4, 8], padding: "same", seed: 0 });
 * conv.callAsFunction(zeros([2, 10, 4])).shape; // [2, 10, 8]
 * ```
 * @category Layers
 */
export class Conv1D extends ConvLayer {
  /** Step between windows. */
  @noDerivative readonly stride: number;
  /** Padding mode or width. */
  @noDerivative readonly padding: "same" | "valid" | number;
  /** Spacing between filter taps. */
  @noDerivative readonly dilation: number;

  /** @param options filter shape, stride, padding, dilation, activation, bias, seed, dtype, initializers. */
  constructor(options: Conv1DLayerOptions) {
    super("Conv1D", options.filterShape, 3, (s) => s[2]!, options);
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? "valid";
    this.dilation = options.dilation ?? 1;
  }

  /**
   * Applies the layer.
   * @param input `[batch, width, inChannels]`.
   * @returns `[batch, outWidth, outChannels]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("Conv1D", input, 3, "[batch, width, channels]");
    expectLastDim("Conv1D", input, this.filter.shape[1]!, "channels");
    return this.biasAndActivation(input.conv1d(this.filter, { stride: this.stride, padding: this.padding, dilation: this.dilation }));
  }
}

/**
 * Options of {@link Conv3D}.
 * @category Layers
 */
export interface Conv3DLayerOptions extends ConvLayerOptions {
  /** `[filterDepth, filterHeight, filterWidth, inChannels, outChannels]`. */
  filterShape: readonly [number, number, number, number, number];
  /** Step between windows: a number or `[depth, height, width]` (default 1). */
  strides?: number | readonly [number, number, number];
  /** `'valid'` (default), `'same'`, or explicit zero padding. */
  padding?: Padding3D;
  /** Spacing between filter taps: a number or `[depth, height, width]` (default 1). */
  dilations?: number | readonly [number, number, number];
}

/**
 * 3-D convolution over NDHWC volumes (video clips, medical scans), as in C3D (Tran et al., 2015,
 * "Learning Spatiotemporal Features with 3D Convolutional Networks"), with strides, padding and dilation.
 *
 * @example
 * ```ts
 * const conv = new Conv3D({ filterShape: [3, 3, 3, 1, 8], padding: "same", activation: relu, seed: 0 });
 * conv.callAsFunction(zeros([2, 8, 16, 16, 1])).shape; // [2, 8, 16, 16, 8]
 * ```
 * @category Layers
 */
export class Conv3D extends ConvLayer {
  /** Strides, padding and dilations (a private field, so `TangentVector<Conv3D>` holds only parameters). */
  private readonly geometry: Conv3DOptions;

  /** @param options filter shape, strides, padding, dilations, activation, bias, seed, dtype, initializers. */
  constructor(options: Conv3DLayerOptions) {
    super("Conv3D", options.filterShape, 5, (s) => s[4]!, options);
    this.geometry = { strides: options.strides ?? 1, padding: options.padding ?? "valid", dilations: options.dilations ?? 1 };
  }

  /**
   * Applies the layer.
   * @param input `[batch, depth, height, width, inChannels]`.
   * @returns `[batch, outDepth, outHeight, outWidth, outChannels]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("Conv3D", input, 5, "[batch, depth, height, width, channels]");
    expectLastDim("Conv3D", input, this.filter.shape[3]!, "channels");
    return this.biasAndActivation(conv3d(input, this.filter, this.geometry));
  }
}

/**
 * Options of {@link TransposedConv2D}.
 * @category Layers
 */
export interface TransposedConv2DLayerOptions extends ConvLayerOptions {
  /** `[filterHeight, filterWidth, outChannels, inChannels]` (TensorFlow's layout for transposed convolutions). */
  filterShape: readonly [number, number, number, number];
  /** Upsampling factor: a number or `[height, width]` (default 1). */
  strides?: number | readonly [number, number];
  /** `'valid'` (default: output `(in − 1)·stride + dilatedFilter`) or `'same'` (output `in · stride`). */
  padding?: "same" | "valid";
  /** Dilation of the filter (default 1). */
  dilations?: number | readonly [number, number];
}

function pair(v: number | readonly [number, number]): [number, number] {
  return typeof v === "number" ? [v, v] : [v[0], v[1]];
}

/**
 * Transposed 2-D convolution (the adjoint of a strided convolution, used to upsample; Zeiler, Taylor &
 * Fergus, 2011, "Adaptive Deconvolutional Networks"; Dumoulin & Visin, 2016, "A guide to convolution
 * arithmetic for deep learning").
 *
 * @example
 * ```ts
 * const up = new TransposedConv2D({ filterShape: [3, 3, 4, 8], strides: 2, padding: "same", seed: 0 });
 * up.callAsFunction(zeros([1, 7, 7, 8])).shape; // [1, 14, 14, 4]
 * ```
 * @category Layers
 */
export class TransposedConv2D extends ConvLayer {
  /** `'same'` or `'valid'`. */
  @noDerivative readonly padding: "same" | "valid";
  private readonly strides: [number, number];
  private readonly dilations: [number, number];

  /** @param options filter shape, strides, padding, dilations, activation, bias, seed, dtype, initializers. */
  constructor(options: TransposedConv2DLayerOptions) {
    super("TransposedConv2D", options.filterShape, 4, (s) => s[2]!, options);
    this.padding = options.padding ?? "valid";
    if (this.padding !== "same" && this.padding !== "valid") {
      throw new RangeError(`TransposedConv2D: padding must be 'same' or 'valid', got ${String(this.padding)}`);
    }
    this.strides = pair(options.strides ?? 1);
    this.dilations = pair(options.dilations ?? 1);
  }

  /**
   * Applies the layer.
   * @param input `[batch, height, width, inChannels]`.
   * @returns `[batch, outHeight, outWidth, outChannels]`, with `out = in · stride` for `'same'` padding and
   *   `(in − 1) · stride + (filter − 1) · dilation + 1` for `'valid'`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("TransposedConv2D", input, 4, "[batch, height, width, channels]");
    expectLastDim("TransposedConv2D", input, this.filter.shape[3]!, "channels");
    const [sh, sw] = this.strides;
    const [dh, dw] = this.dilations;
    const [fh, fw, cout] = this.filter.shape as [number, number, number, number];
    const [n, h, w] = input.shape as [number, number, number, number];
    const outShape = this.padding === "same"
      ? [n, h * sh, w * sw, cout]
      : [n, (h - 1) * sh + (fh - 1) * dh + 1, (w - 1) * sw + (fw - 1) * dw + 1, cout];
    return this.biasAndActivation(conv2dTranspose(input, this.filter, outShape, { strides: this.strides, padding: this.padding, dilations: this.dilations }));
  }
}

/**
 * Options of {@link DepthwiseConv2D}.
 * @category Layers
 */
export interface DepthwiseConv2DLayerOptions extends ConvLayerOptions {
  /** `[filterHeight, filterWidth, channels, channelMultiplier]`. */
  filterShape: readonly [number, number, number, number];
  /** Step between windows: a number or `[height, width]` (default 1). */
  strides?: number | readonly [number, number];
  /** `'valid'` (default), `'same'`, or explicit zero padding. */
  padding?: Padding2D;
  /** Dilation: a number or `[height, width]` (default 1). */
  dilations?: number | readonly [number, number];
}

/**
 * Depthwise 2-D convolution: each channel is filtered on its own by `channelMultiplier` filters (Sifre,
 * 2014, "Rigid-Motion Scattering for Image Classification"; Howard et al., 2017, "MobileNets").
 *
 * @example
 * ```ts
 * const dw = new DepthwiseConv2D({ filterShape: [3, 3, 4, 2], padding: "same", seed: 0 });
 * dw.callAsFunction(zeros([1, 8, 8, 4])).shape; // [1, 8, 8, 8]
 * ```
 * @category Layers
 */
export class DepthwiseConv2D extends ConvLayer {
  private readonly geometry: Conv2DOptions;

  /** @param options filter shape, strides, padding, dilations, activation, bias, seed, dtype, initializers. */
  constructor(options: DepthwiseConv2DLayerOptions) {
    super("DepthwiseConv2D", options.filterShape, 4, (s) => s[2]! * s[3]!, options);
    this.geometry = geometry2d(options);
  }

  /**
   * Applies the layer.
   * @param input `[batch, height, width, channels]`.
   * @returns `[batch, outHeight, outWidth, channels · channelMultiplier]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("DepthwiseConv2D", input, 4, "[batch, height, width, channels]");
    expectLastDim("DepthwiseConv2D", input, this.filter.shape[2]!, "channels");
    return this.biasAndActivation(depthwiseConv2d(input, this.filter, this.geometry));
  }
}

/**
 * Options of {@link SeparableConv2D}.
 * @category Layers
 */
export interface SeparableConv2DLayerOptions extends Omit<ConvLayerOptions, "filterInitializer"> {
  /** `[filterHeight, filterWidth, inChannels, outChannels]`: the window, and the channels in and out. */
  filterShape: readonly [number, number, number, number];
  /** Depthwise filters per input channel (default 1): the depthwise step has `inChannels · depthMultiplier` outputs. */
  depthMultiplier?: number;
  /** Step between windows of the depthwise step: a number or `[height, width]` (default 1). */
  strides?: number | readonly [number, number];
  /** Padding of the depthwise step: `'valid'` (default), `'same'`, or explicit zero padding. */
  padding?: Padding2D;
  /** Dilation of the depthwise step: a number or `[height, width]` (default 1). */
  dilations?: number | readonly [number, number];
  /** Initializer of `depthwiseFilter` (default {@link glorotUniform}). */
  depthwiseFilterInitializer?: Initializer;
  /** Initializer of `pointwiseFilter` (default {@link glorotUniform}). */
  pointwiseFilterInitializer?: Initializer;
}

/**
 * Depthwise separable 2-D convolution (Sifre, 2014, "Rigid-Motion Scattering for Image Classification";
 * Chollet, 2017, "Xception: Deep Learning with Depthwise Separable Convolutions"): a depthwise convolution
 * filters each input channel on its own (`depthMultiplier` filters per channel, with the layer's strides,
 * padding and dilations), then a pointwise (1×1) convolution mixes the channels, then the bias and the
 * activation. With `k×k` windows it needs `k²·cin·m + cin·m·cout` weights where a {@link Conv2D} needs
 * `k²·cin·cout`. Swift's `SeparableConv2D`.
 *
 * The two steps are the {@link depthwiseConv2d} and {@link conv2d} operations, so both are differentiated
 * by the convolution kernels. The parameters are `depthwiseFilter` `[filterHeight, filterWidth, inChannels,
 * depthMultiplier]`, `pointwiseFilter` `[1, 1, inChannels · depthMultiplier, outChannels]` and `bias`
 * `[outChannels]` (`[0]` without bias); there is no bias between the two steps (as in Xception).
 *
 * @example
 * ```ts
 * const sep = new SeparableConv2D({ filterShape: [3, 3, 16, 32], padding: "same", activation: relu, seed: 0 });
 * sep.callAsFunction(zeros([2, 8, 8, 16])).shape; // [2, 8, 8, 32]
 * sep.depthwiseFilter.shape; // [3, 3, 16, 1]
 * sep.pointwiseFilter.shape; // [1, 1, 16, 32]
 * ```
 * @category Layers
 */
export class SeparableConv2D extends Layer<Tensor, Tensor> {
  /** `[filterHeight, filterWidth, inChannels, depthMultiplier]`. */
  @differentiable depthwiseFilter: Tensor;
  /** `[1, 1, inChannels · depthMultiplier, outChannels]`. */
  @differentiable pointwiseFilter: Tensor;
  /** One entry per output channel (`[0]` without bias). */
  @differentiable bias: Tensor;
  /** The activation applied last. */
  @noDerivative readonly activation: Activation;
  /** Whether `bias` is added. */
  @noDerivative readonly useBias: boolean;
  /** Strides, padding and dilations of the depthwise step. */
  private readonly geometry: Conv2DOptions;

  /**
   * @param options filter shape, depth multiplier, strides, padding, dilations, activation, bias, seed, dtype,
   *   initializers.
   */
  constructor(options: SeparableConv2DLayerOptions) {
    super();
    const layer = "SeparableConv2D";
    checkFilterShape(layer, options.filterShape, 4);
    const m = options.depthMultiplier ?? 1;
    positiveInt(layer, "depthMultiplier", m);
    const [fh, fw, cin, cout] = options.filterShape;
    const dtype = options.dtype ?? "float32";
    const [dk, pk, bk] = layerKey(options.seed).split(3);
    this.useBias = options.useBias ?? true;
    this.depthwiseFilter = (options.depthwiseFilterInitializer ?? glorotUniform())([fh, fw, cin, m], { seed: dk, dtype });
    this.pointwiseFilter = (options.pointwiseFilterInitializer ?? glorotUniform())([1, 1, cin * m, cout], { seed: pk, dtype });
    this.bias = (options.biasInitializer ?? zerosInitializer())([this.useBias ? cout : 0], { seed: bk, dtype });
    this.activation = options.activation ?? identity;
    this.geometry = geometry2d(options);
  }

  /**
   * Applies the layer.
   * @param input `[batch, height, width, inChannels]`.
   * @returns `[batch, outHeight, outWidth, outChannels]`, the spatial size set by the depthwise step.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("SeparableConv2D", input, 4, "[batch, height, width, channels]");
    expectLastDim("SeparableConv2D", input, this.depthwiseFilter.shape[2]!, "channels");
    const y = conv2d(depthwiseConv2d(input, this.depthwiseFilter, this.geometry), this.pointwiseFilter);
    return this.activation(this.useBias ? y.add(this.bias) : y);
  }
}

/** A `[before, after]` pair of non-negative integers, from a number (both ends) or a pair. */
function padPair(layer: string, name: string, v: unknown): [number, number] {
  const p = typeof v === "number" ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || p.some((d) => typeof d !== "number" || !Number.isInteger(d) || d < 0)) {
    throw new RangeError(`${layer}: ${name} must be a non-negative integer or a [before, after] pair of them, got ${JSON.stringify(v)}`);
  }
  return [p[0] as number, p[1] as number];
}

/**
 * Options of {@link ZeroPadding1D}.
 * @category Layers
 */
export interface ZeroPadding1DOptions {
  /** Zeros added at both ends of the width axis (a number), or `[left, right]`. */
  padding: number | readonly [number, number];
}

/**
 * Adds zeros at the ends of the width axis of NWC sequences (Swift's `ZeroPadding1D`), with the `pad`
 * operation, whose derivative slices the padding off again. No parameters.
 *
 * @example
 * ```ts
 * new ZeroPadding1D({ padding: [1, 2] }).callAsFunction(ones([2, 5, 3])).shape; // [2, 8, 3]
 * ```
 * @category Layers
 */
export class ZeroPadding1D extends Layer<Tensor, Tensor> {
  /** `[left, right]`. */
  private readonly padding: readonly [number, number];

  /** @param options the padding. */
  constructor(options: ZeroPadding1DOptions) {
    super();
    this.padding = padPair("ZeroPadding1D", "padding", options.padding);
  }

  /**
   * Applies the layer.
   * @param input `[batch, width, channels]`.
   * @returns `[batch, left + width + right, channels]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("ZeroPadding1D", input, 3, "[batch, width, channels]");
    return input.pad([[0, 0], this.padding, [0, 0]]);
  }
}

/**
 * Options of {@link ZeroPadding2D}.
 * @category Layers
 */
export interface ZeroPadding2DOptions {
  /**
   * A number (the same on all four sides), `[height, width]` (symmetric per axis), or
   * `[[top, bottom], [left, right]]`.
   */
  padding: number | readonly [number, number] | readonly [readonly [number, number], readonly [number, number]];
}

/**
 * Adds zeros around the height and width axes of NHWC images (Swift's `ZeroPadding2D`), with the `pad`
 * operation, whose derivative slices the padding off again. No parameters.
 *
 * @example
 * ```ts
 * new ZeroPadding2D({ padding: 1 }).callAsFunction(ones([1, 4, 4, 3])).shape; // [1, 6, 6, 3]
 * new ZeroPadding2D({ padding: [[0, 1], [2, 0]] }).callAsFunction(ones([1, 4, 4, 3])).shape; // [1, 5, 6, 3]
 * ```
 * @category Layers
 */
export class ZeroPadding2D extends Layer<Tensor, Tensor> {
  /** `[[top, bottom], [left, right]]`. */
  private readonly padding: readonly [readonly [number, number], readonly [number, number]];

  /** @param options the padding. */
  constructor(options: ZeroPadding2DOptions) {
    super();
    const p: unknown = options.padding;
    const layer = "ZeroPadding2D";
    if (Array.isArray(p) && p.length === 2 && Array.isArray(p[0]) && Array.isArray(p[1])) {
      this.padding = [padPair(layer, "padding[0]", p[0]), padPair(layer, "padding[1]", p[1])];
    } else if (Array.isArray(p) && p.length === 2) {
      const [h, w] = padPair(layer, "padding", p);
      this.padding = [[h, h], [w, w]];
    } else {
      const [n] = padPair(layer, "padding", p);
      this.padding = [[n, n], [n, n]];
    }
  }

  /**
   * Applies the layer.
   * @param input `[batch, height, width, channels]`.
   * @returns `[batch, top + height + bottom, left + width + right, channels]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("ZeroPadding2D", input, 4, "[batch, height, width, channels]");
    return input.pad([[0, 0], this.padding[0], this.padding[1], [0, 0]]);
  }
}
