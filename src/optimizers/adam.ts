/**
 * Adam, and the optimizers built on its moment estimates: AdamW (decoupled weight decay) and NAdam
 * (Nesterov momentum).
 */
import { Optimizer } from "./optimizer.js";
import { assemble, commonOptions, flag, positive, unitInterval, type CommonOptions } from "./facade.js";
import { slot, type GradientTransformation, type Transform } from "./transform.js";
import { wasmAdam, wasmAdamStep, type AdamConstants } from "../tensor/wasm/optimizer.js";
import { bind } from "../autodiff/trace.js";
import { fromTyped } from "../tensor/creation.js";
import type { Tensor } from "../tensor/tensor.js";
import { f64, narrow, oneMinusPow, wide } from "./staged.js";
import { fusedSlot, fusedStepPrimitive, newF32, slotOutput, withFusedStep } from "./fused.js";

/**
 * Options of {@link scaleByAdam}.
 * @category Optimizers
 */
export interface ScaleByAdamOptions {
  /** β1, the decay of the first moment, in `[0, 1)`; 0.9 by default. */
  beta1?: number;
  /** β2, the decay of the second moment, in `[0, 1)`; 0.999 by default. */
  beta2?: number;
  /** ε > 0, added to `√v̂`; 1e-8 by default. */
  epsilon?: number;
  /** Use Nesterov momentum (NAdam); false by default. */
  nesterov?: boolean;
}

/**
 * Adam's direction (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1):
 *
 * `m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  m̂ = m / (1 − β1ᵗ);  v̂ = v / (1 − β2ᵗ);  u = m̂ / (√v̂ + ε)`.
 *
 * With `nesterov`, the first moment looks one step ahead (Dozat, "Incorporating Nesterov Momentum into
 * Adam", ICLR 2016 workshop), in the form optax and Optimisers.jl use:
 * `m̂ = β1·m / (1 − β1ᵗ⁺¹) + (1 − β1)·g / (1 − β1ᵗ)`.
 *
 * ε is added to the bias-corrected `√v̂`, as in the paper's Algorithm 1, optax, PyTorch and Optimisers.jl.
 * Swift for TensorFlow instead folds both corrections into the step size and adds ε to the uncorrected
 * `√v` (the paper's "ε̂" variant, equal to ours with ε scaled by `√(1 − β2ᵗ)`); the two agree except in
 * the first few hundred steps when `v` is tiny.
 * @param options β1, β2, ε, Nesterov (see {@link ScaleByAdamOptions}).
 * @returns the transform, with slots `firstMoments` and `secondMoments`.
 * @example
 * ```ts
 * const opt = new Optimizer(model, chain(scaleByAdam({ beta2: 0.99 }), scaleByLearningRate(3e-4)));
 * opt.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * // The first step moves each parameter by about the learning rate, against its gradient:
 * model.bias; // [-0.0003, -0.0003]
 * Object.keys(opt.state().slots); // ["firstMoments", "secondMoments"]
 * ```
 * @category Optimizers
 */
