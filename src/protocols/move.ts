/**
 * Moving a differentiable value along a tangent vector (Swift's `move(by:)`), and the zero tangent of a
 * value. Both go through the structural walk, so they see exactly the leaves AD sees.
 */
import { Tensor } from "../tensor/tensor.js";
import { leavesOf, tangentLeaves, assignLeaves, buildTangent, tieGroups } from "../keypaths/walk.js";
import type { TangentVector } from "./tangent.js";
import { makeTangentStruct } from "./structs.js";

/**
 * The zero tangent vector of a value: the structure of `TangentVector<T>` with zeros of each leaf's shape
 * and dtype (numbers become `0`). Use it to start accumulating gradients or to initialize
 * tangent-shaped optimizer state.
 *
 * @param x a number, Tensor, or structure (array, plain object, decorated class) of them.
 * @returns zeros shaped like the tangent of `x`; for a class, its runtime tangent (with the
 *   `VectorSpace` methods).
 * @example
 * ```ts
 * const zero = zeroTangentVector({ w: ones([2, 3]), lr: 0.1 }); // no field for the constant lr
 * zero.w.shape; // [2, 3]
 * zeroTangentVector(3); // 0
 * // Accumulating gradients over two batches:
 * const model = new Dense({ inputSize: 3, outputSize: 1, seed: 0 });
 * let total = zeroTangentVector(model);
 * for (const batch of [x, x.mul(2)]) total = tangentAdd(total, gradient(model, (m) => m.callAsFunction(batch).sum()));
 * total.bias; // [4]
 * ```
 * @category Differentiable types
 */
export function zeroTangentVector<T>(x: T): TangentVector<T> {
  const n = leavesOf("zeroTangentVector", x).length;
  return buildTangent(x, new Array<null>(n).fill(null), makeTangentStruct) as TangentVector<T>;
}

/**
 * Moves a differentiable value along a tangent vector: every differentiable leaf `p` becomes `p + by[p]`
 * (cast to the leaf's dtype). Arrays, plain objects and class instances are moved **in place** and
 * returned; a number or a Tensor cannot change, so the moved value is returned instead.
 *
 * The whole tangent is checked against the value (structure, fields, shapes) before anything is
 * written, so a wrong tangent throws and leaves the value unchanged. A tensor shared by several paths (a
 * tied parameter) is one parameter: it moves once, by the sum of the steps at its paths, and stays shared.
 *
 * @param x the value to move: a number, a Tensor, or a structure of them (e.g. a model).
 * @param by a tangent vector of `x` (`TangentVector<T>`; a number is accepted for a one-element leaf).
 * @returns `x` itself when it was moved in place, otherwise the moved number or Tensor.
 * @example
 * ```ts
 * const model = new Dense({ inputSize: 3, outputSize: 1, seed: 0 });
 * const loss = (m: Dense) => m.callAsFunction(x).sum();
 * // One step of gradient descent, in place:
 * move(model, tangentScale(gradient(model, loss), -0.1));
 * model.bias; // [-0.2]
 * move(2, 0.5); // 2.5
 * // A wrong tangent is refused before anything is written:
 * move(model, { weight: zeros([2, 1]), bias: zeros([1]) }); // throws RangeError: move: the tangent at weight has shape [2,1] but the value has shape [3,1]
 * ```
 * @category Differentiable types
 */
export function move(x: number, by: number): number;
/**
 * Moves a tensor along a tangent: returns `x + by` in the tensor's dtype (a tensor cannot change in place).
 * @param x the tensor. @param by a tensor of its shape, or a number for a one-element tensor.
 * @returns the moved tensor.
 * @example
 * ```ts
 * move(tensor([1, 2]), tensor([0.5, -1])); // [1.5, 1]
 * ```
 * @category Differentiable types
 */
export function move(x: Tensor, by: Tensor | number): Tensor;
/**
 * Moves a structure (a model, an array, a plain object) along one of its tangent vectors, in place.
 * @param x the value to move. @param by a `TangentVector<T>`, checked in full before anything is written.
 * @returns `x`, moved.
 * @example
 * ```ts
 * const params = { w: tensor([1, 2]), b: [tensor(0)] };
 * move(params, { w: tensor([1, 1]), b: [tensor(-1)] });
 * params.w;    // [2, 3]
 * params.b[0]; // -1
 * ```
 * @category Differentiable types
 */
export function move<T>(x: T, by: NoInfer<TangentVector<T>>): T;
export function move<T>(x: T, by: TangentVector<T>): T {
  const leaves = leavesOf("move", x);
  const steps = tangentLeaves("move", x, by);
  const moved = new Array<Tensor | number>(leaves.length);
  // A tensor reached by several paths is one parameter: it moves once, by the sum of its paths' steps,
  // and the same new tensor goes back to every path (it stays shared).
  for (const group of tieGroups(leaves)) {
    const first = leaves[group[0]!]!;
    let total: Tensor | null = null;
    for (const i of group) {
      const raw = steps[i];
      if (!raw) continue;
      const s = first.isNumber || raw.dtype === first.value.dtype ? raw : raw.cast(first.value.dtype);
      total = total === null ? s : total.add(s);
    }
    let next: Tensor | number;
    if (first.isNumber) next = first.value.item() + (total ? total.item() : 0);
    else next = total === null ? first.value : first.value.add(total);
    for (const i of group) moved[i] = next;
  }
  if (typeof x === "number") return moved[0] as T;
  if (x instanceof Tensor) return moved[0] as T;
  return assignLeaves(x, moved) as T;
}
