/**
 * Structures the walk cannot take are errors at the call, naming the path and the fix: cycles (fast, not
 * a stack overflow), Map and Set containers, and classes with `#private` members (which a copy cannot
 * carry). Nothing is changed by a failed call.
 */
import { describe, expect, it } from "vitest";
import {
  Tensor,
  tensor,
  gradient,
  move,
  zeroTangentVector,
  differentiable,
  noDerivative,
  SGD,
  recursivelyAllKeyPaths,
  serializeCheckpoint,
  Dense,
} from "../../src/index.js";

class Node {
  @differentiable w = tensor([1, 2]);
  @differentiable children: Node[] = [];
}

describe("cycles", () => {
  const cyclic = () => {
    const root = new Node();
    const child = new Node();
    root.children.push(child);
    child.children.push(root);
    return root;
  };
  const calls: [string, (m: Node) => unknown, RegExp][] = [
    ["gradient", (m) => gradient(m, (n) => n.w.sum()), /the structure is cyclic: children\.0\.children\.0 is the same object as \(root\)/],
    ["move", (m) => move(m, { w: tensor([1, 1]), children: [] } as never), /move: the structure is cyclic: children\.0\.children\.0/],
    ["an optimizer", (m) => new SGD(m), /new SGD: the structure is cyclic: children\.0\.children\.0/],
    ["zeroTangentVector", (m) => zeroTangentVector(m), /the structure is cyclic/],
    ["key paths", (m) => recursivelyAllKeyPaths(m), /recursivelyAllKeyPaths: the structure is cyclic: children\.0\.children\.0/],
    ["a checkpoint", (m) => serializeCheckpoint(m), /checkpoint: the structure is cyclic/],
  ];
  it.each(calls)("%s reports the cycle by path, at once", (_name, call, message) => {
    const m = cyclic();
    const w = m.w;
    const start = performance.now();
    expect(() => call(m)).toThrow(message);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(m.w).toBe(w);
  });
  it("a shared sub-structure is not a cycle", () => {
    const leaf = new Node();
    const m = new Node();
    m.children.push(leaf, leaf);
    const g = gradient(m, (n) => n.children[0]!.w.sum().add(n.children[1]!.w.mul(2).sum()));
    expect(Array.from(g.children[0]!.w.dataSync())).toEqual([1, 1]);
    expect(Array.from(g.children[1]!.w.dataSync())).toEqual([2, 2]);
  });
});

describe("unsupported containers", () => {
  it("a Map or Set in a structure is an error naming the path", () => {
    const withMap = { layers: new Map([["a", tensor([1])]]) };
    expect(() => gradient(withMap, (m) => tensor(0).add(m.layers.size))).toThrow(
      /the value at layers is a Map, which the structural walk does not look into; hold the parts in an array, a plain object, or a class implementing CustomKeyPathIterable/,
    );
    expect(() => move({ w: tensor([1]), s: new Set([tensor([1])]) }, { w: tensor([1]) } as never)).toThrow(/move: the value at s is a Set/);
  });
  it("a Map or Set holding tensors or layers is an error for key paths and checkpoints too, not a silent omission", () => {
    class Holder {
      @differentiable layers = new Map([["a", new Dense({ inputSize: 1, outputSize: 1, seed: 0 })]]);
    }
    const hint = /the value at layers is a Map, which the structural walk does not look into; hold the parts in an array/;
    expect(() => serializeCheckpoint(new Holder())).toThrow(hint);
    expect(() => recursivelyAllKeyPaths(new Holder())).toThrow(hint);
    expect(() => serializeCheckpoint({ s: new Set([tensor([1])]) })).toThrow(/the value at s is a Set/);
    expect(() => serializeCheckpoint({ m: new Map([[tensor([1]), 1]]) })).toThrow(/the value at m is a Map/);
  });
  it("a Map in a @noDerivative field is fine: configuration, a value to key paths, not saved by checkpoints", () => {
    class M {
      @differentiable w = tensor([1]);
      @noDerivative cache = new Map<string, number>();
    }
    const m = new M();
    expect(Array.from(gradient(m, (mm) => mm.w.sum()).w.dataSync())).toEqual([1]);
    expect(recursivelyAllKeyPaths(m).map(String)).toEqual(["w", "cache"]);
    expect(() => serializeCheckpoint(m)).not.toThrow();
  });
});

describe("#private members", () => {
  class Scaled {
    @differentiable w: Tensor = tensor([1, 2]);
    #factor = 3;
    scaled(): Tensor {
      return this.w.mul(this.#factor);
    }
  }
  it("gradient reports the member and the fix instead of V8's 'Cannot read private member'", () => {
    expect(() => gradient(new Scaled(), (m) => m.scaled().sum())).toThrow(
      /gradient: Scaled \(at \(root\)\) has the #private member #factor; differentiation runs the model on a copy, which cannot carry #private members\. Use a TypeScript `private` field instead/,
    );
  });
  it("a #private member is recognised as esbuild lowers it, with or without whitespace (tsx strips it)", () => {
    // The check reads the class's source; these subclasses carry esbuild's lowering of `#k = 3` as text.
    const lowered = (call: string) =>
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the class's source text is what is under test
      new Function("Base", "__privateAdd", "_k", `return class Lowered extends Base { constructor() { super(); ${call}; } }`)(
        Scaled,
        () => {},
        new WeakMap(),
      ) as new () => Scaled;
    for (const call of ["__privateAdd(this, _k, 3)", "__privateAdd(this,_k,3)"]) {
      expect(() => gradient(new (lowered(call))(), (m) => m.w.sum())).toThrow(/gradient: Lowered \(at \(root\)\) has the #private member #/);
    }
  });
  it("in place operations work: move and optimizers do not copy", () => {
    const m = new Scaled();
    move(m, { w: tensor([1, 1]) });
    new SGD(m, { learningRate: 1 }).update(m, { w: tensor([1, 1]) });
    expect(Array.from(m.scaled().dataSync())).toEqual([3, 6]); // (w + 1 - 1) · 3
  });
  it("a constructor parameter property holding a tensor is reported at the first walk, with the fix", () => {
    class Param {
      constructor(private w: Tensor) {}
      scaled(): Tensor {
        return this.w.mul(2);
      }
    }
    const m = new Param(tensor([1, 2]));
    expect(() => new SGD(m)).toThrow(/field 'w' of Param \(at w\) holds a tensor but is not a stored property.*declare a public field `@differentiable w: Tensor;` and assign it in the constructor/);
    expect(() => gradient(m, (p) => p.scaled().sum())).toThrow(/not a stored property/);
  });
  it("a TypeScript private field is a plain field: decorated @noDerivative, it is carried", () => {
    class Hidden {
      @differentiable w: Tensor = tensor([1, 2]);
      @noDerivative private factor = 3;
      scaled(): Tensor {
        return this.w.mul(this.factor);
      }
    }
    expect(Array.from(gradient(new Hidden(), (m) => m.scaled().sum()).w.dataSync())).toEqual([3, 3]);
  });
});
