import { describe, expect, it } from "vitest";
import {
  Tensor,
  tensor,
  zeros,
  gradient,
  KeyPath,
  WritableKeyPath,
  keyPath,
  allKeyPaths,
  allWritableKeyPaths,
  recursivelyAllKeyPaths,
  recursivelyAllWritableKeyPaths,
  differentiableKeyPaths,
  NoDerivative,
} from "../../src/index.js";
import { Simple, Mixed, Nested, Base, Derived, Stack, LayerDict } from "./fixtures.js";

/** The printed paths (any key path prints itself). */
const names = (kps: readonly object[]): string[] => kps.map(String);

describe("allKeyPaths: direct children in declaration order", () => {
  it("simple", () => {
    expect(names(allKeyPaths(new Simple()))).toEqual(["w", "b"]);
  });
  it("lists @noDerivative stored properties too, as Swift's allKeyPaths does", () => {
    expect(names(allKeyPaths(new Mixed()))).toEqual(["w", "count", "name", "running", "b"]);
  });
  it("inherited: base fields first", () => {
    expect(names(allKeyPaths(new Derived()))).toEqual(["w", "n", "extra", "label"]);
    expect(names(allKeyPaths(new Base()))).toEqual(["w", "n"]);
  });
  it("arrays: indices", () => {
    expect(names(allKeyPaths([tensor(1), tensor(2), 3]))).toEqual(["0", "1", "2"]);
    expect(allKeyPaths([tensor(1), 7])[1]!.segments).toEqual([1]);
  });
  it("plain objects: own enumerable keys", () => {
    expect(names(allKeyPaths({ a: tensor(1), lr: 0.1, nested: { c: tensor(2) } }))).toEqual(["a", "lr", "nested"]);
  });
  it("leaves and primitives have none", () => {
    expect(allKeyPaths(tensor([1, 2]))).toEqual([]);
    expect(allKeyPaths(3)).toEqual([]);
    expect(allKeyPaths(new NoDerivative(tensor(1)))).toEqual([]);
  });
  it("filters by value type", () => {
    expect(names(allKeyPaths(new Mixed(), Tensor))).toEqual(["w", "b"]);
    expect(names(allKeyPaths(new Mixed(), Number))).toEqual(["count"]);
    expect(names(allKeyPaths(new Mixed(), String))).toEqual(["name"]);
    expect(names(allKeyPaths(new Nested(), Boolean))).toEqual(["flag"]);
    expect(names(allKeyPaths(new Nested(), Simple))).toEqual(["simple"]);
    expect(names(allKeyPaths(new Mixed(), NoDerivative))).toEqual(["running"]);
  });
});

describe("recursivelyAllKeyPaths: depth first, each child before its contents", () => {
  it("nested", () => {
    expect(names(recursivelyAllKeyPaths(new Nested()))).toEqual([
      "simple", "simple.w", "simple.b",
      "flag",
      "mixed", "mixed.w", "mixed.count", "mixed.name", "mixed.running", "mixed.b",
    ]);
  });
  it("arrays of layers and nested arrays", () => {
    expect(names(recursivelyAllKeyPaths(new Stack()))).toEqual([
      "layers", "layers.0", "layers.0.w", "layers.0.b", "layers.1", "layers.1.w", "layers.1.b",
      "grid", "grid.0", "grid.0.0", "grid.0.1", "grid.1", "grid.1.0",
      "sizes", "sizes.0", "sizes.1",
    ]);
  });
  it("with a type filter", () => {
    expect(names(recursivelyAllKeyPaths(new Stack(), Tensor))).toEqual([
      "layers.0.w", "layers.0.b", "layers.1.w", "layers.1.b", "grid.0.0", "grid.0.1", "grid.1.0",
    ]);
    expect(names(recursivelyAllKeyPaths(new Stack(), Number))).toEqual(["sizes.0", "sizes.1"]);
    expect(names(recursivelyAllKeyPaths(new Nested(), Simple))).toEqual(["simple"]);
  });
  it("does not descend into tensors or NoDerivative boxes", () => {
    expect(names(recursivelyAllKeyPaths(new Mixed(), Tensor))).toEqual(["w", "b"]);
  });
  it("CustomKeyPathIterable lists dynamic children", () => {
    const d = new LayerDict().put("encoder", new Simple()).put("decoder", new Simple());
    expect(names(recursivelyAllKeyPaths(d))).toEqual(["encoder", "encoder.w", "encoder.b", "decoder", "decoder.w", "decoder.b"]);
  });
});

