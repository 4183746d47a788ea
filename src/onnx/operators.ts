/**
 * How each primitive is written in ONNX operators: one row per primitive, so supporting a new primitive is
 * one more row. A row receives the equation (its params and the shapes and dtypes of its variables) and the
 * ONNX names of its inputs, adds nodes to the builder and returns the name of the output.
 *
 * difftypes lays images out NHWC and filters HWIO; ONNX's Conv and pooling are NCHW and OIHW, so those rows
 * transpose around the ONNX op; filters keep their own layout in the file, transposed by a node over a constant
 * (which a runtime's constant folding can do once at load).
 */
import type { Conv3DBackpropParams, Conv3DParams, ConvParams, Pool3DParams, PoolParams } from "../ops/conv.js";
import type { GraphEquation } from "./graph.js";
import { onnxType, type OnnxBuilder } from "./builder.js";
import { OnnxType } from "./schema.js";

/** @internal Writes one equation into the builder; returns the ONNX name of its output. */
export type Lowering = (g: OnnxBuilder, eq: GraphEquation, inputs: readonly string[]) => string;

const NCHW = [0, 3, 1, 2];
const NHWC = [0, 2, 3, 1];
const HWIO_TO_OIHW = [3, 2, 0, 1];

const unary = (opType: string): Lowering => (g, _eq, [x]) => g.node(opType, [x!]);
const binary = (opType: string): Lowering => (g, _eq, [a, b]) => g.node(opType, [a!, b!]);
const comparison = (opType: string, negate = false): Lowering => (g, _eq, [a, b]) => {
  const c = g.node(opType, [a!, b!]);
  return g.node("Cast", [negate ? g.node("Not", [c]) : c], { to: OnnxType.INT32 });
};

/** An int32 0/1 tensor as ONNX bool. */
const toBool = (g: OnnxBuilder, x: string): string => g.node("Cast", [x], { to: OnnxType.BOOL });
/** An ONNX bool as difftypes' int32 0/1. */
const fromBool = (g: OnnxBuilder, x: string): string => g.node("Cast", [x], { to: OnnxType.INT32 });

const logical = (opType: string): Lowering => (g, _eq, [a, b]) => fromBool(g, g.node(opType, [toBool(g, a!), toBool(g, b!)]));

/**
 * `log(1 + e)` accurate for small `e` with no log1p operator: with `u = 1 + e` rounded, `log(u)·e/(u − 1)`
 * cancels the rounding of `u` (Goldberg, "What every computer scientist should know about floating-point
 * arithmetic", 1991, theorem 4); `e` itself where `u` rounds to 1.
 */
function log1pOf(g: OnnxBuilder, e: string, dtype: GraphEquation["output"]["dtype"]): string {
  const one = g.scalar(1, dtype);
  const u = g.node("Add", [e, one]);
  const ratio = g.node("Div", [g.node("Mul", [g.node("Log", [u]), e]), g.node("Sub", [u, one])]);
  return g.node("Where", [g.node("Equal", [u, one]), e, ratio]);
}

/** `softplus(x) = max(x, 0) + log1p(e^−|x|)`, as difftypes' kernel computes it: no overflow for large `x`. */
const softplus: Lowering = (g, eq, [x]) => {
  const e = g.node("Exp", [g.node("Neg", [g.node("Abs", [x!])])]);
  return g.node("Add", [g.node("Relu", [x!]), log1pOf(g, e, eq.output.dtype)]);
};

/**
 * Floored modulo (the sign of the divisor): ONNX's `Mod` with `fmod = 0` is defined on integers only, so
 * the truncated remainder (`fmod = 1`, C's `fmod`) is moved by one divisor where its sign differs from the
 * divisor's, the rule of difftypes' kernel.
 */
const floorMod: Lowering = (g, eq, [a, b]) => {
  const r = g.node("Mod", [a!, b!], { fmod: 1 });
  const zero = g.scalar(0, eq.output.dtype);
  const signsDiffer = g.node("Xor", [g.node("Less", [r, zero]), g.node("Less", [b!, zero])]);
  const fix = g.node("And", [g.node("Not", [g.node("Equal", [r, zero])]), signsDiffer]);
  return g.node("Where", [fix, g.node("Add", [r, b!]), r]);
};

