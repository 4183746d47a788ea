/**
 * AdaMax: Adam with the infinity norm.
 */
import { Optimizer } from "./optimizer.js";
import { adamFamily, adamMoments, type AdamHyperparameters, type AdamOptions } from "./adam.js";
import { slot, type GradientTransformation } from "./transform.js";
import { narrow, oneMinusPow, wide } from "./staged.js";

/**
 * Options of {@link scaleByAdamax}.
 * @category Optimizers
 */
export interface ScaleByAdamaxOptions {
  /** β1 in `[0, 1)`; 0.9 by default. */
  beta1?: number;
  /** β2 in `[0, 1)`; 0.999 by default. */
  beta2?: number;
  /** ε > 0, added to the infinity norm; 1e-8 by default. */
  epsilon?: number;
}

/**
 * AdaMax's direction (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, §7.1,
 * Algorithm 2):
 *
 * `m ← β1·m + (1 − β1)·g;  u∞ ← max(β2·u∞, |g|);  u = (m / (1 − β1ᵗ)) / (u∞ + ε)`.
 *
 * The paper has no ε; like Swift for TensorFlow we add it to `u∞`, which is 0 where every gradient so
 * far was 0.
 * @param options β1, β2, ε (see {@link ScaleByAdamaxOptions}).
 * @returns the transform, with slots `firstMoments` and `infinityNorm`.
 * @example
 * ```ts
 * const opt = new Optimizer(model, chain(scaleByAdamax(), scaleByLearningRate(2e-3)));
 * opt.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * // The first step moves each parameter by the learning rate, against its gradient:
 * model.bias; // [-0.002, -0.002]
 * opt.state().rules;              // ["scaleByAdamax", "scaleByLearningRate"]
 * Object.keys(opt.state().slots); // ["firstMoments", "infinityNorm"]
 * ```
 * @category Optimizers
 */
export function scaleByAdamax(options: ScaleByAdamaxOptions = {}): GradientTransformation {
  const op = "scaleByAdamax";
  const { beta1: β1, beta2: β2, epsilon: ε } = adamMoments(op, options);
  return {
    name: op,
    slots: ["firstMoments", "infinityNorm"],
    nonNegativeSlots: ["infinityNorm"],
    init: ({ info }) => ({ firstMoments: slot(info), infinityNorm: slot(info) }),
    apply(state, _param, g, { step: t }) {
      const m = state.firstMoments!;
      const uInf = state.infinityNorm!;
      const c1 = 1 - Math.pow(β1, t);
      for (let i = 0; i < g.length; i++) {
        const gi = g[i]!;
        const mi = β1 * m[i]! + (1 - β1) * gi;
        const ui = Math.max(β2 * uInf[i]!, Math.abs(gi));
        m[i] = mi;
        uInf[i] = ui;
        g[i] = mi / c1 / (ui + ε);
      }
      return [g, state];
    },
    applyStaged(state, _param, g, { step: t }) {
      const gi = wide(g);
      const mi = wide(state.firstMoments!).mul(β1).add(gi.mul(1 - β1));
      const ui = wide(state.infinityNorm!).mul(β2).maximum(gi.abs());
      const u = mi.div(oneMinusPow(β1, t)).div(ui.add(ε));
      return [narrow(u, g.dtype), { firstMoments: narrow(mi, g.dtype), infinityNorm: narrow(ui, g.dtype) }];
    },
  };
}

/**
 * AdaMax (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, §7.1), see
 * {@link scaleByAdamax}. Defaults from the paper: α = 0.002, β1 = 0.9, β2 = 0.999; ε = 1e-8 (Swift's).
 * @typeParam Model the model type.
 * @example
 * ```ts
 * const opt = new AdaMax(model);
 * const loss = (m: Dense) => m.callAsFunction(x).square().mean();
 * const before = loss(model).item();
 * for (let step = 0; step < 10; step++) opt.update(model, gradient(model, loss));
 * loss(model).item() < before; // true
 * ```
 * @category Optimizers
 */
export class AdaMax<Model> extends Optimizer<Model> {
  /** The hyperparameters in use (the learning rate lives in {@link Optimizer.learningRate}). */
  readonly hyperparameters: AdamHyperparameters;
  /** @param model the model to optimize. @param options hyperparameters (see {@link AdamOptions}). */
  constructor(model: Model, options?: AdamOptions<Model>) {
    const { transform, hyperparameters } = adamFamily("new AdaMax", model, options, (h) => scaleByAdamax(h), false, { learningRate: 2e-3 });
    super(model, transform, options, "AdaMax");
    this.hyperparameters = hyperparameters;
  }
}
