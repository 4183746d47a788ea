/**
 * The optimizer: one class that runs a transform (a rule or a chain of rules) over every parameter of a
 * model. The structural work is elsewhere: `parameters.ts` pairs the model with the gradient through the
 * walk and groups tied parameters, `state.ts` holds the state format and its checks, `masks.ts` the
 * parameter selectors. `update` validates everything (structure, shapes, dtypes, finiteness, the state
 * against the parameters), then runs the rules and writes the new parameters.
 */
import { Tensor } from "../tensor/tensor.js";
import { fromTyped, scalar } from "../tensor/creation.js";
import { sameShape } from "../tensor/shape.js";
import { allocate } from "../tensor/dtype.js";
import { stack } from "../ops/movement.js";
import { where } from "../ops/binary.js";
import { StagedTensor } from "../staged/tracing.js";
import { effectScope, tracingCompile } from "../staged/effects.js";
import { originalOf } from "../staged/structure.js";
import { assignLeaves, buildTangent } from "../keypaths/walk.js";
import { makeTangentStruct } from "../protocols/structs.js";
import type { TangentVector } from "../protocols/tangent.js";
import { selectorPredicate, unmatchedPaths, type PathSelector } from "./masks.js";
import { evaluate, type Schedule } from "./schedules.js";
import { checkTransform, stagesOf, type FloatArray, type GradientTransformation, type ParameterInfo, type Slots, type Stage, type TensorSlots, type Transform } from "./transform.js";
import { firstNonFinite32, locateNonFinite, nonFiniteFlag, parametersOf, sumInto, type Parameter } from "./parameters.js";
import { TAIL_ONLY, fusedDecayOf, fusedStepOf, fusedStepsEnabled, fusedTailOf, type FusedDecay, type FusedStep, type FusedTail } from "./fused.js";
import { OPTIMIZER_STATE_FORMAT, checkStateFits, slotValueProblem, type OptimizerState, type ParameterState } from "./state.js";

export { OPTIMIZER_STATE_FORMAT, type OptimizerState } from "./state.js";

/**
 * Options every optimizer accepts.
 * @category Optimizers
 */
export interface OptimizerOptions<Model> {
  /**
   * Parameters to freeze: never updated, no weight decay, no state kept (by key path or predicate; a
   * literal path is checked against the model's type).
   */
  freeze?: PathSelector<Model>;
  /**
   * Reject a gradient holding NaN or ±Infinity: `update` throws naming the key path and changes nothing.
   * True by default; `false` applies such a gradient as it is (the parameters and state become non-finite).
   */
  checkFinite?: boolean;
  /**
   * Skip a step whose gradient holds NaN or ±Infinity (model and state unchanged), counting it in
   * {@link Optimizer.skippedSteps}; false by default. Takes precedence over `checkFinite`.
   */
  skipNonFinite?: boolean;
}

/** What scaleByLearningRate exposes, so an optimizer can read and set its rate. */
export interface LearningRateHolder {
  learningRate: number | Schedule;
}

function isLearningRateHolder(r: GradientTransformation): r is GradientTransformation & LearningRateHolder {
  return "learningRate" in r;
}

const OPTIMIZER_KEYS = ["freeze", "checkFinite", "skipNonFinite"] as const;

/** The model of each optimizer (see `Optimizer.model`). */
const models = new WeakMap<object, unknown>();

/** @internal Rejects unknown option names (a typo would otherwise be silently ignored). */
export function checkOptionKeys(op: string, options: object | undefined, valid: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) throw new TypeError(`${op}: options must be an object, got ${options === null ? "null" : typeof options}`);
  for (const k of Object.keys(options)) {
    if (!valid.includes(k) && (options as Record<string, unknown>)[k] !== undefined) {
      throw new TypeError(`${op}: unknown option '${k}'; the options are ${valid.join(", ")}`);
    }
  }
}

/**
 * An optimizer over any differentiable model: it runs a {@link Transform} (one rule, or a {@link chain}
 * of them) over every parameter and moves the model in place. The named optimizers (`Adam`, `SGD`, …)
 * are this class with a fixed chain.
 *
 * How parameters are treated:
 * - **Nesting**: class models (their `@differentiable` fields), plain objects and arrays, to any depth;
 *   the model may also be a bare tensor (then {@link update} returns the new tensor).
 * - **Shared parameters** (one tensor object at several key paths): their partial derivatives are summed,
 *   the rule runs once with one state, and the same new tensor is written to every path.
 * - **Frozen parameters** (option `freeze`, or {@link freeze}): not updated, no state.
 * - **Missing gradients** (`null` or `undefined` in the gradient, at a leaf or above it): those parameters
 *   are left as they are, with their state (and their step count) unchanged.
 * - **Validation first**: structure, shapes, dtypes, finiteness (unless `checkFinite: false`) and the
 *   state's shapes against the parameters' are all checked, masks and schedules evaluated, before anything
 *   changes; a bad gradient throws naming the key path and leaves model and state as they were.
 * - **One model**: an optimizer updates the model object it was built for; its state belongs to that
 *   model's parameters. After replacing a part of the model (a new head), {@link resetState} gives the
 *   new parameters fresh state.
 * - **Inside `compile`**: `update` stages itself when the model is an argument of the compiled function:
 *   its state, step counts and learning rate are inputs read at every run, the new parameters and state are
 *   written back after it, as the eager step would leave them (the rules need an `applyStaged`).
 *
 * @typeParam Model the model type; {@link update} accepts only `TangentVector<Model>`.
 * @example
 * ```ts
 * const opt = new Optimizer(model, chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-2)));
 * // Two batches of inputs with their targets:
 * const data = [
 *   { inputs: x, targets: tensor([[1, 0], [0, 1]]) },
 *   { inputs: x.mul(-1), targets: tensor([[0, 1], [1, 0]]) },
 * ];
 * const loss = (m: Dense, batch: (typeof data)[number]) => meanSquaredError(m.callAsFunction(batch.inputs), batch.targets);
 * const before = loss(model, data[0]!).item();
 * for (let epoch = 0; epoch < 20; epoch++) {
 *   for (const batch of data) {
 *     const g = gradient(model, (m) => loss(m, batch));
 *     opt.update(model, g);
 *   }
 * }
 * loss(model, data[0]!).item() < before; // true
 * opt.step; // 40
 * ```
 * @category Optimizers
 */
