/**
 * Reductions over axes (`sum`, `max`, `min`, `prod` are primitives; `mean`, `logSumExp`, `softmax`,
 * `logSoftmax` are derived) and the arg-reductions, which carry no derivative.
 */
import { Tensor } from "../tensor/tensor.js";
import { allocate, isFloat } from "../tensor/dtype.js";
import { normalizeAxes, normalizeAxis } from "../tensor/shape.js";
import { backend } from "../tensor/backend.js";
import type { ReduceKernel } from "../tensor/cpu/reduce.js";
import { bind } from "../autodiff/trace.js";
import { definePrimitive, defineNondifferentiable } from "../autodiff/primitive.js";
import { checkTensor } from "./util.js";
import { scalar } from "../tensor/creation.js";
import { add, sub, mul, div, equal, where } from "./binary.js";
import { exp, log, cast } from "./unary.js";
import { reshape, broadcastTo, transpose } from "./movement.js";
import { cumprod } from "./scan.js";

/** Params of a reduction primitive: sorted axes and whether the output keeps them as size 1. */
interface ReduceParams {
  readonly axes: readonly number[];
  readonly keepDims: boolean;
}

function keptShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) {
      if (keepDims) out.push(1);
    } else out.push(shape[i]!);
  }
  return out;
}

function run(kernel: ReduceKernel, x: Tensor, { axes, keepDims }: ReduceParams): Tensor {
  const shape = keptShape(x.shape, axes, keepDims);
  let size = 1;
  for (const d of shape) size *= d;
  const out = allocate(x.dtype, size);
  backend().reduce(kernel, x._data!, x.shape, axes, out);
  return new Tensor(shape, x.dtype, out);
}

/** Re-inserts the reduced axes of `t` (as size 1) so it broadcasts against the input. */
function keep(t: Tensor, inputShape: readonly number[], p: ReduceParams): Tensor {
  return p.keepDims ? t : reshape(t, keptShape(inputShape, p.axes, true));
}

const sumP = definePrimitive<ReduceParams>({
  name: "sum",
  impl: ([x], p) => run("sum", x!, p),
  jvp: (_, [t], _out, p) => sum(t!, p.axes, p.keepDims),
  vjp: (ct, [x], _out, p) => [broadcastTo(keep(ct, x!.shape, p), x!.shape)],
});

// The derivative of max/min is shared equally among the elements that attain it (ties split evenly).
function extremumRule(x: Tensor, out: Tensor, p: ReduceParams): Tensor {
  const hit = cast(equal(x, keep(out, x.shape, p)), x.dtype);
  return div(hit, sum(hit, p.axes, true));
}
const maxP = definePrimitive<ReduceParams>({
  name: "max",
  impl: ([x], p) => run("max", x!, p),
  jvp: ([x], [t], out, p) => sum(mul(t!, extremumRule(x!, out, p)), p.axes, p.keepDims),
  vjp: (ct, [x], out, p) => [mul(keep(ct, x!.shape, p), extremumRule(x!, out, p))],
});
const minP = definePrimitive<ReduceParams>({
  name: "min",
  impl: ([x], p) => run("min", x!, p),
  jvp: ([x], [t], out, p) => sum(mul(t!, extremumRule(x!, out, p)), p.axes, p.keepDims),
  vjp: (ct, [x], out, p) => [mul(keep(ct, x!.shape, p), extremumRule(x!, out, p))],
});

// ∂prod/∂x_i is the product of the other elements of its group: the exclusive cumulative product from the
// left times the one from the right. Built from products only (no division by x_i), it is exact where
// elements are 0, and so are its own derivatives, to every order.
function prodRule(x: Tensor, p: ReduceParams): Tensor {
  const axes = p.axes;
  if (axes.length === 1) return othersAlong(x, axes[0]!);
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const moved = transpose(x, perm);
  const grouped = reshape(moved, [...kept.map((i) => x.shape[i]!), -1]);
  const others = reshape(othersAlong(grouped, grouped.rank - 1), moved.shape);
  const inverse = new Array<number>(perm.length);
  perm.forEach((a, i) => (inverse[a] = i));
  return transpose(others, inverse);
}
function othersAlong(x: Tensor, axis: number): Tensor {
  return mul(cumprod(x, axis, { exclusive: true }), cumprod(x, axis, { exclusive: true, reverse: true }));
}
const prodP = definePrimitive<ReduceParams>({
  name: "prod",
  impl: ([x], p) => run("prod", x!, p),
  jvp: ([x], [t], _out, p) => sum(mul(t!, prodRule(x!, p)), p.axes, p.keepDims),
  vjp: (ct, [x], _out, p) => [mul(keep(ct, x!.shape, p), prodRule(x!, p))],
});

function reduceWith(op: string, prim: typeof sumP, x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  checkTensor(op, "x", x);
  const ax = normalizeAxes(op, axes, x.rank);
  if (ax.length === 0) return x;
  return bind(prim, [x], { axes: ax, keepDims });
}

