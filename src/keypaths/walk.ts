/**
 * The one structural walk of the library. Every feature that needs "the differentiable parts of a value"
 * goes through here: lifting inputs for differentiation, building tangent vectors, reading tangents given
 * by users, key paths, optimizers and checkpoints.
 *
 * A value is walked as:
 * - a `number` or a float `Tensor`: a leaf;
 * - an array: its elements, by index;
 * - a plain object (prototype `Object.prototype` or `null`): its own enumerable string keys, in order;
 * - an instance of a class with decorated fields: its `@differentiable` stored properties, superclass first
 *   (a number there is an error: a learnable scalar is a rank-0 Tensor).
 */
import { Tensor } from "../tensor/tensor.js";
import { fmt, sameShape } from "../tensor/shape.js";
import { scalar } from "../tensor/creation.js";
import { zeros } from "../tensor/creation.js";
import { storedProperties } from "./decorators.js";

/** One path segment: a field name or an array index. */
export type Segment = string | number;

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

function isPlainObject(x: object): boolean {
  const p = Object.getPrototypeOf(x) as unknown;
  return p === Object.prototype || p === null;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (x instanceof Tensor) return `an ${x.dtype} Tensor`;
  if (typeof x === "object") return `an instance of ${(x.constructor as Function | undefined)?.name ?? "an unknown class"}`;
  return `a ${typeof x}`;
}

/** True when `x` holds a tensor somewhere in arrays or plain objects (used to catch undecorated fields). */
function holdsTensor(x: unknown, depth = 0): boolean {
  if (x instanceof Tensor) return true;
  if (depth > 4 || typeof x !== "object" || x === null) return false;
  if (Array.isArray(x)) return x.some((v) => holdsTensor(v, depth + 1));
  if (isPlainObject(x)) return Object.values(x).some((v) => holdsTensor(v, depth + 1));
  return storedProperties(x).length > 0 || Object.values(x).some((v) => holdsTensor(v, depth + 1));
}

/**
 * @internal The differentiable children of a class instance, checked: every decorated field exists, and no
 * undecorated field holds a tensor or a differentiable object.
 */
export function classChildren(op: string, x: object, path: readonly Segment[]): readonly string[] {
  const props = storedProperties(x);
  const names = new Set(props.map((p) => p.name));
  for (const key of Object.keys(x)) {
    if (!names.has(key) && holdsTensor((x as Record<string, unknown>)[key])) {
      const where = pathString([...path, key]);
      throw new TypeError(
        `${op}: field '${key}' of ${x.constructor.name} (at ${where}) holds a tensor but is not a stored property; ` +
          `decorate it with @differentiable (to learn it) or @noDerivative (to keep it constant)`,
      );
    }
  }
  return props.filter((p) => p.kind === "differentiable").map((p) => p.name);
}

/** @internal How the walk sees one value. */
export type NodeKind = "number" | "tensor" | "array" | "object" | "class" | "constant";

/**
 * @internal Classifies `v`. Inside an object (plain or class), numbers, strings, int32 tensors and other
 * non-differentiable values are constants carried unchanged; at the root or in an array they are errors,
 * except numbers, which are leaves there.
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
  if (typeof v === "object") return isPlainObject(v) ? "object" : "class";
  if (inObject) return "constant";
  throw new TypeError(
    `${op}: cannot differentiate with respect to ${describe(v)} at ${pathString(path)}; ` +
      `differentiable values are numbers, float tensors, and arrays, plain objects or decorated classes of them`,
  );
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
  const go = (v: unknown, inObject: boolean, inClassField: boolean): void => {
    const kind = classify(op, v, path, inObject);
    switch (kind) {
      case "number":
      case "tensor":
        onLeaf(v as number | Tensor, path);
        return;
      case "constant":
        if (inClassField && typeof v === "number") {
          throw new TypeError(
            `${op}: the @differentiable field at ${pathString(path)} holds a number; a learnable scalar is a rank-0 ` +
              `Tensor (tensor(${v})), and a plain number field should be @noDerivative`,
          );
        }
        return;
      case "array": {
        const a = v as unknown[];
        for (let i = 0; i < a.length; i++) {
          path.push(i);
          go(a[i], false, false);
          path.pop();
        }
        return;
      }
      case "object":
      case "class": {
        for (const k of childKeys(op, kind, v as object, path)) {
          path.push(k);
          go((v as Record<string, unknown>)[k], true, kind === "class");
          path.pop();
        }
        return;
      }
    }
  };
  go(x, false, false);
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
 * and objects/classes through `node(kind, v, children)`. Constants inside objects are passed to `node` as
 * they are, so a rebuild can carry them.
 */