export class Optimizer<Model> {
  /** @internal The rules, flattened. */
  protected readonly stages: readonly Stage[];
  /** @internal Slot keys in {@link OptimizerState.slots}, per stage and slot. */
  private readonly slotKeys: readonly (readonly string[])[];
  /** @internal State per parameter, by its key path (the first path of a shared parameter). */
  private perParameter = new Map<string, ParameterState>();
  /** @internal Reused update buffers, per parameter. */
  private scratch = new Map<string, FloatArray>();
  private frozen: ((p: ParameterInfo) => boolean)[] = [];
  private count = 0;
  private skipped = 0;
  /** @internal Bumped when the layout of the state changes (freezing, resets, loads): compiled steps trace again. */
  private version = 0;
  /**
   * @internal The model this optimizer updates (for {@link state}, {@link loadState} and the identity check).
   * Kept outside the instance's own fields, so that to the structural walk an optimizer is a constant: it can
   * be an argument of a compiled step.
   */
  private get model(): Model {
    return models.get(this) as Model;
  }
  private set model(m: Model) {
    models.set(this, m);
  }
  private readonly checkFinite: boolean;
  private readonly skipNonFinite: boolean;
  /** @internal The name used in messages. */
  protected readonly label: string;

  /**
   * @param model the model to optimize (its structure sets up the state; it is not changed).
   * @param transform the rule or chain of rules to run.
   * @param options freezing and non-finite handling (see {@link OptimizerOptions}).
   */
  constructor(model: Model, transform: Transform, options?: OptimizerOptions<Model>);
  /** @internal For subclasses, which check their own option names. */
  constructor(model: Model, transform: Transform, options: OptimizerOptions<Model> | undefined, label: string);
  constructor(model: Model, transform: Transform, options?: OptimizerOptions<Model>, label?: string) {
    this.label = label ?? "Optimizer";
    const op = `new ${this.label}`;
    if (label === undefined) checkOptionKeys(op, options, OPTIMIZER_KEYS);
    checkTransform(`${op}: the transform`, transform);
    this.stages = stagesOf(transform);
    this.checkFinite = options?.checkFinite ?? true;
    this.skipNonFinite = options?.skipNonFinite ?? false;
    const { params } = parametersOf(op, model, null, "gradient");
    if (options?.freeze !== undefined) this.addFrozen(op, options.freeze, params);
    this.model = model;
    const names = new Map<string, number>();
    for (const s of this.stages) for (const n of s.rule.slots) names.set(n, (names.get(n) ?? 0) + 1);
    const used = new Set<string>();
    this.slotKeys = this.stages.map((s, i) => s.rule.slots.map((n) => {
      let k = names.get(n) === 1 ? n : `${s.rule.name}.${n}`;
      if (used.has(k)) k = `${s.rule.name}#${i}.${n}`;
      used.add(k);
      return k;
    }));
    // Swift's optimizers make their state when built; so do we (later newcomers get theirs lazily).
    for (const p of params) if (!this.isFrozen(p.info)) this.perParameter.set(p.info.path, this.freshState(p));
  }

  /** Completed steps (skipped ones excluded). */
  get step(): number {
    return this.count;
  }

  /** Steps skipped because the gradient was not finite (with `skipNonFinite`). */
  get skippedSteps(): number {
    return this.skipped;
  }

  private lrHolder(): LearningRateHolder {
    for (const s of this.stages) if (isLearningRateHolder(s.rule)) return s.rule;
    throw new TypeError(`${this.label}: this optimizer has no learning rate; add scaleByLearningRate(...) to its chain`);
  }

  /**
   * The learning rate the next step uses (a schedule is evaluated at the current step count). Before
   * Swift-style `decay`, which divides it by `1 + decay · t` at step `t`.
   */
  get learningRate(): number {
    return evaluate(this.label, "learningRate", this.lrHolder().learningRate, this.count);
  }

  /** Sets the learning rate for the following steps: a number, or a schedule of the step count. */
  set learningRate(value: number | Schedule) {
    const holder = this.lrHolder();
    if (typeof value !== "function" && !(typeof value === "number" && Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`${this.label}: learningRate must be a number >= 0 or a schedule (count) => number, got ${String(value)}`);
    }
    holder.learningRate = value;
  }

  /** The learning rate as given: a number or a schedule. */
  get learningRateSchedule(): number | Schedule {
    return this.lrHolder().learningRate;
  }

  private addFrozen(op: string, sel: unknown, params: readonly ParameterInfo[] | readonly Parameter[]): void {
    const { test } = selectorPredicate(`${op}: freeze`, sel);
    const infos = params.map((p) => ("info" in p ? p.info : p));
    const missing = unmatchedPaths(sel, infos);
    if (missing.length > 0) {
      throw new RangeError(`${op}: freeze names ${missing.map((m) => `'${m}'`).join(", ")}, which match no parameter; the parameters are ${infos.map((p) => p.path).join(", ")}`);
    }
    this.frozen.push(test);
  }

  private isFrozen(p: ParameterInfo): boolean {
    return this.frozen.some((f) => f(p));
  }

