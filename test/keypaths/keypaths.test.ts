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
    kp.set(s, zeros([2], { dtype: kp.get(s).dtype }));
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

describe("KeyPath accessors: any segment name, models and tangents alike", () => {
  // Names that would break out of a string literal if an accessor were ever built from source text, plus
  // names with special meaning to objects. A key path must read and write each as an ordinary key.
  const hostile = [
    'a"b',
    "a'b",
    "a\\b",
    "a\\",
    '"]; globalThis.__kpPwned = 1; //',
    "`${globalThis.__kpPwned = 1}`",
    "\u2028\u2029",
    "\n\r\t\0",
    "\ud800", // a lone surrogate
    "é🙂名",
    "hasOwnProperty",
    "toString",
    "a.b",
    "",
    "0x1",
    "-1",
    "1e3",
  ];
  it("reads and writes hostile names as plain keys, without evaluating anything", () => {
    for (const name of hostile) {
      // An own data property, even for "__proto__" (JSON.parse defines it as an own key).
      const leaf = JSON.parse(`{${JSON.stringify(name)}: 1}`) as Record<string, unknown>;
      const root = { outer: [{ [name]: 0 }] } as { outer: Record<string, unknown>[] };
      root.outer[0] = leaf;
      const kp = new WritableKeyPath<typeof root, number>(["outer", 0, name]);
      expect(kp.get(root), name).toBe(1);
      kp.set(root, 2);
      expect(Object.getOwnPropertyDescriptor(leaf, name)?.value, name).toBe(2);
      expect(kp.get(root), name).toBe(2);
      expect(kp.segments).toEqual(["outer", 0, name]);
      expect(String(kp)).toBe(`outer.0.${name}`);
    }
    expect((globalThis as { __kpPwned?: unknown }).__kpPwned).toBeUndefined();
  });
  it("'__proto__', 'constructor' and 'prototype' segments are rejected: they reach prototypes, not stored values", () => {
    for (const name of ["__proto__", "constructor", "prototype"]) {
      expect(() => new KeyPath<unknown, unknown>(["a", name])).toThrow(`KeyPath: 'a.${name}': the segment '${name}' is forbidden`);
      expect(() => keyPath({ a: { b: 1 } }, `a.${name}` as never)).toThrow(`keyPath: 'a.${name}': the segment '${name}' is forbidden`);
    }
  });
  it("numeric segments that are not array indices name the same keys as obj[n]", () => {
    const o = { "-1": "minus", "1.5": "frac", NaN: "nan", "0": "zero" } as Record<string, string>;
    expect(new KeyPath<typeof o, string>([-1]).get(o)).toBe("minus");
    expect(new KeyPath<typeof o, string>([1.5]).get(o)).toBe("frac");
    expect(new KeyPath<typeof o, string>([NaN]).get(o)).toBe("nan");
    expect(new KeyPath<typeof o, string>([-0]).get(o)).toBe("zero");
  });
  it("every path of every length reads and writes nested classes, arrays and their tangents", () => {
    const m = new Stack();
    const g = gradient(m, (mm) =>
      mm.layers[0]!.call(tensor([1, 2], { dtype: "float64" }))
        .add(mm.layers[1]!.call(tensor([3, 4], { dtype: "float64" })))
        .add(mm.grid[0]![1]!.mul(mm.grid[1]![0]!).sum()),
    );
    const kps = differentiableKeyPaths(m);
    expect(names(kps)).toEqual(["layers.0.w", "layers.0.b", "layers.1.w", "layers.1.b", "grid.0.0", "grid.0.1", "grid.1.0"]);
    for (const kp of kps) {
      const [a, b, c] = kp.segments as [keyof Stack, number, number | "w" | "b"];
      const inModel = (m[a] as unknown as Record<number, Record<string | number, Tensor>>)[b]![c];
      const inTangent = (g[a as "layers"] as unknown as Record<number, Record<string | number, Tensor>>)[b]![c];
      expect(kp.get(m)).toBe(inModel);
      expect(kp.get(g as never)).toBe(inTangent);
      // Write through the path, in the model and in the tangent, and read back.
      const t = zeros(inModel!.shape, { dtype: "float64" });
      kp.set(m, t);
      expect(kp.get(m)).toBe(t);
      kp.set(g as never, t);
      expect(kp.get(g as never)).toBe(t);
    }
    // Paths longer than four segments, on a plain nested structure.
    const deep = { a: [[{ b: { c: [tensor(1), tensor(2)] } }]] };
    const kp6 = new WritableKeyPath<typeof deep, Tensor>(["a", 0, 0, "b", "c", 1]);
    expect(kp6.get(deep).item()).toBe(2);
    kp6.set(deep, tensor(5));
    expect(deep.a[0]![0]!.b.c[1]!.item()).toBe(5);
  });
  it("a path built by appending reads the tangent too", () => {
    const m = new Nested();
    const g = gradient(m, (mm) => mm.simple.call(tensor([1, 1], { dtype: "float64" })));
    const joined = keyPath(m, "simple").appending(keyPath(new Simple(), "w"));
    expect(String(joined)).toBe("simple.w");
    expect(joined.get(g).toArray()).toEqual([1, 1]);
    expect(joined.get(m)).toBe(m.simple.w);
  });
  it("errors name the first missing container, for get and set, at every depth", () => {
    const kp = new WritableKeyPath<unknown, unknown>(["a", 0, "b", "c"]);
    expect(() => kp.get(undefined)).toThrow("KeyPath a.0.b.c: cannot read: (root) is undefined, which has no 'a'");
    expect(() => kp.get({})).toThrow("KeyPath a.0.b.c: cannot read: a is undefined, which has no '0'");
    expect(() => kp.get({ a: [] })).toThrow("KeyPath a.0.b.c: cannot read: a.0 is undefined, which has no 'b'");
    expect(() => kp.get({ a: [{ b: null }] })).toThrow("KeyPath a.0.b.c: cannot read: a.0.b is null, which has no 'c'");
    expect(kp.get({ a: [{ b: {} }] })).toBeUndefined(); // only the last value may be missing
    expect(() => kp.set({ a: [{}] }, 1)).toThrow(/^KeyPath a\.0\.b\.c: cannot write: a\.0\.b is undefined \(/);
    expect(() => kp.set({ a: [{ b: Object.freeze({ c: 1 }) }] }, 2)).toThrow(/KeyPath a\.0\.b\.c: cannot write: a\.0\.b is an instance of Object \(.*read only/);
    const m = new Stack();
    const g = gradient(m, (mm) => mm.layers[0]!.call(tensor([1, 2], { dtype: "float64" })));
    expect(() => new KeyPath(["layers", 5, "w"]).get(g)).toThrow("KeyPath layers.5.w: cannot read: layers.5 is undefined, which has no 'w'");
  });
});
