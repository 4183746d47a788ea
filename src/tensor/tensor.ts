import type { DType, TypedArray } from "./dtype.js";
import { sizeOf } from "./shape.js";
import { noteRead } from "../autodiff/trace.js";
import * as unary from "../ops/unary.js";
import * as binary from "../ops/binary.js";
import * as reduce from "../ops/reduce.js";
import * as linalg from "../ops/linalg.js";
import * as conv from "../ops/conv.js";
import * as movement from "../ops/movement.js";
import * as scan from "../ops/scan.js";
import * as sorting from "../ops/sort.js";
import * as indexing from "../ops/indexing.js";
import * as norms from "../ops/norms.js";
import * as matrix from "../ops/matrix.js";
import { formatTensor } from "./format.js";

/** Node's `util.inspect.custom`: a registered symbol, shared with every realm and runtime that honours it. */
const inspectCustom: unique symbol = Symbol.for("nodejs.util.inspect.custom");

/**
 * A tensor or a plain number, accepted by every binary op (a number takes the tensor's dtype).
 * @category Tensors
 */
export type TensorLike = Tensor | number;

/**
 * A nested array of numbers, as accepted by {@link tensor} and returned by {@link Tensor.toArray}.
 * @category Tensors
 */
export type NestedArray = number | NestedArray[];

/**
 * The private brand of {@link Tensor} (a type only: nothing exists at run time). Types that must tell a
 * tensor apart from other objects (a `@noDerivative` field's type) forbid this key.
 */
export declare const tensorBrand: unique symbol;

/**
 * An immutable n-dimensional array of numbers, and the value that automatic differentiation flows through.
 *
 * A tensor is either *concrete* (it holds its elements in a typed array) or *traced* (inside a
 * differential operator, it stands for a concrete value plus the derivative information of one
 * differentiation level). Both kinds have the same members, so user code never tells them apart.
 * Memory belongs to the garbage collector: there is no `dispose`.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]]);
 * // (1 + 1)·1 + (2 + 1)·2 + (3 + 1)·3 + (4 + 1)·4 = 2 + 6 + 12 + 20
 * x.add(1).mul(x).sum().item(); // 40
 * ```
 * @category Tensors
 */
export class Tensor {
  declare private readonly [tensorBrand]: true;
  /** The size of each dimension, outermost first. */
  readonly shape: readonly number[];
  /** The element type. */
  readonly dtype: DType;
  /** @internal The elements in row-major order; `undefined` for a tracer (`src/autodiff/tracer.ts`). */
  readonly _data: TypedArray | undefined;

  /**
   * Wraps `data` as a tensor, without copying or checking it. Prefer {@link tensor} and the other creation
   * functions, which validate their input; this is for code that already holds a typed array.
   * @param shape the dimensions; their product must equal `data.length`.
   * @param dtype the element type, matching the array (`Float32Array` for `'float32'`, and so on).
   * @param data the elements in row-major order; never write to them afterwards.
   * @example
   * ```ts
   * const t = new Tensor([2], "float32", Float32Array.of(1, 2));
   * t.sum().item(); // 3
   * ```
   */
  constructor(shape: readonly number[], dtype: DType, data: TypedArray);
  /** @internal Also for tracers (`src/autodiff/tracer.ts`), which have no data of their own. */
  constructor(shape: readonly number[], dtype: DType, data: TypedArray | undefined);
  constructor(shape: readonly number[], dtype: DType, data: TypedArray | undefined) {
    this.shape = shape;
    this.dtype = dtype;
    this._data = data;
  }

  /** The number of dimensions (0 for a scalar). */
  get rank(): number {
    return this.shape.length;
  }

  /** The number of elements (1 for a scalar). */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** @internal The concrete tensor this one stands for: itself (a tracer looks through its levels). */
  get _concrete(): Tensor {
    return this;
  }

  /** @internal The concrete elements (no copy: never write to them). */
  get _values(): TypedArray {
    return this._concrete._data!;
  }

  /**
   * The number held by a one-element tensor.
   * @returns the only element.
   * @example
   * ```ts
   * tensor([[7]]).item(); // 7
   * ```
   */
  item(): number {
    noteRead(this, "item()");
    if (this.size !== 1) {
      throw new RangeError(
        `item: the tensor has shape [${this.shape.join(",")}] (${this.size} elements); item() needs exactly one. ` +
          `Reduce it first (sum, mean) or use toArray()`,
      );
    }
    return this._values[0]!;
  }

  /**
   * A copy of the elements as nested arrays (a number for a scalar).
   * @returns nested arrays shaped like the tensor.
   * @example
   * ```ts
   * tensor([1, 2, 3, 4], { shape: [2, 2] }).toArray(); // [[1, 2], [3, 4]]
   * ```
   */
  toArray(): NestedArray {
    noteRead(this, "toArray()");
    const data = this._values;
    const shape = this.shape;
    if (shape.length === 0) return data[0]!;
    let pos = 0;
    const build = (d: number): NestedArray[] => {
      const n = shape[d]!;
      const out: NestedArray[] = new Array<NestedArray>(n);
      if (d === shape.length - 1) {
        for (let i = 0; i < n; i++) out[i] = data[pos++]!;
      } else {
        for (let i = 0; i < n; i++) out[i] = build(d + 1);
      }
      return out;
    };
    return build(0);
  }