/**
 * `atan2(y, x)` (no ONNX operator), with IEEE 754's rules as `Math.atan2` has them: the angle of `(|x|, |y|)`
 * in [0, π/2] from `Atan(|y| / |x|)` (0 for two zeros, π/4 for two infinities, where the quotient is NaN),
 * reflected to π − angle when `x`'s sign bit is set (−0 included) and negated when `y`'s is. The sign bit
 * of a zero is read from `1 / v < 0`. NaN in either operand stays NaN.
 */
const atan2: Lowering = (g, eq, [y, x]) => {
  const dt = eq.output.dtype;
  const zero = g.scalar(0, dt);
  const ax = g.node("Abs", [x!]);
  const ay = g.node("Abs", [y!]);
  const base = g.node("Atan", [g.node("Div", [ay, ax])]);
  const bothZero = g.node("And", [g.node("Equal", [ax, zero]), g.node("Equal", [ay, zero])]);
  const bothInf = g.node("And", [g.node("IsInf", [ax]), g.node("IsInf", [ay])]);
  const first = g.node("Where", [bothZero, zero, g.node("Where", [bothInf, g.scalar(Math.PI / 4, dt), base])]);
  const signBit = (v: string): string =>
    g.node("Or", [g.node("Less", [v, zero]), g.node("Less", [g.node("Div", [g.scalar(1, dt), v]), zero])]);
  const reflected = g.node("Where", [signBit(x!), g.node("Sub", [g.scalar(Math.PI, dt), first]), first]);
  return g.node("Where", [signBit(y!), g.node("Neg", [reflected]), reflected]);
};

/** `isFinite`: neither infinite nor NaN (every int32 is finite; IsInf and IsNaN take floats only). */
const isFinite: Lowering = (g, eq, [x]) =>
  fromBool(g, eq.inputs[0]!.dtype === "int32" ? g.node("Equal", [x!, x!]) : g.node("Not", [g.node("Or", [g.node("IsInf", [x!]), g.node("IsNaN", [x!])])]));
const isNaN: Lowering = (g, eq, [x]) =>
  fromBool(g, eq.inputs[0]!.dtype === "int32" ? g.node("Not", [g.node("Equal", [x!, x!])]) : g.node("IsNaN", [x!]));

const cumsum: Lowering = (g, eq, [x]) => {
  const p = eq.params as { axis: number; exclusive: boolean; reverse: boolean };
  return g.node("CumSum", [x!, g.scalar(p.axis, "int64")], { exclusive: p.exclusive ? 1 : 0, reverse: p.reverse ? 1 : 0 });
};

/**
 * `topk` positions along the last axis, and `argsort` as a `TopK` of the whole axis: ONNX's TopK orders
 * equal values by the lower index first (its specification since opset 11), as difftypes' stable sort and
 * `topk` do. The axis length of `argsort` is read from the input's shape, so it may be the batch.
 */
const topk: Lowering = (g, eq, [x]) => {
  const [, idx] = g.nodeOutputs("TopK", [x!, g.ints([eq.params as number])], 2, { axis: -1, largest: 1, sorted: 1 });
  return g.node("Cast", [idx!], { to: OnnxType.INT32 });
};
const argsort: Lowering = (g, eq, [x]) => {
  const { axis, descending } = eq.params as { axis: number; descending: boolean };
  const k = g.node("Shape", [x!], { start: axis, end: axis + 1 });
  const [, idx] = g.nodeOutputs("TopK", [x!, k], 2, { axis, largest: descending ? 1 : 0, sorted: 1 });
  return g.node("Cast", [idx!], { to: OnnxType.INT32 });
};

const determinant: Lowering = (g, eq, [a]) => {
  const d = g.node("Det", [a!]);
  return (eq.params as { logAbs: boolean }).logAbs ? g.node("Log", [g.node("Abs", [d])]) : d;
};

function reduce(opType: string): Lowering {
  return (g, eq, [x]) => {
    const p = eq.params as { axes: readonly number[]; keepDims: boolean };
    const keepdims = p.keepDims ? 1 : 0;
    // ReduceSum takes its axes as an input from opset 13, the other reductions from opset 18.
    if (opType === "ReduceSum" || g.opset >= 18) return g.node(opType, [x!, g.ints(p.axes)], { keepdims });
    return g.node(opType, [x!], { axes: p.axes, keepdims });
  }
}