  /**
   * Freezes more parameters from the next step on: they are not updated and their state is dropped.
   * @param select key paths or a predicate (see {@link PathSelector}).
   * @example
   * ```ts
   * class Autoencoder {
   *   @differentiable encoder = new Dense({ inputSize: 3, outputSize: 2, seed: 0 });
   *   @differentiable decoder = new Dense({ inputSize: 2, outputSize: 3, seed: 1 });
   * }
   * const net = new Autoencoder();
   * const opt = new Adam(net);
   * opt.freeze("encoder"); // fine-tune the rest
   * const encoderWeight = net.encoder.weight;
   * opt.update(net, gradient(net, (m) => m.decoder.callAsFunction(m.encoder.callAsFunction(x)).sub(x).square().mean()));
   * net.encoder.weight === encoderWeight; // true
   * ```
   */
  freeze(select: PathSelector<Model>): void {
    const { params } = parametersOf(`${this.label}.freeze`, this.model, null, "gradient");
    this.addFrozen(`${this.label}.freeze`, select, params);
    this.version++;
  }

  /**
   * Unfreezes every parameter (also those frozen through the `freeze` option). A thawed parameter starts
   * with fresh state.
   * @example
   * ```ts
   * const opt = new SGD(model, { learningRate: 0.1, freeze: "weight" });
   * const loss = (m: Dense) => m.callAsFunction(x).sum();
   * const w = model.weight;
   * opt.update(model, gradient(model, loss));
   * model.weight === w; // true
   * opt.unfreeze();
   * opt.update(model, gradient(model, loss));
   * model.weight === w; // false
   * ```
   */
  unfreeze(): void {
    this.frozen = [];
    this.version++;
  }

  /** Whether `stage` applies to the parameter (all its masks select it). */
  private applies(stage: Stage, p: ParameterInfo): boolean {
    return stage.masks.every((m) => m.select(p));
  }


  /**
   * Whether a parameter takes a fused step: float32, with a rule that declares one and a constant-factor
   * tail as the last two stages that apply to it (or a decoupled decay between them, when the step takes
   * it; or the tail alone), and no tree-wide `reduce` after the rule (which would need the rule's output of
   * every parameter first). `direct`: the rule is the first stage that applies
   * and the gradient is one float32 array of the parameter's size, which the step then reads in place.
   */
  private fusedPlan(p: Parameter, applies: (s: number) => boolean): FusedPlan | undefined {
    if (p.isNumber || p.info.dtype !== "float32" || !fusedStepsEnabled()) return undefined;
    const at: number[] = [];
    for (let s = 0; s < this.stages.length; s++) if (applies(s)) at.push(s);
    if (at.length === 0) return undefined;
    const tailAt = at[at.length - 1]!;
    const tail = fusedTailOf(this.stages[tailAt]!.rule);
    // A tail alone (plain gradient descent) is a step of its own, at its stage.
    let rule = at.length === 1 ? tailAt : at[at.length - 2]!;
    let step = at.length === 1 ? TAIL_ONLY : fusedStepOf(this.stages[rule]!.rule);
    // Decoupled decay between the rule and the tail (AdamW) folds in when the rule's step takes it.
    let decayAt: number | undefined;
    const decay = at.length >= 3 ? fusedDecayOf(this.stages[rule]!.rule) : undefined;
    if (decay !== undefined) {
      decayAt = rule;
      rule = at[at.length - 3]!;
      step = fusedStepOf(this.stages[rule]!.rule);
      if (step?.decoupledDecay !== true) return undefined;
    }
    if (step === undefined || tail === undefined) return undefined;
    for (let s = rule; s < this.stages.length; s++) if (this.stages[s]!.rule.reduce !== undefined) return undefined;
    const g = p.grads[0];
    const direct = at[0] === rule && p.grads.length === 1 && g instanceof Tensor && g.size === p.info.size && g.dtype === "float32";
    return { rule, tailAt, step, tail, direct, decayAt, decay };
  }

  /** Fresh state for a parameter: each stage that applies to it initialises its slots. */
  private freshState(p: Parameter): ParameterState {
    return {
      shape: p.info.shape,
      dtype: p.info.dtype,
      stages: this.stages.map((stage) => (this.applies(stage, p.info) ? this.initSlots(stage.rule, p) : undefined)),
      step: 0,
    };
  }

  private initSlots(rule: GradientTransformation, p: Parameter): Slots {
    const slots = rule.init(p.view);
    for (const n of rule.slots) {
      const a = slots[n];
      if (!(a instanceof Float32Array || a instanceof Float64Array) || a.length !== p.info.size) {
        throw new TypeError(`${rule.name}.init: slot '${n}' for ${p.info.path} must be a Float32Array or Float64Array of length ${p.info.size}`);
      }
    }
    return slots;
  }

  /** Throws unless `model` is the model this optimizer was built for (a tensor model is a value: any goes). */
  private checkModel(op: string, model: Model): void {
    if (model === this.model || typeof this.model !== "object" || this.model === null || this.model instanceof Tensor) return;
    throw new TypeError(
      `${op}: this optimizer was built for another model object, and its state belongs to that model's parameters; ` +
        `build an optimizer for this model (new ${this.label}(model, …)), and carry state over with loadState(other.state()) if the structures match`,
    );
  }

  /** The update buffer of a parameter (reused between steps). */
  private bufferFor(p: Parameter): FloatArray {
    let u = this.scratch.get(p.info.path);
    if (u === undefined || u.length !== p.info.size || (u instanceof Float32Array) !== (p.info.dtype === "float32")) {
      u = p.info.dtype === "float32" ? new Float32Array(p.info.size) : new Float64Array(p.info.size);
      this.scratch.set(p.info.path, u);
    }
    return u;
  }