export function scaleByAdam(options: ScaleByAdamOptions = {}): GradientTransformation {
  const op = "scaleByAdam";
  const { beta1: β1, beta2: β2, epsilon: ε } = adamMoments(op, options);
  const nesterov = flag(op, "nesterov", options.nesterov, false);
  /** The step's constants, computed as the loop below always did (the fused step uses the same). */
  const constants = (t: number): AdamConstants => {
    const c1 = 1 - Math.pow(β1, t);
    const c2 = 1 - Math.pow(β2, t);
    // NAdam's look-ahead weights: β1 / (1 − β1ᵗ⁺¹) on m, (1 − β1) / (1 − β1ᵗ) on g.
    const a = nesterov ? β1 / (1 - Math.pow(β1, t + 1)) : 1 / c1;
    const b = nesterov ? (1 - β1) / c1 : 0;
    return { beta1: β1, beta2: β2, epsilon: ε, a, b, c2 };
  };
  /** The staged constants a, b and c2 of step t (a float64 scalar), as applyStaged computes them. */
  const stagedConstants = (t: Tensor): [Tensor, Tensor, Tensor] => {
    const c1 = oneMinusPow(β1, t);
    const c2 = oneMinusPow(β2, t);
    const a = nesterov ? f64(β1).div(oneMinusPow(β1, t.add(1))) : f64(1).div(c1);
    const b = nesterov ? f64(1 - β1).div(c1) : f64(0);
    return [a, b, c2];
  };
  const rule: GradientTransformation = {
    name: nesterov ? "scaleByNadam" : op,
    slots: ["firstMoments", "secondMoments"],
    nonNegativeSlots: ["secondMoments"],
    init: ({ info }) => ({ firstMoments: slot(info), secondMoments: slot(info) }),
    apply(state, _param, g, { step: t }) {
      const m = state.firstMoments!;
      const v = state.secondMoments!;
      const k = constants(t);
      const { a, b, c2 } = k;
      // Float32 parameters run the same loop as a SIMD kernel (same bits).
      if (g instanceof Float32Array && m instanceof Float32Array && v instanceof Float32Array && wasmAdam(m, v, g, k)) return [g, state];
      for (let i = 0; i < g.length; i++) {
        const gi = g[i]!;
        const mi = β1 * m[i]! + (1 - β1) * gi;
        const vi = β2 * v[i]! + (1 - β2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        const m̂ = a * mi + b * gi;
        const v̂ = vi / c2;
        g[i] = m̂ / (Math.sqrt(v̂) + ε);
      }
      return [g, state];
    },
    applyStaged(state, _param, g, { step: t }) {
      // The loop above, in float64, rounding where it stores (m, v and the update).
      const gi = wide(g);
      const mi = wide(state.firstMoments!).mul(β1).add(gi.mul(1 - β1));
      const vi = wide(state.secondMoments!).mul(β2).add(gi.mul(1 - β2).mul(gi));
      const [a, b, c2] = stagedConstants(t);
      const m̂ = mi.mul(a).add(gi.mul(b));
      const v̂ = vi.div(c2);
      const u = m̂.div(v̂.sqrt().add(ε));
      return [narrow(u, g.dtype), { firstMoments: narrow(mi, g.dtype), secondMoments: narrow(vi, g.dtype) }];
    },
  };
  return withFusedStep(rule, {
    decoupledDecay: true,
    eager(state, theta, g, t, factor, decay) {
      const m = state.firstMoments, v = state.secondMoments;
      if (!(m instanceof Float32Array && v instanceof Float32Array)) return null;
      const out = newF32(g.length);
      const k = constants(t);
      if (!wasmAdamStep(theta, m, v, g, k, factor, decay, m, v, out)) adamStep32(theta, m, v, g, k, factor, decay, m, v, out);
      return out;
    },
    staged(state, theta, g, t, factor, decay) {
      const inputs = [theta, g, state.firstMoments!, state.secondMoments!, ...stagedConstants(t), factor, decay ?? f64(0)];
      const next = bind(adamStepP, inputs, { beta1: β1, beta2: β2, epsilon: ε });
      return { theta: next, slots: { firstMoments: fusedSlot(next, 0), secondMoments: fusedSlot(next, 1) } };
    },
  });
}

/**
 * Adam's step fused with the learning rate and θ + u, over float32 arrays (the kernel's fallback for small
 * parameters): the loop of `scaleByAdam`, then (λ ≠ 0: AdamW) `d + λθ`, then `u = factor·d` and `θ + u`,
 * each rounded to float32 where the separate loops store (`Math.fround`). `mOut`, `vOut` may be `m`, `v`.
 */
function adamStep32(
  theta: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, k: AdamConstants, factor: number, λ: number,
  mOut: Float32Array, vOut: Float32Array, out: Float32Array,
): void {
  const { beta1: β1, beta2: β2, epsilon: ε, a, b, c2 } = k;
  const n = g.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    const mi = β1 * m[i]! + (1 - β1) * gi;
    const vi = β2 * v[i]! + (1 - β2) * gi * gi;
    mOut[i] = mi;
    vOut[i] = vi;
    let d = Math.fround((a * mi + b * gi) / (Math.sqrt(vi / c2) + ε));
    if (λ !== 0) d = Math.fround(d + λ * theta[i]!);
    out[i] = theta[i]! + Math.fround(factor * d);
  }
}

