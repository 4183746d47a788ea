/** Activations against plain definitions written here, and their derivatives against finite differences. */
import { describe, expect, test } from "vitest";
import { checkGradients, elu, gelu, identity, leakyRelu, logSoftmax, relu, selu, sigmoid, silu, softmax, softplus, swish, tanh, tensor, Dense, type Activation } from "../../src/index.js";

interface Row {
  readonly name: string;
  readonly f: Activation;
  readonly plain: (x: number) => number;
}

/** erf by its Taylor series (80 terms: accurate to ~1e-14 for |z| <= 3), a reference independent of the library. */
const erfSeries = (z: number): number => {
  let sum = 0;
  let term = z;
  for (let n = 0; n < 80; n++) {
    sum += term / (2 * n + 1);
    term *= (-z * z) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
};

const SELU_A = 1.6732632423543772848170429916717;
const SELU_L = 1.0507009873554804934193349852946;
const rows: Row[] = [
  { name: "identity", f: identity, plain: (x) => x },
  { name: "relu", f: relu, plain: (x) => Math.max(x, 0) },
  { name: "leakyRelu", f: leakyRelu, plain: (x) => (x > 0 ? x : 0.01 * x) },
  { name: "leakyRelu(0.2)", f: (x) => leakyRelu(x, 0.2), plain: (x) => (x > 0 ? x : 0.2 * x) },
  { name: "elu", f: elu, plain: (x) => (x > 0 ? x : Math.expm1(x)) },
  { name: "selu", f: selu, plain: (x) => SELU_L * (x > 0 ? x : SELU_A * Math.expm1(x)) },
  { name: "gelu (exact)", f: gelu, plain: (x) => 0.5 * x * (1 + erfSeries(x / Math.SQRT2)) },
  { name: "gelu (tanh)", f: (x) => gelu(x, true), plain: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))) },
  { name: "sigmoid", f: sigmoid, plain: (x) => 1 / (1 + Math.exp(-x)) },
  { name: "tanh", f: tanh, plain: Math.tanh },
  { name: "swish", f: swish, plain: (x) => x / (1 + Math.exp(-x)) },
  { name: "silu", f: silu, plain: (x) => x / (1 + Math.exp(-x)) },
  { name: "softplus", f: softplus, plain: (x) => Math.log1p(Math.exp(x)) },
];

const points = [-3.1, -1.2, -0.4, 0.3, 0.9, 2.6];

describe.each(rows)("$name", ({ f, plain }) => {
  test("matches the plain definition", () => {
    const y = f(tensor(points, { dtype: "float64" })).toArray() as number[];
    y.forEach((v, i) => expect(v).toBeCloseTo(plain(points[i]!), 12));
  });
  test("derivatives of order 1 and 2 match finite differences", () => {
    checkGradients((x) => f(x), [tensor(points, { dtype: "float64" })], { order: 2 });
  });
  test("usable as a Dense activation", () => {
    const d = new Dense({ inputSize: 2, outputSize: 2, activation: f, seed: 0 });
    expect(d.callAsFunction(tensor([[1, -1]])).shape).toEqual([1, 2]);
  });
});

test("gelu's tanh form is within 1e-3 of the exact x·Φ(x), and not equal to it", () => {
  const xs = Array.from({ length: 41 }, (_, i) => -4 + i * 0.2);
  const exact = gelu(tensor(xs, { dtype: "float64" })).toArray() as number[];
  const approx = gelu(tensor(xs, { dtype: "float64" }), true).toArray() as number[];
  xs.forEach((x, i) => expect(Math.abs(exact[i]! - 0.5 * x * (1 + erfSeries(x / Math.SQRT2)))).toBeLessThan(1e-13));
  const gap = Math.max(...xs.map((_, i) => Math.abs(approx[i]! - exact[i]!)));
  expect(gap).toBeLessThan(1e-3);
  expect(gap).toBeGreaterThan(1e-5);
});

test("elu has finite derivatives for huge inputs (no overflow in the unused branch)", () => {
  checkGradients((x) => elu(x), [tensor([-800, 800], { dtype: "float64" })], { order: 1 });
});

test("softmax and logSoftmax act along the last axis and stay finite at ±1e4", () => {
  const x = tensor([[1e4, -1e4, 0]], { dtype: "float64" });
  expect(softmax(x).toArray()).toEqual([[1, 0, 0]]);
  const l = logSoftmax(x).toArray() as number[][];
  expect(l[0]![0]).toBe(0);
  expect(l[0]![1]).toBe(-2e4);
  expect(Number.isFinite(l[0]![2])).toBe(true);
  const s = softmax(tensor([[1, 2], [3, 3]], { dtype: "float64" }));
  expect((s.sum(-1).toArray() as number[]).map((v) => Math.round(v * 1e12) / 1e12)).toEqual([1, 1]);
});
