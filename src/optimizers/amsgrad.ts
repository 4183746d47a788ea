/**
 * AMSGrad: Adam with a non-decreasing second moment.
 */
import { Optimizer } from "./optimizer.js";
import { adamFamily, adamMoments, type AdamHyperparameters, type AdamOptions } from "./adam.js";
import { slot, type GradientTransformation } from "./transform.js";
import { narrow, oneMinusPow, wide } from "./staged.js";
import { where } from "../ops/binary.js";

/**
 * Options of {@link scaleByAmsgrad}.
 * @category Optimizers
 */
export interface ScaleByAmsgradOptions {
  /** β1 in `[0, 1)`; 0.9 by default. */
  beta1?: number;
  /** β2 in `[0, 1)`; 0.999 by default. */
  beta2?: number;
  /** ε > 0; 1e-8 by default. */
  epsilon?: number;
}

/**
 * AMSGrad's direction (Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond", ICLR 2018): Adam's
 * moments, with the running maximum of the second moment in the denominator:
 *
 * `m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  v̂max ← max(v̂max, v);  u = (m / (1 − β1ᵗ)) / (√(v̂max / (1 − β2ᵗ)) + ε)`.
 *
 * The maximum is taken over the uncorrected `v` (as in Swift for TensorFlow and PyTorch), then bias
 * corrected like Adam's (the paper's Algorithm 2 has no bias correction).
 * @param options β1, β2, ε (see {@link ScaleByAmsgradOptions}).
 * @returns the transform, with slots `firstMoments`, `secondMoments`, `secondMomentsMax`.
 * @example
 * ```ts
 * const opt = new Optimizer(model, chain(scaleByAmsgrad(), scaleByLearningRate(1e-3)));
 * opt.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * // The first step moves each parameter by the learning rate, against its gradient:
 * model.bias; // [-0.001, -0.001]
 * opt.state().rules;              // ["scaleByAmsgrad", "scaleByLearningRate"]
 * Object.keys(opt.state().slots); // ["firstMoments", "secondMoments", "secondMomentsMax"]
 * ```
 * @category Optimizers
 */
export function scaleByAmsgrad(options: ScaleByAmsgradOptions = {}): GradientTransformation {
  const op = "scaleByAmsgrad";
  const { beta1: β1, beta2: β2, epsilon: ε } = adamMoments(op, options);
  return {
    name: op,
    slots: ["firstMoments", "secondMoments", "secondMomentsMax"],
    nonNegativeSlots: ["secondMoments", "secondMomentsMax"],
    init: ({ info }) => ({ firstMoments: slot(info), secondMoments: slot(info), secondMomentsMax: slot(info) }),
    apply(state, _param, g, { step: t }) {
      const m = state.firstMoments!;
      const v = state.secondMoments!;
      const vmax = state.secondMomentsMax!;
      const c1 = 1 - Math.pow(β1, t);
      const c2 = 1 - Math.pow(β2, t);
      for (let i = 0; i < g.length; i++) {
        const gi = g[i]!;
        const mi = β1 * m[i]! + (1 - β1) * gi;
        const vi = β2 * v[i]! + (1 - β2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        if (vi > vmax[i]!) vmax[i] = vi;
        g[i] = mi / c1 / (Math.sqrt(vmax[i]! / c2) + ε);
      }
      return [g, state];
    },
    applyStaged(state, _param, g, { step: t }) {
      const d = g.dtype;
      const gi = wide(g);
      const mi = wide(state.firstMoments!).mul(β1).add(gi.mul(1 - β1));
      const vi = wide(state.secondMoments!).mul(β2).add(gi.mul(1 - β2).mul(gi));
      const previous = wide(state.secondMomentsMax!);
      // The loop stores the larger one, then reads the stored (rounded) value back.
      const vmax = narrow(where(vi.greater(previous), vi, previous), d);
      const u = mi.div(oneMinusPow(β1, t)).div(wide(vmax).div(oneMinusPow(β2, t)).sqrt().add(ε));
      return [narrow(u, d), { firstMoments: narrow(mi, d), secondMoments: narrow(vi, d), secondMomentsMax: vmax }];
    },
  };
}

/**
 * AMSGrad (Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond", ICLR 2018), see
 * {@link scaleByAmsgrad}. Defaults are Adam's: α = 0.001, β1 = 0.9, β2 = 0.999, ε = 1e-8.
 * @typeParam Model the model type.
 * @example
 * ```ts
 * const opt = new AMSGrad(model, { learningRate: 1e-3 });
 * const loss = (m: Dense) => m.callAsFunction(x).square().mean();
 * const before = loss(model).item();
 * for (let step = 0; step < 10; step++) opt.update(model, gradient(model, loss));
 * loss(model).item() < before; // true
 * ```
 * @category Optimizers
 */
export class AMSGrad<Model> extends Optimizer<Model> {
  /** The hyperparameters in use (the learning rate lives in {@link Optimizer.learningRate}). */
  readonly hyperparameters: AdamHyperparameters;
  /** @param model the model to optimize. @param options hyperparameters (see {@link AdamOptions}). */
  constructor(model: Model, options?: AdamOptions<Model>) {
    const { transform, hyperparameters } = adamFamily("new AMSGrad", model, options, (h) => scaleByAmsgrad(h), false, { learningRate: 1e-3 });
    super(model, transform, options, "AMSGrad");
    this.hyperparameters = hyperparameters;
  }
}
