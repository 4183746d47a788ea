/**
 * Rows AT special points where the function is smooth but is easily assembled from kinked pieces (0 for
 * softplus, zero error for the smooth losses, logits of exactly 0, x^n at 0, zeros inside products): finite
 * differences are valid there, so the checker holds the derivatives to the true values, first and second
 * order, both modes. Kinks themselves have conventions, not derivatives: `test/ops/conventions.test.ts`.
 */
import {
  tensor,
  elu,
  erf,
  huberLoss,
  logCoshLoss,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
  squaredHingeLoss,
  gelu,
  swish,
  type Tensor,
} from "../../../src/index.js";
import type { GradRow } from "../../helpers/rows.js";

const at = (v: number[]): Tensor => tensor(v, { dtype: "float64" });
const zero = (shape: number[]): Tensor => tensor(new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(0), { shape, dtype: "float64" });

export const rows: GradRow[] = [
  { name: "softplus at 0 (and ±1e-3)", f: (x) => x.softplus(), inputs: () => [at([0, 1e-3, -1e-3])] },
  { name: "erf at 0", f: (x) => erf(x), inputs: () => [at([0, 0.5, -2])] },
  { name: "gelu at 0", f: (x) => gelu(x), inputs: () => [at([0, -0.5])] },
  { name: "swish at 0", f: (x) => swish(x), inputs: () => [at([0])] },
  { name: "logCoshLoss at zero error", f: (p) => logCoshLoss(p, at([0, 0.5])), inputs: () => [at([0, 0.5])] },
  { name: "huberLoss at zero error", f: (p) => huberLoss(p, at([0, 1, 0])), inputs: () => [at([0, 1, 0.3])] },
  {
    name: "sigmoidCrossEntropy at logits exactly 0",
    f: (x) => sigmoidCrossEntropy(x, at([0, 1, 0.25, 0.75])),
    inputs: () => [zero([4])],
  },
  { name: "softmaxCrossEntropy at logits exactly 0", f: (x) => softmaxCrossEntropy(x, at([0.2, 0.3, 0.5, 1, 0, 0]).reshape([2, 3])), inputs: () => [zero([2, 3])] },
  // elu with α = 1 is C¹ at 0 (both sides have slope 1); its second derivative jumps there.
  { name: "elu (α = 1) at 0", f: (x) => elu(x), inputs: () => [at([0])], firstOrderOnly: true },
  { name: "sigmoidCrossEntropy in the labels at logits 0", f: (z) => sigmoidCrossEntropy(zero([2]), z), inputs: () => [at([0.3, 0.9])] },
  // C¹ at the margin (its second derivative jumps there), so first order only; a small step because the
  // central difference of max(0, h)² at h = 0 is off by step / 2.
  {
    name: "squaredHingeLoss at the margin",
    f: (p) => squaredHingeLoss(p, at([1, -1])),
    inputs: () => [at([1, -1])],
    firstOrderOnly: true,
    options: { eps: 1e-8 },
  },
  { name: "pow(x, 2) at 0", f: (x) => x.pow(2), inputs: () => [at([0, 0.5])] },
  { name: "pow(x, 3) at 0", f: (x) => x.pow(3), inputs: () => [at([0])] },
  { name: "pow(x, 1) at 0", f: (x) => x.pow(1), inputs: () => [at([0, -0.5])] },
  { name: "pow(x, 0) at 0", f: (x) => x.pow(0), inputs: () => [at([0, 2])] },
  { name: "x * x at 0", f: (x) => x.mul(x), inputs: () => [at([0])] },
  { name: "prod with one zero", f: (x) => x.prod(), inputs: () => [at([0, 2, 3])] },
  { name: "prod with two zeros", f: (x) => x.prod(), inputs: () => [at([0, 0, 3])] },
  { name: "prod axis 1 with zeros in some rows", f: (x) => x.prod(1), inputs: () => [at([0, 2, 0.5, 1, -1, 3]).reshape([2, 3])] },
  { name: "logSumExp of equal entries", f: (x) => x.logSumExp(), inputs: () => [at([0, 0, 0])] },
  { name: "softmax of equal entries", f: (x) => x.softmax(), inputs: () => [at([1, 1, 1])] },
];
