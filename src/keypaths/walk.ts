/**
 * The one structural walk of the library. Every feature that needs "the differentiable parts of a value"
 * goes through here: lifting inputs for differentiation, building tangent vectors, reading tangents given
 * by users, key paths, optimizers and checkpoints.
 *
 * A value is walked as:
 * - a `number` or a float `Tensor`: a leaf;
 * - an array: its elements, by index;
 * - a plain object (prototype `Object.prototype` or `null`), or a class tangent built by the library: its
 *   own enumerable string keys, in order;
 * - an instance of a class implementing `CustomKeyPathIterable`: the keys it lists;
 * - an instance of any other class: its `@differentiable` stored properties, superclass first.
 *
 * Below an object (plain or class), at any depth and also through arrays, numbers, strings, booleans,
 * functions, `null`/`undefined`, int32 tensors and `NoDerivative` boxes are constants: carried unchanged
 * and absent from the tangent. So is a field whose value holds no leaf at all (an array of numbers, a
 * configuration object, a parameterless layer). The type `TangentVector<T>` mirrors exactly these rules;
 * see `src/keypaths/README.md`.
 */
import { Tensor } from "../tensor/tensor.js";
import { isTracer } from "../autodiff/trace.js";
import { fmt, sameShape } from "../tensor/shape.js";
import { scalar } from "../tensor/creation.js";
import { zeros } from "../tensor/creation.js";
import { storedProperties, type StoredProperty } from "./decorators.js";
import { NoDerivative } from "../protocols/differentiable.js";
import { isTangentStruct } from "../protocols/structs.js";

/** A class (constructor) of any signature, as `instance.constructor` is typed. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Ctor = Function;

/** One path segment: a field name or an array index. * @example
 * ```ts
 * new KeyPath(["layers", 0, "weight"]).toString(); // "layers.0.weight"
 * ```
 */
export type Segment = string | number;

/**
 * The method name under which a class implementing {@link CustomKeyPathIterable} lists its children.
 * A well-known symbol, so it never collides with a field.
 * @example
 * ```ts
 * class Blocks implements CustomKeyPathIterable {
 *   [keyPathChildren]() { return Object.keys(this); }
 * }
 * ```
 */
export const keyPathChildren: unique symbol = Symbol.for("difftypes.keyPathChildren");

/**
 * A class whose differentiable children are not fixed by decorators but listed by each instance (a
 * container of layers keyed at run time). The walk, and therefore AD, key paths, tangents and optimizers,
 * descend into exactly the keys returned, each treated like a `@differentiable` field. Declare the tangent
 * type with {@link TangentVectorType} so that `TangentVector<C>` knows it.
 *
 * @example
 * ```ts
 * class LayerDict implements CustomKeyPathIterable {
 *   declare readonly [TangentVectorType]?: Record<string, TangentVector<Dense>>;
 *   [keyPathChildren](): readonly string[] { return Object.keys(this); }
 * }
 * ```
 */
export interface CustomKeyPathIterable {
  /**
   * The instance's children, in order: own property names whose values the walk descends into.
   * @returns the keys.
   */
  [keyPathChildren](): readonly string[];
}

/** @internal A differentiable leaf found by the walk. */
export interface Leaf {
  /** Where the leaf is, from the root. */
  readonly path: readonly Segment[];
  /** The leaf as a tensor (a number leaf becomes a float32 scalar). */
  readonly value: Tensor;
  /** Whether the leaf was a number (its tangent is then a number too). */
  readonly isNumber: boolean;
}

/** @internal The printable form of a path: `layers.0.weight`; the root is `(root)`. */
export function pathString(path: readonly Segment[]): string {
  return path.length === 0 ? "(root)" : path.join(".");
}

/** @internal Whether `x` is a plain object: prototype `Object.prototype` or `null`. */
export function isPlainObject(x: object): boolean {
  const p = Object.getPrototypeOf(x) as unknown;
  return p === Object.prototype || p === null;
}

