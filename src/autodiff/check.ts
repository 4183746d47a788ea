/**
 * A gradient checker: compares the derivatives computed by automatic differentiation, in both modes and
 * to any order, with central finite differences in float64 (the idea of JAX's `check_grads` and PyTorch's
 * `gradcheck`).
 */
import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { zeros, fromTyped } from "../tensor/creation.js";
import { concat } from "../ops/movement.js";
import { checkFunction, jvp, valueWithPullbackNamed } from "./operators.js";
import { checkSynchronous } from "./synchronous.js";

/**
 * Options of {@link checkGradients}.
 * @category Automatic differentiation
 */
export interface CheckGradientsOptions {
  /** Highest order to check (1 or 2; more is allowed and costs more). Default 2. */
  order?: number;
  /** Which modes to check. Default both. */
  modes?: readonly ("forward" | "reverse")[];
  /** Finite-difference step. Default 1e-5. */
  eps?: number;
  /** Absolute tolerance. Default 1e-6. */
  atol?: number;
  /** Relative tolerance. Default 1e-5. */
  rtol?: number;
  /** Seed for the random directions and cotangents. Default 0. */
  seed?: number;
}

/**
 * The worst disagreement found by {@link checkGradients}.
 * @category Automatic differentiation
 */
export interface GradientCheckReport {
  /** The largest `|ad - numeric| / (atol + rtol |numeric|)` seen; at most 1 when the check passes. */
  readonly maxError: number;
  /** Where that happened. */
  readonly worst: {
    readonly mode: "forward" | "reverse";
    readonly order: number;
    readonly input: number;
    readonly index: readonly number[];
    readonly output: readonly number[] | null;
    readonly expected: number;
    readonly actual: number;
  } | null;
}

/**
 * Thrown by {@link checkGradients} when a derivative disagrees with finite differences; `report` says where.
 * @example
 * ```ts
 * // A custom rule that is wrong: it doubles the derivative of x².
 * const square = customDerivative((v: Tensor) => v.mul(v), {
 *   vjp: (v) => ({ value: v.mul(v), pullback: (ct) => ct.mul(v).mul(4) }),
 * });
 * let report: GradientCheckReport | undefined;
 * try {
 *   checkGradients(square, [tensor([0.5, -1], { dtype: "float64" })], { order: 1, modes: ["reverse"] });
 * } catch (e) {
 *   if (e instanceof GradientCheckError) report = e.report; // where: mode, order, input, index, both values
 * }
 * report?.worst?.mode; // "reverse"
 * report!.maxError > 1; // true
 * ```
 * @category Automatic differentiation
 */