/**
 * Sum over `axes` (all axes by default).
 * @param x a tensor.
 * @param axes axes to reduce; negative counts from the end.
 * @param keepDims keep reduced axes as size 1.
 * @returns the sum.
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]]);
 * sum(x); // 10
 * sum(x, 1); // [3, 7]
 * sum(x, 0, true); // [[4, 6]]
 * sum(x, [0, 1]); // 10
 * ```
 * @category Reductions
 */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduceWith("sum", sumP, x, axes, keepDims);
}
/**
 * Maximum over `axes` (all by default); ties share the derivative equally.
 * @param x a tensor.
 * @param axes axes to reduce.
 * @param keepDims keep reduced axes.
 * @returns the maximum.
 * @example
 * ```ts
 * max(tensor([[1, 5], [3, 2]]), 0); // [3, 5]
 * ```
 * @category Reductions
 */
export function max(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  emptyCheck("max", x, axes);
  return reduceWith("max", maxP, x, axes, keepDims);
}
/**
 * Minimum over `axes` (all by default); ties share the derivative equally.
 * @param x a tensor.
 * @param axes axes to reduce.
 * @param keepDims keep reduced axes.
 * @returns the minimum.
 * @example
 * ```ts
 * min(tensor([[1, 5], [3, 2]]), 0); // [1, 2]
 * ```
 * @category Reductions
 */
export function min(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  emptyCheck("min", x, axes);
  return reduceWith("min", minP, x, axes, keepDims);
}
/**
 * Product over `axes` (all by default); exact derivative even where elements are 0.
 * @param x a tensor.
 * @param axes axes to reduce.
 * @param keepDims keep reduced axes.
 * @returns the product.
 * @example
 * ```ts
 * prod(tensor([2, 3, 4])); // 24
 * // The derivative is exact at a zero: the product of the other elements.
 * gradient(tensor([2, 0, 4]), (x) => prod(x)); // [0, 8, 0]
 * ```
 * @category Reductions
 */
export function prod(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduceWith("prod", prodP, x, axes, keepDims);
}

function emptyCheck(op: string, x: Tensor, axes: number | readonly number[] | undefined): void {
  checkTensor(op, "x", x);
  const ax = normalizeAxes(op, axes, x.rank);
  for (const a of ax) {
    if (x.shape[a] === 0) {
      throw new RangeError(`${op}: cannot reduce the empty axis ${a} of shape [${x.shape.join(",")}]; it has no ${op}imum`);
    }
  }
}

function count(x: Tensor, axes: number | readonly number[] | undefined): number {
  let n = 1;
  for (const a of normalizeAxes("mean", axes, x.rank)) n *= x.shape[a]!;
  return n;
}

/**
 * Mean over `axes` (all by default); int32 input gives float32.
 * @param x a tensor.
 * @param axes axes to reduce.
 * @param keepDims keep reduced axes.
 * @returns the mean.
 * @example
 * ```ts
 * mean(tensor([[1, 2], [3, 4]]), 0); // [2, 3]
 * mean(tensor([1, 2], { dtype: "int32" })); // 1.5
 * ```
 * @category Reductions
 */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  checkTensor("mean", "x", x);
  const ax = normalizeAxes("mean", axes, x.rank);
  const f = isFloat(x.dtype) ? x : cast(x, "float32");
  return div(sum(f, ax, keepDims), count(x, ax));
}

/**
 * `log(sum(exp(x)))` over `axes`, stable for large inputs (the maximum is subtracted first and carries no
 * derivative, which leaves the result's derivative unchanged).
 * @param x a float tensor.
 * @param axes axes to reduce (all by default).
 * @param keepDims keep reduced axes.
 * @returns the log-sum-exp.
 * @example
 * ```ts
 * logSumExp(tensor([0, 0])); // 0.6931472
 * // Where exp overflows, the result is still exact: 1000 + log 2.
 * logSumExp(tensor([1000, 1000])); // 1000.6931
 * log(exp(tensor([1000, 1000])).sum()); // Infinity
 * ```
 * @category Reductions
 */
export function logSumExp(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  checkTensor("logSumExp", "x", x);
  const ax = normalizeAxes("logSumExp", axes, x.rank);
  if (ax.length === 0) return x;
  const m = stableShift(x, ax);
  const s = log(sum(exp(sub(x, m)), ax, true));
  const r = add(s, m);
  return keepDims ? r : squeezeAxes(r, ax);
}

/**
 * The max over axes (keepDims) as a constant, with infinities replaced by 0 so `x - m` stays finite. An
 * empty tensor needs no shift (its log-sum-exp is `log 0 = -Infinity`, its softmax is empty).
 */