/** @internal Whether `x` lists its own children ({@link CustomKeyPathIterable}). */
export function isCustomIterable(x: object): x is CustomKeyPathIterable {
  return typeof (x as Partial<CustomKeyPathIterable>)[keyPathChildren] === "function";
}

/** @internal A short description of a value for error messages. */
export function describe(x: unknown): string {
  if (x === null) return "null";
  if (x === undefined) return "undefined";
  if (x instanceof Tensor) return `an ${x.dtype} Tensor`;
  if (x instanceof NoDerivative) return "a NoDerivative box";
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (typeof x === "object") return `an instance of ${(x.constructor as Ctor | undefined)?.name ?? "an unknown class"}`;
  return `a ${typeof x}`;
}

/**
 * True when `x` holds a float tensor somewhere below it, through arrays, plain objects and class
 * instances (used to catch undecorated fields and `@noDerivative` fields that should be boxed).
 */
function holdsTensor(x: unknown, depth = 0): boolean {
  if (x instanceof Tensor) return x.dtype !== "int32";
  if (depth > 6 || typeof x !== "object" || x === null || x instanceof NoDerivative) return false;
  if (Array.isArray(x)) return x.some((v) => holdsTensor(v, depth + 1));
  if (!isPlainObject(x) && (isCustomIterable(x) || storedProperties(x).some((p) => p.kind === "differentiable"))) return true;
  return Object.values(x).some((v) => holdsTensor(v, depth + 1));
}

// Instances already checked for misdecorated fields: the check runs on an instance's first walk only.
const checked = new WeakSet<object>();

/**
 * @internal The differentiable children of a class instance, checked on its first walk: every undecorated
 * field holding a tensor or a differentiable object is an error naming the decorator to add, and so is a
 * `@noDerivative` field holding a float tensor (which the type `TangentVector` would count as
 * differentiable; such state belongs in a `NoDerivative` box).
 */
export function classChildren(op: string, x: object, path: readonly Segment[]): readonly string[] {
  if (isCustomIterable(x)) return x[keyPathChildren]();
  const props = storedProperties(x);
  if (!checked.has(x)) {
    const kinds = new Map(props.map((p) => [p.name, p.kind]));
    for (const key of Object.keys(x)) {
      const kind = kinds.get(key);
      if (kind === "differentiable") continue;
      const value = (x as Record<string, unknown>)[key];
      if (!holdsTensor(value)) continue;
      const where = pathString([...path, key]);
      if (kind === undefined) {
        throw new TypeError(
          `${op}: field '${key}' of ${x.constructor.name} (at ${where}) holds a tensor but is not a stored property; ` +
            `decorate it with @differentiable (to learn it), or wrap it in a NoDerivative box and decorate it with ` +
            `@noDerivative (to keep it constant)`,
        );
      }
      throw new TypeError(
        `${op}: the @noDerivative field '${key}' of ${x.constructor.name} (at ${where}) holds ${describe(value)}; ` +
          `the type TangentVector<${x.constructor.name}> would count it as differentiable. Keep non-differentiable ` +
          `tensors in a box: \`@noDerivative ${key} = new NoDerivative(t)\`, read and write them as ${key}.value`,
      );
    }
    checked.add(x);
  }
  let names = differentiableNames.get(props);
  if (names === undefined) {
    names = Object.freeze(props.filter((p) => p.kind === "differentiable").map((p) => p.name));
    differentiableNames.set(props, names);
  }
  return names;
}

// The differentiable field names of a layout (layouts are cached and frozen, so they key this cache).
const differentiableNames = new WeakMap<readonly StoredProperty[], readonly string[]>();

/** @internal How the walk sees one value. */
export type NodeKind = "number" | "tensor" | "array" | "object" | "class" | "constant";

