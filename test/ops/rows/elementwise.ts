import { where, type Tensor } from "../../../src/index.js";
import { uniform, type GradRow } from "../../helpers/rows.js";

const u = uniform;
/** Positive inputs, for ops defined on (0, ∞). */
const pos = (shape: number[], seed: number): Tensor => uniform(shape, seed, 0.5, 2);

export const rows: GradRow[] = [
  // unary primitives
  { name: "neg", f: (x) => x.neg(), inputs: () => [u([2, 3], 1)] },
  { name: "exp", f: (x) => x.exp(), inputs: () => [u([2, 3], 2)] },
  { name: "log", f: (x) => x.log(), inputs: () => [pos([4], 3)] },
  { name: "log1p", f: (x) => x.log1p(), inputs: () => [pos([4], 4)] },
  { name: "expm1", f: (x) => x.expm1(), inputs: () => [u([4], 5)] },
  { name: "sqrt", f: (x) => x.sqrt(), inputs: () => [pos([3], 6)] },
  { name: "abs", f: (x) => x.abs(), inputs: () => [pos([3], 7).mul(uniform([3], 8).sign())] },
  { name: "sin", f: (x) => x.sin(), inputs: () => [u([3], 9)] },
  { name: "cos", f: (x) => x.cos(), inputs: () => [u([3], 10)] },
  { name: "tan", f: (x) => x.tan(), inputs: () => [u([3], 11)] },
  { name: "tanh", f: (x) => x.tanh(), inputs: () => [u([3], 12)] },
  { name: "sigmoid", f: (x) => x.sigmoid(), inputs: () => [u([3], 13, -3, 3)] },
  { name: "relu (away from 0)", f: (x) => x.relu(), inputs: () => [pos([4], 14).mul(uniform([4], 15).sign())] },
  { name: "softplus", f: (x) => x.softplus(), inputs: () => [u([4], 16, -3, 3)] },
  {
    name: "cast float64→float32→float64 (float32 rounding: a wider step and tolerance)",
    f: (x) => x.cast("float32").square().cast("float64"),
    inputs: () => [u([3], 18)],
    options: { eps: 1e-2, atol: 1e-4, rtol: 1e-4 },
  },
  { name: "rsqrt", f: (x) => x.rsqrt(), inputs: () => [pos([3], 17)] },
  // binary primitives, with broadcasting
  { name: "add [2,3]+[3]", f: (a, b) => a.add(b), inputs: () => [u([2, 3], 20), u([3], 21)] },
  { name: "sub [2,1]-[1,3]", f: (a, b) => a.sub(b), inputs: () => [u([2, 1], 22), u([1, 3], 23)] },
  { name: "mul [2,3]*[2,1]", f: (a, b) => a.mul(b), inputs: () => [u([2, 3], 24), u([2, 1], 25)] },
  { name: "div [3]/[2,3]", f: (a, b) => a.div(b), inputs: () => [u([3], 26), pos([2, 3], 27)] },
  { name: "pow [3]^[3]", f: (a, b) => a.pow(b), inputs: () => [pos([3], 28), u([3], 29)] },
  { name: "pow [3]^2 (number)", f: (a) => a.pow(2), inputs: () => [u([3], 30)] },
  { name: "maximum [2,3],[3]", f: (a, b) => a.maximum(b), inputs: () => [u([2, 3], 31), u([3], 32)] },
  { name: "minimum [3],[2,3]", f: (a, b) => a.minimum(b), inputs: () => [u([3], 33), u([2, 3], 34)] },
  { name: "where", f: (a, b) => where(a.greater(0), a, b), inputs: () => [u([2, 3], 35), u([3], 36)] },
  { name: "clip", f: (a) => a.clip(-0.5, 0.5), inputs: () => [u([5], 37)] },
  // reductions
  { name: "sum all", f: (x) => x.sum(), inputs: () => [u([2, 3], 40)] },
  { name: "sum axis 0 keepDims", f: (x) => x.sum(0, true), inputs: () => [u([2, 3], 41)] },
  { name: "sum axes [0,2]", f: (x) => x.sum([0, 2]), inputs: () => [u([2, 3, 2], 42)] },
  { name: "mean axis -1", f: (x) => x.mean(-1), inputs: () => [u([2, 3], 43)] },
  { name: "max axis 1", f: (x) => x.max(1), inputs: () => [u([3, 4], 44)] },
  { name: "min all", f: (x) => x.min(), inputs: () => [u([3, 4], 45)] },
  { name: "prod axis 1", f: (x) => x.prod(1), inputs: () => [u([2, 3], 46)] },
  { name: "logSumExp axis 1", f: (x) => x.logSumExp(1), inputs: () => [u([2, 4], 47, -3, 3)] },
  { name: "softmax", f: (x) => x.softmax(), inputs: () => [u([2, 4], 48, -3, 3)] },
  { name: "logSoftmax axis 0", f: (x) => x.logSoftmax(0), inputs: () => [u([3, 2], 49, -3, 3)] },
];
