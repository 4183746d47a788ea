import { describe, expect, it } from "vitest";
import {
  Tensor,
  tensor,
  gradient,
  valueWithGradient,
  pullback,
  differential,
  checkGradients,
  differentiable,
  noDerivative,
  NoDerivative,
  differentiableKeyPaths,
  zeroTangentVector,
  type TangentVector,
} from "../../src/index.js";
import { rebuild } from "../../src/keypaths/walk.js";
import { Simple, Mixed, Nested, Derived, Stack, LayerDict } from "../keypaths/fixtures.js";
import { uniform } from "../helpers/rows.js";

const f64 = (v: number[], shape?: number[]) => tensor(v, { dtype: "float64", ...(shape ? { shape } : {}) });

/** A copy of `model` whose differentiable leaves are `xs` (in walk order). */
function withLeaves<M>(model: M, xs: readonly Tensor[]): M {
  return rebuild(model, (i) => xs[i]) as M;
}

/** Central finite differences of `loss` with respect to every element of every leaf of `model`. */
function numericGradient<M>(model: M, loss: (m: M) => Tensor, eps = 1e-6): number[][] {
  const leaves = differentiableKeyPaths(model).map((kp) => kp.get(model) as Tensor);
  return leaves.map((leaf, k) => {
    const base = Array.from(leaf.dataSync());
    return base.map((_, i) => {
      const at = (d: number) => {
        const v = base.slice();
        v[i] = v[i]! + d;
        const xs = leaves.map((l, j) => (j === k ? tensor(v, { shape: leaf.shape, dtype: "float64" }) : l));
        return loss(withLeaves(model, xs)).item();
      };
      return (at(eps) - at(-eps)) / (2 * eps);
    });
  });
}

/** Checks `gradient(model, loss)` against finite differences, leaf by leaf through key paths. */
function expectGradientMatches<M>(model: M, loss: (m: M) => Tensor): TangentVector<M> {
  const g: TangentVector<M> = gradient<M>(model, loss as never);
  const numeric = numericGradient(model, loss);
  differentiableKeyPaths(model).forEach((kp, k) => {
    const ad = Array.from((kp.get(g as never) as Tensor).dataSync());
    ad.forEach((v, i) => expect(v).toBeCloseTo(numeric[k]![i]!, 5));
  });
  return g;
}

const x2 = f64([0.3, -0.7]);

/** The fixture models with a scalar loss each: nested, inherited, arrays of layers, no-derivative fields. */
const cases: { name: string; make: () => unknown; loss: (m: never) => Tensor }[] = [
  { name: "Simple", make: () => new Simple(), loss: (m: Simple) => m.call(x2).square() },
  { name: "Mixed (@noDerivative fields)", make: () => new Mixed(), loss: (m: Mixed) => m.call(f64([0.2, 0.4], [1, 2])).sum().mul(m.count) },
  { name: "Nested", make: () => new Nested(), loss: (m: Nested) => m.simple.call(x2).mul(m.mixed.call(f64([1, -1], [1, 2])).sum()) },
  { name: "Derived (inherited fields)", make: () => new Derived(), loss: (m: Derived) => m.w.mul(m.extra).sin().sum() },
  {
    name: "Stack (arrays of layers, nested arrays)",
    make: () => new Stack(),
    loss: (m: Stack) => m.layers.reduce((acc, l) => acc.add(l.call(x2).tanh()), m.grid.flat().reduce((a, t) => a.add(t.square().sum()), f64([0], []))),
  },
  {
    name: "plain object of mixtures",
    make: () => ({ dense: new Simple(), extra: [uniform([2, 2], 1), { t: uniform([3], 2), lr: 0.1 }], name: "p" }),
    loss: (m: { dense: Simple; extra: [Tensor, { t: Tensor; lr: number }] }) =>
      m.dense.call(x2).add(m.extra[0].sum().mul(m.extra[1].t.exp().sum())).mul(m.extra[1].lr),
  },
  {
    name: "CustomKeyPathIterable container",
    make: () => new LayerDict().put("a", new Simple()).put("b", new Simple(f64([2, 1]), f64([1], [])) ),
    loss: (d: LayerDict) => {
      const r = d as unknown as Record<string, Simple>;
      return r.a!.call(x2).mul(r.b!.call(x2));
    },
  },
];