function stableShift(x: Tensor, axes: number | readonly number[] | undefined): Tensor {
  const c = x._concrete;
  if (c.size === 0) return scalar(0, c.dtype);
  const m = max(c, axes, true);
  // A staged maximum has no elements yet: the same replacement as ops (m - m is 0 only where m is finite).
  if (m._data === undefined) return where(equal(sub(m, m), 0), m, 0);
  const data = m._data;
  let finite = true;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) finite = false;
  if (finite) return m;
  const fixed = allocate(m.dtype, data.length);
  for (let i = 0; i < data.length; i++) fixed[i] = Number.isFinite(data[i]!) ? data[i]! : 0;
  return new Tensor(m.shape, m.dtype, fixed);
}

function squeezeAxes(t: Tensor, axes: readonly number[]): Tensor {
  return reshape(t, t.shape.filter((_, i) => !axes.includes(i)));
}

/**
 * Softmax along `axis`: `exp(x - max) / sum(exp(x - max))`, stable for large logits.
 * @param x a float tensor.
 * @param axis the axis (default: last).
 * @returns probabilities summing to 1 along `axis`.
 * @example
 * ```ts
 * softmax(tensor([0, 0])); // [0.5, 0.5]
 * // One distribution per row (the last axis), even for logits whose exp overflows.
 * softmax(tensor([[1, 2, 3], [1000, 1000, 1000]])); // [[0.0900306, 0.2447285, 0.6652409], [0.3333333, 0.3333333, 0.3333333]]
 * ```
 * @category Reductions
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  checkTensor("softmax", "x", x);
  const a = normalizeAxis("softmax", axis, x.rank);
  const e = exp(sub(x, stableShift(x, a)));
  return div(e, sum(e, a, true));
}

/**
 * Log-softmax along `axis`: `x - logSumExp(x)`, computed as `(x - m) - log(sum(exp(x - m)))` with `m` the maximum,
 * so large logits lose no precision to cancellation.
 * @param x a float tensor.
 * @param axis the axis (default: last).
 * @returns log-probabilities along `axis`.
 * @example
 * ```ts
 * logSoftmax(tensor([0, 0])); // [-0.6931472, -0.6931472]
 * // A cross-entropy loss: minus the log-probability of each row's label.
 * const logits = tensor([[2, 0], [0, 2]]);
 * const labels = oneHot([0, 1], 2);
 * logSoftmax(logits).mul(labels).sum(-1).neg(); // [0.126928, 0.126928]
 * ```
 * @category Reductions
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  checkTensor("logSoftmax", "x", x);
  const a = normalizeAxis("logSoftmax", axis, x.rank);
  const shifted = sub(x, stableShift(x, a));
  return sub(shifted, log(sum(exp(shifted), a, true)));
}

const argmaxP = defineNondifferentiable<number>("argmax", ([x], axis) => argRun("argmax", x!, axis));
const argminP = defineNondifferentiable<number>("argmin", ([x], axis) => argRun("argmin", x!, axis));
function argRun(op: "argmax" | "argmin", x: Tensor, axis: number): Tensor {
  const shape = x.shape.filter((_, i) => i !== axis);
  let size = 1;
  for (const d of shape) size *= d;
  const out = new Int32Array(size);
  backend().argReduce(op, x._data!, x.shape, axis, out);
  return new Tensor(shape, "int32", out);
}
function arg(op: "argmax" | "argmin", x: Tensor, axis: number): Tensor {
  checkTensor(op, "x", x);
  if (x.rank === 0) throw new RangeError(`${op}: needs a tensor of rank >= 1, got a scalar`);
  const a = normalizeAxis(op, axis, x.rank);
  if (x.shape[a] === 0) throw new RangeError(`${op}: axis ${a} of shape [${x.shape.join(",")}] is empty`);
  return bind(op === "argmax" ? argmaxP : argminP, [x], a);
}
/**
 * Index of the maximum along `axis` (the first on ties), as int32; no derivative.
 * @param x a tensor.
 * @param axis the axis (default: last).
 * @returns int32 indices with `axis` removed.
 * @example
 * ```ts
 * argmax(tensor([[1, 3], [4, 2]])); // [1, 0]
 * argmax(tensor([[1, 3], [4, 2]]), 0); // [1, 0]
 * argmax(tensor([2, 5, 5])); // 1
 * ```
 * @category Reductions
 */
export function argmax(x: Tensor, axis = -1): Tensor { return arg("argmax", x, axis); }
/**
 * Index of the minimum along `axis` (the first on ties), as int32; no derivative.
 * @param x a tensor.
 * @param axis the axis (default: last).
 * @returns int32 indices with `axis` removed.
 * @example
 * ```ts
 * argmin(tensor([[1, 3], [4, 2]])); // [0, 1]
 * argmin(tensor([[1, 3], [4, 2]]), 0); // [0, 1]
 * ```
 * @category Reductions
 */
export function argmin(x: Tensor, axis = -1): Tensor { return arg("argmin", x, axis); }
