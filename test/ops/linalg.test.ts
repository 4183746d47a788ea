import { describe, expect, it } from "vitest";
import {
  cholesky,
  det,
  gradient,
  inverse,
  logDet,
  matmul,
  qr,
  solve,
  tensor,
  triangularSolve,
  type DType,
  type Tensor,
} from "../../src/index.js";
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

// ---------------------------------------------------------------------------------------------------
// Decompositions, solves and determinants, checked by reconstruction identities computed with plain
// loops on the returned numbers.

/** The matrices of a stack as plain row-major arrays. */
function matrices(t: Tensor): number[][][] {
  const [m, n] = [t.shape[t.rank - 2]!, t.shape[t.rank - 1]!];
  const d = Array.from(t.dataSync());
  const out: number[][][] = [];
  for (let b = 0; b < d.length / (m * n); b++) {
    out.push(Array.from({ length: m }, (_, i) => d.slice(b * m * n + i * n, b * m * n + (i + 1) * n)));
  }
  return out;
}

function mul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, p) => s + v * b[p]![j]!, 0)));
}

function tr(a: number[][]): number[][] {
  return a[0]!.map((_, j) => a.map((row) => row[j]!));
}

function expectMatrixClose(got: number[][], want: number[][], tol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    for (let j = 0; j < want[i]!.length; j++) {
      const e = want[i]![j]!;
      if (!(Math.abs(got[i]![j]! - e) <= tol * (1 + Math.abs(e)))) throw new Error(`[${i}][${j}]: got ${got[i]![j]}, expected ${e}`);
    }
  }
}

const eye = (n: number): number[][] => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));

/** Determinant by cofactor expansion along the first row (exponential, for small matrices). */
function cofactorDet(a: number[][]): number {
  const n = a.length;
  if (n === 0) return 1;
  if (n === 1) return a[0]![0]!;
  let s = 0;
  for (let j = 0; j < n; j++) {
    const minor = a.slice(1).map((row) => row.filter((_, c) => c !== j));
    s += (j % 2 === 0 ? 1 : -1) * a[0]![j]! * cofactorDet(minor);
  }
  return s;
}

/** A random stack of symmetric positive-definite matrices `M·Mᵀ + n·I`, as nested arrays and as a tensor. */
function spdStack(batch: number[], n: number, seed: number, dtype: DType): Tensor {
  const count = batch.reduce((a, b) => a * b, 1);
  const data: number[] = [];
  for (let b = 0; b < count; b++) {
    const m = Array.from({ length: n }, (_, i) => values([n], seed * 31 + b * 7 + i, true));
    const a = mul(m, tr(m)).map((row, i) => row.map((v, j) => v + (i === j ? n : 0)));
    data.push(...a.flat());
  }
  return tensor(data, { shape: [...batch, n, n], dtype });
}

/** A random stack of well-conditioned general matrices (uniform plus `n` on the diagonal). */
function generalStack(batch: number[], n: number, seed: number, dtype: DType): Tensor {
  const count = batch.reduce((a, b) => a * b, 1);
  const v = values([count, n, n], seed, true);
  for (let b = 0; b < count; b++) for (let i = 0; i < n; i++) v[b * n * n + i * n + i] = v[b * n * n + i * n + i]! + n;
  return tensor(v, { shape: [...batch, n, n], dtype });
}

const tolerance = (dtype: DType): number => (dtype === "float32" ? 2e-5 : 1e-12);