/**
 * @internal Where a value sits: `0` at the root or in arrays reached from the root through arrays only
 * (numbers are leaves); `1` in a field of a plain object; `2` in a `@differentiable` field or a custom
 * child of a class; `3` in an array below an object. Below an object (1, 2, 3) numbers are constants; in
 * a field (1, 2) a value holding no leaf is a constant too (the field vanishes from the tangent), while
 * an array element keeps its place (a parameterless layer in a list of layers has an empty tangent).
 */
export type Context = 0 | 1 | 2 | 3;

/**
 * @internal Classifies `v` ignoring whether it holds leaves. Below an object, numbers, strings, int32
 * tensors, boxes and other non-differentiable values are constants; at the root or in a root-level array
 * they are errors, except numbers, which are leaves there.
 */
export function classify(op: string, v: unknown, path: readonly Segment[], inObject: boolean): NodeKind {
  if (v === null || v === undefined) return "constant";
  if (typeof v === "number") return inObject ? "constant" : "number";
  if (v instanceof Tensor) {
    if (v.dtype !== "int32") return "tensor";
    if (inObject) return "constant";
    throw new TypeError(
      `${op}: cannot differentiate with respect to the int32 Tensor at ${pathString(path)} (shape ${fmt(v.shape)}); ` +
        `only float32 and float64 tensors have derivatives: cast it to a float dtype`,
    );
  }
  if (Array.isArray(v)) return "array";
  if (v instanceof NoDerivative) {
    if (inObject) return "constant";
    throw new TypeError(`${op}: the value at ${pathString(path)} is a NoDerivative box, which is never differentiated`);
  }
  if (typeof v === "object") return isPlainObject(v) || isTangentStruct(v) ? "object" : "class";
  if (inObject) return "constant";
  throw new TypeError(
    `${op}: cannot differentiate with respect to ${describe(v)} at ${pathString(path)}; ` +
      `differentiable values are numbers, float tensors, and arrays, plain objects or decorated classes of them`,
  );
}

/**
 * @internal Whether a value below an object holds no leaf, judged the way the type `TangentVector` judges
 * its declared type: primitives, int32 tensors and boxes hold none; a non-empty array or a plain object
 * holds none when none of its elements does; a class holds none when its layout has no differentiable
 * field. (An empty array is kept: `layers: Layer[] = []` is a differentiable field with no layers yet.)
 */
function leafless(v: unknown, depth = 0): boolean {
  if (v === null || v === undefined || typeof v !== "object") return true;
  if (v instanceof Tensor) return v.dtype === "int32";
  if (v instanceof NoDerivative) return true;
  if (depth > 8) return false;
  if (Array.isArray(v)) return v.length > 0 && v.every((e) => leafless(e, depth + 1));
  if (isPlainObject(v) || isTangentStruct(v)) {
    for (const k in v) if (Object.hasOwn(v, k) && !leafless((v as Record<string, unknown>)[k], depth + 1)) return false;
    return true;
  }
  return !isCustomIterable(v) && !hasDifferentiableLayout(v);
}

// Per class: whether its layout has a differentiable field (the layout itself is cached too, but this
// answer is asked for every class-valued field on every walk).
const differentiableLayouts = new WeakMap<Ctor, boolean>();

function hasDifferentiableLayout(v: object): boolean {
  const cls = v.constructor;
  let has = differentiableLayouts.get(cls);
  if (has === undefined) {
    has = storedProperties(v).some((p) => p.kind === "differentiable");
    if (typeof cls === "function") differentiableLayouts.set(cls, has);
  }
  return has;
}

/**
 * @internal The kind of `v` in context `ctx`: like {@link classify}, plus the context rules. In a field,
 * a container holding no leaf is a constant. In a `@differentiable` field (`ctx` 2), a primitive, a box or
 * an array holding no leaf is an error: the field is not differentiable (`null`/`undefined` are allowed,
 * and so is a parameterless object, whose tangent is empty and left out).
 */
