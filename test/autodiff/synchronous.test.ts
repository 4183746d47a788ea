/**
 * Derivatives are taken of synchronous code: an `async` function, or a function returning a Promise, given to
 * any differential operator is an error at the call, naming the operator, not a broken Promise later.
 */
import { describe, expect, test } from "vitest";
import {
  tensor, Tensor, gradient, valueWithGradient, pullback, valueWithPullback, differential, valueWithDifferential,
  derivative, valueWithDerivative, gradientOf, derivativeOf, jacobian, hessian, checkGradients, customDerivative,
  withRecomputationInPullbacks, withDerivative,
} from "../../src/index.js";
import { currentLevel } from "../../src/autodiff/trace.js";

const x = tensor([1, 2]);
const asyncF = async (v: Tensor): Promise<Tensor> => {
  await Promise.resolve();
  return v.sum();
};
// A plain function that returns a promise: caught once it has returned.
const promiseF = (v: Tensor): Promise<Tensor> => Promise.resolve(v.sum());
const untyped = <F>(f: F) => f as never;

const operators: Record<string, (f: never) => unknown> = {
  gradient: (f) => gradient(x, f),
  valueWithGradient: (f) => valueWithGradient(x, f),
  pullback: (f) => pullback(x, f),
  valueWithPullback: (f) => valueWithPullback(x, f),
  differential: (f) => differential(x, f),
  valueWithDifferential: (f) => valueWithDifferential(x, f),
  derivative: (f) => derivative(1, f),
  valueWithDerivative: (f) => valueWithDerivative(1, f),
  gradientOf: (f) => gradientOf(f)(x),
  derivativeOf: (f) => derivativeOf(f)(1),
  jacobian: (f) => jacobian(x, f),
  hessian: (f) => hessian(x, f),
  checkGradients: (f) => checkGradients(f, [x]),
};

describe.each(Object.entries(operators))("%s", (name, run) => {
  test("rejects an async function before running it", () => {
    let ran = false;
    const f = async (v: Tensor): Promise<Tensor> => {
      ran = true;
      return Promise.resolve(v.sum());
    };
    expect(() => run(untyped(f))).toThrow(
      `${name}: the function is an async function, which cannot be differentiated: derivatives follow the operations run before ` +
        `the operator returns. Await the data first (e.g. const x = await load()), then pass a synchronous function`,
    );
    expect(ran).toBe(false);
    expect(currentLevel()).toBe(0);
  });
  test("rejects a returned Promise", () => {
    expect(() => run(untyped(promiseF))).toThrow(new RegExp(`^${name}: the function returned a Promise, which cannot be differentiated`));
    expect(currentLevel()).toBe(0);
  });
});

describe("custom rules", () => {
  test("async functions and rules are rejected where they are given", () => {
    expect(() => customDerivative(untyped(asyncF), { vjp: (v: Tensor) => ({ value: v, pullback: (c: Tensor) => c }) })).toThrow(
      /^customDerivative\(asyncF\): the function is an async function/,
    );
    expect(() => customDerivative((v: Tensor) => v, { jvp: untyped(async (v: Tensor) => Promise.resolve({ value: v, differential: (d: Tensor) => d })) })).toThrow(
      /^customDerivative\(anonymous\): the jvp rule is an async function/,
    );
    expect(() => withRecomputationInPullbacks(untyped(asyncF))).toThrow(/^withRecomputationInPullbacks\(asyncF\): the function is an async function/);
    expect(() => withDerivative(x, untyped(async (g: Tensor) => Promise.resolve(g)))).toThrow(/^withDerivative: the hook is an async function/);
  });
  test("a rule returning a Promise is caught when it is used", () => {
    const late = customDerivative((v: Tensor) => v, { vjp: untyped((v: Tensor) => Promise.resolve({ value: v, pullback: (c: Tensor) => c })) });
    expect(() => gradient(x, (v) => late(v).sum())).toThrow(/^customDerivative\(anonymous\): the vjp rule returned a Promise/);
    const latePullback = customDerivative((v: Tensor) => v, { vjp: (v) => ({ value: v, pullback: untyped((c: Tensor) => Promise.resolve(c)) }) });
    expect(() => gradient(x, (v) => latePullback(v).sum())).toThrow(/^customDerivative\(anonymous\): the vjp rule's pullback returned a Promise/);
  });
});
