import { Tensor, tensor, type CheckGradientsOptions } from "../../src/index.js";

/**
 * One row of the gradient-check table: a function of float64 tensors and a way to build its inputs.
 * Every primitive appears in at least one row; `test/ops/gradients.test.ts` runs `checkGradients` over all
 * rows, forward and reverse, first and second order.
 */
export interface GradRow {
  /** A readable name, e.g. "matmul [2,3]x[3,4]". */
  readonly name: string;
  /** The function to check; inputs are float64 tensors, the output any float64 tensor. */
  readonly f: (...xs: Tensor[]) => Tensor;
  /** Builds the inputs (float64), away from kinks where the op is not differentiable. */
  readonly inputs: () => Tensor[];
  /** Skip the second-order check (only for ops whose second derivative is not defined at the inputs). */
  readonly firstOrderOnly?: boolean;
  /** Step and tolerances, for rows that pass through float32 on purpose (casts). */
  readonly options?: CheckGradientsOptions;
}

/** A small deterministic generator for test data (mulberry32), independent of the library's own. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [lo, hi) as a float64 tensor of `shape`, reproducible from `seed`. */
export function uniform(shape: readonly number[], seed: number, lo = -1, hi = 1): Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => lo + (hi - lo) * r());
  return tensor(v, { shape, dtype: "float64" });
}

/**
 * Distinct values as a float64 tensor of `shape`: a ramp over [-1, 1] in steps of 2/(size − 1), moved up by
 * `shift`/size and shuffled from `seed`, so no pooling window holds a tie and finite differences never
 * cross a kink.
 */
export function distinct(shape: readonly number[], seed: number, shift = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = rng(seed);
  const v = Array.from({ length: n }, (_, i) => -1 + (2 * i) / Math.max(n - 1, 1) + shift / n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return tensor(v, { shape, dtype: "float64" });
}
