/**
 * The shape of an optimizer rule, and the two combinators that build optimizers out of rules: `chain`
 * (run transforms one after the other) and `masked` (run a transform on some parameters only).
 *
 * A rule sees one parameter at a time (Optimisers.jl's `init`/`apply!`; optax's `GradientTransformation`
 * restricted to a leaf): `init` makes its per-parameter state, `apply` turns the incoming update (at first
 * the gradient) into the outgoing one. Everything about the model's structure (nesting, shared
 * parameters, frozen parameters, missing gradients) is handled once, by the walk in `optimizer.ts`.
 */
import type { Tensor } from "../tensor/tensor.js";

/**
 * The element storage of a float parameter: the typed array a rule reads and writes.
 * @category Optimizers
 */
export type FloatArray = Float32Array | Float64Array;

/**
 * What a rule knows about one parameter (one leaf tensor of the model, however many paths reach it).
 * @category Optimizers
 */
export interface ParameterInfo {
  /** The parameter's key path, e.g. `"layers.0.weight"` (the first one in walk order when it is shared). */
  readonly path: string;
  /** Every key path at which the same tensor appears (one entry unless the parameter is shared). */
  readonly paths: readonly string[];
  /** Its shape. */
  readonly shape: readonly number[];
  /** Its element type. */
  readonly dtype: "float32" | "float64";
  /** Its number of elements. */
  readonly size: number;
}

/**
 * One parameter as a rule sees it during a step: its description and its current values (read only).
 * @category Optimizers
 */
export interface ParameterView {
  readonly info: ParameterInfo;
  /** The parameter's current elements. Never write to them: tensors are immutable. */
  readonly value: FloatArray;
}

/**
 * Per-parameter state of one rule: named slots, each a typed array shaped like the parameter (so the
 * state of a whole model is tangent-shaped, slot by slot).
 * @category Optimizers
 */
export type Slots = Record<string, FloatArray>;

/**
 * The step being taken, as a rule sees it.
 * @category Optimizers
 */
export interface StepContext<H> {
  /** The paper's `t`: 1 for the first update, 2 for the second, …. */
  readonly step: number;
  /** The rule's per-step values from {@link GradientTransformation.hyper} (and {@link GradientTransformation.reduce}). */
  readonly hyper: H;
}

/**
 * A rule over one parameter, with optional tree-wide hooks. The optimizer runs the rules of a chain one
 * after the other over all parameters (so a later rule sees the updates of the earlier ones), and only
 * after validating everything: `hyper` (which may call user code, e.g. a schedule) is evaluated for every
 * rule before any state changes.
 *
 * `apply` may overwrite `update` and the arrays of `state` in place and return them (as Optimisers.jl's
 * `apply!` does); the optimizer owns both and hands no one else a reference to them. `apply` and `reduce`
 * run after validation, while the optimizer is writing: they must not throw (check arguments in the
 * factory, and anything data-dependent in `hyper`).
 *
 * @typeParam H the rule's per-step values (a learning rate, a global norm, …).
 * @example
 * ```ts
 * // Sign SGD: the update is the sign of the gradient.
 * const scaleBySign: GradientTransformation = {
 *   name: "scaleBySign",
 *   slots: [],
 *   init: () => ({}),
 *   apply(state, _param, u) {
 *     for (let i = 0; i < u.length; i++) u[i] = Math.sign(u[i]!);
 *     return [u, state];
 *   },
 *   // The same rule with ops, so that `update` also runs inside `compile`.
 *   applyStaged: (state, _param, u) => [u.sign(), state],
 * };
 * const opt = new Optimizer(model, chain(scaleBySign, scaleByLearningRate(0.01)));
 * opt.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * model.bias; // [-0.01, -0.01]
 * ```
 * @category Optimizers
 */