describe.each(cases)("gradient over a structure: $name", ({ make, loss }) => {
  it("matches finite differences, leaf by leaf", () => {
    expectGradientMatches(make(), loss as (m: unknown) => Tensor);
  });
  it("matches checkGradients on the flattened parameters (both modes, second order)", () => {
    const model = make();
    const leaves = differentiableKeyPaths(model).map((kp) => kp.get(model) as Tensor);
    checkGradients((...xs) => loss(withLeaves(model, xs) as never), leaves, { order: 2 });
  });
  it("never mutates the model, and the tangent has the model's leaf paths", () => {
    const model = make();
    const before = differentiableKeyPaths(model).map((kp) => kp.get(model));
    const g = gradient(model, loss as never);
    expect(differentiableKeyPaths(model).map((kp) => kp.get(model))).toEqual(before);
    expect(differentiableKeyPaths(g).map(String)).toEqual(differentiableKeyPaths(model).map(String));
  });
});

describe("the differentiated function receives a copy of the model's own class", () => {
  it("methods work, @noDerivative fields are carried, boxes are shared", () => {
    const m = new Mixed();
    let seen: Mixed | undefined;
    gradient(m, (copy) => {
      seen = copy;
      expect(copy).toBeInstanceOf(Mixed);
      expect(copy).not.toBe(m);
      expect(copy.count).toBe(3);
      expect(copy.name).toBe("mixed");
      expect(copy.running).toBe(m.running);
      copy.running.value = copy.running.value.add(1);
      return copy.call(f64([1, 1], [1, 2])).sum();
    });
    expect(seen).toBeDefined();
    expect(m.running.value.toArray()).toEqual([1, 1]);
  });
  it("the gradient is typed and shaped like the model", () => {
    const g = gradient(new Nested(), (n) => n.simple.call(x2));
    expect(g.simple.w.toArray()).toEqual([0.3, -0.7]);
    expect(g.mixed.w.toArray()).toEqual([[0, 0], [0, 0]]);
    expect(Object.keys(g)).toEqual(["simple", "mixed"]);
  });
});

describe("shared parameters: one tensor in two fields", () => {
  class Tied {
    @differentiable encoder: Tensor;
    @differentiable decoder: Tensor;
    @noDerivative note = "tied";
    constructor(w: Tensor) {
      this.encoder = w;
      this.decoder = w;
    }
  }
  it("each path is its own leaf and gets its own partial derivative", () => {
    const w = f64([1, 2]);
    const m = new Tied(w);
    const g = gradient(m, (t) => t.encoder.mul(3).add(t.decoder.square()).sum());
    expect(g.encoder.toArray()).toEqual([3, 3]);
    expect(g.decoder.toArray()).toEqual([2, 4]);
    // The total derivative with respect to the one shared tensor is the sum of the paths' partials.
    const total = gradient(w, (v) => v.mul(3).add(v.square()).sum());
    expect(total.toArray()).toEqual(g.encoder.add(g.decoder).toArray());
  });
});

describe("other operators over structures", () => {
  it("valueWithGradient and pullback", () => {
    const m = new Simple();
    const { value, gradient: g } = valueWithGradient(m, (s) => s.call(x2));
    expect(value.item()).toBeCloseTo(0.3 - 1.4 + 0.5, 12);
    expect(g.w.toArray()).toEqual([0.3, -0.7]);
    const pb = pullback(m, (s) => s.w.mul(2));
    expect(pb(f64([1, 1])).w.toArray()).toEqual([2, 2]);
  });
  it("differential takes a tangent of the model (a class tangent, or a literal)", () => {
    const m = new Simple();
    const df = differential(m, (s) => s.call(x2));
    const t = zeroTangentVector(m);
    t.w = f64([1, 0]);
    expect((df(t)).item()).toBeCloseTo(0.3, 12);
    expect((df({ w: f64([0, 0]), b: f64([1], []) })).item()).toBe(1);
  });
  it("a NoDerivative box never gets a tangent", () => {
    const g = gradient({ w: f64([1]), stats: new NoDerivative(f64([5])) }, (p) => p.w.mul(p.stats.value).sum());
    expect(Object.keys(g)).toEqual(["w"]);
    expect(g.w.toArray()).toEqual([5]);
  });
});
