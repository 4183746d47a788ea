/** sort, argsort and topk compared with a plain stable sort, over axes, dtypes, ties, NaN and edge shapes. */
import { describe, expect, test } from "vitest";
import { argsort, sort, tensor, topk, type Tensor } from "../../src/index.js";
import { make, ravel, unravel } from "../helpers/reference.js";

/** NumPy's order: NaN above everything; a stable sort of positions. */
function order(line: number[], descending: boolean): number[] {
  const key = (v: number): number => (Number.isNaN(v) ? Infinity : v);
  const rank = (v: number): number => (Number.isNaN(v) ? 1 : 0);
  const pos = line.map((_, i) => i);
  return pos.sort((i, j) => {
    const a = line[i]!, b = line[j]!;
    let c = key(a) - key(b) || rank(a) - rank(b);
    if (Number.isNaN(c)) c = 0; // Infinity - Infinity
    if (descending) c = -c;
    return c || i - j;
  });
}

/** argsort along `axis` by extracting every line. */
function argsortRef(x: Tensor, axis: number, descending: boolean): number[] {
  const shape = x.shape;
  const xv = x.dataSync();
  const out = new Array<number>(xv.length);
  for (let i = 0; i < xv.length; i++) {
    const idx = unravel(i, shape);
    if (idx[axis] !== 0) continue;
    const line = Array.from({ length: shape[axis]! }, (_, j) => {
      const k = idx.slice();
      k[axis] = j;
      return xv[ravel(k, shape)]!;
    });
    order(line, descending).forEach((src, j) => {
      const k = idx.slice();
      k[axis] = j;
      out[ravel(k, shape)] = src;
    });
  }
  return out;
}

const cases: [number[], number][] = [[[6], 0], [[3, 4], 1], [[3, 4], 0], [[2, 3, 4], 1], [[1, 1], 0], [[0, 3], 1], [[3, 0], 1]];

describe.each(["float32", "float64", "int32"] as const)("%s", (dtype) => {
  test.each(cases)("argsort and sort %j along %i, both directions, with ties", (shape, axis) => {
    const x = make(shape, dtype, 9, -3, 3).round(); // few distinct values: many ties
    for (const descending of [false, true]) {
      const ref = argsortRef(x, axis, descending);
      const idx = argsort(x, axis, { descending });
      expect(idx.dtype).toBe("int32");
      expect(Array.from(idx.dataSync())).toEqual(ref);
      const xv = x.dataSync();
      const sorted = sort(x, axis, { descending });
      expect(sorted.dtype).toBe(dtype);
      expect(Array.from(sorted.dataSync())).toEqual(
        ref.map((src, i) => {
          const k = unravel(i, shape);
          k[axis] = src;
          return xv[ravel(k, shape)]!;
        }),
      );
    }
  });
  test.each([[[5], 2], [[3, 4], 4], [[2, 2, 3], 1], [[3, 4], 0], [[0, 3], 2]] as const)("topk of %j, k = %i", (shape, k) => {
    const x = make(shape, dtype, 10, -3, 3).round();
    const { values, indices } = topk(x, k);
    const last = shape.length - 1;
    const full = argsortRef(x, last, true);
    const keep = (_: number, i: number): boolean => unravel(i, shape)[last]! < k;
    const expectedIdx = full.filter(keep);
    expect(indices.shape).toEqual([...shape.slice(0, -1), k]);
    expect(Array.from(indices.dataSync())).toEqual(expectedIdx);
    const xv = x.dataSync();
    const rows = expectedIdx.map((src, i) => xv[Math.floor(i / Math.max(k, 1)) * shape[last]! + src]!);
    expect(Array.from(values.dataSync())).toEqual(rows);
    expect(values.dtype).toBe(dtype);
  });
});

describe("sorting details", () => {
  test("NaN sorts last ascending and first descending; infinities in between", () => {
    const x = tensor([3, NaN, -Infinity, 1, Infinity, NaN], { dtype: "float64" });
    expect(sort(x).toArray()).toEqual([-Infinity, 1, 3, Infinity, NaN, NaN]);
    expect(argsort(x).toArray()).toEqual([2, 3, 0, 4, 1, 5]);
    expect(sort(x, 0, { descending: true }).toArray()).toEqual([NaN, NaN, Infinity, 3, 1, -Infinity]);
    expect(topk(x, 2).indices.toArray()).toEqual([1, 5]);
  });
  test("topk (a bounded heap) equals the first k of a stable descending argsort, for every k, with ties and NaN", () => {
    for (let seed = 0; seed < 20; seed++) {
      const x = make([3, 9], "float64", 100 + seed, -2, 2).round();
      const v = Array.from(x.dataSync(), (e, i) => ((i * 7 + seed) % 11 === 0 ? NaN : e));
      const t = tensor(v, { shape: [3, 9], dtype: "float64" });
      const full = argsort(t, -1, { descending: true }).toArray() as number[][];
      for (let k = 0; k <= 9; k++) {
        expect(topk(t, k).indices.toArray()).toEqual(full.map((row) => row.slice(0, k)));
      }
    }
  });
  test("topk takes the lower index first among ties", () => {
    const r = topk(tensor([[1, 5, 3, 5], [2, 2, 2, 2]]), 3);
    expect(r.values.toArray()).toEqual([[5, 5, 3], [2, 2, 2]]);
    expect(r.indices.toArray()).toEqual([[1, 3, 2], [0, 1, 2]]);
  });
  test("errors name the op, the shapes and the fix", () => {
    expect(() => sort(tensor(1))).toThrow(/^sort: needs a tensor of rank >= 1/);
    expect(() => argsort(tensor([1]), 2)).toThrow(/^argsort: axis 2 is out of range for a tensor of rank 1/);
    expect(() => topk(tensor([1, 2, 3]), 4)).toThrow(/^topk: k must be an integer from 0 to 3 \(the last axis of shape \[3\]\), got 4/);
    expect(() => topk(tensor([1, 2, 3]), 1.5)).toThrow(/^topk: k must be an integer/);
  });
});
