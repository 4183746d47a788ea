/** Gradient-check rows for the linear-algebra primitives (`src/ops/linalg.ts`). */
import type { Tensor } from "../../../src/index.js";
import { matmul } from "../../../src/index.js";
import { matmulT } from "../../../src/ops/linalg.js";
import { uniform, type GradRow } from "../../helpers/rows.js";

const mm = (a: Tensor, b: Tensor): Tensor => matmul(a, b);

export const rows: GradRow[] = [
  { name: "matmul [2,3]x[3,4]", f: mm, inputs: () => [uniform([2, 3], 1), uniform([3, 4], 2)] },
  { name: "matmul [3]x[3] (inner product)", f: mm, inputs: () => [uniform([3], 3), uniform([3], 4)] },
  { name: "matmul [3]x[3,2] (vector on the left)", f: mm, inputs: () => [uniform([3], 5), uniform([3, 2], 6)] },
  { name: "matmul [2,2,3]x[3] (vector on the right)", f: mm, inputs: () => [uniform([2, 2, 3], 7), uniform([3], 8)] },
  { name: "matmul [2,2,3]x[3,2] (stack times matrix)", f: mm, inputs: () => [uniform([2, 2, 3], 9), uniform([3, 2], 10)] },
  {
    name: "matmul [2,1,2,3]x[3,3,2] (batch broadcast both ways)",
    f: mm,
    inputs: () => [uniform([2, 1, 2, 3], 11), uniform([3, 3, 2], 12)],
  },
  { name: "matmul [2,3]x[2,3,2] (matrix times stack)", f: mm, inputs: () => [uniform([2, 3], 13), uniform([2, 3, 2], 14)] },
  {
    name: "matmul primitive, A·Bᵀ [2,3]x[4,3]",
    f: (a, b) => matmulT(a, b, false, true),
    inputs: () => [uniform([2, 3], 15), uniform([4, 3], 16)],
  },
  {
    name: "matmul primitive, Aᵀ·B [3,2]x[3,4]",
    f: (a, b) => matmulT(a, b, true, false),
    inputs: () => [uniform([3, 2], 17), uniform([3, 4], 18)],
  },
  {
    name: "matmul primitive, Aᵀ·Bᵀ batched [2,3,2]x[1,4,3]",
    f: (a, b) => matmulT(a, b, true, true),
    inputs: () => [uniform([2, 3, 2], 19), uniform([1, 4, 3], 20)],
  },
  {
    name: "matmul composed: (A·B)·A [2,2]x[2,2]",
    f: (a, b) => matmul(matmul(a, b), a),
    inputs: () => [uniform([2, 2], 21), uniform([2, 2], 22)],
  },
];
