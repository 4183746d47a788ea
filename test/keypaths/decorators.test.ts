import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { Tensor, tensor, zeros, gradient, differentiable, noDerivative, storedProperties, NoDerivative, leavesOfForTest } from "./walk-helpers.js";
import { REFLECT_METADATA_KEY } from "../../src/keypaths/decorators.js";
import { Simple, Mixed, Base, Derived, Nested } from "./fixtures.js";

/** Which decorator mode this file was compiled in (the vitest projects run it in both). */
const legacy = ((): boolean => {
  let seen = false;
  const probe = (_a: unknown, b: unknown): void => {
    seen = typeof b === "string";
  };
  class P {
    @(probe) x = zeros([1]);
  }
  void P;
  return seen;
})();

describe(`stored properties (${legacy ? "legacy" : "TC39"} decorators)`, () => {
  it("lists names and kinds from the decorators alone, superclass first", () => {
    expect(storedProperties(Simple)).toEqual([
      { name: "w", kind: "differentiable" },
      { name: "b", kind: "differentiable" },
    ]);
    expect(storedProperties(Derived).map((p) => `${p.name}:${p.kind}`)).toEqual([
      "w:differentiable", "n:noDerivative", "extra:differentiable", "label:noDerivative",
    ]);
    expect(storedProperties(Base).map((p) => p.name)).toEqual(["w", "n"]);
    expect(storedProperties(new Mixed()).map((p) => p.name)).toEqual(["w", "count", "name", "running", "b"]);
  });
  it("is cached and frozen", () => {
    expect(storedProperties(Nested)).toBe(storedProperties(Nested));
    expect(Object.isFrozen(storedProperties(Nested))).toBe(true);
  });
  it("an undecorated class has none", () => {
    expect(storedProperties(class Plain { x = 1; })).toEqual([]);
  });
  it("publishes the layout through reflect-metadata in legacy mode", () => {
    const R = Reflect as unknown as { getOwnMetadata(k: unknown, t: object): unknown };
    const meta = R.getOwnMetadata(REFLECT_METADATA_KEY, Derived) as { name: string }[] | undefined;
    if (legacy) expect(meta?.map((p) => p.name)).toEqual(["extra", "label"]);
    else expect(meta).toBeUndefined();
  });
});

describe("decorator misuse is a clear error", () => {
  it("static fields", () => {
    expect(() => {
      class S {
        @differentiable static w = zeros([1]);
      }
      return S;
    }).toThrow(/cannot decorate the static (field|member) w/);
  });
  it("a differentiable field named like a tangent method", () => {
    expect(() => {
      class S {
        @differentiable add = zeros([1]);
      }
      return S;
    }).toThrow(/cannot decorate a field named 'add'/);
    expect(() => {
      class S {
        @differentiable scaled = zeros([1]);
      }
      return S;
    }).toThrow(/tangent vector of the class has a method of that name/);
  });
  it("methods, accessors, getters, #private and symbol fields (TC39 contexts)", () => {
    const ctx = (over: Record<string, unknown>) => ({ kind: "field", name: "x", static: false, private: false, metadata: {}, ...over });
    const call = differentiable as unknown as (a: unknown, b: unknown) => void;
    expect(() => call(undefined, ctx({ kind: "method", name: "f" }))).toThrow(/applies to fields only, not to the method f/);
    expect(() => call(undefined, ctx({ kind: "accessor" }))).toThrow(/not to the accessor x/);
    expect(() => call(undefined, ctx({ kind: "getter" }))).toThrow(/not to the getter x/);
    expect(() => call(undefined, ctx({ private: true, name: "#x" }))).toThrow(/#private field #x/);
    expect(() => call(undefined, ctx({ name: Symbol("s") }))).toThrow(/symbol-keyed/);
    expect(() => call(undefined, ctx({ metadata: undefined }))).toThrow(/metadata is unavailable/);
  });
  it("methods and accessors (legacy calls pass a descriptor)", () => {
    const call = noDerivative as unknown as (a: unknown, b: unknown, c?: unknown) => void;
    expect(() => call({}, "f", { value: () => 1 })).toThrow(/not to the method or accessor f/);
    expect(() => call(class {}, "s")).toThrow(/static member s/);
    expect(() => call({}, Symbol("s"))).toThrow(/symbol-keyed/);
    expect(() => call(1, 2)).toThrow(/must be used as a field decorator/);
  });
});

describe("the walk reports misdecorated fields on first use", () => {
  it("an undecorated field holding a tensor names the field and the decorators", () => {
    class Forgot {
      @differentiable w = tensor([1]);
      extra = tensor([2]);
    }
    expect(() => gradient(new Forgot(), (m) => m.w.sum())).toThrow(
      /field 'extra' of Forgot \(at extra\) holds a tensor but is not a stored property; decorate it with @differentiable/,
    );
  });
  it("an undecorated field holding a layer is reported too", () => {
    class Outer {
      @differentiable w = tensor([1]);
      inner = new Simple();
    }
    expect(() => leavesOfForTest(new Outer())).toThrow(/field 'inner' of Outer/);
  });
  it("undecorated numbers, strings and boxes are fine (not stored properties)", () => {
    class Fine {
      @differentiable w = tensor([1]);
      count = 1;
      box = new NoDerivative(tensor([1]));
    }
    expect(leavesOfForTest(new Fine())).toEqual(["w"]);
  });
  it("a @differentiable field holding a number, a string or numbers", () => {
    const make = (v: unknown) => {
      class Bad {
        @differentiable w = v as Tensor;
      }
      return new Bad();
    };
    expect(() => leavesOfForTest(make(3))).toThrow(/the @differentiable field at w holds a number.*rank-0 Tensor \(tensor\(3\)\)/);
    expect(() => leavesOfForTest(make("s"))).toThrow(/holds a string, which has no derivative; mark it @noDerivative/);
    expect(() => leavesOfForTest(make([1, 2]))).toThrow(/holds an array of length 2/);
    expect(() => leavesOfForTest(make(new NoDerivative(tensor(1))))).toThrow(/holds a NoDerivative box/);
    expect(leavesOfForTest(make(undefined))).toEqual([]);
  });
  it("a @noDerivative field holding a float tensor must be boxed", () => {
    class Stats {
      @differentiable w = tensor([1]);
      @noDerivative mean = tensor([0]) as unknown as number;
    }
    expect(() => leavesOfForTest(new Stats())).toThrow(/@noDerivative field 'mean' of Stats .* new NoDerivative\(t\)/);
  });
});