  /**
   * A copy of the elements as a typed array of the tensor's dtype, in row-major order.
   * @returns a fresh `Float32Array`, `Float64Array` or `Int32Array`.
   * @example
   * ```ts
   * const data = ones([2]).dataSync(); // [1, 1]
   * data instanceof Float32Array; // true
   * ```
   */
  dataSync(): TypedArray {
    noteRead(this, "dataSync()");
    return this._values.slice();
  }

  /**
   * A readable rendering: shape, dtype and values (elided with `...` when large).
   * @example
   * ```ts
   * String(tensor([1, 2])); // "Tensor([2] float32) [1.0000, 2.0000]"
   * ```
   */
  toString(): string {
    noteRead(this, "toString()");
    return formatTensor(this);
  }

  /**
   * What `console.log(t)` and `util.inspect(t)` print in Node: the same rendering as
   * {@link Tensor.toString} (dtype, shape, abbreviated values), not the internal fields. Reached through the
   * registered symbol `Symbol.for("nodejs.util.inspect.custom")`, so nothing is imported from Node.
   * @returns the rendering.
   * @example
   * ```ts
   * console.log({ w: tensor([1, 2]) }); // { w: Tensor([2] float32) [1.0000, 2.0000] }
   * ```
   */
  [inspectCustom](): string {
    return formatTensor(this);
  }

  // ---- arithmetic (broadcasting) ----
  /**
   * Elementwise `this + other`, broadcasting.
   * @param other a tensor or number.
   * @returns the sum.
   * @example
   * ```ts
   * tensor([1, 2]).add(1); // [2, 3]
   * ```
   */
  add(other: TensorLike): Tensor { return binary.add(this, other); }
  /**
   * Elementwise `this - other`, broadcasting.
   * @param other a tensor or number.
   * @returns the difference.
   * @example
   * ```ts
   * tensor([1, 2]).sub(1); // [0, 1]
   * ```
   */
  sub(other: TensorLike): Tensor { return binary.sub(this, other); }
  /**
   * Elementwise `this * other`, broadcasting.
   * @param other a tensor or number.
   * @returns the product.
   * @example
   * ```ts
   * tensor([1, 2]).mul(3); // [3, 6]
   * ```
   */
  mul(other: TensorLike): Tensor { return binary.mul(this, other); }
  /**
   * Elementwise `this / other`, broadcasting (int32 operands give float32).
   * @param other a tensor or number.
   * @returns the quotient.
   * @example
   * ```ts
   * tensor([1, 2]).div(2); // [0.5, 1]
   * ```
   */
  div(other: TensorLike): Tensor { return binary.div(this, other); }
  /**
   * Elementwise `this ** other`, broadcasting.
   * @param other the exponent.
   * @returns the power.
   * @example
   * ```ts
   * tensor([2, 3]).pow(2); // [4, 9]
   * ```
   */
  pow(other: TensorLike): Tensor { return binary.pow(this, other); }
  /**
   * Elementwise maximum, broadcasting.
   * @param other a tensor or number.
   * @returns the larger of each pair.
   * @example
   * ```ts
   * tensor([1, 5]).maximum(3); // [3, 5]
   * ```
   */
  maximum(other: TensorLike): Tensor { return binary.maximum(this, other); }
  /**
   * Elementwise minimum, broadcasting.
   * @param other a tensor or number.
   * @returns the smaller of each pair.
   * @example
   * ```ts
   * tensor([1, 5]).minimum(3); // [1, 3]
   * ```
   */
  minimum(other: TensorLike): Tensor { return binary.minimum(this, other); }
  /**
   * `this * scalar` (the vector-space scaling of a tangent).
   * @param by the scalar.
   * @returns the scaled tensor.
   * @example
   * ```ts
   * tensor([1, 2]).scaled(3); // [3, 6]
   * ```
   */
  scaled(by: number): Tensor { return binary.mul(this, by); }
  /**
   * The inner product `sum(this * other)` as a number (the vector-space dot product of two tangents). It reads the
   * values, so no derivative flows through it; inside a differentiated function use `x.mul(y).sum()`.
   * @param other a tensor of the same shape.
   * @returns the dot product.
   * @example
   * ```ts
   * tensor([1, 2]).dot(tensor([3, 4])); // 11
   * ```
   */
  dot(other: Tensor): number {
    noteRead(this, "dot()");
    if (!(other instanceof Tensor) || other.shape.length !== this.shape.length || other.shape.some((d, i) => d !== this.shape[i])) {
      throw new RangeError(`dot: both tensors must have the same shape, got [${this.shape.join(",")}] and [${other instanceof Tensor ? other.shape.join(",") : typeof other}]`);
    }
    return reduce.sum(binary.mul(this._concrete, other._concrete).cast("float64")).item();
  }
  /**
   * Clamps every element into `[min, max]`.
   * @param min lower bound.
   * @param max upper bound.
   * @returns the clipped tensor.
   * @example
   * ```ts
   * tensor([-2, 0, 2]).clip(-1, 1); // [-1, 0, 1]
   * ```
   */
  clip(min: number, max: number): Tensor { return binary.clip(this, min, max); }

