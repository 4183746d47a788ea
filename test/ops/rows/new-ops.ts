/**
 * Rows for the operations added with the scan, sort, indexing, einsum, norm and matrix families, and
 * the new elementwise ones. Inputs avoid the points where an op has a kink (ties for sort and topk, the
 * jumps of mod, the origin for atan2 and the norms); those points have their conventions in
 * `test/ops/conventions.test.ts`.
 */
import {
  argmax,
  argsort,
  atan2,
  bandPart,
  concat,
  cumprod,
  cumsum,
  diag,
  einsum,
  erf,
  gather,
  gatherNd,
  l2Normalize,
  mod,
  norm,
  outer,
  pad,
  reverse,
  scatter,
  segmentSum,
  slice,
  sort,
  tensor,
  topk,
  type Tensor,
} from "../../../src/index.js";
import { distinct, uniform, type GradRow } from "../../helpers/rows.js";

const u = uniform;
/** The tuples `[r, argmax(x[r])]` of a matrix: where each row has its largest value. */
const rowArgmax = (x: Tensor): Tensor =>
  concat([tensor(Array.from({ length: x.shape[0]! }, (_, r) => [r]), { dtype: "int32" }), argmax(x, 1).reshape([-1, 1])], 1);
const at = (v: number[], shape?: number[]): Tensor => tensor(v, { dtype: "float64", ...(shape ? { shape } : {}) });

