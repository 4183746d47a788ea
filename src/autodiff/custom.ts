/**
 * User-supplied derivatives (`customDerivative`) and rematerialisation (`withRecomputationInPullbacks`).
 */
import { Tensor } from "../tensor/tensor.js";
import { fmt, sameShape } from "../tensor/shape.js";
import { full, scalar, zeros } from "../tensor/creation.js";
import { bind, topTrace, settled } from "./trace.js";
import { primalAt, recordOnTape, TapeTrace } from "./tape.js";
import { jvpTracer, tangentAt, JvpTrace } from "./forward.js";
import type { Primitive } from "./primitive.js";
import { jvp, pullback } from "./operators.js";
import { checkSynchronous, isPromiseLike } from "./synchronous.js";

/**
 * A reverse-mode rule in Swift's shape: the value, and a pullback from the output cotangent to the inputs'.
 * @category Automatic differentiation
 */
export type CustomVJP<A extends Tensor[]> = (...args: A) => {
  value: Tensor;
  pullback: (cotangent: Tensor) => Tensor | { [K in keyof A]: Tensor | null };
};

/**
 * A forward-mode rule in Swift's shape: the value, and a differential from the inputs' tangents to the output's.
 * @category Automatic differentiation
 */
export type CustomJVP<A extends Tensor[]> = (...args: A) => {
  value: Tensor;
  differential: (...tangents: { [K in keyof A]: Tensor }) => Tensor;
};

function asTensor(op: string, x: unknown, i: number): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === "number") return scalar(x, "float32");
  throw new TypeError(`${op}: argument ${i} must be a Tensor or a number, got ${describe(x)}`);
}

/** How a value reads in an error message. */
function describe(v: unknown): string {
  if (v instanceof Tensor) return `a Tensor of shape ${fmt(v.shape)} and dtype ${v.dtype}`;
  if (v === null || v === undefined) return String(v);
  if (typeof v === "number") return `the number ${v}`;
  if (isPromiseLike(v)) return "a Promise";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return `a value of type ${typeof v}`;
}

/**
 * The tensor a rule gave for `like` (an input's cotangent or the output's tangent): the same shape and
 * dtype, a number accepted for a one-element tensor. `null` stands for a zero where `allowNull`.
 */
function ruleTensor(op: string, rule: string, what: string, got: unknown, like: Tensor, allowNull: boolean): Tensor | null {
  const fix = `return a Tensor of shape ${fmt(like.shape)} and dtype ${like.dtype}${allowNull ? " (or null for a zero)" : " (zeros(shape) for a zero)"}`;
  if (got === null && allowNull) return null;
  if (typeof got === "number") {
    if (like.size === 1) return full(like.shape, got, { dtype: like.dtype });
    throw new TypeError(`${op}: ${rule} returned the number ${got} for ${what}, which has shape ${fmt(like.shape)}; ${fix}`);
  }
  if (!(got instanceof Tensor)) throw new TypeError(`${op}: ${rule} returned ${describe(got)} for ${what}; ${fix}`);
  if (!sameShape(got.shape, like.shape)) {
    throw new RangeError(`${op}: ${rule} returned shape ${fmt(got.shape)} for ${what}, which has shape ${fmt(like.shape)}; ${fix}`);
  }
  if (got.dtype !== like.dtype) {
    throw new TypeError(
      `${op}: ${rule} returned dtype ${got.dtype} for ${what}, which is ${like.dtype}; ${fix} (e.g. .cast("${like.dtype}"))`,
    );
  }
  return got;
}

/** Checks what a rule returned: an object holding a Tensor `value` and the function `fn` (pullback or differential). */
function ruleResult<K extends "pullback" | "differential">(op: string, rule: "vjp" | "jvp", r: unknown, fn: K): { value: Tensor } & Record<K, (...xs: never[]) => unknown> {
  const shape = `{ value: Tensor, ${fn}: (${fn === "pullback" ? "cotangent" : "...tangents"}) => ... }`;
  checkSynchronous(op, `the ${rule} rule`, undefined, r);
  if (typeof r !== "object" || r === null) throw new TypeError(`${op}: the ${rule} rule must return ${shape}, got ${describe(r)}`);
  const { value } = r as { value?: unknown };
  if (!(value instanceof Tensor)) {
    throw new TypeError(`${op}: the ${rule} rule must return ${shape}; its value is ${describe(value)}, return the function's output as a Tensor`);
  }
  if (typeof (r as Record<string, unknown>)[fn] !== "function") {
    throw new TypeError(`${op}: the ${rule} rule must return ${shape}; its ${fn} is ${describe((r as Record<string, unknown>)[fn])}`);
  }
  return r as { value: Tensor } & Record<K, (...xs: never[]) => unknown>;
}