function argReduce(opType: string): Lowering {
  return (g, eq, [x]) => g.node("Cast", [g.node(opType, [x!], { axis: eq.params as number, keepdims: 0 })], { to: OnnxType.INT32 });
}

/** Swaps the last two axes of a rank-`r` value. */
function swapLast(r: number): number[] {
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return perm;
}

function convAttributes(p: ConvParams): Record<string, readonly number[]> {
  return {
    strides: [p.strideH, p.strideW],
    dilations: [p.dilationH, p.dilationW],
    pads: [p.padTop, p.padLeft, p.padBottom, p.padRight],
  };
}

function poolAttributes(p: PoolParams): Record<string, readonly number[]> {
  return { kernel_shape: [p.fh, p.fw], strides: [p.strideH, p.strideW], pads: [p.padTop, p.padLeft, p.padBottom, p.padRight] };
}

/** A depthwise filter `[fh, fw, C, M]` as a grouped ONNX weight `[C·M, 1, fh, fw]` (output channel c·M + q). */
function depthwiseWeight(g: OnnxBuilder, filter: string, shape: readonly number[]): string {
  const [fh, fw, c, m] = shape as [number, number, number, number];
  return g.node("Transpose", [g.node("Reshape", [filter, g.ints([fh, fw, 1, c * m])])], { perm: HWIO_TO_OIHW });
}

function convolution(depthwise: boolean): Lowering {
  return (g, eq, [x, f]) => {
    const p = eq.params as ConvParams;
    const fs = eq.inputs[1]!.shape;
    const weight = depthwise ? depthwiseWeight(g, f!, fs) : g.node("Transpose", [f!], { perm: HWIO_TO_OIHW });
    const y = g.node("Conv", [g.node("Transpose", [x!], { perm: NCHW }), weight], {
      ...convAttributes(p),
      group: depthwise ? fs[2]! : 1,
    });
    return g.node("Transpose", [y], { perm: NHWC });
  };
}

/** The input gradient of a convolution is the transposed convolution with the same filter. */
function transposedConvolution(depthwise: boolean): Lowering {
  return (g, eq, [dy, f]) => {
    const p = eq.params as ConvParams & { inputShape: readonly number[] };
    const fs = eq.inputs[1]!.shape;
    const dys = eq.inputs[0]!.shape;
    const weight = depthwise ? depthwiseWeight(g, f!, fs) : g.node("Transpose", [f!], { perm: HWIO_TO_OIHW });
    // ONNX's output extent is stride·(in − 1) + extent of the dilated filter − pads + output_padding; the
    // output_padding supplies the rows a strided forward convolution dropped.
    const extent = (n: number, stride: number, k: number, d: number, before: number, after: number): number =>
      stride * (n - 1) + (k - 1) * d + 1 - before - after;
    const outputPadding = [
      p.inputShape[1]! - extent(dys[1]!, p.strideH, fs[0]!, p.dilationH, p.padTop, p.padBottom),
      p.inputShape[2]! - extent(dys[2]!, p.strideW, fs[1]!, p.dilationW, p.padLeft, p.padRight),
    ];
    const y = g.node("ConvTranspose", [g.node("Transpose", [dy!], { perm: NCHW }), weight], {
      ...convAttributes(p),
      group: depthwise ? fs[2]! : 1,
      output_padding: outputPadding,
    });
    g.current!.claimed = true; // only the batch entry of inputShape can vary, and ONNX infers it
    return g.node("Transpose", [y], { perm: NHWC });
  };
}

/**
 * Max pooling's winners as flat NHWC indices (what `maxPool2dArgmax` gives): ONNX's MaxPool reports flat
 * NCHW indices, which are re-based here with the static height, width and channel count.
 */