  // ---- comparisons (int32 results: 1 where true, 0 where false) ----
  /**
   * Elementwise `this == other` as int32 0/1.
   * @param other a tensor or number.
   * @returns an int32 mask.
   * @example
   * ```ts
   * tensor([1, 2]).equal(2); // [0, 1]
   * ```
   */
  equal(other: TensorLike): Tensor { return binary.equal(this, other); }
  /**
   * Elementwise `this != other` as int32 0/1.
   * @param other a tensor or number.
   * @returns an int32 mask.
   * @example
   * ```ts
   * tensor([1, 2]).notEqual(2); // [1, 0]
   * ```
   */
  notEqual(other: TensorLike): Tensor { return binary.notEqual(this, other); }
  /**
   * Elementwise `this < other` as int32 0/1.
   * @param other a tensor or number.
   * @returns an int32 mask.
   * @example
   * ```ts
   * tensor([1, 2]).less(2); // [1, 0]
   * ```
   */
  less(other: TensorLike): Tensor { return binary.less(this, other); }
  /**
   * Elementwise `this <= other` as int32 0/1.
   * @param other a tensor or number.
   * @returns an int32 mask.
   * @example
   * ```ts
   * tensor([1, 2]).lessEqual(2); // [1, 1]
   * ```
   */
  lessEqual(other: TensorLike): Tensor { return binary.lessEqual(this, other); }
  /**
   * Elementwise `this > other` as int32 0/1.
   * @param other a tensor or number.
   * @returns an int32 mask.
   * @example
   * ```ts
   * tensor([1, 2]).greater(1); // [0, 1]
   * ```
   */
  greater(other: TensorLike): Tensor { return binary.greater(this, other); }
  /**
   * Elementwise `this >= other` as int32 0/1.
   * @param other a tensor or number.
   * @returns an int32 mask.
   * @example
   * ```ts
   * tensor([1, 2]).greaterEqual(2); // [0, 1]
   * ```
   */
  greaterEqual(other: TensorLike): Tensor { return binary.greaterEqual(this, other); }

  // ---- unary ----
  /**
   * Elementwise `-this`.
   * @returns the negation.
   * @example
   * ```ts
   * tensor([1, -2]).neg(); // [-1, 2]
   * ```
   */
  neg(): Tensor { return unary.neg(this); }
  /**
   * Elementwise `e^x`.
   * @returns the exponential.
   * @example
   * ```ts
   * tensor([0, 1]).exp(); // [1, 2.7182817]
   * ```
   */
  exp(): Tensor { return unary.exp(this); }
  /**
   * Elementwise natural logarithm.
   * @returns `ln x`.
   * @example
   * ```ts
   * tensor([1, Math.E]).log(); // [0, 1]
   * ```
   */
  log(): Tensor { return unary.log(this); }
  /**
   * Elementwise `ln(1 + x)`, accurate near 0.
   * @returns `log1p x`.
   * @example
   * ```ts
   * tensor([0, Math.E - 1]).log1p(); // [0, 1]
   * ```
   */
  log1p(): Tensor { return unary.log1p(this); }
  /**
   * Elementwise `e^x - 1`, accurate near 0.
   * @returns `expm1 x`.
   * @example
   * ```ts
   * tensor([0, 1]).expm1(); // [0, 1.7182817]
   * ```
   */
  expm1(): Tensor { return unary.expm1(this); }
  /**
   * Elementwise square root.
   * @returns `√x`.
   * @example
   * ```ts
   * tensor([4, 9]).sqrt(); // [2, 3]
   * ```
   */
  sqrt(): Tensor { return unary.sqrt(this); }
  /**
   * Elementwise `1 / √x`.
   * @returns the reciprocal square root.
   * @example
   * ```ts
   * tensor([4, 16]).rsqrt(); // [0.5, 0.25]
   * ```
   */
  rsqrt(): Tensor { return unary.rsqrt(this); }
  /**
   * Elementwise `x²`.
   * @returns the square.
   * @example
   * ```ts
   * tensor([-3, 0.5]).square(); // [9, 0.25]
   * ```
   */
  square(): Tensor { return unary.square(this); }
  /**
   * Elementwise `1 / x`.
   * @returns the reciprocal.
   * @example
   * ```ts
   * tensor([4, -0.5]).reciprocal(); // [0.25, -2]
   * ```
   */
  reciprocal(): Tensor { return unary.reciprocal(this); }
  /**
   * Elementwise absolute value.
   * @returns `|x|`.
   * @example
   * ```ts
   * tensor([-2, 0, 3]).abs(); // [2, 0, 3]
   * ```
   */
  abs(): Tensor { return unary.abs(this); }
  /**
   * Elementwise sign (-1, 0 or 1).
   * @returns the sign.
   * @example
   * ```ts
   * tensor([-2, 0, 3]).sign(); // [-1, 0, 1]
   * ```
   */
  sign(): Tensor { return unary.sign(this); }
  /**
   * Elementwise sine.
   * @returns `sin x`.
   * @example
   * ```ts
   * tensor([0, Math.PI / 2]).sin(); // [0, 1]
   * ```
   */
  sin(): Tensor { return unary.sin(this); }
  /**
   * Elementwise cosine.
   * @returns `cos x`.
   * @example
   * ```ts
   * tensor([0, Math.PI]).cos(); // [1, -1]
   * ```
   */
  cos(): Tensor { return unary.cos(this); }
  /**
   * Elementwise tangent.
   * @returns `tan x`.
   * @example
   * ```ts
   * tensor([0, Math.PI / 4]).tan(); // [0, 1]
   * ```
   */
  tan(): Tensor { return unary.tan(this); }
  /**
   * Elementwise hyperbolic tangent.
   * @returns `tanh x`.
   * @example
   * ```ts
   * tensor([0, 1]).tanh(); // [0, 0.7615942]
   * ```
   */
  tanh(): Tensor { return unary.tanh(this); }
  /**
   * Elementwise logistic sigmoid `1 / (1 + e^-x)`.
   * @returns `σ(x)`.
   * @example
   * ```ts
   * tensor([0, 2]).sigmoid(); // [0.5, 0.8807971]
   * ```
   */
  sigmoid(): Tensor { return unary.sigmoid(this); }
  /**
   * Elementwise `max(x, 0)` (derivative 0 at 0).
   * @returns the rectified tensor.
   * @example
   * ```ts
   * tensor([-1, 2]).relu(); // [0, 2]
   * ```
   */
  relu(): Tensor { return unary.relu(this); }
  /**
   * Elementwise `ln(1 + e^x)`, computed stably.
   * @returns the softplus.
   * @example
   * ```ts
   * tensor([0, 2]).softplus(); // [0.6931472, 2.126928]
   * ```
   */
  softplus(): Tensor { return unary.softplus(this); }
  /**
   * Converts the elements to another dtype (float to int32 truncates toward zero).
   * @param dtype the target dtype.
   * @returns the converted tensor.
   * @example
   * ```ts
   * tensor([1.7, -1.7]).cast("int32"); // [1, -1]
   * ```
   */
  cast(dtype: DType): Tensor { return unary.cast(this, dtype); }

