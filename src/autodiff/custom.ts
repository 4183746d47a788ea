/**
 * User-supplied derivatives (`customDerivative`) and rematerialisation (`withRecomputationInPullbacks`).
 */
import { Tensor } from "../tensor/tensor.js";
import { fmt, sameShape } from "../tensor/shape.js";
import { scalar, zeros } from "../tensor/creation.js";
import { topTrace, settled } from "./trace.js";
import { primalAt, recordOnTape, TapeTrace } from "./tape.js";
import { jvpTracer, tangentAt, JvpTrace } from "./forward.js";
import type { Primitive } from "./primitive.js";
import { jvp, pullback } from "./operators.js";

/** A reverse-mode rule in Swift's shape: the value, and a pullback from the output cotangent to the inputs'. */
export type CustomVJP<A extends Tensor[]> = (...args: A) => {
  value: Tensor;
  pullback: (cotangent: Tensor) => Tensor | { [K in keyof A]: Tensor | null };
};

/** A forward-mode rule in Swift's shape: the value, and a differential from the inputs' tangents to the output's. */
export type CustomJVP<A extends Tensor[]> = (...args: A) => {
  value: Tensor;
  differential: (...tangents: { [K in keyof A]: Tensor }) => Tensor;
};

function asTensor(op: string, x: unknown, i: number): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === "number") return scalar(x, "float32");
  throw new TypeError(`${op}: argument ${i} must be a Tensor or a number, got ${typeof x}`);
}

function checkValue(op: string, v: unknown): Tensor {
  if (!(v instanceof Tensor)) throw new TypeError(`${op}: the rule must return { value: Tensor, ... }, got value of type ${typeof v}`);
  return v;
}

/**
 * Gives `f` user-supplied derivative rules. Where a rule is missing, that mode differentiates through `f`
 * itself (so a `vjp`-only function still works in forward mode). Rules are applied at the level being
 * differentiated; enclosing levels differentiate through the rules' own code, so the rules should be written
 * with tensor ops for higher-order derivatives to be right.
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
 * gradient(tensor([2]), (x) => clipGrad(x).mul(5).sum()); // [1] (not 5)
 * ```
 */
export function customDerivative<A extends Tensor[]>(
  f: (...args: A) => Tensor,
  rules: { vjp?: CustomVJP<A>; jvp?: CustomJVP<A> },
): (...args: A) => Tensor {
  const op = `customDerivative(${f.name || "anonymous"})`;
  if (typeof f !== "function") throw new TypeError(`customDerivative: the first argument must be a function`);
  if (rules.vjp === undefined && rules.jvp === undefined) {
    throw new TypeError(`${op}: give at least one rule, { vjp } or { jvp }`);
  }
  const forwardThroughRules = (primals: Tensor[], tangents: (Tensor | null)[]): Tensor => {
    const filled = tangents.map((t, i) => t ?? zeros(primals[i]!.shape, { dtype: primals[i]!.dtype }));
    if (rules.jvp) return rules.jvp(...(primals as A)).differential(...(filled as { [K in keyof A]: Tensor }));
    return jvp(op, [primals], [filled], (xs: Tensor[]) => f(...(xs as A))).tangent as Tensor;
  };
  return (...raw: A): Tensor => {
    const args = raw.map((x, i) => settled(asTensor(op, x, i)));
    const top = topTrace(args);
    if (top === undefined) return f(...(args as A));
    const primals = args.map((x) => primalAt(top, x));
    if (top instanceof JvpTrace) {
      if (!rules.jvp) return f(...(args as A));
      const { value, differential } = rules.jvp(...(primals as A));
      checkValue(op, value);
      const tangents = args.map((x, i) => tangentAt(top, x) ?? zeros(primals[i]!.shape, { dtype: primals[i]!.dtype }));
      return jvpTracer(top, value, differential(...(tangents as { [K in keyof A]: Tensor })));
    }
    if (!rules.vjp) return f(...(args as A));
    const { value, pullback: pb } = rules.vjp(...(primals as A));
    checkValue(op, value);
    const prim: Primitive<unknown> = {
      name: op,
      impl: () => {
        throw new Error(`${op}: internal: a recorded custom op is never re-evaluated`);
      },
      jvp: (ps, ts) => forwardThroughRules(ps as Tensor[], ts as (Tensor | null)[]),
      vjp: (ct) => {
        const r = pb(ct);
        const list = Array.isArray(r) ? (r as (Tensor | null)[]) : [r];
        if (list.length !== args.length) {
          throw new TypeError(`${op}: the pullback returned ${list.length} cotangents for ${args.length} inputs; return one per input`);
        }
        list.forEach((g, i) => {
          if (g !== null && !sameShape(g.shape, primals[i]!.shape)) {
            throw new RangeError(`${op}: the pullback's cotangent ${i} has shape ${fmt(g.shape)} but input ${i} has shape ${fmt(primals[i]!.shape)}`);
          }
        });
        return list;
      },
    };
    return recordOnTape(top as TapeTrace, prim, args, value);
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
 * const block = withRecomputationInPullbacks((x: Tensor) => x.tanh().mul(x).exp());
 * gradient(tensor([0.5]), (x) => block(x).sum());
 * ```
 */
export function withRecomputationInPullbacks<A extends Tensor[]>(f: (...args: A) => Tensor): (...args: A) => Tensor {
  return customDerivative(f, {
    vjp: (...xs: A) => ({
      value: f(...xs),
      pullback: (ct: Tensor) => {
        const gs = pullback(xs as Tensor[], (ys: Tensor[]) => f(...(ys as A)))(ct);
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
 * @param body maps the cotangent arriving at `x` (same shape as `x`) to the one passed on.
 * @returns `x`, as a value.
 * @example
 * ```ts
 * // The gradient through `h` is clipped to [-1, 1] before it reaches `w`.
 * gradient(w, (w) => withDerivative(w.mul(10), (g) => g.clip(-1, 1)).sum());
 * ```
 */
export function withDerivative(x: Tensor, body: (cotangent: Tensor) => Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`withDerivative: x must be a Tensor, got ${typeof x}`);
  if (typeof body !== "function") throw new TypeError("withDerivative: the second argument must be a function of the cotangent");
  const hooked = customDerivative((v: Tensor) => v, {
    vjp: (v) => ({
      value: v,
      pullback: (ct) => {
        const g = body(ct);
        if (!(g instanceof Tensor) || !sameShape(g.shape, ct.shape)) {
          throw new RangeError(
            `withDerivative: the hook must return a Tensor of the cotangent's shape ${fmt(ct.shape)}, got ${g instanceof Tensor ? fmt(g.shape) : typeof g}`,
          );
        }
        return g;
      },
    }),
    jvp: (v) => ({ value: v, differential: (dv) => dv }),
  });
  return hooked(x);
}
