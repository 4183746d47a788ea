/**
 * Convolution and pooling over NHWC tensors, with their derivative rules.
 *
 * A convolution family is three primitives that are each other's derivatives: the forward convolution
 * `y = conv(x, w)`, its input gradient `dx = backpropInput(dy, w)` and its filter gradient
 * `dw = backpropFilter(x, dy)`. All three are bilinear, and each one's adjoint in one argument is another
 * member of the family:
 * - `⟨conv(x, w), dy⟩ = ⟨x, backpropInput(dy, w)⟩ = ⟨w, backpropFilter(x, dy)⟩`,
 * so every VJP and JVP rule below is written with the family's own public functions, and derivatives of
 * any order stay within three fast kernels. Regular and depthwise convolutions are built by one
 * {@link convFamily} helper from their kernels.
 *
 * Max pooling is a nondifferentiable argmax followed by a {@link gather}: its derivative is the gather's
 * (a scatter-add of the cotangent onto the winning cells), and the gather's own derivative gives the
 * second order. Average pooling is a linear primitive paired with its transpose.
 *
 * Volumes follow the same patterns: the 3-D convolution is a family of three primitives that are each
 * other's adjoints, and one general pooling over `[batch, depth, height, width, channels]` windows with
 * strides and dilations serves 3-D pooling, 1-D pooling (a volume of depth and height 1) and dilated 2-D
 * pooling (depth 1); undilated 2-D pooling keeps its own faster kernels.
 */
import { Tensor } from "../tensor/tensor.js";
import { allocate, isFloat, promote, type DType } from "../tensor/dtype.js";
import { fmt, sizeOf } from "../tensor/shape.js";
import { fromTyped } from "../tensor/creation.js";
import { backend, type Backend } from "../tensor/backend.js";
import type { ConvGeometry, PoolGeometry } from "../tensor/cpu/conv.js";
import type { Conv3DGeometry } from "../tensor/cpu/conv3d.js";
import type { Pool3DGeometry } from "../tensor/cpu/pool.js";
import { defineNondifferentiable, definePrimitive, type Primitive } from "../autodiff/primitive.js";
import { bind } from "../autodiff/trace.js";

// ---------------------------------------------------------------------------------------------------
// Options

/**
 * Padding of a 2-D window op: `'valid'` (none; the window stays inside the input), `'same'` (enough zeros
 * that the output has `ceil(size / stride)` rows and columns, split evenly with the extra one after, as
 * TensorFlow does), a number of zero rows/columns on every side, or `[[top, bottom], [left, right]]`.
 * @category Convolution and pooling
 */
export type Padding2D = "same" | "valid" | number | readonly [readonly [number, number], readonly [number, number]];

/**
 * Options of {@link conv2d} and its relatives.
 * @category Convolution and pooling
 */
export interface Conv2DOptions {
  /** Step between windows: one number for both axes or `[strideHeight, strideWidth]`. Default 1. */
  strides?: number | readonly [number, number];
  /** Zero padding; `'valid'` by default. */
  padding?: Padding2D;
  /** Spacing between filter taps (atrous convolution): a number or `[dilationHeight, dilationWidth]`. Default 1. */
  dilations?: number | readonly [number, number];
}

/**
 * Options of {@link conv1d}.
 * @category Convolution and pooling
 */
export interface Conv1DOptions {
  /** Step between windows. Default 1. */
  stride?: number;
  /** `'valid'` (default), `'same'`, a number of zeros on both ends, or `[left, right]`. */
  padding?: "same" | "valid" | number | readonly [number, number];
  /** Spacing between filter taps. Default 1. */
  dilation?: number;
}

/**
 * Options of {@link maxPool2d} and {@link avgPool2d}.
 * @category Convolution and pooling
 */
export interface Pool2DOptions {
  /** Window size: one number for both axes or `[height, width]`. */
  size: number | readonly [number, number];
  /** Step between windows; defaults to the window size (non-overlapping windows). */
  strides?: number | readonly [number, number];
  /** `'valid'` (default), `'same'`, or explicit padding; padded cells never take part in a window. */
  padding?: Padding2D;
  /**
   * Spacing between the cells of a window (dilated pooling, as in `tf.nn.pool`'s `dilation_rate`): a
   * number or `[height, width]`. Default 1.
   */
  dilations?: number | readonly [number, number];
}

// ---------------------------------------------------------------------------------------------------
// Geometry

/** @internal Resolved strides, dilations and padding of a convolution (what the primitives carry). */
export interface ConvParams {
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly padTop: number;
  readonly padBottom: number;
  readonly padLeft: number;
  readonly padRight: number;
}

/** @internal Resolved window, strides and padding of a pooling op. */
export interface PoolParams {
  readonly fh: number;
  readonly fw: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padBottom: number;
  readonly padLeft: number;
  readonly padRight: number;
}

function positivePair(op: string, name: string, v: unknown, def: number): [number, number] {
  const p = v === undefined ? [def, def] : typeof v === "number" ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => typeof d === "number" && Number.isInteger(d) && d > 0)) {
    throw new RangeError(
      `${op}: ${name} must be a positive integer or a pair [height, width] of them, got ${JSON.stringify(v)}`,
    );
  }
  return [p[0] as number, p[1] as number];
}

function explicitPads(op: string, padding: unknown): [number, number, number, number] | undefined {
  const ok = (d: unknown): d is number => typeof d === "number" && Number.isInteger(d) && d >= 0;
  if (typeof padding === "number") {
    if (!ok(padding)) throw new RangeError(`${op}: padding must be a non-negative integer, got ${String(padding)}`);
    return [padding, padding, padding, padding];
  }
  if (Array.isArray(padding)) {
    const [hp, wp] = padding as unknown[];
    if (
      padding.length === 2 && Array.isArray(hp) && Array.isArray(wp) && hp.length === 2 && wp.length === 2 &&
      hp.every(ok) && wp.every(ok)
    ) {
      return [hp[0] as number, hp[1] as number, wp[0] as number, wp[1] as number];
    }
    throw new RangeError(
      `${op}: explicit padding must be [[top, bottom], [left, right]] of non-negative integers, got ${JSON.stringify(padding)}`,
    );
  }
  return undefined;
}

/** Resolves padding to `[top, bottom, left, right]` for input `h × w` and an effective window `eh × ew`. */
function resolvePads(
  op: string,
  padding: unknown,
  h: number,
  w: number,
  eh: number,
  ew: number,
  sh: number,
  sw: number,
): [number, number, number, number] {
  if (padding === undefined || padding === "valid") return [0, 0, 0, 0];
  if (padding === "same") {
    const oh = Math.ceil(h / sh);
    const ow = Math.ceil(w / sw);
    const th = Math.max((oh - 1) * sh + eh - h, 0);
    const tw = Math.max((ow - 1) * sw + ew - w, 0);
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  const e = explicitPads(op, padding);
  if (e === undefined) {
    throw new RangeError(
      `${op}: padding must be 'same', 'valid', a non-negative integer or [[top, bottom], [left, right]], got ${JSON.stringify(padding)}`,
    );
  }
  return e;
}

/** One output extent: windows of effective size `e` and stride `s` over `len + before + after` cells. */
function outExtent(len: number, e: number, s: number, before: number, after: number): number {
  const span = len + before + after - e;
  return span < 0 ? 0 : Math.floor(span / s) + 1;
}

function checkTensor(op: string, name: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    throw new TypeError(`${op}: ${name} must be a Tensor, got ${Array.isArray(x) ? "an array" : typeof x}; wrap arrays with tensor(...)`);
  }
}

function checkRank(op: string, name: string, shape: readonly number[], rank: number, layout: string): void {
  if (shape.length !== rank) {
    throw new RangeError(`${op}: ${name} must have rank ${rank} ${layout}, got shape ${fmt(shape)}`);
  }
}

function checkShapeArg(op: string, name: string, shape: unknown, rank: number, layout: string): readonly number[] {
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`${op}: ${name} must be an array of non-negative integers ${layout}, got ${JSON.stringify(shape)}`);
  }
  checkRank(op, name, shape as number[], rank, layout);
  return Object.freeze((shape as number[]).slice());
}

const NHWC = "[batch, height, width, channels]";

/**
 * Validates a convolution's options against the input `[n, h, w, cin]` and filter `[fh, fw, ...]` shapes
 * and returns the resolved params. Rejects non-positive strides/dilations and an empty output.
 */
function resolveConv(op: string, xShape: readonly number[], fShape: readonly number[], options: Conv2DOptions | undefined): ConvParams {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError(`${op}: options must be an object such as { strides: 1, padding: 'same' }, got ${JSON.stringify(options)}`);
  }
  const o = options ?? {};
  const [sh, sw] = positivePair(op, "strides", o.strides, 1);
  const [dh, dw] = positivePair(op, "dilations", o.dilations, 1);
  const h = xShape[1]!;
  const w = xShape[2]!;
  const eh = (fShape[0]! - 1) * dh + 1;
  const ew = (fShape[1]! - 1) * dw + 1;
  const [pt, pb, pl, pr] = resolvePads(op, o.padding, h, w, eh, ew, sh, sw);
  const p: ConvParams = { strideH: sh, strideW: sw, dilationH: dh, dilationW: dw, padTop: pt, padBottom: pb, padLeft: pl, padRight: pr };
  if (fShape[0] === 0 || fShape[1] === 0) {
    throw new RangeError(`${op}: the filter window must be at least 1x1, got ${fmt(fShape)}`);
  }
  if (h > 0 && w > 0) {
    const oh = outExtent(h, eh, sh, pt, pb);
    const ow = outExtent(w, ew, sw, pl, pr);
    if (oh <= 0 || ow <= 0) {
      throw new RangeError(
        `${op}: the output would be empty: a ${fShape[0]}x${fShape[1]} filter ` +
          `(${eh}x${ew} with dilations [${dh},${dw}]) does not fit in the ${h}x${w} input ${fmt(xShape)} ` +
          `with padding ${JSON.stringify(o.padding ?? "valid")}; use padding 'same' or a smaller filter`,
      );
    }
  }
  return p;
}

