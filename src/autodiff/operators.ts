/**
 * The differential operators (Swift's names and shapes): reverse mode (`pullback`, `gradient`) and forward
 * mode (`differential`, `derivative`) over any differentiable structure, nesting to any order.
 */
import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { ones } from "../tensor/creation.js";
import type { TangentVector } from "../protocols/tangent.js";
import { leavesOf, rebuild, buildTangent, tangentLeaves, type Leaf } from "../keypaths/walk.js";
import { withTapeLevel, liftTapeInput, nodeAt, primalAt, sweepBackward, sweepForward, type TapeTrace } from "./tape.js";
import { JvpTrace, withJvpLevel, liftJvpInput, tangentAt } from "./forward.js";
import { add } from "../ops/binary.js";
import { makeTangentStruct } from "../protocols/structs.js";
import { checkSynchronous } from "./synchronous.js";

/**
 * What a differentiated function sees for an input of type `T`: a number arrives as a rank-0 tensor, at the
 * top level and in arrays (inside objects, numbers are constants and stay numbers).
 * @category Automatic differentiation
 */
export type Lifted<T> = T extends number ? Tensor : T extends readonly unknown[] ? { [K in keyof T]: Lifted<T[K]> } : T;

/**
 * A scalar result: a number or a one-element tensor.
 * @category Automatic differentiation
 */
export type Scalar = number | Tensor;

/**
 * The result type `R` of a differentiated function, unless it is a promise: then a message type, which no
 * value has, so an `async` function does not compile and the compiler's error quotes the fix. Derivatives are
 * taken of synchronous code (a promise settles after the operator has returned); at run time an `async`
 * function is rejected by every operator.
 *
 * @typeParam R the function's result type.
 * @example
 * ```ts
 * const ok: Synchronous<Tensor> = zeros([2]); // for anything but a promise, the type itself
 * // @ts-expect-error an async function does not compile: its result type is the message, which no value has
 * pullback(tensor([1]), async (v) => v); // throws TypeError: pullback: the function is an async function, which cannot be differentiated
 * ```
 * @category Automatic differentiation
 */
export type Synchronous<R> = R extends PromiseLike<unknown> ? "a differentiated function must be synchronous: await the data first, then differentiate" : R;

/** @internal The inputs of a call, lifted at `main`: the traced value and the tape nodes of its leaves. */
interface LiftedInput {
  readonly leaves: Leaf[];
  readonly tracers: Tensor[];
  readonly value: unknown;
}

/** @internal Lifts `x` at `main`: every differentiable leaf becomes a tracer; the rest is copied. */
export function lift(op: string, main: TapeTrace | JvpTrace, x: unknown, tangents?: readonly (Tensor | null)[]): LiftedInput {
  const leaves = leavesOf(op, x);
  const tracers = leaves.map((l, i) =>
    main instanceof JvpTrace ? liftJvpInput(main, l.value, tangents ? (tangents[i] ?? null) : null) : liftTapeInput(main, l.value),
  );
  const value = rebuild(x, (i) => tracers[i]);
  return { leaves, tracers, value };
}

/** @internal The differentiable leaves of an output, and the output with this level's tracing removed. */
function splitOutput(op: string, main: TapeTrace | JvpTrace, y: unknown): { outs: Tensor[]; value: unknown } {
  if (y instanceof Tensor) return { outs: [y], value: primalAt(main, y) };
  if (typeof y === "number") return { outs: [], value: y };
  const leaves = leavesOf(op, y);
  const outs = leaves.map((l) => l.value);
  const value = rebuild(y, (i) => {
    const l = leaves[i]!;
    if (l.isNumber) return l.value.item();
    return primalAt(main, l.value);
  });
  return { outs, value };
}

/** @internal Turns a tangent record of a class into its tangent value. */
function tangentOf(x: unknown, leafTangents: readonly (Tensor | null)[]): unknown {
  return buildTangent(x, leafTangents, makeTangentStruct);
}

/** @internal Checks that `f` is a synchronous function (see `synchronous.ts`). */
export function checkFunction(op: string, f: unknown): void {
  if (typeof f !== "function") throw new TypeError(`${op}: the last argument must be the function to differentiate, got ${typeof f}`);
  checkSynchronous(op, "the function", f);
}

/**
 * @internal Runs `f` on `at` lifted at a new tape level and returns what a pullback or a differential needs:
 * the level (its tape), the lifted input, the raw output and its leaves, and the output's value.
 */
