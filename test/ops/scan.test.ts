/** cumsum, cumprod and reverse compared with plain loops, over axes, options, dtypes and edge shapes. */
import { describe, expect, test } from "vitest";
import { cumprod, cumsum, gradient, reverse, tensor, valueWithPullback, type Tensor } from "../../src/index.js";
import { close, make, ravel, size, stored, unravel } from "../helpers/reference.js";

/** A plain running sum or product along `axis`, with TensorFlow's exclusive and reverse flags. */
function scanRef(x: Tensor, axis: number, kind: "sum" | "prod", exclusive: boolean, rev: boolean): number[] {
  const shape = x.shape;
  const a = axis < 0 ? axis + shape.length : axis;
  const xv = x.dataSync();
  const out = new Array<number>(xv.length);
  for (let i = 0; i < xv.length; i++) {
    const idx = unravel(i, shape);
    let acc = kind === "sum" ? 0 : 1;
    const n = shape[a]!;
    for (let j = 0; j < n; j++) {
      const before = rev ? j > idx[a]! : j < idx[a]!;
      const self = j === idx[a];
      if (before || (self && !exclusive)) {
        const k = idx.slice();
        k[a] = j;
        acc = kind === "sum" ? acc + xv[ravel(k, shape)]! : acc * xv[ravel(k, shape)]!;
      }
    }
    out[i] = acc;
  }
  return out;
}

const cases: [number[], number][] = [[[5], 0], [[2, 3], 0], [[2, 3], 1], [[2, 3, 4], -1], [[2, 3, 4], 1], [[1, 1], 0], [[0, 3], 1], [[3, 0], 1]];

describe.each(["float32", "float64", "int32"] as const)("%s", (dtype) => {
  for (const [name, f, kind] of [["cumsum", cumsum, "sum"], ["cumprod", cumprod, "prod"]] as const) {
    test.each(cases)(`${name} %j along %i, all four flag combinations`, (shape, axis) => {
      const x = make(shape, dtype, 3, kind === "prod" ? -2 : -5, kind === "prod" ? 2 : 5);
      for (const exclusive of [false, true]) {
        for (const rev of [false, true]) {
          const y = f(x, axis, { exclusive, reverse: rev });
          expect(y.shape).toEqual(shape);
          expect(y.dtype).toBe(dtype);
          const expected = scanRef(x, axis, kind, exclusive, rev).map((v) => stored(v, dtype));
          close(y.dataSync(), expected, dtype);
          if (dtype !== "int32") {
            // Under a differential operator cumprod runs its prefix scan instead of the kernel: same values.
            const traced = valueWithPullback(x, (t) => f(t, axis, { exclusive, reverse: rev })).value;
            close(traced.dataSync(), expected, dtype);
          }
        }
      }
    });
  }
  test.each([[[4], [0]], [[2, 3], [1]], [[2, 3], [0, 1]], [[2, 3, 2], [0, 2]], [[0, 2], [0]]] as const)("reverse %j over %j", (shape, axes) => {
    const x = make(shape, dtype, 4);
    const y = reverse(x, axes);
    const xv = x.dataSync();
    const expected = Array.from({ length: size(shape) }, (_, i) => {
      const idx = unravel(i, shape);
      for (const a of axes) idx[a] = shape[a]! - 1 - idx[a]!;
      return xv[ravel(idx, shape)]!;
    });
    expect(Array.from(y.dataSync())).toEqual(expected);
  });
});

describe("scan details", () => {
  test("the default axis is the last; reverse() with no axes reverses all", () => {
    expect(cumsum(tensor([[1, 2], [3, 4]])).toArray()).toEqual([[1, 3], [3, 7]]);
    expect(reverse(tensor([[1, 2], [3, 4]])).toArray()).toEqual([[4, 3], [2, 1]]);
  });
  test("int32 cumsum and cumprod wrap like int32 add and mul", () => {
    expect(cumsum(tensor([2147483647, 1], { dtype: "int32" })).toArray()).toEqual([2147483647, -2147483648]);
    expect(cumprod(tensor([65536, 65536], { dtype: "int32" })).toArray()).toEqual([65536, 0]);
  });
  test("cumprod's gradient is exact with one and with several zeros (no 0/0)", () => {
    // d/dx_k Σ_i Π_{j<=i} x_j = Σ_{i>=k} Π_{j<=i, j!=k} x_j, by brute force.
    const brute = (x: number[]): number[] =>
      x.map((_, k) => {
        let s = 0;
        for (let i = k; i < x.length; i++) {
          let p = 1;
          for (let j = 0; j <= i; j++) if (j !== k) p *= x[j]!;
          s += p;
        }
        return s;
      });
    for (const v of [[2, 0, 3, 4], [0, 0, 3, 4], [1.5, -2, 0, 0.5], [0, 2, 0, 0]]) {
      const g = gradient(tensor(v, { dtype: "float64" }), (x) => cumprod(x).sum());
      expect(Array.from(g.dataSync())).toEqual(brute(v));
    }
  });
  test("errors name the op and the fix", () => {
    expect(() => cumsum(tensor(3))).toThrow(/^cumsum: needs a tensor of rank >= 1 .* reshape it to \[1\] first/);
    expect(() => cumprod(tensor([1, 2]), 1)).toThrow(/^cumprod: axis 1 is out of range for a tensor of rank 1/);
    expect(() => reverse(tensor([1, 2]), [0, 0])).toThrow(/^reverse: axis 0 is listed twice/);
    expect(() => cumsum(tensor([1]), 0, 5 as never)).toThrow(/^cumsum: options must be an object/);
  });
});
