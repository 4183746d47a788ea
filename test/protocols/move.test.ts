import { describe, expect, it } from "vitest";
import {
  Tensor,
  tensor,
  zeros,
  move,
  zeroTangentVector,
  tangentScale,
  differentiable,
  NoDerivative,
  gradient,
  noDerivative as noDerivativeField,
} from "../../src/index.js";
import { Simple, Mixed, Nested, Stack, LayerDict } from "../keypaths/fixtures.js";

describe("zeroTangentVector", () => {
  it("numbers, tensors, arrays and records", () => {
    expect(zeroTangentVector(3)).toBe(0);
    const t = zeroTangentVector(tensor([[1, 2]], { dtype: "float64" }));
    expect(t.shape).toEqual([1, 2]);
    expect(t.dtype).toBe("float64");
    expect(t.toArray()).toEqual([[0, 0]]);
    const r = zeroTangentVector({ w: tensor([1]), lr: 0.1, name: "x", xs: [1, 2], nested: { lr: 2 } });
    expect(Object.keys(r)).toEqual(["w"]);
    const a = zeroTangentVector([1, tensor([1, 2]), [3]]);
    expect(a[0]).toBe(0);
    expect((a[2] as number[])[0]).toBe(0);
  });
  it("a class: exactly its differentiable fields, in layout order, at any depth", () => {
    const z = zeroTangentVector(new Nested());
    expect(Object.keys(z)).toEqual(["simple", "mixed"]);
    expect(Object.keys(z.mixed)).toEqual(["w", "b"]);
    const s = zeroTangentVector(new Stack());
    expect(Object.keys(s)).toEqual(["layers", "grid"]);
    expect(s.layers.map((l) => Object.keys(l))).toEqual([["w", "b"], ["w", "b"]]);
  });
  it("keeps a declared parameter that is absent now (undefined bias)", () => {
    class MaybeBias {
      @differentiable w = tensor([1]);
      @differentiable b: Tensor | undefined = undefined;
    }
    const z = zeroTangentVector(new MaybeBias());
    expect(Object.keys(z)).toEqual(["w", "b"]);
    expect(z.b).toBeUndefined();
  });
  it("a CustomKeyPathIterable container", () => {
    const d = new LayerDict().put("enc", new Simple());
    const z = zeroTangentVector(d);
    expect(Object.keys(z)).toEqual(["enc"]);
    expect(Object.keys(z.enc!)).toEqual(["w", "b"]);
  });
});