const maxPoolArgmax: Lowering = (g, eq, [x]) => {
  const [, h, w, c] = eq.inputs[0]!.shape as [number, number, number, number];
  const [, idx] = g.nodeOutputs("MaxPool", [g.node("Transpose", [x!], { perm: NCHW })], 2, poolAttributes(eq.params as PoolParams));
  const i64 = (v: number): string => g.scalar(v, "int64");
  const hw = g.node("Mod", [idx!, i64(h * w)]);
  const nc = g.node("Div", [idx!, i64(h * w)]);
  const channel = g.node("Mod", [nc, i64(c)]);
  const n = g.node("Div", [nc, i64(c)]);
  const flat = g.node("Add", [g.node("Mul", [g.node("Add", [g.node("Mul", [n, i64(h * w)]), hw]), i64(c)]), channel]);
  return g.node("Cast", [g.node("Transpose", [flat], { perm: NHWC })], { to: OnnxType.INT32 });
};

const avgPool: Lowering = (g, eq, [x]) => {
  const y = g.node("AveragePool", [g.node("Transpose", [x!], { perm: NCHW })], {
    ...poolAttributes(eq.params as PoolParams),
    count_include_pad: 0,
  });
  return g.node("Transpose", [y], { perm: NHWC });
};

const NCDHW = [0, 4, 1, 2, 3];
const NDHWC = [0, 2, 3, 4, 1];
const DHWIO_TO_OIDHW = [4, 3, 0, 1, 2];

function conv3dAttributes(p: Conv3DParams): Record<string, readonly number[]> {
  return { strides: p.strides, dilations: p.dilations, pads: [...p.padBefore, ...p.padAfter] };
}

const conv3d: Lowering = (g, eq, [x, f]) => {
  const y = g.node("Conv", [g.node("Transpose", [x!], { perm: NCDHW }), g.node("Transpose", [f!], { perm: DHWIO_TO_OIDHW })], conv3dAttributes(eq.params as Conv3DParams));
  return g.node("Transpose", [y], { perm: NDHWC });
};

/** The input gradient of `conv3d` as `ConvTranspose`, with the rows a strided convolution dropped as output padding. */
const conv3dTranspose: Lowering = (g, eq, [dy, f]) => {
  const p = eq.params as Conv3DBackpropParams;
  const fs = eq.inputs[1]!.shape;
  const dys = eq.inputs[0]!.shape;
  const outputPadding = [0, 1, 2].map(
    (i) => p.shape[i + 1]! - (p.strides[i]! * (dys[i + 1]! - 1) + (fs[i]! - 1) * p.dilations[i]! + 1 - p.padBefore[i]! - p.padAfter[i]!),
  );
  const y = g.node("ConvTranspose", [g.node("Transpose", [dy!], { perm: NCDHW }), g.node("Transpose", [f!], { perm: DHWIO_TO_OIDHW })], {
    ...conv3dAttributes(p),
    output_padding: outputPadding,
  });
  g.current!.claimed = true; // only the batch entry of the shape can vary, and ONNX infers it
  return g.node("Transpose", [y], { perm: NDHWC });
};

function pool3dAttributes(p: Pool3DParams): Record<string, readonly number[]> {
  return { kernel_shape: p.window, strides: p.strides, pads: [...p.padBefore, ...p.padAfter] };
}

/** General max pooling's winners as flat NDHWC indices, from MaxPool's flat NCDHW ones. */
const maxPool3dArgmax: Lowering = (g, eq, [x]) => {
  const p = eq.params as Pool3DParams;
  const [, d, h, w, c] = eq.inputs[0]!.shape as [number, number, number, number, number];
  const [, idx] = g.nodeOutputs("MaxPool", [g.node("Transpose", [x!], { perm: NCDHW })], 2, { ...pool3dAttributes(p), dilations: p.dilations });
  const i64 = (v: number): string => g.scalar(v, "int64");
  const cells = d * h * w;
  const spatial = g.node("Mod", [idx!, i64(cells)]);
  const nc = g.node("Div", [idx!, i64(cells)]);
  const channel = g.node("Mod", [nc, i64(c)]);
  const n = g.node("Div", [nc, i64(c)]);
  const flat = g.node("Add", [g.node("Mul", [g.node("Add", [g.node("Mul", [n, i64(cells)]), spatial]), i64(c)]), channel]);
  return g.node("Cast", [g.node("Transpose", [flat], { perm: NDHWC })], { to: OnnxType.INT32 });
};