/** @internal The geometry a kernel needs, from an input shape, a window and resolved params. */
function convGeometry(xShape: readonly number[], fh: number, fw: number, cout: number, p: ConvParams): ConvGeometry {
  const h = xShape[1]!;
  const w = xShape[2]!;
  return {
    n: xShape[0]!,
    h,
    w,
    cin: xShape[3]!,
    oh: outExtent(h, (fh - 1) * p.dilationH + 1, p.strideH, p.padTop, p.padBottom),
    ow: outExtent(w, (fw - 1) * p.dilationW + 1, p.strideW, p.padLeft, p.padRight),
    cout,
    fh,
    fw,
    strideH: p.strideH,
    strideW: p.strideW,
    dilationH: p.dilationH,
    dilationW: p.dilationW,
    padTop: p.padTop,
    padLeft: p.padLeft,
  };
}

/** Brings two operands to one dtype (int32 < float32 < float64). */
function unify(a: Tensor, b: Tensor): [Tensor, Tensor] {
  if (a.dtype === b.dtype) return [a, b];
  const dt = promote(a.dtype, b.dtype);
  return [a.dtype === dt ? a : a.cast(dt), b.dtype === dt ? b : b.cast(dt)];
}

function output(dtype: DType, shape: readonly number[]): { data: ReturnType<typeof allocate>; shape: readonly number[] } {
  return { data: allocate(dtype, sizeOf(shape)), shape: Object.freeze(shape.slice()) };
}

// ---------------------------------------------------------------------------------------------------
// Convolution families

/** @internal Params of a backprop-input primitive: the conv params plus the input shape to produce. */
export interface BackpropInputParams extends ConvParams {
  readonly inputShape: readonly number[];
}

/** @internal Params of a backprop-filter primitive: the conv params plus the filter shape to produce. */
export interface BackpropFilterParams extends ConvParams {
  readonly filterShape: readonly number[];
}

/** @internal The three primitives of a convolution family, and how to bind them without validation. */
interface ConvFamily {
  readonly forward: Primitive<ConvParams>;
  readonly backpropInput: Primitive<BackpropInputParams>;
  readonly backpropFilter: Primitive<BackpropFilterParams>;
  conv(x: Tensor, f: Tensor, p: ConvParams): Tensor;
  input(dy: Tensor, f: Tensor, inputShape: readonly number[], p: ConvParams): Tensor;
  filter(x: Tensor, dy: Tensor, filterShape: readonly number[], p: ConvParams): Tensor;
}

function pick(p: ConvParams): ConvParams {
  return {
    strideH: p.strideH,
    strideW: p.strideW,
    dilationH: p.dilationH,
    dilationW: p.dilationW,
    padTop: p.padTop,
    padBottom: p.padBottom,
    padLeft: p.padLeft,
    padRight: p.padRight,
  };
}

/** Adds two tangents that may be symbolic zeros. */
function addOpt(a: Tensor | null, b: Tensor | null): Tensor | null {
  return a && b ? a.add(b) : (a ?? b);
}

/**
 * @internal Builds a convolution family from three kernels and a rule for the output channel count.
 * The rules follow from bilinearity and the adjoint identities in this module's header.
 */
function convFamily(
  name: string,
  kernels: {
    forward: keyof Backend & ("conv2d" | "depthwiseConv2d");
    input: keyof Backend & ("conv2dBackpropInput" | "depthwiseConv2dBackpropInput");
    filter: keyof Backend & ("conv2dBackpropFilter" | "depthwiseConv2dBackpropFilter");
  },
  outChannels: (filterShape: readonly number[]) => number,
): ConvFamily {
  const fam: ConvFamily = {
    forward: definePrimitive<ConvParams>({
      name,
      impl([x, f], p) {
        const fs = f!.shape;
        const g = convGeometry(x!.shape, fs[0]!, fs[1]!, outChannels(fs), p);
        const o = output(x!.dtype, [g.n, g.oh, g.ow, g.cout]);
        backend()[kernels.forward](x!._data!, f!._data!, o.data, g);
        return fromTyped(o.data, o.shape, x!.dtype);
      },
      jvp([x, f], [tx, tf], _out, p) {
        return addOpt(tx ? fam.conv(tx, f!, p) : null, tf ? fam.conv(x!, tf, p) : null);
      },
      vjp(ct, [x, f], _out, p, [nx, nf]) {
        return [nx ? fam.input(ct, f!, x!.shape, p) : null, nf ? fam.filter(x!, ct, f!.shape, p) : null];
      },
    }),
    backpropInput: definePrimitive<BackpropInputParams>({
      name: `${name}BackpropInput`,
      impl([dy, f], p) {
        const fs = f!.shape;
        const g = convGeometry(p.inputShape, fs[0]!, fs[1]!, outChannels(fs), p);
        const o = output(dy!.dtype, p.inputShape);
        backend()[kernels.input](dy!._data!, f!._data!, o.data, g);
        return fromTyped(o.data, o.shape, dy!.dtype);
      },
      jvp([dy, f], [tdy, tf], _out, p) {
        return addOpt(tdy ? fam.input(tdy, f!, p.inputShape, p) : null, tf ? fam.input(dy!, tf, p.inputShape, p) : null);
      },
      vjp(ct, [dy, f], _out, p, [ndy, nf]) {
        // ⟨input(dy, f), c⟩ = ⟨dy, conv(c, f)⟩ = ⟨f, filter(c, dy)⟩
        return [ndy ? fam.conv(ct, f!, p) : null, nf ? fam.filter(ct, dy!, f!.shape, p) : null];
      },
    }),
    backpropFilter: definePrimitive<BackpropFilterParams>({
      name: `${name}BackpropFilter`,
      impl([x, dy], p) {
        const fs = p.filterShape;
        const g = convGeometry(x!.shape, fs[0]!, fs[1]!, outChannels(fs), p);
        const o = output(x!.dtype, fs);
        backend()[kernels.filter](x!._data!, dy!._data!, o.data, g);
        return fromTyped(o.data, o.shape, x!.dtype);
      },
      jvp([x, dy], [tx, tdy], _out, p) {
        return addOpt(tx ? fam.filter(tx, dy!, p.filterShape, p) : null, tdy ? fam.filter(x!, tdy, p.filterShape, p) : null);
      },
      vjp(ct, [x, dy], _out, p, [nx, ndy]) {
        // ⟨filter(x, dy), c⟩ = ⟨dy, conv(x, c)⟩ = ⟨x, input(dy, c)⟩
        return [nx ? fam.input(dy!, ct, x!.shape, p) : null, ndy ? fam.conv(x!, ct, p) : null];
      },
    }),
    conv: (x, f, p) => bind(fam.forward, [x, f], pick(p)),
    input: (dy, f, inputShape, p) => bind(fam.backpropInput, [dy, f], { ...pick(p), inputShape }),
    filter: (x, dy, filterShape, p) => bind(fam.backpropFilter, [x, dy], { ...pick(p), filterShape }),
  };
  return fam;
}

/** @internal The regular 2-D convolution family. */
export const conv2dFamily = convFamily(
  "conv2d",
  { forward: "conv2d", input: "conv2dBackpropInput", filter: "conv2dBackpropFilter" },
  (fs) => fs[3]!,
);

/** @internal The depthwise 2-D convolution family (output channels = input channels × multiplier). */
export const depthwiseFamily = convFamily(
  "depthwiseConv2d",
  { forward: "depthwiseConv2d", input: "depthwiseConv2dBackpropInput", filter: "depthwiseConv2dBackpropFilter" },
  (fs) => fs[2]! * fs[3]!,
);

/** Validates a forward convolution's operands; returns them in one dtype and the resolved params. */
function prepareForward(
  op: string,
  x: unknown,
  filter: unknown,
  options: Conv2DOptions | undefined,
  filterLayout: string,
): [Tensor, Tensor, ConvParams] {
  checkTensor(op, "input", x);
  checkTensor(op, "filter", filter);
  checkRank(op, "input", x.shape, 4, NHWC);
  checkRank(op, "filter", filter.shape, 4, filterLayout);
  if (x.shape[3] !== filter.shape[2]) {
    throw new RangeError(
      `${op}: input has ${x.shape[3]} channels but filter expects ${filter.shape[2]} (${fmt(filter.shape)}); ` +
        `the filter's third axis must equal the input's channel count`,
    );
  }
  const p = resolveConv(op, x.shape, filter.shape, options);
  const [a, b] = unify(x, filter);
  return [a, b, p];
}