  /**
   * Gives fresh state to the selected parameters (all of them without an argument): their slots start
   * from the rules' `init` and their step count from 0, as for a parameter never updated. The fix after
   * model surgery, when a parameter was replaced by one of another shape.
   * @param select key paths or a predicate (see {@link PathSelector}); every parameter when omitted.
   * @throws RangeError when a literal path matches no parameter.
   * @example
   * ```ts
   * class Classifier {
   *   @differentiable body = new Dense({ inputSize: 3, outputSize: 8, activation: relu, seed: 0 });
   *   @differentiable head = new Dense({ inputSize: 8, outputSize: 2, seed: 1 });
   * }
   * const net = new Classifier();
   * const opt = new Adam(net);
   * const loss = (m: Classifier) => m.head.callAsFunction(m.body.callAsFunction(x)).square().mean();
   * opt.update(net, gradient(net, loss));
   * // Transfer: a new head of another size, trained alone.
   * net.head = new Dense({ inputSize: 8, outputSize: 5, seed: 2 });
   * opt.update(net, gradient(net, loss)); // throws RangeError: Adam.update: the optimizer state at 'head.weight' was made for a float32 parameter of shape [8,2]
   * opt.freeze("body");
   * opt.resetState("head");
   * opt.update(net, gradient(net, loss));
   * ```
   */
  resetState(select?: PathSelector<Model>): void {
    const op = `${this.label}.resetState`;
    const { params } = parametersOf(op, this.model, null, "gradient");
    let test: (p: ParameterInfo) => boolean = () => true;
    if (select !== undefined) {
      test = selectorPredicate(op, select).test;
      const infos = params.map((p) => p.info);
      const missing = unmatchedPaths(select, infos);
      if (missing.length > 0) {
        throw new RangeError(`${op}: ${missing.map((m) => `'${m}'`).join(", ")} match no parameter; the parameters are ${infos.map((p) => p.path).join(", ")}`);
      }
    }
    const chosen = params.filter((p) => test(p.info));
    const fresh = chosen.map((p) => (this.isFrozen(p.info) ? undefined : this.freshState(p)));
    chosen.forEach((p, i) => {
      for (const path of p.info.paths) {
        this.perParameter.delete(path);
        this.scratch.delete(path);
      }
      const f = fresh[i];
      if (f !== undefined) this.perParameter.set(p.info.path, f);
    });
    this.version++;
  }

