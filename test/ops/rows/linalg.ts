/** Gradient-check rows for the linear-algebra primitives (`src/ops/linalg.ts`). */
import type { Tensor } from "../../../src/index.js";
import { cholesky, concat, det, inverse, logDet, matmul, qr, solve, tensor, triangularSolve } from "../../../src/index.js";
import { matmulT } from "../../../src/ops/linalg.js";
import { uniform, type GradRow } from "../../helpers/rows.js";

/** A well-conditioned symmetric positive-definite matrix (or stack): `M·Mᵀ + n·I`. */
function spd(shape: readonly number[], seed: number): Tensor {
  const n = shape[shape.length - 1]!;
  const m = uniform(shape, seed);
  const eye = tensor(Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? n : 0)), { shape: [n, n], dtype: "float64" });
  return matmul(m, m.transpose([...shape.slice(0, -2).map((_, i) => i), shape.length - 1, shape.length - 2])).add(eye);
}

/** A well-conditioned general matrix (or stack): uniform entries plus `n` on the diagonal. */
function wellConditioned(shape: readonly number[], seed: number, diagonal = shape[shape.length - 1]!): Tensor {
  const n = shape[shape.length - 1]!;
  const eye = tensor(Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? diagonal : 0)), { shape: [n, n], dtype: "float64" });
  return uniform(shape, seed).add(eye);
}

/** Both QR factors flattened into one tensor, so one row checks both. */
const qrBoth = (a: Tensor): Tensor => {
  const { q, r } = qr(a);
  return concat([q.reshape([-1]), r.reshape([-1])]);
};

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
  { name: "cholesky [3,3] (SPD)", f: (a) => cholesky(a), inputs: () => [spd([3, 3], 31)] },
  { name: "cholesky batched [2,3,3] (SPD)", f: (a) => cholesky(a), inputs: () => [spd([2, 3, 3], 32)] },
  {
    name: "log-determinant through cholesky: 2·Σ log diag(L)",
    f: (a) => cholesky(a).mul(tensor([[1, 0], [0, 1]], { dtype: "float64" })).sum(1).log().sum().mul(2),
    inputs: () => [spd([2, 2], 33)],
  },
  {
    name: "triangularSolve lower [3,3]x[3,2]",
    f: (a, b) => triangularSolve(a, b),
    inputs: () => [wellConditioned([3, 3], 34), uniform([3, 2], 35)],
  },
  {
    name: "triangularSolve upper, transposed, batched [2,3,3]x[2,3,1]",
    f: (a, b) => triangularSolve(a, b, { lower: false, transpose: true }),
    inputs: () => [wellConditioned([2, 3, 3], 36), uniform([2, 3, 1], 37)],
  },
  {
    name: "triangularSolve lower transposed, vector b, broadcast [2,3,3]x[3]",
    f: (a, b) => triangularSolve(a, b, { transpose: true }),
    inputs: () => [wellConditioned([2, 3, 3], 38), uniform([3], 39)],
  },
  { name: "solve [3,3]x[3,2]", f: (a, b) => solve(a, b), inputs: () => [wellConditioned([3, 3], 40), uniform([3, 2], 41)] },
  {
    name: "solve batch broadcast [2,3,3]x[3,1]",
    f: (a, b) => solve(a, b),
    inputs: () => [wellConditioned([2, 3, 3], 42), uniform([3, 1], 43)],
  },
  { name: "solve vector b [2,2]x[2]", f: (a, b) => solve(a, b), inputs: () => [wellConditioned([2, 2], 44), uniform([2], 45)] },
  { name: "inverse [3,3]", f: (a) => inverse(a), inputs: () => [wellConditioned([3, 3], 46)] },
  { name: "inverse batched [2,2,2]", f: (a) => inverse(a), inputs: () => [wellConditioned([2, 2, 2], 47)] },
  { name: "det [3,3]", f: (a) => det(a), inputs: () => [wellConditioned([3, 3], 48)] },
  { name: "det batched [2,2,2], one negative", f: (a) => det(a), inputs: () => [wellConditioned([2, 2, 2], 49, -2)] },
  { name: "logDet [3,3], negative determinant", f: (a) => logDet(a), inputs: () => [wellConditioned([3, 3], 50, -3)] },
  { name: "logDet batched [2,2,2]", f: (a) => logDet(a), inputs: () => [spd([2, 2, 2], 51)] },
  { name: "qr square [3,3]", f: qrBoth, inputs: () => [wellConditioned([3, 3], 52)] },
  { name: "qr tall [4,2]", f: qrBoth, inputs: () => [uniform([4, 2], 53)] },
  { name: "qr tall batched [2,3,2]", f: qrBoth, inputs: () => [uniform([2, 3, 2], 54)] },
  { name: "qr wide [2,4]", f: qrBoth, inputs: () => [uniform([2, 4], 56)] },
  { name: "qr wide batched [2,2,3]", f: qrBoth, inputs: () => [uniform([2, 2, 3], 57)] },
  { name: "qr R only [3,3]", f: (a) => qr(a).r, inputs: () => [wellConditioned([3, 3], 55)] },
];
