/**
 * The one walk every optimizer runs: it pairs the model's parameters, the gradient's leaves and the
 * optimizer's state by key path, ties shared parameters, skips frozen parameters and missing gradients,
 * validates everything, and only then runs the rules and writes the new parameters.
 */
import { Tensor } from "../tensor/tensor.js";
import { fromTyped } from "../tensor/creation.js";
import { fmt, sameShape } from "../tensor/shape.js";
import { assignLeaves, buildTangent, childContext, childKeys, nodeKind, pathString, type Context, type Segment } from "../keypaths/walk.js";
import { makeTangentStruct } from "../protocols/structs.js";
import type { TangentVector } from "../protocols/tangent.js";
import { selectorPredicate, unmatchedPaths, type PathSelector } from "./masks.js";
import { evaluate, type Schedule } from "./schedules.js";
import {
  checkTransform,
  stagesOf,
  type FloatArray,
  type GradientTransformation,
  type ParameterInfo,
  type ParameterView,
  type Slots,
  type Stage,
  type Transform,
} from "./transform.js";

// ---------------------------------------------------------------------------------------------------------
// Pairing a model with a tangent-shaped value

/** @internal One leaf of the model, with the matching leaf of a tangent-shaped value (`null` if absent). */
export interface PairedLeaf {
  readonly path: readonly Segment[];
  readonly key: string;
  /** The model's leaf. */
  readonly value: Tensor | number;
  /** The tangent's leaf, or `null` when the tangent gives none there (`null`/`undefined`). */
  readonly other: Tensor | number | null;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (x instanceof Tensor) return `a ${x.dtype} Tensor of shape ${fmt(x.shape)}`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (typeof x === "object") return `an instance of ${(x.constructor as { name?: string } | undefined)?.name ?? "Object"}`;
  return `a ${typeof x}`;
}

/**
 * @internal Walks `model` and a tangent-shaped `tangent` together (the structural rules are those of
 * `src/keypaths/walk.ts`): one entry per differentiable leaf of the model, in walk order. `null` or
 * `undefined` in the tangent, at a leaf or above it, means "nothing for these leaves"; any other mismatch
 * (a missing field, a wrong length, a wrong shape or dtype) throws, naming the key path.
 */
