/**
 * Every primitive on its own: a small function that applies it is exported, run in ONNX Runtime and
 * compared with difftypes. One row per primitive of the exporter's table (a test checks that none is
 * missing, and that each row's program really applies its primitive); rows marked `batched` are also
 * exported with a dynamic batch and run at another batch size.
 */
import { describe, expect, test } from "vitest";
import {
  Tensor,
  avgPool2d,
  concat,
  conv2d,
  conv2dTranspose,
  depthwiseConv2d,
  depthwiseConv2dBackpropInput,
  exportOnnx,
  gather,
  gatherNd,
  scatter,
  segmentSum,
  maxPool2d,
  randomNormal,
  randomUniform,
  tensor,
  where,
  erf,
  floor,
  ceil,
  round,
  isFinite,
  isNaN,
  logicalAnd,
  logicalOr,
  logicalNot,
  softplus,
  mod,
  atan2,
  cumsum,
  topk,
  argsort,
  det,
  logDet,
  conv3d,
  conv3dBackpropInput,
  maxPool1d,
  maxPool3d,
  avgPool1d,
  avgPool3d,
} from "../../src/index.js";
import { step } from "../../src/ops/unary.js";
import { matmulT } from "../../src/ops/linalg.js";
import { checkedIndicesP, scatterAdd } from "../../src/ops/movement.js";
import { maxPool2dArgmaxP, maxPool3dArgmaxP } from "../../src/ops/conv.js";
import { bind } from "../../src/autodiff/trace.js";
import { onnxOperators, unmappedPrimitives } from "../../src/onnx/operators.js";
import { recordProgram } from "../../src/onnx/record.js";
import { expectMatches, runOnnx } from "./ort.js";

const weights = randomNormal([3, 3, 2, 3], { seed: 1000 });

interface Row {
  primitive: string;
  f: (...xs: Tensor[]) => Tensor;
  /** The arguments at a batch size (axis 0 of every argument when `batched`). */
  args: (batch: number) => Tensor[];
  batched?: boolean;
  tolerance?: number;
}

let seed = 1;
const normal = (shape: number[]) => randomNormal(shape, { seed: seed++ });
const positive = (shape: number[]) => randomUniform(shape, { seed: seed++, min: 0.2, max: 3 });
const ints = (shape: number[], max: number) => randomUniform(shape, { seed: seed++, min: 0, max, dtype: "int32" });
/** Index tuples `[...lead, dims.length]`, each component drawn in `[0, dims[d])`. */
const tuples = (lead: number[], dims: number[]) => concat(dims.map((n) => ints([...lead, 1], n)), lead.length);
/** A float tensor with exact ties and zeros, so comparisons and signs meet every case. */
const steps = (shape: number[]) => ints(shape, 5).cast("float32").sub(2);
/** Halves from −3.5 to 3.5 (the ties of rounding) and values between them. */
const halves = (shape: number[]) => ints(shape, 15).cast("float32").sub(7).mul(0.5).add(randomUniform(shape, { seed: seed++, min: 0, max: 1 }).greater(0.5).cast("float32").mul(0.2));
/** Draws from `values` (special values: signed zeros, infinities, NaN). */
const pick = (values: readonly number[]) => (shape: number[]) => tensor(values, { dtype: "float32" }).gather(ints(shape, values.length));
const SPECIAL = [0, -0, 1, -1, 2.5, -2.5, Infinity, -Infinity, NaN, 1e30, -1e-30];
const specials = pick(SPECIAL);
/** Invertible, well-conditioned matrices: the identity plus a small random part. */
const wellConditioned = (shape: number[]) => normal(shape).mul(0.3).add(tensor([1, 0, 0, 0, 1, 0, 0, 0, 1], { shape: [3, 3] }));

const unary = (primitive: string, f: (x: Tensor) => Tensor, make = normal): Row => ({
  primitive,
  f,
  args: (b) => [make([b, 3, 4])],
  batched: true,
});
const binary = (primitive: string, f: (a: Tensor, b: Tensor) => Tensor, make = normal): Row => ({
  primitive,
  f,
  args: (b) => [make([b, 3, 4]), make([4])],
  batched: false,
});

