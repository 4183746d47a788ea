/**
 * Nearest-neighbour upsampling layers (Swift for TensorFlow's `UpSampling1D` / `UpSampling2D`). Each is a
 * reshape that inserts a unit axis after every spatial axis, a broadcast along it, and a reshape that merges
 * the pairs: no primitive of their own, and the derivative (the broadcast's sum over each block) comes from
 * those operations. No parameters.
 */
import { Tensor } from "../tensor/tensor.js";
import { Layer, expectRank } from "./layer.js";
import { positiveInt } from "./dense.js";

/**
 * Options of {@link UpSampling1D}.
 * @category Layers
 */
export interface UpSampling1DOptions {
  /** How many times each step is repeated (a positive integer). */
  size: number;
}

/**
 * Nearest-neighbour upsampling of NWC sequences: every step is repeated `size` times,
 * `out[b, i, c] = in[b, ⌊i / size⌋, c]`.
 *
 * @example
 * ```ts
 * new UpSampling1D({ size: 2 }).callAsFunction(tensor([[[1], [2]]])).toArray(); // [[[1], [1], [2], [2]]]
 * ```
 * @category Layers
 */
export class UpSampling1D extends Layer<Tensor, Tensor> {
  /** The repetition factor (private, so the tangent vector stays empty). */
  private readonly size: number;

  /** @param options the factor. */
  constructor(options: UpSampling1DOptions) {
    super();
    positiveInt("UpSampling1D", "size", options.size);
    this.size = options.size;
  }

  /**
   * Applies the layer.
   * @param input `[batch, width, channels]`.
   * @returns `[batch, width · size, channels]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("UpSampling1D", input, 3, "[batch, width, channels]");
    const [n, w, c] = input.shape as [number, number, number];
    const s = this.size;
    return input.reshape([n, w, 1, c]).broadcastTo([n, w, s, c]).reshape([n, w * s, c]);
  }
}

/**
 * Options of {@link UpSampling2D}.
 * @category Layers
 */
export interface UpSampling2DOptions {
  /** The repetition factor: a positive integer, or `[height, width]`. */
  size: number | readonly [number, number];
}

/**
 * Nearest-neighbour upsampling of NHWC images: every pixel becomes a `sizeH × sizeW` block,
 * `out[b, i, j, c] = in[b, ⌊i / sizeH⌋, ⌊j / sizeW⌋, c]`. The fixed upsampling of fully convolutional
 * networks and U-Nets (Long, Shelhamer & Darrell, 2015, "Fully Convolutional Networks for Semantic
 * Segmentation"); followed by a convolution it avoids the checkerboard artefacts of transposed convolutions
 * (Odena, Dumoulin & Olah, 2016, "Deconvolution and Checkerboard Artifacts").
 *
 * @example
 * ```ts
 * const up = new UpSampling2D({ size: 2 });
 * up.callAsFunction(tensor([[[[1], [2]]]])).toArray(); // [[[[1], [1], [2], [2]], [[1], [1], [2], [2]]]]
 * up.callAsFunction(zeros([8, 7, 7, 16])).shape;        // [8, 14, 14, 16]
 * ```
 * @category Layers
 */
export class UpSampling2D extends Layer<Tensor, Tensor> {
  /** `[sizeH, sizeW]` (private, so the tangent vector stays empty). */
  private readonly size: readonly [number, number];

  /** @param options the factor. */
  constructor(options: UpSampling2DOptions) {
    super();
    const s = options.size;
    const pair = typeof s === "number" ? [s, s] : s;
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new RangeError(`UpSampling2D: size must be a positive integer or a [height, width] pair of them, got ${JSON.stringify(s)}`);
    }
    positiveInt("UpSampling2D", "size[0]", pair[0]);
    positiveInt("UpSampling2D", "size[1]", pair[1]);
    this.size = [pair[0] as number, pair[1] as number];
  }

  /**
   * Applies the layer.
   * @param input `[batch, height, width, channels]`.
   * @returns `[batch, height · sizeH, width · sizeW, channels]`.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("UpSampling2D", input, 4, "[batch, height, width, channels]");
    const [n, h, w, c] = input.shape as [number, number, number, number];
    const [sh, sw] = this.size;
    return input.reshape([n, h, 1, w, 1, c]).broadcastTo([n, h, sh, w, sw, c]).reshape([n, h * sh, w * sw, c]);
  }
}
