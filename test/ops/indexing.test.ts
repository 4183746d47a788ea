/** gatherNd, scatter and segmentSum compared with plain loops, and their errors. */
import { describe, expect, test } from "vitest";
import { concat, gather, gatherNd, gradient, scatter, segmentSum, tensor, type Tensor } from "../../src/index.js";
import { make, ravel, size } from "../helpers/reference.js";

describe.each(["float32", "float64", "int32"] as const)("%s", (dtype) => {
  test.each([
    [[3, 4], [[0, 1], [2, 3], [0, 1]]],
    [[3, 4], [[2], [0]]],
    [[2, 3, 2], [[[1, 2], [0, 0]], [[1, 1], [0, 2]]]],
    [[2, 3], [[]]],
    [[4], [[3], [1], [2]]],
  ] as const)("gatherNd from %j at %j", (shape, tuples) => {
    const x = make(shape, dtype, 21);
    const idx = tensor(tuples as unknown as number[][], { dtype: "int32" });
    const m = idx.shape[idx.rank - 1]!;
    const y = gatherNd(x, idx);
    const rest = shape.slice(m);
    expect(y.shape).toEqual([...idx.shape.slice(0, -1), ...rest]);
    const xv = x.dataSync(), iv = idx.dataSync();
    const inner = size(rest);
    const expected: number[] = [];
    for (let t = 0; t < iv.length / Math.max(m, 1) || (m === 0 && t < size(idx.shape.slice(0, -1))); t++) {
      const tuple = Array.from(iv.slice(t * m, t * m + m));
      const base = ravel(tuple, shape.slice(0, m)) * inner;
      for (let j = 0; j < inner; j++) expected.push(xv[base + j]!);
    }
    expect(Array.from(y.dataSync())).toEqual(expected);
  });

  test("scatter adds repeated tuples, and is gatherNd's transpose", () => {
    const shape = [3, 2, 2];
    const tuples = [[2, 1], [0, 0], [2, 1]];
    const updates = make([3, 2], dtype, 22);
    const y = scatter(tuples, updates, shape);
    const expected = new Array<number>(12).fill(0);
    const uv = updates.dataSync();
    tuples.forEach((t, i) => {
      for (let j = 0; j < 2; j++) expected[ravel([...t, j], shape)]! += uv[i * 2 + j]!;
    });
    expect(Array.from(y.dataSync())).toEqual(expected);
    expect(y.dtype).toBe(dtype);
  });

  test("segmentSum against a loop, ids unsorted, an empty segment", () => {
    const data = make([5, 2], dtype, 23);
    const ids = [3, 0, 3, 1, 0];
    const y = segmentSum(data, ids, 5);
    const expected = new Array<number>(10).fill(0);
    const dv = data.dataSync();
    ids.forEach((s, i) => {
      expected[s * 2]! += dv[i * 2]!;
      expected[s * 2 + 1]! += dv[i * 2 + 1]!;
    });
    expect(y.shape).toEqual([5, 2]);
    expect(Array.from(y.dataSync())).toEqual(expected.map((v) => (dtype === "float32" ? Math.fround(v) : v)));
  });
});

