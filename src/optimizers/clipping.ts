/**
 * Gradient clipping: by the global norm over all parameters, and elementwise by value.
 */
import { checkNumber } from "./schedules.js";
import type { FloatArray, GradientTransformation } from "./transform.js";
import type { Tensor } from "../tensor/tensor.js";
import { where } from "../ops/binary.js";
import { f64, narrow, wide } from "./staged.js";

/**
 * Rescales the whole update so that its global L2 norm (over every parameter it applies to) is at most
 * `maxNorm`: `u ← u · min(1, maxNorm / ‖u‖)` (Pascanu, Mikolov & Bengio, "On the difficulty of training
 * recurrent neural networks", ICML 2013). Put it first in a chain to clip the raw gradient.
 * @param maxNorm the largest norm allowed (> 0).
 * @returns the transform.
 * @example
 * ```ts
 * const g = gradient(model, (m) => m.callAsFunction(x).sum());
 * Math.sqrt(tangentSquaredNorm(g)); // 17.8326
 * const opt = new Optimizer(model, chain(clipByGlobalNorm(1), scaleByLearningRate(0.1)));
 * const [w0, b0] = [model.weight, model.bias];
 * opt.update(model, g);
 * // The gradient was rescaled to norm 1, so the step has norm 0.1:
 * Math.sqrt(tangentSquaredNorm({ weight: model.weight.sub(w0), bias: model.bias.sub(b0) })); // 0.1
 * // Usually first in a chain:
 * const adam = chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-3));
 * ```
 * @category Optimizers
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<number> {
  const op = "clipByGlobalNorm";
  const c = checkNumber(op, "maxNorm", maxNorm, { min: 0, minExclusive: true });
  return {
    name: op,
    slots: [],
    init: () => ({}),
    hyper: () => 1,
    reduce(updates: readonly FloatArray[]): number {
      let sq = 0;
      for (const u of updates) for (let i = 0; i < u.length; i++) sq += u[i]! * u[i]!;
      const norm = Math.sqrt(sq);
      return norm > c ? c / norm : 1;
    },
    apply(state, _param, u, { hyper: factor }) {
      if (factor !== 1) for (let i = 0; i < u.length; i++) u[i] = factor * u[i]!;
      return [u, state];
    },
    reduceStaged(updates): Tensor {
      // The sum of squares in float64 (per parameter, then over parameters: the order differs from the loop's).
      let sq = f64(0);
      for (const u of updates) sq = sq.add(wide(u).square().sum());
      const norm = sq.sqrt();
      return where(norm.greater(c), f64(c).div(norm), 1);
    },
    // A factor of 1 changes no value (the loop skips it).
    applyStaged: (state, _param, u, { hyper: factor }) => [narrow(wide(u).mul(factor!), u.dtype), state],
  };
}

/**
 * Clips every element of the update into `[−limit, limit]` (or `[min, max]`).
 * @param limit the bound on |u| (> 0), or the lower bound when `max` is given.
 * @param max the upper bound (then `limit` is the lower one, and `min < max`).
 * @returns the transform.
 * @example
 * ```ts
 * // The gradient's elements are at least 2; each is clipped to 0.5 before the step:
 * const opt = new Optimizer(model, chain(clipByValue(0.5), scaleByLearningRate(0.1)));
 * opt.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * model.bias; // [-0.05, -0.05]
 * // Asymmetric bounds, [-1, 2]:
 * const asymmetric = chain(clipByValue(-1, 2), scaleByLearningRate(0.1));
 * ```
 * @category Optimizers
 */
export function clipByValue(limit: number, max?: number): GradientTransformation<number> {
  const op = "clipByValue";
  let lo: number;
  let hi: number;
  if (max === undefined) {
    hi = checkNumber(op, "limit", limit, { min: 0, minExclusive: true });
    lo = -hi;
  } else {
    lo = checkNumber(op, "min", limit);
    hi = checkNumber(op, "max", max, { min: lo, minExclusive: true });
  }
  return {
    name: op,
    slots: [],
    init: () => ({}),
    apply(state, _param, u) {
      for (let i = 0; i < u.length; i++) u[i] = Math.min(hi, Math.max(lo, u[i]!));
      return [u, state];
    },
    applyStaged: (state, _param, u) => [u.maximum(lo).minimum(hi), state],
  };
}
