/**
 * Derivatives at kinks are conventions: each row states one (documented beside the op) and checks it in
 * every mode. With `u` a cotangent (ones by default) and `1` the all-ones tangent, each row gives
 * - `vjp`: the reverse-mode `uᵀJ` (checked with `pullback`),
 * - `jvp`: the forward-mode `J·1` (checked with `differential`),
 * - `second`: the gradient of `uᵀJ(x)·1` (checked reverse-over-forward and reverse-over-reverse, and its
 *   sum forward-over-forward and forward-over-reverse).
 * Finite differences cannot check these (at a kink they give the average of the two sides), which is why
 * this table exists beside the gradient-check table.
 */
import { describe, expect, test } from "vitest";
import {
  abs,
  atan2,
  ceil,
  clip,
  differential,
  elu,
  floor,
  hingeLoss,
  huberLoss,
  leakyRelu,
  max,
  maximum,
  min,
  minimum,
  pullback,
  relu,
  round,
  sign,
  tensor,
  meanAbsoluteError,
  mod,
  norm,
  sort,
  topk,
  type Tensor,
} from "../../src/index.js";

interface Convention {
  readonly name: string;
  readonly f: (x: Tensor) => Tensor;
  readonly at: number[];
  /** Cotangent for the reverse checks (ones when omitted). */
  readonly u?: number[];
  readonly vjp: number[];
  readonly jvp: number[];
  /** The gradient of uᵀJ(x)·1 (zeros when omitted). */
  readonly second?: number[];
}

const f64 = (v: number[]): Tensor => tensor(v, { dtype: "float64" });
const ones = (n: number): Tensor => f64(new Array<number>(n).fill(1));
/** The elements as numbers, with -0 read as 0 (a convention of 0 is met by either). */
const flat = (t: Tensor): number[] => Array.from(t.reshape([-1]).dataSync(), (v) => v + 0);

/** Equal to float64 rounding: exact where the convention is a whole number, within 1e-12 otherwise. */
function expectClose(actual: number[], expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected[i]!))));
}