export class GradientCheckError extends Error {
  /** The report of the failing check. */
  readonly report: GradientCheckReport;
  /** @param message the description. @param report the details. */
  constructor(message: string, report: GradientCheckReport) {
    super(message);
    this.name = "GradientCheckError";
    this.report = report;
  }
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

function randomLike(t: Tensor, next: () => number): Tensor {
  const d = new Float64Array(t.size);
  for (let i = 0; i < d.length; i++) d[i] = next() * 2 - 1;
  return fromTyped(d, t.shape, "float64");
}

function lcg(seed: number): () => number {
  let s = (seed * 2654435761 + 1) >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function perturbed(inputs: readonly Tensor[], k: number, i: number, delta: number): Tensor[] {
  return inputs.map((x, j) => {
    if (j !== k) return x;
    const d = Float64Array.from(x._values);
    d[i] = d[i]! + delta;
    return fromTyped(d, x.shape, "float64");
  });
}

function evalF(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], what: string): Tensor {
  const y = f(...xs);
  checkSynchronous("checkGradients", "the function", f, y);
  if (!(y instanceof Tensor)) throw new TypeError(`checkGradients: ${what} must return a Tensor, got ${typeof y}`);
  return y.cast("float64")._concrete;
}

interface Tracker {
  maxError: number;
  worst: GradientCheckReport["worst"];
}

function compare(track: Tracker, opts: Required<Omit<CheckGradientsOptions, "modes" | "seed">>, actual: number, expected: number, where: NonNullable<GradientCheckReport["worst"]>): void {
  const err = Math.abs(actual - expected) / (opts.atol + opts.rtol * Math.abs(expected));
  const bad = Number.isNaN(actual) !== Number.isNaN(expected) || (!Number.isNaN(err) && err > track.maxError);
  if (bad) {
    track.maxError = Number.isNaN(err) ? Infinity : err;
    track.worst = { ...where, actual, expected };
  }
}

function checkFirstOrder(
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  modes: readonly ("forward" | "reverse")[],
  order: number,
  opts: Required<Omit<CheckGradientsOptions, "modes" | "seed">>,
  next: () => number,
  track: Tracker,
): void {
  const y0 = evalF(f, inputs, "f");
  const u = randomLike(y0, next);
  const reverse = modes.includes("reverse")
    ? (valueWithPullbackNamed("checkGradients", inputs, (xs: Tensor[]) => f(...xs)).pullback(u)).map((g) => g.cast("float64")._concrete)
    : [];
  for (let k = 0; k < inputs.length; k++) {
    const x = inputs[k]!;
    for (let i = 0; i < x.size; i++) {
      const plus = evalF(f, perturbed(inputs, k, i, opts.eps), "f")._values;
      const minus = evalF(f, perturbed(inputs, k, i, -opts.eps), "f")._values;
      const col = new Float64Array(plus.length);
      for (let j = 0; j < col.length; j++) col[j] = (plus[j]! - minus[j]!) / (2 * opts.eps);
      const index = unravel(i, x.shape);
      if (modes.includes("forward")) {
        const tangents = inputs.map((z, j) => (j === k ? basisOf(z, i) : zeros(z.shape, { dtype: "float64" })));
        const t = jvp("checkGradients", [inputs], [tangents], (xs: Tensor[]) => f(...xs)).tangent as Tensor;
        const tv = t.cast("float64")._values;
        for (let j = 0; j < col.length; j++) {
          compare(track, opts, tv[j]!, col[j]!, { mode: "forward", order, input: k, index, output: unravel(j, y0.shape), expected: 0, actual: 0 });
        }
      }
      if (modes.includes("reverse")) {
        let expected = 0;
        const uv = u._values;
        for (let j = 0; j < col.length; j++) expected += uv[j]! * col[j]!;
        compare(track, opts, reverse[k]!._values[i]!, expected, { mode: "reverse", order, input: k, index, output: null, expected: 0, actual: 0 });
      }
    }
  }
}

function basisOf(x: Tensor, i: number): Tensor {
  const e = zeros(x.shape, { dtype: "float64" });
  e._data![i] = 1;
  return e;
}

/**
 * Checks the derivatives of `f` against central finite differences in float64: forward mode (each
 * Jacobian column) and reverse mode (a vector-Jacobian product with a random cotangent), then, for
 * `order` ≥ 2, the same checks applied to the forward- and reverse-mode derivative functions themselves
 * (which covers forward-over-forward, reverse-over-forward, forward-over-reverse, reverse-over-reverse).
 * Inputs are converted to float64. Costs about `2 n` evaluations of `f` per order, for `n` input elements:
 * meant for small inputs.
 *
 * @param f a function of one or more tensors returning a tensor.
 * @param inputs the point to check at.
 * @param options order, modes, step and tolerances.
 * @returns the report when every derivative agrees.
 * @throws GradientCheckError naming the mode, order, input, element index and both values of the worst disagreement.
 * @example
 * ```ts
 * const report = checkGradients((v) => v.tanh().mul(v), [tensor([0.3, -0.7], { dtype: "float64" })], { order: 2 });
 * report.maxError <= 1; // true
 * // A function of two inputs, first order, reverse mode only:
 * checkGradients((a, b) => a.matmul(b).sum(), [x.cast("float64"), ones([3, 2], { dtype: "float64" })], { order: 1, modes: ["reverse"] });
 * ```
 * @category Automatic differentiation
 */
export function checkGradients(
  f: (...xs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: CheckGradientsOptions = {},
): GradientCheckReport {
  checkFunction("checkGradients", f);
  const order = options.order ?? 2;
  const modes = options.modes ?? ["forward", "reverse"];
  const opts = { order, eps: options.eps ?? 1e-5, atol: options.atol ?? 1e-6, rtol: options.rtol ?? 1e-5 };
  if (!Number.isInteger(order) || order < 1) throw new RangeError(`checkGradients: order must be a positive integer, got ${order}`);
  inputs.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw new TypeError(`checkGradients: input ${i} must be a Tensor`);
    if (x.dtype === "int32") throw new TypeError(`checkGradients: input ${i} is int32 ([${x.shape.join(",")}]); only float inputs have derivatives`);
  });
  const xs = inputs.map((x) => x.cast("float64")._concrete);
  const next = lcg(options.seed ?? 0);
  const track: Tracker = { maxError: 0, worst: null };
  const run = (g: (...z: Tensor[]) => Tensor, level: number): void => {
    checkFirstOrder(g, xs, modes, level, opts, next, track);
    if (level >= order) return;
    const y0 = evalF(g, xs, "f");
    if (modes.includes("forward")) {
      const v = xs.map((x) => randomLike(x, next));
      run((...z: Tensor[]) => jvp("checkGradients", [z], [v], (w: Tensor[]) => g(...w)).tangent as Tensor, level + 1);
    }
    if (modes.includes("reverse")) {
      const u = randomLike(y0, next);
      run((...z: Tensor[]) => {
        const gs = valueWithPullbackNamed("checkGradients", z, (w: Tensor[]) => g(...w)).pullback(u);
        return concat(gs.map((t) => t.reshape([-1])), 0);
      }, level + 1);
    }
  };
  run(f, 1);
  const report: GradientCheckReport = { maxError: track.maxError, worst: track.worst };
  if (track.maxError > 1) {
    const w = track.worst!;
    throw new GradientCheckError(
      `checkGradients: ${w.mode}-mode derivative of order ${w.order} disagrees with finite differences at input ${w.input} ` +
        `index [${w.index.join(",")}]${w.output ? ` (output [${w.output.join(",")}])` : ""}: automatic ${w.actual}, numeric ${w.expected} ` +
        `(error ${track.maxError.toPrecision(3)}x the tolerance; input shape ${fmt(xs[w.input]!.shape)})`,
      report,
    );
  }
  return report;
}
