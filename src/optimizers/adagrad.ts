/**
 * AdaGrad: per-coordinate rates from the sum of squared gradients.
 */
import { Optimizer } from "./optimizer.js";
import { assemble, commonOptions, positive, type CommonOptions } from "./facade.js";
import { checkNumber } from "./schedules.js";
import { slot, type GradientTransformation } from "./transform.js";
import { narrow, wide } from "./staged.js";

/**
 * Options of {@link scaleByAdagrad}.
 * @category Optimizers
 */
export interface ScaleByAdagradOptions {
  /** The accumulator's starting value (>= 0); 0.1 by default. */
  initialAccumulatorValue?: number;
  /** ε > 0, added to the root of the accumulator; 1e-8 by default. */
  epsilon?: number;
}

/**
 * AdaGrad's direction (Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
 * Stochastic Optimization", JMLR 2011, the diagonal version):
 *
 * `G ← G + g²;  u = g / (√G + ε)`.
 *
 * `G` starts at 0.1 (Swift for TensorFlow, TensorFlow, optax), which tempers the first steps.
 * @param options the accumulator's start and ε (see {@link ScaleByAdagradOptions}).
 * @returns the transform, with slot `accumulator`.
 * @example
 * ```ts
 * const opt = new Optimizer(model, chain(scaleByAdagrad(), scaleByLearningRate(0.01)));
 * opt.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * opt.state().rules;              // ["scaleByAdagrad", "scaleByLearningRate"]
 * Object.keys(opt.state().slots); // ["accumulator"]
 * ```
 * @category Optimizers
 */
export function scaleByAdagrad(options: ScaleByAdagradOptions = {}): GradientTransformation {
  const op = "scaleByAdagrad";
  const G0 = checkNumber(op, "initialAccumulatorValue", options.initialAccumulatorValue ?? 0.1, { min: 0 });
  const ε = positive(op, "epsilon", options.epsilon ?? 1e-8);
  return {
    name: op,
    slots: ["accumulator"],
    nonNegativeSlots: ["accumulator"],
    init: ({ info }) => ({ accumulator: slot(info, G0) }),
    apply(state, _param, g) {
      const G = state.accumulator!;
      for (let i = 0; i < g.length; i++) {
        const gi = g[i]!;
        const Gi = G[i]! + gi * gi;
        G[i] = Gi;
        g[i] = gi / (Math.sqrt(Gi) + ε);
      }
      return [g, state];
    },
    applyStaged(state, _param, g) {
      const gi = wide(g);
      const Gi = wide(state.accumulator!).add(gi.mul(gi));
      return [narrow(gi.div(Gi.sqrt().add(ε)), g.dtype), { accumulator: narrow(Gi, g.dtype) }];
    },
  };
}

/**
 * Options of {@link AdaGrad}.
 * @category Optimizers
 */
export interface AdaGradOptions<Model> extends CommonOptions<Model> {
  /** The accumulator's starting value (>= 0); 0.1 by default. */
  initialAccumulatorValue?: number;
  /** ε > 0; 1e-8 by default. */
  epsilon?: number;
}

/**
 * AdaGrad (Duchi, Hazan & Singer, JMLR 2011), see {@link scaleByAdagrad}. The paper fixes no defaults;
 * ours are Swift for TensorFlow's: α = 0.001, initial accumulator 0.1, ε = 1e-8.
 * @typeParam Model the model type.
 * @example
 * ```ts
 * const opt = new AdaGrad(model, { learningRate: 0.01 });
 * const loss = (m: Dense) => m.callAsFunction(x).square().mean();
 * const before = loss(model).item();
 * for (let step = 0; step < 10; step++) opt.update(model, gradient(model, loss));
 * loss(model).item() < before; // true
 * ```
 * @category Optimizers
 */
export class AdaGrad<Model> extends Optimizer<Model> {
  /** The hyperparameters in use (the learning rate lives in {@link Optimizer.learningRate}). */
  readonly hyperparameters: Readonly<{ initialAccumulatorValue: number; epsilon: number; decay: number; weightDecay: number }>;
  /** @param model the model to optimize. @param options hyperparameters (see {@link AdaGradOptions}). */
  constructor(model: Model, options?: AdaGradOptions<Model>) {
    const op = "new AdaGrad";
    const common = commonOptions(op, options, ["initialAccumulatorValue", "epsilon"], { learningRate: 1e-3 });
    const initialAccumulatorValue = checkNumber(op, "initialAccumulatorValue", options?.initialAccumulatorValue ?? 0.1, { min: 0 });
    const epsilon = positive(op, "epsilon", options?.epsilon ?? 1e-8);
    super(model, assemble(op, model, options, common, [scaleByAdagrad({ initialAccumulatorValue, epsilon })], false), options, "AdaGrad");
    this.hyperparameters = Object.freeze({ initialAccumulatorValue, epsilon, decay: common.decay, weightDecay: common.weightDecay });
  }
}
