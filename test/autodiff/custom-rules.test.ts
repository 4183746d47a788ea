/**
 * What user-supplied rules return is checked in both modes, with messages that name the rule, the input
 * and the fix; a number stays accepted where a one-element tensor's tangent is expected (DESIGN 1.2).
 */
import { describe, expect, test } from "vitest";
import {
  tensor, zeros, ones, Tensor, gradient, pullback, derivative, differential, valueWithDifferential, jacobian,
  customDerivative, withDerivative, withRecomputationInPullbacks,
} from "../../src/index.js";

const f64 = (v: number | number[]): Tensor => tensor(v, { dtype: "float64" });
/** A custom `2x` whose jvp rule's differential is `d`. */
const withJvp = (d: (dx: Tensor) => unknown): ((x: Tensor) => Tensor) =>
  customDerivative((x: Tensor) => x.mul(2), { jvp: (x) => ({ value: x.mul(2), differential: d as (dx: Tensor) => Tensor }) });
/** A custom `2x` whose vjp rule's pullback is `p`. */
const withVjp = (p: (ct: Tensor) => unknown): ((x: Tensor) => Tensor) =>
  customDerivative((x: Tensor) => x.mul(2), { vjp: (x) => ({ value: x.mul(2), pullback: p as (ct: Tensor) => Tensor }) });

/** Every forward-mode way to reach a jvp rule: streaming (derivative) and linearized (differential, jacobian). */
const forwardModes = {
  derivative: (g: (x: Tensor) => Tensor, at: Tensor) => derivative(at, (x) => g(x).sum()),
  differential: (g: (x: Tensor) => Tensor, at: Tensor) => differential(at, (x) => g(x).sum())(ones(at.shape)),
  jacobian: (g: (x: Tensor) => Tensor, at: Tensor) => jacobian(at, (x) => g(x)),
};

