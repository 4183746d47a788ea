/**
 * Every row of the gradient-check table, compiled: the forward value, the gradient staged inside (reverse
 * mode), the gradient and the differential taken of the compiled function from outside, agree with eager;
 * and the compiled function passes the finite-difference checker (forward and reverse, second order), which
 * exercises the derivative programs of `call`.
 */
import { describe, expect, test } from "vitest";
import { checkGradients, compile, gradient, differential, gather, gatherNd, oneHot, scatter, segmentSum, softmaxCrossEntropy, tensor, valueWithGradient, Tensor } from "../../src/index.js";
import { setCodeGenerationAllowed } from "../../src/staged/execute.js";
import { uniform, type GradRow } from "../helpers/rows.js";

const families = import.meta.glob<{ rows: GradRow[] }>("../ops/rows/*.ts", { eager: true });

function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

function expectClose(actual: Tensor, expected: Tensor, rel = 1e-10): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = values(actual);
  const e = values(expected);
  for (let i = 0; i < e.length; i++) expect(Math.abs(a[i]! - e[i]!)).toBeLessThanOrEqual(rel * (1 + Math.abs(e[i]!)));
}

/** A fixed weighting of the output, so that every element gets its own cotangent. */
function weightsFor(y: Tensor): Tensor {
  return uniform(y.shape, 99, 0.5, 1.5).cast(y.dtype);
}

for (const [file, mod] of Object.entries(families)) {
  describe(`compiled ${file.replace("../ops/rows/", "").replace(".ts", "")}`, () => {
    test.each(mod.rows.map((r) => [r.name, r] as const))("%s", (_name, row) => {
      const xs = row.inputs();
      const eager = row.f(...xs);
      const f = compile(row.f);

      // Forward: generated code, then the interpreter, both equal to eager to the last bit.
      expect(values(f(...xs))).toEqual(values(eager));
      setCodeGenerationAllowed(false);
      try {
        expect(values(compile(row.f)(...xs))).toEqual(values(eager));
      } finally {
        setCodeGenerationAllowed(undefined);
      }

      const w = weightsFor(eager);
      const loss = (...ys: Tensor[]): Tensor => row.f(...ys).mul(w).sum();
      const expected = gradient(xs, (ys) => loss(...ys));

      // Reverse mode staged inside the program.
      const inside = compile((...ys: Tensor[]) => gradient(ys, (zs) => loss(...zs)));
      inside(...xs).forEach((g, i) => expectClose(g, expected[i]!));
      // Reverse mode of the compiled function (its pullback is a program).
      const outside = gradient(xs, (ys) => f(...ys).mul(w).sum());
      outside.forEach((g, i) => expectClose(g, expected[i]!));
      // Forward mode of the compiled function (its differential is a program).
      const ts = xs.map((x, i) => uniform(x.shape, 200 + i).cast(x.dtype));
      expectClose(differential(xs, (ys) => f(...ys))(ts), differential(xs, (ys) => row.f(...ys))(ts));

      // Finite differences, forward and reverse, to the row's order.
      const report = checkGradients(f, xs, { order: row.firstOrderOnly ? 1 : 2, ...row.options });
      expect(report.maxError).toBeLessThanOrEqual(1);
      // One signature, one trace, whatever the number of calls and derivatives taken.
      expect(f.stats.traces).toBe(1);
    });
  });
}

test("the table is found", () => {
  expect(Object.keys(families).length).toBeGreaterThanOrEqual(4);
});

/**
 * The indexing ops with their indices as arguments of the compiled function: the program computes the
 * rows from whatever indices it is given (int32 or float tensors holding integers), so new indices of
 * the same shape run the same program, and an index out of range is the eager error when it runs.
 */
interface IndexRow {
  readonly name: string;
  readonly f: (x: Tensor, indices: Tensor) => Tensor;
  readonly x: () => Tensor;
  /** Index tensors of one shape and dtype (int32), each different. */
  readonly indices: readonly Tensor[];
  /** The same kind of indices as a float tensor (another signature). */
  readonly floatIndices: Tensor;
  /** Indices with one out of range, and the error they give. */
  readonly bad: Tensor;
  readonly error: RegExp;
}

const int32 = (v: number[] | number[][]): Tensor => tensor(v, { dtype: "int32" });

