/** norm, l2Normalize, outer, diag, bandPart and the mirrored pad modes against plain loops. */
import { describe, expect, test } from "vitest";
import { bandPart, diag, gradient, l2Normalize, norm, outer, pad, tensor, type Tensor } from "../../src/index.js";
import { close, make, ravel, size, stored, unravel } from "../helpers/reference.js";

/** Lines of `x` along `axis` (kept axes in order): the reference's view for per-axis norms. */
function lines(x: Tensor, axis: number): number[][] {
  const shape = x.shape;
  const xv = x.dataSync();
  const out: number[][] = [];
  for (let i = 0; i < xv.length; i++) {
    const idx = unravel(i, shape);
    if (idx[axis] !== 0) continue;
    out.push(Array.from({ length: shape[axis]! }, (_, j) => {
      const k = idx.slice();
      k[axis] = j;
      return xv[ravel(k, shape)]!;
    }));
  }
  return out;
}
const vnorm = (v: number[], p: number): number =>
  p === Infinity ? Math.max(...v.map(Math.abs)) : p === -Infinity ? Math.min(...v.map(Math.abs)) : v.reduce((s, e) => s + Math.abs(e) ** p, 0) ** (1 / p);

describe.each(["float32", "float64"] as const)("%s", (dtype) => {
  test.each([1, 2, 3, 1.5, Infinity, -Infinity])("vector norm of order %s, all elements and along each axis", (p) => {
    const x = make([3, 4], dtype, 40);
    close(norm(x, p).dataSync(), [stored(vnorm(Array.from(x.dataSync()), p), dtype)], dtype, 1e-5);
    for (const axis of [0, 1]) {
      const y = norm(x, p, axis);
      expect(y.shape).toEqual([x.shape[1 - axis]!]);
      close(y.dataSync(), lines(x, axis).map((l) => stored(vnorm(l, p), dtype)), dtype, 1e-5);
      expect(norm(x, p, axis, true).shape).toEqual(axis === 0 ? [1, 4] : [3, 1]);
    }
  });
  test("matrix norms over a pair of axes: 'fro', 1 (column sums) and Infinity (row sums)", () => {
    const x = make([2, 3, 4], dtype, 41);
    const xv = x.dataSync();
    const at = (b: number, i: number, j: number): number => xv[b * 12 + i * 4 + j]!;
    const fro: number[] = [], one: number[] = [], inf: number[] = [];
    for (let b = 0; b < 2; b++) {
      let f = 0;
      const cols = new Array<number>(4).fill(0), rows = new Array<number>(3).fill(0);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) {
        f += at(b, i, j) ** 2;
        cols[j]! += Math.abs(at(b, i, j));
        rows[i]! += Math.abs(at(b, i, j));
      }
      fro.push(Math.sqrt(f));
      one.push(Math.max(...cols));
      inf.push(Math.max(...rows));
    }
    close(norm(x, "fro", [1, 2]).dataSync(), fro.map((v) => stored(v, dtype)), dtype, 1e-5);
    close(norm(x, 1, [1, 2]).dataSync(), one.map((v) => stored(v, dtype)), dtype, 1e-5);
    close(norm(x, Infinity, [1, 2]).dataSync(), inf.map((v) => stored(v, dtype)), dtype, 1e-5);
    close(norm(x, Infinity, [2, 1]).dataSync(), one.map((v) => stored(v, dtype)), dtype, 1e-5);
    expect(norm(x, "fro", [1, 2], true).shape).toEqual([2, 1, 1]);
  });
  test("l2Normalize along the last axis and along all axes", () => {
    const x = make([3, 4], dtype, 42);
    const y = l2Normalize(x);
    close(y.dataSync(), lines(x, 1).flatMap((l) => l.map((v) => stored(v / vnorm(l, 2), dtype))), dtype, 1e-5);
    const all = l2Normalize(x, [0, 1]);
    const n = vnorm(Array.from(x.dataSync()), 2);
    close(all.dataSync(), Array.from(x.dataSync(), (v) => stored(v / n, dtype)), dtype, 1e-5);
  });
});

describe("norm details", () => {
  test("int32 input gives float32", () => {
    expect(norm(tensor([3, 4], { dtype: "int32" })).dtype).toBe("float32");
    expect(norm(tensor([3, 4], { dtype: "int32" })).item()).toBe(5);
  });
  test("the derivative at 0 is 0 for every order (not NaN), and finite for l2Normalize", () => {
    for (const p of [1, 2, 3, Infinity]) {
      expect(gradient(tensor([0, 0, 0], { dtype: "float64" }), (x) => norm(x, p)).toArray()).toEqual([0, 0, 0]);
    }
    const g = gradient(tensor([0, 0], { dtype: "float64" }), (x) => l2Normalize(x).sum());
    expect((g.toArray() as number[]).every(Number.isFinite)).toBe(true);
  });
  test("errors name the op, the order and the fix", () => {
    const x = tensor([[1, 2], [3, 4]]);
    expect(() => norm(x, 2, [0, 1])).toThrow(/^norm: matrix norm order 2 over axes \[0,1\] is not supported \(yet\).*singular value decomposition/);
    expect(() => norm(x, 0.5)).toThrow(/^norm: the vector norm order must be a number >= 1/);
    expect(() => norm(x, "fro", 0)).toThrow(/^norm: 'fro' is a matrix norm/);
    expect(() => norm(x, 2, [0, 1, 0])).toThrow(/^norm: axis 0 is listed twice/);
    expect(() => norm(x, "max" as never)).toThrow(/^norm: unknown order "max"/);
    expect(() => l2Normalize(x, -1, 0)).toThrow(/^l2Normalize: epsilon must be a positive number/);
  });
});