export interface GradientTransformation<H = unknown> {
  /** A short name (`"scaleByAdam"`), recorded in saved state and shown in errors. */
  readonly name: string;
  /** The names of the slots `init` returns, in order (`["firstMoments", "secondMoments"]`). */
  readonly slots: readonly string[];
  /**
   * The slots that can never be negative (sums or averages of squares): `loadState` rejects a saved state
   * with a negative value there.
   */
  readonly nonNegativeSlots?: readonly string[];
  /**
   * Makes the state of one parameter.
   * @param param the parameter (its current values too, for rules that start from them).
   * @returns one typed array of the parameter's size and dtype per slot.
   */
  init(param: ParameterView): Slots;
  /**
   * Per-step values, computed once per step before anything changes (schedules are called here).
   * @param step the paper's `t` (1 first) and `count` (completed steps, 0 first).
   */
  hyper?(step: { readonly step: number; readonly count: number }): H;
  /**
   * A tree-wide statistic of the incoming updates (e.g. the global norm), computed without side effects
   * over the parameters this rule applies to.
   * @param updates the incoming update of every parameter the rule applies to.
   * @param hyper the values from `hyper`.
   * @returns the values `apply` receives.
   */
  reduce?(updates: readonly FloatArray[], hyper: H): H;
  /**
   * Transforms the update of one parameter.
   * @param state the parameter's slots.
   * @param param the parameter.
   * @param update the incoming update (the gradient for the first rule), shaped like the parameter.
   * @param ctx the step and the per-step values.
   * @returns the outgoing update and the new state (either may be the argument, changed in place).
   */
  apply(state: Slots, param: ParameterView, update: FloatArray, ctx: StepContext<H>): [FloatArray, Slots];
  /**
   * The same rule written with tensor ops, for `update` inside `compile` (a loop over typed arrays cannot
   * be staged). It must compute what `apply` computes; the built-in rules do so bit for bit, doing their
   * arithmetic in float64 and rounding where `apply` stores. A rule without it runs eagerly only.
   * @param state the parameter's slots as tensors shaped like it.
   * @param param the parameter.
   * @param update the incoming update.
   * @param ctx the step `t` and the per-step value from `hyper` (or `reduceStaged`), as float64 scalars.
   * @returns the outgoing update and the new slots, each of the parameter's dtype and shape (anything else is
   *   an error naming the rule: arithmetic with the float64 `ctx` values needs a final `.cast`).
   */
  applyStaged?(state: TensorSlots, param: Tensor, update: Tensor, ctx: StagedStepContext): [Tensor, TensorSlots];
  /**
   * `reduce` written with tensor ops, for `update` inside `compile`.
   * @param updates the incoming update of every parameter the rule applies to.
   * @param hyper the value from `hyper`, as a float64 scalar (undefined without `hyper`).
   * @returns the value `applyStaged` receives, a float64 scalar.
   */
  reduceStaged?(updates: readonly Tensor[], hyper: Tensor | undefined): Tensor;
}

/**
 * A rule's per-parameter state as tensors (what {@link GradientTransformation.applyStaged} sees).
 * @example
 * ```ts
 * // Updates that add up the gradients so far, in one slot: eagerly in place, staged as new tensors.
 * const runningSum: GradientTransformation = {
 *   name: "runningSum",
 *   slots: ["total"],
 *   init: (p) => ({ total: new Float32Array(p.value.length) }),
 *   apply(state, _param, u) {
 *     const total = state.total!;
 *     for (let i = 0; i < u.length; i++) u[i] = total[i] = total[i]! + u[i]!;
 *     return [u, state];
 *   },
 *   applyStaged(state: TensorSlots, _param, u) {
 *     const total = state.total!.add(u);
 *     return [total, { total }];
 *   },
 * };
 * const opt = new Optimizer(model, chain(runningSum, scaleByLearningRate(0.1)));
 * const train = compile((m: Dense) => void opt.update(m, gradient(m, (n) => n.callAsFunction(x).sum())));
 * for (let i = 0; i < 3; i++) train(model);
 * model.bias; // [-1.2, -1.2]
 * ```
 * @category Optimizers
 */
export type TensorSlots = Record<string, Tensor>;

/**
 * The step being taken inside `compile`, as {@link GradientTransformation.applyStaged} sees it.
 * @example
 * ```ts
 * // Steps shrinking as 1/√t. The staged step is a float64 scalar (an input, so no retrace per step);
 * // the update is cast back to the parameter's dtype.
 * const bySqrtStep: GradientTransformation = {
 *   name: "bySqrtStep",
 *   slots: [],
 *   init: () => ({}),
 *   apply(state, _param, u, { step }) {
 *     for (let i = 0; i < u.length; i++) u[i] = u[i]! / Math.sqrt(step);
 *     return [u, state];
 *   },
 *   applyStaged: (state, _param, u, ctx: StagedStepContext) => [u.div(ctx.step.sqrt()).cast("float32"), state],
 * };
 * const opt = new Optimizer(model, chain(bySqrtStep, scaleByLearningRate(0.1)));
 * const train = compile((m: Dense) => void opt.update(m, gradient(m, (n) => n.callAsFunction(x).sum())));
 * for (let i = 0; i < 4; i++) train(model);
 * model.bias; // [-0.5568914, -0.5568914]
 * train.stats.traces; // 1
 * ```
 * @category Optimizers
 */
export interface StagedStepContext {
  /** The paper's `t`, a float64 scalar (an input of the program: it changes without retracing). */
  readonly step: Tensor;
  /** The rule's per-step value from `hyper` or `reduceStaged`, a float64 scalar; undefined without them. */
  readonly hyper: Tensor | undefined;
}

