/**
 * Pooling layers over NWC, NHWC and NDHWC tensors, windowed (with strides, padding and dilations) and
 * global. They have no parameters: their tangent vector is empty.
 */
import { Tensor } from "../tensor/tensor.js";
import type { Padding2D, Padding3D, Pool1DOptions, Pool2DOptions, Pool3DOptions } from "../ops/conv.js";
import { Layer, expectRank } from "./layer.js";

/**
 * Options of {@link MaxPool2D} and {@link AvgPool2D}.
 * @category Layers
 */
export interface Pool2DLayerOptions {
  /** Window size: a number or `[height, width]`. */
  poolSize: number | readonly [number, number];
  /** Step between windows (default: the window size). */
  strides?: number | readonly [number, number];
  /** `'valid'` (default), `'same'`, or explicit padding; padded cells never enter a window. */
  padding?: Padding2D;
  /** Spacing between the cells of a window (dilated pooling): a number or `[height, width]` (default 1). */
  dilations?: number | readonly [number, number];
}

/**
 * What the 2-D window poolings share (not exported from the package root): their options, resolved once. Subclasses pick the
 * reduction in `callAsFunction`.
 */
export abstract class Pool2DLayer extends Layer<Tensor, Tensor> {
  /** @internal Window, strides and padding (not public, so the layer's tangent vector stays empty). */
  protected readonly pool: Pool2DOptions;

