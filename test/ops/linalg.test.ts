import { describe, expect, it } from "vitest";
import { matmul, tensor, gradient, type DType, type Tensor } from "../../src/index.js";
import { matmulT } from "../../src/ops/linalg.js";
import { cpuLinalg } from "../../src/tensor/cpu/linalg.js";
import { rng } from "../helpers/rows.js";

/** Random values of a shape: integers in [-4, 4] (exact in every dtype) unless `real`. */
function values(shape: readonly number[], seed: number, real = false): number[] {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, () => (real ? r() * 2 - 1 : Math.floor(r() * 9) - 4));
}

function make(shape: readonly number[], seed: number, dtype: DType = "float64", real = false): Tensor {
  return tensor(values(shape, seed, real), { shape, dtype });
}

/**
 * Reference NumPy matmul written from the definition: promote vectors, broadcast batch indices one
 * output element at a time, sum over the inner index.
 */
function refMatmul(a: readonly number[], sa: readonly number[], b: readonly number[], sb: readonly number[]): { data: number[]; shape: number[] } {
  const A = sa.length === 1 ? [1, sa[0]!] : [...sa];
  const B = sb.length === 1 ? [sb[0]!, 1] : [...sb];
  const m = A[A.length - 2]!, k = A[A.length - 1]!, n = B[B.length - 1]!;
  const ba = A.slice(0, -2), bb = B.slice(0, -2);
  const rank = Math.max(ba.length, bb.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = ba[ba.length - rank + i] ?? 1, y = bb[bb.length - rank + i] ?? 1;
    batch.push(x === 1 ? y : x);
  }
  const nb = batch.reduce((p, q) => p * q, 1);
  const data: number[] = [];
  for (let t = 0; t < nb; t++) {
    // Unravel t over the batch shape, then ravel into each operand with broadcasting.
    const idx: number[] = [];
    let rem = t;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = rem % batch[d]!;
      rem = Math.floor(rem / batch[d]!);
    }
    const offset = (shape: number[]): number => {
      let o = 0;
      const r = shape.length;
      for (let d = 0; d < r; d++) o = o * shape[d]! + (shape[d] === 1 ? 0 : idx[rank - r + d]!);
      return o;
    };
    const oa = offset(ba) * m * k, ob = offset(bb) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[oa + i * k + p]! * b[ob + p * n + j]!;
        data.push(s);
      }
    }
  }
  const shape = [...batch];
  if (sa.length > 1) shape.push(m);
  if (sb.length > 1) shape.push(n);
  return { data, shape };
}

/** Explicit transpose of the last two axes of flat data. */
function transposeLast(data: readonly number[], shape: readonly number[]): { data: number[]; shape: number[] } {
  const r = shape.length;
  const rows = shape[r - 2]!, cols = shape[r - 1]!;
  const out: number[] = [];
  for (let t = 0; t < data.length / (rows * cols); t++) {
    for (let j = 0; j < cols; j++) for (let i = 0; i < rows; i++) out.push(data[t * rows * cols + i * cols + j]!);
  }
  return { data: out, shape: [...shape.slice(0, -2), cols, rows] };
}

function expectClose(actual: Tensor, expected: { data: number[]; shape: number[] }, tol = 0): void {
  expect(actual.shape).toEqual(expected.shape);
  const got = Array.from(actual.dataSync());
  expect(got.length).toBe(expected.data.length);
  for (let i = 0; i < got.length; i++) {
    const e = expected.data[i]!;
    if (Math.abs(got[i]! - e) > tol * (1 + Math.abs(e))) {
      throw new Error(`element ${i}: got ${got[i]}, expected ${e}`);
    }
  }
}

