/**
 * Elementwise ops and reductions compared with plain-loop reference implementations written here, over
 * shapes with broadcasting, size-0 and size-1 dimensions, and every dtype each op accepts.
 */
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { tensor, Tensor, where, type DType } from "../../src/index.js";
import { rng } from "../helpers/rows.js";

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function make(shape: number[], dtype: DType, seed: number, lo = -3, hi = 3): Tensor {
  const r = rng(seed);
  const v = Array.from({ length: size(shape) }, () => {
    const x = lo + (hi - lo) * r();
    return dtype === "int32" ? Math.round(x) : x;
  });
  return tensor(v, { shape, dtype });
}

/** Reference broadcasting: the index of an output element in an operand of `shape`. */
function sourceIndex(outIdx: number, outShape: readonly number[], shape: readonly number[]): number {
  const idx: number[] = [];
  let rest = outIdx;
  for (let d = outShape.length - 1; d >= 0; d--) {
    idx.unshift(rest % outShape[d]!);
    rest = Math.floor(rest / outShape[d]!);
  }
  let flat = 0;
  const off = outShape.length - shape.length;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d]! + (shape[d] === 1 ? 0 : idx[d + off]!);
  return flat;
}

function refBroadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

const round32 = (x: number): number => Math.fround(x);
function close(actual: ArrayLike<number>, expected: ArrayLike<number>, dtype: DType): void {
  expect(actual.length).toBe(expected.length);
  const tol = dtype === "float32" ? 2e-6 : 1e-12;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!, a = actual[i]!;
    if (Number.isNaN(e)) expect(a).toBeNaN();
    else if (!Number.isFinite(e)) expect(a).toBe(e);
    else expect(Math.abs(a - e)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e)));
  }
}

const shapePairs: [number[], number[]][] = [
  [[], []], [[3], [3]], [[2, 3], [3]], [[2, 1], [1, 4]], [[3, 1, 2], [4, 1]], [[0, 3], [3]], [[1], [5]], [[2, 0], [1, 0]],
];

const binaryRefs: Record<string, (x: number, y: number) => number> = {
  add: (x, y) => x + y, sub: (x, y) => x - y, mul: (x, y) => x * y, div: (x, y) => x / y,
  pow: (x, y) => Math.pow(x, y), maximum: (x, y) => Math.max(x, y), minimum: (x, y) => Math.min(x, y),
};
const compareRefs: Record<string, (x: number, y: number) => boolean> = {
  equal: (x, y) => x === y, notEqual: (x, y) => x !== y, less: (x, y) => x < y,
  lessEqual: (x, y) => x <= y, greater: (x, y) => x > y, greaterEqual: (x, y) => x >= y,
};

describe("binary ops against a reference", () => {
  for (const dtype of ["float32", "float64", "int32"] as const) {
    for (const [op, ref] of Object.entries(binaryRefs)) {
      test.each(shapePairs)(`${op} ${dtype} %j with %j`, (sa, sb) => {
        const a = make(sa, dtype, 1);
        let b = make(sb, dtype, 2);
        if (op === "div" || op === "pow") b = b.abs().add(1); // keep results finite and comparable
        const y = (a as unknown as Record<string, (o: Tensor) => Tensor>)[op]!.call(a, b);
        const outShape = refBroadcastShape(sa, sb);
        expect(y.shape).toEqual(outShape);
        const expectedDtype = op === "div" && dtype === "int32" ? "float32" : dtype;
        expect(y.dtype).toBe(expectedDtype);
        const av = a.dataSync(), bv = b.dataSync();
        const exp = Array.from({ length: size(outShape) }, (_, i) => {
          const v = ref(av[sourceIndex(i, outShape, sa)]!, bv[sourceIndex(i, outShape, sb)]!);
          return expectedDtype === "int32" ? v | 0 : expectedDtype === "float32" ? round32(v) : v;
        });
        close(y.dataSync(), exp, expectedDtype);
      });
    }
    for (const [op, ref] of Object.entries(compareRefs)) {
      test(`${op} ${dtype} broadcasting`, () => {
        const a = make([2, 3], dtype, 3, -1, 1);
        const b = a.slice([0, 0], [1, 3]);
        const y = (a as unknown as Record<string, (o: Tensor) => Tensor>)[op]!.call(a, b);
        expect(y.dtype).toBe("int32");
        const av = a.dataSync(), bv = b.dataSync();
        expect(Array.from(y.dataSync())).toEqual(Array.from({ length: 6 }, (_, i) => (ref(av[i]!, bv[i % 3]!) ? 1 : 0)));
      });
    }
  }

  test("a number operand takes the tensor's dtype; a fraction with int32 gives float32", () => {
    expect(tensor([1, 2], { dtype: "float64" }).add(1).dtype).toBe("float64");
    expect(tensor([1, 2], { dtype: "int32" }).mul(2).dtype).toBe("int32");
    const h = tensor([1, 2], { dtype: "int32" }).mul(0.5);
    expect(h.dtype).toBe("float32");
    expect(h.toArray()).toEqual([0.5, 1]);
    expect(tensor([1], { dtype: "float32" }).add(tensor([1], { dtype: "float64" })).dtype).toBe("float64");
  });

  test("where broadcasts condition and both branches", () => {
    const c = tensor([[1], [0]], { dtype: "int32" });
    expect(where(c, tensor([1, 2, 3]), 9).toArray()).toEqual([[1, 2, 3], [9, 9, 9]]);
  });

  test("bad shapes name the op and both shapes", () => {
    expect(() => tensor([1, 2]).add(tensor([1, 2, 3]))).toThrow(/add: cannot broadcast \[2\] with \[3\]/);
    expect(() => tensor([[1, 2]]).mul(tensor([[1], [2], [3]]).reshape([3, 1]).broadcastTo([3, 3]))).toThrow(/mul: cannot broadcast \[1,2\] with \[3,3\]/);
    expect(() => tensor([1]).clip(2, 1)).toThrow(/clip: min \(2\) must be <= max \(1\)/);
    expect(() => (tensor([1]) as unknown as { add(x: unknown): Tensor }).add("1")).toThrow(/add: the second operand must be a Tensor/);
  });
});