/** A constant of `shape` filled with ones of `dtype`. */
function ones(g: OnnxBuilder, shape: readonly number[], dtype: GraphEquation["output"]["dtype"]): string {
  const bytes = new Uint8Array(dtype === "float64" ? 8 : 4);
  const view = new DataView(bytes.buffer);
  if (dtype === "float64") view.setFloat64(0, 1, true);
  else if (dtype === "int32") view.setInt32(0, 1, true);
  else view.setFloat32(0, 1, true);
  return g.node("ConstantOfShape", [g.ints(shape)], { value: { tensor: { name: "", dims: [1], dataType: onnxType(dtype), rawData: bytes } } });
}

/**
 * General average pooling (padding not counted). Without dilations it is `AveragePool`; opsets 17 and 18
 * have no dilated `AveragePool` (it came in opset 19), so a dilated window is the window sums (a grouped
 * `Conv` with a filter of ones) divided by the count of input cells each window holds (the same `Conv` of
 * a volume of ones).
 */
const avgPool3d: Lowering = (g, eq, [x]) => {
  const p = eq.params as Pool3DParams;
  const xs = eq.inputs[0]!.shape;
  const v = g.node("Transpose", [x!], { perm: NCDHW });
  if (p.dilations.every((d) => d === 1)) {
    return g.node("Transpose", [g.node("AveragePool", [v], { ...pool3dAttributes(p), count_include_pad: 0 })], { perm: NDHWC });
  }
  const dt = eq.output.dtype;
  const c = xs[4]!;
  const attrs = { strides: p.strides, dilations: p.dilations, pads: [...p.padBefore, ...p.padAfter] };
  const sums = g.node("Conv", [v, ones(g, [c, 1, ...p.window], dt)], { ...attrs, group: c });
  const counts = g.node("Conv", [ones(g, [1, 1, xs[1]!, xs[2]!, xs[3]!], dt), ones(g, [1, 1, ...p.window], dt)], attrs);
  return g.node("Transpose", [g.node("Div", [sums, counts])], { perm: NDHWC });
};

/**
 * `scatterAdd` along `axis`: the indexed axis is moved to the front so that ONNX's ScatterND (with
 * `reduction = add`, so repeated indices accumulate) can index it, then moved back.
 */
const scatterAdd: Lowering = (g, eq, [updates, indices]) => {
  const { axis } = eq.params as { axis: number; shape: readonly number[] };
  const k = eq.inputs[1]!.shape.length;
  const ur = eq.inputs[0]!.shape.length;
  const r = ur - k + 1;
  const toFront = [...Array.from({ length: k }, (_, i) => axis + i), ...Array.from({ length: axis }, (_, i) => i), ...Array.from({ length: ur - axis - k }, (_, i) => axis + k + i)];
  const u = g.node("Transpose", [updates!], { perm: toFront });
  const shape = g.shapeFrom((p: { shape: readonly number[] }) => [p.shape[axis]!, ...p.shape.slice(0, axis), ...p.shape.slice(axis + 1)]);
  const zero = { tensor: { name: "", dims: [1], dataType: onnxType(eq.output.dtype), rawData: new Uint8Array(eq.output.dtype === "float64" ? 8 : 4) } };
  const data = g.node("ConstantOfShape", [shape], { value: zero });
  const idx = g.node("Unsqueeze", [g.node("Cast", [indices!], { to: OnnxType.INT64 }), g.ints([-1])]);
  const s = g.node("ScatterND", [data, idx, u], { reduction: "add" });
  const back = Array.from({ length: r }, (_, i) => (i < axis ? i + 1 : i === axis ? 0 : i));
  return g.node("Transpose", [s], { perm: back });
};

/** Index tuples or segment ids as ONNX reads them: int64 (a float tensor holding integers converts exactly). */
const int64 = (g: OnnxBuilder, indices: string): string => g.node("Cast", [indices], { to: OnnxType.INT64 });

/** A zero tensor of the equation's `shape` param (which may follow a dynamic batch). */
function zerosOfShapeParam(g: OnnxBuilder, eq: GraphEquation): string {
  const shape = g.shapeFrom((p: { shape: readonly number[] }) => p.shape);
  const zero = { tensor: { name: "", dims: [1], dataType: onnxType(eq.output.dtype), rawData: new Uint8Array(eq.output.dtype === "float64" ? 8 : 4) } };
  return g.node("ConstantOfShape", [shape], { value: zero });
}