  // ---- reductions ----
  /**
   * Sum over `axes` (all by default).
   * @param axes axes to reduce (negative counts from the end).
   * @param keepDims keep reduced axes as size 1.
   * @returns the sum.
   * @example
   * ```ts
   * tensor([[1, 2], [3, 4]]).sum(0); // [4, 6]
   * // With x = [[1, 2, 3], [4, 5, 6]] (the reference's examples' fixture):
   * x.sum(); // 21
   * x.sum(1); // [6, 15]
   * x.sum(-1, true).shape; // [2, 1]
   * ```
   */
  sum(axes?: number | readonly number[], keepDims = false): Tensor { return reduce.sum(this, axes, keepDims); }
  /**
   * Mean over `axes` (all by default).
   * @param axes axes to reduce.
   * @param keepDims keep reduced axes as size 1.
   * @returns the mean.
   * @example
   * ```ts
   * tensor([1, 2, 3]).mean(); // 2
   * tensor([[1, 2], [3, 4]]).mean(1); // [1.5, 3.5]
   * ```
   */
  mean(axes?: number | readonly number[], keepDims = false): Tensor { return reduce.mean(this, axes, keepDims); }
  /**
   * Maximum over `axes` (all by default); the gradient is shared equally among ties.
   * @param axes axes to reduce.
   * @param keepDims keep reduced axes.
   * @returns the maximum.
   * @example
   * ```ts
   * tensor([1, 3, 2]).max(); // 3
   * // With x = [[1, 2, 3], [4, 5, 6]]:
   * x.max(0); // [4, 5, 6]
   * ```
   */
  max(axes?: number | readonly number[], keepDims = false): Tensor { return reduce.max(this, axes, keepDims); }
  /**
   * Minimum over `axes` (all by default).
   * @param axes axes to reduce.
   * @param keepDims keep reduced axes.
   * @returns the minimum.
   * @example
   * ```ts
   * tensor([1, 3, 2]).min(); // 1
   * ```
   */
  min(axes?: number | readonly number[], keepDims = false): Tensor { return reduce.min(this, axes, keepDims); }
  /**
   * Product over `axes` (all by default).
   * @param axes axes to reduce.
   * @param keepDims keep reduced axes.
   * @returns the product.
   * @example
   * ```ts
   * tensor([2, 3]).prod(); // 6
   * ```
   */
  prod(axes?: number | readonly number[], keepDims = false): Tensor { return reduce.prod(this, axes, keepDims); }
  /**
   * `log(sum(exp(x)))` over `axes`, computed stably.
   * @param axes axes to reduce.
   * @param keepDims keep reduced axes.
   * @returns the log-sum-exp.
   * @example
   * ```ts
   * tensor([0, 0]).logSumExp(); // 0.6931472
   * ```
   */
  logSumExp(axes?: number | readonly number[], keepDims = false): Tensor { return reduce.logSumExp(this, axes, keepDims); }
  /**
   * Index of the maximum along `axis` (first on ties), as int32.
   * @param axis the axis (default: last).
   * @returns int32 indices.
   * @example
   * ```ts
   * tensor([1, 3, 2]).argmax(); // 1
   * ```
   */
  argmax(axis = -1): Tensor { return reduce.argmax(this, axis); }
  /**
   * Index of the minimum along `axis` (first on ties), as int32.
   * @param axis the axis (default: last).
   * @returns int32 indices.
   * @example
   * ```ts
   * tensor([1, 3, 2]).argmin(); // 0
   * ```
   */
  argmin(axis = -1): Tensor { return reduce.argmin(this, axis); }
  /**
   * Softmax along `axis`, computed stably.
   * @param axis the axis (default: last).
   * @returns probabilities summing to 1 along `axis`.
   * @example
   * ```ts
   * tensor([[0, 0], [0, Math.log(3)]]).softmax(); // [[0.5, 0.5], [0.25, 0.75]]
   * ```
   */
  softmax(axis = -1): Tensor { return reduce.softmax(this, axis); }
  /**
   * Log-softmax along `axis`, computed stably.
   * @param axis the axis (default: last).
   * @returns `x - logSumExp(x)`.
   * @example
   * ```ts
   * tensor([0, 0]).logSoftmax(); // [-0.6931472, -0.6931472]
   * ```
   */
  logSoftmax(axis = -1): Tensor { return reduce.logSoftmax(this, axis); }