const unaryRefs: Record<string, [(x: number) => number, number, number]> = {
  neg: [(x) => -x, -3, 3], exp: [Math.exp, -3, 3], log: [Math.log, 0.1, 5], log1p: [Math.log1p, -0.5, 5],
  expm1: [Math.expm1, -3, 3], sqrt: [Math.sqrt, 0, 9], abs: [Math.abs, -3, 3], sign: [Math.sign, -3, 3],
  sin: [Math.sin, -3, 3], cos: [Math.cos, -3, 3], tan: [Math.tan, -1, 1], tanh: [Math.tanh, -3, 3],
  sigmoid: [(x) => 1 / (1 + Math.exp(-x)), -30, 30], relu: [(x) => Math.max(x, 0), -3, 3],
  softplus: [(x) => Math.log(1 + Math.exp(x)), -20, 20], square: [(x) => x * x, -3, 3],
  rsqrt: [(x) => 1 / Math.sqrt(x), 0.1, 9], reciprocal: [(x) => 1 / x, 0.5, 3],
};

describe("unary ops against a reference", () => {
  for (const dtype of ["float32", "float64"] as const) {
    for (const [op, [ref, lo, hi]] of Object.entries(unaryRefs)) {
      test.each([[[]], [[5]], [[2, 3]], [[0, 4]], [[1, 1]]])(`${op} ${dtype} %j`, (shape) => {
        const x = make(shape, dtype, 7, lo, hi);
        const y = (x as unknown as Record<string, () => Tensor>)[op]!.call(x);
        expect(y.shape).toEqual(shape);
        expect(y.dtype).toBe(dtype);
        const xv = x.dataSync();
        close(y.dataSync(), Array.from(xv, (v) => (dtype === "float32" ? round32(ref(v)) : ref(v))), dtype);
      });
    }
  }
  test("int32 input: exact ops keep int32, transcendental ones give float32", () => {
    const x = tensor([-2, 0, 3], { dtype: "int32" });
    expect(x.neg().dtype).toBe("int32");
    expect(x.abs().toArray()).toEqual([2, 0, 3]);
    expect(x.relu().dtype).toBe("int32");
    expect(x.exp().dtype).toBe("float32");
  });
  test("sigmoid and softplus are stable at extreme inputs", () => {
    expect(tensor([-1e4, 1e4]).sigmoid().toArray()).toEqual([0, 1]);
    expect(tensor([-1e4, 1e4]).softplus().toArray()).toEqual([0, 1e4]);
  });
  test("cast truncates toward zero and converts dtypes", () => {
    expect(tensor([1.7, -1.7]).cast("int32").toArray()).toEqual([1, -1]);
    expect(tensor([1, 2], { dtype: "int32" }).cast("float64").dtype).toBe("float64");
    expect(() => tensor([1]).cast("float16" as DType)).toThrow(/cast: unknown dtype "float16"/);
  });
});

type Red = "sum" | "prod" | "max" | "min" | "mean";
function refReduce(op: Red, x: Tensor, axes: number[], keepDims: boolean): { shape: number[]; values: number[] } {
  const shape = x.shape;
  const ax = axes.map((a) => (a < 0 ? a + shape.length : a));
  const outShape = shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const n = size(outShape);
  const acc: number[][] = Array.from({ length: n }, () => []);
  const xv = x.dataSync();
  for (let i = 0; i < xv.length; i++) {
    let rest = i, o = 0, mul = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      const k = rest % shape[d]!;
      rest = Math.floor(rest / shape[d]!);
      if (!ax.includes(d)) o += k * mul;
      mul *= outShape[d]!;
    }
    acc[o]!.push(xv[i]!);
  }
  const f: Record<Red, (v: number[]) => number> = {
    sum: (v) => v.reduce((a, b) => a + b, 0), prod: (v) => v.reduce((a, b) => a * b, 1),
    max: (v) => Math.max(...v), min: (v) => Math.min(...v), mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  };
  return { shape: keepDims ? outShape : shape.filter((_, i) => !ax.includes(i)), values: acc.map((v) => f[op](v)) };
}