describe("indexing details", () => {
  test("segmentSum infers the count from the largest id and accepts ids over leading axes", () => {
    expect(segmentSum(tensor([1, 2, 3]), [1, 1, 0]).toArray()).toEqual([3, 3]);
    expect(segmentSum(tensor([[1, 2], [3, 4]]), tensor([[0, 1], [1, 1]], { dtype: "int32" })).toArray()).toEqual([1, 9]);
  });
  test("the gradient of gatherNd accumulates repeated tuples", () => {
    const g = gradient(tensor([[1, 2], [3, 4]]), (x) => gatherNd(x, [[0, 1], [0, 1], [1, 0]]).sum());
    expect(g.toArray()).toEqual([[0, 2], [1, 0]]);
  });
  test("errors name the op, the index, the shapes and the fix", () => {
    const x = tensor([[1, 2], [3, 4]]);
    expect(() => gatherNd(x, [[0, 2]])).toThrow(
      "gatherNd: index 2 in tuple 0 (component 1) of indices [1,2] is out of range for axis 1 of x [2,2] (valid: 0 to 1); " +
        "indices are never wrapped or clamped (a negative index does not count from the end): fix that index, or index a larger tensor",
    );
    expect(() => gatherNd(x, [[1, 0], [0, -1]])).toThrow(/^gatherNd: index -1 in tuple 1 \(component 1\) of indices \[2,2\]/);
    expect(() => gatherNd(x, [[0, 0, 0]])).toThrow(/^gatherNd: index tuples of length 3 .* cannot index x of shape \[2,2\] \(rank 2\)/);
    expect(() => gatherNd(x, tensor(0, { dtype: "int32" }))).toThrow(/^gatherNd: indices need at least one axis .* reshape it to \[1\]/);
    expect(() => gatherNd(x, tensor([[0.5, 0]]))).toThrow(/^gatherNd: indices must be integers, got 0.5 at flat position 0 .*cast\('int32'\)/);
    expect(() => gatherNd(x, [[0.5, 0]])).toThrow(/^gatherNd: indices must be integers in nested arrays/);
    expect(() => scatter([[0], [2]], tensor([[1, 2], [3, 4]]), [2, 2])).toThrow(
      /^scatter: index 2 in tuple 1 \(component 0\) of indices \[2,1\] is out of range for axis 0 of the output \[2,2\] \(valid: 0 to 1\); .*scatter into a larger shape/,
    );
    expect(() => scatter([[0]], tensor([1, 2, 3]), [2, 2])).toThrow(/^scatter: updates have shape \[3\] but indices \[1,1\] scattered into \[2,2\] need updates of shape \[1,2\]/);
    expect(() => segmentSum(tensor([1, 2]), [0, 2], 2)).toThrow(
      "segmentSum: segment id 2 at flat position 1 of segmentIds [2] is out of range for 2 segments (valid: 0 to 1); raise numSegments or fix the id",
    );
    expect(() => segmentSum(tensor([1, 2]), tensor([0, -1]), 2)).toThrow(/^segmentSum: segment id -1 at flat position 1/);
    expect(() => segmentSum(tensor([1, 2]), tensor([0, 1.5]))).toThrow(/^segmentSum: segmentIds must be integers, got 1.5 at flat position 1/);
    expect(() => segmentSum(tensor([1, 2]), [0])).toThrow(/^segmentSum: segmentIds of shape \[1\] must match the leading axes of data \[2\]/);
    expect(() => gather(x, tensor([1, 2]))).toThrow(/^gather: index 2 at flat position 1 is out of range for axis 0 of shape \[2,2\] \(valid: 0 to 1\); .*fix the index/);
  });
  test("an error under a derivative leaves nothing half done, and the same indices then work", () => {
    const x = tensor([[1, 2], [3, 4]]);
    expect(() => gradient(x, (v) => gatherNd(v, [[2, 0]]).sum())).toThrow(/^gatherNd: index 2 in tuple 0/);
    expect(gradient(x, (v) => gatherNd(v, [[1, 0]]).sum()).toArray()).toEqual([[0, 0], [1, 0]]);
  });
  test("float tensors holding integers index like int32 ones", () => {
    const x = make([3, 2, 2], "float64", 24);
    const tuples = [[2, 1], [0, 0], [2, 1]];
    const asInt = tensor(tuples, { dtype: "int32" });
    for (const dtype of ["float32", "float64"] as const) {
      const asFloat = tensor(tuples, { dtype });
      expect(gatherNd(x, asFloat).toArray()).toEqual(gatherNd(x, asInt).toArray());
      const u = make([3, 2], "float64", 25);
      expect(scatter(asFloat, u, [3, 2, 2]).toArray()).toEqual(scatter(asInt, u, [3, 2, 2]).toArray());
      const ids = tensor([1, 0, 1], { dtype });
      expect(segmentSum(x, ids).toArray()).toEqual(segmentSum(x, [1, 0, 1]).toArray());
      expect(gradient(x, (v) => segmentSum(v, ids, 3).square().sum()).toArray()).toEqual(
        gradient(x, (v) => segmentSum(v, [1, 0, 1], 3).square().sum()).toArray(),
      );
    }
  });
  test("the indices may be the derivative's own data (indices carry none)", () => {
    // The tuples are computed from x (each row's largest element); only the gathered values are differentiated.
    const x = tensor([[1, 5, 2], [7, 0, 3]], { dtype: "float64" });
    const f = (v: Tensor) => gatherNd(v, concat([tensor([[0], [1]], { dtype: "int32" }), v.argmax(1).reshape([2, 1])], 1)).square().sum();
    expect(gradient(x, f).toArray()).toEqual([[0, 10, 0], [14, 0, 0]]);
  });
});