/**
 * Inside `compile`: Adam's fused step as one primitive over (θ, g, m, v, a, b, c2, factor, λ); its result is
 * the new parameter, and `fusedSlot` reads the new moments (new arrays: the program's inputs stay as they are).
 */
const adamStepP = fusedStepPrimitive<{ beta1: number; beta2: number; epsilon: number }>("adamStep", (inputs, { beta1, beta2, epsilon }) => {
  const [theta, g, m, v] = inputs.slice(0, 4).map((x) => x._values as Float32Array) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const [a, b, c2, factor, λ] = inputs.slice(4).map((x) => x._values[0]!) as [number, number, number, number, number];
  const n = g.length;
  const mOut = slotOutput(m), vOut = slotOutput(v), out = newF32(n);
  const k: AdamConstants = { beta1, beta2, epsilon, a, b, c2 };
  if (!wasmAdamStep(theta, m, v, g, k, factor, λ, mOut, vOut, out)) adamStep32(theta, m, v, g, k, factor, λ, mOut, vOut, out);
  const shape = inputs[0]!.shape;
  return { theta: fromTyped(out, shape, "float32"), slots: [fromTyped(mOut, shape, "float32"), fromTyped(vOut, shape, "float32")] };
});

/**
 * Options of {@link Adam}, {@link AdamW} and {@link NAdam}.
 * @category Optimizers
 */
export interface AdamOptions<Model> extends CommonOptions<Model> {
  /** β1 in `[0, 1)`; 0.9 by default. */
  beta1?: number;
  /** β2 in `[0, 1)`; 0.999 by default. */
  beta2?: number;
  /** ε > 0; 1e-8 by default. */
  epsilon?: number;
}

/**
 * The hyperparameters of an Adam-family optimizer, as resolved.
 * @category Optimizers
 */
export interface AdamHyperparameters {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly decay: number;
  readonly weightDecay: number;
}

/** @internal β1, β2 and ε of an Adam-family rule, checked; Adam's defaults 0.9, 0.999 and 1e-8. */
export function adamMoments(op: string, options: { beta1?: number; beta2?: number; epsilon?: number } | undefined): { beta1: number; beta2: number; epsilon: number } {
  return {
    beta1: unitInterval(op, "beta1", options?.beta1 ?? 0.9),
    beta2: unitInterval(op, "beta2", options?.beta2 ?? 0.999),
    epsilon: positive(op, "epsilon", options?.epsilon ?? 1e-8),
  };
}

/**
 * @internal The chain and the resolved hyperparameters of a named Adam-family optimizer: the common options,
 * then β1, β2 and ε, checked in that order, around the rule `direction` builds from them.
 */
export function adamFamily<Model>(
  op: string,
  model: Model,
  options: AdamOptions<Model> | undefined,
  direction: (moments: { beta1: number; beta2: number; epsilon: number }) => GradientTransformation,
  decoupled: boolean,
  defaults: { learningRate: number; weightDecay?: number },
): { transform: Transform; hyperparameters: AdamHyperparameters } {
  const common = commonOptions(op, options, ["beta1", "beta2", "epsilon"], defaults);
  const moments = adamMoments(op, options);
  const transform = assemble(op, model, options, common, [direction(moments)], decoupled);
  const hyperparameters: AdamHyperparameters = Object.freeze({ ...moments, decay: common.decay, weightDecay: common.weightDecay });
  return { transform, hyperparameters };
}