  /**
   * Moves `model` one step along the update computed from `along`, in place (class instances, plain
   * objects and arrays are mutated; their parameter tensors are replaced by new ones).
   *
   * @param model the model this optimizer was built for.
   * @param along its gradient, `TangentVector<Model>`; `null` at a leaf or subtree means "no gradient
   *   there" (those parameters are left alone). The type `TangentVector<Model>` does not admit `null`, so
   *   typed code that sets one casts the gradient; {@link freeze} or a mask says the same thing in types.
   * @returns `model` (or, when the model is a bare tensor or number, its new value).
   * @throws TypeError / RangeError naming the key path when `along` does not match `model` (structure,
   *   shape, dtype), when it holds NaN or ±Infinity (unless `checkFinite: false`; with `skipNonFinite`
   *   the step is skipped instead), when the state kept for a path was made for another shape (see
   *   {@link resetState}), or when `model` is not the optimizer's model; nothing is changed then.
   * @example
   * ```ts
   * const opt = new Adam(model, { learningRate: 1e-3 });
   * const loss = (m: Dense) => m.callAsFunction(x).sum();
   * opt.update(model, gradient(model, (m) => loss(m)));
   * model.bias; // [-0.001, -0.001]
   * // A gradient that does not fit the model changes nothing and names the path:
   * opt.update(model, { weight: zeros([2, 3]), bias: zeros([2]) }); // throws RangeError: Adam.update: the gradient at weight has shape [2,3]
   * // The same step compiled: one program, the model and the state updated in place.
   * const step = compile((m: typeof model) => void opt.update(m, gradient(m, (q) => loss(q))));
   * step(model);
   * ```
   */
  update(model: Model, along: TangentVector<Model>): Model {
    const op = `${this.label}.update`;
    if (tracingCompile()) return this.updateStaged(op, model, along);
    // 1. Validate and plan: everything that can throw happens here, before any change.
    this.checkModel(op, model);
    const { pairs, params } = parametersOf(op, model, along, "gradient");
    const frozen = params.map((p) => this.isFrozen(p.info));
    const live = params.filter((p, i) => !frozen[i] && p.grads.length > 0);
    const states = live.map((p) => {
      const s = this.perParameter.get(p.info.path);
      if (s !== undefined) checkStateFits(op, this.label, p.info, s);
      return s ?? this.freshState(p);
    });
    const active = this.stages.map((stage) => new Set(live.filter((p) => this.applies(stage, p.info))));
    const plans = live.map((p) => this.fusedPlan(p, (s) => active[s]!.has(p)));
    // Each parameter's partial derivatives are summed into its update buffer, which is then scanned for NaN
    // and ±Infinity (the buffers are scratch space: neither model nor state is touched). A fused step that
    // reads the gradient itself needs no buffer: its gradient is only scanned.
    const scan = this.checkFinite || this.skipNonFinite;
    const buffers = live.map((p, i) => {
      let u: FloatArray;
      let bad: number;
      if (plans[i]?.direct === true) {
        u = (p.grads[0] as Tensor)._values as Float32Array;
        bad = scan ? firstNonFinite32(u) : -1;
      } else {
        u = this.bufferFor(p);
        bad = sumInto(u, p.grads, scan);
      }
      if (bad < 0) return u;
      if (this.skipNonFinite) return null;
      const at = locateNonFinite(p);
      throw new RangeError(
        `${op}: the gradient at ${at.path} holds ${String(at.value)}${at.index >= 0 ? ` (flat index ${at.index})` : " (the sum of its tied paths)"}; ` +
          `nothing was changed. Find where it comes from (a log or division at zero, an overflow), clip it, pass ` +
          `{ skipNonFinite: true } to skip such steps, or { checkFinite: false } to apply it anyway`,
      );
    });
    if (buffers.includes(null)) {
      this.skipped++;
      return model;
    }
    const hyper = this.stages.map((stage) => stage.rule.hyper?.({ step: this.count + 1, count: this.count }));
    live.forEach((p, i) => {
      const st = states[i]!;
      this.stages.forEach((stage, s) => {
        if (st.stages[s] === undefined && active[s]!.has(p)) st.stages[s] = this.initSlots(stage.rule, p);
      });
    });

    // 2. Commit: no user code runs from here on except the rules themselves.
    params.forEach((p, i) => {
      if (!frozen[i]) return;
      for (const path of p.info.paths) {
        this.perParameter.delete(path);
        this.scratch.delete(path);
      }
    });
    live.forEach((p, i) => this.perParameter.set(p.info.path, states[i]!));
    // The rules run parameter by parameter (each parameter's arrays stay in cache through the whole chain),
    // except that a rule with a tree-wide `reduce` (global-norm clipping) waits for every parameter to
    // reach it: the chain is cut into segments at such rules.
    const updates = buffers as FloatArray[];
    const values: (Tensor | number)[] = pairs.map((q) => q.value);
    const runSegment = (from: number, to: number, last: boolean): void => {
      live.forEach((p, i) => {
        const st = states[i]!;
        let u = updates[i]!;
        const plan = last ? plans[i] : undefined;
        let s = from;
        const run = (end: number): void => {
          for (; s < end; s++) {
            if (!active[s]!.has(p)) continue;
            const [next, slots] = this.stages[s]!.rule.apply(st.stages[s]!, p.view, u, { step: st.step + 1, hyper: hyper[s] });
            u = next;
            st.stages[s] = slots;
          }
        };
        let theta: FloatArray | null = null;
        if (plan !== undefined) {
          // The rule, the learning rate and θ + u in one pass (the stages before the rule ran as usual).
          run(plan.rule);
          const factor = plan.tail.eager(hyper[plan.tailAt]);
          const λ = plan.decayAt === undefined ? 0 : plan.decay!.eager(hyper[plan.decayAt]);
          theta = plan.step.eager(st.stages[plan.rule]!, p.view.value as Float32Array, u as Float32Array, st.step + 1, factor, λ);
          // Declined (slots of another kind): the generic path, on a buffer of our own.
          if (theta === null && plan.direct) u = copyInto(this.bufferFor(p), u);
        }
        if (theta === null) run(to);
        updates[i] = u;
        if (!last) return;
        // θ + u, written to every path of the parameter.
        const value = p.view.value;
        const next = p.isNumber ? value[0]! + u[0]! : fromTyped(theta ?? added(value, u), p.info.shape, p.info.dtype);
        for (const j of p.leaves) values[j] = next;
        st.step++;
      });
    };
    let from = 0;
    for (let s = 0; s < this.stages.length; s++) {
      const rule = this.stages[s]!.rule;
      if (rule.reduce === undefined) continue;
      if (s > from) runSegment(from, s, false);
      hyper[s] = rule.reduce(live.flatMap((p, i) => (active[s]!.has(p) ? [updates[i]!] : [])), hyper[s]);
      from = s;
    }
    runSegment(from, this.stages.length, true);
    this.count++;
    const result = assignLeaves(model, values) as Model;
    this.model = result;
    return result;
  }