describe("decompositions and solves", () => {
  for (const dtype of ["float64", "float32"] as const) {
    const tol = tolerance(dtype);
    describe(dtype, () => {
      it("cholesky: L is lower triangular with a positive diagonal and L·Lᵀ = A, batched", () => {
        const a = spdStack([2, 3], 4, 1, dtype);
        const l = cholesky(a);
        expect(l.shape).toEqual([2, 3, 4, 4]);
        expect(l.dtype).toBe(dtype);
        const as = matrices(a), ls = matrices(l);
        ls.forEach((L, b) => {
          for (let i = 0; i < 4; i++) {
            expect(L[i]![i]!).toBeGreaterThan(0);
            for (let j = i + 1; j < 4; j++) expect(L[i]![j]).toBe(0);
          }
          expectMatrixClose(mul(L, tr(L)), as[b]!, tol);
        });
      });

      it("triangularSolve: op(A)·X = B for each triangle and transpose, ignoring the other triangle", () => {
        const a = generalStack([2], 4, 2, dtype);
        const b = tensor(values([2, 4, 3], 3, true), { shape: [2, 4, 3], dtype });
        for (const lower of [true, false]) {
          for (const transpose of [false, true]) {
            const x = triangularSolve(a, b, { lower, transpose });
            expect(x.shape).toEqual([2, 4, 3]);
            matrices(a).forEach((A, k) => {
              const T = A.map((row, i) => row.map((v, j) => ((lower ? j <= i : j >= i) ? v : 0)));
              expectMatrixClose(mul(transpose ? tr(T) : T, matrices(x)[k]!), matrices(b)[k]!, tol * 10);
            });
          }
        }
      });

      it("solve: A·X = B, with a vector right-hand side and broadcast batch axes", () => {
        const a = generalStack([3], 5, 4, dtype);
        const b = tensor(values([5, 2], 5, true), { shape: [5, 2], dtype });
        const x = solve(a, b);
        expect(x.shape).toEqual([3, 5, 2]);
        matrices(a).forEach((A, k) => expectMatrixClose(mul(A, matrices(x)[k]!), matrices(b)[0]!, tol * 10));
        const v = tensor(values([5], 6, true), { dtype });
        const xv = solve(a, v);
        expect(xv.shape).toEqual([3, 5]);
        const vs = Array.from(v.dataSync());
        matrices(a).forEach((A, k) => {
          const col = Array.from(xv.dataSync()).slice(k * 5, k * 5 + 5);
          expectMatrixClose(mul(A, col.map((c) => [c])), vs.map((c) => [c]), tol * 10);
        });
      });

      it("solve pivots: a zero in the top-left corner is no obstacle", () => {
        const a = tensor([[0, 1], [1, 0]], { dtype });
        expect(solve(a, tensor([3, 4], { dtype })).toArray()).toEqual([4, 3]);
      });

      it("inverse: inverse(A)·A = I, batched", () => {
        const a = generalStack([2, 2], 4, 7, dtype);
        const inv = inverse(a);
        expect(inv.shape).toEqual([2, 2, 4, 4]);
        matrices(a).forEach((A, k) => expectMatrixClose(mul(matrices(inv)[k]!, A), eye(4), tol * 10));
      });

      it("det agrees with a cofactor expansion, batched, with both signs", () => {
        for (const n of [1, 2, 3, 4, 5]) {
          const a = tensor(values([3, n, n], 8 + n), { shape: [3, n, n], dtype });
          const d = det(a);
          expect(d.shape).toEqual([3]);
          matrices(a).forEach((A, k) => {
            const e = cofactorDet(A);
            expect(Math.abs(d.dataSync()[k]! - e)).toBeLessThanOrEqual(tol * 10 * (1 + Math.abs(e)));
          });
        }
        expect(det(tensor([[1, 2], [2, 4]], { dtype })).item()).toBe(0);
        expect(det(tensor([[NaN, 2], [2, 4]], { dtype })).item()).toBeNaN();
        expect(logDet(tensor([[Infinity, 0], [0, 1]], { dtype })).item()).toBeNaN();
      });

      it("logDet is log|det|, and -Infinity for a singular matrix", () => {
        const a = tensor(values([4, 3, 3], 20, true), { shape: [4, 3, 3], dtype });
        const ld = logDet(a);
        matrices(a).forEach((A, k) => {
          expect(ld.dataSync()[k]!).toBeCloseTo(Math.log(Math.abs(cofactorDet(A))), dtype === "float32" ? 4 : 10);
        });
        expect(logDet(tensor([[1, 2], [2, 4]], { dtype })).item()).toBe(-Infinity);
        // Far beyond the float range of det itself: a 100×100 diagonal of 10⁴ (det 10⁴⁰⁰).
        const big = tensor(eye(100).map((row) => row.map((v) => v * 1e4)), { dtype });
        expect(det(big).item()).toBe(Infinity);
        expect(logDet(big).item()).toBeCloseTo(400 * Math.log(10), 2);
      });

      for (const [m, n] of [[4, 3], [3, 3], [2, 4], [5, 1]] as const) {
        it(`qr of ${m}×${n}: Q·R = A, QᵀQ = I, R upper triangular with diag(R) ≥ 0`, () => {
          const a = tensor(values([2, m, n], 30 + m * n, true), { shape: [2, m, n], dtype });
          const { q, r } = qr(a);
          const k = Math.min(m, n);
          expect(q.shape).toEqual([2, m, k]);
          expect(r.shape).toEqual([2, k, n]);
          matrices(a).forEach((A, b) => {
            const Q = matrices(q)[b]!, R = matrices(r)[b]!;
            expectMatrixClose(mul(Q, R), A, tol * 10);
            expectMatrixClose(mul(tr(Q), Q), eye(k), tol * 10);
            for (let i = 0; i < k; i++) {
              expect(R[i]![i]!).toBeGreaterThanOrEqual(0);
              for (let j = 0; j < i; j++) expect(R[i]![j]).toBe(0);
            }
          });
        });
      }
    });
  }

  it("empty matrices: det 1, logDet 0, empty factors", () => {
    const e = tensor([], { shape: [2, 0, 0], dtype: "float64" });
    expect(det(e).toArray()).toEqual([1, 1]);
    expect(logDet(e).toArray()).toEqual([0, 0]);
    expect(cholesky(e).shape).toEqual([2, 0, 0]);
    expect(inverse(e).shape).toEqual([2, 0, 0]);
  });

  it("the derivative of logDet is A⁻ᵀ and that of det is det·A⁻ᵀ", () => {
    const a = tensor([[3, 1], [2, 4]], { dtype: "float64" }); // det 10, A⁻¹ = [[0.4, -0.1], [-0.2, 0.3]]
    const invT = [[0.4, -0.2], [-0.1, 0.3]];
    expectMatrixClose(gradient(a, (x: Tensor) => logDet(x)).toArray() as number[][], invT, 1e-14);
    expectMatrixClose(gradient(a, (x: Tensor) => det(x)).toArray() as number[][], invT.map((r) => r.map((v) => 10 * v)), 1e-14);
  });

  it("float32 derivatives agree with float64 ones to float32 precision, for every op", () => {
    const a64 = spdStack([], 4, 41, "float64");
    const b64 = tensor(values([4, 2], 42, true), { shape: [4, 2], dtype: "float64" });
    const fs: ((a: Tensor) => Tensor)[] = [
      (a) => cholesky(a).sum(),
      (a) => triangularSolve(a, b64.cast(a.dtype), { lower: false }).sum(),
      (a) => solve(a, b64.cast(a.dtype)).sum(),
      (a) => inverse(a).sum(),
      (a) => det(a),
      (a) => logDet(a),
      (a) => qr(a).q.sum().add(qr(a).r.sum()),
    ];
    for (const f of fs) {
      const g64 = gradient(a64, f);
      const g32 = gradient(a64.cast("float32"), f);
      expect(g32.dtype).toBe("float32");
      const want = Array.from(g64.dataSync()), got = Array.from(g32.dataSync());
      const scale = Math.max(...want.map(Math.abs));
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-4 * scale);
    }
  });

  it("the gradient of cholesky is symmetric (the input is symmetrized)", () => {
    const g = gradient(spdStack([], 3, 40, "float64"), (x: Tensor) => cholesky(x).sum()).toArray() as number[][];
    expectMatrixClose(g, tr(g), 1e-14);
  });

  describe("errors", () => {
    it("rejects non-square matrices, naming the op and the shape", () => {
      for (const [f, name] of [[cholesky, "cholesky"], [inverse, "inverse"], [det, "det"], [logDet, "logDet"]] as const) {
        expect(() => f(make([2, 3], 1))).toThrow(`${name}: a must be square in its last two axes, got [2,3] (2×3)`);
      }
      expect(() => solve(make([2, 3], 1), make([2, 1], 2))).toThrow("solve: a must be square in its last two axes, got [2,3]");
    });

    it("rejects vectors and int32", () => {
      expect(() => det(make([3], 1))).toThrow(/det: a must be a matrix or a stack of matrices \[\.\.\., n, n\], got shape \[3\]/);
      expect(() => inverse(make([2, 2], 1, "int32"))).toThrow("inverse: a is int32, but linear algebra needs float32 or float64; cast it first");
      expect(() => solve(make([2, 2], 1), make([2], 1, "int32"))).toThrow("solve: b is int32");
      expect(() => qr(make([2, 2], 1, "int32"))).toThrow("qr: a is int32");
    });

    it("checks triangularSolve's options", () => {
      expect(() => triangularSolve(make([2, 2], 1), make([2], 2), { lower: "yes" } as unknown as { lower: boolean })).toThrow(
        "triangularSolve: options.lower and options.transpose must be booleans",
      );
      expect(() => triangularSolve(make([2, 2], 1), make([2], 2), 3 as unknown as { lower: boolean })).toThrow(
        "triangularSolve: options must be an object such as { lower: true, transpose: false }, got 3",
      );
    });

    it("promotes mixed float dtypes, like matmul", () => {
      const x = solve(tensor([[2, 0], [0, 4]]), tensor([2, 4], { dtype: "float64" }));
      expect(x.dtype).toBe("float64");
      expect(x.toArray()).toEqual([1, 1]);
    });

    it("rejects mismatched right-hand sides and batch shapes", () => {
      expect(() => solve(make([3, 3], 1), make([2, 1], 2))).toThrow("solve: a [3,3] is 3×3 but b [2,1] has 2 rows; b must be [..., 3, k] (or a vector [3])");
      expect(() => triangularSolve(make([2, 3, 3], 1), make([4, 3, 1], 2))).toThrow(
        "triangularSolve: batch dimensions [2] of a [2,3,3] and [4] of b [4,3,1] do not broadcast",
      );
    });

    it("names the batch index of a singular matrix, and the fix", () => {
      const a = tensor([[[2, 0], [0, 2]], [[1, 2], [2, 4]]], { dtype: "float64" });
      expect(() => solve(a, make([2, 2, 1], 3))).toThrow(/^solve: the matrix at batch index \[1\] of \[2,2,2\] is singular .*full rank/);
      expect(() => inverse(a)).toThrow(/^inverse: the matrix at batch index \[1\] of \[2,2,2\] is singular/);
      expect(() => triangularSolve(tensor([[1, 0], [1, 0]]), tensor([1, 1]))).toThrow(
        /^triangularSolve: the lower-triangular matrix of \[2,2\] has 0 on its diagonal \(row 1\), so it is singular/,
      );
      expect(() => gradient(tensor([[1, 2], [2, 4]], { dtype: "float64" }), (x: Tensor) => det(x))).toThrow(
        /^det's derivative: the matrix of \[2,2\] is singular/,
      );
    });

    it("names the batch index of a matrix that is not positive definite, and the fix", () => {
      const a = tensor([[[[4, 0], [0, 4]], [[1, 0], [0, 1]]], [[[1, 2], [2, 1]], [[1, 0], [0, 1]]]], { dtype: "float64" });
      expect(() => cholesky(a)).toThrow(/^cholesky: the matrix at batch index \[1, 0\] of \[2,2,2,2\] is not positive definite \(pivot 1 is -3\).*jitter/);
      expect(() => cholesky(tensor([[NaN, 0], [0, 1]]))).toThrow(/cholesky: the matrix of \[2,2\] is not positive definite \(pivot 0 is NaN\)/);
    });

    it("says that the derivative of a rank-deficient QR needs full rank", () => {
      expect(() => gradient(tensor([[1, 2], [2, 4]], { dtype: "float64" }), (x: Tensor) => qr(x).q.sum())).toThrow(
        /^qr's derivative \(it needs a matrix of full rank\): the upper-triangular matrix of \[2,2\] has 0 on its diagonal/,
      );
    });
  });
});
