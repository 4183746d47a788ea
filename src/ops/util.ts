import { Tensor, type TensorLike } from "../tensor/tensor.js";
import { scalar } from "../tensor/creation.js";
import { promote, type DType } from "../tensor/dtype.js";
import { sameShape } from "../tensor/shape.js";
import { sum } from "./reduce.js";
import { reshape, broadcastTo } from "./movement.js";

/** @internal Checks that `x` is a Tensor, naming the op and the argument otherwise. */
export function checkTensor(op: string, name: string, x: unknown): Tensor {
  if (x instanceof Tensor) return x;
  throw new TypeError(`${op}: ${name} must be a Tensor, got ${x === null ? "null" : typeof x}`);
}

/**
 * @internal Brings two operands to one dtype. A number takes the tensor's dtype (a non-integer number
 * with an int32 tensor gives float32); two tensors are promoted to the wider dtype with a `cast`.
 */
export function coerce(op: string, a: TensorLike, b: TensorLike, cast: (x: Tensor, d: DType) => Tensor): [Tensor, Tensor] {
  if (typeof a === "number") {
    const tb = checkTensor(op, "the second operand", b);
    const d = tb.dtype === "int32" && !Number.isInteger(a) ? "float32" : tb.dtype;
    return [scalar(a, d), d === tb.dtype ? tb : cast(tb, d)];
  }
  const ta = checkTensor(op, "the first operand", a);
  if (typeof b === "number") {
    const d = ta.dtype === "int32" && !Number.isInteger(b) ? "float32" : ta.dtype;
    return [d === ta.dtype ? ta : cast(ta, d), scalar(b, d)];
  }
  const tb = checkTensor(op, "the second operand", b);
  if (ta.dtype === tb.dtype) return [ta, tb];
  const d = promote(ta.dtype, tb.dtype);
  return [ta.dtype === d ? ta : cast(ta, d), tb.dtype === d ? tb : cast(tb, d)];
}

/**
 * @internal The reverse of broadcasting: sums `g` over the axes along which an operand of `shape` was
 * broadcast, so a cotangent of the output becomes a cotangent of that operand.
 */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const s = axes.length > 0 ? sum(g, axes, true) : g;
  return sameShape(s.shape, shape) ? s : reshape(s, shape);
}

/** @internal Broadcasts a tangent of one operand to the output shape (a no-op when it already has it). */
export function bcast(t: Tensor, shape: readonly number[]): Tensor {
  return sameShape(t.shape, shape) ? t : broadcastTo(t, shape);
}