  /**
   * `update` inside `compile`: the same step, written with ops over staged values. The slots, the step
   * counts and the rules' per-step values (a scheduled learning rate) are inputs of the program, read before
   * every run, never constants; the new parameters are assigned into the staged copy of the model (compile
   * writes them back into the real one); the new slots and the counters are committed after the run, once
   * the gradient was found finite (a non-finite gradient throws before anything is written, or with
   * `skipNonFinite` the run keeps the old values and counts a skipped step).
   */
  private updateStaged(op: string, model: Model, along: TangentVector<Model>): Model {
    const scope = effectScope(op);
    if (scope.owners.has(this)) {
      throw new TypeError(`${op}: this optimizer already updated the model in this compiled function; one update per compiled call is supported (call the compiled step once per update)`);
    }
    this.checkModel(op, originalOf(model));
    const { pairs, params } = parametersOf(op, model, along, "gradient");
    for (const q of pairs) {
      if (!(q.value instanceof StagedTensor)) {
        throw new TypeError(
          `${op}: inside compile, the parameter at ${q.key} is ${typeof q.value === "number" ? "a number" : "a tensor the compiled function closed over"}; ` +
            `pass the model as an argument of the compiled function (its new parameters are then written back after every run), with its parameters in tensors`,
        );
      }
    }
    for (const { rule } of this.stages) {
      if (rule.applyStaged === undefined || (rule.reduce !== undefined && rule.reduceStaged === undefined)) {
        throw new TypeError(
          `${op}: the rule ${rule.name} has no staged form (${rule.applyStaged === undefined ? "applyStaged" : "reduceStaged"}), so this optimizer cannot update inside compile yet; ` +
            `call update outside the compiled function (compile the loss and gradient only), or give the rule a form written with tensor ops`,
        );
      }
    }
    scope.owners.add(this);
    // The layout of the state is fixed by this trace (a change of it traces again): frozen parameters lose
    // their state and newcomers get fresh state now, as the eager update would do.
    const frozen = params.map((p) => this.isFrozen(p.info));
    params.forEach((p, i) => {
      if (!frozen[i]) return;
      for (const path of p.info.paths) {
        this.perParameter.delete(path);
        this.scratch.delete(path);
      }
    });
    const live = params.filter((p, i) => !frozen[i] && p.grads.length > 0);
    const states = live.map((p) => {
      let s = this.perParameter.get(p.info.path);
      if (s !== undefined) checkStateFits(op, this.label, p.info, s);
      else this.perParameter.set(p.info.path, (s = this.freshState(p)));
      return s;
    });
    const active = this.stages.map((stage) => live.map((p) => this.applies(stage, p.info)));
    live.forEach((p, i) => {
      this.stages.forEach((stage, s) => {
        if (states[i]!.stages[s] === undefined && active[s]![i]) states[i]!.stages[s] = this.initSlots(stage.rule, p);
      });
    });
    // Inputs read before every run: step counts, per-step values, slots. Parameters that have taken the same
    // number of steps share one step input (so their bias corrections are computed once); the program is
    // stale when their counts diverge, as it is when the state's layout changed.
    const leaders = new Map<number, ParameterState>();
    const stepOf = new Map<ParameterState, Tensor>();
    const steps = states.map((st) => {
      let leader = leaders.get(st.step);
      if (leader === undefined) {
        const l = (leader = st);
        leaders.set(st.step, l);
        stepOf.set(l, scope.input(() => scalar(l.step + 1, "float64"), [], "float64"));
      }
      return stepOf.get(leader)!;
    });
    const leaderOf = states.map((st) => leaders.get(st.step)!);
    const traced = this.version;
    scope.stale.push(() => this.version !== traced || states.some((st, i) => st.step !== leaderOf[i]!.step));
    const hyper = this.stages.map(({ rule }) => {
      if (rule.hyper === undefined) return undefined;
      const h0 = rule.hyper({ step: this.count + 1, count: this.count });
      if (typeof h0 !== "number") {
        throw new TypeError(`${op}: the rule ${rule.name}'s hyper returns ${typeof h0}; inside compile a rule's per-step value must be a number`);
      }
      return scope.input(() => scalar(rule.hyper!({ step: this.count + 1, count: this.count }) as number, "float64"), [], "float64");
    });
    const thetas = live.map((p) => pairs[p.leaves[0]!]!.value as Tensor);
    const slotsIn = live.map((p, i) => this.stages.map((stage, s): TensorSlots | undefined => {
      if (!active[s]![i]) return undefined;
      const st = states[i]!;
      const rec: TensorSlots = {};
      for (const n of stage.rule.slots) rec[n] = scope.input(() => fromTyped(st.stages[s]![n]!, p.info.shape, p.info.dtype), p.info.shape, p.info.dtype);
      return rec;
    }));

    // The update buffers: the sum of each parameter's partial derivatives.
    const updates = live.map((p) => {
      const as = (g: Tensor | number): Tensor => {
        const x = typeof g === "number" ? scalar(g, p.info.dtype) : g;
        if (sameShape(x.shape, p.info.shape)) return x;
        return x.size === p.info.size ? x.reshape(p.info.shape) : x.reshape([]).broadcastTo(p.info.shape);
      };
      let u = as(p.grads[0]!);
      for (let k = 1; k < p.grads.length; k++) u = u.add(as(p.grads[k]!));
      return u;
    });

    // Finiteness: one flag per parameter, 0 exactly when its update is finite (one scan of it).
    let ok: Tensor | undefined;
    let skipping = false;
    if ((this.checkFinite || this.skipNonFinite) && live.length > 0) {
      const mixed = live.some((p) => p.info.dtype !== live[0]!.info.dtype);
      const flags = stack(updates.map((u) => (mixed ? nonFiniteFlag(u).cast("float64") : nonFiniteFlag(u))));
      if (this.skipNonFinite) ok = flags.sum().equal(0);
      scope.checks.push({
        value: flags,
        verify: (r) => {
          const f = r._values;
          let bad = -1;
          for (let i = 0; i < f.length && bad < 0; i++) if (f[i] !== 0) bad = i;
          skipping = bad >= 0;
          if (bad < 0 || this.skipNonFinite) return;
          throw new RangeError(
            `${op}: the gradient at ${live[bad]!.info.paths.join(" + ")} holds NaN or ±Infinity (found by the compiled step); nothing was changed. ` +
              `Find where it comes from (a log or division at zero, an overflow), clip it, pass { skipNonFinite: true } to skip such steps, ` +
              `or { checkFinite: false } to apply it anyway`,
          );
        },
      });
    }

    // The rules, stage by stage (a stage with a tree-wide reduce sees every parameter's update first). A
    // parameter with a fused step skips its rule and takes the step at the tail's stage, as eagerly.
    const u = updates.slice();
    const slots = slotsIn.map((row) => row.slice());
    const plans = live.map((p, i) => this.fusedPlan(p, (s) => active[s]![i]!));
    const fusedNext: (Tensor | undefined)[] = live.map(() => undefined);
    this.stages.forEach(({ rule }, s) => {
      const idx = live.flatMap((_, i) => (active[s]![i] ? [i] : []));
      let h: Tensor | undefined = hyper[s];
      if (rule.reduce !== undefined) h = rule.reduceStaged!(idx.map((i) => u[i]!), h);
      for (const i of idx) {
        const plan = plans[i];
        if (plan !== undefined && plan.tailAt !== s && (plan.rule === s || plan.decayAt === s)) continue;
        if (plan?.tailAt === s) {
          const λ = plan.decayAt === undefined ? undefined : plan.decay!.staged(hyper[plan.decayAt]);
          const r = plan.step.staged(slots[i]![plan.rule]!, thetas[i]!, u[i]!, steps[i]!, plan.tail.staged(h), λ);
          fusedNext[i] = r.theta;
          slots[i]![plan.rule] = r.slots;
          continue;
        }
        const [next, sl] = rule.applyStaged!(slots[i]![s]!, thetas[i]!, u[i]!, { step: steps[i]!, hyper: h });
        const info = live[i]!.info;
        if (!(next instanceof Tensor) || next.dtype !== info.dtype || !sameShape(next.shape, info.shape)) {
          // The update becomes θ + u: another dtype or shape would change the parameter's.
          throw new TypeError(
            `${rule.name}.applyStaged: the update for ${info.path} must be a ${info.dtype} tensor of shape [${info.shape.join(",")}], ` +
              `got ${next instanceof Tensor ? `${next.dtype} [${next.shape.join(",")}]` : typeof next}; ` +
              `arithmetic with the float64 step or hyper values gives float64: end with .cast("${info.dtype}")`,
          );
        }
        u[i] = next;
        slots[i]![s] = sl;
      }
    });

    // θ + u into the staged model (written back by compile), and the new slots (committed after the run).
    const values: (Tensor | number)[] = pairs.map((q) => q.value);
    const seen = new Set<FloatArray>();
    live.forEach((p, i) => {
      const θ = thetas[i]!;
      const moved = fusedNext[i] ?? θ.add(u[i]!);
      const next = ok === undefined ? moved : where(ok, moved, θ);
      for (const j of p.leaves) values[j] = next;
      this.stages.forEach(({ rule }, s) => {
        const sl = slots[i]![s];
        if (sl === undefined) return;
        for (const n of rule.slots) {
          const x = sl[n];
          if (!(x instanceof Tensor) || x.dtype !== p.info.dtype || !sameShape(x.shape, p.info.shape)) {
            throw new TypeError(`${rule.name}.applyStaged: slot '${n}' for ${p.info.path} must be a ${p.info.dtype} tensor of shape [${p.info.shape.join(",")}]`);
          }
          scope.writes.push({
            value: ok === undefined ? x : where(ok, x, slotsIn[i]![s]![n]!),
            commit: (r) => {
              // A program may return one array for two equal outputs: a slot must own its array.
              const a = r._values as FloatArray;
              states[i]!.stages[s]![n] = seen.has(a) ? a.slice() : a;
              seen.add(a);
            },
          });
        }
      });
    });
    scope.after.push(() => {
      seen.clear();
      if (skipping) {
        this.skipped++;
        return;
      }
      for (const st of states) st.step++;
      this.count++;
    });
    return assignLeaves(model, values) as Model;
  }

