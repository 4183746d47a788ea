/**
 * The one structural walk, checked by properties over generated structures: nested decorated classes,
 * plain objects, arrays, containers that list their own children, shared tensors, and constant and
 * `@noDerivative` fields. Map/zip/fold laws hold, and every feature (gradient, key paths, move, the
 * optimizers, checkpoints) agrees on the set of parameters and on ties.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  Tensor,
  tensor,
  gradient,
  move,
  differentiable,
  noDerivative,
  keyPathChildren,
  differentiableKeyPaths,
  tangentMap,
  tangentDot,
  tangentSquaredNorm,
  zeroTangentVector,
  SGD,
  Adam,
  serializeCheckpoint,
  deserializeCheckpoint,
  decodeSafetensors,
  type CustomKeyPathIterable,
} from "../../src/index.js";
import { leavesOf, mapLeaves, foldLeaves, walk } from "../../src/keypaths/walk.js";

/** A differentiable field may hold any generated structure; `object` stands for all of them. */
type Part = object;

class Pair {
  @differentiable left: Part;
  @differentiable right: Part;
  @noDerivative tag = "pair";
  @noDerivative count = 2;
  constructor(left: Part, right: Part) {
    this.left = left;
    this.right = right;
  }
}

class Bag implements CustomKeyPathIterable {
  [keyPathChildren](): readonly string[] {
    return Object.keys(this);
  }
}

/** A structure's recipe: tensors come from a pool by id, so equal ids are one shared tensor. */
type Spec =
  | { kind: "tensor"; id: number }
  | { kind: "array"; items: Spec[] }
  | { kind: "record"; fields: [string, Spec][]; constant: number }
  | { kind: "pair"; left: Spec; right: Spec }
  | { kind: "bag"; fields: [string, Spec][] };

const specs = fc.letrec<{ spec: Spec }>((tie) => ({
  spec: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ kind: fc.constant("tensor" as const), id: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ kind: fc.constant("array" as const), items: fc.array(tie("spec"), { minLength: 1, maxLength: 3 }) }),
    fc.record({
      kind: fc.constant("record" as const),
      fields: fc.uniqueArray(fc.tuple(fc.constantFrom("a", "b", "c"), tie("spec")), { minLength: 1, maxLength: 3, selector: ([k]) => k }),
      constant: fc.integer({ min: 0, max: 9 }),
    }),
    fc.record({ kind: fc.constant("pair" as const), left: tie("spec"), right: tie("spec") }),
    fc.record({
      kind: fc.constant("bag" as const),
      fields: fc.uniqueArray(fc.tuple(fc.constantFrom("x", "y"), tie("spec")), { minLength: 1, maxLength: 2, selector: ([k]) => k }),
    }),
  ),
})).spec;

/** The root is always an object (a model), so that numbers inside are constants. */
const models = fc.tuple(specs, specs).map(([a, b]): Spec => ({ kind: "pair", left: a, right: b }));

function pool(seed: number): Tensor[] {
  return Array.from({ length: 6 }, (_, i) => tensor(Array.from({ length: (i % 3) + 1 }, (_, j) => seed + i + j / 10), { dtype: "float64" }));
}

function build(spec: Spec, tensors: Tensor[]): unknown {
  switch (spec.kind) {
    case "tensor":
      return tensors[spec.id]!;
    case "array":
      return spec.items.map((s) => build(s, tensors));
    case "record":
      return Object.fromEntries([...spec.fields.map(([k, s]) => [k, build(s, tensors)]), ["n", spec.constant]]);
    case "pair":
      return new Pair(build(spec.left, tensors) as Part, build(spec.right, tensors) as Part);
    case "bag":
      return Object.assign(new Bag(), Object.fromEntries(spec.fields.map(([k, s]) => [k, build(s, tensors)])));
  }
}

/** The paths of each tensor object, in walk order: the ties of a structure. */
function ties(x: unknown): string[][] {
  const byTensor = new Map<Tensor, string[]>();
  for (const l of leavesOf("test", x)) {
    const paths = byTensor.get(l.value) ?? [];
    paths.push(l.path.join("."));
    byTensor.set(l.value, paths);
  }
  return [...byTensor.values()];
}

const sumOfLeaves = (m: unknown) => leavesOf("test", m).reduce((s: Tensor, l) => s.add(l.value.sum()), tensor(0, { dtype: "float64" }));