/**
 * `gatherNd`: `GatherND`, the index tuples an input of the graph. Tuples of length 0 (which `GatherND`
 * does not take) pick the whole of `x` once per tuple: `x` expanded to `[...indices.shape[:-1], ...x.shape]`.
 */
const gatherNd: Lowering = (g, eq, [x, indices]) => {
  const is = eq.inputs[1]!.shape;
  if (is[is.length - 1]! > 0) return g.node("GatherND", [x!, int64(g, indices!)]);
  const shape = g.node("Concat", [g.node("Shape", [indices!], { end: -1 }), g.node("Shape", [x!])], { axis: 0 });
  return g.node("Expand", [x!, shape]);
};

/**
 * `scatter`: `ScatterND` with `reduction = add` (repeated tuples accumulate) into zeros. Tuples of length 0
 * each address the whole output, which is then the sum of the updates over the tuples' axes.
 */
const scatterNd: Lowering = (g, eq, [updates, indices]) => {
  const is = eq.inputs[1]!.shape;
  if (is[is.length - 1]! > 0) return g.node("ScatterND", [zerosOfShapeParam(g, eq), int64(g, indices!), updates!], { reduction: "add" });
  g.current!.claimed = true; // the output's shape is the updates' trailing shape
  const lead = is.length - 1;
  if (lead === 0) return g.node("Identity", [updates!]);
  return g.node("ReduceSum", [updates!, g.ints(Array.from({ length: lead }, (_, i) => i))], { keepdims: 0 });
};

/** `segmentSum`: `ScatterND` with `reduction = add` into zeros, each id a tuple of length 1. */
const segmentSum: Lowering = (g, eq, [data, ids]) =>
  g.node("ScatterND", [zerosOfShapeParam(g, eq), g.node("Unsqueeze", [int64(g, ids!), g.ints([-1])]), data!], { reduction: "add" });