export const rows: GradRow[] = [
  // elementwise
  { name: "erf", f: (x) => erf(x), inputs: () => [u([2, 3], 101, -2, 2)] },
  // a in (0.1, 0.9) · b and b in [1, 2): a / b stays inside (0, 1), away from the jumps of floor
  { name: "mod [2,3] by [3] (floored)", f: (a, b) => mod(a, b), inputs: () => [u([2, 3], 102, 0.2, 0.8), u([3], 103, 1, 2)] },
  { name: "mod with a negative dividend", f: (a) => mod(a, 2.5), inputs: () => [u([4], 104, -2.4, -0.1)] },
  { name: "atan2 [2,3],[3] in every quadrant", f: (y, x) => atan2(y, x), inputs: () => [at([1, -1, 0.5, -0.3, 2, -2], [2, 3]), at([0.7, -0.4, -1.5])] },
  // scans
  { name: "cumsum axis -1", f: (x) => cumsum(x), inputs: () => [u([2, 4], 105)] },
  { name: "cumsum axis 0 exclusive reverse", f: (x) => cumsum(x, 0, { exclusive: true, reverse: true }), inputs: () => [u([3, 2], 106)] },
  { name: "cumprod axis -1", f: (x) => cumprod(x), inputs: () => [u([2, 5], 107)] },
  { name: "cumprod with zeros in the input", f: (x) => cumprod(x), inputs: () => [at([0.5, 0, 2, 0, -1.5, 3], [2, 3])] },
  { name: "cumprod axis 0 exclusive reverse", f: (x) => cumprod(x, 0, { exclusive: true, reverse: true }), inputs: () => [u([4, 2], 108)] },
  { name: "reverse axes [0, 2]", f: (x) => reverse(x, [0, 2]), inputs: () => [u([2, 2, 3], 109)] },
  // sorting (distinct values: no ties)
  { name: "sort axis -1", f: (x) => sort(x), inputs: () => [distinct([3, 4], 110)] },
  { name: "sort axis 0 descending", f: (x) => sort(x, 0, { descending: true }), inputs: () => [distinct([4, 2], 111)] },
  { name: "topk k=2", f: (x) => topk(x, 2).values, inputs: () => [distinct([2, 5], 112)] },
  // indexing
  { name: "gatherNd tuples of 2 from [3,2,2]", f: (x) => gatherNd(x, [[0, 1], [2, 0], [0, 1]]), inputs: () => [u([3, 2, 2], 113)] },
  { name: "scatter with a repeated index", f: (v) => scatter([[1, 0], [0, 1], [1, 0]], v, [2, 2, 3]), inputs: () => [u([3, 3], 114)] },
  { name: "segmentSum", f: (x) => segmentSum(x, [2, 0, 2, 1], 4), inputs: () => [u([4, 3], 115)] },
  // indices computed from the data (distinct values: no ties), so that a compiled program stages them
  { name: "gatherNd at each row's argmax", f: (x) => gatherNd(x, rowArgmax(x)), inputs: () => [distinct([3, 4], 130)] },
  {
    name: "gatherNd at float tuples (rows sorted by their first column)",
    f: (x) => gatherNd(x, argsort(slice(x, [0, 0], [-1, 1]), 0).cast("float64")),
    inputs: () => [distinct([4, 3], 131)],
  },
  {
    name: "scatter at each row's argmax",
    f: (x, v) => scatter(rowArgmax(x), v.mul(gatherNd(x, rowArgmax(x))), [3, 4]),
    inputs: () => [distinct([3, 4], 132), u([3], 133)],
  },
  { name: "segmentSum by each row's argmax", f: (x) => segmentSum(x, argmax(x, 1), 3), inputs: () => [distinct([5, 3], 134)] },
  { name: "segmentSum by float ids", f: (x) => segmentSum(x.square(), argmax(x, 1).cast("float64"), 4), inputs: () => [distinct([5, 3], 135)] },
  { name: "gather at float indices (each row's argmax)", f: (x) => gather(x, argmax(x, 1).cast("float64"), 1), inputs: () => [distinct([3, 4], 136)] },
  // einsum
  { name: "einsum ij,jk->ik", f: (a, b) => einsum("ij,jk->ik", a, b), inputs: () => [u([2, 3], 116), u([3, 2], 117)] },
  { name: "einsum bij,bjk->bik", f: (a, b) => einsum("bij,bjk->bik", a, b), inputs: () => [u([2, 2, 3], 118), u([2, 3, 2], 119)] },
  { name: "einsum ii (trace)", f: (a) => einsum("ii", a), inputs: () => [u([3, 3], 120)] },
  { name: "einsum ii->i (diagonal)", f: (a) => einsum("ii->i", a), inputs: () => [u([3, 3], 121)] },
  { name: "einsum ij,ij,i->j (three operands)", f: (a, b, c) => einsum("ij,ij,i->j", a, b, c), inputs: () => [u([2, 3], 122), u([2, 3], 123), u([2], 124)] },
  { name: "einsum ...ij,...j->...i (broadcast)", f: (a, b) => einsum("...ij,...j->...i", a, b), inputs: () => [u([2, 2, 3], 125), u([1, 3], 126)] },
  { name: "einsum ijk->kj", f: (a) => einsum("ijk->kj", a), inputs: () => [u([2, 3, 2], 127)] },
  // norms
  { name: "norm 2 of all elements", f: (x) => norm(x), inputs: () => [u([2, 3], 128)] },
  { name: "norm 1 along axis 1", f: (x) => norm(x, 1, 1), inputs: () => [u([2, 3], 129, 0.2, 1).mul(at([1, -1, 1]))] },
  { name: "norm 3 along axis 0", f: (x) => norm(x, 3, 0), inputs: () => [u([3, 2], 130, 0.2, 1)] },
  { name: "norm Infinity (distinct magnitudes)", f: (x) => norm(x, Infinity, -1), inputs: () => [distinct([2, 4], 131, 0.5)] },
  { name: "norm 'fro' over [1, 2]", f: (x) => norm(x, "fro", [1, 2]), inputs: () => [u([2, 2, 3], 132)] },
  { name: "norm 1 of matrices (largest column sum)", f: (x) => norm(x, 1, [0, 1]), inputs: () => [at([1, -2, 3, 0.5, 4, -1], [3, 2])] },
  { name: "norm Infinity of matrices (largest row sum)", f: (x) => norm(x, Infinity, [0, 1]), inputs: () => [at([1, -2, 3, 0.5, 4, -1], [3, 2])] },
  { name: "l2Normalize", f: (x) => l2Normalize(x), inputs: () => [u([2, 3], 133)] },
  // matrices
  { name: "outer", f: (a, b) => outer(a, b), inputs: () => [u([3], 134), u([2], 135)] },
  { name: "diag of a vector, k = 1", f: (v) => diag(v, 1), inputs: () => [u([3], 136)] },
  { name: "diag of a matrix, k = -1", f: (m) => diag(m, -1), inputs: () => [u([3, 4], 137)] },
  { name: "bandPart(1, 0) of a batch", f: (x) => bandPart(x, 1, 0), inputs: () => [u([2, 3, 3], 138)] },
  // mirrored padding
  { name: "pad reflect", f: (x) => pad(x, [[1, 2], [2, 0]], { mode: "reflect" }), inputs: () => [u([3, 3], 139)] },
  { name: "pad symmetric", f: (x) => pad(x, [[2, 1], [0, 2]], { mode: "symmetric" }), inputs: () => [u([2, 3], 140)] },
];
