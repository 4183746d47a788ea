/**
 * The plain scalings: by the learning rate (the last rule of almost every chain), by a constant, and
 * decoupled weight decay.
 */
import { checkNumber, checkRate, evaluate, type Schedule } from "./schedules.js";
import type { GradientTransformation } from "./transform.js";
import type { LearningRateHolder } from "./optimizer.js";
import { f64, narrow, wide } from "./staged.js";
import { withFusedDecay, withFusedTail } from "./fused.js";
import type { FloatArray } from "./transform.js";

/**
 * Options of {@link scaleByLearningRate}.
 * @category Optimizers
 */
export interface ScaleByLearningRateOptions {
  /**
   * Swift for TensorFlow's inverse-time decay: at step `t` the rate is divided by `1 + decay · t`; 0 by
   * default (no decay).
   */
  decay?: number;
}

/**
 * A transform that holds a learning rate, settable while training. Returned by {@link scaleByLearningRate}.
 * @category Optimizers
 */
export interface LearningRateTransformation extends GradientTransformation<number>, LearningRateHolder {
  /** The rate: a number or a schedule of the step count. Setting it affects the following steps. */
  learningRate: number | Schedule;
}

/**
 * Scales the update by `−learningRate` (the minus sign makes the chain a descent: the optimizer adds
 * the final update to the parameters, as in optax). The rate may be a schedule, evaluated once per step at
 * the number of completed steps. An optimizer whose chain holds this transform exposes the rate as
 * `optimizer.learningRate` (one instance per optimizer: the rate lives in the transform).
 * @param learningRate a number >= 0, or a {@link Schedule}.
 * @param options Swift-style `decay` (see {@link ScaleByLearningRateOptions}).
 * @returns the transform.
 * @example
 * ```ts
 * const opt = new Optimizer(model, chain(scaleByAdam(), scaleByLearningRate(cosineDecay({ initialValue: 1e-3, decaySteps: 1000 }))));
 * opt.learningRate; // 0.001
 * for (let step = 0; step < 500; step++) opt.update(model, gradient(model, (m) => m.callAsFunction(x).square().mean()));
 * opt.learningRate; // 0.0005
 * ```
 * @category Optimizers
 */
export function scaleByLearningRate(learningRate: number | Schedule, options: ScaleByLearningRateOptions = {}): LearningRateTransformation {
  const op = "scaleByLearningRate";
  const rate = checkRate(op, "learningRate", learningRate);
  const decay = checkNumber(op, "decay", options.decay ?? 0, { min: 0 });
  const t: LearningRateTransformation = {
    name: op,
    slots: [],
    learningRate: rate,
    init: () => ({}),
    hyper({ step, count }) {
      // α_t = α(count) / (1 + decay · t)   (Swift for TensorFlow's `decay`)
      return evaluate(op, "learningRate", t.learningRate, count) / (1 + decay * step);
    },
    apply(state, _param, u, { hyper: alpha }) {
      scaleInPlace(u, -alpha);
      return [u, state];
    },
    applyStaged: (state, _param, u, { hyper: alpha }) => [narrow(wide(u).mul(alpha!.neg()), u.dtype), state],
  };
  // As the last stage after a rule with a fused step, the factor −α is folded into that step.
  return withFusedTail(t, { eager: (alpha) => -(alpha as number), staged: (alpha) => alpha!.neg() });
}

/**
 * Multiplies the update by a constant (e.g. `scale(-1)` to ascend, or a fixed step size).
 * @param factor any finite number.
 * @returns the transform.
 * @example
 * ```ts
 * // Adam with a fixed rate (no `learningRate` to set later):
 * const opt = new Optimizer(model, chain(scaleByAdam(), scale(-1e-3)));
 * opt.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * model.bias; // [-0.001, -0.001]
 * ```
 * @category Optimizers
 */
export function scale(factor: number): GradientTransformation<number> {
  const k = checkNumber("scale", "factor", factor);
  const rule: GradientTransformation<number> = {
    name: "scale",
    slots: [],
    init: () => ({}),
    apply(state, _param, u) {
      scaleInPlace(u, k);
      return [u, state];
    },
    applyStaged: (state, _param, u) => [narrow(wide(u).mul(k), u.dtype), state],
  };
  return withFusedTail(rule, { eager: () => k, staged: () => f64(k) });
}

/**
 * `u ← k·u` in place, computed in double and rounded where stored. One loop per array kind: a loop that
 * sees both kinds is polymorphic and several times slower.
 */
function scaleInPlace(u: FloatArray, k: number): void {
  if (u instanceof Float32Array) scale32(u, k);
  else scale64(u, k);
}
function scale32(u: Float32Array, k: number): void {
  for (let i = 0; i < u.length; i++) u[i] = k * u[i]!;
}
function scale64(u: Float64Array, k: number): void {
  for (let i = 0; i < u.length; i++) u[i] = k * u[i]!;
}

/**
 * Adds `weightDecay · θ` to the update. Placed before an adaptive rule it is an L2 penalty on the
 * gradient ("coupled" decay); placed after it and before {@link scaleByLearningRate} it is decoupled
 * weight decay (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019), as in AdamW.
 * Use {@link masked} (or the named optimizers' `excludeFromWeightDecay`) to spare biases and norms.
 * @param weightDecay λ >= 0, or a schedule.
 * @returns the transform.
 * @example
 * ```ts
 * // AdamW: decay added after Adam's scaling, so it is not divided by the second moments.
 * const adamW = chain(scaleByAdam(), addDecayedWeights(0.01), scaleByLearningRate(1e-3));
 * // Alone, it shrinks parameters towards zero: each step multiplies them by 1 − 0.1 · 0.5.
 * const opt = new Optimizer(model, chain(addDecayedWeights(0.5), scaleByLearningRate(0.1)));
 * const w0 = model.weight;
 * opt.update(model, { weight: zeros([3, 2]), bias: zeros([2]) });
 * model.weight.sub(w0.mul(0.95)).abs().max(); // 0
 * ```
 * @category Optimizers
 */
export function addDecayedWeights(weightDecay: number | Schedule): GradientTransformation<number> {
  const op = "addDecayedWeights";
  const lambda = checkRate(op, "weightDecay", weightDecay);
  const rule: GradientTransformation<number> = {
    name: op,
    slots: [],
    init: () => ({}),
    hyper: ({ count }) => evaluate(op, "weightDecay", lambda, count),
    apply(state, { value: theta }, u, { hyper: λ }) {
      if (λ !== 0) for (let i = 0; i < u.length; i++) u[i] = u[i]! + λ * theta[i]!;
      return [u, state];
    },
    // λ = 0 adds ±0, which changes no value (the loop skips it).
    applyStaged: (state, theta, u, { hyper: λ }) => [narrow(wide(u).add(wide(theta).mul(λ!)), u.dtype), state],
  };
  // Between a rule and the learning rate (AdamW), it folds into the rule's fused step.
  return withFusedDecay(rule, { eager: (λ) => λ as number, staged: (λ) => λ! });
}