/** The output's tangent from the jvp rule's differential, checked against the rule's value. */
function applyDifferential(op: string, differential: (...ts: never[]) => unknown, tangents: readonly Tensor[], value: Tensor): Tensor {
  const t = differential(...(tangents as never[]));
  checkSynchronous(op, "the jvp rule's differential", differential, t);
  return ruleTensor(op, "the jvp rule's differential", "the output", t, value, false)!;
}

/** The inputs' cotangents from the vjp rule's pullback, one per input, each checked against its input. */
function applyPullback(op: string, pb: (ct: Tensor) => unknown, ct: Tensor, primals: readonly Tensor[]): (Tensor | null)[] {
  const r = pb(ct);
  checkSynchronous(op, "the vjp rule's pullback", pb, r);
  const n = primals.length;
  const rule = "the vjp rule's pullback";
  let list: readonly unknown[];
  if (n === 1) list = Array.isArray(r) && r.length === 1 ? r : [r];
  else if (Array.isArray(r)) list = r;
  else throw new TypeError(`${op}: ${rule} returned ${describe(r)} for ${n} inputs; return an array of ${n} cotangents, one per input (null for a zero)`);
  if (list.length !== n) {
    throw new TypeError(`${op}: ${rule} returned ${list.length} cotangents for ${n} inputs; return one per input, in order (null for a zero)`);
  }
  return list.map((g, i) => {
    const x = primals[i]!;
    // An int32 input has no derivative: whatever the rule gives for it (null, zeros of any dtype) is dropped.
    if (x.dtype === "int32" && (g === null || (g instanceof Tensor && sameShape(g.shape, x.shape)))) return null;
    return ruleTensor(op, rule, `input ${i}`, g, x, true);
  });
}

/** The output of `f` (or of a rule's value), which must be a tensor. */
function checkOutput(op: string, f: unknown, y: unknown): Tensor {
  checkSynchronous(op, "the function", f, y);
  if (!(y instanceof Tensor)) throw new TypeError(`${op}: the function must return a Tensor, got ${describe(y)}`);
  return y;
}

/**
 * The cotangents of `f`'s inputs at `primals` for the output cotangent `ct`, by running `f` again under a
 * pullback. int32 inputs have no derivative: they enter as constants and get `null`.
 */
function pullbackThrough(f: (xs: readonly Tensor[]) => Tensor, primals: readonly Tensor[], ct: Tensor): (Tensor | null)[] {
  const floats = primals.flatMap((x, i) => (x.dtype === "int32" ? [] : [i]));
  const gs = pullback(floats.map((i) => primals[i]!), (ys: Tensor[]) => {
    const xs = primals.slice();
    floats.forEach((i, k) => (xs[i] = ys[k]!));
    return f(xs);
  })(ct);
  const out = new Array<Tensor | null>(primals.length).fill(null);
  floats.forEach((i, k) => (out[i] = gs[k]!));
  return out;
}

/**
 * Gives `f` user-supplied derivative rules. Where a rule is missing, that mode differentiates through `f`
 * itself (so a `vjp`-only function still works in forward mode). Rules are applied at the level being
 * differentiated; enclosing levels differentiate through the rules' own code, so the rules should be written
 * with tensor ops for higher-order derivatives to be right.
 *
 * What the rules return is checked on every use, in both modes: `value` must be a Tensor; the differential
 * must return a Tensor of the value's shape and dtype; the pullback one cotangent per input (a tuple for
 * several inputs, `null` for a zero) of that input's shape and dtype. A number is accepted for a one-element
 * tensor. A mismatch is an error naming the rule, the input and the fix.
 *
 * @param f the function of one or more tensors, returning a tensor.
 * @param rules `vjp(...args) => { value, pullback: (ct) => dx | [dx, dy] }` and/or
 *   `jvp(...args) => { value, differential: (dx, dy) => dy }`.
 * @returns a function with the same signature as `f`.
 * @example
 * ```ts
 * // A gradient clipped to [-1, 1] in reverse mode:
 * const clipGrad = customDerivative((x: Tensor) => x, {
 *   vjp: (x) => ({ value: x, pullback: (ct) => ct.clip(-1, 1) }),
 * });
 * gradient(tensor([2]), (x) => clipGrad(x).mul(5).sum()); // [1]
 * gradient(tensor([2]), (x) => x.mul(5).sum());           // [5]
 * // A numerically stable rule for log(1 + eˣ), with the derivative σ(x) written in tensor ops:
 * const softplusStable = customDerivative((v: Tensor) => v.softplus(), {
 *   vjp: (v) => ({ value: v.softplus(), pullback: (ct) => ct.mul(v.sigmoid()) }),
 *   jvp: (v) => ({ value: v.softplus(), differential: (dv) => dv.mul(v.sigmoid()) }),
 * });
 * gradient(tensor([0, 100]), (v) => softplusStable(v).sum()); // [0.5, 1]
 * derivative(0, (v) => softplusStable(v));                    // 0.5
 * ```
 * @category Automatic differentiation
 */
