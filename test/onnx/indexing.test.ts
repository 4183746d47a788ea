/**
 * Indices are part of the exported computation: an index tensor given as an input (or computed from one)
 * is a graph value, so the model answers for the indices it is run with, not the example's.
 */
import { describe, expect, test } from "vitest";
import { argmax, argsort, concat, exportOnnx, gather, gatherNd, oneHot, randomNormal, scatter, segmentSum, tensor, type Tensor } from "../../src/index.js";
import { OnnxType } from "../../src/onnx/schema.js";
import { decodeModel, expectMatches, runOnnx } from "./ort.js";

const int32 = (v: number[] | number[][]): Tensor => tensor(v, { dtype: "int32" });

interface Case {
  readonly name: string;
  readonly f: (x: Tensor, indices: Tensor) => Tensor;
  readonly x: Tensor;
  /** The indices at export, and others of the same shape to run with. */
  readonly example: Tensor;
  readonly run: Tensor;
  readonly opType: string;
}

const cases: Case[] = [
  {
    name: "gatherNd",
    f: (x, i) => gatherNd(x, i),
    x: randomNormal([4, 3, 2], { seed: 1 }),
    example: int32([[0, 0], [3, 2], [1, 1]]),
    run: int32([[2, 1], [0, 2], [3, 0]]),
    opType: "GatherND",
  },
  {
    name: "gatherNd, float tuples",
    f: (x, i) => gatherNd(x, i),
    x: randomNormal([4, 3], { seed: 2 }),
    example: tensor([[0, 0], [3, 2]]),
    run: tensor([[1, 2], [2, 0]]),
    opType: "GatherND",
  },
  {
    name: "scatter",
    f: (u, i) => scatter(i, u, [3, 2, 2]),
    x: randomNormal([4, 2], { seed: 3 }),
    example: int32([[0, 0], [0, 0], [1, 1], [2, 0]]),
    run: int32([[2, 1], [1, 0], [2, 1], [0, 1]]),
    opType: "ScatterND",
  },
  {
    name: "segmentSum",
    f: (d, ids) => segmentSum(d, ids, 3),
    x: randomNormal([5, 2], { seed: 4 }),
    example: int32([0, 0, 1, 1, 2]),
    run: int32([2, 1, 2, 0, 0]),
    opType: "ScatterND",
  },
  {
    name: "gather, float indices",
    f: (x, i) => gather(x, i, 1),
    x: randomNormal([2, 5], { seed: 5 }),
    example: tensor([0, 1, 2]),
    run: tensor([4, 4, 0]),
    opType: "Gather",
  },
  {
    name: "oneHot",
    f: (x, i) => x.mul(oneHot(i, 4)),
    x: randomNormal([3, 4], { seed: 10 }),
    example: int32([0, 1, 2]),
    run: int32([3, 3, 1]),
    opType: "Equal",
  },
];

describe.each(cases)("$name", (c) => {
  test("runs with other indices than the example's, which are a graph input", async () => {
    const bytes = exportOnnx(c.f, [c.x, c.example], { inputNames: ["x", "indices"] });
    // A model that kept the example's indices would give this instead:
    expect(c.f(c.x, c.run).dataSync()).not.toEqual(c.f(c.x, c.example).dataSync());
    const result = await runOnnx(bytes, { x: c.x, indices: c.run });
    expectMatches(result.output, c.f(c.x, c.run));
    const model = decodeModel(bytes);
    const elemType = c.run.dtype === "int32" ? OnnxType.INT32 : OnnxType.FLOAT;
    expect(model.inputs[1]).toEqual({ name: "indices", elemType, dims: c.run.shape });
    expect(model.opTypes).toContain(c.opType);
    // no constant of the indices' type and shape (a frozen copy of the example's)
    const frozen = [...model.initializers.values()].filter((i) => i.dataType === elemType && i.dims.join() === c.run.shape.join());
    expect(frozen).toEqual([]);
  });
});

test("indices computed inside the function follow the input", async () => {
  // Each row's largest element, addressed by the tuple [row, argmax]: both come from the input.
  const rows = int32([[0], [1], [2]]);
  const f = (x: Tensor) => gatherNd(x, concat([rows, argmax(x, 1).reshape([3, 1])], 1));
  const bytes = exportOnnx(f, [randomNormal([3, 4], { seed: 6 })], { inputNames: ["x"] });
  const x = randomNormal([3, 4], { seed: 7 });
  const result = await runOnnx(bytes, { x });
  expectMatches(result.output, x.max(1));
  // float ids and positions from a cast and a sort of the input
  const g = (v: Tensor) => segmentSum(v, argmax(v, 1).cast("float32"), 4).add(gather(v, argsort(v.sum(1)).cast("float32")));
  const gb = exportOnnx(g, [randomNormal([4, 4], { seed: 8 })], { inputNames: ["x"] });
  const y = randomNormal([4, 4], { seed: 9 });
  expectMatches((await runOnnx(gb, { x: y })).output, g(y));
});

test("segmentSum without numSegments cannot follow ids that are an input: an error says to pass it", () => {
  const data = randomNormal([4, 2], { seed: 8 });
  expect(() => exportOnnx((d: Tensor, ids: Tensor) => segmentSum(d, ids), [data, int32([0, 1, 1, 2])])).toThrow(
    /^segmentSum: without numSegments the number of segments is read from the ids' values, but these ids \[4\] int32 are staged \(inside compile or exportOnnx .*; pass numSegments/,
  );
  // ids the function holds are constants: their count is fixed, and the export is fine
  expect(exportOnnx((d: Tensor) => segmentSum(d, [0, 1, 1, 2]), [data])).toBeInstanceOf(Uint8Array);
});

test("out of range in ONNX Runtime (documented): a negative index counts from the end there, a too large one is an error", async () => {
  const x = tensor([[1, 2], [3, 4]]);
  // [ONNX operator, function, example indices, a negative index, a too large one, the result with the negative one]
  const runs: [string, (v: Tensor, i: Tensor) => Tensor, Tensor, Tensor, Tensor, number[]][] = [
    ["GatherND", (v, i) => gatherNd(v, i), int32([[0, 0]]), int32([[0, -1]]), int32([[0, 2]]), [2]],
    ["Gather", (v, i) => gather(v, i, 1), int32([0]), int32([-1]), int32([2]), [2, 4]],
    ["ScatterND", (v, i) => scatter(i, v.sum(1), [2]), int32([[0], [1]]), int32([[-1], [0]]), int32([[2], [0]]), [7, 3]],
  ];
  for (const [opType, f, example, negative, tooLarge, wrapped] of runs) {
    const bytes = exportOnnx(f, [x, example], { inputNames: ["x", "indices"] });
    const result = await runOnnx(bytes, { x, indices: negative });
    expect(Array.from(result.output!.data as Float32Array)).toEqual(wrapped);
    await expect(runOnnx(bytes, { x, indices: tooLarge })).rejects.toThrow(new RegExp(opType));
    // difftypes rejects both
    expect(() => f(x, negative)).toThrow(/index -1/);
    expect(() => f(x, tooLarge)).toThrow(/index 2/);
  }
});