export function pairLeaves(op: string, model: unknown, tangent: unknown, what: string): PairedLeaf[] {
  const out: PairedLeaf[] = [];
  const path: Segment[] = [];
  const fail = (message: string): never => {
    throw new TypeError(`${op}: the ${what} at ${pathString(path)} ${message}`);
  };
  const go = (v: unknown, t: unknown, ctx: Context): void => {
    const kind = nodeKind(op, v, path, ctx);
    const absent = t === null || t === undefined;
    if (kind === "constant") return;
    if (kind === "number" || kind === "tensor") {
      const key = pathString(path);
      if (absent) {
        out.push({ path: path.slice(), key, value: v as number | Tensor, other: null });
        return;
      }
      const shape = kind === "number" ? [] : (v as Tensor).shape;
      const size = shape.reduce((p, q) => p * q, 1);
      if (typeof t === "number") {
        if (size !== 1) fail(`should be a Tensor of shape ${fmt(shape)}, got a number`);
      } else if (!(t instanceof Tensor)) {
        fail(`should be ${kind === "number" ? "a number" : `a Tensor of shape ${fmt(shape)}`}, got ${describe(t)}`);
      } else {
        if (!sameShape(t.shape, shape) && !(t.size === 1 && size === 1)) {
          throw new RangeError(`${op}: the ${what} at ${key} has shape ${fmt(t.shape)} but the parameter has shape ${fmt(shape)}`);
        }
        if (t.dtype === "int32" || (kind === "tensor" && t.dtype !== (v as Tensor).dtype)) {
          const want = kind === "tensor" ? (v as Tensor).dtype : "float64";
          throw new TypeError(
            `${op}: the ${what} at ${key} is ${t.dtype} but the parameter is ${kind === "tensor" ? want : "a number"}; cast it with .cast("${want}")`,
          );
        }
      }
      out.push({ path: path.slice(), key, value: v as number | Tensor, other: t as Tensor | number });
      return;
    }
    const c = childContext(kind, ctx);
    if (kind === "array") {
      const a = v as unknown[];
      if (!absent && (!Array.isArray(t) || t.length !== a.length)) fail(`should be an array of length ${a.length}, got ${describe(t)}`);
      for (let k = 0; k < a.length; k++) {
        path.push(k);
        go(a[k], absent ? null : (t as unknown[])[k], c);
        path.pop();
      }
      return;
    }
    if (!absent && (typeof t !== "object" || Array.isArray(t) || t instanceof Tensor)) fail(`should be an object, got ${describe(t)}`);
    const rec = absent ? null : (t as Record<string, unknown>);
    for (const k of childKeys(op, kind, v as object, path)) {
      path.push(k);
      const child = (v as Record<string, unknown>)[k];
      if (nodeKind(op, child, path, c) !== "constant") {
        if (rec !== null && !(k in rec)) {
          throw new TypeError(`${op}: the ${what} has no field '${k}' (expected at ${pathString(path)}); give null there to mean "none"`);
        }
        go(child, rec === null ? null : rec[k], c);
      }
      path.pop();
    }
  };
  go(model, tangent, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Parameters: leaves grouped by identity

/** @internal One parameter: a leaf tensor of the model, with every path that reaches it. */
interface Parameter {
  readonly info: ParameterInfo;
  readonly view: ParameterView;
  /** Indices of its leaves in walk order. */
  readonly leaves: number[];
  readonly isNumber: boolean;
  /** The partial derivatives given for it (one per path that has one). */
  readonly grads: (Tensor | number)[];
  /** The key path of each partial derivative. */
  readonly gradPaths: string[];
}

function floatValues(v: Tensor | number): FloatArray {
  if (typeof v === "number") return Float64Array.of(v);
  return v._values as FloatArray;
}

/** Groups leaves by tensor identity: a shared tensor is one parameter (numbers are never shared). */
function parametersOf(pairs: readonly PairedLeaf[]): Parameter[] {
  type Group = { paths: string[]; leaves: number[]; grads: (Tensor | number)[]; gradPaths: string[]; first: PairedLeaf };
  const byTensor = new Map<Tensor, Group>();
  const order: Group[] = [];
  pairs.forEach((p, i) => {
    let g = p.value instanceof Tensor ? byTensor.get(p.value) : undefined;
    if (g === undefined) {
      g = { paths: [], leaves: [], grads: [], gradPaths: [], first: p };
      if (p.value instanceof Tensor) byTensor.set(p.value, g);
      order.push(g);
    }
    g.paths.push(p.key);
    g.leaves.push(i);
    if (p.other !== null) {
      g.grads.push(p.other);
      g.gradPaths.push(p.key);
    }
  });
  return order.map((g) => {
    const v = g.first.value;
    const isNumber = typeof v === "number";
    const shape = isNumber ? [] : (v).shape;
    const info: ParameterInfo = Object.freeze({
      path: g.paths[0]!,
      paths: Object.freeze(g.paths),
      shape,
      dtype: isNumber ? "float64" : (v.dtype as "float32" | "float64"),
      size: isNumber ? 1 : v.size,
    });
    return { info, view: { info, value: floatValues(v) }, leaves: g.leaves, isNumber, grads: g.grads, gradPaths: g.gradPaths };
  });
}

function allocate(dtype: "float32" | "float64", size: number): FloatArray {
  return dtype === "float32" ? new Float32Array(size) : new Float64Array(size);
}

/** θ + u in a new array of θ's kind (one loop per kind keeps each monomorphic). */
function added(θ: FloatArray, u: FloatArray): FloatArray {
  return θ instanceof Float32Array ? added32(θ, u) : added64(θ, u);
}
function added32(θ: Float32Array, u: FloatArray): Float32Array {
  const n = θ.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = θ[i]! + u[i]!;
  return out;
}
function added64(θ: Float64Array, u: FloatArray): Float64Array {
  const n = θ.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = θ[i]! + u[i]!;
  return out;
}

/** Writes the sum of the partial derivatives into `u`. */
function sumInto(u: FloatArray, grads: readonly (Tensor | number)[]): void {
  const first = grads[0]!;
  if (typeof first === "number") u.fill(first);
  else if (first.size === u.length) u.set(first._values);
  else u.fill(first._values[0]!);
  for (let k = 1; k < grads.length; k++) {
    const g = grads[k]!;
    if (typeof g === "number" || g.size === 1) {
      const x = typeof g === "number" ? g : g._values[0]!;
      for (let i = 0; i < u.length; i++) u[i] = u[i]! + x;
    } else {
      const gv = g._values;
      for (let i = 0; i < u.length; i++) u[i] = u[i]! + gv[i]!;
    }
  }
}

/** The first non-finite element among the partials, as `[index]` text, or `undefined`. */
function firstNonFinite(g: Tensor | number): number | undefined {
  if (typeof g === "number") return Number.isFinite(g) ? undefined : 0;
  const a = g._values;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return undefined;
}

/** @internal The parameters of a model (shared tensors once), for checking selectors against them. */
export function parameterInfos(op: string, model: unknown): ParameterInfo[] {
  return parametersOf(pairLeaves(op, model, null, "gradient")).map((p) => p.info);
}

// ---------------------------------------------------------------------------------------------------------
// State

/**
 * The format tag of {@link OptimizerState}, checked by `loadState`.
 * @example
 * ```ts
 * new Adam(model).state().format === OPTIMIZER_STATE_FORMAT; // true
 * ```
 */
export const OPTIMIZER_STATE_FORMAT = "difftypes.optimizer/1";

/**
 * An optimizer's state as a plain value (numbers, strings, records and tensors), ready to serialise.
 *
 * Each slot (`firstMoments`, `secondMoments`, …) is a value of type `TangentVector<Model>`: the same key
 * path reads a parameter in the model, its gradient, and its optimizer state
 * (`state.slots.firstMoments.dense.weight`). Parameters that have no state for a slot (frozen, masked out
 * of the rule) read as zeros there, and are ignored by {@link Optimizer.loadState}.
 *
 * @typeParam Model the model type.
 */
export interface OptimizerState<Model> {
  /** Always `"difftypes.optimizer/1"`. */
  readonly format: typeof OPTIMIZER_STATE_FORMAT;
  /** The names of the rules, in order (checked on load). */
  readonly rules: readonly string[];
  /** Completed steps (schedules are evaluated at this count next). */
  readonly step: number;
  /** Steps skipped because of a non-finite gradient (see `skipNonFinite`). */
  readonly skippedSteps: number;
  /** Per parameter (by its key path): the paper's `t` of its last update (bias corrections use it). */
  readonly parameterSteps: Readonly<Record<string, number>>;
  /** The rules' per-parameter state, one tangent-shaped value per slot. */
  readonly slots: Readonly<Record<string, TangentVector<Model>>>;
}

// ---------------------------------------------------------------------------------------------------------
// The optimizer

/** Options every optimizer accepts. */
export interface OptimizerOptions<Model> {
  /**
   * Parameters to freeze: never updated, no weight decay, no state kept (by key path or predicate; a
   * literal path is checked against the model's type).
   */
  freeze?: PathSelector<Model>;
  /** Throw (naming the key path) when the gradient holds NaN or ±Infinity; false by default. */
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
 * How the walk treats parameters:
 * - **Nesting**: class models (their `@differentiable` fields), plain objects and arrays, to any depth;
 *   the model may also be a bare tensor (then {@link update} returns the new tensor).
 * - **Shared parameters** (one tensor object at several key paths): their partial derivatives are summed,
 *   the rule runs once with one state, and the same new tensor is written to every path.
 * - **Frozen parameters** (option `freeze`, or {@link freeze}): not updated, no state.
 * - **Missing gradients** (`null` or `undefined` in the gradient, at a leaf or above it): those parameters
 *   are left as they are, with their state (and their step count) unchanged.
 * - **Validation first**: structure, shapes, dtypes (and finiteness if asked) are all checked, masks
 *   and schedules evaluated, before anything changes; a bad gradient throws naming the key path and leaves
 *   model and state as they were.
 *
 * @typeParam Model the model type; {@link update} accepts only `TangentVector<Model>`.
 * @example
 * ```ts
 * const opt = new Optimizer(model, chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-3)));
 * for (const batch of data) {
 *   const g = gradient(model, (m) => loss(m, batch));
 *   opt.update(model, g);
 * }
 * ```
 */
export class Optimizer<Model> {
  /** @internal The rules, flattened. */
  protected readonly stages: readonly Stage[];
  /** @internal Slot keys in {@link OptimizerState.slots}, per stage and slot. */
  private readonly slotKeys: readonly (readonly string[])[];
  /** @internal State per stage: parameter key path → slots. */
  private stageState: Map<string, Slots>[];
  /** @internal The paper's t of each parameter's last update. */
  private parameterStep = new Map<string, number>();
  /** @internal Reused update buffers, per parameter. */
  private scratch = new Map<string, FloatArray>();
  private frozen: ((p: ParameterInfo) => boolean)[] = [];
  private count = 0;
  private skipped = 0;
  /** @internal The model last seen (for the structure of {@link state} and {@link loadState}). */
  private model: Model;
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
    this.checkFinite = options?.checkFinite ?? false;
    this.skipNonFinite = options?.skipNonFinite ?? false;
    const params = parametersOf(pairLeaves(op, model, null, "gradient"));
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
    this.stageState = this.stages.map(() => new Map<string, Slots>());
    const fresh = this.initMissing(params.filter((p) => !this.isFrozen(p.info)));
    fresh.forEach((m, s) => m.forEach((v, k) => this.stageState[s]!.set(k, v)));
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
   * opt.freeze("encoder"); // fine-tune the rest
   * ```
   */
  freeze(select: PathSelector<Model>): void {
    const params = parametersOf(pairLeaves(`${this.label}.freeze`, this.model, null, "gradient"));
    this.addFrozen(`${this.label}.freeze`, select, params);
  }

  /**
   * Unfreezes every parameter (also those frozen through the `freeze` option). A thawed parameter starts
   * with fresh state.
   * @example
   * ```ts
   * opt.unfreeze();
   * ```
   */
  unfreeze(): void {
    this.frozen = [];
  }

  /** Whether `stage` applies to the parameter (all its masks select it). */
  private applies(stage: Stage, p: ParameterInfo): boolean {
    return stage.masks.every((m) => m.select(p));
  }

  /** Fresh state for parameters (not frozen) that lack it, per stage; nothing is stored yet. */
  private initMissing(params: readonly Parameter[]): Map<string, Slots>[] {
    return this.stages.map((stage, s) => {
      const out = new Map<string, Slots>();
      for (const p of params) {
        if (this.stageState[s]!.has(p.info.path) || !this.applies(stage, p.info)) continue;
        out.set(p.info.path, this.initSlots(stage.rule, p));
      }
      return out;
    });
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

  /**
   * Moves `model` one step along the update computed from `along`, in place (class instances, plain
   * objects and arrays are mutated; their parameter tensors are replaced by new ones).
   *
   * @param model the model (of the type this optimizer was built for).
   * @param along its gradient, `TangentVector<Model>`; `null` at a leaf or subtree means "no gradient
   *   there" (those parameters are left alone).
   * @returns `model` (or, when the model is a bare tensor or number, its new value).
   * @throws TypeError / RangeError naming the key path when `along` does not match `model` (structure,
   *   shape, dtype, or finiteness with `checkFinite`); nothing is changed then.
   * @example
   * ```ts
   * const opt = new Adam(model, { learningRate: 1e-3 });
   * opt.update(model, gradient(model, (m) => loss(m)));
   * ```
   */
  update(model: Model, along: TangentVector<Model>): Model {
    const op = `${this.label}.update`;
    // 1. Validate and plan: everything that can throw happens here, before any change.
    const pairs = pairLeaves(op, model, along, "gradient");
    const params = parametersOf(pairs);
    const frozen = params.map((p) => this.isFrozen(p.info));
    if (this.checkFinite || this.skipNonFinite) {
      for (const p of params.filter((_, i) => !frozen[i])) {
        for (let k = 0; k < p.grads.length; k++) {
          const at = firstNonFinite(p.grads[k]!);
          if (at === undefined) continue;
          if (this.skipNonFinite) {
            this.skipped++;
            return model;
          }
          throw new RangeError(`${op}: the gradient at ${p.gradPaths[k]} holds a non-finite value (${p.grads[k] instanceof Tensor ? `flat index ${at}` : String(p.grads[k])}); nothing was changed`);
        }
      }
    }
    const live = params.filter((p, i) => !frozen[i] && p.grads.length > 0);
    const active = this.stages.map((stage) => live.filter((p) => this.applies(stage, p.info)));
    const hypers = this.stages.map((stage) => stage.rule.hyper?.({ step: this.count + 1, count: this.count }));
    const fresh = this.initMissing(live);

    // 2. Commit: no user code runs from here on except the rules themselves.
    fresh.forEach((m, s) => m.forEach((v, k) => this.stageState[s]!.set(k, v)));
    params.forEach((p, i) => {
      if (!frozen[i]) return;
      for (const m of this.stageState) m.delete(p.info.path);
      this.parameterStep.delete(p.info.path);
      this.scratch.delete(p.info.path);
    });
    // The rules run parameter by parameter (each parameter's arrays stay in cache through the whole chain),
    // except that a rule with a tree-wide `reduce` (global-norm clipping) waits for every parameter to
    // reach it: the chain is cut into segments at such rules.
    const values: (Tensor | number)[] = pairs.map((q) => q.value);
    const updates = new Map<Parameter, FloatArray>();
    const activeSets = active.map((ps) => new Set(ps));
    const hyper = hypers.slice();
    /** The update buffer of a parameter: at first the sum of its partial derivatives. */
    const bufferFor = (p: Parameter): FloatArray => {
      let u = updates.get(p);
      if (u !== undefined) return u;
      u = this.scratch.get(p.info.path);
      if (u === undefined || u.length !== p.info.size || (u instanceof Float32Array) !== (p.info.dtype === "float32")) {
        u = allocate(p.info.dtype, p.info.size);
        this.scratch.set(p.info.path, u);
      }
      sumInto(u, p.grads);
      updates.set(p, u);
      return u;
    };
    const runSegment = (from: number, to: number, last: boolean): void => {
      for (const p of live) {
        let u = bufferFor(p);
        const t = (this.parameterStep.get(p.info.path) ?? 0) + 1;
        for (let s = from; s < to; s++) {
          if (!activeSets[s]!.has(p)) continue;
          const state = this.stageState[s]!;
          const [next, st] = this.stages[s]!.rule.apply(state.get(p.info.path)!, p.view, u, { step: t, hyper: hyper[s] });
          u = next;
          state.set(p.info.path, st);
        }
        updates.set(p, u);
        if (!last) continue;
        // θ + u, written to every path of the parameter.
        const theta = p.view.value;
        const next = p.isNumber ? theta[0]! + u[0]! : fromTyped(added(theta, u), p.info.shape, p.info.dtype);
        for (const i of p.leaves) values[i] = next;
        this.parameterStep.set(p.info.path, t);
      }
    };
    let from = 0;
    for (let s = 0; s < this.stages.length; s++) {
      const rule = this.stages[s]!.rule;
      if (rule.reduce === undefined) continue;
      if (s > from) runSegment(from, s, false);
      hyper[s] = rule.reduce(active[s]!.map(bufferFor), hyper[s]);
      from = s;
    }
    runSegment(from, this.stages.length, true);
    this.count++;
    const result = assignLeaves(model, values) as Model;
    this.model = result;
    return result;
  }

  /**
   * The optimizer's state as a plain value: step counts and, per slot, a tangent-shaped value (see
   * {@link OptimizerState}). The tensors are copies: later steps do not change them.
   * @returns the state, e.g. `state().slots.firstMoments.dense.weight` for Adam.
   * @example
   * ```ts
   * const saved = opt.state();
   * const again = new Adam(model);
   * again.loadState(saved); // continues exactly where `opt` was
   * ```
   */
  state(): OptimizerState<Model> {
    const pairs = pairLeaves(`${this.label}.state`, this.model, null, "state");
    const params = parametersOf(pairs);
    const slots: Record<string, TangentVector<Model>> = {};
    this.stages.forEach((stage, s) => {
      stage.rule.slots.forEach((n, j) => {
        const leafTensors: (Tensor | null)[] = pairs.map(() => null);
        for (const p of params) {
          const a = this.stageState[s]!.get(p.info.path)?.[n];
          if (a === undefined) continue;
          const t = fromTyped(a.slice(), p.info.shape, p.info.dtype);
          for (const i of p.leaves) leafTensors[i] = t;
        }
        slots[this.slotKeys[s]![j]!] = buildTangent(this.model, leafTensors, makeTangentStruct) as TangentVector<Model>;
      });
    });
    const parameterSteps: Record<string, number> = {};
    for (const [k, v] of this.parameterStep) parameterSteps[k] = v;
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
   * Restores a state from {@link Optimizer.state | state()} (of an optimizer with the same rules, on a model of the same
   * structure). Everything is checked first; on error nothing changes. Continuing from a loaded state
   * gives bit-identical parameters to never having stopped.
   * @param state the saved state.
   * @throws TypeError / RangeError naming what does not match.
   * @example
   * ```ts
   * const opt = new Adam(model);
   * opt.loadState(checkpoint.optimizer); // a value saved from opt.state()
   * ```
   */
  loadState(state: OptimizerState<Model>): void {
    const op = `${this.label}.loadState`;
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
    const params = parametersOf(pairLeaves(op, this.model, null, "state"));
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
    const next = this.stages.map(() => new Map<string, Slots>());
    this.stages.forEach((stage, s) => {
      const tangents = stage.rule.slots.map((_, j) => {
        const key = this.slotKeys[s]![j]!;
        return pairLeaves(op, this.model, (state.slots as Record<string, unknown>)[key], `state slot '${key}'`);
      });
      for (const p of params) {
        if (this.isFrozen(p.info) || !this.applies(stage, p.info)) continue;
        const slots = this.initSlots(stage.rule, p);
        stage.rule.slots.forEach((n, j) => {
          const v = tangents[j]![p.leaves[0]!]!.other;
          if (v === null) return;
          const dst = slots[n]!;
          if (typeof v === "number") dst.fill(v);
          else if (v.size === dst.length) dst.set(v._values);
          else dst.fill(v._values[0]!);
        });
        next[s]!.set(p.info.path, slots);
      }
    });
    this.stageState = next;
    this.parameterStep = steps;
    this.scratch = new Map();
    this.count = state.step;
    this.skipped = state.skippedSteps;
  }
}
