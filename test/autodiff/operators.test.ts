/** The differential operators of DESIGN §1.2: values, modes, nesting, control flow, custom rules, errors. */
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import {
  tensor, zeros, Tensor, gradient, valueWithGradient, pullback, valueWithPullback, differential, valueWithDifferential,
  derivative, valueWithDerivative, gradientOf, derivativeOf, withoutDerivative, customDerivative,
  withRecomputationInPullbacks, withDerivative, jacobian, hessian, checkGradients, GradientCheckError,
} from "../../src/index.js";
import { innermostTapeLength } from "../../src/autodiff/tape.js";
import { uniform } from "../helpers/rows.js";

const f64 = (v: number | number[]): Tensor => tensor(v, { dtype: "float64" });

describe("the contract's examples", () => {
  test("a number in, a number out", () => {
    const g = gradient(3, (x) => x.mul(x));
    expect(g).toBe(6);
    expect(typeof g).toBe("number");
  });
  test("Swift's classic pullback example", () => {
    expect(pullback(1, (x) => x.add(x).add(x))(2)).toBe(6);
  });
  test("a number is accepted as the cotangent of a one-element tensor", () => {
    expect(pullback(tensor([[2]]), (x) => x.mul(x))(1).toArray()).toEqual([[4]]);
  });
  test("inside f a number input is a rank-0 Tensor", () => {
    gradient(2, (x) => {
      expect(x).toBeInstanceOf(Tensor);
      expect(x.shape).toEqual([]);
      return x;
    });
  });
  test("gradient of several inputs gives a tuple", () => {
    expect(gradient(2, 5, (x, y) => x.mul(y))).toEqual([5, 2]);
    const [a, b, c] = gradient(tensor([1, 2]), 3, tensor(4), (x, y, z) => x.mul(y).sum().mul(z));
    expect(a.toArray()).toEqual([12, 12]);
    expect(b).toBe(12);
    expect(c.item()).toBe(9);
  });
  test("valueWithGradient returns both", () => {
    const { value, gradient: g } = valueWithGradient(tensor([1, 2, 3]), (x) => x.square().sum());
    expect(value.item()).toBe(14);
    expect(g.toArray()).toEqual([2, 4, 6]);
  });
  test("a pullback can be applied many times", () => {
    const { value, pullback: pb } = valueWithPullback(tensor([1, 2]), (x) => x.mul(x));
    expect(value.toArray()).toEqual([1, 4]);
    expect(pb(tensor([1, 0])).toArray()).toEqual([2, 0]);
    expect(pb(tensor([0, 1])).toArray()).toEqual([0, 4]);
  });
  test("forward mode: differential, derivative and their value forms", () => {
    expect(differential(2, (x) => x.mul(x))(1).item()).toBe(4);
    const d = valueWithDifferential(tensor([1, 2]), (x) => x.mul(x));
    expect(d.value.toArray()).toEqual([1, 4]);
    expect(d.differential(tensor([1, 1])).toArray()).toEqual([2, 4]);
    expect(derivative(0, (x) => x.sin()).item()).toBe(1);
    expect(derivative(tensor([2]), (x) => x.mul(x)).toArray()).toEqual([4]);
    const v = valueWithDerivative(1, (x) => x.exp());
    expect(v.value.item()).toBeCloseTo(Math.E, 6);
    expect(v.derivative.item()).toBeCloseTo(Math.E, 6);
  });
  test("curried forms", () => {
    expect(gradientOf((x: Tensor) => x.mul(x).mul(x))(2)).toBe(12);
    expect(derivativeOf((x: Tensor) => x.mul(3))(5).item()).toBe(3);
  });
  test("a function returning a constant has a zero gradient", () => {
    expect(gradient(tensor([1, 2]), () => 7).toArray()).toEqual([0, 0]);
    expect(gradient(2, () => tensor(5))).toBe(0);
  });
  test("withoutDerivative stops derivatives at every level", () => {
    expect(gradient(3, (x) => x.mul(withoutDerivative(x)))).toBe(3);
    expect(derivative(3, (x) => x.mul(withoutDerivative(x))).item()).toBe(3);
    expect(gradient(f64(2), (x) => gradient<Tensor>(x, (y) => y.mul(withoutDerivative(x)).mul(y))).item()).toBe(4);
  });
});