  // ---- linear algebra and convolution ----
  /**
   * Matrix product over the last two axes, broadcasting batch axes; a rank-1 operand is a vector.
   * @param other `[..., k, n]` (or `[k]`).
   * @returns `[..., m, n]`.
   * @example
   * ```ts
   * ones([2, 3]).matmul(ones([3, 4])).shape; // [2, 4]
   * ```
   */
  matmul(other: Tensor): Tensor { return linalg.matmul(this, other); }
  /**
   * 2-D convolution of an NHWC input with an `[fh, fw, cin, cout]` filter.
   * @param filter the filter.
   * @param options strides, padding (`'same'`/`'valid'`), dilations.
   * @returns `[n, oh, ow, cout]`.
   * @example
   * ```ts
   * zeros([1, 5, 5, 1]).conv2d(ones([3, 3, 1, 2])).shape; // [1, 3, 3, 2]
   * ```
   */
  conv2d(filter: Tensor, options?: conv.Conv2DOptions): Tensor { return conv.conv2d(this, filter, options); }
  /**
   * 1-D convolution of an NWC input with a `[fw, cin, cout]` filter.
   * @param filter the filter.
   * @param options stride, padding, dilation.
   * @returns `[n, ow, cout]`.
   * @example
   * ```ts
   * zeros([1, 5, 1]).conv1d(ones([3, 1, 2])).shape; // [1, 3, 2]
   * ```
   */
  conv1d(filter: Tensor, options?: conv.Conv1DOptions): Tensor { return conv.conv1d(this, filter, options); }
  /**
   * 2-D max pooling of an NHWC input.
   * @param options window size, strides, padding.
   * @returns the pooled tensor.
   * @example
   * ```ts
   * zeros([1, 4, 4, 1]).maxPool2d({ size: 2 }).shape; // [1, 2, 2, 1]
   * ```
   */
  maxPool2d(options: conv.Pool2DOptions): Tensor { return conv.maxPool2d(this, options); }
  /**
   * 2-D average pooling of an NHWC input (padding cells are not counted).
   * @param options window size, strides, padding.
   * @returns the pooled tensor.
   * @example
   * ```ts
   * zeros([1, 4, 4, 1]).avgPool2d({ size: 2 }).shape; // [1, 2, 2, 1]
   * ```
   */
  avgPool2d(options: conv.Pool2DOptions): Tensor { return conv.avgPool2d(this, options); }
  /**
   * 3-D convolution of an NDHWC input with a `[fd, fh, fw, cin, cout]` filter.
   * @param filter the filter.
   * @param options strides, padding, dilations.
   * @returns `[n, od, oh, ow, cout]`.
   * @example
   * ```ts
   * zeros([1, 4, 5, 5, 1]).conv3d(ones([3, 3, 3, 1, 2])).shape; // [1, 2, 3, 3, 2]
   * ```
   */
  conv3d(filter: Tensor, options?: conv.Conv3DOptions): Tensor { return conv.conv3d(this, filter, options); }
  /**
   * 1-D max pooling of an NWC input.
   * @param options window size, stride, padding, dilation.
   * @returns the pooled tensor.
   * @example
   * ```ts
   * zeros([1, 8, 3]).maxPool1d({ size: 2 }).shape; // [1, 4, 3]
   * ```
   */
  maxPool1d(options: conv.Pool1DOptions): Tensor { return conv.maxPool1d(this, options); }
  /**
   * 1-D average pooling of an NWC input (padding cells are not counted).
   * @param options window size, stride, padding, dilation.
   * @returns the pooled tensor.
   * @example
   * ```ts
   * zeros([1, 8, 3]).avgPool1d({ size: 2 }).shape; // [1, 4, 3]
   * ```
   */
  avgPool1d(options: conv.Pool1DOptions): Tensor { return conv.avgPool1d(this, options); }
  /**
   * 3-D max pooling of an NDHWC input.
   * @param options window size, strides, padding, dilations.
   * @returns the pooled tensor.
   * @example
   * ```ts
   * zeros([1, 4, 4, 4, 1]).maxPool3d({ size: 2 }).shape; // [1, 2, 2, 2, 1]
   * ```
   */
  maxPool3d(options: conv.Pool3DOptions): Tensor { return conv.maxPool3d(this, options); }
  /**
   * 3-D average pooling of an NDHWC input (padding cells are not counted).
   * @param options window size, strides, padding, dilations.
   * @returns the pooled tensor.
   * @example
   * ```ts
   * zeros([1, 4, 4, 4, 1]).avgPool3d({ size: 2 }).shape; // [1, 2, 2, 2, 1]
   * ```
   */
  avgPool3d(options: conv.Pool3DOptions): Tensor { return conv.avgPool3d(this, options); }
  /**
   * The lower Cholesky factor of (a stack of) symmetric positive-definite matrices.
   * @returns `L` with `L·Lᵀ = this`.
   * @example
   * ```ts
   * tensor([[4, 2], [2, 3]]).cholesky(); // [[2, 0], [1, 1.4142135]]
   * ```
   */
  cholesky(): Tensor { return linalg.cholesky(this); }
  /**
   * Solves `this · x = b` for square (stacks of) matrices.
   * @param b `[..., n, k]` or a vector `[n]`.
   * @returns `x`.
   * @example
   * ```ts
   * tensor([[2, 0], [0, 4]]).solve(tensor([2, 4])); // [1, 1]
   * ```
   */
  solve(b: Tensor): Tensor { return linalg.solve(this, b); }
  /**
   * The inverse of (a stack of) square matrices.
   * @returns `[..., n, n]`.
   * @example
   * ```ts
   * tensor([[2, 0], [0, 4]]).inverse(); // [[0.5, 0], [0, 0.25]]
   * ```
   */
  inverse(): Tensor { return linalg.inverse(this); }
  /**
   * The determinant of (a stack of) square matrices.
   * @returns one value per matrix.
   * @example
   * ```ts
   * tensor([[1, 2], [3, 4]]).det(); // -2
   * ```
   */
  det(): Tensor { return linalg.det(this); }
  /**
   * `log|det|` of (a stack of) square matrices, without overflow.
   * @returns one value per matrix.
   * @example
   * ```ts
   * tensor([[2, 0], [0, 3]]).logDet(); // 1.7917595
   * ```
   */
  logDet(): Tensor { return linalg.logDet(this); }