const rows: Row[] = [
  unary("neg", (x) => x.neg()),
  unary("exp", (x) => x.exp()),
  unary("log", (x) => x.log(), positive),
  unary("log1p", (x) => x.log1p(), positive),
  unary("expm1", (x) => x.expm1()),
  unary("sqrt", (x) => x.sqrt(), positive),
  unary("abs", (x) => x.abs()),
  unary("sign", (x) => x.sign(), steps),
  unary("sin", (x) => x.sin()),
  unary("cos", (x) => x.cos()),
  unary("tan", (x) => x.mul(0.5).tan()),
  unary("tanh", (x) => x.tanh()),
  unary("sigmoid", (x) => x.sigmoid()),
  unary("relu", (x) => x.relu()),
  unary("step", (x) => step(x), steps),
  { primitive: "cast", f: (x) => x.mul(3).cast("int32"), args: (b) => [normal([b, 5])], batched: true },
  unary("softplus", (x) => softplus(x.mul(40))),
  unary("erf", (x) => erf(x)),
  unary("floor", (x) => floor(x), halves),
  unary("ceil", (x) => ceil(x), halves),
  // ties go to the even neighbour in both (−2.5 → −2, −1.5 → −2, 0.5 → 0, 2.5 → 2)
  unary("round", (x) => round(x), halves),
  unary("isFinite", (x) => isFinite(x), specials),
  unary("isNaN", (x) => isNaN(x), specials),
  { primitive: "isFinite", f: (x) => isFinite(x).add(isNaN(x)), args: () => [ints([2, 3], 9)] },
  unary("logicalNot", (x) => logicalNot(x), steps),
  binary("add", (a, b) => a.add(b)),
  binary("sub", (a, b) => a.sub(b)),
  binary("mul", (a, b) => a.mul(b)),
  binary("div", (a, b) => a.div(b), positive),
  binary("pow", (a, b) => a.pow(b), positive),
  binary("maximum", (a, b) => a.maximum(b), steps),
  binary("minimum", (a, b) => a.minimum(b), steps),
  binary("equal", (a, b) => a.equal(b), steps),
  binary("notEqual", (a, b) => a.notEqual(b), steps),
  binary("less", (a, b) => a.less(b), steps),
  binary("lessEqual", (a, b) => a.lessEqual(b), steps),
  binary("greater", (a, b) => a.greater(b), steps),
  binary("greaterEqual", (a, b) => a.greaterEqual(b), steps),
  // every sign of dividend and divisor, exact multiples (remainder 0) and fractional parts
  binary("mod", (a, b) => mod(a, b), halves),
  { primitive: "mod", f: (a, b) => mod(a, b.add(0.5)), args: (b) => [normal([b, 3, 4]).mul(5), steps([b, 3, 4])], batched: true },
  { primitive: "mod", f: (a, b) => mod(a, b), args: () => [ints([3, 4], 19).sub(9), tensor([3, -3, 4, -7], { dtype: "int32" })] },
  // all four quadrants, the axes, both signed zeros in each operand, infinities and NaN
  { primitive: "atan2", f: (y, x) => atan2(y, x), args: (b) => [specials([b, 11]), specials([b, 11])], batched: true },
  {
    primitive: "atan2",
    f: (y, x) => atan2(y, x),
    args: () => [tensor(SPECIAL, { dtype: "float32" }).reshape([11, 1]), tensor(SPECIAL, { dtype: "float32" }).reshape([1, 11])],
  },
  binary("atan2", (y, x) => atan2(y, x)),
  binary("logicalAnd", (a, b) => logicalAnd(a, b), steps),
  binary("logicalOr", (a, b) => logicalOr(a, b), steps),
  { primitive: "where", f: (x, y) => where(x.greater(y), x, y.mul(2)), args: (b) => [steps([b, 4]), steps([b, 4])], batched: true },
  { primitive: "sum", f: (x) => x.sum([1, 2], true).add(x.sum()), args: (b) => [normal([b, 3, 4])], batched: true },
  { primitive: "max", f: (x) => x.max(1), args: (b) => [normal([b, 3, 4])], batched: true },
  { primitive: "min", f: (x) => x.min([0, 2]), args: (b) => [normal([b, 3, 4])] },
  { primitive: "prod", f: (x) => x.prod(-1, true), args: (b) => [normal([b, 3, 4])], batched: true },
  { primitive: "argmax", f: (x) => x.argmax(1), args: (b) => [normal([b, 6, 2])], batched: true },
  { primitive: "argmin", f: (x) => x.argmin(-1), args: (b) => [normal([b, 6])], batched: true },
  { primitive: "cumsum", f: (x) => cumsum(x, 1), args: (b) => [normal([b, 5, 2])], batched: true },
  { primitive: "cumsum", f: (x) => cumsum(x, 0, { exclusive: true, reverse: true }), args: (b) => [normal([b, 3])], batched: true },
  { primitive: "cumsum", f: (x) => cumsum(x, -1, { exclusive: true }), args: () => [ints([2, 5], 9)] },
  // ties (from `steps`): the lower position first, as in difftypes. `topk` gathers its values at row offsets
  // (a count over the rows, so over the batch), which the file makes at run time with `Range`.
  { primitive: "topk", f: (x) => topk(x, 3).indices, args: (b) => [steps([b, 6])], batched: true },
  { primitive: "topk", f: (x) => topk(x, 2).values, args: (b) => [normal([b, 2, 5])], batched: true },
  { primitive: "argsort", f: (x) => argsort(x, 1), args: (b) => [steps([b, 7])], batched: true },
  { primitive: "argsort", f: (x) => argsort(x, 0, { descending: true }), args: (b) => [steps([b, 3])], batched: true },
  { primitive: "determinant", f: (a) => det(a), args: (b) => [wellConditioned([b, 3, 3])], batched: true },
  { primitive: "determinant", f: (a) => logDet(a), args: (b) => [normal([b, 2, 3, 3])], batched: true },
  { primitive: "matmul", f: (a, b) => a.matmul(b), args: (b) => [normal([b, 2, 3, 4]), normal([b, 2, 4, 5])], batched: true },
  {
    primitive: "matmul",
    f: (a, b) => matmulT(a, b, true, true),
    args: () => [normal([3, 4, 2]), normal([3, 5, 4])],
  },
  { primitive: "reshape", f: (x) => x.reshape([-1, 6]), args: (b) => [normal([b, 3, 4])], batched: true },
  { primitive: "transpose", f: (x) => x.transpose([2, 0, 1]), args: (b) => [normal([b, 3, 4])], batched: true },
  { primitive: "broadcastTo", f: (x) => x.broadcastTo([2, 3, 4]), args: () => [normal([3, 1])] },
  { primitive: "broadcastTo", f: (x, y) => x.add(y.broadcastTo([y.shape[0]!, 3, 4])), args: (b) => [normal([b, 3, 4]), normal([b, 1, 4])], batched: true },
  { primitive: "slice", f: (x) => x.slice([0, 1, -2], [-1, 2, 2]), args: (b) => [normal([b, 3, 4])], batched: true },
  { primitive: "pad", f: (x) => x.pad([[0, 0], [1, 2], [0, 1]], 0.5), args: (b) => [normal([b, 3, 4])], batched: true },
  { primitive: "concat", f: (x, y) => concat([...x.split([1, 2], 1).reverse(), y], 1), args: (b) => [normal([b, 3]), normal([b, 2])], batched: true },
  { primitive: "gather", f: (x, i) => x.gather(i, 1), args: (b) => [normal([b, 7, 2]), ints([3, 2], 7)] },
  { primitive: "gather", f: (t, i) => gather(t, i), args: (b) => [normal([9, 3]), ints([b, 4], 9)], batched: false },
  {
    // a staged program's index check, applied directly (a concrete program checks indices when it runs)
    primitive: "checkIndices",
    f: (t, i) => t.gather(bind(checkedIndicesP, [i], { op: "gather", n: 9, axisDesc: "axis 0" })),
    args: () => [normal([9, 2]), ints([4], 9)],
  },
  { primitive: "scatterAdd", f: (u, i) => scatterAdd(u, i, 1, [2, 6, 3]), args: () => [normal([2, 4, 3]), tensor([0, 5, 0, 2], { dtype: "int32" })] },
  { primitive: "checkIndices", f: (t, i) => gather(t, i), args: () => [normal([9, 2]), ints([2, 3], 9).cast("float32")] },
  // indexing by tuples and by segment, the indices a graph input (another draw at run time than at export)
  { primitive: "gatherNd", f: (x, i) => gatherNd(x, i), args: () => [normal([4, 3, 2]), tuples([5], [4, 3])] },
  { primitive: "gatherNd", f: (x, i) => gatherNd(x, i), args: () => [normal([4, 3]), tuples([2, 2], [4, 3]).cast("float32")] },
  { primitive: "gatherNd", f: (x, i) => gatherNd(x, i), args: (b) => [normal([b, 5, 2]), tuples([b], [b, 5])], batched: true },
  { primitive: "gatherNd", f: (x, i) => gatherNd(x, i), args: () => [normal([2, 3]), tensor([], { shape: [3, 0], dtype: "int32" })] },
  { primitive: "scatter", f: (u, i) => scatter(i, u, [4, 3, 2]), args: () => [normal([6, 2]), tuples([6], [4, 3])] },
  { primitive: "scatter", f: (u, i) => scatter(i, u, [3, 4]), args: () => [ints([2, 3], 9), tuples([2, 3], [3, 4]).cast("float64")] },
  { primitive: "scatter", f: (u, i) => scatter(i, u, [u.shape[0]!, 4]), args: (b) => [normal([b, 4]), tuples([b], [b])], batched: true },
  { primitive: "scatter", f: (u, i) => scatter(i, u, [2, 3]), args: () => [normal([4, 2, 3]), tensor([], { shape: [4, 0], dtype: "int32" })] },
  { primitive: "scatter", f: (u, i) => scatter(i, u, [2, 3]), args: () => [normal([2, 3]), tensor([], { shape: [0], dtype: "int32" })] },
  { primitive: "segmentSum", f: (d, ids) => segmentSum(d, ids, 5), args: (b) => [normal([b, 3]), ints([b], 5)], batched: true },
  { primitive: "segmentSum", f: (d, ids) => segmentSum(d, ids, 4), args: () => [normal([2, 3, 2]), ints([2, 3], 4).cast("float32")] },
  { primitive: "segmentSum", f: (d, ids) => segmentSum(d, ids, 3), args: () => [ints([6], 9), ints([6], 3)] },
  {
    primitive: "conv2d",
    f: (x, w) => conv2d(x, w, { strides: [2, 1], padding: "same", dilations: [1, 2] }),
    args: (b) => [normal([b, 7, 8, 3]), normal([3, 2, 3, 4])],
  },
  { primitive: "conv2d", f: (x, w) => conv2d(x, w, { padding: [[1, 0], [2, 1]] }), args: (b) => [normal([b, 5, 5, 2]), normal([2, 3, 2, 3])] },
  { primitive: "depthwiseConv2d", f: (x, w) => depthwiseConv2d(x, w, { strides: 2, padding: "same" }), args: (b) => [normal([b, 6, 6, 3]), normal([3, 3, 3, 2])] },
  {
    primitive: "conv2dBackpropInput",
    f: (x, w) => conv2dTranspose(x, w, [x.shape[0]!, 8, 7, 2], { strides: 2, padding: "same" }),
    args: (b) => [normal([b, 4, 4, 3]), normal([3, 3, 2, 3])],
  },
  {
    primitive: "conv2dBackpropInput",
    f: (x) => conv2dTranspose(x, weights, [x.shape[0]!, 8, 7, 2], { strides: 2, padding: "same" }),
    args: (b) => [normal([b, 4, 4, 3])],
    batched: true,
  },
  {
    primitive: "depthwiseConv2dBackpropInput",
    f: (dy, w) => depthwiseConv2dBackpropInput(dy, w, [dy.shape[0]!, 5, 5, 2], { strides: 2, padding: "same" }),
    args: (b) => [normal([b, 3, 3, 4]), normal([3, 3, 2, 2])],
  },
  { primitive: "maxPool2dArgmax", f: (x) => maxPool2d(x, { size: 3, strides: 2, padding: "same" }), args: (b) => [steps([b, 7, 6, 3])], batched: true },
  {
    // The winners' flat NHWC indices on their own (not fused into a MaxPool).
    primitive: "maxPool2dArgmax",
    f: (x) => bind(maxPool2dArgmaxP, [x], { fh: 2, fw: 3, strideH: 2, strideW: 1, padTop: 0, padBottom: 1, padLeft: 1, padRight: 1 }),
    args: (b) => [normal([b, 5, 4, 3])],
    batched: true,
  },
  { primitive: "avgPool2d", f: (x) => avgPool2d(x, { size: [2, 3], strides: 1, padding: "same" }), args: (b) => [normal([b, 5, 4, 2])], batched: true },
  {
    primitive: "conv3d",
    f: (x, w) => conv3d(x, w, { strides: [1, 2, 1], padding: "same", dilations: [2, 1, 1] }),
    args: (b) => [normal([b, 5, 6, 4, 2]), normal([2, 3, 2, 2, 3])],
  },
  {
    primitive: "conv3dBackpropInput",
    f: (dy, w) => conv3dBackpropInput(dy, w, [dy.shape[0]!, 5, 6, 4, 2], { strides: 2, padding: "same" }),
    args: (b) => [normal([b, 3, 3, 2, 3]), normal([2, 3, 2, 2, 3])],
  },
  { primitive: "maxPool3dArgmax", f: (x) => maxPool3d(x, { size: [2, 3, 2], strides: 1, padding: "same", dilations: [1, 2, 1] }), args: (b) => [steps([b, 4, 5, 3, 2])], batched: true },
  { primitive: "maxPool3dArgmax", f: (x) => maxPool1d(x, { size: 3, stride: 2, padding: "same", dilation: 2 }), args: (b) => [normal([b, 9, 3])], batched: true },
  {
    // the winners' flat NDHWC indices on their own (not fused into a MaxPool)
    primitive: "maxPool3dArgmax",
    f: (x) => bind(maxPool3dArgmaxP, [x], { window: [2, 2, 3], strides: [1, 2, 1], dilations: [1, 1, 2], padBefore: [0, 1, 1], padAfter: [1, 0, 1] }),
    args: (b) => [normal([b, 3, 4, 5, 2])],
    batched: true,
  },
  { primitive: "avgPool3d", f: (x) => avgPool3d(x, { size: [2, 2, 3], strides: [1, 2, 1], padding: "same" }), args: (b) => [normal([b, 3, 4, 5, 2])], batched: true },
  { primitive: "avgPool3d", f: (x) => avgPool3d(x, { size: 2, padding: "same", dilations: [2, 1, 2] }), args: (b) => [normal([b, 4, 3, 5, 2])], batched: true },
  { primitive: "avgPool3d", f: (x) => avgPool1d(x, { size: 3, stride: 1, padding: "same", dilation: 3 }), args: (b) => [normal([b, 8, 2])], batched: true },
];

