/**
 * Momentum (`trace`) and stochastic gradient descent.
 */
import { Optimizer } from "./optimizer.js";
import { assemble, commonOptions, flag, unitInterval, type CommonOptions } from "./facade.js";
import { slot, type GradientTransformation } from "./transform.js";
import { narrow, wide } from "./staged.js";
import { fusedSlot, fusedStepPrimitive, newF32, slotOutput, withFusedStep } from "./fused.js";
import { wasmMomentumStep } from "../tensor/wasm/optimizer.js";
import { bind } from "../autodiff/trace.js";
import { fromTyped } from "../tensor/creation.js";

/**
 * Options of {@link trace}.
 * @category Optimizers
 */
export interface TraceOptions {
  /** The momentum μ in `[0, 1)`; 0.9 by default. */
  momentum?: number;
  /** Nesterov's accelerated gradient; false by default. */
  nesterov?: boolean;
}

/**
 * Heavy-ball momentum (Polyak, "Some methods of speeding up the convergence of iteration methods", 1964),
 * or Nesterov momentum in the form of Sutskever, Martens, Dahl & Hinton ("On the importance of
 * initialization and momentum in deep learning", ICML 2013):
 *
 * `v ← μ·v + g`; the update is `v`, or `g + μ·v` with Nesterov.
 *
 * The velocity `v` holds no learning rate (optax's `trace`, PyTorch's buffer), so changing the rate
 * mid-run rescales the whole step at once.
 * @param options `momentum` and `nesterov` (see {@link TraceOptions}).
 * @returns the transform, with slot `velocity`.
 * @example
 * ```ts
 * const opt = new Optimizer(model, chain(trace({ momentum: 0.9, nesterov: true }), scaleByLearningRate(0.01)));
 * opt.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * // Nesterov's first step is (1 + momentum) times the gradient (2 for the biases), times the rate:
 * model.bias; // [-0.038, -0.038]
 * Object.keys(opt.state().slots); // ["velocity"]
 * ```
 * @category Optimizers
 */
export function trace(options: TraceOptions = {}): GradientTransformation {
  const op = "trace";
  const μ = unitInterval(op, "momentum", options.momentum ?? 0.9);
  const nesterov = flag(op, "nesterov", options.nesterov, false);
  const rule: GradientTransformation = {
    name: op,
    slots: ["velocity"],
    init: ({ info }) => ({ velocity: slot(info) }),
    apply(state, _param, g) {
      const v = state.velocity!;
      for (let i = 0; i < g.length; i++) {
        const vi = μ * v[i]! + g[i]!;
        v[i] = vi;
        g[i] = nesterov ? g[i]! + μ * vi : vi;
      }
      return [g, state];
    },
    applyStaged(state, _param, g) {
      const vi = wide(state.velocity!).mul(μ).add(wide(g));
      const v = narrow(vi, g.dtype);
      return [nesterov ? narrow(wide(g).add(vi.mul(μ)), g.dtype) : v, { velocity: v }];
    },
  };
  return withFusedStep(rule, {
    decoupledDecay: false,
    eager(state, theta, g, _t, factor) {
      const v = state.velocity;
      if (!(v instanceof Float32Array)) return null;
      const out = newF32(g.length);
      if (!wasmMomentumStep(theta, v, g, μ, nesterov, factor, v, out)) momentumStep32(theta, v, g, μ, nesterov, factor, v, out);
      return out;
    },
    staged(state, theta, g, _t, factor) {
      const next = bind(momentumStepP, [theta, g, state.velocity!, factor], { momentum: μ, nesterov });
      return { theta: next, slots: { velocity: fusedSlot(next, 0) } };
    },
  });
}

/**
 * The momentum step fused with the learning rate and θ + u over float32 arrays (the kernel's fallback for
 * small parameters), rounding where the separate loops store. `vOut` may be `v`.
 */
function momentumStep32(
  theta: Float32Array, v: Float32Array, g: Float32Array, μ: number, nesterov: boolean, factor: number, vOut: Float32Array, out: Float32Array,
): void {
  for (let i = 0; i < g.length; i++) {
    const gi = g[i]!;
    const vi = μ * v[i]! + gi;
    vOut[i] = vi;
    const d = Math.fround(nesterov ? gi + μ * vi : vi);
    out[i] = theta[i]! + Math.fround(factor * d);
  }
}