/**
 * Chooses parameters by key path: a path string (`"dense.bias"`, or a prefix such as `"encoder"` that
 * selects everything below it), a list of them, or a predicate over the path (called once per path at
 * which the parameter appears; a shared parameter is selected when any of its paths is).
 * @category Optimizers
 */
export type ParameterPredicate = (path: string, parameter: ParameterInfo) => boolean;

/** A chain of transforms (not exported from the package root), as built by {@link chain}. */
export interface Chain {
  readonly kind: "chain";
  readonly parts: readonly Transform[];
}

/** A transform restricted to some parameters (not exported from the package root), as built by {@link masked}. */
export interface Masked {
  readonly kind: "masked";
  readonly inner: Transform;
  readonly select: (p: ParameterInfo) => boolean;
  /** How the mask reads in an error message. */
  readonly description: string;
}

/**
 * Anything an {@link Optimizer} runs: a rule, a {@link chain} of them, or a {@link masked} one.
 * @category Optimizers
 */
export type Transform = GradientTransformation | Chain | Masked;

/**
 * Runs transforms one after the other: each sees the update the previous one produced (optax's `chain`,
 * Optimisers.jl's `OptimiserChain`).
 * @param transforms the transforms, first applied first.
 * @returns one transform.
 * @example
 * ```ts
 * // AdamW with clipping, as a chain.
 * const tx = chain(clipByGlobalNorm(1), scaleByAdam(), addDecayedWeights(1e-2), scaleByLearningRate(1e-3));
 * const opt = new Optimizer(model, tx);
 * opt.state().rules; // ["clipByGlobalNorm", "scaleByAdam", "addDecayedWeights", "scaleByLearningRate"]
 * // Chains nest; the result is the same as one flat chain:
 * const same = chain(clipByGlobalNorm(1), chain(scaleByAdam(), addDecayedWeights(1e-2)), scaleByLearningRate(1e-3));
 * ```
 * @category Optimizers
 */
export function chain(...transforms: readonly Transform[]): Transform {
  transforms.forEach((t, i) => checkTransform(`chain: argument ${i}`, t));
  return { kind: "chain", parts: transforms };
}

/** @internal Throws unless `t` is a transform. */
export function checkTransform(where: string, t: unknown): asserts t is Transform {
  if (typeof t === "object" && t !== null) {
    const k = (t as { kind?: unknown }).kind;
    if (k === "chain" || k === "masked") return;
    const g = t as Partial<GradientTransformation>;
    if (typeof g.name === "string" && typeof g.init === "function" && typeof g.apply === "function" && Array.isArray(g.slots)) return;
  }
  throw new TypeError(
    `${where} is not a transform; pass a rule such as scaleByAdam(), a chain(...) or a masked(...)`,
  );
}

/** @internal One rule of a flattened chain, with the masks that restrict it (all must select). */
export interface Stage {
  readonly rule: GradientTransformation;
  readonly masks: readonly Masked[];
}

/** @internal Flattens nested chains and masks into a list of stages, in application order. */
export function stagesOf(t: Transform, masks: readonly Masked[] = []): Stage[] {
  if ("kind" in t && t.kind === "chain") return t.parts.flatMap((p) => stagesOf(p, masks));
  if ("kind" in t && t.kind === "masked") return stagesOf(t.inner, [...masks, t]);
  return [{ rule: t, masks }];
}

/**
 * A fresh state slot for a parameter: a typed array of its dtype and size, filled with `value`.
 * @param info the parameter.
 * @param value the initial value of every element; 0 by default.
 * @returns a `Float32Array` or `Float64Array`.
 * @example
 * ```ts
 * // A rule that keeps a running sum of squared gradients, starting at 0.1 (AdaGrad's accumulator):
 * const accumulate: GradientTransformation = {
 *   name: "accumulate",
 *   slots: ["accumulator"],
 *   init: ({ info }) => ({ accumulator: slot(info, 0.1) }),
 *   apply(state, _param, u) {
 *     const a = state["accumulator"]!;
 *     for (let i = 0; i < u.length; i++) a[i]! += u[i]! * u[i]!;
 *     return [u, state];
 *   },
 * };
 * const opt = new Optimizer(model, chain(accumulate, scaleByLearningRate(0.1)));
 * opt.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * opt.state().slots["accumulator"]!.bias; // [4.1, 4.1]
 * ```
 * @category Optimizers
 */
export function slot(info: ParameterInfo, value = 0): FloatArray {
  const a = info.dtype === "float32" ? new Float32Array(info.size) : new Float64Array(info.size);
  if (value !== 0) a.fill(value);
  return a;
}
