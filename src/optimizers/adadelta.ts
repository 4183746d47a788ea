/**
 * AdaDelta: AdaGrad's rates with running averages and units matched by the past updates.
 */
import { Optimizer } from "./optimizer.js";
import { assemble, commonOptions, positive, unitInterval, type CommonOptions } from "./facade.js";
import { slot, type GradientTransformation } from "./transform.js";
import { narrow, wide } from "./staged.js";

/**
 * Options of {@link scaleByAdadelta}.
 * @category Optimizers
 */
export interface ScaleByAdadeltaOptions {
  /** ρ, the decay of both running averages, in `[0, 1)`; 0.95 by default. */
  rho?: number;
  /** ε > 0, inside both roots; 1e-6 by default. */
  epsilon?: number;
}

/**
 * AdaDelta's direction (Zeiler, "ADADELTA: An Adaptive Learning Rate Method", 2012, Algorithm 1):
 *
 * `E[g²] ← ρ·E[g²] + (1 − ρ)·g²;  Δ = √(E[Δ²] + ε) / √(E[g²] + ε) · g;  E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²;  u = Δ`.
 * @param options ρ and ε (see {@link ScaleByAdadeltaOptions}).
 * @returns the transform, with slots `averageSquared` and `accumulatedDelta`.
 * @example
 * ```ts
 * const opt = new Optimizer(model, chain(scaleByAdadelta(), scaleByLearningRate(1)));
 * opt.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * opt.state().rules;              // ["scaleByAdadelta", "scaleByLearningRate"]
 * Object.keys(opt.state().slots); // ["averageSquared", "accumulatedDelta"]
 * ```
 * @category Optimizers
 */
export function scaleByAdadelta(options: ScaleByAdadeltaOptions = {}): GradientTransformation {
  const op = "scaleByAdadelta";
  const ρ = unitInterval(op, "rho", options.rho ?? 0.95);
  const ε = positive(op, "epsilon", options.epsilon ?? 1e-6);
  return {
    name: op,
    slots: ["averageSquared", "accumulatedDelta"],
    nonNegativeSlots: ["averageSquared", "accumulatedDelta"],
    init: ({ info }) => ({ averageSquared: slot(info), accumulatedDelta: slot(info) }),
    apply(state, _param, g) {
      const Eg2 = state.averageSquared!;
      const EΔ2 = state.accumulatedDelta!;
      for (let i = 0; i < g.length; i++) {
        const gi = g[i]!;
        const e = ρ * Eg2[i]! + (1 - ρ) * gi * gi;
        Eg2[i] = e;
        const Δ = (Math.sqrt(EΔ2[i]! + ε) / Math.sqrt(e + ε)) * gi;
        EΔ2[i] = ρ * EΔ2[i]! + (1 - ρ) * Δ * Δ;
        g[i] = Δ;
      }
      return [g, state];
    },
    applyStaged(state, _param, g) {
      const gi = wide(g);
      const EΔ2 = wide(state.accumulatedDelta!);
      const e = wide(state.averageSquared!).mul(ρ).add(gi.mul(1 - ρ).mul(gi));
      const Δ = EΔ2.add(ε).sqrt().div(e.add(ε).sqrt()).mul(gi);
      const next = EΔ2.mul(ρ).add(Δ.mul(1 - ρ).mul(Δ));
      return [narrow(Δ, g.dtype), { averageSquared: narrow(e, g.dtype), accumulatedDelta: narrow(next, g.dtype) }];
    },
  };
}

/**
 * Options of {@link AdaDelta}.
 * @category Optimizers
 */
export interface AdaDeltaOptions<Model> extends CommonOptions<Model> {
  /** ρ in `[0, 1)`; 0.95 by default. */
  rho?: number;
  /** ε > 0; 1e-6 by default. */
  epsilon?: number;
}

/**
 * AdaDelta (Zeiler 2012), see {@link scaleByAdadelta}. Defaults from the paper: ρ = 0.95, ε = 1e-6, and
 * no learning rate (α = 1, as in Swift for TensorFlow).
 * @typeParam Model the model type.
 * @example
 * ```ts
 * const opt = new AdaDelta(model);
 * const loss = (m: Dense) => m.callAsFunction(x).square().mean();
 * const before = loss(model).item();
 * for (let step = 0; step < 10; step++) opt.update(model, gradient(model, loss));
 * loss(model).item() < before; // true
 * ```
 * @category Optimizers
 */
export class AdaDelta<Model> extends Optimizer<Model> {
  /** The hyperparameters in use (the learning rate lives in {@link Optimizer.learningRate}). */
  readonly hyperparameters: Readonly<{ rho: number; epsilon: number; decay: number; weightDecay: number }>;
  /** @param model the model to optimize. @param options hyperparameters (see {@link AdaDeltaOptions}). */
  constructor(model: Model, options?: AdaDeltaOptions<Model>) {
    const op = "new AdaDelta";
    const common = commonOptions(op, options, ["rho", "epsilon"], { learningRate: 1 });
    const rho = unitInterval(op, "rho", options?.rho ?? 0.95);
    const epsilon = positive(op, "epsilon", options?.epsilon ?? 1e-6);
    super(model, assemble(op, model, options, common, [scaleByAdadelta({ rho, epsilon })], false), options, "AdaDelta");
    this.hyperparameters = Object.freeze({ rho, epsilon, decay: common.decay, weightDecay: common.weightDecay });
  }
}