describe("laws", () => {
  it("map by the identity rebuilds the same leaves; map composes; fold counts the leaves", () => {
    fc.assert(
      fc.property(models, (spec) => {
        const x = build(spec, pool(1));
        const leaves = leavesOf("test", x).map((l) => l.value);
        const same = mapLeaves("test", "differentiable", x, (v) => v);
        expect(leavesOf("test", same).map((l) => l.value)).toEqual(leaves);
        leavesOf("test", same).forEach((l, i) => expect(l.value).toBe(leaves[i]));
        const g = zeroTangentVector(x);
        const f = (t: Tensor | number) => (t as Tensor).add(1);
        const h = (t: Tensor | number) => (t as Tensor).mul(3);
        const composed = tangentMap(g, (t) => f(h(t)));
        const inTurn = tangentMap(tangentMap(g, h), f);
        expect(foldLeaves("test", "tangent", composed, [] as number[], (acc, t) => [...acc, ...(t as Tensor).dataSync()])).toEqual(
          foldLeaves("test", "tangent", inTurn, [] as number[], (acc, t) => [...acc, ...(t as Tensor).dataSync()]),
        );
        expect(foldLeaves("test", "differentiable", x, 0, (n) => n + 1)).toBe(leaves.length);
        // With the identity cache, a shared tensor is visited once.
        expect(foldLeaves("test", "differentiable", x, 0, (n) => n + 1, { shared: true })).toBe(new Set(leaves).size);
      }),
      { numRuns: 60 },
    );
  });

  it("zip of a tangent with itself agrees with fold: dot(g, g) = squaredNorm(g)", () => {
    fc.assert(
      fc.property(models, (spec) => {
        const x = build(spec, pool(2));
        const g = gradient(x, (m) => sumOfLeaves(m).square());
        expect(tangentDot(g, g)).toBeCloseTo(tangentSquaredNorm(g), 6);
      }),
      { numRuns: 40 },
    );
  });

  it("a rebuild with the identity cache keeps shared tensors shared", () => {
    fc.assert(
      fc.property(models, (spec) => {
        const x = build(spec, pool(3));
        const copy = walk<unknown>("test", "differentiable", x, {
          leaf: (v) => (v as Tensor).mul(2),
          node: (kind, v, keys, results) => (kind === "array" ? results : Object.assign(Object.create(Object.getPrototypeOf(v) as object) as object, v, Object.fromEntries(keys.map((k, j) => [k, results[j]])))),
        }, { shared: true });
        expect(ties(copy)).toEqual(ties(x));
      }),
      { numRuns: 40 },
    );
  });
});

describe("every feature agrees on the parameters and on ties", () => {
  it("gradient, key paths, move, SGD, Adam and a checkpoint round trip", () => {
    fc.assert(
      fc.property(models, (spec) => {
        const x = build(spec, pool(4));
        const paths = leavesOf("test", x).map((l) => l.path.join("."));
        const tied = ties(x);
        const unique = tied.length;
        // Gradient: one entry per path; key paths: the same paths.
        const g = gradient(x, sumOfLeaves);
        expect(leavesOf("test", g).length).toBe(paths.length);
        expect(differentiableKeyPaths(x).map(String)).toEqual(paths);
        // move: each tensor moves once, by the sum over its paths (every partial is 1 here), and stays shared.
        const moved = build(spec, pool(4));
        const before = leavesOf("test", moved).map((l) => Array.from(l.value.dataSync()));
        move(moved, g);
        expect(ties(moved)).toEqual(tied);
        const pathCount = new Map(tied.flatMap((group) => group.map((p) => [p, group.length] as const)));
        leavesOf("test", moved).forEach((l, i) => {
          const k = pathCount.get(paths[i]!)!;
          expect(Array.from(l.value.dataSync())).toEqual(before[i]!.map((v) => v + k));
        });
        // SGD with rate 1 is move by the negated gradient; Adam keeps ties and one state per tensor.
        const bySGD = build(spec, pool(4)) as Part;
        const sgd = new SGD<Part>(bySGD, { learningRate: 1 });
        sgd.update(bySGD, gradient(bySGD, sumOfLeaves));
        expect(ties(bySGD)).toEqual(tied);
        leavesOf("test", bySGD).forEach((l, i) => {
          expect(Array.from(l.value.dataSync())).toEqual(before[i]!.map((v) => v - pathCount.get(paths[i]!)!));
        });
        const byAdam = build(spec, pool(4)) as Part;
        const adam = new Adam<Part>(byAdam);
        adam.update(byAdam, gradient(byAdam, sumOfLeaves));
        expect(ties(byAdam)).toEqual(tied);
        expect(Object.keys(adam.state().parameterSteps)).toEqual(tied.map((group) => group[0]));
        // Checkpoint: each tensor stored once, restored with the same ties into a model built untied.
        const bytes = serializeCheckpoint(x as object);
        expect([...decodeSafetensors(bytes).tensors.keys()].sort()).toEqual(tied.map((group) => group[0]!).sort());
        const fresh = build(spec, pool(9).map((t) => t)) as object;
        const untied = walk<unknown>("test", "differentiable", fresh, { leaf: (v) => (v as Tensor).add(0), node: (_k, v, keys, results) => {
          keys.forEach((k, j) => ((v as Record<string | number, unknown>)[k] = results[j]));
          return v;
        } }) as object;
        deserializeCheckpoint(bytes, untied);
        expect(ties(untied)).toEqual(tied);
        expect(leavesOf("test", untied).map((l) => Array.from(l.value.dataSync()))).toEqual(leavesOf("test", x).map((l) => Array.from(l.value.dataSync())));
        expect(unique).toBe(new Set(leavesOf("test", x).map((l) => l.value)).size);
      }),
      { numRuns: 40 },
    );
  });
});