function mapStructure(
  op: string,
  x: unknown,
  leaf: (index: number, v: number | Tensor, path: readonly Segment[]) => unknown,
  node: (kind: "array" | "object" | "class", v: object, children: Map<string | number, unknown>, constants: Set<string | number>) => unknown,
): unknown {
  let i = 0;
  const path: Segment[] = [];
  const go = (v: unknown, inObject: boolean): unknown => {
    const kind = classify(op, v, path, inObject);
    if (kind === "number" || kind === "tensor") return leaf(i++, v as number | Tensor, path);
    if (kind === "constant") return v;
    const children = new Map<string | number, unknown>();
    const constants = new Set<string | number>();
    const keys: readonly (string | number)[] =
      kind === "array" ? Array.from((v as unknown[]).keys()) : childKeys(op, kind, v as object, path);
    for (const k of keys) {
      const c = (v as Record<string | number, unknown>)[k];
      path.push(k);
      if (classify(op, c, path, kind !== "array") === "constant") constants.add(k);
      children.set(k, go(c, kind !== "array"));
      path.pop();
    }
    return node(kind, v as object, children, constants);
  };
  return go(x, false);
}

/**
 * @internal A copy of `x` whose leaves (in walk order) are replaced by `replacement(i)`. Class instances
 * are copied with their prototype and every own property, so methods and `@noDerivative` fields work on
 * the copy; the original is never touched. (`#private` fields cannot be carried to a copy.)
 */
export function rebuild(x: unknown, replacement: (leafIndex: number, leafPath: readonly Segment[]) => unknown): unknown {
  return mapStructure("rebuild", x, (i, _v, path) => replacement(i, path), (kind, v, children) => {
    if (kind === "array") return Array.from(children.values());
    const copy = Object.create(Object.getPrototypeOf(v) as object | null) as Record<string, unknown>;
    Object.defineProperties(copy, Object.getOwnPropertyDescriptors(v));
    for (const [k, c] of children) copy[k as string] = c;
    return copy;
  });
}

/**
 * @internal Builds the tangent vector of `x` from one tangent per leaf (`null` means zero): numbers for
 * number leaves, tensors for tensor leaves, and arrays / plain objects / field objects around them.
 * `makeStruct` turns a class's field record into its tangent value.
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
  }, (kind, v, children, constants) => {
    if (kind === "array") return Array.from(children.values());
    const fields: Record<string, unknown> = {};
    for (const [k, c] of children) if (!constants.has(k)) fields[k as string] = c;
    return kind === "class" ? makeStruct(v, fields) : fields;
  });
}

function numberOf(t: Tensor, path: readonly Segment[]): number {
  if (t._trace !== undefined) {
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
  const go = (v: unknown, t: unknown, inObject: boolean): void => {
    const kind = classify(op, v, path, inObject);
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
    if (kind === "array") {
      const a = v as unknown[];
      if (!Array.isArray(t) || t.length !== a.length) return mismatch(`an array of length ${a.length}`, t);
      for (let k = 0; k < a.length; k++) {
        path.push(k);
        go(a[k], (t as unknown[])[k], false);
        path.pop();
      }
      return;
    }
    if (typeof t !== "object" || t === null) return mismatch("an object", t);
    for (const k of childKeys(op, kind, v as object, path)) {
      path.push(k);
      const c = (v as Record<string, unknown>)[k];
      if (classify(op, c, path, true) !== "constant") {
        if (!(k in t)) throw new TypeError(`${op}: the ${what} has no field '${k}' (expected at ${pathString(path)})`);
        go(c, (t as Record<string, unknown>)[k], true);
      }
      path.pop();
    }
  };
  go(x, tangent, false);
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
  const go = (v: unknown, inObject: boolean): unknown => {
    const kind = classify("assign", v, path, inObject);
    if (kind === "number" || kind === "tensor") return values[i++];
    if (kind === "constant") return v;
    const container = v as Record<string | number, unknown>;
    const keys: readonly (string | number)[] =
      kind === "array" ? Array.from((v as unknown[]).keys()) : childKeys("assign", kind, v as object, path);
    for (const k of keys) {
      path.push(k);
      const before = container[k];
      const after = go(before, kind !== "array");
      if (after !== before) container[k] = after;
      path.pop();
    }
    return v;
  };
  return go(x, false);
}