/** @internal Primitive name → ONNX lowering. Primitives absent here cannot be exported (a clear error). */
export const onnxOperators: ReadonlyMap<string, Lowering> = new Map<string, Lowering>([
  // elementwise, one operand
  ["neg", unary("Neg")],
  ["exp", unary("Exp")],
  ["log", unary("Log")],
  ["log1p", (g, eq, [x]) => g.node("Log", [g.node("Add", [x!, g.scalar(1, eq.output.dtype)])])],
  ["expm1", (g, eq, [x]) => g.node("Sub", [g.node("Exp", [x!]), g.scalar(1, eq.output.dtype)])],
  ["sqrt", unary("Sqrt")],
  ["abs", unary("Abs")],
  ["sign", unary("Sign")],
  ["sin", unary("Sin")],
  ["cos", unary("Cos")],
  ["tan", unary("Tan")],
  ["tanh", unary("Tanh")],
  ["sigmoid", unary("Sigmoid")],
  ["relu", unary("Relu")],
  ["step", (g, eq, [x]) => g.node("Cast", [g.node("Greater", [x!, g.scalar(0, eq.inputs[0]!.dtype)])], { to: onnxType(eq.output.dtype) })],
  ["cast", (g, eq, [x]) => g.node("Cast", [x!], { to: onnxType(eq.output.dtype) })],
  ["softplus", softplus],
  ["erf", unary("Erf")],
  ["floor", unary("Floor")],
  ["ceil", unary("Ceil")],
  ["round", unary("Round")],
  ["isFinite", isFinite],
  ["isNaN", isNaN],
  ["logicalNot", (g, _eq, [x]) => fromBool(g, g.node("Not", [toBool(g, x!)]))],
  // elementwise, two operands (ONNX broadcasts as NumPy does)
  ["add", binary("Add")],
  ["sub", binary("Sub")],
  ["mul", binary("Mul")],
  ["div", binary("Div")],
  ["pow", binary("Pow")],
  ["maximum", binary("Max")],
  ["minimum", binary("Min")],
  ["equal", comparison("Equal")],
  ["notEqual", comparison("Equal", true)],
  ["less", comparison("Less")],
  ["lessEqual", comparison("LessOrEqual")],
  ["greater", comparison("Greater")],
  ["greaterEqual", comparison("GreaterOrEqual")],
  ["mod", floorMod],
  ["atan2", atan2],
  ["logicalAnd", logical("And")],
  ["logicalOr", logical("Or")],
  ["where", (g, _eq, [c, a, b]) => g.node("Where", [g.node("Cast", [c!], { to: OnnxType.BOOL }), a!, b!])],
  // reductions
  ["sum", reduce("ReduceSum")],
  ["max", reduce("ReduceMax")],
  ["min", reduce("ReduceMin")],
  ["prod", reduce("ReduceProd")],
  ["argmax", argReduce("ArgMax")],
  ["argmin", argReduce("ArgMin")],
  // scans and sorting
  ["cumsum", cumsum],
  ["topk", topk],
  ["argsort", argsort],
  // linear algebra
  [
    "matmul",
    (g, eq, [a, b]) => {
      const p = eq.params as { transposeA: boolean; transposeB: boolean };
      const ta = p.transposeA ? g.node("Transpose", [a!], { perm: swapLast(eq.inputs[0]!.shape.length) }) : a!;
      const tb = p.transposeB ? g.node("Transpose", [b!], { perm: swapLast(eq.inputs[1]!.shape.length) }) : b!;
      return g.node("MatMul", [ta, tb]);
    },
  ],
  ["determinant", determinant],
  // movement
  ["reshape", (g, _eq, [x]) => g.node("Reshape", [x!, g.shapeFrom((p: { shape: readonly number[] }) => p.shape)])],
  ["transpose", (g, eq, [x]) => g.node("Transpose", [x!], { perm: (eq.params as { perm: readonly number[] }).perm })],
  ["broadcastTo", (g, _eq, [x]) => g.node("Expand", [x!, g.shapeFrom((p: { shape: readonly number[] }) => p.shape)])],
  [
    "slice",
    (g, eq, [x]) => {
      type P = { begin: readonly number[]; size: readonly number[] };
      const starts = g.shapeFrom((p: P) => p.begin);
      const ends = g.shapeFrom((p: P) => p.begin.map((b, i) => b + p.size[i]!));
      return g.node("Slice", [x!, starts, ends, g.ints(eq.output.shape.map((_, i) => i))]);
    },
  ],
  [
    "pad",
    (g, eq, [x]) => {
      const { paddings, value } = eq.params as { paddings: readonly (readonly [number, number])[]; value: number };
      const pads = g.ints([...paddings.map((p) => p[0]), ...paddings.map((p) => p[1])]);
      return g.node("Pad", [x!, pads, g.scalar(value, eq.output.dtype)], { mode: "constant" });
    },
  ],
  ["concat", (g, eq, ins) => g.node("Concat", ins, { axis: (eq.params as { axis: number }).axis })],
  ["gather", (g, eq, [x, i]) => g.node("Gather", [x!, i!], { axis: (eq.params as { axis: number }).axis })],
  ["scatterAdd", scatterAdd],
  // indexing by tuples and by segment (the indices are graph values, never the example's constants)
  ["gatherNd", gatherNd],
  ["scatter", scatterNd],
  ["segmentSum", segmentSum],
  // a staged program's index check: ONNX has no assertion, so the indices pass through as int32 and the
  // runtime's Gather rejects one out of range
  [
    "checkIndices",
    (g, _eq, [i]) => {
      g.current!.claimed = true; // the valid range is not written
      return g.node("Cast", [i!], { to: OnnxType.INT32 });
    },
  ],
  // convolution and pooling (NHWC)
  ["conv2d", convolution(false)],
  ["depthwiseConv2d", convolution(true)],
  ["conv2dBackpropInput", transposedConvolution(false)],
  ["depthwiseConv2dBackpropInput", transposedConvolution(true)],
  ["maxPool2dArgmax", maxPoolArgmax],
  ["avgPool2d", avgPool],
  // 3-D convolution and general pooling (NDHWC; 1-D and 2-D dilated pooling run as volumes)
  ["conv3d", conv3d],
  ["conv3dBackpropInput", conv3dTranspose],
  ["maxPool3dArgmax", maxPool3dArgmax],
  ["avgPool3d", avgPool3d],
]);