const names = (n: number) => Array.from({ length: n }, (_, i) => `x${i}`);
const feeds = (xs: Tensor[]) => Object.fromEntries(xs.map((x, i) => [`x${i}`, x]));

test("the guide's table lists every mapped and every unmapped primitive", async () => {
  const { readFile } = await import("node:fs/promises");
  const guide = await readFile(new URL("../../docs/deploying.md", import.meta.url), "utf8");
  for (const p of onnxOperators.keys()) expect(guide).toMatch(new RegExp("\\| `" + p + "`"));
  for (const p of unmappedPrimitives.keys()) expect(guide).toContain("`" + p + "`");
});

test("every primitive of the exporter's table has a row", () => {
  const covered = new Set(rows.map((r) => r.primitive));
  expect([...onnxOperators.keys()].filter((p) => !covered.has(p))).toEqual([]);
});

describe.each(rows.map((r, i) => ({ ...r, label: `${r.primitive} #${i}` })))("$label", (row) => {
  test("the program applies it", () => {
    const { graph } = recordProgram("test", (a) => row.f(...(a as Tensor[])), row.args(2));
    expect(graph.equations.map((e) => e.primitive)).toContain(row.primitive);
  });

  test("ONNX Runtime gives difftypes' result, on other inputs than the example's", async () => {
    const example = row.args(2);
    const bytes = exportOnnx(row.f, example, { inputNames: names(example.length) });
    const xs = row.args(2);
    const result = await runOnnx(bytes, feeds(xs));
    expectMatches(result.output, row.f(...xs), row.tolerance);
  });

});

