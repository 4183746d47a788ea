/** Jacobians and Hessians of tensor functions, built from the differential operators. */
import { Tensor } from "../tensor/tensor.js";
import { scalar, zeros } from "../tensor/creation.js";
import { stack } from "../ops/movement.js";
import { valueWithDifferentialNamed, valueWithPullbackNamed, valueWithGradientNamed, checkFunction, type Lifted } from "./operators.js";

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
 * @category Automatic differentiation
 */
export function jacobian<T extends Tensor | number>(at: T, f: (x: Lifted<T>) => Tensor): Tensor {
  return jacobianNamed("jacobian", at, f as unknown as (x: Tensor) => Tensor);
}

function jacobianNamed(op: string, at: unknown, fx: (x: Tensor) => Tensor): Tensor {
  checkFunction(op, fx);
  const x = asPoint(op, at);
  const { value, differential } = valueWithDifferentialNamed(op, x, fx);
  if (!(value instanceof Tensor)) throw new TypeError(`${op}: the function must return a Tensor, got ${typeof value}`);
  const inShape = x.shape;
  const outShape = value.shape;
  if (x.size <= value.size) {
    const cols: Tensor[] = [];
    for (let i = 0; i < x.size; i++) cols.push(differential(basis(inShape, x.dtype, i)));
    if (cols.length === 0) return zeros([...outShape, ...inShape], { dtype: value.dtype });
    return stack(cols, -1).reshape([...outShape, ...inShape]);
  }
  const pb = valueWithPullbackNamed(op, x, fx).pullback;
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
 * @category Automatic differentiation
 */
export function hessian<T extends Tensor | number>(at: T, f: (x: Lifted<T>) => Tensor | number): Tensor {
  const op = "hessian";
  checkFunction(op, f);
  const x = asPoint(op, at);
  const g = (y: Tensor): Tensor => {
    const r = valueWithGradientNamed(op, y, f as unknown as (x: Tensor) => Tensor).gradient;
    if (!(r instanceof Tensor)) throw new TypeError(`${op}: internal: expected a tensor gradient, got ${typeof r}`);
    return r;
  };
  return jacobianNamed(op, x, g);
}