/**
 * @internal Primitives with no ONNX mapping, and why (a forward pass does not use them: they are the
 * derivatives of convolution and pooling).
 */
export const unmappedPrimitives: ReadonlyMap<string, string> = new Map([
  ["conv2dBackpropFilter", "the filter gradient of conv2d, used only by derivatives"],
  ["depthwiseConv2dBackpropFilter", "the filter gradient of depthwiseConv2d, used only by derivatives"],
  ["avgPool2dBackprop", "the transpose of average pooling, used only by derivatives"],
  ["conv3dBackpropFilter", "the filter gradient of conv3d, used only by derivatives"],
  ["avgPool3dBackprop", "the transpose of general average pooling, used only by derivatives"],
  ["cholesky", "ONNX has no Cholesky factorization operator"],
  ["triangularSolve", "ONNX has no triangular or linear solve operator"],
  ["solve", "ONNX has no linear solve (LU) operator"],
  ["qr", "ONNX has no QR factorization operator"],
]);

/**
 * @internal Patterns written as one ONNX operator instead of their primitives. `maxPool2d` is recorded as
 * its winners' indices (`maxPool2dArgmax`) and a `gather` from the flattened input; when nothing else reads
 * the indices or the flattened copy, the three (four with the staged index check between them) are one
 * MaxPool, as every ONNX tool expects to see it. The
 * general max pooling (`maxPool3dArgmax`: 1-D, dilated 2-D, 3-D) is fused the same way.
 * Returns the equations to skip and the lowering that replaces an equation.
 */
export function fusions(equations: readonly GraphEquation[], outputs: readonly number[]): {
  skip: ReadonlySet<number>;
  replace: ReadonlyMap<number, Lowering>;
} {
  const producer = new Map<number, number>();
  const uses = new Map<number, number>();
  equations.forEach((eq, i) => {
    producer.set(eq.output.id, i);
    for (const v of eq.inputs) uses.set(v.id, (uses.get(v.id) ?? 0) + 1);
  });
  for (const id of outputs) uses.set(id, (uses.get(id) ?? 0) + 1);
  const skip = new Set<number>();
  const replace = new Map<number, Lowering>();
  equations.forEach((eq, i) => {
    if (eq.primitive !== "gather" || (eq.params as { axis: number }).axis !== 0) return;
    const [data, gathered] = eq.inputs as [GraphEquation["output"], GraphEquation["output"]];
    // A staged gather checks its indices first (`checkIndices`); the winners of a pooling are in range.
    let indices = gathered;
    let check = producer.get(gathered.id);
    if (check !== undefined && equations[check]!.primitive === "checkIndices" && uses.get(gathered.id) === 1) indices = equations[check]!.inputs[0]!;
    else check = undefined;
    const a = producer.get(indices.id);
    const r = producer.get(data.id);
    if (a === undefined || r === undefined) return;
    const argmax = equations[a]!;
    const flatten = equations[r]!;
    if ((argmax.primitive !== "maxPool2dArgmax" && argmax.primitive !== "maxPool3dArgmax") || flatten.primitive !== "reshape") return;
    if (flatten.inputs[0]!.id !== argmax.inputs[0]!.id || flatten.output.shape.length !== 1) return;
    if (uses.get(indices.id) !== 1 || uses.get(data.id) !== 1) return;
    skip.add(a);
    skip.add(r);
    if (check !== undefined) skip.add(check);
    replace.set(i, (g, _eq) => {
      const source = g.nameOfVar(argmax.inputs[0]!);
      g.current!.claimed = true; // the input's shape, not these params, carries the batch
      if (argmax.primitive === "maxPool3dArgmax") {
        const p = argmax.params as Pool3DParams;
        const y = g.node("MaxPool", [g.node("Transpose", [source], { perm: NCDHW })], { ...pool3dAttributes(p), dilations: p.dilations });
        return g.node("Transpose", [y], { perm: NDHWC });
      }
      const y = g.node("MaxPool", [g.node("Transpose", [source], { perm: NCHW })], poolAttributes(argmax.params as PoolParams));
      return g.node("Transpose", [y], { perm: NHWC });
    });
  });
  return { skip, replace };
}