  /** @param options window size, strides, padding and dilations. */
  constructor(options: Pool2DLayerOptions) {
    super();
    this.pool = {
      size: options.poolSize,
      strides: options.strides ?? options.poolSize,
      padding: options.padding ?? "valid",
      dilations: options.dilations ?? 1,
    };
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
 * // One 2×4 image with one channel: two 2×2 windows.
 * const image = tensor([[[[1], [2], [5], [6]], [[3], [4], [7], [8]]]]);
 * new MaxPool2D({ poolSize: 2 }).callAsFunction(image); // [[[[4], [8]]]]
 * new MaxPool2D({ poolSize: 2 }).callAsFunction(zeros([1, 28, 28, 8])).shape; // [1, 14, 14, 8]
 * ```
 * @category Layers
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
 * const image = tensor([[[[1], [2], [5], [6]], [[3], [4], [7], [8]]]]);
 * new AvgPool2D({ poolSize: 2 }).callAsFunction(image); // [[[[2.5], [6.5]]]]
 * new AvgPool2D({ poolSize: 2 }).callAsFunction(zeros([1, 28, 28, 8])).shape; // [1, 14, 14, 8]
 * ```
 * @category Layers
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
 * @category Layers
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

/**
 * Global max pooling: the maximum over height and width of each channel.
 *
 * @example
 * ```ts
 * new GlobalMaxPool2D().callAsFunction(zeros([2, 7, 7, 16])).shape; // [2, 16]
 * ```
 * @category Layers
 */
export class GlobalMaxPool2D extends Layer<Tensor, Tensor> {
  /**
   * Applies the layer.
   * @param input `[batch, height, width, channels]`.
   * @returns `[batch, channels]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("GlobalMaxPool2D", input, 4, "[batch, height, width, channels]");
    return input.max([1, 2]);
  }
}

// ---- 1-D

/**
 * Options of {@link MaxPool1D} and {@link AvgPool1D}.
 * @category Layers
 */
export interface Pool1DLayerOptions {
  /** Window size. */
  poolSize: number;
  /** Step between windows (default: the window size). */
  stride?: number;
  /** `'valid'` (default), `'same'`, a number of cells on both ends, or `[left, right]`; padded cells never enter a window. */
  padding?: "same" | "valid" | number | readonly [number, number];
  /** Spacing between the cells of a window (dilated pooling, default 1). */
  dilation?: number;
}

/** What the 1-D window poolings share (not exported from the package root): their options, resolved once. */
export abstract class Pool1DLayer extends Layer<Tensor, Tensor> {
  /** @internal Window, stride, padding and dilation (not public, so the layer's tangent vector stays empty). */
  protected readonly pool: Pool1DOptions;

  /** @param options window size, stride, padding and dilation. */
  constructor(options: Pool1DLayerOptions) {
    super();
    this.pool = {
      size: options.poolSize,
      stride: options.stride ?? options.poolSize,
      padding: options.padding ?? "valid",
      dilation: options.dilation ?? 1,
    };
  }

  /**
   * Applies the layer.
   * @param input `[batch, width, channels]`.
   * @returns `[batch, outWidth, channels]`.
   */
  abstract override callAsFunction(input: Tensor): Tensor;
}

/**
 * Max pooling over 1-D windows of NWC sequences (as in Collobert et al., 2011, "Natural Language
 * Processing (Almost) from Scratch", over time). The gradient flows to each window's maximum.
 *
 * @example
 * ```ts
 * new MaxPool1D({ poolSize: 2 }).callAsFunction(zeros([4, 100, 8])).shape; // [4, 50, 8]
 * ```
 * @category Layers
 */
export class MaxPool1D extends Pool1DLayer {
  override callAsFunction(input: Tensor): Tensor {
    expectRank("MaxPool1D", input, 3, "[batch, width, channels]");
    return input.maxPool1d(this.pool);
  }
}

/**
 * Average pooling over 1-D windows of NWC sequences. Padded cells are not counted in the average.
 *
 * @example
 * ```ts
 * new AvgPool1D({ poolSize: 4, stride: 2, padding: "same" }).callAsFunction(zeros([4, 100, 8])).shape; // [4, 50, 8]
 * // The last window reaches into the padding, which is not counted in its average:
 * new AvgPool1D({ poolSize: 2, stride: 1, padding: "same" }).callAsFunction(tensor([[[1], [2], [3]]])); // [[[1.5], [2.5], [3]]]
 * ```
 * @category Layers
 */
export class AvgPool1D extends Pool1DLayer {
  override callAsFunction(input: Tensor): Tensor {
    expectRank("AvgPool1D", input, 3, "[batch, width, channels]");
    return input.avgPool1d(this.pool);
  }
}

/**
 * Global average pooling over the width of NWC sequences.
 *
 * @example
 * ```ts
 * new GlobalAvgPool1D().callAsFunction(tensor([[[1, -1], [3, -2]]])); // [[2, -1.5]]
 * new GlobalAvgPool1D().callAsFunction(zeros([4, 100, 8])).shape; // [4, 8]
 * ```
 * @category Layers
 */
export class GlobalAvgPool1D extends Layer<Tensor, Tensor> {
  /**
   * Applies the layer.
   * @param input `[batch, width, channels]`.
   * @returns `[batch, channels]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("GlobalAvgPool1D", input, 3, "[batch, width, channels]");
    return input.mean(1);
  }
}

/**
 * Global max pooling over the width of NWC sequences.
 *
 * @example
 * ```ts
 * new GlobalMaxPool1D().callAsFunction(tensor([[[1, -1], [3, -2]]])); // [[3, -1]]
 * new GlobalMaxPool1D().callAsFunction(zeros([4, 100, 8])).shape; // [4, 8]
 * ```
 * @category Layers
 */
export class GlobalMaxPool1D extends Layer<Tensor, Tensor> {
  /**
   * Applies the layer.
   * @param input `[batch, width, channels]`.
   * @returns `[batch, channels]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("GlobalMaxPool1D", input, 3, "[batch, width, channels]");
    return input.max(1);
  }
}

// ---- 3-D

/**
 * Options of {@link MaxPool3D} and {@link AvgPool3D}.
 * @category Layers
 */
export interface Pool3DLayerOptions {
  /** Window size: a number or `[depth, height, width]`. */
  poolSize: number | readonly [number, number, number];
  /** Step between windows (default: the window size). */
  strides?: number | readonly [number, number, number];
  /** `'valid'` (default), `'same'`, or explicit padding; padded cells never enter a window. */
  padding?: Padding3D;
  /** Spacing between the cells of a window (dilated pooling): a number or `[depth, height, width]` (default 1). */
  dilations?: number | readonly [number, number, number];
}

/** What the 3-D window poolings share (not exported from the package root): their options, resolved once. */
export abstract class Pool3DLayer extends Layer<Tensor, Tensor> {
  /** @internal Window, strides, padding and dilations (not public, so the layer's tangent vector stays empty). */
  protected readonly pool: Pool3DOptions;

  /** @param options window size, strides, padding and dilations. */
  constructor(options: Pool3DLayerOptions) {
    super();
    this.pool = {
      size: options.poolSize,
      strides: options.strides ?? options.poolSize,
      padding: options.padding ?? "valid",
      dilations: options.dilations ?? 1,
    };
  }

  /**
   * Applies the layer.
   * @param input `[batch, depth, height, width, channels]`.
   * @returns `[batch, outDepth, outHeight, outWidth, channels]`.
   */
  abstract override callAsFunction(input: Tensor): Tensor;
}

/**
 * Max pooling over 3-D windows of NDHWC volumes (as in C3D, Tran et al., 2015). The gradient flows to
 * each window's maximum.
 *
 * @example
 * ```ts
 * new MaxPool3D({ poolSize: 2 }).callAsFunction(zeros([2, 8, 16, 16, 4])).shape; // [2, 4, 8, 8, 4]
 * ```
 * @category Layers
 */
export class MaxPool3D extends Pool3DLayer {
  override callAsFunction(input: Tensor): Tensor {
    expectRank("MaxPool3D", input, 5, "[batch, depth, height, width, channels]");
    return input.maxPool3d(this.pool);
  }
}

/**
 * Average pooling over 3-D windows of NDHWC volumes. Padded cells are not counted in the average.
 *
 * @example
 * ```ts
 * new AvgPool3D({ poolSize: [1, 2, 2] }).callAsFunction(zeros([2, 8, 16, 16, 4])).shape; // [2, 8, 8, 8, 4]
 * ```
 * @category Layers
 */
export class AvgPool3D extends Pool3DLayer {
  override callAsFunction(input: Tensor): Tensor {
    expectRank("AvgPool3D", input, 5, "[batch, depth, height, width, channels]");
    return input.avgPool3d(this.pool);
  }
}

/**
 * Global average pooling over depth, height and width of NDHWC volumes.
 *
 * @example
 * ```ts
 * new GlobalAvgPool3D().callAsFunction(zeros([2, 4, 7, 7, 16])).shape; // [2, 16]
 * ```
 * @category Layers
 */
export class GlobalAvgPool3D extends Layer<Tensor, Tensor> {
  /**
   * Applies the layer.
   * @param input `[batch, depth, height, width, channels]`.
   * @returns `[batch, channels]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("GlobalAvgPool3D", input, 5, "[batch, depth, height, width, channels]");
    return input.mean([1, 2, 3]);
  }
}

/**
 * Global max pooling over depth, height and width of NDHWC volumes.
 *
 * @example
 * ```ts
 * new GlobalMaxPool3D().callAsFunction(zeros([2, 4, 7, 7, 16])).shape; // [2, 16]
 * ```
 * @category Layers
 */
export class GlobalMaxPool3D extends Layer<Tensor, Tensor> {
  /**
   * Applies the layer.
   * @param input `[batch, depth, height, width, channels]`.
   * @returns `[batch, channels]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("GlobalMaxPool3D", input, 5, "[batch, depth, height, width, channels]");
    return input.max([1, 2, 3]);
  }
}
