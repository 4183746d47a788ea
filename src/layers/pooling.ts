/**
 * Pooling layers over NHWC tensors. They have no parameters: their tangent vector is empty.
 */
import { Tensor } from "../tensor/tensor.js";
import type { Padding2D, Pool2DOptions } from "../ops/conv.js";
import { Layer, expectRank } from "./layer.js";

/** Options of {@link MaxPool2D} and {@link AvgPool2D}. */
export interface Pool2DLayerOptions {
  /** Window size: a number or `[height, width]`. */
  poolSize: number | readonly [number, number];
  /** Step between windows (default: the window size). */
  strides?: number | readonly [number, number];
  /** `'valid'` (default), `'same'`, or explicit padding; padded cells never enter a window. */
  padding?: Padding2D;
}

/**
 * What the 2-D window poolings share (not exported from the package root): their options, resolved once. Subclasses pick the
 * reduction in `callAsFunction`.
 */
export abstract class Pool2DLayer extends Layer<Tensor, Tensor> {
  /** @internal Window, strides and padding (not public, so the layer's tangent vector stays empty). */
  protected readonly pool: Pool2DOptions;

  /** @param options window size, strides and padding. */
  constructor(options: Pool2DLayerOptions) {
    super();
    this.pool = { size: options.poolSize, strides: options.strides ?? options.poolSize, padding: options.padding ?? "valid" };
  }

  /**
   * Applies the layer.
   * @param input `[batch, height, width, channels]`.
   * @returns `[batch, outHeight, outWidth, channels]`.
   */
  abstract override callAsFunction(input: Tensor): Tensor;
}

/**
 * Max pooling over 2-D windows (Zhou & Chellappa, 1988; Ranzato et al., 2007, "Unsupervised Learning of
 * Invariant Feature Hierarchies"). The gradient flows to each window's maximum.
 *
 * @example
 * ```ts
 * new MaxPool2D({ poolSize: 2 }).callAsFunction(zeros([1, 28, 28, 8])).shape; // [1, 14, 14, 8]
 * ```
 */
export class MaxPool2D extends Pool2DLayer {
  override callAsFunction(input: Tensor): Tensor {
    expectRank("MaxPool2D", input, 4, "[batch, height, width, channels]");
    return input.maxPool2d(this.pool);
  }
}

/**
 * Average pooling over 2-D windows (LeCun et al., 1998, "Gradient-Based Learning Applied to Document
 * Recognition": the subsampling layers of LeNet-5). Padded cells are not counted in the average.
 *
 * @example
 * ```ts
 * new AvgPool2D({ poolSize: 2 }).callAsFunction(zeros([1, 28, 28, 8])).shape; // [1, 14, 14, 8]
 * ```
 */
export class AvgPool2D extends Pool2DLayer {
  override callAsFunction(input: Tensor): Tensor {
    expectRank("AvgPool2D", input, 4, "[batch, height, width, channels]");
    return input.avgPool2d(this.pool);
  }
}

/**
 * Global average pooling: the mean over height and width of each channel (Lin, Chen & Yan, 2014,
 * "Network In Network").
 *
 * @example
 * ```ts
 * new GlobalAvgPool2D().callAsFunction(zeros([2, 7, 7, 16])).shape; // [2, 16]
 * ```
 */
export class GlobalAvgPool2D extends Layer<Tensor, Tensor> {
  /**
   * Applies the layer.
   * @param input `[batch, height, width, channels]`.
   * @returns `[batch, channels]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("GlobalAvgPool2D", input, 4, "[batch, height, width, channels]");
    return input.mean([1, 2]);
  }
}