describe.each(rows.filter((r) => r.batched === true).map((r, i) => ({ ...r, label: `${r.primitive} #${i}` })))("$label", (row) => {
  test("with a dynamic batch, at other batch sizes", async () => {
    const bytes = exportOnnx(row.f, row.args(2), { inputNames: names(row.args(2).length), dynamicBatch: true });
    for (const b of [5, 1]) {
      const xs = row.args(b);
      const result = await runOnnx(bytes, feeds(xs));
      expectMatches(result.output, row.f(...xs), row.tolerance);
    }
  });
});

describe.each(rows.filter((r) => ["sum", "max", "min", "prod"].includes(r.primitive)))("$primitive at opset 18 (axes as an input)", (row) => {
  test("ONNX Runtime gives difftypes' result", async () => {
    const example = row.args(2);
    const bytes = exportOnnx(row.f, example, { inputNames: names(example.length), opset: 18 });
    const xs = row.args(2);
    const result = await runOnnx(bytes, feeds(xs));
    expectMatches(result.output, row.f(...xs), row.tolerance);
  });
});

/** Integer programs (indices, counts, masks): ONNX Runtime has int32 kernels for each of these. */
const intRows: [string, (x: Tensor, y: Tensor) => Tensor][] = [
  ["neg", (x) => x.neg()],
  ["abs", (x) => x.abs()],
  ["relu", (x) => x.relu()],
  ["sign", (x) => x.sign()],
  ["add", (x, y) => x.add(y)],
  ["sub", (x, y) => x.sub(y)],
  ["mul", (x, y) => x.mul(y)],
  ["pow", (x) => x.abs().pow(2)],
  ["maximum", (x, y) => x.maximum(y)],
  ["minimum", (x, y) => x.minimum(y)],
  ["equal", (x, y) => x.equal(y)],
  ["less", (x, y) => x.less(y)],
  ["where", (x, y) => where(x.greater(y), x, y)],
  ["sum", (x) => x.sum(1)],
  ["max", (x) => x.max(1)],
  ["min", (x) => x.min(0)],
  ["prod", (x) => x.prod(1)],
  ["argmax", (x) => x.argmax(1)],
  ["matmul", (x, y) => x.matmul(y.transpose())],
  ["pad", (x) => x.pad([[1, 0], [0, 1]], 7)],
  ["gather", (x, y) => x.gather(y.abs().minimum(1))],
  ["div (as float32)", (x, y) => x.div(y.abs().add(1))],
];

describe.each(intRows.map(([name, f]) => ({ name, f })))("int32 $name", ({ f }) => {
  test("ONNX Runtime gives difftypes' result", async () => {
    const draw = (s: number) => randomUniform([2, 3], { seed: s, min: -5, max: 5, dtype: "int32" });
    const bytes = exportOnnx(f, [draw(1), draw(2)], { inputNames: ["x0", "x1"] });
    const [x, y] = [draw(3), draw(4)];
    const result = await runOnnx(bytes, { x0: x, x1: y });
    expectMatches(result.output, f(x, y));
  });
});