export function customDerivative<A extends Tensor[]>(
  f: (...args: A) => Tensor,
  rules: { vjp?: CustomVJP<A>; jvp?: CustomJVP<A> },
): (...args: A) => Tensor {
  if (typeof f !== "function") throw new TypeError(`customDerivative: the first argument must be the function, got ${describe(f)}`);
  return withRules(`customDerivative(${f.name || "anonymous"})`, f, rules);
}

function withRules<A extends Tensor[]>(
  op: string,
  f: (...args: A) => Tensor,
  rules: { vjp?: CustomVJP<A>; jvp?: CustomJVP<A> },
): (...args: A) => Tensor {
  checkSynchronous(op, "the function", f);
  if (typeof rules !== "object" || rules === null) throw new TypeError(`${op}: the second argument must be { vjp?, jvp }, got ${describe(rules)}`);
  for (const k of Object.keys(rules)) {
    if (k !== "vjp" && k !== "jvp") throw new TypeError(`${op}: unknown rule '${k}'; the rules are vjp and jvp`);
  }
  for (const k of ["vjp", "jvp"] as const) {
    const r = rules[k];
    if (r !== undefined && typeof r !== "function") throw new TypeError(`${op}: the ${k} rule must be a function of the inputs, got ${describe(r)}`);
    if (r !== undefined) checkSynchronous(op, `the ${k} rule`, r);
  }
  if (rules.vjp === undefined && rules.jvp === undefined) {
    throw new TypeError(`${op}: give at least one rule, { vjp } or { jvp }`);
  }
  const callF = (xs: readonly Tensor[]): Tensor => checkOutput(op, f, f(...(xs as A)));
  const forwardThroughRules = (primals: Tensor[], tangents: (Tensor | null)[]): Tensor => {
    const filled = tangents.map((t, i) => t ?? zeros(primals[i]!.shape, { dtype: primals[i]!.dtype }));
    if (rules.jvp) {
      const { value, differential } = ruleResult(op, "jvp", rules.jvp(...(primals as A)), "differential");
      return applyDifferential(op, differential, filled, value);
    }
    return jvp(op, [primals], [filled], (xs: Tensor[]) => callF(xs)).tangent as Tensor;
  };
  // Outside every differentiation level the rules still matter when `f` runs inside `compile`: the program
  // may be differentiated later (`gradient(x, compile(g))`), so the op is bound as one primitive that carries
  // them (a concrete call just runs `f`; a staged one records an equation whose JVP and VJP are the rules).
  const withTheRules: Primitive<undefined> = {
    name: op,
    impl: (xs) => callF(xs),
    jvp: (ps, ts) => forwardThroughRules(ps as Tensor[], ts as (Tensor | null)[]),
    vjp: (ct, ps) => {
      if (!rules.vjp) return pullbackThrough(callF, ps, ct);
      const r = ruleResult(op, "vjp", rules.vjp(...(ps as A)), "pullback");
      return applyPullback(op, r.pullback as (ct: Tensor) => unknown, ct, ps);
    },
  };
  return (...raw: A): Tensor => {
    const args = raw.map((x, i) => settled(asTensor(op, x, i)));
    const top = topTrace(args);
    if (top === undefined) return bind(withTheRules, args, undefined);
    const primals = args.map((x) => primalAt(top, x));
    if (top instanceof JvpTrace) {
      if (!rules.jvp) return callF(args);
      const { value, differential } = ruleResult(op, "jvp", rules.jvp(...(primals as A)), "differential");
      const tangents = args.map((x, i) => tangentAt(top, x) ?? zeros(primals[i]!.shape, { dtype: primals[i]!.dtype }));
      return jvpTracer(top, value, applyDifferential(op, differential, tangents, value));
    }
    if (!(top instanceof TapeTrace)) return callF(args);
    // A reverse-mode level serves pullbacks (backward sweep) and differentials (forward sweep): the op is
    // recorded once, with the vjp rule for the first and the jvp rule for the second. A missing rule is
    // replaced by differentiating through `f` (rerun at the primals for a missing vjp rule).
    let value: Tensor;
    let backward: (ct: Tensor, ps: readonly Tensor[]) => (Tensor | null)[];
    if (rules.vjp) {
      const r = ruleResult(op, "vjp", rules.vjp(...(primals as A)), "pullback");
      value = r.value;
      backward = (ct, ps) => applyPullback(op, r.pullback as (ct: Tensor) => unknown, ct, ps);
    } else {
      value = ruleResult(op, "jvp", rules.jvp!(...(primals as A)), "differential").value;
      backward = (ct, ps) => pullbackThrough(callF, ps, ct);
    }
    const prim: Primitive<unknown> = {
      name: op,
      impl: () => {
        throw new Error(`${op}: internal: a recorded custom op is never re-evaluated`);
      },
      jvp: (ps, ts) => forwardThroughRules(ps as Tensor[], ts as (Tensor | null)[]),
      vjp: (ct, ps) => backward(ct, ps),
    };
    return recordOnTape(top, prim, args, value);
  };
}