/**
 * 2-D convolution (cross-correlation, as in every deep-learning framework) of an NHWC batch.
 *
 * `y[b, i, j, o] = Σ_{ky, kx, c} x[b, i·sh + ky·dh − top, j·sw + kx·dw − left, c] · filter[ky, kx, c, o]`,
 * zero outside the input. Differentiable in both operands to any order: the input gradient is
 * {@link conv2dBackpropInput}, the filter gradient {@link conv2dBackpropFilter}, and those are
 * differentiable in turn. Computed as im2col + matrix multiply.
 *
 * @param x the input, `[batch, height, width, inChannels]`.
 * @param filter `[filterHeight, filterWidth, inChannels, outChannels]`.
 * @param options `strides` (default 1), `padding` (`'valid'` default, `'same'`, a number or
 *   `[[top, bottom], [left, right]]`), `dilations` (default 1).
 * @returns `[batch, outHeight, outWidth, outChannels]`; with `'same'`, `outHeight = ceil(height / strideH)`.
 * @example
 * ```ts
 * const x = randomNormal([8, 28, 28, 1], { seed: 1 });
 * const w = randomNormal([3, 3, 1, 16], { seed: 2 });
 * conv2d(x, w, { padding: "same" }).shape;             // [8, 28, 28, 16]
 * conv2d(x, w, { strides: 2 }).shape;                  // [8, 13, 13, 16]
 * ```
 * @category Convolution and pooling
 */
export function conv2d(x: Tensor, filter: Tensor, options?: Conv2DOptions): Tensor {
  const [a, f, p] = prepareForward("conv2d", x, filter, options, "[filterHeight, filterWidth, inChannels, outChannels]");
  return conv2dFamily.conv(a, f, p);
}

/**
 * 1-D convolution of an NWC batch, computed as a {@link conv2d} over a height of 1.
 *
 * @param x the input, `[batch, width, inChannels]`.
 * @param filter `[filterWidth, inChannels, outChannels]`.
 * @param options `stride` (default 1), `padding` (`'valid'` default, `'same'`, a number or
 *   `[left, right]`), `dilation` (default 1).
 * @returns `[batch, outWidth, outChannels]`.
 * @example
 * ```ts
 * conv1d(ones([2, 10, 3]), ones([3, 3, 4]), { padding: "same" }).shape; // [2, 10, 4]
 * ```
 * @category Convolution and pooling
 */
