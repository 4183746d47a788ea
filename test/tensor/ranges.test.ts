import { describe, expect, it } from "vitest";
import { tensor, ones, zeros } from "../../src/tensor/creation.js";
import { arange, eye, linspace, oneHot, onesLike, zerosLike } from "../../src/tensor/ranges.js";

describe("arange", () => {
  it("follows start, stop and step", () => {
    expect(arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(arange(2, 5).toArray()).toEqual([2, 3, 4]);
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(3, 0, -1).toArray()).toEqual([3, 2, 1]);
    expect(arange(0, 1, 0.3, { dtype: "float64" }).toArray()).toEqual([0, 0.3, 0.6, 0.8999999999999999]);
    expect(arange(5, 2).shape).toEqual([0]);
    expect(arange(0).shape).toEqual([0]);
    const i = arange(-3, 3, 2, { dtype: "int32" });
    expect(i.dtype).toBe("int32");
    expect(i.toArray()).toEqual([-3, -1, 1]);
    expect(arange(3).dtype).toBe("float32");
  });

  it("rejects a zero step and non-finite bounds", () => {
    expect(() => arange(0, 5, 0)).toThrow("arange: step must not be 0");
    expect(() => arange(NaN)).toThrow("arange: start must be a finite number, got NaN");
    expect(() => arange(0, Infinity)).toThrow("stop must be a finite number");
    expect(() => arange(0, 2, 0.5, { dtype: "int32" })).toThrow("an int32 range needs an integer start and step");
    expect(() => arange(0, 2 ** 40)).toThrow("more than a tensor can hold (2147483647, 2^31 - 1)");
  });
});

describe("linspace", () => {
  it("includes both ends", () => {
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(2, -2, 3, { dtype: "float64" }).toArray()).toEqual([2, 0, -2]);
    expect((linspace(0, 0.3, 4, { dtype: "float64" }).toArray() as number[])[3]).toBe(0.3);
    expect(linspace(3, 7, 1).toArray()).toEqual([3]);
    expect(linspace(3, 7, 0).shape).toEqual([0]);
    expect(linspace(0, 10, 3, { dtype: "int32" }).toArray()).toEqual([0, 5, 10]);
  });

  it("rejects a bad count", () => {
    expect(() => linspace(0, 1, -1)).toThrow("linspace: num must be a non-negative integer, got -1");
    expect(() => linspace(0, 1, 2.5)).toThrow("num must be a non-negative integer");
    expect(() => linspace(0, NaN, 3)).toThrow("stop must be a finite number");
  });
});

describe("eye", () => {
  it("builds identity matrices, square or not", () => {
    expect(eye(2).toArray()).toEqual([[1, 0], [0, 1]]);
    expect(eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(eye(3, 1, { dtype: "int32" }).toArray()).toEqual([[1], [0], [0]]);
    expect(eye(0).shape).toEqual([0, 0]);
    for (const n of [1, 4, 7]) {
      const v = eye(n, n + 1).toArray() as number[][];
      v.forEach((row, i) => row.forEach((x, j) => expect(x).toBe(i === j ? 1 : 0)));
    }
  });

  it("rejects bad sizes", () => {
    expect(() => eye(-1)).toThrow("eye: n must be a non-negative integer, got -1");
    expect(() => eye(2, 1.5)).toThrow("eye: m must be a non-negative integer, got 1.5");
  });
});

describe("oneHot", () => {
  it("encodes indices of any shape", () => {
    expect(oneHot([0, 2], 3).toArray()).toEqual([[1, 0, 0], [0, 0, 1]]);
    const t = oneHot(tensor([[1], [0]], { dtype: "int32" }), 2, { onValue: 5, offValue: -1, dtype: "int32" });
    expect(t.shape).toEqual([2, 1, 2]);
    expect(t.dtype).toBe("int32");
    expect(t.toArray()).toEqual([[[-1, 5]], [[5, -1]]]);
    expect(oneHot(tensor([2, 1]), 3).toArray()).toEqual([[0, 0, 1], [0, 1, 0]]);
    expect(oneHot(tensor(1, { dtype: "int32" }), 2).toArray()).toEqual([0, 1]);
    expect(oneHot([], 4).shape).toEqual([0, 4]);
  });

  it("reports out-of-range and non-integer indices", () => {
    expect(() => oneHot([0, 3], 3)).toThrow("oneHot: index 3 at flat position 1 is out of range for depth 3 (valid: 0 to 2)");
    expect(() => oneHot([-1], 3)).toThrow("index -1 at flat position 0 is out of range");
    expect(() => oneHot(tensor([0.5]), 3)).toThrow("oneHot: indices must be integers, got 0.5 at flat position 0");
    expect(() => oneHot([0], -2)).toThrow("depth must be a non-negative integer");
  });
});

describe("zerosLike and onesLike", () => {
  it("copy shape and dtype", () => {
    const z = zerosLike(ones([2, 3], { dtype: "int32" }));
    expect(z.shape).toEqual([2, 3]);
    expect(z.dtype).toBe("int32");
    expect(z.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    const o = onesLike(zeros([0, 2], { dtype: "float64" }));
    expect(o.shape).toEqual([0, 2]);
    expect(o.dtype).toBe("float64");
    expect(onesLike(tensor(3)).toArray()).toBe(1);
    expect(onesLike(zeros([2]), { dtype: "float64" }).dtype).toBe("float64");
    expect(() => zerosLike([1, 2] as never)).toThrow("zerosLike: x must be a Tensor");
  });
});
