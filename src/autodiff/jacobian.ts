/** Jacobians and Hessians of tensor functions, built from the differential operators. */
import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { scalar, zeros } from "../tensor/creation.js";
import { stack } from "../ops/movement.js";
import { valueWithDifferential, valueWithPullback, gradient, type Lifted } from "./operators.js";

function asPoint(op: string, at: unknown): Tensor {
  if (at instanceof Tensor) return at;
  if (typeof at === "number") return scalar(at, "float32");
  throw new TypeError(`${op}: the point must be a number or a Tensor, got ${typeof at}`);
}

function basis(shape: readonly number[], dtype: Tensor["dtype"], i: number): Tensor {
  const e = zeros(shape, { dtype });
  e._data![i] = 1;
  return e;
}

/**
 * The Jacobian of a tensor function: `J[...out, ...in] = ∂f(x)[out] / ∂x[in]`. It uses forward mode (one
 * differential per input element) when the input is smaller than the output, and reverse mode (one pullback
 * per output element) otherwise. The result stays differentiable, so Jacobians nest.
 *
 * @param at the point: a number or a Tensor of shape `in`.
 * @param f a function returning a Tensor of shape `out`.
 * @returns a Tensor of shape `[...out, ...in]`.
 * @example
 * ```ts
 * jacobian(tensor([1, 2]), (x) => x.mul(x)); // [[2, 0], [0, 4]]
 * ```
 */
export function jacobian<T extends Tensor | number>(at: T, f: (x: Lifted<T>) => Tensor): Tensor {
  const op = "jacobian";
  const x = asPoint(op, at);
  const fx = f as unknown as (x: Tensor) => Tensor;
  const { value, differential } = valueWithDifferential(x, fx);
  if (!(value instanceof Tensor)) throw new TypeError(`${op}: the function must return a Tensor, got ${typeof value}`);
  const inShape = x.shape;
  const outShape = value.shape;
  if (x.size <= value.size) {
    const cols: Tensor[] = [];
    for (let i = 0; i < x.size; i++) cols.push(differential(basis(inShape, x.dtype, i)));
    if (cols.length === 0) return zeros([...outShape, ...inShape], { dtype: value.dtype });
    return stack(cols, -1).reshape([...outShape, ...inShape]);
  }
  const pb = valueWithPullback(x, fx).pullback;
  const rows: Tensor[] = [];
  for (let j = 0; j < value.size; j++) rows.push(pb(basis(outShape, value.dtype, j)));
  if (rows.length === 0) return zeros([...outShape, ...inShape], { dtype: value.dtype });
  return stack(rows, 0).reshape([...outShape, ...inShape]);
}

/**
 * The Hessian of a scalar function (forward mode over reverse mode): `H[i, j] = ∂²f / ∂x[i] ∂x[j]`.
 *
 * @param at the point: a number or a Tensor of shape `in`.
 * @param f a function returning a number or one-element Tensor.
 * @returns a Tensor of shape `[...in, ...in]`.
 * @example
 * ```ts
 * hessian(tensor([1, 2]), (x) => x.pow(3).sum()); // [[6, 0], [0, 12]]
 * ```
 */
export function hessian<T extends Tensor | number>(at: T, f: (x: Lifted<T>) => Tensor | number): Tensor {
  const x = asPoint("hessian", at);
  const g = (y: Tensor): Tensor => {
    const r = gradient(y, f as unknown as (x: Tensor) => Tensor);
    if (!(r instanceof Tensor)) throw new TypeError(`hessian: internal: expected a tensor gradient, got ${fmt([])}`);
    return r;
  };
  return jacobian(x, g);
}