export function nodeKind(op: string, v: unknown, path: readonly Segment[], ctx: Context): NodeKind {
  let kind = classify(op, v, path, ctx !== 0);
  if ((ctx === 1 || ctx === 2) && (kind === "array" || kind === "object" || kind === "class") && leafless(v)) {
    if (ctx === 2 && kind === "array") notDifferentiable(op, v, path);
    kind = "constant";
  } else if (ctx === 2 && kind === "constant" && v !== null && v !== undefined) {
    notDifferentiable(op, v, path);
  }
  return kind;
}

function notDifferentiable(op: string, v: unknown, path: readonly Segment[]): never {
  const hint = typeof v === "number"
    ? `a learnable scalar is a rank-0 Tensor (tensor(${v})), and a plain number field should be @noDerivative`
    : `mark it @noDerivative (a tensor that must not be differentiated goes in a NoDerivative box)`;
  throw new TypeError(`${op}: the @differentiable field at ${pathString(path)} holds ${describe(v)}, which has no derivative; ${hint}`);
}

/** @internal The context of the children of a node of kind `kind` found in context `ctx`. */
export function childContext(kind: "array" | "object" | "class", ctx: Context): Context {
  if (kind === "array") return ctx === 0 ? 0 : 3;
  return kind === "class" ? 2 : 1;
}

/** @internal The keys the walk descends into for an object or class node, in order. */
export function childKeys(op: string, kind: "object" | "class", v: object, path: readonly Segment[]): readonly string[] {
  return kind === "object" ? Object.keys(v) : classChildren(op, v, path);
}

/**
 * @internal Visits every differentiable leaf of `x` in walk order, with its path. Throws for anything that
 * cannot be differentiated, naming its path.
 */
function visitLeaves(op: string, x: unknown, onLeaf: (v: number | Tensor, path: readonly Segment[]) => void): void {
  const path: Segment[] = [];
  const go = (v: unknown, ctx: Context): void => {
    const kind = nodeKind(op, v, path, ctx);
    switch (kind) {
      case "number":
      case "tensor":
        onLeaf(v as number | Tensor, path);
        return;
      case "constant":
        return;
      case "array": {
        const a = v as unknown[];
        const c = childContext(kind, ctx);
        for (let i = 0; i < a.length; i++) {
          path.push(i);
          go(a[i], c);
          path.pop();
        }
        return;
      }
      case "object":
      case "class": {
        const c = childContext(kind, ctx);
        for (const k of childKeys(op, kind, v as object, path)) {
          path.push(k);
          go((v as Record<string, unknown>)[k], c);
          path.pop();
        }
        return;
      }
    }
  };
  go(x, 0);
}

/** @internal The differentiable leaves of `x` in walk order (a number leaf becomes a float32 scalar). */
export function leavesOf(op: string, x: unknown): Leaf[] {
  const out: Leaf[] = [];
  visitLeaves(op, x, (v, path) => {
    out.push(typeof v === "number"
      ? { path: path.slice(), value: scalar(v, "float32"), isNumber: true }
      : { path: path.slice(), value: v, isNumber: false });
  });
  return out;
}

/**
 * @internal Maps every node of `x` the walk descends into, bottom-up: leaves through `leaf(i, v)`, arrays
 * and objects/classes through `node(kind, v, children)`. Constants are passed to `node` as they are (and
 * listed in `constants`), so a rebuild can carry them.
 */