function recordOnNewTape<T, R>(op: string, at: T, f: (x: Lifted<T>) => R) {
  checkFunction(op, f);
  return withTapeLevel((main) => {
    const input = lift(op, main, at);
    const y = f(input.value as Lifted<T>);
    checkSynchronous(op, "the function", f, y);
    const { outs, value } = splitOutput(op, main, y);
    return { main, tape: main.recording, input, y, outs, value: value as R };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Reverse mode

/**
 * Evaluates `f` at `at` and returns its value with the pullback: the linear map from a cotangent of the
 * output to the gradient with respect to `at` (a vector-Jacobian product).
 *
 * @param at the point: a number, a Tensor, or a structure (array, plain object, decorated class) of them.
 * @param f the function; a number input arrives as a rank-0 Tensor.
 * @returns `{ value, pullback }`; `pullback` may be called any number of times.
 * @example
 * ```ts
 * const { value, pullback } = valueWithPullback(tensor([1, 2]), (x) => x.mul(x));
 * value;                    // [1, 4]
 * pullback(tensor([1, 1])); // [2, 4]
 * pullback(tensor([1, 0])); // [2, 0]
 * ```
 * @category Automatic differentiation
 */
export function valueWithPullback<T, R>(
  at: T,
  f: (x: Lifted<T>) => Synchronous<R>,
): { value: R; pullback: (cotangent: TangentVector<R> | number) => TangentVector<T> } {
  return valueWithPullbackNamed("valueWithPullback", at, f as (x: Lifted<T>) => R);
}

/** @internal {@link valueWithPullback}, with the name of the operator the user called for messages. */
export function valueWithPullbackNamed<T, R>(
  op: string,
  at: T,
  f: (x: Lifted<T>) => R,
): { value: R; pullback: (cotangent: TangentVector<R> | number) => TangentVector<T> } {
  const { main, tape, input, y, outs, value } = recordOnNewTape(op, at, f);
  const inputNodes = input.tracers.map((t) => nodeAt(main, t));
  const pullback = (cotangent: TangentVector<R> | number): TangentVector<T> => {
    const cts = tangentLeaves("pullback", y, cotangent, "cotangent");
    const seeds: { node: number; cotangent: Tensor }[] = [];
    for (let i = 0; i < outs.length; i++) {
      const o = outs[i]!;
      const c = cts[i];
      const node = nodeAt(main, o);
      if (node >= 0 && c) seeds.push({ node, cotangent: c.dtype === o.dtype ? c : c.cast(o.dtype) });
    }
    const grads = sweepBackward(tape, seeds, inputNodes, add);
    return tangentOf(at, grads) as TangentVector<T>;
  };
  return { value, pullback };
}

/**
 * The pullback of `f` at `at`: maps a cotangent of the output to the gradient with respect to `at`.
 * @param at the point. @param f the function.
 * @returns the pullback function.
 * @example
 * ```ts
 * pullback(1, (x) => x.add(x).add(x))(2); // 6
 * // The rows of a Jacobian, one cotangent at a time:
 * const back = pullback(tensor([1, 2]), (v) => v.mul(v));
 * back(tensor([0, 1])); // [0, 4]
 * ```
 * @category Automatic differentiation
 */
export function pullback<T, R>(at: T, f: (x: Lifted<T>) => Synchronous<R>): (cotangent: TangentVector<R> | number) => TangentVector<T> {
  return valueWithPullbackNamed("pullback", at, f as (x: Lifted<T>) => R).pullback;
}

function scalarSeed(op: string, y: unknown): number {
  if (typeof y === "number") return 1;
  if (y instanceof Tensor && y.size === 1) return 1;
  const shape = y instanceof Tensor ? fmt(y.shape) : typeof y;
  throw new TypeError(
    `${op}: the function must return a scalar (a number or a one-element Tensor), but it returned ${y instanceof Tensor ? `a Tensor of shape ${shape}` : shape}. ` +
      `Reduce it (e.g. .sum() or .mean()), or use pullback(at, f) and pass a cotangent of that shape`,
  );
}

function valueWithGradientN(op: string, inputs: readonly unknown[], f: (...xs: never[]) => unknown): { value: unknown; gradient: unknown[] } {
  checkFunction(op, f);
  return withTapeLevel((main) => {
    const lifted = inputs.map((x) => lift(op, main, x));
    const y = (f as (...xs: unknown[]) => unknown)(...lifted.map((l) => l.value));
    checkSynchronous(op, "the function", f, y);
    scalarSeed(op, y);
    const value = y instanceof Tensor ? primalAt(main, y) : y;
    const nodes = lifted.flatMap((l) => l.tracers.map((t) => nodeAt(main, t)));
    const yNode = y instanceof Tensor ? nodeAt(main, y) : -1;
    const seeds = yNode >= 0 ? [{ node: yNode, cotangent: ones((y as Tensor).shape, { dtype: (y as Tensor).dtype }) }] : [];
    const grads = sweepBackward(main.recording, seeds, nodes, add);
    let k = 0;
    const gradient = inputs.map((x, i) => {
      const n = lifted[i]!.tracers.length;
      const g = grads.slice(k, k + n);
      k += n;
      return tangentOf(x, g);
    });
    return { value, gradient };
  });
}

/**
 * Evaluates a scalar function and its gradient in one pass.
 * @param at the point (number, Tensor or structure). @param f a function returning a number or a one-element Tensor.
 * @returns `{ value, gradient }` with `gradient: TangentVector<typeof at>`.
 * @example
 * ```ts
 * const { value, gradient: g } = valueWithGradient(3, (x) => x.mul(x));
 * value; // 9
 * g;     // 6
 * // The loss and the gradient of a model, for a training step:
 * const model = new Dense({ inputSize: 3, outputSize: 1, seed: 0 });
 * const step = valueWithGradient(model, (m) => m.callAsFunction(x).square().mean());
 * step.gradient.weight.shape; // [3, 1]
 * ```
 * @category Automatic differentiation
 */
export function valueWithGradient<T, R extends Scalar>(at: T, f: (x: Lifted<T>) => R): { value: R; gradient: TangentVector<T> } {
  return valueWithGradientNamed("valueWithGradient", at, f);
}

/** @internal {@link valueWithGradient}, with the name of the operator the user called for messages. */
export function valueWithGradientNamed<T, R extends Scalar>(op: string, at: T, f: (x: Lifted<T>) => R): { value: R; gradient: TangentVector<T> } {
  const r = valueWithGradientN(op, [at], f);
  return { value: r.value as R, gradient: r.gradient[0] as TangentVector<T> };
}

/**
 * The gradient of a scalar function of one input.
 * @param at the point: a number, a Tensor, or a structure (array, plain object, decorated class) of them.
 * @param f the function, which must return a number or a one-element Tensor.
 * @returns `TangentVector<typeof at>`: a number for a number, a Tensor for a Tensor, a structure for a structure.
 * @example
 * ```ts
 * gradient(3, (x) => x.mul(x));                      // 6
 * gradient(tensor([1, 2]), (x) => x.square().sum()); // [2, 4]
 * // A structure's gradient has its structure (numbers are leaves in arrays, constants in objects):
 * const g = gradient({ w: tensor([1, 2]), b: tensor(3) }, (p) => p.w.mul(p.b).sum());
 * g.w; // [3, 3]
 * g.b; // 3
 * gradient([tensor([1, 2]), 3] as const, ([w, b]) => w.mul(b).sum()); // [[3, 3], 3]
 * // A model's gradient is its tangent vector, one field per parameter:
 * const dense = new Dense({ inputSize: 3, outputSize: 1, seed: 0 });
 * gradient(dense, (d) => d.callAsFunction(x).sum()).weight; // [[5], [7], [9]]
 * ```
 * @category Automatic differentiation
 */
export function gradient<T>(at: T, f: (x: Lifted<T>) => Scalar): TangentVector<T>;
/**
 * The gradient of a scalar function of two inputs.
 * @param x the first input. @param y the second input. @param f the function.
 * @returns the tuple `[gx, gy]`.
 * @example
 * ```ts
 * gradient(2, 5, (x, y) => x.mul(y)); // [5, 2]
 * ```
 * @category Automatic differentiation
 */
export function gradient<A, B>(x: A, y: B, f: (x: Lifted<A>, y: Lifted<B>) => Scalar): [TangentVector<A>, TangentVector<B>];
/**
 * The gradient of a scalar function of three inputs.
 * @param x the first input. @param y the second input. @param z the third input. @param f the function.
 * @returns the tuple `[gx, gy, gz]`.
 * @example
 * ```ts
 * gradient(1, 2, 3, (x, y, z) => x.mul(y).mul(z)); // [6, 3, 2]
 * ```
 * @category Automatic differentiation
 */
export function gradient<A, B, C>(
  x: A,
  y: B,
  z: C,
  f: (x: Lifted<A>, y: Lifted<B>, z: Lifted<C>) => Scalar,
): [TangentVector<A>, TangentVector<B>, TangentVector<C>];
export function gradient(...args: unknown[]): unknown {
  const f = args[args.length - 1] as (...xs: never[]) => unknown;
  const inputs = args.slice(0, -1);
  if (inputs.length < 1 || inputs.length > 3) {
    throw new TypeError(`gradient: expected 1 to 3 inputs followed by the function, got ${inputs.length} inputs`);
  }
  const r = valueWithGradientN("gradient", inputs, f);
  return inputs.length === 1 ? r.gradient[0] : r.gradient;
}

/**
 * The gradient function of a scalar function (curried `gradient`).
 * @param f a function returning a number or a one-element Tensor.
 * @returns `(at) => gradient(at, f)`.
 * @example
 * ```ts
 * const df = gradientOf((v: Tensor) => v.sin());
 * df(0);                   // 1
 * df(tensor([Math.PI]));   // [-1]
 * // Second derivatives by nesting:
 * gradientOf((v: Tensor) => gradient(v, (u) => u.sin()))(0); // 0
 * ```
 * @category Automatic differentiation
 */
export function gradientOf(f: (x: Tensor) => Scalar): <T extends number | Tensor>(at: T) => TangentVector<T>;
/**
 * The gradient function of a scalar function of any differentiable input (a structure, say): `gradient`
 * curried, with the input's type given explicitly.
 * @param f a function returning a number or a one-element Tensor.
 * @returns `(at) => gradient(at, f)`.
 * @example
 * ```ts
 * const dLoss = gradientOf<{ w: Tensor; b: Tensor }>((p) => x.matmul(p.w).add(p.b).sum());
 * dLoss({ w: ones([3, 1]), b: zeros([1]) }).b; // [2]
 * ```
 * @category Automatic differentiation
 */
export function gradientOf<T>(f: (x: Lifted<T>) => Scalar): (at: T) => TangentVector<T>;
export function gradientOf<T>(f: (x: Lifted<T>) => Scalar): (at: T) => TangentVector<T> {
  checkFunction("gradientOf", f);
  return (at: T) => valueWithGradientN("gradientOf", [at], f).gradient[0] as TangentVector<T>;
}

// ---------------------------------------------------------------------------------------------------------
// Forward mode

/**
 * Evaluates `f` at `at` and returns its value with the differential: the linear map from a tangent at `at`
 * to the tangent of the output (a Jacobian-vector product). The function runs once; each call of
 * `differential` sweeps its recorded operations forward with the JVP rules.
 *
 * @param at the point (number, Tensor or structure). @param f the function.
 * @returns `{ value, differential }`.
 * @example
 * ```ts
 * const { value, differential } = valueWithDifferential(tensor([1, 2]), (x) => x.mul(x));
 * value;                        // [1, 4]
 * differential(tensor([1, 0])); // [2, 0]
 * differential(tensor([1, 1])); // [2, 4]
 * ```
 * @category Automatic differentiation
 */
export function valueWithDifferential<T, R>(
  at: T,
  f: (x: Lifted<T>) => Synchronous<R>,
): { value: R; differential: (tangent: TangentVector<T> | number) => TangentVector<R> } {
  return valueWithDifferentialNamed("valueWithDifferential", at, f as (x: Lifted<T>) => R);
}

/** @internal {@link valueWithDifferential}, with the name of the operator the user called for messages. */
export function valueWithDifferentialNamed<T, R>(
  op: string,
  at: T,
  f: (x: Lifted<T>) => R,
): { value: R; differential: (tangent: TangentVector<T> | number) => TangentVector<R> } {
  const { main, tape, input, y, outs, value } = recordOnNewTape(op, at, f);
  const differential = (tangent: TangentVector<T> | number): TangentVector<R> => {
    const ts = tangentLeaves("differential", at, tangent);
    const inputs = input.tracers.map((t, i) => ({ node: nodeAt(main, t), tangent: ts[i] ?? null }));
    const wanted = outs.map((o) => nodeAt(main, o));
    const res = sweepForward(tape, inputs, wanted.map((w) => Math.max(w, 0)));
    const outT = res.map((r, i) => (wanted[i]! < 0 ? null : r));
    return tangentOf(y, outT) as TangentVector<R>;
  };
  return { value, differential };
}

/**
 * The differential of `f` at `at` (forward mode): maps a tangent of the input to the tangent of the output.
 * @param at the point. @param f the function.
 * @returns the differential function.
 * @example
 * ```ts
 * differential(2, (x) => x.mul(x))(1); // 4
 * // A directional derivative of a function of a structure:
 * differential([1, 2] as const, ([a, b]) => a.mul(b))([1, 0]); // 2
 * ```
 * @category Automatic differentiation
 */
export function differential<T, R>(at: T, f: (x: Lifted<T>) => Synchronous<R>): (tangent: TangentVector<T> | number) => TangentVector<R> {
  return valueWithDifferentialNamed("differential", at, f as (x: Lifted<T>) => R).differential;
}

/** @internal Streaming forward mode: runs `f` once with tangents attached to the inputs' leaves. */
export function jvp(op: string, inputs: readonly unknown[], tangents: readonly unknown[], f: (...xs: never[]) => unknown): { value: unknown; tangent: unknown } {
  checkFunction(op, f);
  return withJvpLevel((main) => {
    const lifted = inputs.map((x, i) => lift(op, main, x, tangentLeaves(op, x, tangents[i])));
    const y = (f as (...xs: unknown[]) => unknown)(...lifted.map((l) => l.value));
    checkSynchronous(op, "the function", f, y);
    const { outs, value } = splitOutput(op, main, y);
    const ts = outs.map((o) => tangentAt(main, o));
    return { value, tangent: tangentOf(y, ts) };
  });
}

function checkScalarPoint(op: string, at: unknown): void {
  if (typeof at === "number") return;
  if (at instanceof Tensor && at.size === 1) return;
  throw new TypeError(
    `${op}: the point must be a number or a one-element Tensor, got ${at instanceof Tensor ? `a Tensor of shape ${fmt(at.shape)}` : typeof at}; ` +
      `for other inputs use differential(at, f) with a tangent, or jacobian(at, f)`,
  );
}

/**
 * Evaluates `f` and its derivative at a scalar point (forward mode, one pass).
 * @param at a number or a one-element Tensor. @param f the function.
 * @returns `{ value, derivative }` with `derivative: TangentVector<R>`.
 * @example
 * ```ts
 * const r = valueWithDerivative(0, (x) => x.exp());
 * r.value;      // 1
 * r.derivative; // 1
 * // The output may be a tensor: each element's derivative.
 * valueWithDerivative(2, (x) => stack([x, x.square()])).derivative; // [1, 4]
 * ```
 * @category Automatic differentiation
 */
export function valueWithDerivative<T extends Scalar, R>(at: T, f: (x: Lifted<T>) => Synchronous<R>): { value: R; derivative: TangentVector<R> } {
  return valueWithDerivativeNamed("valueWithDerivative", at, f as (x: Lifted<T>) => R);
}

function valueWithDerivativeNamed<T extends Scalar, R>(op: string, at: T, f: (x: Lifted<T>) => R): { value: R; derivative: TangentVector<R> } {
  checkScalarPoint(op, at);
  const r = jvp(op, [at], [1], f);
  return { value: r.value as R, derivative: r.tangent as TangentVector<R> };
}

/**
 * The derivative of `f` at a scalar point: the differential applied to 1 (forward mode).
 * @param at a number or a one-element Tensor. @param f the function.
 * @returns `TangentVector<R>`: a number for a number output, a Tensor for a Tensor output.
 * @example
 * ```ts
 * derivative(0, (x) => x.sin()); // 1
 * // Forward mode nests: the second derivative of sin at 0.
 * derivative(0, (x) => derivative(x, (y) => y.sin())); // 0
 * ```
 * @category Automatic differentiation
 */
export function derivative<T extends Scalar, R>(at: T, f: (x: Lifted<T>) => Synchronous<R>): TangentVector<R> {
  return valueWithDerivativeNamed("derivative", at, f as (x: Lifted<T>) => R).derivative;
}

/**
 * The derivative function of `f` (curried `derivative`).
 * @param f the function. @returns `(at) => derivative(at, f)`.
 * @example
 * ```ts
 * const slope = derivativeOf((v: Tensor) => v.mul(v));
 * slope(3); // 6
 * slope(-1); // -2
 * ```
 * @category Automatic differentiation
 */
export function derivativeOf<R>(f: (x: Tensor) => Synchronous<R>): (at: number | Tensor) => TangentVector<R> {
  checkFunction("derivativeOf", f);
  return (at: number | Tensor) => valueWithDerivativeNamed("derivativeOf", at, f as (x: Tensor) => R).derivative;
}

/**
 * Returns `x` with no derivative flowing through it at any level (a stop-gradient).
 * @param x a number, Tensor or structure. @returns the same value, constant for every differential operator.
 * @example
 * ```ts
 * gradient(3, (x) => x.mul(withoutDerivative(x))); // 3
 * gradient(3, (x) => x.mul(x));                    // 6
 * ```
 * @category Automatic differentiation
 */
export function withoutDerivative<T>(x: T): T {
  if (x instanceof Tensor) return x._concrete as T;
  if (typeof x === "number") return x;
  const leaves = leavesOf("withoutDerivative", x);
  return rebuild(x, (i) => {
    const l = leaves[i]!;
    return l.isNumber ? l.value.item() : l.value._concrete;
  }) as T;
}
