/**
 * RAdam: Adam with its adaptive rate rectified while the second moment is still unreliable.
 */
import { Optimizer } from "./optimizer.js";
import { adamFamily, adamMoments, type AdamHyperparameters, type AdamOptions } from "./adam.js";
import { checkNumber } from "./schedules.js";
import { slot, type GradientTransformation } from "./transform.js";
import { f64, narrow, oneMinusPow, wide } from "./staged.js";
import { where } from "../ops/binary.js";

/**
 * Options of {@link scaleByRAdam}.
 * @category Optimizers
 */
export interface ScaleByRAdamOptions {
  /** β1 in `[0, 1)`; 0.9 by default. */
  beta1?: number;
  /** β2 in `[0, 1)`; 0.999 by default. */
  beta2?: number;
  /** ε > 0; 1e-8 by default. */
  epsilon?: number;
  /** Use the adaptive step only once `ρₜ > threshold`; 5 by default (the authors' code, PyTorch, optax). */
  threshold?: number;
}

/**
 * RAdam's direction (Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020,
 * Algorithm 2):
 *
 * `ρ∞ = 2 / (1 − β2) − 1;  ρₜ = ρ∞ − 2t·β2ᵗ / (1 − β2ᵗ);  m̂ = m / (1 − β1ᵗ)`; when `ρₜ > 5`,
 * `r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))` and `u = r·m̂ / (√v̂ + ε)`; otherwise `u = m̂`
 * (momentum SGD while the variance of the adaptive rate is intractable).
 *
 * The paper writes the condition `ρₜ > 4` and has no ε; we follow the authors' code, PyTorch and optax
 * (threshold 5, ε added to `√v̂`). Swift for TensorFlow uses the same rule.
 * @param options β1, β2, ε, threshold (see {@link ScaleByRAdamOptions}).
 * @returns the transform, with slots `firstMoments` and `secondMoments`.
 * @example
 * ```ts
 * const opt = new Optimizer(model, chain(scaleByRAdam(), scaleByLearningRate(1e-3)));
 * opt.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * // The first steps are not rectified: momentum SGD, the learning rate times the gradient (2):
 * model.bias; // [-0.002, -0.002]
 * opt.state().rules;              // ["scaleByRAdam", "scaleByLearningRate"]
 * Object.keys(opt.state().slots); // ["firstMoments", "secondMoments"]
 * ```
 * @category Optimizers
 */
export function scaleByRAdam(options: ScaleByRAdamOptions = {}): GradientTransformation {
  const op = "scaleByRAdam";
  const { beta1: β1, beta2: β2, epsilon: ε } = adamMoments(op, options);
  const threshold = checkNumber(op, "threshold", options.threshold ?? 5, { min: 4 });
  const ρInf = 2 / (1 - β2) - 1;
  return {
    name: op,
    slots: ["firstMoments", "secondMoments"],
    nonNegativeSlots: ["secondMoments"],
    init: ({ info }) => ({ firstMoments: slot(info), secondMoments: slot(info) }),
    apply(state, _param, g, { step: t }) {
      const m = state.firstMoments!;
      const v = state.secondMoments!;
      const c1 = 1 - Math.pow(β1, t);
      const c2 = 1 - Math.pow(β2, t);
      const ρt = ρInf - (2 * t * Math.pow(β2, t)) / c2;
      const rectified = ρt > threshold;
      const r = rectified ? Math.sqrt(((ρt - 4) * (ρt - 2) * ρInf) / ((ρInf - 4) * (ρInf - 2) * ρt)) : 0;
      for (let i = 0; i < g.length; i++) {
        const gi = g[i]!;
        const mi = β1 * m[i]! + (1 - β1) * gi;
        const vi = β2 * v[i]! + (1 - β2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        const m̂ = mi / c1;
        g[i] = rectified ? (r * m̂) / (Math.sqrt(vi / c2) + ε) : m̂;
      }
      return [g, state];
    },
    applyStaged(state, _param, g, { step: t }) {
      const gi = wide(g);
      const mi = wide(state.firstMoments!).mul(β1).add(gi.mul(1 - β1));
      const vi = wide(state.secondMoments!).mul(β2).add(gi.mul(1 - β2).mul(gi));
      const c1 = oneMinusPow(β1, t);
      const c2 = oneMinusPow(β2, t);
      const ρt = f64(ρInf).sub(f64(2).mul(t).mul(f64(β2).pow(t)).div(c2));
      // r is NaN below ρ = 4, where the unrectified step is taken anyway.
      const r = ρt.sub(4).mul(ρt.sub(2)).mul(ρInf).div(f64((ρInf - 4) * (ρInf - 2)).mul(ρt)).sqrt();
      const m̂ = mi.div(c1);
      const u = where(ρt.greater(threshold), m̂.mul(r).div(vi.div(c2).sqrt().add(ε)), m̂);
      return [narrow(u, g.dtype), { firstMoments: narrow(mi, g.dtype), secondMoments: narrow(vi, g.dtype) }];
    },
  };
}

/**
 * RAdam (Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020), see
 * {@link scaleByRAdam}. Defaults are Adam's: α = 0.001, β1 = 0.9, β2 = 0.999, ε = 1e-8.
 * @typeParam Model the model type.
 * @example
 * ```ts
 * const opt = new RAdam(model);
 * const loss = (m: Dense) => m.callAsFunction(x).square().mean();
 * const before = loss(model).item();
 * for (let step = 0; step < 10; step++) opt.update(model, gradient(model, loss));
 * loss(model).item() < before; // true
 * ```
 * @category Optimizers
 */
export class RAdam<Model> extends Optimizer<Model> {
  /** The hyperparameters in use (the learning rate lives in {@link Optimizer.learningRate}). */
  readonly hyperparameters: AdamHyperparameters;
  /** @param model the model to optimize. @param options hyperparameters (see {@link AdamOptions}). */
  constructor(model: Model, options?: AdamOptions<Model>) {
    const { transform, hyperparameters } = adamFamily("new RAdam", model, options, (h) => scaleByRAdam(h), false, { learningRate: 1e-3 });
    super(model, transform, options, "RAdam");
    this.hyperparameters = hyperparameters;
  }
}