function mapStructure(
  op: string,
  x: unknown,
  leaf: (index: number, v: number | Tensor, path: readonly Segment[]) => unknown,
  node: (kind: "array" | "object" | "class", v: object, keys: readonly Segment[], values: unknown[], constant: boolean[]) => unknown,
): unknown {
  let i = 0;
  const path: Segment[] = [];
  // `constant[j]` reports whether child j was carried as a constant (it has no tangent).
  const go = (v: unknown, ctx: Context, parentConstant: boolean[] | null, slot: number): unknown => {
    const kind = nodeKind(op, v, path, ctx);
    if (kind === "number" || kind === "tensor") return leaf(i++, v as number | Tensor, path);
    if (kind === "constant") {
      if (parentConstant !== null) parentConstant[slot] = true;
      return v;
    }
    const c = childContext(kind, ctx);
    const keys: readonly Segment[] = kind === "array" ? indicesOf((v as unknown[]).length) : childKeys(op, kind, v as object, path);
    const n = keys.length;
    const values = new Array<unknown>(n);
    const constant = new Array<boolean>(n).fill(false);
    for (let j = 0; j < n; j++) {
      const k = keys[j]!;
      path.push(k);
      values[j] = go((v as Record<string | number, unknown>)[k], c, constant, j);
      path.pop();
    }
    return node(kind, v as object, keys, values, constant);
  };
  return go(x, 0, null, 0);
}

// Index lists of arrays, shared by length (read-only).
const indexLists: number[][] = [];
function indicesOf(n: number): readonly number[] {
  return (indexLists[n] ??= Array.from({ length: n }, (_, j) => j));
}

/**
 * @internal A copy of `x` whose leaves (in walk order) are replaced by `replacement(i)`. Class instances
 * are copied with their prototype and every own enumerable property, so methods and `@noDerivative` fields
 * work on the copy; the original is never touched. (`#private` fields cannot be carried to a copy.)
 */
export function rebuild(x: unknown, replacement: (leafIndex: number, leafPath: readonly Segment[]) => unknown): unknown {
  return mapStructure("rebuild", x, (i, _v, path) => replacement(i, path), (kind, v, keys, values) => {
    if (kind === "array") return values;
    // Own enumerable properties are copied (fields, constants, boxes by reference); the prototype
    // carries the methods.
    const copy = Object.assign(Object.create(Object.getPrototypeOf(v) as object | null) as object, v) as Record<string, unknown>;
    for (let j = 0; j < keys.length; j++) copy[keys[j] as string] = values[j];
    return copy;
  });
}

/**
 * @internal Builds the tangent vector of `x` from one tangent per leaf (`null` means zero): numbers for
 * number leaves, tensors for tensor leaves, and arrays / plain objects / field objects around them.
 * Constants are left out of objects, except `null`/`undefined` in a class's differentiable field, which are
 * kept (the field is declared, it just holds nothing now). `makeStruct` turns a class's field record
 * into its tangent value.
 */
export function buildTangent(
  x: unknown,
  leafTangents: readonly (Tensor | null)[],
  makeStruct: (cls: object, fields: Record<string, unknown>) => unknown = (_c, f) => f,
): unknown {
  return mapStructure("tangent", x, (i, v, path) => {
    const t = leafTangents[i];
    if (typeof v === "number") return t === null || t === undefined ? 0 : numberOf(t, path);
    return t === null || t === undefined ? zeros(v.shape, { dtype: v.dtype }) : t;
  }, (kind, v, keys, values, constant) => {
    if (kind === "array") return values;
    const fields: Record<string, unknown> = {};
    for (let j = 0; j < keys.length; j++) {
      const c = values[j];
      if (!constant[j] || (kind === "class" && (c === null || c === undefined))) fields[keys[j] as string] = c;
    }
    return kind === "class" ? makeStruct(v, fields) : fields;
  });
}

function numberOf(t: Tensor, path: readonly Segment[]): number {
  if (isTracer(t)) {
    throw new TypeError(
      `the derivative with respect to the number at ${pathString(path)} depends on an enclosing differential ` +
        `operator, which a plain number cannot carry; pass a tensor (tensor(x)) instead of a number there`,
    );
  }
  return t.item();
}

/**
 * @internal Reads a tangent (or cotangent) given for the value `x`: returns one tensor per leaf of `x`,
 * checking structure and shapes. A number is accepted for a one-element tensor leaf.
 */