describe("jvp rules, in every forward mode", () => {
  test.each(Object.entries(forwardModes))("%s: the rule, not the function, gives the derivative", (_, run) => {
    // The function is 2x; the rule says 5: every forward mode must use the rule.
    const ruled = withJvp((dx) => dx.mul(5));
    expect((run(ruled, tensor([3]))).toArray()).toEqual((run((x) => x.mul(5), tensor([3]))).toArray());
    expect((run(ruled, tensor([3]))).dataSync()).toEqual(Float32Array.of(5));
  });
  test("a jvp rule alone still gives reverse mode, through the function", () => {
    const ruled = withJvp((dx) => dx.mul(5));
    expect(gradient(tensor([3, 4]), (x) => ruled(x).sum()).toArray()).toEqual([2, 2]);
    // d/dx (2x)² = 8x at 3.
    expect(pullback(tensor([3]), (x) => ruled(x).square())(tensor([1])).toArray()).toEqual([24]);
  });
  test.each(Object.entries(forwardModes))("%s: a differential of the wrong shape is an error, not a wrong number", (_, run) => {
    const bad = withJvp((dx) => dx.mul(2).broadcastTo([3, 1]).reshape([3]));
    expect(() => run(bad, tensor([1]))).toThrow(
      "customDerivative(anonymous): the jvp rule's differential returned shape [3] for the output, which has shape [1]; return a Tensor of shape [1] and dtype float32 (zeros(shape) for a zero)",
    );
  });
  test.each(Object.entries(forwardModes))("%s: a differential returning undefined is an error, not zero", (_, run) => {
    expect(() => run(withJvp(() => undefined), tensor([1]))).toThrow(
      "customDerivative(anonymous): the jvp rule's differential returned undefined for the output; return a Tensor of shape [1] and dtype float32 (zeros(shape) for a zero)",
    );
  });
  test("a differential of the wrong dtype is an error naming the cast", () => {
    expect(() => derivative(tensor([1]), (x) => withJvp((dx) => dx.cast("float64"))(x))).toThrow(
      /returned dtype float64 for the output, which is float32; .*\(e\.g\. \.cast\("float32"\)\)/,
    );
  });
  test("a number is accepted for a one-element output, not for a larger one", () => {
    expect(derivative(3, (x) => withJvp(() => 5)(x)).item()).toBe(5);
    const named = customDerivative(function double(x: Tensor) { return x.mul(2); }, {
      jvp: (x) => ({ value: x.mul(2), differential: () => 5 as unknown as Tensor }),
    });
    expect(() => differential(tensor([1, 2]), named)(tensor([1, 1]))).toThrow(
      "customDerivative(double): the jvp rule's differential returned the number 5 for the output, which has shape [2]",
    );
  });
  test("the rule's own result is checked: an object with a Tensor value and a differential", () => {
    const noValue = customDerivative((x: Tensor) => x, { jvp: () => ({ differential: (dx: Tensor) => dx }) as never });
    expect(() => derivative(1, noValue)).toThrow(/the jvp rule must return \{ value: Tensor, differential: .* its value is undefined/);
    const noDiff = customDerivative((x: Tensor) => x, { jvp: (x) => ({ value: x }) as never });
    expect(() => derivative(1, noDiff)).toThrow(/the jvp rule must return .*; its differential is undefined/);
    const numberValue = customDerivative((x: Tensor) => x, { jvp: () => ({ value: 3, differential: (dx: Tensor) => dx }) as never });
    expect(() => derivative(1, numberValue)).toThrow(/its value is the number 3, return the function's output as a Tensor/);
    const nothing = customDerivative((x: Tensor) => x, { jvp: () => undefined as never });
    expect(() => derivative(1, nothing)).toThrow(/the jvp rule must return \{ value: Tensor, differential: .*\}, got undefined/);
  });
});

describe("vjp rules", () => {
  test("a number is accepted for a one-element input (DESIGN 1.2)", () => {
    expect(gradient(3, (x) => withVjp(() => 7)(x).sum())).toBe(7);
    expect(gradient(tensor([[3]]), (x) => withVjp(() => 7)(x).sum()).toArray()).toEqual([[7]]);
  });
  test("a number for a larger input is a clear error, not a raw TypeError", () => {
    expect(() => gradient(tensor([1, 2]), (x) => withVjp(() => 7)(x).sum())).toThrow(
      "customDerivative(anonymous): the vjp rule's pullback returned the number 7 for input 0, which has shape [2]; return a Tensor of shape [2] and dtype float32 (or null for a zero)",
    );
  });
  test("undefined is a clear error; null is a zero", () => {
    expect(() => gradient(tensor([1, 2]), (x) => withVjp(() => undefined)(x).sum())).toThrow(
      "customDerivative(anonymous): the vjp rule's pullback returned undefined for input 0; return a Tensor of shape [2] and dtype float32 (or null for a zero)",
    );
    expect(gradient(tensor([1, 2]), (x) => withVjp(() => null)(x).sum()).toArray()).toEqual([0, 0]);
  });
  test("a cotangent of the wrong dtype is an error", () => {
    expect(() => gradient(tensor([1, 2]), (x) => withVjp((ct) => ct.cast("float64"))(x).sum())).toThrow(
      /the vjp rule's pullback returned dtype float64 for input 0, which is float32; .*\.cast\("float32"\)/,
    );
    expect(() => pullback(f64([1, 2]), (x) => withVjp((ct) => ct.cast("float32"))(x))(f64([1, 1]))).toThrow(/returned dtype float32 for input 0, which is float64/);
  });
  test("several inputs: one cotangent per input, in a tuple", () => {
    const mul = (p: (ct: Tensor, a: Tensor, b: Tensor) => unknown) =>
      customDerivative((a: Tensor, b: Tensor) => a.mul(b), { vjp: (a, b) => ({ value: a.mul(b), pullback: (ct) => p(ct, a, b) as [Tensor, Tensor] }) });
    const a = tensor([1, 2]);
    const b = tensor([3, 4]);
    const run = (m: (a: Tensor, b: Tensor) => Tensor) => gradient(a, b, (x, y) => m(x, y).sum());
    expect(run(mul((ct, x, y) => [ct.mul(y), ct.mul(x)])).map((g) => g.toArray())).toEqual([[3, 4], [1, 2]]);
    expect(run(mul((ct, x) => [null, ct.mul(x)])).map((g) => g.toArray())).toEqual([[0, 0], [1, 2]]);
    expect(() => run(mul((ct) => [ct]))).toThrow(
      "customDerivative(anonymous): the vjp rule's pullback returned 1 cotangents for 2 inputs; return one per input, in order (null for a zero)",
    );
    expect(() => run(mul((ct) => ct))).toThrow(
      /the vjp rule's pullback returned a Tensor of shape \[2\] and dtype float32 for 2 inputs; return an array of 2 cotangents/,
    );
    expect(() => run(mul((ct) => [ct, zeros([3])]))).toThrow(/returned shape \[3\] for input 1, which has shape \[2\]/);
    expect(() => run(mul((ct) => [ct, undefined]))).toThrow(/returned undefined for input 1/);
  });
  test("an int32 input gets no cotangent, whatever the rule gives for it", () => {
    const scaleBy = customDerivative((x: Tensor, k: Tensor) => x.mul(k), {
      vjp: (x, k) => ({ value: x.mul(k), pullback: (ct) => [ct.mul(k), zeros(k.shape)] }),
    });
    const k = tensor([2, 3], { dtype: "int32" });
    expect(gradient(tensor([1, 1]), (x) => scaleBy(x, k).sum()).toArray()).toEqual([2, 3]);
  });
  test("the rule's own result is checked", () => {
    const noPullback = customDerivative((x: Tensor) => x, { vjp: (x) => ({ value: x }) as never });
    expect(() => gradient(1, noPullback)).toThrow(/the vjp rule must return \{ value: Tensor, pullback: \(cotangent\) => \.\.\. \}; its pullback is undefined/);
    const noValue = customDerivative((x: Tensor) => x, { vjp: () => ({ pullback: (c: Tensor) => c }) as never });
    expect(() => gradient(1, noValue)).toThrow(/its value is undefined/);
  });
  test("the checks reach rules used in forward mode through a vjp-recorded op (forward over a tape)", () => {
    const good = customDerivative((x: Tensor) => x.mul(2), {
      vjp: (x) => ({ value: x.mul(2), pullback: (ct) => ct.mul(2) }),
      jvp: (x) => ({ value: x.mul(2), differential: () => zeros([4]) }),
    });
    expect(() => valueWithDifferential(tensor([1]), (x) => gradient(x, (y) => good(y).sum())).differential(tensor([1]))).not.toThrow();
    expect(() => valueWithDifferential(tensor([1]), (x) => good(x)).differential(tensor([1]))).toThrow(/returned shape \[4\] for the output, which has shape \[1\]/);
  });
});

describe("definitions", () => {
  test("rules are functions under the names vjp and jvp", () => {
    const id = (x: Tensor): Tensor => x;
    expect(() => customDerivative(id, { vjpp: () => 1 } as never)).toThrow("customDerivative(id): unknown rule 'vjpp'; the rules are vjp and jvp");
    expect(() => customDerivative(id, { vjp: 3 } as never)).toThrow("customDerivative(id): the vjp rule must be a function of the inputs, got the number 3");
    expect(() => customDerivative(id, {})).toThrow("customDerivative(id): give at least one rule, { vjp } or { jvp }");
    expect(() => customDerivative(id, null as never)).toThrow("customDerivative(id): the second argument must be { vjp?, jvp }, got null");
  });
  test("the function must return a Tensor, also where no rule applies", () => {
    const bad = customDerivative(function half(_x: Tensor) { return 0.5 as unknown as Tensor; }, { vjp: (x) => ({ value: x, pullback: (c) => c }) });
    expect(() => bad(tensor(1))).toThrow("customDerivative(half): the function must return a Tensor, got the number 0.5");
    expect(() => derivative(1, bad)).toThrow("customDerivative(half): the function must return a Tensor, got the number 0.5");
  });
});

describe("withDerivative and withRecomputationInPullbacks", () => {
  test("the hook may return a number for a one-element tensor; a wrong dtype is an error", () => {
    expect(gradient(2, (w) => withDerivative(w.mul(3), () => 1 as unknown as Tensor))).toBe(3);
    expect(() => gradient(tensor([1, 2]), (w) => withDerivative(w, (g) => g.cast("float64")).sum())).toThrow(
      /withDerivative: the hook returned dtype float64 for the cotangent, which is float32/,
    );
  });
  test("a recomputed function is checked under its own name", () => {
    const bad = withRecomputationInPullbacks(function block(_x: Tensor) { return undefined as unknown as Tensor; });
    expect(() => gradient(1, (x) => bad(x))).toThrow("withRecomputationInPullbacks(block): the function must return a Tensor, got undefined");
  });
});
