/** Re-exports for the walk tests, plus a helper listing the leaf paths the walk finds. */
import { leavesOf } from "../../src/keypaths/walk.js";
export { Tensor, tensor, zeros, gradient, differentiable, noDerivative, storedProperties, NoDerivative } from "../../src/index.js";

/** The dotted paths of the differentiable leaves of `x`, in walk order. */
export function leavesOfForTest(x: unknown): string[] {
  return leavesOf("test", x).map((l) => l.path.join("."));
}