/**
 * Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015): `θ ← θ − α·m̂ / (√v̂ + ε)`,
 * see {@link scaleByAdam}. Defaults from the paper: α = 0.001, β1 = 0.9, β2 = 0.999, ε = 1e-8.
 * `weightDecay` here is an L2 penalty on the gradient; for decoupled decay use {@link AdamW}.
 * @typeParam Model the model type.
 * @example
 * ```ts
 * const opt = new Adam(model, { learningRate: 1e-3 });
 * const loss = (m: Dense) => m.callAsFunction(x).square().mean();
 * opt.update(model, gradient(model, loss));
 * opt.step; // 1
 * // Later, a smaller rate (or a schedule) for the following steps:
 * opt.learningRate = 1e-4;
 * opt.update(model, gradient(model, loss));
 * opt.learningRate; // 0.0001
 * ```
 * @category Optimizers
 */
export class Adam<Model> extends Optimizer<Model> {
  /** The hyperparameters in use (the learning rate lives in {@link Optimizer.learningRate}). */
  readonly hyperparameters: AdamHyperparameters;
  /** @param model the model to optimize. @param options hyperparameters (see {@link AdamOptions}). */
  constructor(model: Model, options?: AdamOptions<Model>) {
    const { transform, hyperparameters } = adamFamily("new Adam", model, options, (h) => scaleByAdam(h), false, { learningRate: 1e-3 });
    super(model, transform, options, "Adam");
    this.hyperparameters = hyperparameters;
  }
}

/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019): Adam with the weight
 * decay taken out of the gradient, `θ ← θ − α·(m̂ / (√v̂ + ε) + λθ)`. The decay is scaled by the learning
 * rate (as in PyTorch and optax; the paper scales it by the schedule multiplier only). Defaults: Adam's,
 * and λ = 0.01 (PyTorch's; the paper tunes λ per task).
 * @typeParam Model the model type.
 * @example
 * ```ts
 * const opt = new AdamW(model, { weightDecay: 0.05, excludeFromWeightDecay: (path) => path.endsWith("bias") });
 * const loss = (m: Dense) => m.callAsFunction(x).square().mean();
 * const before = loss(model).item();
 * for (let step = 0; step < 10; step++) opt.update(model, gradient(model, loss));
 * loss(model).item() < before; // true
 * ```
 * @category Optimizers
 */
export class AdamW<Model> extends Optimizer<Model> {
  /** The hyperparameters in use (the learning rate lives in {@link Optimizer.learningRate}). */
  readonly hyperparameters: AdamHyperparameters;
  /** @param model the model to optimize. @param options hyperparameters (see {@link AdamOptions}). */
  constructor(model: Model, options?: AdamOptions<Model>) {
    const { transform, hyperparameters } = adamFamily("new AdamW", model, options, (h) => scaleByAdam(h), true, { learningRate: 1e-3, weightDecay: 0.01 });
    super(model, transform, options, "AdamW");
    this.hyperparameters = hyperparameters;
  }
}

/**
 * NAdam (Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop): Adam whose first
 * moment looks one step ahead, see {@link scaleByAdam} with `nesterov`. We use the constant-β1 form of
 * optax and Optimisers.jl (no momentum-decay schedule μₜ). Defaults: α = 0.002 (the paper's), β1 = 0.9,
 * β2 = 0.999, ε = 1e-8.
 * @typeParam Model the model type.
 * @example
 * ```ts
 * const opt = new NAdam(model);
 * const loss = (m: Dense) => m.callAsFunction(x).square().mean();
 * const before = loss(model).item();
 * for (let step = 0; step < 10; step++) opt.update(model, gradient(model, loss));
 * loss(model).item() < before; // true
 * ```
 * @category Optimizers
 */
export class NAdam<Model> extends Optimizer<Model> {
  /** The hyperparameters in use (the learning rate lives in {@link Optimizer.learningRate}). */
  readonly hyperparameters: AdamHyperparameters;
  /** @param model the model to optimize. @param options hyperparameters (see {@link AdamOptions}). */
  constructor(model: Model, options?: AdamOptions<Model>) {
    const { transform, hyperparameters } = adamFamily("new NAdam", model, options, (h) => scaleByAdam({ ...h, nesterov: true }), false, { learningRate: 2e-3 });
    super(model, transform, options, "NAdam");
    this.hyperparameters = hyperparameters;
  }
}