  /**
   * The optimizer's state as a plain value: step counts and, per slot, a tangent-shaped value (see
   * {@link OptimizerState}). The tensors are copies: later steps do not change them.
   * @returns the state, e.g. `state().slots.firstMoments.dense.weight` for Adam.
   * @throws RangeError when the state kept for a path no longer fits the parameter there (see {@link resetState}).
   * @example
   * ```ts
   * const opt = new Adam(model);
   * const loss = (m: Dense) => m.callAsFunction(x).square().mean();
   * opt.update(model, gradient(model, loss));
   * const saved = opt.state();
   * saved.step;        // 1
   * saved.rules;       // ["scaleByAdam", "scaleByLearningRate"]
   * saved.slots["firstMoments"]!.bias.shape; // [2]
   * const again = new Adam(model);
   * again.loadState(saved); // continues exactly where `opt` was
   * again.step; // 1
   * ```
   */
  state(): OptimizerState<Model> {
    const op = `${this.label}.state`;
    const { pairs, params } = parametersOf(op, this.model, null, "state");
    const kept = params.map((p) => {
      const s = this.perParameter.get(p.info.path);
      if (s !== undefined) checkStateFits(op, this.label, p.info, s);
      return s;
    });
    const slots: Record<string, TangentVector<Model>> = {};
    this.stages.forEach((stage, s) => {
      stage.rule.slots.forEach((n, j) => {
        const leafTensors: (Tensor | null)[] = pairs.map(() => null);
        params.forEach((p, i) => {
          const a = kept[i]?.stages[s]?.[n];
          if (a === undefined) return;
          const t = fromTyped(a.slice(), p.info.shape, p.info.dtype);
          for (const l of p.leaves) leafTensors[l] = t;
        });
        slots[this.slotKeys[s]![j]!] = buildTangent(this.model, leafTensors, makeTangentStruct) as TangentVector<Model>;
      });
    });
    const parameterSteps: Record<string, number> = {};
    params.forEach((p, i) => {
      const t = kept[i]?.step ?? 0;
      if (t > 0) parameterSteps[p.info.path] = t;
    });
    return {
      format: OPTIMIZER_STATE_FORMAT,
      rules: this.stages.map((s) => s.rule.name),
      step: this.count,
      skippedSteps: this.skipped,
      parameterSteps,
      slots,
    };
  }

