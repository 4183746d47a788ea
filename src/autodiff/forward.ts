/**
 * Forward-mode levels: every tracer carries a tangent next to its value, and each op computes the
 * tangent of its output with the primitive's JVP rule as it runs (streaming forward mode: `derivative`,
 * `jacobian`'s columns, the gradient checker). Nothing is recorded.
 */
import type { Tensor } from "../tensor/tensor.js";
import type { Primitive } from "./primitive.js";
import { Trace, bind, settled, traceOf, withLevel } from "./trace.js";
import { PrimalTracer } from "./tracer.js";

/** @internal A forward-mode level. */
export class JvpTrace extends Trace {
  process<P>(prim: Primitive<P>, inputs: readonly Tensor[], params: P): Tensor {
    const n = inputs.length;
    const primals = new Array<Tensor>(n);
    const tangents = new Array<Tensor | null>(n);
    let hasTangent = false;
    for (let i = 0; i < n; i++) {
      const x = inputs[i]!;
      if (traceOf(x) === this) {
        const t = x as JvpTracer;
        primals[i] = t._primal;
        tangents[i] = t._tangent;
        if (t._tangent !== null) hasTangent = true;
      } else {
        primals[i] = x;
        tangents[i] = null;
      }
    }
    const out = bind(prim, primals, params);
    if (!hasTangent || prim.nondifferentiable) return out;
    const tangent = prim.jvp(primals, tangents, out, params);
    return tangent === null ? out : new JvpTracer(this, out, tangent);
  }
}

/** @internal A tracer of a forward-mode level: a value and its tangent (`null` for a known zero). */
export class JvpTracer extends PrimalTracer {
  constructor(
    trace: JvpTrace,
    primal: Tensor,
    readonly _tangent: Tensor | null,
  ) {
    super(trace, primal);
  }
}

/** @internal Runs `body` with a new forward-mode level open. */
export function withJvpLevel<R>(body: (main: JvpTrace) => R): R {
  return withLevel((level) => new JvpTrace(level), body);
}

/** @internal `primal` as a tracer of `main` with the given tangent (the primal itself for a zero tangent). */
export function jvpTracer(main: JvpTrace, primal: Tensor, tangent: Tensor | null): Tensor {
  return tangent === null ? primal : new JvpTracer(main, settled(primal), tangent);
}

/** @internal Wraps `primal` as an input of `main`, always as a tracer (a zero tangent stays `null`). */
export function liftJvpInput(main: JvpTrace, primal: Tensor, tangent: Tensor | null): JvpTracer {
  return new JvpTracer(main, settled(primal), tangent);
}

/** @internal The tangent `x` carries at `main` (null for a zero or a value of another level). */
export function tangentAt(main: JvpTrace, x: Tensor): Tensor | null {
  return traceOf(x) === main ? (x as JvpTracer)._tangent : null;
}