const indexRows: IndexRow[] = [
  {
    name: "gatherNd, tuples of 2",
    f: (x, i) => gatherNd(x, i),
    x: () => uniform([3, 2, 2], 301),
    indices: [int32([[0, 1], [2, 0], [0, 1]]), int32([[2, 1], [1, 1], [0, 0]]), int32([[1, 0], [1, 0], [1, 0]])],
    floatIndices: tensor([[2, 0], [0, 1], [1, 1]], { dtype: "float32" }),
    bad: int32([[0, 1], [3, 0], [0, 1]]),
    error: /^gatherNd: index 3 in tuple 1 \(component 0\) of indices \[3,2\] is out of range for axis 0 of x \[3,2,2\]/,
  },
  {
    name: "gatherNd, tuples of 1",
    f: (x, i) => gatherNd(x, i).square(),
    x: () => uniform([4, 3], 302),
    indices: [int32([[3], [0]]), int32([[1], [1]])],
    floatIndices: tensor([[2], [3]], { dtype: "float64" }),
    bad: int32([[-1], [0]]),
    error: /^gatherNd: index -1 in tuple 0/,
  },
  {
    name: "scatter",
    f: (v, i) => scatter(i, v, [2, 2, 3]),
    x: () => uniform([3, 3], 303),
    indices: [int32([[1, 0], [0, 1], [1, 0]]), int32([[0, 0], [0, 0], [1, 1]])],
    floatIndices: tensor([[1, 1], [0, 1], [0, 0]], { dtype: "float32" }),
    bad: int32([[1, 0], [0, 2], [1, 0]]),
    error: /^scatter: index 2 in tuple 1 \(component 1\) of indices \[3,2\] is out of range for axis 1 of the output \[2,2,3\]/,
  },
  {
    name: "segmentSum",
    f: (x, i) => segmentSum(x.mul(x), i, 4),
    x: () => uniform([4, 3], 304),
    indices: [int32([2, 0, 2, 1]), int32([3, 3, 0, 0])],
    floatIndices: tensor([1, 2, 3, 0], { dtype: "float64" }),
    bad: int32([2, 0, 4, 1]),
    error: /^segmentSum: segment id 4 at flat position 2 of segmentIds \[4\] is out of range for 4 segments/,
  },
  {
    name: "gather, float indices",
    f: (x, i) => gather(x, i, 1),
    x: () => uniform([2, 4], 305),
    indices: [tensor([3, 0, 3], { dtype: "float32" }), tensor([1, 2, 0], { dtype: "float32" })],
    floatIndices: tensor([2, 2, 1], { dtype: "float64" }),
    bad: tensor([0, 4, 1], { dtype: "float32" }),
    error: /^gather: index 4 at flat position 1 is out of range for axis 1 of shape \[2,4\]/,
  },
  {
    name: "oneHot",
    f: (x, i) => x.mul(oneHot(i, 4, { dtype: "float64", onValue: 2, offValue: -1 })),
    x: () => uniform([3, 4], 308),
    indices: [int32([3, 0, 1]), int32([2, 2, 0])],
    floatIndices: tensor([1, 3, 3], { dtype: "float32" }),
    bad: int32([0, 4, 1]),
    error: /^oneHot: index 4 at flat position 1 is out of range for depth 4/,
  },
];

describe("compiled indexing, indices as arguments", () => {
  test.each(indexRows.map((r) => [r.name, r] as const))("%s", (_name, row) => {
    const x = row.x();
    const f = compile(row.f);
    const eagerOutputs = row.indices.map((i) => values(row.f(x, i)));
    expect(new Set(eagerOutputs.map((v) => v.join())).size).toBe(row.indices.length); // the indices really differ
    row.indices.forEach((i, k) => expect(values(f(x, i))).toEqual(eagerOutputs[k]));
    expect(f.stats.traces).toBe(1);
    expect(values(f(x, row.floatIndices))).toEqual(values(row.f(x, row.floatIndices)));
    expect(f.stats.traces).toBe(2);
    expect(() => f(x, row.bad)).toThrow(row.error);
    setCodeGenerationAllowed(false);
    try {
      const interpreted = compile(row.f);
      row.indices.forEach((i, k) => expect(values(interpreted(x, i))).toEqual(eagerOutputs[k]));
      expect(() => interpreted(x, row.bad)).toThrow(row.error);
    } finally {
      setCodeGenerationAllowed(undefined);
    }

    const w = weightsFor(row.f(x, row.indices[0]!));
    const loss = (v: Tensor, i: Tensor): Tensor => row.f(v, i).mul(w).sum();
    const inside = compile((v: Tensor, i: Tensor) => gradient(v, (z) => loss(z, i)));
    for (const i of [...row.indices, row.floatIndices]) {
      const expected = gradient(x, (v) => loss(v, i));
      expectClose(inside(x, i), expected);
      expectClose(gradient(x, (v) => f(v, i).mul(w).sum()), expected);
      const t = uniform(x.shape, 306);
      expectClose(differential(x, (v) => f(v, i))(t), differential(x, (v) => row.f(v, i))(t));
      const report = checkGradients((v: Tensor) => f(v, i), [x], { order: 2 });
      expect(report.maxError).toBeLessThanOrEqual(1);
    }
    expect(inside.stats.traces).toBe(2);
  });

  test("a cross-entropy with int32 labels compiles, the labels an argument", () => {
    const loss = (logits: Tensor, labels: Tensor) => softmaxCrossEntropy(logits, labels);
    const f = compile((logits: Tensor, labels: Tensor) => valueWithGradient(logits, (z) => loss(z, labels)));
    const logits = uniform([3, 4], 309);
    for (const labels of [int32([3, 0, 1]), int32([2, 2, 0])]) {
      const { value, gradient: grad } = f(logits, labels);
      const { value: v, gradient: g } = valueWithGradient(logits, (z) => loss(z, labels));
      expect(value.item()).toBe(v.item());
      expectClose(grad, g);
    }
    expect(f.stats.traces).toBe(1);
  });

  test("float index tuples of a square shape, into axes of size 1", () => {
    const x = tensor([[5]]);
    const f = compile((a: Tensor, i: Tensor) => gatherNd(a, i).add(gather(a, i, 1).sum([1, 2])));
    const i = tensor([[0, 0], [0, 0]]);
    expect(values(f(x, i))).toEqual(values(gatherNd(x, i).add(gather(x, i, 1).sum([1, 2]))));
  });

  test("segmentSum needs numSegments when its ids are staged", () => {
    const f = compile((x: Tensor, ids: Tensor) => segmentSum(x, ids));
    expect(() => f(uniform([3], 307), int32([0, 1, 1]))).toThrow(
      /^segmentSum: without numSegments the number of segments is read from the ids' values, but these ids \[3\] int32 are staged .*; pass numSegments/,
    );
    // ids the function holds (not arguments) have values while tracing
    const g = compile((x: Tensor) => segmentSum(x, [0, 1, 1]));
    expect(values(g(tensor([1, 2, 3])))).toEqual([1, 5]);
  });
});