  /**
   * Restores a state from {@link Optimizer.state | state()} (of an optimizer with the same rules, on a
   * model of the same structure). Everything is checked first (rules, slots, every tensor's shape and dtype
   * against the parameter at its path, and its values: finite, and non-negative in slots of squares); on
   * error nothing changes. Continuing from a loaded state gives bit-identical parameters to never having
   * stopped.
   * @param state the saved state (also as `loadCheckpoint` returns it; `undefined` is an error saying
   *   the checkpoint holds none).
   * @throws TypeError / RangeError naming what does not match.
   * @example
   * ```ts
   * const trained = new Adam(model);
   * trained.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
   * const bytes = serializeCheckpoint(model, { optimizerState: trained.state() });
   * // Later, in another program: a fresh model and optimizer, resumed from the bytes.
   * const restored = new Dense({ inputSize: 3, outputSize: 2, seed: 1 });
   * const loaded = deserializeCheckpoint(bytes, restored);
   * const opt = new Adam(restored);
   * opt.loadState(loaded.optimizerState); // saved with { optimizerState: opt.state() }
   * opt.step; // 1
   * ```
   */
  loadState(state: OptimizerState<Model> | undefined): void {
    const op = `${this.label}.loadState`;
    if (state === undefined) {
      throw new TypeError(`${op}: there is no state to load (a checkpoint saved without { optimizerState: opt.state() } holds none)`);
    }
    if (typeof state !== "object" || state === null || (state as { format?: unknown }).format !== OPTIMIZER_STATE_FORMAT) {
      throw new TypeError(`${op}: expected a value from optimizer.state() (format "${OPTIMIZER_STATE_FORMAT}")`);
    }
    const rules = this.stages.map((s) => s.rule.name);
    if (!Array.isArray(state.rules) || state.rules.join(",") !== rules.join(",")) {
      throw new TypeError(`${op}: the state is for the rules [${String(state.rules)}], but this optimizer runs [${rules.join(", ")}]`);
    }
    for (const [name, v] of [["step", state.step], ["skippedSteps", state.skippedSteps]] as const) {
      if (!Number.isInteger(v) || (v) < 0) throw new RangeError(`${op}: ${name} must be an integer >= 0, got ${String(v)}`);
    }
    const { params } = parametersOf(op, this.model, null, "state");
    const steps = new Map<string, number>();
    if (typeof state.parameterSteps !== "object" || state.parameterSteps === null) throw new TypeError(`${op}: parameterSteps must be a record of key path → step`);
    for (const [k, v] of Object.entries(state.parameterSteps)) {
      if (!params.some((p) => p.info.path === k)) throw new RangeError(`${op}: parameterSteps names '${k}', which is no parameter of the model`);
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`${op}: parameterSteps['${k}'] must be an integer >= 0, got ${String(v)}`);
      steps.set(k, v);
    }
    const expected = this.slotKeys.flat();
    const given = typeof state.slots === "object" && state.slots !== null ? Object.keys(state.slots) : [];
    const extra = given.filter((k) => !expected.includes(k));
    const lacking = expected.filter((k) => !given.includes(k));
    if (extra.length > 0 || lacking.length > 0) {
      throw new TypeError(`${op}: the state's slots are [${given.join(", ")}] but this optimizer keeps [${expected.join(", ")}]`);
    }
    const next = new Map<string, ParameterState>();
    const tangents = this.stages.map((stage, s) => stage.rule.slots.map((_, j) => {
      const key = this.slotKeys[s]![j]!;
      return parametersOf(op, this.model, (state.slots as Record<string, unknown>)[key], `state slot '${key}'`).pairs;
    }));
    for (const p of params) {
      if (this.isFrozen(p.info)) continue;
      const fresh = this.freshState(p);
      this.stages.forEach((stage, s) => {
        const slots = fresh.stages[s];
        if (slots === undefined) return;
        stage.rule.slots.forEach((n, j) => {
          const v = tangents[s]![j]![p.leaves[0]!]!.other;
          if (v === null) return;
          const dst = slots[n]!;
          if (typeof v === "number") dst.fill(v);
          else if (v.size === dst.length) dst.set(v._values);
          else dst.fill(v._values[0]!);
          const problem = slotValueProblem(dst, stage.rule.nonNegativeSlots?.includes(n) ?? false);
          if (problem !== undefined) {
            throw new RangeError(`${op}: the state slot '${this.slotKeys[s]![j]!}' at ${p.info.path} ${problem}; the saved state is damaged, and nothing was changed`);
          }
        });
      });
      fresh.step = steps.get(p.info.path) ?? 0;
      next.set(p.info.path, fresh);
    }
    this.perParameter = next;
    this.scratch = new Map();
    this.count = state.step;
    this.skipped = state.skippedSteps;
    this.version++;
  }
}

/** How a parameter takes a fused step (see `Optimizer.fusedPlan`). */
interface FusedPlan {
  /** The stage of the rule with the fused step, and of the tail folded into it. */
  readonly rule: number;
  readonly tailAt: number;
  readonly step: FusedStep;
  readonly tail: FusedTail;
  /** The step reads the gradient's own array (no update buffer, no copy). */
  readonly direct: boolean;
  /** The stage of a decoupled decay folded in between the rule and the tail, if any. */
  readonly decayAt: number | undefined;
  readonly decay: FusedDecay | undefined;
}

/** θ + u in a new array of θ's kind (u is of the same kind: the update buffer is the parameter's dtype). */
function added(θ: FloatArray, u: FloatArray): FloatArray {
  return θ instanceof Float32Array ? added32(θ, u as Float32Array) : added64(θ, u as Float64Array);
}
// One loop per kind keeps each monomorphic.
function added32(θ: Float32Array, u: Float32Array): Float32Array {
  const n = θ.length;
  const out = allocate("float32", n) as Float32Array;
  for (let i = 0; i < n; i++) out[i] = θ[i]! + u[i]!;
  return out;
}
function added64(θ: Float64Array, u: Float64Array): Float64Array {
  const n = θ.length;
  const out = allocate("float64", n) as Float64Array;
  for (let i = 0; i < n; i++) out[i] = θ[i]! + u[i]!;
  return out;
}

/** Copies `src` into `dst` (same length) and returns `dst`. */
function copyInto(dst: FloatArray, src: FloatArray): FloatArray {
  dst.set(src);
  return dst;
}