describe("nesting", () => {
  // d/dx [x · d/dy (x + y)] = 1: a perturbation-confusion bug would give 2.
  const inner = {
    reverse: (x: Tensor): Tensor => gradient(f64(2), (y) => x.add(y)),
    forward: (x: Tensor): Tensor => derivative(f64(2), (y) => x.add(y)),
  };
  for (const outer of ["reverse", "forward"] as const) {
    for (const kind of ["reverse", "forward"] as const) {
      test(`${outer} over ${kind}: no perturbation confusion`, () => {
        const f = (x: Tensor): Tensor => x.mul(inner[kind](x));
        const d = outer === "reverse" ? gradient(f64(1), f) : derivative(f64(1), f);
        expect(d.item()).toBe(1);
      });
    }
  }

  test("third derivative of sin, mixing modes", () => {
    const d1 = (x: Tensor): Tensor => gradient(x, (y) => y.sin());
    const d2 = (x: Tensor): Tensor => derivative(x, d1);
    const d3 = gradient(f64(0.4), d2);
    expect(d3.item()).toBeCloseTo(-Math.cos(0.4), 12);
    const d4 = derivative(f64(0.4), (x) => gradient(x, d2));
    expect(d4.item()).toBeCloseTo(Math.sin(0.4), 12);
  });

  test("hessian (forward over reverse) and jacobian in both modes", () => {
    expect(hessian(f64([1, 2]), (x) => x.pow(3).sum()).toArray()).toEqual([[6, 0], [0, 12]]);
    const wide = jacobian(f64([1, 2]), (x) => x.mul(x).sum().mul(x.reshape([2, 1]).broadcastTo([2, 3]))); // forward
    expect(wide.shape).toEqual([2, 3, 2]);
    const tall = jacobian(f64([1, 2, 3]), (x) => x.mul(x).sum().reshape([1])); // reverse
    expect(tall.toArray()).toEqual([[2, 4, 6]]);
    // the same Jacobian either way
    const x0 = uniform([3], 5);
    const f = (x: Tensor): Tensor => x.tanh().mul(x.sum());
    const jf = jacobian(x0, f);
    const jr = jacobian(x0, (x) => f(x).slice([0], [2])); // 2 outputs < 3 inputs: reverse
    expect(jr.dataSync()).toEqual(jf.slice([0, 0], [2, 3]).dataSync().map((v) => v));
  });

  test("gradients of gradients of a network-like function match finite differences", () => {
    const w = uniform([3, 2], 1);
    checkGradients((x) => gradient(x, (y) => y.matmul(w).tanh().sum()), [uniform([2, 3], 2)], { order: 2 });
  });
});

describe("control flow is differentiated along the path taken", () => {
  test("if / else", () => {
    const f = (x: Tensor): Tensor => (x.item() > 0 ? x.mul(x) : x.neg());
    expect(gradient(3, f)).toBe(6);
    expect(gradient(-3, f)).toBe(-1);
  });
  test("loops and early return", () => {
    const f = (x: Tensor): Tensor => {
      let y = x;
      for (let i = 0; i < 10; i++) {
        if (y.item() > 100) return y;
        y = y.mul(2);
      }
      return y;
    };
    expect(gradient(1, f)).toBe(128); // stops after 7 doublings
    expect(gradient(0.01, f)).toBe(1024);
  });
  test("recursion", () => {
    const power = (x: Tensor, n: number): Tensor => (n === 0 ? tensor(1) : x.mul(power(x, n - 1)));
    expect(gradient(2, (x) => power(x, 5))).toBe(80);
    expect(derivative(2, (x) => power(x, 5)).item()).toBe(80);
  });
});