describe("outer, diag, bandPart", () => {
  test.each(["float32", "float64", "int32"] as const)("%s against loops", (dtype) => {
    const a = make([3], dtype, 50), b = make([4], dtype, 51);
    const av = a.dataSync(), bv = b.dataSync();
    expect(Array.from(outer(a, b).dataSync())).toEqual(Array.from({ length: 12 }, (_, i) => stored(av[Math.floor(i / 4)]! * bv[i % 4]!, dtype)));
    for (const k of [-2, 0, 1]) {
      const d = diag(a, k);
      const n = 3 + Math.abs(k);
      expect(d.shape).toEqual([n, n]);
      expect(Array.from(d.dataSync())).toEqual(Array.from({ length: n * n }, (_, i) => {
        const [r, c] = [Math.floor(i / n), i % n];
        return c - r === k ? av[Math.min(r, c)]! : 0;
      }));
    }
    const m = make([3, 4], dtype, 52);
    const mv = m.dataSync();
    for (const k of [-3, -1, 0, 2, 4]) {
      const expected: number[] = [];
      for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) if (c - r === k) expected.push(mv[r * 4 + c]!);
      expect(Array.from(diag(m, k).dataSync())).toEqual(expected);
    }
    const x = make([2, 3, 4], dtype, 53);
    const xv = x.dataSync();
    for (const [lo, up] of [[0, 0], [1, 0], [0, -1], [-1, 1], [-1, -1]] as const) {
      const y = bandPart(x, lo, up);
      expect(Array.from(y.dataSync())).toEqual(Array.from(xv, (v, i) => {
        const [, r, c] = unravel(i, [2, 3, 4]) as [number, number, number];
        return (lo < 0 || r - c <= lo) && (up < 0 || c - r <= up) ? v : 0;
      }));
    }
  });
  test("errors", () => {
    expect(() => diag(tensor([[[1]]]))).toThrow(/^diag: x must be a vector or a matrix, got shape \[1,1,1\]; for batches of matrices use einsum/);
    expect(() => diag(tensor([1]), 0.5)).toThrow(/^diag: the diagonal offset k must be an integer/);
    expect(() => bandPart(tensor([1]), 0, 0)).toThrow(/^bandPart: x must have rank >= 2/);
    expect(() => bandPart(tensor([[1]]), 0.5, 0)).toThrow(/^bandPart: numLower must be an integer/);
  });
});

describe("reflect and symmetric padding", () => {
  /** NumPy's definitions of the two mirror modes, per axis. */
  const source = (p: number, d: number, mode: "reflect" | "symmetric"): number => {
    if (mode === "reflect") return p < 0 ? -p : p >= d ? 2 * (d - 1) - p : p;
    return p < 0 ? -p - 1 : p >= d ? 2 * d - 1 - p : p;
  };
  test.each([
    ["reflect", [3, 4], [[2, 1], [0, 3]]],
    ["symmetric", [3, 4], [[3, 0], [4, 2]]],
    ["reflect", [2, 2, 3], [[1, 1], [0, 0], [2, 2]]],
    ["symmetric", [1, 2], [[1, 1], [2, 1]]],
  ] as const)("%s %j by %j", (mode, shape, paddings) => {
    for (const dtype of ["float32", "float64", "int32"] as const) {
      const x = make(shape, dtype, 60);
      const y = pad(x, paddings, { mode });
      const outShape = shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1]);
      expect(y.shape).toEqual(outShape);
      const xv = x.dataSync();
      expect(Array.from(y.dataSync())).toEqual(Array.from({ length: size(outShape) }, (_, i) => {
        const idx = unravel(i, outShape).map((o, a) => source(o - paddings[a]![0], shape[a]!, mode));
        return xv[ravel(idx, shape)]!;
      }));
    }
  });
  test("constant mode through the options object, and the limits of the mirror modes", () => {
    expect(pad(tensor([1, 2]), [[1, 1]], { value: 7 }).toArray()).toEqual([7, 1, 2, 7]);
    expect(tensor([1, 2, 3]).pad([[1, 1]], { mode: "reflect" }).toArray()).toEqual([2, 1, 2, 3, 2]);
    expect(() => pad(tensor([1, 2, 3]), [[3, 0]], { mode: "reflect" })).toThrow(
      /^pad: reflect padding of \[3, 0\] on axis 0 of shape \[3\] is too wide: reflect mode allows at most 2/,
    );
    expect(() => pad(tensor([1, 2, 3]), [[0, 4]], { mode: "symmetric" })).toThrow(/symmetric mode allows at most 3/);
    expect(() => pad(tensor([1]), [[1, 1]], { mode: "wrap" as never })).toThrow(/^pad: unknown mode "wrap"/);
    expect(() => pad(tensor([1, 2]), [[1, 1]], { mode: "reflect", value: 1 })).toThrow(/^pad: a fill value only applies to 'constant' mode/);
  });
});