  // ---- rounding, predicates, logic, modulo ----
  /**
   * Elementwise floor (derivative 0).
   * @returns `⌊x⌋`.
   * @example
   * ```ts
   * tensor([1.5, -1.5]).floor(); // [1, -2]
   * ```
   */
  floor(): Tensor { return unary.floor(this); }
  /**
   * Elementwise ceiling (derivative 0).
   * @returns `⌈x⌉`.
   * @example
   * ```ts
   * tensor([1.5, -1.5]).ceil(); // [2, -1]
   * ```
   */
  ceil(): Tensor { return unary.ceil(this); }
  /**
   * Elementwise rounding, halves to even (derivative 0).
   * @returns the rounded values.
   * @example
   * ```ts
   * tensor([0.5, 1.5]).round(); // [0, 2]
   * ```
   */
  round(): Tensor { return unary.round(this); }
  /**
   * Elementwise error function.
   * @returns `erf(x)`.
   * @example
   * ```ts
   * tensor([0, 0.5]).erf(); // [0, 0.5205]
   * ```
   */
  erf(): Tensor { return unary.erf(this); }
  /**
   * Elementwise finiteness test as an int32 mask.
   * @returns 1 where finite.
   * @example
   * ```ts
   * tensor([1, NaN]).isFinite(); // [1, 0]
   * ```
   */
  isFinite(): Tensor { return unary.isFinite(this); }
  /**
   * Elementwise NaN test as an int32 mask.
   * @returns 1 where NaN.
   * @example
   * ```ts
   * tensor([1, NaN]).isNaN(); // [0, 1]
   * ```
   */
  isNaN(): Tensor { return unary.isNaN(this); }
  /**
   * Elementwise logical NOT as an int32 mask.
   * @returns 1 where zero.
   * @example
   * ```ts
   * tensor([0, 2]).logicalNot(); // [1, 0]
   * ```
   */
  logicalNot(): Tensor { return unary.logicalNot(this); }
  /**
   * Elementwise logical AND, broadcasting.
   * @param other a tensor or number.
   * @returns an int32 mask.
   * @example
   * ```ts
   * tensor([1, 0]).logicalAnd(1); // [1, 0]
   * ```
   */
  logicalAnd(other: TensorLike): Tensor { return binary.logicalAnd(this, other); }
  /**
   * Elementwise logical OR, broadcasting.
   * @param other a tensor or number.
   * @returns an int32 mask.
   * @example
   * ```ts
   * tensor([1, 0]).logicalOr(0); // [1, 0]
   * ```
   */
  logicalOr(other: TensorLike): Tensor { return binary.logicalOr(this, other); }
  /**
   * Floored modulo (the sign of the divisor), broadcasting.
   * @param other the divisor.
   * @returns the remainder.
   * @example
   * ```ts
   * tensor([5, -5]).mod(3); // [2, 1]
   * ```
   */
  mod(other: TensorLike): Tensor { return binary.mod(this, other); }
  /**
   * Elementwise `atan2(this, other)`: the angle of the point `(other, this)`.
   * @param other the abscissa.
   * @returns radians in `(-π, π]`.
   * @example
   * ```ts
   * tensor([1]).atan2(1); // [0.7853982]
   * ```
   */
  atan2(other: TensorLike): Tensor { return binary.atan2(this, other); }