describe("custom derivatives", () => {
  test("a vjp rule replaces the derivative in reverse mode", () => {
    const clipGrad = customDerivative((x: Tensor) => x, { vjp: (x) => ({ value: x, pullback: (ct) => ct.clip(-1, 1) }) });
    expect(gradient(tensor([2]), (x) => clipGrad(x).mul(5).sum()).toArray()).toEqual([1]);
    // forward mode has no jvp rule: it differentiates through f
    expect(derivative(2, (x) => clipGrad(x).mul(5)).item()).toBe(5);
  });
  test("a jvp rule replaces the derivative in forward mode and in differentials", () => {
    const twice = customDerivative((x: Tensor) => x.exp(), { jvp: (x) => ({ value: x.exp(), differential: (dx) => dx.mul(2) }) });
    expect(derivative(0, (x) => twice(x)).item()).toBe(2);
  });
  test("several inputs: the pullback returns a tuple", () => {
    const f = customDerivative((a: Tensor, b: Tensor) => a.mul(b), {
      vjp: (a, b) => ({ value: a.mul(b), pullback: (ct) => [ct.mul(b), ct.mul(a)] }),
      jvp: (a, b) => ({ value: a.mul(b), differential: (da, db) => da.mul(b).add(a.mul(db)) }),
    });
    expect(gradient(3, 4, (a, b) => f(a, b))).toEqual([4, 3]);
    checkGradients((a, b) => f(a, b).sin(), [uniform([3], 1), uniform([3], 2)], { order: 2 });
  });
  test("a wrong rule is caught by the checker with the element's index", () => {
    const bad = customDerivative((x: Tensor) => x.mul(x), { vjp: (x) => ({ value: x.mul(x), pullback: (ct) => ct.mul(x).mul(3) }) });
    expect(() => checkGradients((x) => bad(x), [uniform([4], 3)], { order: 1, modes: ["reverse"] })).toThrow(GradientCheckError);
    try {
      checkGradients((x) => bad(x), [uniform([4], 3)], { order: 1, modes: ["reverse"] });
    } catch (e) {
      const r = (e as GradientCheckError).report;
      expect(r.worst?.mode).toBe("reverse");
      expect(r.worst?.index.length).toBe(1);
      expect((e as Error).message).toMatch(/reverse-mode derivative of order 1 disagrees .* at input 0 index \[\d\]/);
    }
  });
  test("a pullback returning the wrong shape is a clear error", () => {
    const bad = customDerivative((x: Tensor) => x, { vjp: (x) => ({ value: x, pullback: () => zeros([5]) }) });
    expect(() => gradient(tensor([1, 2]), (x) => bad(x).sum())).toThrow(
      "customDerivative(anonymous): the vjp rule's pullback returned shape [5] for input 0, which has shape [2]; return a Tensor of shape [2] and dtype float32 (or null for a zero)",
    );
  });
});

describe("withRecomputationInPullbacks", () => {
  const body = (x: Tensor): Tensor => {
    let y = x;
    for (let i = 0; i < 50; i++) y = y.mul(1.01).tanh();
    return y;
  };
  test("records one tape entry instead of every intermediate, with the same gradient", () => {
    let plain = 0, remat = 0;
    const g1 = gradient(f64([0.3, 0.7]), (x) => {
      const before = innermostTapeLength();
      const y = body(x);
      plain = innermostTapeLength() - before;
      return y.sum();
    });
    const wrapped = withRecomputationInPullbacks(body);
    const g2 = gradient(f64([0.3, 0.7]), (x) => {
      const before = innermostTapeLength();
      const y = wrapped(x);
      remat = innermostTapeLength() - before;
      return y.sum();
    });
    expect(plain).toBe(100);
    expect(remat).toBe(1);
    expect(g2.dataSync()).toEqual(g1.dataSync());
  });
  test("second order still works", () => {
    const wrapped = withRecomputationInPullbacks((x: Tensor) => x.sin().mul(x));
    checkGradients((x) => wrapped(x), [uniform([3], 4)], { order: 2 });
  });
});