/**
 * Makes `f` save nothing of its intermediate values for reverse mode: its pullback runs `f` again
 * (gradient checkpointing, trading compute for memory). The value and every derivative are unchanged.
 *
 * @param f a function of one or more tensors returning a tensor.
 * @returns the same function, rematerialised in pullbacks.
 * @example
 * ```ts
 * const block = withRecomputationInPullbacks((v: Tensor) => v.tanh().mul(v).exp());
 * const plain = (v: Tensor) => v.tanh().mul(v).exp();
 * // Same value and gradient; the pullback recomputes the block instead of keeping its intermediates.
 * const a = gradient(tensor([0.5]), (v) => block(v).sum());
 * const b = gradient(tensor([0.5]), (v) => plain(v).sum());
 * a.sub(b).abs().max(); // 0
 * ```
 * @category Automatic differentiation
 */
export function withRecomputationInPullbacks<A extends Tensor[]>(f: (...args: A) => Tensor): (...args: A) => Tensor {
  if (typeof f !== "function") throw new TypeError(`withRecomputationInPullbacks: the argument must be the function, got ${describe(f)}`);
  const op = `withRecomputationInPullbacks(${f.name || "anonymous"})`;
  return withRules(op, f, {
    vjp: (...xs: A) => ({
      value: checkOutput(op, f, f(...xs)),
      pullback: (ct: Tensor) => {
        const gs = pullbackThrough((ys) => checkOutput(op, f, f(...(ys as A))), xs, ct);
        return (xs.length === 1 ? gs[0]! : gs) as Tensor;
      },
    }),
  });
}

/**
 * Returns `x` unchanged, with a hook on the derivative flowing back through it in reverse mode: the cotangent
 * that reaches `x` is replaced by `body(cotangent)` (Swift's `withDerivative`; gradient surgery such as
 * clipping, noise or logging at one point of a computation). Forward mode is unaffected.
 *
 * @param x a tensor (any shape).
 * @param body maps the cotangent arriving at `x` (same shape as `x`) to the one passed on, of the same shape
 *   and dtype (a number for a one-element `x`).
 * @returns `x`, as a value.
 * @example
 * ```ts
 * const w = tensor([0.5, 2]);
 * // The cotangent reaching `v` (10, from the product) is clipped to [-1, 1] on its way back:
 * gradient(w, (v) => withDerivative(v, (g) => g.clip(-1, 1)).mul(10).sum()); // [1, 1]
 * // Without the hook:
 * gradient(w, (v) => v.mul(10).sum()); // [10, 10]
 * ```
 * @category Automatic differentiation
 */
export function withDerivative(x: Tensor, body: (cotangent: Tensor) => Tensor): Tensor {
  const op = "withDerivative";
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: x must be a Tensor, got ${describe(x)}`);
  if (typeof body !== "function") throw new TypeError(`${op}: the second argument must be a function of the cotangent, got ${describe(body)}`);
  checkSynchronous(op, "the hook", body);
  const hooked = withRules(op, (v: Tensor) => v, {
    vjp: (v) => ({
      value: v,
      pullback: (ct) => {
        const g: unknown = body(ct);
        checkSynchronous(op, "the hook", body, g);
        return ruleTensor(op, "the hook", "the cotangent", g, ct, false)!;
      },
    }),
    jvp: (v) => ({ value: v, differential: (dv) => dv }),
  });
  return hooked(x);
}
