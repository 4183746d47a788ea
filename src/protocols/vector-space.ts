/**
 * The vector space of tangent vectors.
 *
 * `VectorSpace<V>` gathers in one interface what Swift splits over `AdditiveArithmetic`, `VectorProtocol`,
 * `PointwiseMultiplicative` and `ElementaryFunctions`. Every tangent vector is an instance: a `number`, a
 * `Tensor`, and arrays, plain records and class tangents of them (structurally, leaf by leaf). The free
 * functions below (`tangentAdd`, `tangentScale`, …) work on all of them; a class's runtime tangent also
 * has the same operations as methods (`g.add(h)`, `g.scaled(0.5)`).
 *
 * ## Laws
 * For tangents `u, v, w` of the same structure, scalars `a, b`, and `0 = tangentZerosLike(v)`,
 * `1 = tangentOnesLike(v)` (equalities up to floating-point rounding):
 *
 * Additive group (AdditiveArithmetic):
 * - `add(add(u, v), w) = add(u, add(v, w))` (associativity)
 * - `add(u, v) = add(v, u)` (commutativity)
 * - `add(v, 0) = v` (identity) and `sub(v, v) = 0`, `add(v, neg(v)) = 0` (inverse)
 * - `sub(u, v) = add(u, neg(v))`
 *
 * Scalar multiplication (VectorProtocol):
 * - `scaled(v, 1) = v`, `scaled(v, 0) = 0`
 * - `scaled(scaled(v, a), b) = scaled(v, a * b)` (compatibility)
 * - `scaled(add(u, v), a) = add(scaled(u, a), scaled(v, a))` and
 *   `scaled(v, a + b) = add(scaled(v, a), scaled(v, b))` (distributivity)
 * - `adding(v, a) = add(v, scaled(1, a))` (a scalar added to every element)
 *
 * Pointwise multiplication (PointwiseMultiplicative):
 * - `mul` is associative and commutative, with identity `1`: `mul(v, 1) = v`
 * - `mul(u, add(v, w)) = add(mul(u, v), mul(u, w))` (distributivity)
 * - `div(u, v) = mul(u, div(1, v))`, and `div(v, v) = 1` where `v` has no zero element
 *
 * Elementary functions: `sqrt(mul(v, v)) = |v|` elementwise.
 *
 * Inner product: `dot(u, v) = dot(v, u)`, `dot(add(u, w), v) = dot(u, v) + dot(w, v)`,
 * `dot(scaled(u, a), v) = a * dot(u, v)`, `dot(v, v) = squaredNorm(v) ≥ 0`, and `= 0` only for `v = 0`.
 *
 * `test/protocols/vector-space.test.ts` checks these laws with fast-check for numbers, tensors, arrays,
 * records and the tangents of fixture classes.
 */
import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { zeros, ones } from "../tensor/creation.js";
import { isPlainObject, pathString, describe, walk, mapLeaves, forEachLeaf, rebuildNode, type Segment } from "../keypaths/walk.js";
import { isTangentStruct } from "./structs.js";

/**
 * The operations every tangent vector supports (Swift's `AdditiveArithmetic`, `VectorProtocol`,
 * `PointwiseMultiplicative` and `ElementaryFunctions`, in one place). The laws are in this module's doc.
 * A class's runtime tangent implements it; for any tangent use the free functions (`tangentAdd`, …).
 *
 * @typeParam V the vector type itself.
 * @example
 * ```ts
 * class Linear {
 *   @differentiable weight = ones([2]);
 * }
 * const g = gradient(new Linear(), (m) => m.weight.mul(tensor([1, 2])).sum());
 * // A class's gradient is its runtime tangent, which has the operations as methods:
 * const step = (g as unknown as VectorSpace<typeof g>).scaled(-0.1);
 * step.weight; // [-0.1, -0.2]
 * // The same, typed for any tangent:
 * tangentScale(g, -0.1).weight; // [-0.1, -0.2]
 * ```
 * @category Differentiable types
 */
export interface VectorSpace<V> {
  /** `this + other`, leaf by leaf. @param other a vector of the same structure. @returns the sum. */
  add(other: V): V;
  /** `this - other`, leaf by leaf. @param other a vector of the same structure. @returns the difference. */
  sub(other: V): V;
  /** `by * this` (Swift's `scaled(by:)`). @param by the scalar. @returns the scaled vector. */
  scaled(by: number): V;
  /** `this + scalar` on every element (Swift's `adding(_:)`). @param scalar the number to add. @returns the shifted vector. */
  adding(scalar: number): V;
  /** Pointwise product. @param other a vector of the same structure. @returns the product. */
  mul(other: V): V;
  /** Pointwise quotient. @param other a vector of the same structure. @returns the quotient. */
  div(other: V): V;
  /** `-this`. @returns the additive inverse. */
  neg(): V;
  /** Pointwise square root. @returns the root of every element. */
  sqrt(): V;
  /** The inner product: the sum over every element of `this * other`. @param other a vector of the same structure. @returns a number. */
  dot(other: V): number;
  /** `dot(this, this)`. @returns the squared Euclidean norm. */
  squaredNorm(): number;
}