describe("writable key paths", () => {
  it("recursivelyAllWritableKeyPaths(model, Tensor) is the optimizer's loop", () => {
    const m = new Nested();
    const kps = recursivelyAllWritableKeyPaths(m, Tensor);
    expect(names(kps)).toEqual(["simple.w", "simple.b", "mixed.w", "mixed.b"]);
    for (const kp of kps) kp.set(m, kp.get(m).mul(2));
    expect(m.simple.w.toArray()).toEqual([2, 4]);
    expect(m.mixed.b.toArray()).toEqual([0.2, -0.4]);
  });
  it("excludes frozen containers and getters without setters", () => {
    const frozen = Object.freeze({ a: tensor(1) });
    expect(allWritableKeyPaths(frozen)).toEqual([]);
    const withGetter = { a: tensor(1), get b() { return tensor(2); } };
    expect(names(allWritableKeyPaths(withGetter))).toEqual(["a"]);
    expect(names(allKeyPaths(withGetter))).toEqual(["a", "b"]);
  });
  it("allWritableKeyPaths with a filter", () => {
    expect(names(allWritableKeyPaths(new Derived(), Tensor))).toEqual(["w", "extra"]);
  });
});

describe("differentiableKeyPaths: exactly the leaves AD sees", () => {
  it("skips @noDerivative properties and constants", () => {
    expect(names(differentiableKeyPaths(new Nested()))).toEqual(["simple.w", "simple.b", "mixed.w", "mixed.b"]);
    expect(names(differentiableKeyPaths({ a: tensor(1), lr: 0.1, xs: [1, 2] }))).toEqual(["a"]);
    expect(names(differentiableKeyPaths([1, tensor(2)]))).toEqual(["0", "1"]);
    expect(differentiableKeyPaths(tensor(1))).toEqual([]);
  });
});

describe("KeyPath values", () => {
  it("get, set, segments, toString, appending", () => {
    const s = new Stack();
    const kp = keyPath(s, "layers.1.w");
    expect(kp).toBeInstanceOf(WritableKeyPath);
    expect(kp.segments).toEqual(["layers", 1, "w"]);
    expect(String(kp)).toBe("layers.1.w");
    expect(kp.get(s).toArray()).toEqual([3, -1]);
    kp.set(s, zeros([2]));
    expect(s.layers[1]!.w.toArray()).toEqual([0, 0]);
    const layer = keyPath(s, "layers.0");
    const w = keyPath(new Simple(), "w");
    const joined = layer.appending(w);
    expect(String(joined)).toBe("layers.0.w");
    expect(joined).toBeInstanceOf(WritableKeyPath);
    expect(joined.get(s)).toBe(s.layers[0]!.w);
    const readOnly = new KeyPath<Simple, Tensor>(["b"]);
    expect(layer.appending(readOnly)).not.toBeInstanceOf(WritableKeyPath);
    expect(String(layer.appending(readOnly))).toBe("layers.0.b");
  });
  it("paths longer than the unrolled accessors", () => {
    const deep = { a: { b: { c: { d: { e: { f: tensor(7) } } } } } };
    const kp = keyPath(deep, "a.b.c.d.e.f");
    expect(kp.get(deep).item()).toBe(7);
    kp.set(deep, tensor(8));
    expect(deep.a.b.c.d.e.f.item()).toBe(8);
  });
  it("the empty path reads the root and cannot be written", () => {
    const x = { a: 1 };
    expect(new KeyPath<typeof x, typeof x>([]).get(x)).toBe(x);
    expect(String(new KeyPath([]))).toBe("");
    expect(() => new WritableKeyPath([])).toThrow(/empty path/);
  });
  it("a path that reads a parameter reads its gradient in the tangent", () => {
    const m = new Nested();
    const g = gradient(m, (mm) => mm.simple.call(tensor([1, 1], { dtype: "float64" })).add(mm.mixed.call(tensor([[1, 2]], { dtype: "float64" })).sum()));
    for (const kp of differentiableKeyPaths(m)) {
      const t = kp.get(g) as Tensor;
      expect(t.shape).toEqual((kp.get(m) as Tensor).shape);
    }
    expect(keyPath(m, "simple.w").get(g).toArray()).toEqual([1, 1]);
    expect(names(recursivelyAllKeyPaths(g, Tensor))).toEqual(names(differentiableKeyPaths(m)));
  });
  it("errors name where the path breaks", () => {
    const s = new Stack();
    expect(() => keyPath(s, "layers.5.w" as "layers.0.w")).toThrow(/array of length 2, which has no index '5'/);
    expect(() => keyPath(s, "layers.0.wx" as "layers.0.w")).toThrow(/has no field 'wx'; its fields are w, b/);
    expect(() => keyPath(s, "" as "layers")).toThrow(/non-empty/);
    const kp = new KeyPath<unknown, unknown>(["a", "b"]);
    expect(() => kp.get({})).toThrow(/KeyPath a\.b: cannot read: a is undefined/);
    const wkp = new WritableKeyPath<unknown, unknown>(["a", "b", "c"]);
    expect(() => wkp.set({ a: null }, 1)).toThrow(/KeyPath a\.b\.c: cannot write/);
  });
});