  // ---- scans, sorting, norms ----
  /**
   * Cumulative sum along `axis`.
   * @param axis the axis (default -1).
   * @param options `exclusive`, `reverse`.
   * @returns the running sums.
   * @example
   * ```ts
   * tensor([1, 2, 3]).cumsum(); // [1, 3, 6]
   * ```
   */
  cumsum(axis = -1, options?: scan.ScanOptions): Tensor { return scan.cumsum(this, axis, options); }
  /**
   * Cumulative product along `axis`.
   * @param axis the axis (default -1).
   * @param options `exclusive`, `reverse`.
   * @returns the running products.
   * @example
   * ```ts
   * tensor([1, 2, 3]).cumprod(); // [1, 2, 6]
   * ```
   */
  cumprod(axis = -1, options?: scan.ScanOptions): Tensor { return scan.cumprod(this, axis, options); }
  /**
   * Reverses the order along `axes` (all by default).
   * @param axes the axes.
   * @returns the reversed tensor.
   * @example
   * ```ts
   * tensor([1, 2, 3]).reverse(); // [3, 2, 1]
   * ```
   */
  reverse(axes?: number | readonly number[]): Tensor { return scan.reverse(this, axes); }
  /**
   * Sorts along `axis` (stable).
   * @param axis the axis (default -1).
   * @param options `descending`.
   * @returns the sorted tensor.
   * @example
   * ```ts
   * tensor([3, 1, 2]).sort(); // [1, 2, 3]
   * ```
   */
  sort(axis = -1, options?: sorting.SortOptions): Tensor { return sorting.sort(this, axis, options); }
  /**
   * The positions that sort along `axis` (stable), int32.
   * @param axis the axis (default -1).
   * @param options `descending`.
   * @returns int32 positions.
   * @example
   * ```ts
   * tensor([3, 1, 2]).argsort(); // [1, 2, 0]
   * ```
   */
  argsort(axis = -1, options?: sorting.SortOptions): Tensor { return sorting.argsort(this, axis, options); }
  /**
   * The `k` largest along the last axis, with their positions.
   * @param k how many.
   * @returns `{ values, indices }`.
   * @example
   * ```ts
   * tensor([1, 5, 3]).topk(2).values; // [5, 3]
   * ```
   */
  topk(k: number): sorting.TopK { return sorting.topk(this, k); }
  /**
   * A vector or matrix norm.
   * @param ord the order (default 2).
   * @param axes none, one axis or a pair.
   * @param keepDims keep reduced axes.
   * @returns the norm.
   * @example
   * ```ts
   * tensor([3, 4]).norm(); // 5
   * ```
   */
  norm(ord: norms.NormOrder = 2, axes?: number | readonly number[], keepDims = false): Tensor { return norms.norm(this, ord, axes, keepDims); }
  /**
   * Scales to unit Euclidean norm along `axis`.
   * @param axis the axis (default -1).
   * @param epsilon floor on the squared norm.
   * @returns the normalized tensor.
   * @example
   * ```ts
   * tensor([3, 4]).l2Normalize(); // [0.6, 0.8]
   * ```
   */
  l2Normalize(axis: number | readonly number[] = -1, epsilon = 1e-12): Tensor { return norms.l2Normalize(this, axis, epsilon); }
  /**
   * Slices addressed by index tuples in the last axis of `indices`.
   * @param indices int32 `[..., m]`.
   * @returns `[...indices.shape[:-1], ...shape[m:]]`.
   * @example
   * ```ts
   * tensor([[1, 2], [3, 4]]).gatherNd([[1, 0]]); // [3]
   * ```
   */
  gatherNd(indices: Tensor | readonly unknown[]): Tensor { return indexing.gatherNd(this, indices); }
  /**
   * Keeps a band of diagonals of each matrix in the last two axes.
   * @param numLower diagonals below (negative: all).
   * @param numUpper diagonals above (negative: all).
   * @returns the banded tensor.
   * @example
   * ```ts
   * ones([2, 2]).bandPart(0, -1); // [[1, 1], [0, 1]]
   * ```
   */
  bandPart(numLower: number, numUpper: number): Tensor { return matrix.bandPart(this, numLower, numUpper); }