/** A leaf of a tangent vector. */
type TangentLeaf = Tensor | number;

/**
 * @internal Applies `f` to every leaf of the tangent `a`, keeping its structure (arrays, records, class
 * tangents with their prototype); `null`/`undefined` are carried.
 */
export function mapTangent(op: string, a: unknown, f: (x: TangentLeaf, path: readonly Segment[]) => TangentLeaf): unknown {
  return mapLeaves(op, "tangent", a, (x, path) => f(x as TangentLeaf, path));
}

/**
 * @internal Combines two tangents of the same structure leaf by leaf with `f`, keeping the structure of
 * `a`. A mismatch (missing field, other length, leaf against container) is an error naming its path.
 */
export function zipTangents(
  op: string,
  a: unknown,
  b: unknown,
  f: (x: TangentLeaf, y: TangentLeaf, path: readonly Segment[]) => TangentLeaf,
): unknown {
  const mismatch = (path: readonly Segment[], what: string): never => {
    throw new TypeError(`${op}: the tangents differ in structure at ${pathString(path)}: ${what}`);
  };
  const isRecord = (y: unknown): y is Record<string, unknown> =>
    typeof y === "object" && y !== null && !Array.isArray(y) && (isPlainObject(y) || isTangentStruct(y));
  return walk<unknown>(op, "tangent", a, {
    leaf(x, path, [y]) {
      if (typeof y !== "number" && !(y instanceof Tensor)) return mismatch(path, `a leaf against ${describe(y)}`);
      return f(x as TangentLeaf, y, path);
    },
    constant(x, path, [y]) {
      if (y !== null && y !== undefined) mismatch(path, `${describe(x)} against ${describe(y)}`);
      return x;
    },
    enter(kind, x, keys, path, [y]) {
      if (kind === "array") {
        if (!Array.isArray(y) || y.length !== (x as unknown[]).length) mismatch(path, `an array of length ${(x as unknown[]).length} against ${describe(y)}`);
        return;
      }
      if (!isRecord(y)) return mismatch(path, `a record against ${describe(y)}`);
      if (Object.keys(y).length !== keys.length) mismatch(path, `fields [${keys.join(", ")}] against [${Object.keys(y).join(", ")}]`);
      for (const k of keys) if (!Object.hasOwn(y, k)) mismatch(path, `the second has no field '${String(k)}'`);
    },
    node: (kind, x, keys, results) => rebuildNode(kind, x, keys, results),
  }, { others: [b] });
}

/** @internal Visits every leaf of the tangent `a`. */
function forEachTangentLeaf(op: string, a: unknown, f: (x: TangentLeaf) => void): void {
  forEachLeaf(op, "tangent", a, (x) => f(x as TangentLeaf));
}

function sumOf(x: TangentLeaf): number {
  return typeof x === "number" ? x : x.sum().item();
}

function checkScalar(op: string, s: unknown): number {
  if (typeof s !== "number") throw new TypeError(`${op}: the scalar must be a number, got ${describe(s)}`);
  return s;
}