describe("reductions against a reference", () => {
  const cases: [number[], number[]][] = [[[5], [0]], [[2, 3], [0]], [[2, 3], [1]], [[2, 3], [0, 1]], [[2, 3, 4], [0, 2]], [[2, 3, 4], [-1]], [[3, 1, 2], [1]], [[1], [0]]];
  for (const dtype of ["float32", "float64", "int32"] as const) {
    for (const op of ["sum", "prod", "max", "min", "mean"] as const) {
      test.each(cases)(`${op} ${dtype} %j over %j`, (shape, axes) => {
        const x = make(shape, dtype, 11, -2, 2);
        for (const keepDims of [false, true]) {
          const y = (x as unknown as Record<string, (a: number[], k: boolean) => Tensor>)[op]!.call(x, axes, keepDims);
          const ref = refReduce(op, x, axes, keepDims);
          expect(y.shape).toEqual(ref.shape);
          const d = op === "mean" && dtype === "int32" ? "float32" : dtype;
          close(y.dataSync(), ref.values.map((v) => (d === "int32" ? v | 0 : d === "float32" ? round32(v) : v)), d === "int32" ? "float64" : d);
        }
      });
    }
  }
  test("sum over a size-0 axis is 0; max over it is an error", () => {
    expect(tensor([], { shape: [0, 3] }).sum(0).toArray()).toEqual([0, 0, 0]);
    expect(() => tensor([], { shape: [0, 3] }).max(0)).toThrow(/max: cannot reduce the empty axis 0 of shape \[0,3\]/);
  });
  test("argmax / argmin take the first on ties", () => {
    const x = tensor([[1, 3, 3], [5, 0, 0]]);
    expect(x.argmax().toArray()).toEqual([1, 0]);
    expect(x.argmin().toArray()).toEqual([0, 1]);
    expect(x.argmax(0).toArray()).toEqual([1, 0, 0]);
    expect(x.argmax().dtype).toBe("int32");
  });
  test("logSumExp, softmax and logSoftmax are stable at ±1e4", () => {
    const x = tensor([[1e4, 0], [-1e4, -1e4]]);
    const lse = x.logSumExp(1).dataSync();
    expect(lse[0]).toBe(1e4);
    expect(lse[1]).toBe(Math.fround(-1e4 + Math.log(2)));
    expect(x.softmax().toArray()).toEqual([[1, 0], [0.5, 0.5]]);
    const ls = x.logSoftmax().toArray() as number[][];
    expect(ls[0]).toEqual([0, -1e4]);
    expect(ls[1]![0]).toBeCloseTo(-Math.log(2), 6);
  });
  test("bad axes are named", () => {
    expect(() => tensor([[1, 2]]).sum(2)).toThrow(/sum: axis 2 is out of range for a tensor of rank 2 \(valid: -2 to 1\)/);
    expect(() => tensor([[1, 2]]).sum([0, -2])).toThrow(/sum: axis 0 is listed twice/);
  });
  test("a float32 sum of 1e6 elements is accurate (float64 accumulation)", () => {
    const n = 1_000_000;
    const x = tensor(new Float32Array(n).fill(0.1));
    expect(x.sum().item()).toBeCloseTo(Math.fround(0.1) * n, 0);
  });
});

describe("properties of broadcasting", () => {
  test("add is commutative and broadcasts to the reference shape", () => {
    const dim = fc.integer({ min: 1, max: 3 });
    fc.assert(
      fc.property(fc.array(dim, { maxLength: 3 }), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 2 }), (shape, ones, drop) => {
        const other = shape.slice(Math.min(drop, shape.length)).map((d, i) => (ones[i] ? 1 : d));
        const a = make(shape, "float64", 1), b = make(other, "float64", 2);
        const ab = a.add(b), ba = b.add(a);
        expect(ab.shape).toEqual(refBroadcastShape(shape, other));
        expect(ab.dataSync()).toEqual(ba.dataSync());
      }),
      { numRuns: 100 },
    );
  });
});

describe("the vector-space members of Tensor", () => {
  test("scaled and dot", () => {
    expect(tensor([1, 2]).scaled(3).toArray()).toEqual([3, 6]);
    expect(tensor([1, 2]).dot(tensor([3, 4]))).toBe(11);
    expect(tensor([[0.1, 0.2]], { dtype: "float64" }).dot(tensor([[0.3, 0.4]], { dtype: "float64" }))).toBeCloseTo(0.11, 15);
    expect(() => tensor([1, 2]).dot(tensor([1, 2, 3]))).toThrow(/dot: both tensors must have the same shape, got \[2\] and \[3\]/);
  });
});
