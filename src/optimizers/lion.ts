/**
 * Lion: the sign of an interpolated momentum.
 */
import { Optimizer } from "./optimizer.js";
import { assemble, commonOptions, unitInterval, type CommonOptions } from "./facade.js";
import { slot, type GradientTransformation } from "./transform.js";
import { narrow, wide } from "./staged.js";

/**
 * Options of {@link scaleByLion}.
 * @category Optimizers
 */
export interface ScaleByLionOptions {
  /** β1, the interpolation for the update, in `[0, 1)`; 0.9 by default. */
  beta1?: number;
  /** β2, the decay of the momentum, in `[0, 1)`; 0.99 by default. */
  beta2?: number;
}

/**
 * Lion's direction (Chen et al., "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023,
 * Algorithm 2):
 *
 * `c = β1·m + (1 − β1)·g;  u = sign(c);  m ← β2·m + (1 − β2)·g`.
 * @param options β1 and β2 (see {@link ScaleByLionOptions}).
 * @returns the transform, with slot `momentum`.
 * @example
 * ```ts
 * const opt = new Optimizer(model, chain(scaleByLion(), addDecayedWeights(0.1), scaleByLearningRate(1e-4)));
 * opt.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * // Every step moves each parameter by exactly the learning rate (the sign), plus the decay (0 for a zero bias):
 * model.bias; // [-0.0001, -0.0001]
 * opt.state().rules;              // ["scaleByLion", "addDecayedWeights", "scaleByLearningRate"]
 * Object.keys(opt.state().slots); // ["momentum"]
 * ```
 * @category Optimizers
 */
export function scaleByLion(options: ScaleByLionOptions = {}): GradientTransformation {
  const op = "scaleByLion";
  const β1 = unitInterval(op, "beta1", options.beta1 ?? 0.9);
  const β2 = unitInterval(op, "beta2", options.beta2 ?? 0.99);
  return {
    name: op,
    slots: ["momentum"],
    init: ({ info }) => ({ momentum: slot(info) }),
    apply(state, _param, g) {
      const m = state.momentum!;
      for (let i = 0; i < g.length; i++) {
        const gi = g[i]!;
        const c = β1 * m[i]! + (1 - β1) * gi;
        m[i] = β2 * m[i]! + (1 - β2) * gi;
        g[i] = Math.sign(c);
      }
      return [g, state];
    },
    applyStaged(state, _param, g) {
      const gi = wide(g);
      const m = wide(state.momentum!);
      const c = m.mul(β1).add(gi.mul(1 - β1));
      return [narrow(c.sign(), g.dtype), { momentum: narrow(m.mul(β2).add(gi.mul(1 - β2)), g.dtype) }];
    },
  };
}

/**
 * Options of {@link Lion}.
 * @category Optimizers
 */
export interface LionOptions<Model> extends CommonOptions<Model> {
  /** β1 in `[0, 1)`; 0.9 by default. */
  beta1?: number;
  /** β2 in `[0, 1)`; 0.99 by default. */
  beta2?: number;
}

/**
 * Lion (Chen et al., "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023), see
 * {@link scaleByLion}, with decoupled weight decay: `θ ← θ − α·(sign(c) + λθ)`. Defaults from the paper:
 * α = 1e-4 (it advises 3–10× smaller than AdamW's), β1 = 0.9, β2 = 0.99, λ = 0.
 * @typeParam Model the model type.
 * @example
 * ```ts
 * const opt = new Lion(model, { learningRate: 3e-5, weightDecay: 0.1 });
 * const loss = (m: Dense) => m.callAsFunction(x).square().mean();
 * const before = loss(model).item();
 * for (let step = 0; step < 10; step++) opt.update(model, gradient(model, loss));
 * loss(model).item() < before; // true
 * ```
 * @category Optimizers
 */
export class Lion<Model> extends Optimizer<Model> {
  /** The hyperparameters in use (the learning rate lives in {@link Optimizer.learningRate}). */
  readonly hyperparameters: Readonly<{ beta1: number; beta2: number; decay: number; weightDecay: number }>;
  /** @param model the model to optimize. @param options hyperparameters (see {@link LionOptions}). */
  constructor(model: Model, options?: LionOptions<Model>) {
    const op = "new Lion";
    const common = commonOptions(op, options, ["beta1", "beta2"], { learningRate: 1e-4 });
    const beta1 = unitInterval(op, "beta1", options?.beta1 ?? 0.9);
    const beta2 = unitInterval(op, "beta2", options?.beta2 ?? 0.99);
    super(model, assemble(op, model, options, common, [scaleByLion({ beta1, beta2 })], true), options, "Lion");
    this.hyperparameters = Object.freeze({ beta1, beta2, decay: common.decay, weightDecay: common.weightDecay });
  }
}