describe("bad input", () => {
  test("gradient of a non-scalar function says to use pullback", () => {
    expect(() => gradient(tensor([1, 2]), (x) => x.mul(2))).toThrow(/must return a scalar .* shape \[2\].*use pullback\(at, f\)/);
  });
  test("a cotangent or tangent of the wrong shape names both shapes", () => {
    const pb = pullback(tensor([1, 2]), (x) => x.mul(2));
    expect(() => pb(tensor([1, 2, 3]))).toThrow(/cotangent at \(root\) has shape \[3\] but the value has shape \[2\]/);
    const df = differential(tensor([1, 2]), (x) => x.mul(2));
    expect(() => df(tensor([[1, 2]]))).toThrow(/tangent at \(root\) has shape \[1,2\] but the value has shape \[2\]/);
  });
  test("int32 tensors, strings and other values cannot be differentiated", () => {
    expect(() => gradient(tensor([1], { dtype: "int32" }), (x) => x.sum())).toThrow(/int32 Tensor at \(root\).*only float32 and float64/);
    expect(() => gradient("x" as unknown as number, (x) => x)).toThrow(/cannot differentiate with respect to a string/);
    expect(() => gradient([tensor(1), true] as unknown as Tensor[], (x) => x[0]!)).toThrow(/a boolean at 1/);
  });
  test("derivative needs a scalar point", () => {
    expect(() => derivative(tensor([1, 2]) as unknown as number, (x) => x)).toThrow(/point must be a number or a one-element Tensor/);
  });
  test("a tensor kept from inside a differentiated function is a plain value afterwards", () => {
    let kept: Tensor | undefined;
    const g = gradient(tensor(3), (x) => {
      kept = x.mul(x);
      return kept;
    });
    expect(g.item()).toBe(6);
    expect(kept!.add(1).item()).toBe(10);
    // and it is a constant for a later operator
    expect(gradient(tensor(2), (y) => y.mul(kept!)).item()).toBe(9);
  });
  test("sqrt at 0 follows its documented convention (+Infinity), abs at 0 has derivative 0", () => {
    expect(gradient(0, (x) => x.sqrt())).toBe(Infinity);
    expect(gradient(0, (x) => x.abs())).toBe(0);
    expect(gradient(0, (x) => x.relu())).toBe(0);
  });
});

describe("the dot-product test ⟨v, J u⟩ = ⟨Jᵀ v, u⟩", () => {
  const ops: ((x: Tensor) => Tensor)[] = [
    (x) => x.sin(), (x) => x.mul(x), (x) => x.tanh(), (x) => x.exp().mul(0.1), (x) => x.softmax(),
    (x) => x.transpose().reshape([2, 3]), (x) => x.matmul(x.transpose()).reshape([2, 2]).pad([[0, 0], [0, 1]]),
    (x) => x.sum(0, true).broadcastTo([2, 3]), (x) => x.logSumExp(1, true).mul(x),
  ];
  test("holds on random compositions", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: ops.length - 1 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 1000 }), (seq, seed) => {
        const f = (x: Tensor): Tensor => seq.reduce((y, k) => ops[k]!(y), x);
        const x = uniform([2, 3], seed), u = uniform([2, 3], seed + 1);
        const y = f(x);
        const v = uniform(y.shape, seed + 2);
        const ju = differential(x, f)(u);
        const jtv = pullback(x, f)(v);
        const lhs = v.mul(ju).sum().item(), rhs = jtv.mul(u).sum().item();
        // Rounding scales with the magnitude of the terms summed, not with the (possibly cancelling) total.
        const scale = v.abs().mul(ju.abs()).sum().item() + jtv.abs().mul(u.abs()).sum().item();
        expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-12 * Math.max(1, scale));
      }),
      { numRuns: 200, seed: 20261126 },
    );
  });
});

describe("withDerivative", () => {
  test("rewrites the cotangent at one point and leaves the value and forward mode alone", () => {
    const f = (w: Tensor): Tensor => withDerivative(w.mul(10), (g) => g.clip(-1, 1)).mul(3).sum();
    expect(gradient(tensor([1, 2]), f).toArray()).toEqual([10, 10]); // 3 clipped to 1, times 10
    expect(f(tensor([1, 2])).item()).toBe(90);
    expect(derivative(1, (w) => withDerivative(w.mul(10), (g) => g.mul(0)).mul(3)).item()).toBe(30);
    const seen: number[] = [];
    gradient(tensor([1, 2]), (w) => withDerivative(w, (g) => (seen.push(...g.dataSync()), g)).square().sum());
    expect(seen).toEqual([2, 4]);
  });
  test("a hook returning the wrong shape is named", () => {
    expect(() => gradient(tensor([1, 2]), (w) => withDerivative(w, () => zeros([3])).sum())).toThrow(
      "withDerivative: the hook returned shape [3] for the cotangent, which has shape [2]; return a Tensor of shape [2] and dtype float32 (zeros(shape) for a zero)",
    );
  });
});
