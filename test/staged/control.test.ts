/**
 * Staged control flow: `cond` and `fori` trace their branches and bodies once, run them when the program
 * runs, and are differentiable (finite differences, both modes, second order); plain recursion unrolls.
 */
import { describe, expect, test } from "vitest";
import { checkGradients, compile, cond, fori, gradient, tensor, Tensor } from "../../src/index.js";
import { uniform } from "../helpers/rows.js";

const arr = (t: Tensor): number[] => Array.from(t.dataSync());

describe("cond", () => {
  const f = (x: Tensor): Tensor => cond(x.sum().greater(0), (y: Tensor) => y.square().mul(3), (y: Tensor) => y.sin().neg(), x);

  test("both branches are traced once; the predicate is read when the program runs", () => {
    const c = compile(f);
    expect(arr(c(tensor([1, 2])))).toEqual(arr(f(tensor([1, 2]))));
    expect(arr(c(tensor([-1, -2])))).toEqual(arr(f(tensor([-1, -2]))));
    expect(c.stats.traces).toBe(1);
    const text = c.inspect(tensor([1, 2])).program;
    expect(text).toMatch(/= call \[programs=<2 programs> select=true\]/);
  });

  test("outside compile it is an if", () => {
    expect(arr(f(tensor([1, 2])))).toEqual([3, 12]);
    expect(cond(true, () => 1, () => 2)).toBe(1);
  });

  test("differentiable on each side, forward and reverse, to second order", () => {
    const c = compile(f);
    for (const x of [uniform([3], 1, 0.2, 1), uniform([3], 2, -1, -0.2)]) {
      expect(checkGradients(c, [x]).maxError).toBeLessThanOrEqual(1);
      expect(arr(compile((y: Tensor) => gradient(y, (z) => f(z).sum()))(x))).toEqual(arr(gradient(x, (z) => f(z).sum())));
    }
  });

  test("branches may capture staged values and return structures", () => {
    const g = compile((x: Tensor, k: Tensor) => cond(k.greater(0), () => ({ a: x.mul(k), b: [x] }), () => ({ a: x.neg(), b: [k.add(x)] })));
    const r = g(tensor([1, 2]), 3);
    expect(arr(r.a)).toEqual([3, 6]);
    expect(arr(g(tensor([1, 2]), -1).b[0]!)).toEqual([0, 1]);
  });

  test("branches of different shapes are an error naming both", () => {
    const bad = compile((x: Tensor) => cond(x.sum().greater(0), () => x, () => x.sum()));
    expect(() => bad(tensor([1, 2]))).toThrow(/cond: the branches return different structures, shapes or dtypes \(\(f32\[2\]\) when true, \(f32\[\]\) when false\)/);
  });

  test("a predicate with several elements is an error saying how to reduce it", () => {
    expect(() => compile((x: Tensor) => cond(x.greater(0), () => x, () => x))(tensor([1, 2]))).toThrow(/one element.*x\.max\(\)/);
  });
});

describe("fori", () => {
  const power = (x: Tensor): Tensor => fori(10, x, (_i, y) => y.mul(x));

  test("the body is traced once whatever the trip count, and matches the eager loop", () => {
    const c = compile(power);
    expect(c(tensor(2)).item()).toBe(2048);
    expect(c.inspect(tensor(2)).program.split("\n").filter((l) => l.includes(" = ")).length).toBeLessThan(4);
    const many = compile((x: Tensor) => fori(1000, x, (i, y) => y.add(i.cast("float32").mul(1e-3))));
    expect(many(tensor(0)).item()).toBeCloseTo(499.5, 3);
  });

  test("a structured state, the index as a tensor", () => {
    const fib = compile((a: Tensor, b: Tensor) => fori(10, { a, b }, (_i, s) => ({ a: s.b, b: s.a.add(s.b) })));
    const r = fib(tensor(0), tensor(1));
    expect([r.a.item(), r.b.item()]).toEqual([55, 89]);
  });

  test("differentiable, forward and reverse, to second order", () => {
    const c = compile(power);
    expect(checkGradients(c, [uniform([2], 3, 0.5, 1.2)]).maxError).toBeLessThanOrEqual(1);
    const x = tensor(1.1, { dtype: "float64" });
    expect(gradient(x, c).item()).toBeCloseTo(11 * 1.1 ** 10, 9);
    expect(compile((y: Tensor) => gradient(y, power))(x).item()).toBeCloseTo(11 * 1.1 ** 10, 9);
  });

  test("a body changing the state's shape is an error", () => {
    expect(() => compile((x: Tensor) => fori(2, x, (_i, y) => y.sum()))(tensor([1, 2]))).toThrow(/fori: the body must return a state of the same structure/);
  });
});

test("plain recursion unrolls while tracing (the staged Y combinator): a finite program", () => {
  const horner = (coeffs: number[], x: Tensor): Tensor =>
    coeffs.length === 1 ? x.mul(0).add(coeffs[0]!) : horner(coeffs.slice(1), x).mul(x).add(coeffs[0]!);
  const c = compile((x: Tensor) => horner([1, 2, 3, 4], x));
  expect(arr(c(tensor([2])))).toEqual([1 + 2 * 2 + 3 * 4 + 4 * 8]);
  expect(c.inspect(tensor([2])).program).not.toContain("call");
  expect(checkGradients(c, [uniform([2], 4)]).maxError).toBeLessThanOrEqual(1);
});