const cases: [number[], number[]][] = [
  [[2, 3], [3, 4]],
  [[1, 1], [1, 1]],
  [[5, 7], [7, 3]],
  [[0, 3], [3, 4]],
  [[3, 0], [0, 4]],
  [[3, 4], [4, 0]],
  [[4], [4]],
  [[4], [4, 3]],
  [[2, 3, 4], [4]],
  [[4], [2, 4, 3]],
  [[2, 1, 3, 4], [3, 4, 5]],
  [[3, 1, 5, 6], [1, 4, 6, 7]],
  [[2, 3, 4], [4, 5]],
  [[4, 5], [2, 5, 3]],
  [[0, 2, 3], [3, 2]],
  [[2, 0, 3], [2, 3, 1]],
  [[17, 33], [33, 19]],
  [[67, 131], [131, 45]],
  [[2, 70, 300], [300, 33]],
  [[3, 9, 260], [3, 260, 6]],
];

describe("matmul", () => {
  for (const dtype of ["float32", "float64", "int32"] as const) {
    for (const [sa, sb] of cases) {
      it(`${dtype} ${JSON.stringify(sa)} x ${JSON.stringify(sb)} matches the reference`, () => {
        const a = values(sa, 1), b = values(sb, 2);
        const y = matmul(tensor(a, { shape: sa, dtype }), tensor(b, { shape: sb, dtype }));
        expect(y.dtype).toBe(dtype);
        // Integer data: every dtype is exact (float32 sums of these stay far below 2^24).
        expectClose(y, refMatmul(a, sa, b, sb));
      });
    }
  }

  it("real-valued float32 agrees with a float64 reference to float32 precision", () => {
    const sa = [45, 301], sb = [301, 29];
    const a = values(sa, 3, true).map(Math.fround), b = values(sb, 4, true).map(Math.fround);
    const y = matmul(tensor(a, { shape: sa }), tensor(b, { shape: sb }));
    expectClose(y, refMatmul(a, sa, b, sb), 1e-5);
  });

  it("the Tensor method is the same op", () => {
    const a = make([3, 4], 5), b = make([4, 2], 6);
    expect(a.matmul(b).toArray()).toEqual(matmul(a, b).toArray());
  });

  it("promotes mixed dtypes", () => {
    const a = make([2, 3], 7, "int32"), b = make([3, 2], 8, "float32");
    const y = matmul(a, b);
    expect(y.dtype).toBe("float32");
    expectClose(y, refMatmul(values([2, 3], 7), [2, 3], values([3, 2], 8), [3, 2]));
    expect(matmul(make([2, 3], 7, "float32"), make([3, 2], 8, "float64")).dtype).toBe("float64");
  });

  it("two vectors give a scalar", () => {
    const y = matmul(tensor([1, 2, 3]), tensor([4, 5, 6]));
    expect(y.shape).toEqual([]);
    expect(y.item()).toBe(32);
  });

  describe("transposed reads (the primitive's flags)", () => {
    const shapes: [number[], number[]][] = [
      [[3, 5], [5, 4]],
      [[2, 1, 7, 9], [3, 9, 6]],
      [[1, 37, 70], [2, 70, 41]],
    ];
    for (const [sa, sb] of shapes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          it(`op(A)·op(B) with transposeA=${ta} transposeB=${tb}, ${JSON.stringify(sa)} x ${JSON.stringify(sb)}`, () => {
            const a = values(sa, 9), b = values(sb, 10);
            // Store each operand transposed when its flag is set; the product must be unchanged.
            const A = ta ? transposeLast(a, sa) : { data: a, shape: sa };
            const B = tb ? transposeLast(b, sb) : { data: b, shape: sb };
            const y = matmulT(tensor(A.data, { shape: A.shape }), tensor(B.data, { shape: B.shape }), ta, tb);
            expectClose(y, refMatmul(a, sa, b, sb));
          });
        }
      }
    }
  });

  it("the kernel handles blocks larger than its cache blocking, with ragged edges", () => {
    // m, k, n cross the MC = 128, KC = 256, NC = 512 block sizes, none a multiple of 4.
    const m = 131, k = 517, n = 523;
    const a = Float64Array.from(values([m, k], 11)), b = Float64Array.from(values([k, n], 12));
    const out = new Float64Array(m * n);
    cpuLinalg.matmul(a, b, out, [], [], [], m, k, n, false, false);
    const ref = refMatmul(Array.from(a), [m, k], Array.from(b), [k, n]);
    for (let i = 0; i < out.length; i += 97) expect(out[i]).toBe(ref.data[i]);
    expect(out[out.length - 1]).toBe(ref.data[out.length - 1]);
  });

  it("the kernel overwrites its output", () => {
    const out = new Float32Array(4).fill(7);
    cpuLinalg.matmul(new Float32Array([1, 2]), new Float32Array([3, 4]), out, [], [], [], 2, 1, 2, false, false);
    expect(Array.from(out)).toEqual([3, 4, 6, 8]);
    const empty = new Float32Array(4).fill(7);
    cpuLinalg.matmul(new Float32Array(0), new Float32Array(0), empty, [], [], [], 2, 0, 2, false, false);
    expect(Array.from(empty)).toEqual([0, 0, 0, 0]);
  });

  describe("gradients", () => {
    it("sums over broadcast batch dimensions", () => {
      const sa = [2, 1, 2, 3], sb = [3, 3, 2];
      const a = make(sa, 13), b = make(sb, 14);
      const [ga, gb] = gradient(a, b, (x: Tensor, y: Tensor) => matmul(x, y).sum());
      expect(ga.shape).toEqual(sa);
      expect(gb.shape).toEqual(sb);
      // d/dA Σ A·B = 1·Bᵀ summed over the batch entries each A[i] meets (all 3 of B's).
      const bv = values(sb, 14);
      for (let i = 0; i < 2; i++) {
        for (let p = 0; p < 3; p++) {
          let s = 0;
          for (let t = 0; t < 3; t++) for (let j = 0; j < 2; j++) s += bv[t * 6 + p * 2 + j]!;
          expect(ga.dataSync()[i * 3 + p] ?? NaN).toBeCloseTo(s, 10);
          expect(ga.dataSync()[6 + i * 3 + p] ?? NaN).toBeCloseTo(s, 10);
        }
      }
      // d/dB Σ A·B = Aᵀ·1 summed over A's two batch entries.
      const av = values(sa, 13);
      for (let t = 0; t < 3; t++) {
        for (let p = 0; p < 3; p++) {
          let s = 0;
          for (let u = 0; u < 2; u++) for (let i = 0; i < 2; i++) s += av[u * 6 + i * 3 + p]!;
          for (let j = 0; j < 2; j++) expect(gb.dataSync()[t * 6 + p * 2 + j] ?? NaN).toBeCloseTo(s, 10);
        }
      }
    });

    it("of vector operands keeps their shapes", () => {
      const [gu, gv] = gradient(tensor([1, 2, 3], { dtype: "float64" }), tensor([4, 5, 6], { dtype: "float64" }), (u: Tensor, v: Tensor) =>
        matmul(u, v),
      );
      expect(gu.toArray()).toEqual([4, 5, 6]);
      expect(gv.toArray()).toEqual([1, 2, 3]);
    });
  });

  describe("errors", () => {
    it("names both shapes when inner dimensions differ", () => {
      expect(() => matmul(make([2, 3], 1), make([4, 5], 2))).toThrow("matmul: inner dimensions differ: [2,3] x [4,5] (3 vs 4)");
      expect(() => matmul(make([3], 1), make([4], 2))).toThrow("matmul: inner dimensions differ: [3] x [4] (3 vs 4)");
    });
    it("rejects scalars", () => {
      expect(() => matmul(tensor(2), make([2, 2], 1))).toThrow(/matmul: operands must have rank ≥ 1, got \[\] x \[2,2\]/);
    });
    it("rejects batch dimensions that do not broadcast", () => {
      expect(() => matmul(make([2, 2, 3], 1), make([3, 3, 4], 2))).toThrow(
        "matmul: batch dimensions [2] and [3] of [2,2,3] x [3,3,4] do not broadcast",
      );
    });
    it("rejects non-tensors", () => {
      expect(() => matmul(make([2, 2], 1), [[1, 2], [3, 4]] as unknown as Tensor)).toThrow(
        /matmul: both operands must be Tensors, got Tensor\[2,2\] and an array/,
      );
    });
  });
});
