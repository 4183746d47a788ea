/**
 * The new ops against TensorFlow.js (cpu backend), wherever TensorFlow.js has the same op: values, and
 * gradients through its own autodiff. Where the two libraries' conventions differ, the test says so and
 * checks the documented difference instead.
 */
import { beforeAll, describe, expect, test } from "vitest";
import type * as TfNs from "@tensorflow/tfjs";
import {
  atan2,
  bandPart,
  cumprod,
  cumsum,
  einsum,
  erf,
  floor,
  ceil,
  round,
  gatherNd,
  gradient,
  isFinite,
  isNaN,
  logicalAnd,
  logicalNot,
  logicalOr,
  mod,
  norm,
  pad,
  reverse,
  scatter,
  segmentSum,
  softplus,
  tensor,
  topk,
  type Tensor,
} from "../../src/index.js";
import { close, make } from "../helpers/reference.js";

type Tf = typeof TfNs;
let tf: Tf;

beforeAll(async () => {
  const warn = console.warn, log = console.log;
  console.warn = console.log = () => {};
  try {
    tf = await import("@tensorflow/tfjs");
    await tf.setBackend("cpu");
    tf.tensor([0]).dispose(); // the banner of the cpu backend
  } finally {
    console.warn = warn;
    console.log = log;
  }
}, 60_000);

const toTf = (t: Tensor): TfNs.Tensor => tf.tensor(Array.from(t.dataSync()), [...t.shape], t.dtype === "int32" ? "int32" : "float32");
const values = (t: TfNs.Tensor): number[] => Array.from(t.dataSync());
const ours = (t: Tensor): number[] => Array.from(t.dataSync());

describe("values agree with TensorFlow.js", () => {
  const x = make([3, 4], "float32", 70, -3, 3);
  const y = make([3, 4], "float32", 71, 0.5, 2);
  test.each([
    ["erf", () => ours(erf(x)), () => values(tf.erf(toTf(x)))],
    ["floor", () => ours(floor(x)), () => values(tf.floor(toTf(x)))],
    ["ceil", () => ours(ceil(x)), () => values(tf.ceil(toTf(x)))],
    ["round (both halve to even)", () => ours(round(tensor([0.5, 1.5, 2.5, -0.5, -2.5, 0.3]))), () => values(tf.round(tf.tensor([0.5, 1.5, 2.5, -0.5, -2.5, 0.3])))],
    ["softplus", () => ours(softplus(x)), () => values(tf.softplus(toTf(x)))],
    ["mod (both floored)", () => ours(mod(x, y.mul(-1))), () => values(tf.mod(toTf(x), toTf(y.mul(-1))))],
    ["atan2", () => ours(atan2(x, y.sub(1))), () => values(tf.atan2(toTf(x), toTf(y.sub(1))))],
    ["cumsum exclusive reverse", () => ours(cumsum(x, 1, { exclusive: true, reverse: true })), () => values(tf.cumsum(toTf(x), 1, true, true))],
    ["cumprod", () => ours(cumprod(y, 0)), () => values(tf.cumprod(toTf(y), 0))],
    ["reverse", () => ours(reverse(x, [0, 1])), () => values(tf.reverse(toTf(x), [0, 1]))],
    ["gatherNd", () => ours(gatherNd(x, [[2, 1], [0, 3]])), () => values(tf.gatherND(toTf(x), tf.tensor([[2, 1], [0, 3]], undefined, "int32")))],
    ["scatter (scatterND sums duplicates)", () => ours(scatter([[1], [1], [0]], tensor([1, 2, 3]), [3])), () => values(tf.scatterND(tf.tensor([[1], [1], [0]], undefined, "int32"), tf.tensor([1, 2, 3]), [3]))],
    ["segmentSum (unsortedSegmentSum)", () => ours(segmentSum(x, [2, 0, 2], 3)), () => values(tf.unsortedSegmentSum(toTf(x), tf.tensor([2, 0, 2], undefined, "int32"), 3))],
    ["einsum bij,bjk->bik", () => ours(einsum("ij,jk->ik", x, y.transpose())), () => values(tf.einsum("ij,jk->ik", toTf(x), toTf(y.transpose())))],
    ["bandPart", () => ours(bandPart(x, 1, 0)), () => values(tf.linalg.bandPart(toTf(x), 1, 0))],
    ["pad reflect", () => ours(pad(x, [[2, 1], [1, 3]], { mode: "reflect" })), () => values(tf.mirrorPad(toTf(x), [[2, 1], [1, 3]], "reflect"))],
    ["pad symmetric", () => ours(pad(x, [[3, 0], [4, 2]], { mode: "symmetric" })), () => values(tf.mirrorPad(toTf(x), [[3, 0], [4, 2]], "symmetric"))],
    ["norm 2, 1, Infinity of a vector", () => [1, 2, Infinity].map((p) => norm(x, p).item()), () => [1, 2, Infinity].map((p) => tf.norm(toTf(x), p).dataSync()[0]!)],
    ["norm along an axis", () => ours(norm(x, 2, 1)), () => values(tf.norm(toTf(x), 2, 1))],
    ["norm 'fro' over both axes", () => [norm(x, "fro", [0, 1]).item()], () => [tf.norm(toTf(x), "fro", [0, 1]).dataSync()[0]!]],
    ["matrix norm 1 and Infinity", () => [norm(x, 1, [0, 1]).item(), norm(x, Infinity, [0, 1]).item()], () => [tf.norm(toTf(x), 1, [0, 1]).dataSync()[0]!, tf.norm(toTf(x), Infinity, [0, 1]).dataSync()[0]!]],
    ["isNaN, isFinite", () => [...ours(isNaN(tensor([NaN, 1, Infinity]))), ...ours(isFinite(tensor([NaN, 1, Infinity])))], () => [...values(tf.isNaN(tf.tensor([NaN, 1, Infinity]))), ...values(tf.isFinite(tf.tensor([NaN, 1, Infinity])))]],
    ["logical ops", () => [...ours(logicalAnd(tensor([1, 1, 0, 0]), tensor([1, 0, 1, 0]))), ...ours(logicalOr(tensor([1, 1, 0, 0]), tensor([1, 0, 1, 0]))), ...ours(logicalNot(tensor([1, 0])))], () => {
      const a = tf.tensor([1, 1, 0, 0], undefined, "bool"), b = tf.tensor([1, 0, 1, 0], undefined, "bool");
      return [...values(tf.logicalAnd(a, b)), ...values(tf.logicalOr(a, b)), ...values(tf.logicalNot(tf.tensor([1, 0], undefined, "bool")))];
    }],
  ] as const)("%s", (_name, mine, theirs) => {
    close(mine(), theirs(), "float32", 2e-6);
  });
  test("topk: values and indices, ties to the lower index in both", () => {
    const t = tensor([[1, 5, 3, 5], [2, 2, 7, 2]]);
    const r = topk(t, 3);
    const e = tf.topk(toTf(t), 3);
    expect(ours(r.values)).toEqual(values(e.values));
    expect(ours(r.indices)).toEqual(values(e.indices));
  });
});