const conventions: Convention[] = [
  { name: "relu'(0) = 0", f: relu, at: [-1, 0, 1], vjp: [0, 0, 1], jvp: [0, 0, 1] },
  { name: "abs'(0) = 0", f: abs, at: [-1, 0, 1], vjp: [-1, 0, 1], jvp: [-1, 0, 1] },
  { name: "sign' = 0, also at 0", f: sign, at: [-1, 0, 1], vjp: [0, 0, 0], jvp: [0, 0, 0] },
  { name: "floor' = 0, also at integers", f: floor, at: [-1, 0, 1.5], vjp: [0, 0, 0], jvp: [0, 0, 0] },
  { name: "ceil' = 0, also at integers", f: ceil, at: [-1, 0, 1.5], vjp: [0, 0, 0], jvp: [0, 0, 0] },
  { name: "round' = 0, also at halves", f: round, at: [-0.5, 0.5, 2], vjp: [0, 0, 0], jvp: [0, 0, 0] },
  { name: "maximum(x, 0): a tie goes to the first operand", f: (x) => maximum(x, 0), at: [-1, 0, 1], vjp: [0, 1, 1], jvp: [0, 1, 1] },
  { name: "maximum(0, x): a tie goes to the first operand (the constant)", f: (x) => maximum(0, x), at: [-1, 0, 1], vjp: [0, 0, 1], jvp: [0, 0, 1] },
  { name: "minimum(x, 0): a tie goes to the first operand", f: (x) => minimum(x, 0), at: [-1, 0, 1], vjp: [1, 1, 0], jvp: [1, 1, 0] },
  { name: "maximum(x, x) is x", f: (x) => maximum(x, x), at: [0, 2], vjp: [1, 1], jvp: [1, 1] },
  { name: "clip: 1 on the closed interval", f: (x) => clip(x, -1, 1), at: [-2, -1, 0, 1, 2], vjp: [0, 1, 1, 1, 0], jvp: [0, 1, 1, 1, 0] },
  { name: "max: ties share equally", f: (x) => max(x), at: [1, 3, 3], vjp: [0, 0.5, 0.5], jvp: [1] },
  { name: "max: three-way tie", f: (x) => max(x), at: [2, 2, 2], u: [3], vjp: [1, 1, 1], jvp: [1] },
  { name: "min along an axis: ties share", f: (x) => min(x.reshape([2, 2]), 1), at: [1, 1, 0, 2], u: [2, 4], vjp: [1, 1, 4, 0], jvp: [1, 1] },
  { name: "leakyRelu'(0) is the negative side's slope", f: (x) => leakyRelu(x, 0.1), at: [0], vjp: [0.1], jvp: [0.1] },
  { name: "elu(α = 2)'(0) is the negative side's slope α", f: (x) => elu(x, 2), at: [0], vjp: [2], jvp: [2], second: [2] },
  { name: "hingeLoss at the margin: 0 (relu'(0))", f: (p) => hingeLoss(p, f64([1]), { reduction: "none" }), at: [1], vjp: [0], jvp: [0] },
  { name: "meanAbsoluteError at zero error: 0 (abs'(0))", f: (p) => meanAbsoluteError(p, f64([0, 0])), at: [0, 1], vjp: [0, 0.5], jvp: [0.5] },
  { name: "huberLoss at |d| = δ: the quadratic side", f: (p) => huberLoss(p, f64([0, 0]), { reduction: "sum" }), at: [1, -1], vjp: [1, -1], jvp: [0], second: [1, 1] },
  { name: "atan2 at the origin: 0", f: (x) => atan2(x, 0), at: [0], vjp: [0], jvp: [0] },
  { name: "atan2(0, x) at the origin: 0", f: (x) => atan2(0, x), at: [0], vjp: [0], jvp: [0] },
  { name: "mod(x, 2) at a jump: ∂/∂a = 1", f: (x) => mod(x, 2), at: [2, -2], vjp: [1, 1], jvp: [1, 1] },
  { name: "mod(5, b) at a jump: ∂/∂b = -floor(a / b)", f: (b) => mod(5, b), at: [2.5], vjp: [-2], jvp: [-2] },
  { name: "norm 2 at 0: 0", f: (x) => norm(x), at: [0, 0], vjp: [0, 0], jvp: [0] },
  { name: "norm 2 along an axis, one row 0", f: (x) => norm(x.reshape([2, 2]), 2, 1), at: [0, 0, 3, 4], vjp: [0, 0, 0.6, 0.8], jvp: [0, 1.4], second: [0, 0, 0.032, -0.024] },
  { name: "norm 3 at 0: 0", f: (x) => norm(x, 3), at: [0, 0], vjp: [0, 0], jvp: [0] },
  { name: "norm 1 at 0: 0 (abs'(0))", f: (x) => norm(x, 1), at: [0, 0], vjp: [0, 0], jvp: [0] },
  { name: "sort with ties: stable order decides", f: (x) => sort(x), at: [2, 1, 2], u: [10, 20, 30], vjp: [20, 10, 30], jvp: [1, 1, 1] },
  { name: "topk with ties: the lower index first", f: (x) => topk(x, 2).values, at: [1, 5, 3, 5], u: [10, 20], vjp: [0, 10, 0, 20], jvp: [1, 1] },
];

describe.each(conventions)("$name", (c) => {
  const x = (): Tensor => f64(c.at);
  const n = c.at.length;
  const outSize = c.jvp.length;
  const u = (): Tensor => f64(c.u ?? new Array<number>(outSize).fill(1));
  const uLike = (y: Tensor): Tensor => u().reshape(y.shape);
  const jvpOf = (z: Tensor): Tensor => differential(z, c.f)(ones(n));
  const vjpOf = (z: Tensor): Tensor => pullback(z, c.f)(uLike(c.f(z)));
  const second = c.second ?? new Array<number>(n).fill(0);

  test("reverse mode", () => {
    expectClose(flat(vjpOf(x())), c.vjp);
  });
  test("forward mode", () => {
    expectClose(flat(jvpOf(x())), c.jvp);
  });
  test("second order, reverse over forward and reverse over reverse", () => {
    const overForward = pullback(x(), (z: Tensor) => jvpOf(z).mul(uLike(jvpOf(z))).sum())(1);
    const overReverse = pullback(x(), (z: Tensor) => vjpOf(z).sum())(1);
    expectClose(flat(overForward), second);
    expectClose(flat(overReverse), second);
  });
  test("second order, forward over forward and forward over reverse", () => {
    const total = second.reduce((a, b) => a + b, 0);
    const ff = differential(x(), (z: Tensor) => jvpOf(z).mul(uLike(jvpOf(z))).sum())(ones(n));
    const fr = differential(x(), (z: Tensor) => vjpOf(z).sum())(ones(n));
    expectClose([ff.item()], [total]);
    expectClose([fr.item()], [total]);
  });
});