describe("move", () => {
  it("numbers and tensors return the moved value", () => {
    expect(move(2, 0.5)).toBe(2.5);
    const t = tensor([1, 2]);
    const moved = move(t, tensor([1, 1]));
    expect(moved.toArray()).toEqual([2, 3]);
    expect(t.toArray()).toEqual([1, 2]);
    expect(move(tensor(1), 2).item()).toBe(3);
  });
  it("a class model moves in place, constants untouched", () => {
    const m = new Mixed();
    const before = m.w.toArray();
    const running = m.running;
    const out = move(m, { w: tensor([[1, 1], [1, 1]], { dtype: "float64" }), b: tensor([1, 1], { dtype: "float64" }) });
    expect(out).toBe(m);
    expect(m.w.toArray()).toEqual((before as number[][]).map((r) => r.map((v) => v + 1)));
    expect(m.b.toArray()).toEqual([1.1, 0.8]);
    expect(m.count).toBe(3);
    expect(m.running).toBe(running);
  });
  it("arrays and records move in place; number leaves in root arrays too", () => {
    const a: [number, Tensor] = [1, tensor([1])];
    move(a, [1, tensor([2])]);
    expect(a[0]).toBe(2);
    expect(a[1].toArray()).toEqual([3]);
    const r = { w: tensor([1]), lr: 0.5 };
    move(r, { w: tensor([1]) });
    expect(r.w.toArray()).toEqual([2]);
    expect(r.lr).toBe(0.5);
  });
  it("keeps each leaf's dtype", () => {
    const r = { w: tensor([1], { dtype: "float32" }) };
    move(r, { w: tensor([0.5], { dtype: "float64" }) });
    expect(r.w.dtype).toBe("float32");
  });
  it("validates the whole tangent first: a bad tangent changes nothing", () => {
    const m = new Nested();
    const w = m.simple.w;
    const bad: { simple: { w: Tensor; b: Tensor }; mixed: { w: Tensor; b: Tensor } } = zeroTangentVector(m);
    bad.simple.w = tensor([1, 1], { dtype: "float64" });
    bad.mixed.b = zeros([5]);
    expect(() => move(m, bad)).toThrow(/move: the tangent at mixed\.b has shape \[5\] but the value has shape \[2\]/);
    expect(m.simple.w).toBe(w);
    const missing = { simple: bad.simple } as unknown as typeof bad;
    expect(() => move(m, missing)).toThrow(/the tangent has no field 'mixed'/);
    expect(m.simple.w).toBe(w);
  });
  it("one step of gradient descent lowers the loss", () => {
    const m = new Simple();
    const x = tensor([1, -1], { dtype: "float64" });
    const loss = (s: Simple) => s.call(x).square();
    const l0 = loss(m).item();
    move(m, tangentScale(gradient(m, loss), -0.05));
    expect(loss(m).item()).toBeLessThan(l0);
  });
  it("a NoDerivative box at the root is not differentiable", () => {
    expect(() => move(new NoDerivative(tensor(1)), {} as never)).toThrow(/NoDerivative box, which is never differentiated/);
  });
});

describe("walk rules the type mirrors", () => {
  it("below an object, numbers are constants also inside arrays", () => {
    const g = gradient({ w: tensor([2]), xs: [1, 2], cfg: { lr: 0.1, name: "a" } }, (p) => p.w.mul(p.xs[0]!).sum());
    expect(Object.keys(g)).toEqual(["w"]);
    expect(g.w.toArray()).toEqual([1]);
  });
  it("at the root and in root-level arrays, numbers are leaves", () => {
    const g = gradient([2, [3]] as [number, number[]], ([a, b]) => (a).mul(b[0]!)); // Lifted<T> maps only a top-level number
    expect(g).toEqual([3, [2]]);
  });
  it("a leafless class field is absent; empty arrays of layers are kept", () => {
    class Flatten {
      @differentiable maybe: Tensor | undefined;
    }
    class Net {
      @differentiable w = tensor([1]);
      @differentiable blocks: Simple[] = [];
      @differentiable extra = new Flatten();
    }
    const z = zeroTangentVector(new Net());
    expect(Object.keys(z)).toEqual(["w", "blocks", "extra"]);
    expect(z.blocks).toEqual([]);
  });
});

describe("parameterless layers", () => {
  class Flatten {
    @noDerivativeField size = 2;
  }
  it("in a @differentiable field: allowed, absent from the tangent", () => {
    class Net {
      @differentiable w = tensor([1]);
      @differentiable flatten = new Flatten();
    }
    const g = gradient(new Net(), (n) => n.w.sum());
    expect(Object.keys(g)).toEqual(["w"]);
  });
  it("in a list of layers: kept in place with an empty tangent", () => {
    class Seq {
      @differentiable layers = [new Simple(), new Flatten(), new Simple()] as const;
    }
    const g = gradient(new Seq(), (s) => s.layers[0].call(tensor([1, 1], { dtype: "float64" })).add(s.layers[2].b));
    expect(g.layers.length).toBe(3);
    expect(Object.keys(g.layers[1])).toEqual([]);
    expect(g.layers[2].b.item()).toBe(1);
    expect((g as unknown as { toString(): string }).toString()).toContain("TangentVector<Flatten> {  }"); // a class tangent prints itself
  });
});