  // ---- shape and movement ----
  /**
   * The same elements in a new shape; one dimension may be -1 (inferred).
   * @param shape the new shape.
   * @returns the reshaped tensor.
   * @example
   * ```ts
   * tensor([1, 2, 3, 4]).reshape([2, -1]).shape; // [2, 2]
   * // With x = [[1, 2, 3], [4, 5, 6]]:
   * x.reshape([3, 2]); // [[1, 2], [3, 4], [5, 6]]
   * ```
   */
  reshape(shape: readonly number[]): Tensor { return movement.reshape(this, shape); }
  /**
   * Permutes the axes (reverses them by default).
   * @param perm the new order of axes.
   * @returns the transposed tensor.
   * @example
   * ```ts
   * ones([2, 3]).transpose().shape; // [3, 2]
   * // With x = [[1, 2, 3], [4, 5, 6]]:
   * x.transpose(); // [[1, 4], [2, 5], [3, 6]]
   * ```
   */
  transpose(perm?: readonly number[]): Tensor { return movement.transpose(this, perm); }
  /**
   * Inserts a size-1 axis at `axis`.
   * @param axis where to insert (negative counts from the end).
   * @returns the expanded tensor.
   * @example
   * ```ts
   * ones([3]).expandDims(0).shape; // [1, 3]
   * ```
   */
  expandDims(axis = 0): Tensor { return movement.expandDims(this, axis); }
  /**
   * Removes size-1 axes (all of them, or those listed).
   * @param axes axes to remove.
   * @returns the squeezed tensor.
   * @example
   * ```ts
   * ones([1, 3, 1]).squeeze().shape; // [3]
   * ```
   */
  squeeze(axes?: number | readonly number[]): Tensor { return movement.squeeze(this, axes); }
  /**
   * Broadcasts to `shape` by NumPy rules.
   * @param shape the target shape.
   * @returns the broadcast tensor.
   * @example
   * ```ts
   * tensor([1, 2]).broadcastTo([3, 2]).shape; // [3, 2]
   * ```
   */
  broadcastTo(shape: readonly number[]): Tensor { return movement.broadcastTo(this, shape); }
  /**
   * A contiguous block: `begin` per axis and `size` per axis (-1 means to the end).
   * @param begin start indices.
   * @param size extents.
   * @returns the slice.
   * @example
   * ```ts
   * tensor([1, 2, 3]).slice([1], [2]); // [2, 3]
   * ```
   */
  slice(begin: readonly number[], size?: readonly number[]): Tensor { return movement.slice(this, begin, size); }
  /**
   * Splits along `axis` into equal parts (a number) or parts of the given sizes.
   * @param sizes count or sizes.
   * @param axis the axis.
   * @returns the parts.
   * @example
   * ```ts
   * tensor([1, 2, 3, 4]).split(2); // [[1, 2], [3, 4]]
   * tensor([1, 2, 3, 4]).split([1, 3]); // [[1], [2, 3, 4]]
   * ```
   */
  split(sizes: number | readonly number[], axis = 0): Tensor[] { return movement.split(this, sizes, axis); }
  /**
   * Takes the slices at `indices` along `axis`.
   * @param indices int32 tensor or array of indices.
   * @param axis the axis.
   * @returns shape `x.shape[:axis] + indices.shape + x.shape[axis+1:]`.
   * @example
   * ```ts
   * tensor([5, 6, 7]).gather([2, 0]); // [7, 5]
   * ```
   */
  gather(indices: Tensor | readonly number[], axis = 0): Tensor { return movement.gather(this, indices, axis); }
  /**
   * Pads with a constant or a mirror image: `paddings[i] = [before, after]` for axis i.
   * @param paddings per-axis padding.
   * @param value the fill (default 0), or `{ mode: 'reflect' | 'symmetric' }`.
   * @returns the padded tensor.
   * @example
   * ```ts
   * tensor([1]).pad([[1, 1]]); // [0, 1, 0]
   * ```
   */
  pad(paddings: readonly (readonly [number, number])[], value: number | movement.PadOptions = 0): Tensor { return movement.pad(this, paddings, value); }
  /**
   * Repeats the tensor `reps[i]` times along axis i (NumPy rules: a longer `reps` adds leading axes).
   * @param reps repetitions per axis.
   * @returns the tiled tensor.
   * @example
   * ```ts
   * tensor([1, 2]).tile([2]); // [1, 2, 1, 2]
   * ```
   */
  tile(reps: readonly number[]): Tensor { return movement.tile(this, reps); }
}
