import type { Tensor } from "../tensor/tensor.js";
import type { DType } from "../tensor/dtype.js";

/**
 * @internal A primitive operation: the unit that automatic differentiation knows how to differentiate.
 *
 * One object holds the whole story of an op, side by side:
 * - `impl` computes the value on concrete tensors (it calls a backend kernel);
 * - `jvp` maps input tangents to the output tangent (forward mode);
 * - `vjp` maps the output cotangent to input cotangents (reverse mode).
 *
 * Both rules are written with differentiable ops (the public functions of `src/ops`), never with raw
 * kernels, so differentiating a rule gives the next order of derivative. Rules are pure functions of the
 * primal inputs, the primal output and the params: they never see tracing machinery, which keeps them
 * reusable by a later staged (traced-program) executor.
 *
 * A `null` tangent or cotangent is a symbolic zero; rules return `null` for an input that gets none.
 */
export interface Primitive<P = undefined> {
  /** A name for error messages and debugging. */
  readonly name: string;
  /** Computes the output from concrete inputs. */
  impl(inputs: readonly Tensor[], params: P): Tensor;
  /** Output tangent from input tangents (at least one is non-null). */
  jvp(primals: readonly Tensor[], tangents: readonly (Tensor | null)[], out: Tensor, params: P): Tensor | null;
  /**
   * Input cotangents from the output cotangent, one entry per input. `needs[i]` is false for inputs that
   * are constants at this level; a rule may return `null` for them instead of computing a cotangent.
   */
  vjp(cotangent: Tensor, primals: readonly Tensor[], out: Tensor, params: P, needs: readonly boolean[]): readonly (Tensor | null)[];
  /** True for ops with no derivative (comparisons, argmax, casts to int32): their outputs are constants. */
  readonly nondifferentiable?: boolean;
  /**
   * The output's shape and dtype from the inputs' (which may have no elements), for staging. Without it,
   * `compile` finds them by running `impl` once on stand-in values while tracing, which fails for a kernel
   * that checks its inputs' values (a zero divisor, say): such a primitive declares its rule here.
   */
  shape?(inputs: readonly Tensor[], params: P): { shape: readonly number[]; dtype: DType };
}

/** @internal Declares a primitive; a typed identity that keeps the definition readable. */
export function definePrimitive<P = undefined>(p: Primitive<P>): Primitive<P> {
  return p;
}

/** @internal Declares a primitive without derivative (its outputs never carry one). */
export function defineNondifferentiable<P = undefined>(name: string, impl: Primitive<P>["impl"]): Primitive<P> {
  const none = (): never => {
    throw new Error(`${name} has no derivative`);
  };
  return { name, impl, jvp: none, vjp: none, nondifferentiable: true };
}
