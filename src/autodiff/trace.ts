import type { Tensor } from "../tensor/tensor.js";
import type { Primitive } from "./primitive.js";
import type { Tracer } from "./tracer.js";

/**
 * @internal One level of interpretation: what a differential operator (or, later, a staging call) opens
 * while the function it was given runs.
 *
 * Levels nest: each new one opens above every active one. A tracer belongs to exactly one level; an op on
 * tensors of several levels goes to the highest one, whose {@link Trace.process} decides what the op means
 * there. The derivative levels (`JvpTrace` in `forward.ts`, `TapeTrace` in `tape.ts`) strip their own
 * wrapping, apply the op again to the primals through {@link bind} (so the lower levels see it in turn),
 * and add their derivative information. Because every level tags its own tracers, perturbations of nested
 * operators are never confused (Siskind & Pearlmutter, 2005; the same scheme as JAX's `Trace` classes).
 *
 * A new kind of level (a staging level that records a program from tracers with a shape and a dtype but no
 * data) is a new subclass with its own `process`; primitives and their rules do not change.
 *
 * This module imports no class at run time: the ops import `bind` from it while `Tensor` itself is still
 * being defined, so the tracer classes (which extend `Tensor`) live in modules that only the operators load.
 */
export abstract class Trace {
  /** False once the operator that opened this level has returned. */
  active = true;
  /** @param level the position in the stack of open levels, 1 for the outermost. */
  constructor(readonly level: number) {}

  /**
   * Applies `prim` to `inputs`, at least one of which is a tracer of this level and none of a higher one.
   * @returns the output: a tracer of this level, or a lower-level value when the op carries no information here.
   */
  abstract process<P>(prim: Primitive<P>, inputs: readonly Tensor[], params: P): Tensor;

  /**
   * Called once when the operator that opened the level returns. A tracer kept past that point (logits kept
   * for an accuracy) still points at its level, so the level drops here whatever only the operator needed
   * (its recording): a kept tracer then holds its value and nothing more.
   */
  close(): void {
    this.active = false;
  }
}

/** @internal What a tensor may be: concrete (no `_trace`) or a tracer. */
type MaybeTracer = Tensor & { readonly _trace?: Trace };

/**
 * @internal The level `x` is traced at, or undefined for a concrete tensor. Tracers are recognised by the
 * `_trace` slot that only the {@link Tracer} class has; a concrete tensor does not carry it at all.
 */
export function traceOf(x: Tensor): Trace | undefined {
  return (x as MaybeTracer)._trace;
}

/** @internal Whether `x` is a tracer (of an open level or a closed one). */
export function isTracer(x: Tensor): x is Tracer {
  return (x as MaybeTracer)._trace !== undefined;
}

const stack: Trace[] = [];

/**
 * @internal The staging level's hook (installed by `src/staged` when it first traces): records an op whose
 * inputs include staged values (shape and dtype, no elements) as an equation of the program being built.
 */
export const staging: {
  record: ((prim: Primitive<unknown>, inputs: readonly Tensor[], params: unknown) => Tensor) | null;
  /** Levels at or below this one were opened outside the program being traced: their tracers are its inputs. */
  floor: number;
} = { record: null, floor: 0 };

/** @internal The number of levels currently open. */
export function currentLevel(): number {
  return stack.length;
}

/** @internal Opens a level made by `make` above every active one, runs `body` with it, then closes it. */
export function withLevel<L extends Trace, R>(make: (level: number) => L, body: (level: L) => R): R {
  const main = make(stack.length + 1);
  stack.push(main);
  try {
    return body(main);
  } finally {
    stack.pop();
    main.close();
  }
}

/** @internal The innermost open level that satisfies `test` (for tests of what a level holds). */
export function innermostLevel<L extends Trace>(test: (t: Trace) => t is L): L | undefined {
  for (let i = stack.length - 1; i >= 0; i--) if (test(stack[i]!)) return stack[i] as L;
  return undefined;
}

/**
 * @internal A tensor kept from inside an operator that has since returned (e.g. logits saved to compute an
 * accuracy) is a plain value: its closed levels carry no derivative any more, so they are peeled off down
 * to the first level still open.
 */
export function settled(x: Tensor): Tensor {
  let t = x;
  for (let tr = traceOf(t); tr !== undefined && !tr.active; tr = traceOf(t)) {
    const below = (t as Tracer)._primal;
    if (below === undefined) {
      throw new Error(`a tensor traced inside an operator that has returned has no value: use it inside the operator, or return it`);
    }
    t = below;
  }
  return t;
}

/**
 * @internal Applies a primitive to tensors of any levels. Concrete inputs take the fast path straight to
 * the kernel; otherwise the highest level among the inputs processes the op.
 */
export function bind<P>(prim: Primitive<P>, inputs: readonly Tensor[], params: P): Tensor {
  let top: Trace | undefined;
  let staged = false;
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i]!;
    const tr = (x as MaybeTracer)._trace;
    if (tr === undefined || tr.level <= staging.floor) {
      // Below every level, a tensor without elements is a staged value: the op is recorded, not run.
      if (x._data === undefined) staged = true;
      continue;
    }
    if (!tr.active) return bind(prim, inputs.map(settled), params);
    if (top === undefined || tr.level > top.level) top = tr;
  }
  if (top === undefined) return staged ? staging.record!(prim, inputs, params) : prim.impl(inputs, params);
  return top.process(prim, inputs, params);
}

/** @internal The highest open level among the tensors' traces (undefined if all are concrete). */
export function topTrace(inputs: readonly Tensor[]): Trace | undefined {
  let top: Trace | undefined;
  for (const x of inputs) {
    const tr = traceOf(settled(x));
    if (tr !== undefined && (top === undefined || tr.level > top.level)) top = tr;
  }
  return top;
}