/** Inside `compile`: the momentum step as one primitive over (θ, g, v, factor); `fusedSlot` reads the velocity. */
const momentumStepP = fusedStepPrimitive<{ momentum: number; nesterov: boolean }>("momentumStep", (inputs, { momentum, nesterov }) => {
  const [theta, g, v] = inputs.slice(0, 3).map((x) => x._values as Float32Array) as [Float32Array, Float32Array, Float32Array];
  const factor = inputs[3]!._values[0]!;
  const vOut = slotOutput(v), out = newF32(g.length);
  if (!wasmMomentumStep(theta, v, g, momentum, nesterov, factor, vOut, out)) momentumStep32(theta, v, g, momentum, nesterov, factor, vOut, out);
  const shape = inputs[0]!.shape;
  return { theta: fromTyped(out, shape, "float32"), slots: [fromTyped(vOut, shape, "float32")] };
});

/**
 * Options of {@link SGD}.
 * @category Optimizers
 */
export interface SGDOptions<Model> extends CommonOptions<Model> {
  /** The momentum μ in `[0, 1)`; 0 by default (plain gradient descent). */
  momentum?: number;
  /** Nesterov momentum (needs `momentum > 0`); false by default. */
  nesterov?: boolean;
}

/**
 * @internal The momentum options of a named optimizer, checked: μ in `[0, 1)` (0 by default) and Nesterov
 * (which needs μ > 0), with the rule they add: a {@link trace} when μ > 0, else nothing.
 */
export function momentumOptions(op: string, options: { momentum?: number; nesterov?: boolean } | undefined): { momentum: number; nesterov: boolean; rule: GradientTransformation[] } {
  const momentum = unitInterval(op, "momentum", options?.momentum ?? 0);
  const nesterov = flag(op, "nesterov", options?.nesterov, false);
  if (nesterov && momentum === 0) throw new RangeError(`${op}: nesterov needs momentum > 0 (momentum is 0)`);
  return { momentum, nesterov, rule: momentum > 0 ? [trace({ momentum, nesterov })] : [] };
}

/**
 * Stochastic gradient descent (Robbins & Monro, "A Stochastic Approximation Method", 1951), with
 * optional momentum (see {@link trace}), Nesterov momentum and L2 weight decay:
 *
 * `g ← g + λθ;  v ← μv + g;  θ ← θ − α·v` (Nesterov: `θ ← θ − α·(g + μv)`).
 *
 * Defaults are Swift for TensorFlow's: α = 0.01, μ = 0, no Nesterov. With a constant rate this is exactly
 * Swift's `v ← μv − αg; θ ← θ + v`; our velocity omits α (PyTorch's convention), which only differs when
 * the rate changes mid-run.
 * @typeParam Model the model type.
 * @example
 * ```ts
 * const opt = new SGD(model, { learningRate: 0.01, momentum: 0.9, nesterov: true });
 * const loss = (m: Dense) => m.callAsFunction(x).square().mean();
 * const before = loss(model).item();
 * for (let step = 0; step < 10; step++) opt.update(model, gradient(model, loss));
 * loss(model).item() < before; // true
 * ```
 * @category Optimizers
 */
export class SGD<Model> extends Optimizer<Model> {
  /** The hyperparameters in use (the learning rate lives in {@link Optimizer.learningRate}). */
  readonly hyperparameters: Readonly<{ momentum: number; nesterov: boolean; decay: number; weightDecay: number }>;

  /**
   * @param model the model to optimize.
   * @param options hyperparameters (see {@link SGDOptions}).
   */
  constructor(model: Model, options?: SGDOptions<Model>) {
    const op = "new SGD";
    const common = commonOptions(op, options, ["momentum", "nesterov"], { learningRate: 0.01 });
    const { momentum, nesterov, rule } = momentumOptions(op, options);
    super(model, assemble(op, model, options, common, rule, false), options, "SGD");
    this.hyperparameters = Object.freeze({ momentum, nesterov, decay: common.decay, weightDecay: common.weightDecay });
  }
}