export function conv1d(x: Tensor, filter: Tensor, options?: Conv1DOptions): Tensor {
  const op = "conv1d";
  checkTensor(op, "input", x);
  checkTensor(op, "filter", filter);
  checkRank(op, "input", x.shape, 3, "[batch, width, channels]");
  checkRank(op, "filter", filter.shape, 3, "[filterWidth, inChannels, outChannels]");
  const o = options ?? {};
  const scalarOpt = (name: string, v: unknown): number => {
    if (v === undefined) return 1;
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      throw new RangeError(`${op}: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const stride = scalarOpt("stride", o.stride);
  const dilation = scalarOpt("dilation", o.dilation);
  let padding: Padding2D;
  const pd = o.padding;
  if (pd === undefined || pd === "same" || pd === "valid") padding = pd ?? "valid";
  else if (typeof pd === "number") padding = [[0, 0], [pd, pd]];
  else if (Array.isArray(pd) && pd.length === 2) padding = [[0, 0], [pd[0], pd[1]]];
  else {
    throw new RangeError(`${op}: padding must be 'same', 'valid', a non-negative integer or [left, right], got ${JSON.stringify(pd)}`);
  }
  const [n, w, cin] = x.shape as [number, number, number];
  const [fw, fcin, cout] = filter.shape as [number, number, number];
  if (cin !== fcin) {
    throw new RangeError(
      `${op}: input has ${cin} channels but filter expects ${fcin} (${fmt(filter.shape)}); ` +
        `the filter's second axis must equal the input's channel count`,
    );
  }
  const y = conv2d(x.reshape([n, 1, w, cin]), filter.reshape([1, fw, cin, cout]), {
    strides: [1, stride],
    dilations: [1, dilation],
    padding,
  });
  return y.reshape([n, y.shape[2]!, cout]);
}

/**
 * The gradient of {@link conv2d} with respect to its input: given `dy` (shaped like a conv2d output) and
 * the filter, the `dx` of shape `inputShape`. It is the adjoint of `x ↦ conv2d(x, filter)`, and itself
 * differentiable (its derivatives are conv2d and {@link conv2dBackpropFilter}).
 *
 * @param dy `[batch, outHeight, outWidth, outChannels]`, the output shape of the forward convolution.
 * @param filter `[filterHeight, filterWidth, inChannels, outChannels]`.
 * @param inputShape the forward input's shape `[batch, height, width, inChannels]`.
 * @param options the forward convolution's options.
 * @returns `[batch, height, width, inChannels]`.
 * @example
 * ```ts
 * const dx = conv2dBackpropInput(ones([1, 3, 3, 2]), ones([3, 3, 1, 2]), [1, 5, 5, 1]);
 * dx.shape; // [1, 5, 5, 1]
 * ```
 * @category Convolution and pooling
 */
export function conv2dBackpropInput(dy: Tensor, filter: Tensor, inputShape: readonly number[], options?: Conv2DOptions): Tensor {
  return backpropInputOf("conv2dBackpropInput", "dy", conv2dFamily, dy, filter, inputShape, options, (fs) => fs[3]!);
}

/**
 * Transposed 2-D convolution ("deconvolution"), as used by `Conv2DTranspose` layers: it maps a
 * `[batch, h, w, inChannels]` tensor to the larger `outputShape`, spreading each input pixel over a
 * filter-sized window. It is {@link conv2dBackpropInput} under the name layers use; the filter is laid
 * out `[filterHeight, filterWidth, outChannels, inChannels]` (TensorFlow's convention), and `options`
 * describe the forward convolution it transposes (`strides` here upsample).
 *
 * @param x `[batch, height, width, inChannels]`.
 * @param filter `[filterHeight, filterWidth, outChannels, inChannels]`.
 * @param outputShape `[batch, outHeight, outWidth, outChannels]`.
 * @param options strides, padding and dilations of the convolution being transposed.
 * @returns a tensor of shape `outputShape`.
 * @example
 * ```ts
 * conv2dTranspose(ones([1, 4, 4, 8]), ones([3, 3, 2, 8]), [1, 8, 8, 2], { strides: 2, padding: "same" }).shape;
 * // [1, 8, 8, 2]
 * ```
 * @category Convolution and pooling
 */
export function conv2dTranspose(x: Tensor, filter: Tensor, outputShape: readonly number[], options?: Conv2DOptions): Tensor {
  return backpropInputOf("conv2dTranspose", "input", conv2dFamily, x, filter, outputShape, options, (fs) => fs[3]!);
}

function backpropInputOf(
  op: string,
  dyName: string,
  fam: ConvFamily,
  dy: Tensor,
  filter: Tensor,
  inputShape: readonly number[],
  options: Conv2DOptions | undefined,
  outChannels: (fs: readonly number[]) => number,
): Tensor {
  checkTensor(op, dyName, dy);
  checkTensor(op, "filter", filter);
  const xs = checkShapeArg(op, op === "conv2dTranspose" ? "outputShape" : "inputShape", inputShape, 4, NHWC);
  checkRank(op, dyName, dy.shape, 4, NHWC);
  checkRank(op, "filter", filter.shape, 4, "[filterHeight, filterWidth, inChannels, channelsOrMultiplier]");
  const fs = filter.shape;
  if (xs[3] !== fs[2]) {
    throw new RangeError(
      `${op}: the ${op === "conv2dTranspose" ? "output" : "input"} shape ${fmt(xs)} has ${xs[3]} channels but the filter ${fmt(fs)} has ${fs[2]} on its third axis; they must agree`,
    );
  }
  const p = resolveConv(op, xs, fs, options);
  const g = convGeometry(xs, fs[0]!, fs[1]!, outChannels(fs), p);
  const expect = [g.n, g.oh, g.ow, g.cout];
  if (dy.shape.some((d, i) => d !== expect[i])) {
    throw new RangeError(
      `${op}: ${dyName} has shape ${fmt(dy.shape)} but a convolution of ${fmt(xs)} with filter ${fmt(fs)} and these options gives ${fmt(expect)}`,
    );
  }
  const [a, f] = unify(dy, filter);
  return fam.input(a, f, xs, p);
}

/**
 * The gradient of {@link conv2d} with respect to its filter: given the input `x` and `dy` (shaped like
 * the conv2d output), the `dw` of shape `filterShape`. Computed as one `colsᵀ · dy` product, at about the
 * cost of the forward pass. Differentiable (its derivatives are conv2d and {@link conv2dBackpropInput}).
 *
 * @param x the forward input `[batch, height, width, inChannels]`.
 * @param dy `[batch, outHeight, outWidth, outChannels]`.
 * @param filterShape `[filterHeight, filterWidth, inChannels, outChannels]`.
 * @param options the forward convolution's options.
 * @returns a tensor of shape `filterShape`.
 * @example
 * ```ts
 * const dw = conv2dBackpropFilter(ones([1, 5, 5, 1]), ones([1, 3, 3, 2]), [3, 3, 1, 2]);
 * dw.shape; // [3, 3, 1, 2]
 * // Each filter tap meets the input once per output position: 3 × 3 = 9 everywhere.
 * dw.min().item(); // 9
 * dw.max().item(); // 9
 * ```
 * @category Convolution and pooling
 */
export function conv2dBackpropFilter(x: Tensor, dy: Tensor, filterShape: readonly number[], options?: Conv2DOptions): Tensor {
  return backpropFilterOf("conv2dBackpropFilter", conv2dFamily, x, dy, filterShape, options, (fs) => fs[3]!);
}

function backpropFilterOf(
  op: string,
  fam: ConvFamily,
  x: Tensor,
  dy: Tensor,
  filterShape: readonly number[],
  options: Conv2DOptions | undefined,
  outChannels: (fs: readonly number[]) => number,
): Tensor {
  checkTensor(op, "input", x);
  checkTensor(op, "dy", dy);
  checkRank(op, "input", x.shape, 4, NHWC);
  checkRank(op, "dy", dy.shape, 4, NHWC);
  const fs = checkShapeArg(op, "filterShape", filterShape, 4, "[filterHeight, filterWidth, inChannels, channelsOrMultiplier]");
  if (x.shape[3] !== fs[2]) {
    throw new RangeError(
      `${op}: input has ${x.shape[3]} channels but filter expects ${fs[2]} (${fmt(fs)}); ` +
        `the filter's third axis must equal the input's channel count`,
    );
  }
  const p = resolveConv(op, x.shape, fs, options);
  const g = convGeometry(x.shape, fs[0]!, fs[1]!, outChannels(fs), p);
  const expect = [g.n, g.oh, g.ow, g.cout];
  if (dy.shape.some((d, i) => d !== expect[i])) {
    throw new RangeError(
      `${op}: dy has shape ${fmt(dy.shape)} but a convolution of ${fmt(x.shape)} with filter ${fmt(fs)} and these options gives ${fmt(expect)}`,
    );
  }
  const [a, d] = unify(x, dy);
  return fam.filter(a, d, fs, p);
}

/**
 * Depthwise 2-D convolution: each input channel is convolved with its own `channelMultiplier` filters,
 * and nothing mixes channels. Output channel `c·multiplier + q` is input channel `c` convolved with
 * `filter[:, :, c, q]` (TensorFlow's layout). Differentiable in both operands to any order.
 *
 * @param x `[batch, height, width, channels]`.
 * @param filter `[filterHeight, filterWidth, channels, channelMultiplier]`.
 * @param options strides, padding and dilations, as for {@link conv2d}.
 * @returns `[batch, outHeight, outWidth, channels · channelMultiplier]`.
 * @example
 * ```ts
 * depthwiseConv2d(ones([1, 5, 5, 3]), ones([3, 3, 3, 2]), { padding: "same" }).shape; // [1, 5, 5, 6]
 * ```
 * @category Convolution and pooling
 */
export function depthwiseConv2d(x: Tensor, filter: Tensor, options?: Conv2DOptions): Tensor {
  const [a, f, p] = prepareForward("depthwiseConv2d", x, filter, options, "[filterHeight, filterWidth, channels, channelMultiplier]");
  return depthwiseFamily.conv(a, f, p);
}

/**
 * The gradient of {@link depthwiseConv2d} with respect to its input (its adjoint in `x`); differentiable.
 *
 * @param dy `[batch, outHeight, outWidth, channels · multiplier]`.
 * @param filter `[filterHeight, filterWidth, channels, multiplier]`.
 * @param inputShape `[batch, height, width, channels]`.
 * @param options the forward convolution's options.
 * @returns a tensor of shape `inputShape`.
 * @example
 * ```ts
 * depthwiseConv2dBackpropInput(ones([1, 3, 3, 4]), ones([3, 3, 2, 2]), [1, 5, 5, 2]).shape; // [1, 5, 5, 2]
 * ```
 * @category Convolution and pooling
 */
export function depthwiseConv2dBackpropInput(
  dy: Tensor,
  filter: Tensor,
  inputShape: readonly number[],
  options?: Conv2DOptions,
): Tensor {
  return backpropInputOf("depthwiseConv2dBackpropInput", "dy", depthwiseFamily, dy, filter, inputShape, options, (fs) => fs[2]! * fs[3]!);
}

/**
 * The gradient of {@link depthwiseConv2d} with respect to its filter; differentiable.
 *
 * @param x `[batch, height, width, channels]`.
 * @param dy `[batch, outHeight, outWidth, channels · multiplier]`.
 * @param filterShape `[filterHeight, filterWidth, channels, multiplier]`.
 * @param options the forward convolution's options.
 * @returns a tensor of shape `filterShape`.
 * @example
 * ```ts
 * depthwiseConv2dBackpropFilter(ones([1, 5, 5, 2]), ones([1, 3, 3, 4]), [3, 3, 2, 2]).shape; // [3, 3, 2, 2]
 * ```
 * @category Convolution and pooling
 */
export function depthwiseConv2dBackpropFilter(
  x: Tensor,
  dy: Tensor,
  filterShape: readonly number[],
  options?: Conv2DOptions,
): Tensor {
  return backpropFilterOf("depthwiseConv2dBackpropFilter", depthwiseFamily, x, dy, filterShape, options, (fs) => fs[2]! * fs[3]!);
}

// ---------------------------------------------------------------------------------------------------
// Pooling

function resolvePool(op: string, x: unknown, options: Pool2DOptions | undefined): [Tensor, PoolParams] {
  checkTensor(op, "input", x);
  checkRank(op, "input", x.shape, 4, NHWC);
  if (options === undefined || options === null || typeof options !== "object") {
    throw new TypeError(`${op}: options with a window size are required, e.g. { size: 2 }`);
  }
  const [fh, fw] = positivePair(op, "size", options.size, 0);
  const [sh, sw] = options.strides === undefined ? [fh, fw] : positivePair(op, "strides", options.strides, 1);
  const h = x.shape[1]!;
  const w = x.shape[2]!;
  const [pt, pb, pl, pr] = resolvePads(op, options.padding, h, w, fh, fw, sh, sw);
  if (pt >= fh || pb >= fh || pl >= fw || pr >= fw) {
    throw new RangeError(
      `${op}: padding [[${pt},${pb}],[${pl},${pr}]] must be smaller than the ${fh}x${fw} window on every side, ` +
        `or some windows would hold only padding`,
    );
  }
  if (h > 0 && w > 0) {
    const oh = outExtent(h, fh, sh, pt, pb);
    const ow = outExtent(w, fw, sw, pl, pr);
    if (oh <= 0 || ow <= 0) {
      throw new RangeError(
        `${op}: the output would be empty: a ${fh}x${fw} window does not fit in the ${h}x${w} input ${fmt(x.shape)} ` +
          `with padding ${JSON.stringify(options.padding ?? "valid")}; use padding 'same' or a smaller window`,
      );
    }
  }
  return [x, { fh, fw, strideH: sh, strideW: sw, padTop: pt, padBottom: pb, padLeft: pl, padRight: pr }];
}

function poolGeometry(xShape: readonly number[], p: PoolParams): PoolGeometry {
  const h = xShape[1]!;
  const w = xShape[2]!;
  return {
    n: xShape[0]!,
    h,
    w,
    c: xShape[3]!,
    oh: outExtent(h, p.fh, p.strideH, p.padTop, p.padBottom),
    ow: outExtent(w, p.fw, p.strideW, p.padLeft, p.padRight),
    fh: p.fh,
    fw: p.fw,
    strideH: p.strideH,
    strideW: p.strideW,
    padTop: p.padTop,
    padLeft: p.padLeft,
  };
}

/** @internal Flat indices (into the flattened input) of each pooling window's maximum, as int32. */
export const maxPool2dArgmaxP = defineNondifferentiable<PoolParams>("maxPool2dArgmax", ([x], p) => {
  const g = poolGeometry(x!.shape, p);
  const shape = Object.freeze([g.n, g.oh, g.ow, g.c]);
  const idx = new Int32Array(sizeOf(shape));
  backend().maxPool2dArgmax(x!._data!, idx, g);
  return fromTyped(idx, shape, "int32");
});

/**
 * 2-D max pooling of an NHWC batch: the largest element of each window, per channel. Padded cells never
 * win; `dilations` spaces the window's cells (dilated pooling). The derivative routes each output's cotangent to the cell that won (the first one on ties), to any
 * order (it is a gather of the winners).
 *
 * @param x `[batch, height, width, channels]`.
 * @param options `size` (required), `strides` (default: the size), `padding` (`'valid'` default),
 *   `dilations` (default 1).
 * @returns `[batch, outHeight, outWidth, channels]`.
 * @example
 * ```ts
 * maxPool2d(tensor([1, 5, 3, 2, 0, 7, 4, 6, 8], { shape: [1, 3, 3, 1] }), { size: 2, dilations: 2 }).item(); // 8
 * maxPool2d(tensor([1, 5, 3, 2], { shape: [1, 2, 2, 1] }), { size: 2 }).item(); // 5
 * ```
 * @category Convolution and pooling
 */
export function maxPool2d(x: Tensor, options: Pool2DOptions): Tensor {
  if (isDilated2d(options)) return dilatedPool2d("maxPool2d", x, options, true);
  const [t, p] = resolvePool("maxPool2d", x, options);
  const idx = bind(maxPool2dArgmaxP, [t], p);
  return t.reshape([t.size]).gather(idx);
}

/** @internal Params of the average-pooling transpose: the pooling params plus the input shape. */
export interface AvgPoolBackpropParams extends PoolParams {
  readonly inputShape: readonly number[];
}

function pickPool(p: PoolParams): PoolParams {
  return {
    fh: p.fh,
    fw: p.fw,
    strideH: p.strideH,
    strideW: p.strideW,
    padTop: p.padTop,
    padBottom: p.padBottom,
    padLeft: p.padLeft,
    padRight: p.padRight,
  };
}

/** @internal Average pooling: linear, so its JVP is itself and its VJP its transpose {@link avgPool2dBackpropP}. */
export const avgPool2dP: Primitive<PoolParams> = definePrimitive<PoolParams>({
  name: "avgPool2d",
  impl([x], p) {
    const g = poolGeometry(x!.shape, p);
    const o = output(x!.dtype, [g.n, g.oh, g.ow, g.c]);
    backend().avgPool2d(x!._data!, o.data, g);
    return fromTyped(o.data, o.shape, x!.dtype);
  },
  jvp(_x, [tx], _out, p) {
    return bind(avgPool2dP, [tx!], p);
  },
  vjp(ct, [x], _out, p) {
    return [bind(avgPool2dBackpropP, [ct], { ...pickPool(p), inputShape: x!.shape })];
  },
});

/** @internal The transpose of average pooling (spreads each cotangent over its window's valid cells). */
export const avgPool2dBackpropP: Primitive<AvgPoolBackpropParams> = definePrimitive<AvgPoolBackpropParams>({
  name: "avgPool2dBackprop",
  impl([dy], p) {
    const g = poolGeometry(p.inputShape, p);
    const o = output(dy!.dtype, p.inputShape);
    backend().avgPool2dBackprop(dy!._data!, o.data, g);
    return fromTyped(o.data, o.shape, dy!.dtype);
  },
  jvp(_dy, [tdy], _out, p) {
    return bind(avgPool2dBackpropP, [tdy!], p);
  },
  vjp(ct, _dy, _out, p) {
    return [bind(avgPool2dP, [ct], pickPool(p))];
  },
});

/**
 * 2-D average pooling of an NHWC batch: the mean of each window, per channel, over the cells inside the
 * input (padded cells are not counted, so edges are not darkened); `dilations` spaces the window's cells.
 * Linear, hence differentiable to any order.
 *
 * @param x `[batch, height, width, channels]`, float32 or float64.
 * @param options `size` (required), `strides` (default: the size), `padding` (`'valid'` default),
 *   `dilations` (default 1).
 * @returns `[batch, outHeight, outWidth, channels]`.
 * @example
 * ```ts
 * avgPool2d(tensor([1, 5, 3, 3], { shape: [1, 2, 2, 1] }), { size: 2 }).item(); // 3
 * ```
 * @category Convolution and pooling
 */
export function avgPool2d(x: Tensor, options: Pool2DOptions): Tensor {
  const op = "avgPool2d";
  if (isDilated2d(options)) return dilatedPool2d(op, x, options, false);
  const [t, p] = resolvePool(op, x, options);
  if (!isFloat(t.dtype)) {
    throw new TypeError(`${op}: averages need a float tensor, got ${t.dtype}; cast it first (x.cast('float32'))`);
  }
  return bind(avgPool2dP, [t], p);
}

// ---------------------------------------------------------------------------------------------------
// Volumes and general windows: 3-D convolution, 1-D and 3-D pooling, dilated pooling

/**
 * Padding of a 3-D window op: `'valid'`, `'same'` (as for {@link Padding2D}, on each axis), a number of
 * zero cells on every side, or `[[front, back], [top, bottom], [left, right]]`.
 * @category Convolution and pooling
 */
export type Padding3D =
  | "same"
  | "valid"
  | number
  | readonly [readonly [number, number], readonly [number, number], readonly [number, number]];

/**
 * Options of {@link conv3d} and its back-projections.
 * @category Convolution and pooling
 */
export interface Conv3DOptions {
  /** Step between windows: one number for all axes or `[depth, height, width]`. Default 1. */
  strides?: number | readonly [number, number, number];
  /** Zero padding; `'valid'` by default. */
  padding?: Padding3D;
  /** Spacing between filter taps: a number or `[depth, height, width]`. Default 1. */
  dilations?: number | readonly [number, number, number];
}

/**
 * Options of {@link maxPool3d} and {@link avgPool3d}.
 * @category Convolution and pooling
 */
export interface Pool3DOptions {
  /** Window size: one number for all axes or `[depth, height, width]`. */
  size: number | readonly [number, number, number];
  /** Step between windows; defaults to the window size (non-overlapping windows). */
  strides?: number | readonly [number, number, number];
  /** `'valid'` (default), `'same'`, or explicit padding; padded cells never take part in a window. */
  padding?: Padding3D;
  /** Spacing between the cells of a window (dilated pooling): a number or `[depth, height, width]`. Default 1. */
  dilations?: number | readonly [number, number, number];
}

/**
 * Options of {@link maxPool1d} and {@link avgPool1d}.
 * @category Convolution and pooling
 */
export interface Pool1DOptions {
  /** Window size. */
  size: number;
  /** Step between windows; defaults to the window size. */
  stride?: number;
  /** `'valid'` (default), `'same'`, a number of cells on both ends, or `[left, right]`. */
  padding?: "same" | "valid" | number | readonly [number, number];
  /** Spacing between the cells of a window (dilated pooling). Default 1. */
  dilation?: number;
}

type Triple = readonly [number, number, number];

/** @internal Resolved geometry of a 3-D convolution (what its primitives carry). */
export interface Conv3DParams {
  readonly strides: Triple;
  readonly dilations: Triple;
  readonly padBefore: Triple;
  readonly padAfter: Triple;
}

/** @internal Resolved window of a general (1-D, dilated 2-D or 3-D) pooling over `[n, d, h, w, c]`. */
export interface Pool3DParams extends Conv3DParams {
  readonly window: Triple;
}

const NDHWC = "[batch, depth, height, width, channels]";
const AXES3 = ["depth", "height", "width"] as const;

function positiveTriple(op: string, name: string, v: unknown, def: number): Triple {
  const p = v === undefined ? [def, def, def] : typeof v === "number" ? [v, v, v] : v;
  if (!Array.isArray(p) || p.length !== 3 || !p.every((d) => typeof d === "number" && Number.isInteger(d) && d > 0)) {
    throw new RangeError(
      `${op}: ${name} must be a positive integer or a triple [depth, height, width] of them, got ${JSON.stringify(v)}`,
    );
  }
  return [p[0] as number, p[1] as number, p[2] as number];
}

/**
 * Resolves padding over three axes of lengths `len`, effective windows `eff` and `strides` to
 * `[before, after]` triples; `'same'` pads as TensorFlow does (the extra cell after).
 */
function resolvePads3(op: string, padding: unknown, len: Triple, eff: Triple, strides: Triple): [Triple, Triple] {
  if (padding === undefined || padding === "valid") return [[0, 0, 0], [0, 0, 0]];
  const ok = (d: unknown): d is number => typeof d === "number" && Number.isInteger(d) && d >= 0;
  if (padding === "same") {
    const before: number[] = [];
    const after: number[] = [];
    for (let i = 0; i < 3; i++) {
      const out = Math.ceil(len[i]! / strides[i]!);
      const total = Math.max((out - 1) * strides[i]! + eff[i]! - len[i]!, 0);
      before.push(Math.floor(total / 2));
      after.push(total - Math.floor(total / 2));
    }
    return [before as unknown as Triple, after as unknown as Triple];
  }
  if (ok(padding)) return [[padding, padding, padding], [padding, padding, padding]];
  if (
    Array.isArray(padding) && padding.length === 3 &&
    padding.every((p: unknown) => Array.isArray(p) && p.length === 2 && p.every(ok))
  ) {
    const pairs = padding as readonly (readonly [number, number])[];
    return [[pairs[0]![0], pairs[1]![0], pairs[2]![0]], [pairs[0]![1], pairs[1]![1], pairs[2]![1]]];
  }
  throw new RangeError(
    `${op}: padding must be 'same', 'valid', a non-negative integer or [[front, back], [top, bottom], [left, right]], ` +
      `got ${JSON.stringify(padding)}`,
  );
}

/** The output extents of windows over the three spatial axes of `[n, d, h, w, c]`. */
function outExtents3(xShape: readonly number[], window: Triple, p: Conv3DParams): Triple {
  const out = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const e = (window[i]! - 1) * p.dilations[i]! + 1;
    out[i] = outExtent(xShape[i + 1]!, e, p.strides[i]!, p.padBefore[i]!, p.padAfter[i]!);
  }
  return out as unknown as Triple;
}

/** Rejects an empty output (a window that does not fit), naming the axis and the fix. */
function checkFits(op: string, what: string, xShape: readonly number[], window: Triple, p: Conv3DParams, padding: unknown, axes: readonly number[]): void {
  if (xShape.slice(1, 4).some((d) => d === 0)) return;
  const out = outExtents3(xShape, window, p);
  for (const i of axes) {
    if (out[i]! <= 0) {
      const e = (window[i]! - 1) * p.dilations[i]! + 1;
      throw new RangeError(
        `${op}: the output would be empty: the ${what} spans ${e} cells along ${AXES3[i]} (size ${window[i]}, dilation ` +
          `${p.dilations[i]}) but the input ${fmt(xShape)} has ${xShape[i + 1]} there with padding ` +
          `${JSON.stringify(padding ?? "valid")}; use padding 'same' or a smaller ${what}`,
      );
    }
  }
}

/** @internal The geometry a 3-D convolution kernel needs. */
function conv3dGeometry(xShape: readonly number[], fShape: readonly number[], p: Conv3DParams): Conv3DGeometry {
  const window: Triple = [fShape[0]!, fShape[1]!, fShape[2]!];
  const [od, oh, ow] = outExtents3(xShape, window, p);
  return {
    n: xShape[0]!,
    d: xShape[1]!,
    h: xShape[2]!,
    w: xShape[3]!,
    cin: xShape[4]!,
    od,
    oh,
    ow,
    cout: fShape[4]!,
    fd: fShape[0]!,
    fh: fShape[1]!,
    fw: fShape[2]!,
    strides: p.strides,
    dilations: p.dilations,
    padBefore: p.padBefore,
  };
}

/** @internal Params of the 3-D back-projections: the conv params plus the shape they produce. */
export interface Conv3DBackpropParams extends Conv3DParams {
  readonly shape: readonly number[];
}

function pick3(p: Conv3DParams): Conv3DParams {
  return { strides: p.strides, dilations: p.dilations, padBefore: p.padBefore, padAfter: p.padAfter };
}

const bindConv3d = (x: Tensor, f: Tensor, p: Conv3DParams): Tensor => bind(conv3dP, [x, f], pick3(p));
const bindConv3dInput = (dy: Tensor, f: Tensor, shape: readonly number[], p: Conv3DParams): Tensor =>
  bind(conv3dBackpropInputP, [dy, f], { ...pick3(p), shape });
const bindConv3dFilter = (x: Tensor, dy: Tensor, shape: readonly number[], p: Conv3DParams): Tensor =>
  bind(conv3dBackpropFilterP, [x, dy], { ...pick3(p), shape });

/**
 * @internal The 3-D convolution. Like the 2-D family, its three primitives are each other's adjoints:
 * `⟨conv3d(x, w), dy⟩ = ⟨x, backpropInput(dy, w)⟩ = ⟨w, backpropFilter(x, dy)⟩`, and each is bilinear,
 * so every rule below is a member of the family.
 */
export const conv3dP: Primitive<Conv3DParams> = definePrimitive<Conv3DParams>({
  name: "conv3d",
  impl([x, f], p) {
    const g = conv3dGeometry(x!.shape, f!.shape, p);
    const o = output(x!.dtype, [g.n, g.od, g.oh, g.ow, g.cout]);
    backend().conv3d(x!._data!, f!._data!, o.data, g);
    return fromTyped(o.data, o.shape, x!.dtype);
  },
  jvp([x, f], [tx, tf], _out, p) {
    return addOpt(tx ? bindConv3d(tx, f!, p) : null, tf ? bindConv3d(x!, tf, p) : null);
  },
  vjp(ct, [x, f], _out, p, [nx, nf]) {
    return [nx ? bindConv3dInput(ct, f!, x!.shape, p) : null, nf ? bindConv3dFilter(x!, ct, f!.shape, p) : null];
  },
});

/** @internal The input gradient of {@link conv3dP}. */
export const conv3dBackpropInputP: Primitive<Conv3DBackpropParams> = definePrimitive<Conv3DBackpropParams>({
  name: "conv3dBackpropInput",
  impl([dy, f], p) {
    const g = conv3dGeometry(p.shape, f!.shape, p);
    const o = output(dy!.dtype, p.shape);
    backend().conv3dBackpropInput(dy!._data!, f!._data!, o.data, g);
    return fromTyped(o.data, o.shape, dy!.dtype);
  },
  jvp([dy, f], [tdy, tf], _out, p) {
    return addOpt(tdy ? bindConv3dInput(tdy, f!, p.shape, p) : null, tf ? bindConv3dInput(dy!, tf, p.shape, p) : null);
  },
  vjp(ct, [dy, f], _out, p, [ndy, nf]) {
    // ⟨input(dy, f), c⟩ = ⟨dy, conv(c, f)⟩ = ⟨f, filter(c, dy)⟩
    return [ndy ? bindConv3d(ct, f!, p) : null, nf ? bindConv3dFilter(ct, dy!, f!.shape, p) : null];
  },
});

/** @internal The filter gradient of {@link conv3dP}. */
export const conv3dBackpropFilterP: Primitive<Conv3DBackpropParams> = definePrimitive<Conv3DBackpropParams>({
  name: "conv3dBackpropFilter",
  impl([x, dy], p) {
    const g = conv3dGeometry(x!.shape, p.shape, p);
    const o = output(x!.dtype, p.shape);
    backend().conv3dBackpropFilter(x!._data!, dy!._data!, o.data, g);
    return fromTyped(o.data, o.shape, x!.dtype);
  },
  jvp([x, dy], [tx, tdy], _out, p) {
    return addOpt(tx ? bindConv3dFilter(tx, dy!, p.shape, p) : null, tdy ? bindConv3dFilter(x!, tdy, p.shape, p) : null);
  },
  vjp(ct, [x, dy], _out, p, [nx, ndy]) {
    // ⟨filter(x, dy), c⟩ = ⟨dy, conv(x, c)⟩ = ⟨x, input(dy, c)⟩
    return [nx ? bindConv3dInput(dy!, ct, x!.shape, p) : null, ndy ? bindConv3d(x!, ct, p) : null];
  },
});

const DHWIO = "[filterDepth, filterHeight, filterWidth, inChannels, outChannels]";

/** Validates a 3-D convolution's options against its input and filter shapes. */
function resolveConv3d(op: string, xShape: readonly number[], fShape: readonly number[], options: Conv3DOptions | undefined): Conv3DParams {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError(`${op}: options must be an object such as { strides: 1, padding: 'same' }, got ${JSON.stringify(options)}`);
  }
  const o = options ?? {};
  const strides = positiveTriple(op, "strides", o.strides, 1);
  const dilations = positiveTriple(op, "dilations", o.dilations, 1);
  if (fShape.slice(0, 3).some((d) => d === 0)) {
    throw new RangeError(`${op}: the filter window must be at least 1x1x1, got ${fmt(fShape)}`);
  }
  const len: Triple = [xShape[1]!, xShape[2]!, xShape[3]!];
  const eff = [0, 1, 2].map((i) => (fShape[i]! - 1) * dilations[i]! + 1) as unknown as Triple;
  const [padBefore, padAfter] = resolvePads3(op, o.padding, len, eff, strides);
  const p: Conv3DParams = { strides, dilations, padBefore, padAfter };
  checkFits(op, "filter", xShape, [fShape[0]!, fShape[1]!, fShape[2]!], p, o.padding, [0, 1, 2]);
  return p;
}

function checkChannels3d(op: string, inputName: string, xShape: readonly number[], fShape: readonly number[]): void {
  if (xShape[4] !== fShape[3]) {
    throw new RangeError(
      `${op}: ${inputName} ${fmt(xShape)} has ${xShape[4]} channels but the filter ${fmt(fShape)} expects ${fShape[3]}; ` +
        `the filter's fourth axis must equal the input's channel count`,
    );
  }
}

/**
 * 3-D convolution (cross-correlation) of an NDHWC batch of volumes, for video and volumetric data.
 *
 * `y[b, z, i, j, o] = Σ_{kz, ky, kx, c} x[b, z·sd + kz·dd − front, i·sh + ky·dh − top, j·sw + kx·dw − left, c] ·
 * filter[kz, ky, kx, c, o]`, zero outside the input. Differentiable in both operands to any order: the
 * input gradient is {@link conv3dBackpropInput}, the filter gradient {@link conv3dBackpropFilter}, and
 * those are differentiable in turn.
 *
 * @param x the input, `[batch, depth, height, width, inChannels]`.
 * @param filter `[filterDepth, filterHeight, filterWidth, inChannels, outChannels]`.
 * @param options `strides` (default 1), `padding` (`'valid'` default, `'same'`, a number or
 *   `[[front, back], [top, bottom], [left, right]]`), `dilations` (default 1).
 * @returns `[batch, outDepth, outHeight, outWidth, outChannels]`; with `'same'`, each extent is `ceil(size / stride)`.
 * @example
 * ```ts
 * const x = randomNormal([2, 8, 16, 16, 3], { seed: 1 });
 * const w = randomNormal([3, 3, 3, 3, 4], { seed: 2 });
 * conv3d(x, w, { padding: "same" }).shape;  // [2, 8, 16, 16, 4]
 * conv3d(x, w, { strides: 2 }).shape;       // [2, 3, 7, 7, 4]
 * ```
 * @category Convolution and pooling
 */
export function conv3d(x: Tensor, filter: Tensor, options?: Conv3DOptions): Tensor {
  const op = "conv3d";
  checkTensor(op, "input", x);
  checkTensor(op, "filter", filter);
  checkRank(op, "input", x.shape, 5, NDHWC);
  checkRank(op, "filter", filter.shape, 5, DHWIO);
  checkChannels3d(op, "input", x.shape, filter.shape);
  const p = resolveConv3d(op, x.shape, filter.shape, options);
  const [a, f] = unify(x, filter);
  return bindConv3d(a, f, p);
}

/** Checks that `dy` has the shape the forward convolution of `xShape` with `fShape` produces. */
function checkDy3d(op: string, dy: Tensor, xShape: readonly number[], fShape: readonly number[], p: Conv3DParams): void {
  const [od, oh, ow] = outExtents3(xShape, [fShape[0]!, fShape[1]!, fShape[2]!], p);
  const expect = [xShape[0]!, od, oh, ow, fShape[4]!];
  if (dy.shape.some((d, i) => d !== expect[i])) {
    throw new RangeError(
      `${op}: dy has shape ${fmt(dy.shape)} but a 3-D convolution of ${fmt(xShape)} with filter ${fmt(fShape)} and these options gives ${fmt(expect)}`,
    );
  }
}

/**
 * The gradient of {@link conv3d} with respect to its input (its adjoint in `x`): given `dy` and the
 * filter, the `dx` of shape `inputShape`. Differentiable (its derivatives are conv3d and
 * {@link conv3dBackpropFilter}); with `strides` it is the transposed (up-sampling) 3-D convolution.
 *
 * @param dy `[batch, outDepth, outHeight, outWidth, outChannels]`.
 * @param filter `[filterDepth, filterHeight, filterWidth, inChannels, outChannels]`.
 * @param inputShape the forward input's shape `[batch, depth, height, width, inChannels]`.
 * @param options the forward convolution's options.
 * @returns a tensor of shape `inputShape`.
 * @example
 * ```ts
 * conv3dBackpropInput(ones([1, 2, 2, 2, 4]), ones([3, 3, 3, 1, 4]), [1, 4, 4, 4, 1]).shape; // [1, 4, 4, 4, 1]
 * ```
 * @category Convolution and pooling
 */
export function conv3dBackpropInput(dy: Tensor, filter: Tensor, inputShape: readonly number[], options?: Conv3DOptions): Tensor {
  const op = "conv3dBackpropInput";
  checkTensor(op, "dy", dy);
  checkTensor(op, "filter", filter);
  const xs = checkShapeArg(op, "inputShape", inputShape, 5, NDHWC);
  checkRank(op, "dy", dy.shape, 5, NDHWC);
  checkRank(op, "filter", filter.shape, 5, DHWIO);
  checkChannels3d(op, "inputShape", xs, filter.shape);
  const p = resolveConv3d(op, xs, filter.shape, options);
  checkDy3d(op, dy, xs, filter.shape, p);
  const [a, f] = unify(dy, filter);
  return bindConv3dInput(a, f, xs, p);
}

/**
 * The gradient of {@link conv3d} with respect to its filter: given the input and `dy`, the `dw` of shape
 * `filterShape`. Differentiable (its derivatives are conv3d and {@link conv3dBackpropInput}).
 *
 * @param x the forward input `[batch, depth, height, width, inChannels]`.
 * @param dy `[batch, outDepth, outHeight, outWidth, outChannels]`.
 * @param filterShape `[filterDepth, filterHeight, filterWidth, inChannels, outChannels]`.
 * @param options the forward convolution's options.
 * @returns a tensor of shape `filterShape`.
 * @example
 * ```ts
 * const dw = conv3dBackpropFilter(ones([1, 4, 4, 4, 1]), ones([1, 2, 2, 2, 3]), [3, 3, 3, 1, 3]);
 * dw.shape; // [3, 3, 3, 1, 3]
 * // Each filter tap meets the input once per output position: 2 × 2 × 2 = 8 everywhere.
 * dw.min().item(); // 8
 * dw.max().item(); // 8
 * ```
 * @category Convolution and pooling
 */
export function conv3dBackpropFilter(x: Tensor, dy: Tensor, filterShape: readonly number[], options?: Conv3DOptions): Tensor {
  const op = "conv3dBackpropFilter";
  checkTensor(op, "input", x);
  checkTensor(op, "dy", dy);
  checkRank(op, "input", x.shape, 5, NDHWC);
  checkRank(op, "dy", dy.shape, 5, NDHWC);
  const fs = checkShapeArg(op, "filterShape", filterShape, 5, DHWIO);
  checkChannels3d(op, "input", x.shape, fs);
  const p = resolveConv3d(op, x.shape, fs, options);
  checkDy3d(op, dy, x.shape, fs, p);
  const [a, d] = unify(x, dy);
  return bindConv3dFilter(a, d, fs, p);
}

// ---- general pooling (1-D, dilated 2-D, 3-D) over [n, d, h, w, c]

function pool3dGeometry(xShape: readonly number[], p: Pool3DParams): Pool3DGeometry {
  const [od, oh, ow] = outExtents3(xShape, p.window, p);
  return {
    n: xShape[0]!,
    d: xShape[1]!,
    h: xShape[2]!,
    w: xShape[3]!,
    c: xShape[4]!,
    od,
    oh,
    ow,
    window: p.window,
    strides: p.strides,
    dilations: p.dilations,
    padBefore: p.padBefore,
  };
}

/** @internal Flat input indices of each general pooling window's maximum, as int32. */
export const maxPool3dArgmaxP = defineNondifferentiable<Pool3DParams>("maxPool3dArgmax", ([x], p) => {
  const g = pool3dGeometry(x!.shape, p);
  const shape = Object.freeze([g.n, g.od, g.oh, g.ow, g.c]);
  const idx = new Int32Array(sizeOf(shape));
  backend().maxPool3dArgmax(x!._data!, idx, g);
  return fromTyped(idx, shape, "int32");
});

/** @internal Params of the general average pooling's transpose: the pooling params plus the input shape. */
export interface AvgPool3DBackpropParams extends Pool3DParams {
  readonly inputShape: readonly number[];
}

function pickPool3(p: Pool3DParams): Pool3DParams {
  return { window: p.window, strides: p.strides, dilations: p.dilations, padBefore: p.padBefore, padAfter: p.padAfter };
}

/** @internal General average pooling: linear, so its JVP is itself and its VJP its transpose. */
export const avgPool3dP: Primitive<Pool3DParams> = definePrimitive<Pool3DParams>({
  name: "avgPool3d",
  impl([x], p) {
    const g = pool3dGeometry(x!.shape, p);
    const o = output(x!.dtype, [g.n, g.od, g.oh, g.ow, g.c]);
    backend().avgPool3d(x!._data!, o.data, g);
    return fromTyped(o.data, o.shape, x!.dtype);
  },
  jvp(_x, [tx], _out, p) {
    return bind(avgPool3dP, [tx!], p);
  },
  vjp(ct, [x], _out, p) {
    return [bind(avgPool3dBackpropP, [ct], { ...pickPool3(p), inputShape: x!.shape })];
  },
});

/** @internal The transpose of general average pooling (spreads each cotangent over its window's cells). */
export const avgPool3dBackpropP: Primitive<AvgPool3DBackpropParams> = definePrimitive<AvgPool3DBackpropParams>({
  name: "avgPool3dBackprop",
  impl([dy], p) {
    const g = pool3dGeometry(p.inputShape, p);
    const o = output(dy!.dtype, p.inputShape);
    backend().avgPool3dBackprop(dy!._data!, o.data, g);
    return fromTyped(o.data, o.shape, dy!.dtype);
  },
  jvp(_dy, [tdy], _out, p) {
    return bind(avgPool3dBackpropP, [tdy!], p);
  },
  vjp(ct, _dy, _out, p) {
    return [bind(avgPool3dP, [ct], pickPool3(p))];
  },
});

/**
 * Resolves a general pooling over the volume `[n, d, h, w, c]` (a 1-D or 2-D input already reshaped to
 * it): the window must fit, and every window must hold at least one cell of the input (with dilations
 * and padding, a window could otherwise see padding only). `axes` are the axes the user has.
 */
function resolvePool3(
  op: string,
  vShape: readonly number[],
  userShape: readonly number[],
  window: Triple,
  strides: Triple,
  dilations: Triple,
  padding: unknown,
  axes: readonly number[],
): Pool3DParams {
  const len: Triple = [vShape[1]!, vShape[2]!, vShape[3]!];
  const eff = [0, 1, 2].map((i) => (window[i]! - 1) * dilations[i]! + 1) as unknown as Triple;
  const [padBefore, padAfter] = resolvePads3(op, padding, len, eff, strides);
  const p: Pool3DParams = { window, strides, dilations, padBefore, padAfter };
  if (len.some((d) => d === 0)) return p;
  const out = outExtents3(vShape, window, p);
  for (const i of axes) {
    const axisName = axes.length === 1 ? "width" : AXES3[i]!;
    if (out[i]! <= 0) {
      throw new RangeError(
        `${op}: the output would be empty: the window spans ${eff[i]} cells along ${axisName} (size ${window[i]}, ` +
          `dilation ${dilations[i]}) but the input ${fmt(userShape)} has ${len[i]} there with padding ` +
          `${JSON.stringify(padding ?? "valid")}; use padding 'same' or a smaller window`,
      );
    }
    for (let o = 0; o < out[i]!; o++) {
      const start = o * strides[i]! - padBefore[i]!;
      let touches = false;
      for (let k = 0; k < window[i]! && !touches; k++) {
        const at = start + k * dilations[i]!;
        touches = at >= 0 && at < len[i]!;
      }
      if (!touches) {
        throw new RangeError(
          `${op}: window ${o} along ${axisName} holds padding only (padding [${padBefore[i]}, ${padAfter[i]}], ` +
            `size ${window[i]}, dilation ${dilations[i]}, stride ${strides[i]}); use less padding or a smaller dilation`,
        );
      }
    }
  }
  return p;
}

function maxPoolVolume(v: Tensor, p: Pool3DParams): Tensor {
  const idx = bind(maxPool3dArgmaxP, [v], p);
  return v.reshape([v.size]).gather(idx);
}

function avgPoolVolume(op: string, v: Tensor, p: Pool3DParams): Tensor {
  if (!isFloat(v.dtype)) {
    throw new TypeError(`${op}: averages need a float tensor, got ${v.dtype}; cast it first (x.cast('float32'))`);
  }
  return bind(avgPool3dP, [v], p);
}

function requireOptions(op: string, options: unknown, example: string): asserts options is object {
  if (options === undefined || options === null || typeof options !== "object") {
    throw new TypeError(`${op}: options with a window size are required, e.g. ${example}`);
  }
}

function resolvePool3d(op: string, x: unknown, options: Pool3DOptions): [Tensor, Pool3DParams] {
  checkTensor(op, "input", x);
  checkRank(op, "input", x.shape, 5, NDHWC);
  requireOptions(op, options, "{ size: 2 }");
  const window = positiveTriple(op, "size", options.size, 0);
  const strides = options.strides === undefined ? window : positiveTriple(op, "strides", options.strides, 1);
  const dilations = positiveTriple(op, "dilations", options.dilations, 1);
  return [x, resolvePool3(op, x.shape, x.shape, window, strides, dilations, options.padding, [0, 1, 2])];
}

/**
 * 3-D max pooling of an NDHWC batch: the largest element of each window, per channel. Padded cells never
 * win; `dilations` spaces the window's cells. The derivative routes each output's cotangent to the cell
 * that won (the first one on ties), to any order (it is a gather of the winners).
 *
 * @param x `[batch, depth, height, width, channels]`.
 * @param options `size` (required), `strides` (default: the size), `padding` (`'valid'` default),
 *   `dilations` (default 1).
 * @returns `[batch, outDepth, outHeight, outWidth, channels]`.
 * @example
 * ```ts
 * maxPool3d(tensor([1, 5, 3, 2, 0, 7, 4, 6], { shape: [1, 2, 2, 2, 1] }), { size: 2 }).item(); // 7
 * ```
 * @category Convolution and pooling
 */
export function maxPool3d(x: Tensor, options: Pool3DOptions): Tensor {
  const [t, p] = resolvePool3d("maxPool3d", x, options);
  return maxPoolVolume(t, p);
}

/**
 * 3-D average pooling of an NDHWC batch: the mean of each window's cells inside the input (padded cells
 * are not counted). Linear, hence differentiable to any order.
 *
 * @param x `[batch, depth, height, width, channels]`, float32 or float64.
 * @param options `size` (required), `strides` (default: the size), `padding` (`'valid'` default),
 *   `dilations` (default 1).
 * @returns `[batch, outDepth, outHeight, outWidth, channels]`.
 * @example
 * ```ts
 * avgPool3d(tensor([1, 5, 3, 2, 0, 7, 4, 6], { shape: [1, 2, 2, 2, 1] }), { size: 2 }).item(); // 3.5
 * ```
 * @category Convolution and pooling
 */
export function avgPool3d(x: Tensor, options: Pool3DOptions): Tensor {
  const op = "avgPool3d";
  const [t, p] = resolvePool3d(op, x, options);
  return avgPoolVolume(op, t, p);
}

function positiveInt(op: string, name: string, v: unknown, def: number): number {
  if (v === undefined && def > 0) return def;
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
    throw new RangeError(`${op}: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function resolvePool1d(op: string, x: unknown, options: Pool1DOptions): [Tensor, Pool3DParams] {
  checkTensor(op, "input", x);
  checkRank(op, "input", x.shape, 3, "[batch, width, channels]");
  requireOptions(op, options, "{ size: 2 }");
  const size = positiveInt(op, "size", options.size, 0);
  const stride = positiveInt(op, "stride", options.stride, size);
  const dilation = positiveInt(op, "dilation", options.dilation, 1);
  const pd = options.padding;
  let padding: unknown;
  if (pd === undefined || pd === "same" || pd === "valid") padding = pd;
  else if (typeof pd === "number" && Number.isInteger(pd) && pd >= 0) padding = [[0, 0], [0, 0], [pd, pd]];
  else if (Array.isArray(pd) && pd.length === 2 && pd.every((d: unknown) => typeof d === "number" && Number.isInteger(d) && d >= 0)) {
    padding = [[0, 0], [0, 0], [pd[0], pd[1]]];
  } else {
    throw new RangeError(`${op}: padding must be 'same', 'valid', a non-negative integer or [left, right], got ${JSON.stringify(pd)}`);
  }
  const [n, w, c] = x.shape as [number, number, number];
  const v = x.reshape([n, 1, 1, w, c]);
  return [v, resolvePool3(op, v.shape, x.shape, [1, 1, size], [1, 1, stride], [1, 1, dilation], padding, [2])];
}

/** Back from the volume `[n, 1, 1, ow, c]` to `[n, ow, c]`. */
function fromVolume1d(y: Tensor): Tensor {
  return y.reshape([y.shape[0]!, y.shape[3]!, y.shape[4]!]);
}

/**
 * 1-D max pooling of an NWC batch (sequences): the largest element of each window, per channel, with an
 * optional `dilation` between the window's cells. The derivative routes each cotangent to the winner
 * (the first one on ties), to any order.
 *
 * @param x `[batch, width, channels]`.
 * @param options `size` (required), `stride` (default: the size), `padding` (`'valid'` default, `'same'`,
 *   a number or `[left, right]`), `dilation` (default 1).
 * @returns `[batch, outWidth, channels]`.
 * @example
 * ```ts
 * maxPool1d(tensor([1, 5, 3, 2], { shape: [1, 4, 1] }), { size: 2 }).toArray(); // [[[5], [3]]]
 * ```
 * @category Convolution and pooling
 */
export function maxPool1d(x: Tensor, options: Pool1DOptions): Tensor {
  const [v, p] = resolvePool1d("maxPool1d", x, options);
  return fromVolume1d(maxPoolVolume(v, p));
}

/**
 * 1-D average pooling of an NWC batch: the mean of each window's cells inside the input (padded cells are
 * not counted), with an optional `dilation`. Linear, hence differentiable to any order.
 *
 * @param x `[batch, width, channels]`, float32 or float64.
 * @param options `size` (required), `stride` (default: the size), `padding` (`'valid'` default, `'same'`,
 *   a number or `[left, right]`), `dilation` (default 1).
 * @returns `[batch, outWidth, channels]`.
 * @example
 * ```ts
 * avgPool1d(tensor([1, 5, 3, 2], { shape: [1, 4, 1] }), { size: 2 }).toArray(); // [[[3], [2.5]]]
 * ```
 * @category Convolution and pooling
 */
export function avgPool1d(x: Tensor, options: Pool1DOptions): Tensor {
  const op = "avgPool1d";
  const [v, p] = resolvePool1d(op, x, options);
  return fromVolume1d(avgPoolVolume(op, v, p));
}

/** True when 2-D pooling options ask for dilated windows (which take the general path). */
function isDilated2d(options: Pool2DOptions | undefined): boolean {
  const d = options?.dilations;
  return d !== undefined && !(d === 1 || (Array.isArray(d) && d[0] === 1 && d[1] === 1));
}

/** A dilated 2-D pooling as a general one over `[n, 1, h, w, c]`. */
function dilatedPool2d(op: string, x: Tensor, options: Pool2DOptions, max: boolean): Tensor {
  checkTensor(op, "input", x);
  checkRank(op, "input", x.shape, 4, NHWC);
  const [fh, fw] = positivePair(op, "size", options.size, 0);
  const [sh, sw] = options.strides === undefined ? [fh, fw] : positivePair(op, "strides", options.strides, 1);
  const [dh, dw] = positivePair(op, "dilations", options.dilations, 1);
  let padding: unknown = options.padding;
  if (typeof padding === "number") padding = [[0, 0], [padding, padding], [padding, padding]];
  else if (Array.isArray(padding)) {
    const e = explicitPads(op, padding)!;
    padding = [[0, 0], [e[0], e[1]], [e[2], e[3]]];
  }
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const v = x.reshape([n, 1, h, w, c]);
  const p = resolvePool3(op, v.shape, x.shape, [1, fh, fw], [1, sh, sw], [1, dh, dw], padding, [1, 2]);
  const y = max ? maxPoolVolume(v, p) : avgPoolVolume(op, v, p);
  return y.reshape([n, y.shape[2]!, y.shape[3]!, c]);
}
