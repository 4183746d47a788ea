/**
 * Errors that never mislead: each names the op the user called (not the primitive it is built on), the
 * shapes or values involved, and the fix; and the documented rules for sizes, int32 casts and int32
 * overflow hold.
 */
import { describe, expect, test } from "vitest";
import {
  MAX_TENSOR_SIZE,
  arange,
  broadcastTo,
  cast,
  clip,
  expandDims,
  eye,
  full,
  linspace,
  oneHot,
  randomNormal,
  randomUniform,
  tile,
  logSoftmax,
  logSumExp,
  max,
  mean,
  ones,
  rsqrt,
  softmax,
  square,
  stack,
  tensor,
  zeros,
  type Tensor,
} from "../../src/index.js";

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error");
}

describe("derived ops name themselves", () => {
  const x = ones([2, 3]);
  test.each([
    ["mean", () => mean(x, 5)],
    ["logSumExp", () => logSumExp(x, 5)],
    ["softmax", () => softmax(x, 5)],
    ["logSoftmax", () => logSoftmax(x, -3)],
    ["max", () => max(x, 2)],
    ["mean", () => mean(5 as unknown as Tensor)],
    ["logSumExp", () => logSumExp(5 as unknown as Tensor)],
    ["clip", () => clip(5 as unknown as Tensor, 0, 1)],
    ["square", () => square(5 as unknown as Tensor)],
    ["rsqrt", () => rsqrt(5 as unknown as Tensor)],
  ] as const)("%s", (op, f) => {
    const m = message(f);
    expect(m.startsWith(`${op}: `)).toBe(true);
  });

  test("an axis out of range states the tensor's own rank and the valid range", () => {
    expect(message(() => mean(x, 5))).toBe("mean: axis 5 is out of range for a tensor of rank 2 (valid: -2 to 1)");
  });

  test("expandDims and stack state the rank of the tensor and where a new axis may go", () => {
    const m = message(() => expandDims(ones([2]), 5));
    expect(m).toContain("expandDims: axis 5");
    expect(m).toContain("shape [2] (rank 1)");
    expect(m).toContain("from -2 to 1");
    expect(expandDims(ones([2]), -2).shape).toEqual([1, 2]);
    expect(expandDims(ones([2]), 1).shape).toEqual([2, 1]);
    expect(message(() => stack([ones([2]), ones([2])], -3))).toContain("stack: axis -3 is out of range for a new axis in a tensor of shape [2] (rank 1)");
  });

  test("clip with min > max names both and the fix", () => {
    expect(message(() => clip(ones([1]), 1, 0))).toBe("clip: min (1) must be <= max (0); swap them");
  });
});

describe("sizes are checked against MAX_TENSOR_SIZE", () => {
  test("the limit is 2^31 - 1 elements", () => {
    expect(MAX_TENSOR_SIZE).toBe(2 ** 31 - 1);
  });
  test.each([
    ["zeros", () => zeros([1e6, 1e6])],
    ["ones", () => ones([65536, 32768])],
    ["full", () => full([2 ** 31], 1)],
    ["tensor", () => tensor([1], { shape: [2 ** 16, 2 ** 16] })],
    ["eye", () => eye(1e5)],
    ["oneHot", () => oneHot([0, 1], 2e9)],
    ["randomNormal", () => randomNormal([1e5, 1e5])],
    ["randomUniform", () => randomUniform([1e5, 1e5])],
    ["broadcastTo", () => broadcastTo(ones([1]), [1e5, 1e5])],
    ["tile", () => tile(ones([1000]), [1e4, 1e3])],
    ["arange", () => arange(0, 3e9)],
    ["linspace", () => linspace(0, 1, 3e9)],
  ] as const)("%s", (op, f) => {
    const m = message(f);
    expect(m.startsWith(`${op}: `)).toBe(true);
    expect(m).toMatch(/more than a tensor can hold \(2147483647, 2\^31 - 1\)/);
  });
  test("the message names the shape and the element count", () => {
    expect(message(() => zeros([1e6, 1e6]))).toContain("shape [1000000,1000000] has 1000000000000 elements");
  });
});

describe("cast to int32: truncation toward zero, and an error for values with no int32", () => {
  test("in-range values truncate toward zero", () => {
    expect(cast(tensor([1.7, -1.7, 2147483647.9, -2147483648.5], { dtype: "float64" }), "int32").toArray()).toEqual([1, -1, 2147483647, -2147483648]);
  });
  test.each([
    [NaN, "NaN", "where(isNaN(x), 0, x)"],
    [1e10, "10000000000", "clip"],
    [-3e9, "-3000000000", "clip"],
    [Infinity, "Infinity", "clip"],
    [2147483648, "2147483648", "clip"],
  ])("%s is an error", (v, shown, fix) => {
    const m = message(() => cast(tensor([0, v], { dtype: "float64" }), "int32"));
    expect(m).toContain(`cast: value ${shown} at flat index 1`);
    expect(m).toContain(fix);
  });
  test("the same values are rejected by tensor() for int32 (one rule)", () => {
    expect(() => tensor([NaN], { dtype: "int32" })).toThrow(RangeError);
    expect(() => tensor([1e10], { dtype: "int32" })).toThrow(RangeError);
  });
  test("int32 to float is exact", () => {
    expect(cast(tensor([-2147483648, 2147483647], { dtype: "int32" }), "float64").toArray()).toEqual([-2147483648, 2147483647]);
  });
});

describe("int32 arithmetic wraps modulo 2^32", () => {
  const i32 = (v: number[]): Tensor => tensor(v, { dtype: "int32" });
  const wrap = (v: bigint): number => Number(BigInt.asIntN(32, v));
  test("add and sub", () => {
    expect(i32([2147483647]).add(1).toArray()).toEqual([-2147483648]);
    expect(i32([-2147483648]).sub(1).toArray()).toEqual([2147483647]);
  });
  test("mul gives the low 32 bits of the exact product, also past 2^53", () => {
    const a = [2147483647, 123456789, -2147483648, 46341];
    const b = [2147483647, 987654321, -1, 46341];
    const expected = a.map((x, i) => wrap(BigInt(x) * BigInt(b[i]!)));
    expect(i32(a).mul(i32(b)).toArray()).toEqual(expected);
  });
  test("pow is computed in float64 and wrapped, exact below 2^53", () => {
    expect(i32([3, 2, -2]).pow(i32([20, 31, 31])).toArray()).toEqual([wrap(3n ** 20n), wrap(2n ** 31n), wrap((-2n) ** 31n)]);
  });
  test("neg and abs of the minimum wrap to itself", () => {
    expect(i32([-2147483648]).neg().toArray()).toEqual([-2147483648]);
    expect(i32([-2147483648]).abs().toArray()).toEqual([-2147483648]);
  });
});
