import { expect } from "vitest";
import { tensor, type DType, type Tensor } from "../../src/index.js";
import { rng } from "./rows.js";

/** Helpers of the differential tests: seeded data, plain-loop indexing and a dtype-aware comparison. */

export const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Seeded values in [lo, hi) of `shape`; rounded for int32. */
export function make(shape: readonly number[], dtype: DType, seed: number, lo = -3, hi = 3): Tensor {
  const r = rng(seed);
  const v = Array.from({ length: size(shape) }, () => {
    const x = lo + (hi - lo) * r();
    return dtype === "int32" ? Math.round(x) : x;
  });
  return tensor(v, { shape, dtype });
}

/** The multi-index of flat position `i` in `shape` (row-major). */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

/** The flat position of a multi-index in `shape` (row-major). */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d]! + idx[d]!;
  return flat;
}

/** The index of output element `outIdx` in an operand of `shape` under NumPy broadcasting. */
export function sourceIndex(outIdx: number, outShape: readonly number[], shape: readonly number[]): number {
  const idx = unravel(outIdx, outShape);
  const off = outShape.length - shape.length;
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d]! + (shape[d] === 1 ? 0 : idx[d + off]!);
  return flat;
}

/** NumPy's broadcast shape of two shapes (assumed compatible). */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** A reference value rounded to what `dtype` stores. */
export function stored(v: number, dtype: DType): number {
  return dtype === "int32" ? v | 0 : dtype === "float32" ? Math.fround(v) : v;
}

/** Elementwise agreement: NaN with NaN, infinities exactly, others within float32 or float64 rounding. */
export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, dtype: DType, tol?: number): void {
  expect(actual.length).toBe(expected.length);
  const t = tol ?? (dtype === "float32" ? 4e-6 : dtype === "int32" ? 0 : 1e-12);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!, a = actual[i]!;
    if (Number.isNaN(e)) expect(a, `element ${i}`).toBeNaN();
    else if (!Number.isFinite(e)) expect(a, `element ${i}`).toBe(e);
    else expect(Math.abs(a - e), `element ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(t * Math.max(1, Math.abs(e)));
  }
}