export function tangentLeaves(op: string, x: unknown, tangent: unknown, what = "tangent"): (Tensor | null)[] {
  const out: (Tensor | null)[] = [];
  const path: Segment[] = [];
  const mismatch = (expected: string, got: unknown): never => {
    throw new TypeError(`${op}: the ${what} at ${pathString(path)} should be ${expected}, got ${describe(got)}`);
  };
  const go = (v: unknown, t: unknown, ctx: Context): void => {
    const kind = nodeKind(op, v, path, ctx);
    if (kind === "constant") return;
    if (kind === "number" || kind === "tensor") {
      const shape = kind === "number" ? [] : (v as Tensor).shape;
      const dtype = kind === "number" ? "float32" : (v as Tensor).dtype;
      const size = shape.reduce((p, q) => p * q, 1);
      if (typeof t === "number") {
        if (size !== 1) mismatch(`a Tensor of shape ${fmt(shape)}`, t);
        out.push(scalarOfShape(t, shape, dtype));
        return;
      }
      if (!(t instanceof Tensor)) return mismatch(kind === "number" ? "a number" : `a Tensor of shape ${fmt(shape)}`, t);
      if (!sameShape(t.shape, shape)) {
        if (t.size === 1 && size === 1) {
          out.push(t.reshape(shape));
          return;
        }
        throw new RangeError(`${op}: the ${what} at ${pathString(path)} has shape ${fmt(t.shape)} but the value has shape ${fmt(shape)}`);
      }
      out.push(t);
      return;
    }
    const c = childContext(kind, ctx);
    if (kind === "array") {
      const a = v as unknown[];
      if (!Array.isArray(t) || t.length !== a.length) return mismatch(`an array of length ${a.length}`, t);
      for (let k = 0; k < a.length; k++) {
        path.push(k);
        go(a[k], (t as unknown[])[k], c);
        path.pop();
      }
      return;
    }
    if (typeof t !== "object" || t === null || Array.isArray(t)) return mismatch("an object", t);
    for (const k of childKeys(op, kind, v as object, path)) {
      path.push(k);
      const child = (v as Record<string, unknown>)[k];
      if (nodeKind(op, child, path, c) !== "constant") {
        if (!(k in t)) throw new TypeError(`${op}: the ${what} has no field '${k}' (expected at ${pathString(path)})`);
        go(child, (t as Record<string, unknown>)[k], c);
      }
      path.pop();
    }
  };
  go(x, tangent, 0);
  return out;
}

function scalarOfShape(value: number, shape: readonly number[], dtype: Tensor["dtype"]): Tensor {
  const s = scalar(value, dtype);
  return shape.length === 0 ? s : new Tensor(shape, dtype, s._data);
}

/**
 * @internal Writes new leaf values into `x` in place (arrays, plain objects and class instances are
 * mutated; constants untouched) and returns `x`. When `x` is itself a leaf it cannot change in place, and
 * the new value is returned instead. Callers validate everything first, so a write never half-happens.
 */
export function assignLeaves(x: unknown, values: readonly (Tensor | number)[]): unknown {
  let i = 0;
  const path: Segment[] = [];
  const go = (v: unknown, ctx: Context): unknown => {
    const kind = nodeKind("assign", v, path, ctx);
    if (kind === "number" || kind === "tensor") return values[i++];
    if (kind === "constant") return v;
    const container = v as Record<string | number, unknown>;
    const c = childContext(kind, ctx);
    const keys: readonly (string | number)[] =
      kind === "array" ? Array.from((v as unknown[]).keys()) : childKeys("assign", kind, v as object, path);
    for (const k of keys) {
      path.push(k);
      const before = container[k];
      const after = go(before, c);
      if (after !== before) container[k] = after;
      path.pop();
    }
    return v;
  };
  return go(x, 0);
}
