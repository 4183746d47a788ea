/**
 * RMSProp: the gradient divided by a running root mean square, optionally centered and with momentum.
 */
import { Optimizer } from "./optimizer.js";
import { assemble, commonOptions, flag, positive, unitInterval, type CommonOptions } from "./facade.js";
import { momentumOptions } from "./sgd.js";
import { slot, type GradientTransformation, type Slots } from "./transform.js";
import { narrow, wide } from "./staged.js";

/**
 * Options of {@link scaleByRms}.
 * @category Optimizers
 */
export interface ScaleByRmsOptions {
  /** ρ, the decay of the mean square, in `[0, 1)`; 0.9 by default. */
  rho?: number;
  /** ε > 0, added to the root mean square; 1e-8 by default. */
  epsilon?: number;
  /** Divide by the estimated standard deviation instead (Graves 2013); false by default. */
  centered?: boolean;
}

/**
 * RMSProp's direction (Tieleman & Hinton, "Lecture 6.5 — RMSProp", COURSERA: Neural Networks for Machine
 * Learning, 2012):
 *
 * `v ← ρ·v + (1 − ρ)·g²;  u = g / (√v + ε)`.
 *
 * Centered (Graves, "Generating Sequences With Recurrent Neural Networks", 2013, eq. 38–41):
 * `ḡ ← ρ·ḡ + (1 − ρ)·g;  u = g / (√(v − ḡ²) + ε)` (with `v − ḡ²` floored at 0 against rounding).
 * ε sits outside the root, as in Swift for TensorFlow and PyTorch (TensorFlow puts it inside).
 * @param options ρ, ε, centered (see {@link ScaleByRmsOptions}).
 * @returns the transform, with slots `meanSquare` (and `meanGradient` when centered).
 * @example
 * ```ts
 * const opt = new Optimizer(model, chain(scaleByRms({ rho: 0.95 }), scaleByLearningRate(1e-3)));
 * opt.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * opt.state().rules;              // ["scaleByRms", "scaleByLearningRate"]
 * Object.keys(opt.state().slots); // ["meanSquare"]
 * ```
 * @category Optimizers
 */
export function scaleByRms(options: ScaleByRmsOptions = {}): GradientTransformation {
  const op = "scaleByRms";
  const ρ = unitInterval(op, "rho", options.rho ?? 0.9);
  const ε = positive(op, "epsilon", options.epsilon ?? 1e-8);
  const centered = flag(op, "centered", options.centered, false);
  return {
    name: op,
    slots: centered ? ["meanSquare", "meanGradient"] : ["meanSquare"],
    nonNegativeSlots: ["meanSquare"],
    init: ({ info }): Slots => (centered ? { meanSquare: slot(info), meanGradient: slot(info) } : { meanSquare: slot(info) }),
    apply(state, _param, g) {
      const v = state.meanSquare!;
      if (centered) {
        const ḡ = state.meanGradient!;
        for (let i = 0; i < g.length; i++) {
          const gi = g[i]!;
          const vi = ρ * v[i]! + (1 - ρ) * gi * gi;
          const mi = ρ * ḡ[i]! + (1 - ρ) * gi;
          v[i] = vi;
          ḡ[i] = mi;
          g[i] = gi / (Math.sqrt(Math.max(vi - mi * mi, 0)) + ε);
        }
      } else {
        for (let i = 0; i < g.length; i++) {
          const gi = g[i]!;
          const vi = ρ * v[i]! + (1 - ρ) * gi * gi;
          v[i] = vi;
          g[i] = gi / (Math.sqrt(vi) + ε);
        }
      }
      return [g, state];
    },
    applyStaged(state, _param, g) {
      const gi = wide(g);
      const vi = wide(state.meanSquare!).mul(ρ).add(gi.mul(1 - ρ).mul(gi));
      if (!centered) return [narrow(gi.div(vi.sqrt().add(ε)), g.dtype), { meanSquare: narrow(vi, g.dtype) }];
      const mi = wide(state.meanGradient!).mul(ρ).add(gi.mul(1 - ρ));
      const u = gi.div(vi.sub(mi.mul(mi)).maximum(0).sqrt().add(ε));
      return [narrow(u, g.dtype), { meanSquare: narrow(vi, g.dtype), meanGradient: narrow(mi, g.dtype) }];
    },
  };
}

/**
 * Options of {@link RMSProp}.
 * @category Optimizers
 */
export interface RMSPropOptions<Model> extends CommonOptions<Model> {
  /** ρ in `[0, 1)`; 0.9 by default. */
  rho?: number;
  /** ε > 0; 1e-8 by default. */
  epsilon?: number;
  /** Centered RMSProp; false by default. */
  centered?: boolean;
  /** Momentum μ in `[0, 1)` on the scaled gradient; 0 by default. */
  momentum?: number;
  /** Nesterov momentum (needs `momentum > 0`); false by default. */
  nesterov?: boolean;
}

/**
 * RMSProp (Tieleman & Hinton 2012), optionally centered (Graves 2013) and with momentum:
 * `v ← ρv + (1 − ρ)g²;  b ← μb + g / (√v + ε);  θ ← θ − α·b` (PyTorch's arrangement of momentum).
 * Defaults: α = 0.001, ρ = 0.9 (Hinton's lecture and Swift), ε = 1e-8, no momentum, not centered.
 * @typeParam Model the model type.
 * @example
 * ```ts
 * const opt = new RMSProp(model, { learningRate: 1e-3, centered: true, momentum: 0.9 });
 * const loss = (m: Dense) => m.callAsFunction(x).square().mean();
 * const before = loss(model).item();
 * for (let step = 0; step < 10; step++) opt.update(model, gradient(model, loss));
 * loss(model).item() < before; // true
 * ```
 * @category Optimizers
 */
export class RMSProp<Model> extends Optimizer<Model> {
  /** The hyperparameters in use (the learning rate lives in {@link Optimizer.learningRate}). */
  readonly hyperparameters: Readonly<{ rho: number; epsilon: number; centered: boolean; momentum: number; nesterov: boolean; decay: number; weightDecay: number }>;
  /** @param model the model to optimize. @param options hyperparameters (see {@link RMSPropOptions}). */
  constructor(model: Model, options?: RMSPropOptions<Model>) {
    const op = "new RMSProp";
    const common = commonOptions(op, options, ["rho", "epsilon", "centered", "momentum", "nesterov"], { learningRate: 1e-3 });
    const rho = unitInterval(op, "rho", options?.rho ?? 0.9);
    const epsilon = positive(op, "epsilon", options?.epsilon ?? 1e-8);
    const centered = flag(op, "centered", options?.centered, false);
    const { momentum, nesterov, rule: withMomentum } = momentumOptions(op, options);
    super(model, assemble(op, model, options, common, [scaleByRms({ rho, epsilon, centered }), ...withMomentum], false), options, "RMSProp");
    this.hyperparameters = Object.freeze({ rho, epsilon, centered, momentum, nesterov, decay: common.decay, weightDecay: common.weightDecay });
  }
}