function binary(op: string, a: TangentLeaf, b: TangentLeaf, path: readonly Segment[], n: (x: number, y: number) => number, t: (x: Tensor, y: TangentLeaf) => Tensor): TangentLeaf {
  if (typeof a === "number") {
    if (typeof b === "number") return n(a, b);
    if (b.size !== 1) throw new RangeError(`${op}: at ${pathString(path)} a number meets a Tensor of shape ${fmt(b.shape)}`);
    return n(a, b.item());
  }
  if (b instanceof Tensor && b.size !== a.size && b.size !== 1 && a.size !== 1) {
    throw new RangeError(`${op}: at ${pathString(path)} the tangents have shapes ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
  return t(a, b);
}

/**
 * The sum of two tangents of the same structure, leaf by leaf.
 * @param a a tangent (number, Tensor, or array/record/class tangent of them).
 * @param b a tangent of the same structure and shapes.
 * @returns `a + b`, with the structure of `a`.
 * @example
 * ```ts
 * tangentAdd({ w: tensor([1, 2]) }, { w: tensor([3, 4]) }).w; // [4, 6]
 * tangentAdd([1, tensor([2])], [3, tensor([4])]);             // [4, [6]]
 * ```
 * @category Differentiable types
 */
export function tangentAdd<V>(a: V, b: V): V {
  return zipTangents("tangentAdd", a, b, (x, y, p) => binary("tangentAdd", x, y, p, (u, v) => u + v, (u, v) => u.add(v))) as V;
}

/**
 * The difference of two tangents of the same structure, leaf by leaf.
 * @param a a tangent. @param b a tangent of the same structure.
 * @returns `a - b`.
 * @example
 * ```ts
 * tangentSub([3, tensor([1])], [1, tensor([1])]); // [2, [0]]
 * tangentSub({ w: tensor([3, 4]) }, { w: tensor([1, 2]) }).w; // [2, 2]
 * ```
 * @category Differentiable types
 */
export function tangentSub<V>(a: V, b: V): V {
  return zipTangents("tangentSub", a, b, (x, y, p) => binary("tangentSub", x, y, p, (u, v) => u - v, (u, v) => u.sub(v))) as V;
}

/**
 * Pointwise product of two tangents (Swift's `.*`).
 * @param a a tangent. @param b a tangent of the same structure.
 * @returns `a ⊙ b`.
 * @example
 * ```ts
 * tangentMul({ w: tensor([2, 3]) }, { w: tensor([4, 5]) }).w; // [8, 15]
 * ```
 * @category Differentiable types
 */
export function tangentMul<V>(a: V, b: V): V {
  return zipTangents("tangentMul", a, b, (x, y, p) => binary("tangentMul", x, y, p, (u, v) => u * v, (u, v) => u.mul(v))) as V;
}

/**
 * Pointwise quotient of two tangents (Swift's `./`).
 * @param a a tangent. @param b a tangent of the same structure.
 * @returns `a ⊘ b`.
 * @example
 * ```ts
 * tangentDiv({ w: tensor([8, 15]) }, { w: tensor([4, 5]) }).w; // [2, 3]
 * ```
 * @category Differentiable types
 */
export function tangentDiv<V>(a: V, b: V): V {
  return zipTangents("tangentDiv", a, b, (x, y, p) => binary("tangentDiv", x, y, p, (u, v) => u / v, (u, v) => u.div(v))) as V;
}

/**
 * A tangent multiplied by a scalar (Swift's `scaled(by:)`).
 * @param a a tangent. @param by the scalar.
 * @returns `by · a`.
 * @example
 * ```ts
 * tangentScale({ w: tensor([1, 2]) }, 3).w; // [3, 6]
 * // A step of gradient descent on a model:
 * const model = new Dense({ inputSize: 3, outputSize: 1, seed: 0 });
 * model.move(tangentScale(gradient(model, (m) => m.callAsFunction(x).sum()), -0.1));
 * model.bias; // [-0.2]
 * ```
 * @category Differentiable types
 */
export function tangentScale<V>(a: V, by: number): V {
  const s = checkScalar("tangentScale", by);
  return mapTangent("tangentScale", a, (x) => (typeof x === "number" ? x * s : x.mul(s))) as V;
}

/**
 * A scalar added to every element of a tangent (Swift's `adding(_:)`).
 * @param a a tangent. @param scalar the number to add.
 * @returns `a + scalar` elementwise.
 * @example
 * ```ts
 * tangentAddScalar([1, tensor([1, 2])], 1); // [2, [2, 3]]
 * ```
 * @category Differentiable types
 */
export function tangentAddScalar<V>(a: V, scalar: number): V {
  const s = checkScalar("tangentAddScalar", scalar);
  return mapTangent("tangentAddScalar", a, (x) => (typeof x === "number" ? x + s : x.add(s))) as V;
}

/**
 * The additive inverse of a tangent.
 * @param a a tangent. @returns `-a`.
 * @example
 * ```ts
 * tangentNeg({ w: tensor([1, -2]) }).w; // [-1, 2]
 * ```
 * @category Differentiable types
 */
export function tangentNeg<V>(a: V): V {
  return mapTangent("tangentNeg", a, (x) => (typeof x === "number" ? -x : x.neg())) as V;
}

/**
 * The pointwise square root of a tangent (used by Adam-like rules).
 * @param a a tangent with non-negative elements. @returns `√a` elementwise.
 * @example
 * ```ts
 * tangentSqrt({ v: tensor([4, 9]) }).v; // [2, 3]
 * ```
 * @category Differentiable types
 */
export function tangentSqrt<V>(a: V): V {
  return mapTangent("tangentSqrt", a, (x) => (typeof x === "number" ? Math.sqrt(x) : x.sqrt())) as V;
}

/**
 * The inner product of two tangents: the sum of the pointwise product over every element of every leaf.
 * @param a a tangent. @param b a tangent of the same structure.
 * @returns a number.
 * @example
 * ```ts
 * tangentDot({ w: tensor([1, 2]) }, { w: tensor([3, 4]) }); // 11
 * ```
 * @category Differentiable types
 */
export function tangentDot<V>(a: V, b: V): number {
  let total = 0;
  zipTangents("tangentDot", a, b, (x, y, p) => {
    const prod = binary("tangentDot", x, y, p, (u, v) => u * v, (u, v) => u.mul(v));
    total += sumOf(prod);
    return prod;
  });
  return total;
}

/**
 * The squared Euclidean norm of a tangent, `tangentDot(a, a)`.
 * @param a a tangent. @returns the sum of the squares of every element.
 * @example
 * ```ts
 * tangentSquaredNorm([3, tensor([4])]); // 25
 * // The global norm of a model's gradient:
 * const dense = new Dense({ inputSize: 3, outputSize: 1, seed: 0 });
 * Math.sqrt(tangentSquaredNorm(gradient(dense, (d) => d.callAsFunction(x).sum()))); // 12.6095
 * ```
 * @category Differentiable types
 */
export function tangentSquaredNorm<V>(a: V): number {
  let total = 0;
  forEachTangentLeaf("tangentSquaredNorm", a, (x) => {
    total += typeof x === "number" ? x * x : x.square().sum().item();
  });
  return total;
}

/**
 * The zero tangent with the structure and shapes of `a` (additive identity).
 * @param a a tangent. @returns zeros shaped like `a`.
 * @example
 * ```ts
 * tangentZerosLike({ w: tensor([1, 2]) }).w; // [0, 0]
 * ```
 * @category Differentiable types
 */
export function tangentZerosLike<V>(a: V): V {
  return mapTangent("tangentZerosLike", a, (x) => (typeof x === "number" ? 0 : zeros(x.shape, { dtype: x.dtype }))) as V;
}

/**
 * The tangent of ones with the structure and shapes of `a` (identity of `tangentMul`).
 * @param a a tangent. @returns ones shaped like `a`.
 * @example
 * ```ts
 * tangentOnesLike({ w: tensor([5, 6]) }).w; // [1, 1]
 * ```
 * @category Differentiable types
 */
export function tangentOnesLike<V>(a: V): V {
  return mapTangent("tangentOnesLike", a, (x) => (typeof x === "number" ? 1 : ones(x.shape, { dtype: x.dtype }))) as V;
}

/**
 * Applies a function to every leaf of a tangent, keeping its structure: the building block of optimizer
 * rules over whole tangents.
 * @param a a tangent.
 * @param f maps a leaf (a Tensor or a number) and its path to the new leaf.
 * @returns the mapped tangent.
 * @example
 * ```ts
 * const g = { w: tensor([-2, 3]), b: tensor([0.5]) };
 * // signSGD's update direction: the sign of every gradient element.
 * const direction = tangentMap(g, (t) => (typeof t === "number" ? Math.sign(t) : t.sign()));
 * direction.w; // [-1, 1]
 * direction.b; // [1]
 * ```
 * @category Differentiable types
 */
export function tangentMap<V>(a: V, f: (leaf: Tensor | number, path: readonly (string | number)[]) => Tensor | number): V {
  return mapTangent("tangentMap", a, (x, p) => f(x, p.slice())) as V;
}

/**
 * Combines two tangents of the same structure leaf by leaf.
 * @param a a tangent. @param b a tangent of the same structure.
 * @param f maps the two leaves and their path to the new leaf.
 * @returns a tangent with the structure of `a`.
 * @example
 * ```ts
 * // An exponential moving average of gradients (momentum's first moment):
 * const m = { w: tensor([1, 1]) };
 * const g = { w: tensor([3, -1]) };
 * const next = tangentZip(m, g, (mi, gi) => (mi as Tensor).mul(0.9).add((gi as Tensor).mul(0.1)));
 * next.w; // [1.2, 0.8]
 * ```
 * @category Differentiable types
 */
export function tangentZip<V>(a: V, b: V, f: (x: Tensor | number, y: Tensor | number, path: readonly (string | number)[]) => Tensor | number): V {
  return zipTangents("tangentZip", a, b, (x, y, p) => f(x, y, p.slice())) as V;
}