describe("gradients agree with TensorFlow.js", () => {
  const x = make([3, 4], "float32", 72, -2, 2);
  const grad = (f: (t: TfNs.Tensor) => TfNs.Scalar, at: Tensor): number[] => values(tf.grad(f)(toTf(at)));
  // (TensorFlow.js has no gradient for cumprod, gatherND or einsum; the gradient table checks ours against
  // finite differences.)
  test("erf, softplus, atan2, cumsum", () => {
    const cases: [(t: Tensor) => Tensor, (t: TfNs.Tensor) => TfNs.Tensor][] = [
      [(t) => erf(t), (t) => tf.erf(t)],
      [(t) => softplus(t), (t) => tf.softplus(t)],
      [(t) => atan2(t, 0.7), (t) => tf.atan2(t, tf.scalar(0.7))],
      [(t) => cumsum(t, 1, { reverse: true }), (t) => tf.cumsum(t, 1, false, true)],
    ];
    for (const [mine, theirs] of cases) {
      const g = gradient(x, (t) => mine(t).mul(mine(t)).sum());
      const e = grad((t) => tf.sum(tf.mul(theirs(t), theirs(t))), x);
      close(ours(g), e, "float32", 5e-5);
    }
  });
  test("a difference: TensorFlow.js's mirrorPad gradient keeps only the original copy; ours counts every copy", () => {
    // d/dx Σ y² = 2 x · (number of copies of x in y), which the gradient table confirms by finite differences.
    const v = tensor([[0.3, -1.2, 0.5], [1.1, 0.4, -0.7]]);
    const paddings: [number, number][] = [[1, 0], [1, 1]];
    const copies = [[1, 3, 1], [2, 6, 2]]; // rows [1, 0, 1] × columns [1, 0, 1, 2, 1]
    const expected = (v.toArray() as number[][]).flatMap((row, i) => row.map((e, j) => 2 * e * copies[i]![j]!));
    close(ours(gradient(v, (t) => pad(t, paddings, { mode: "reflect" }).square().sum())), expected, "float32");
    const theirs = grad((t) => tf.sum(tf.square(tf.mirrorPad(t, paddings, "reflect"))), v);
    close(theirs, (v.toArray() as number[][]).flat().map((e) => 2 * e), "float32");
  });
  test("a documented difference: the Euclidean norm's gradient at 0 is 0 here, NaN in TensorFlow.js", () => {
    const z = tensor([0, 0, 0]);
    expect(ours(gradient(z, (t) => norm(t)))).toEqual([0, 0, 0]);
    expect(values(tf.grad((t: TfNs.Tensor) => tf.norm(t) as TfNs.Scalar)(toTf(z))).every(Number.isNaN)).toBe(true);
  });
});
