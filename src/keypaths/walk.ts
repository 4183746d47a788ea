/**
 * The one structural walk of the library. Every feature that needs "the differentiable parts of a value"
 * goes through here: lifting inputs for differentiation, building tangent vectors, reading tangents given
 * by users, key paths, optimizers, checkpoints, and the arguments and results of compiled and exported functions.
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

/**
 * One path segment: a field name or an array index.
 * @example
 * ```ts
 * const segments: Segment[] = ["layers", 0, "weight"];
 * new KeyPath(segments).toString(); // "layers.0.weight"
 * ```
 * @category Key paths
 */
export type Segment = string | number;

/**
 * The method name under which a class implementing {@link CustomKeyPathIterable} lists its children.
 * A well-known symbol, so it never collides with a field.
 * @example
 * ```ts
 * // A container whose children are whatever keys it holds:
 * class Blocks implements CustomKeyPathIterable {
 *   [name: string]: Dense;
 *   [keyPathChildren]() {
 *     return Object.keys(this);
 *   }
 * }
 * const blocks = new Blocks();
 * blocks["encoder"] = new Dense({ inputSize: 3, outputSize: 2, seed: 0 });
 * blocks["decoder"] = new Dense({ inputSize: 2, outputSize: 3, seed: 1 });
 * differentiableKeyPaths(blocks).map(String); // ["encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias"]
 * ```
 * @category Key paths
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
 *   [name: string]: Dense;
 *   [keyPathChildren](): readonly string[] {
 *     return Object.keys(this);
 *   }
 * }
 * const dict = new LayerDict();
 * dict["first"] = new Dense({ inputSize: 3, outputSize: 2, seed: 0 });
 * const g = gradient(dict, (d) => d["first"]!.callAsFunction(x).sum());
 * g["first"]?.bias; // [2, 2]
 * ```
 * @category Key paths
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
  if (x instanceof Tensor) return `${x.dtype === "int32" ? "an" : "a"} ${x.dtype} Tensor`;
  if (x instanceof NoDerivative) return "a NoDerivative box";
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (typeof x === "object") return `an instance of ${(x.constructor as Ctor | undefined)?.name ?? "an unknown class"}`;
  return `a ${typeof x}`;
}

/**
 * True when `x` holds a float tensor somewhere below it, through arrays and plain objects, or a class
 * instance that is differentiable (or holds a float tensor in an own field): used to catch undecorated
 * fields and `@noDerivative` fields that should be boxed. A structure the walk refuses (a cycle, a Map)
 * in an undecorated field is not the model's concern here.
 */
function holdsTensor(x: unknown): boolean {
  if (x instanceof Tensor) return x.dtype !== "int32";
  if (typeof x !== "object" || x === null || x instanceof NoDerivative) return false;
  let holds = false;
  try {
    forEachLeaf("check", "stored", x, (v) => {
      if (holds || typeof v !== "object" || v === null) return;
      if (v instanceof Tensor) holds = v.dtype !== "int32";
      else if (!(v instanceof NoDerivative)) {
        holds = isCustomIterable(v) || hasDifferentiableLayout(v) || Object.values(v).some((e) => e instanceof Tensor && e.dtype !== "int32");
      }
    }, { leafIf: isClassInstance });
  } catch {
    return false;
  }
  return holds;
}

/** A class instance: neither an array, nor a plain object, nor a class tangent. */
function isClassInstance(v: object): boolean {
  return !Array.isArray(v) && !isPlainObject(v) && !isTangentStruct(v);
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
            `@noDerivative (to keep it constant). A constructor parameter property (\`constructor(private ${key}: Tensor)\`) ` +
            `cannot be decorated: declare a public field \`@differentiable ${key}: Tensor;\` and assign it in the constructor`,
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
  if (typeof v === "object") {
    if (isPlainObject(v) || isTangentStruct(v)) return "object";
    unsupported(op, v, path);
    return "class";
  }
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
function leafless(v: unknown): boolean {
  if (v === null || v === undefined || typeof v !== "object") return true;
  if (v instanceof Tensor) return v.dtype === "int32";
  if (v instanceof NoDerivative) return true;
  if (isClassInstance(v)) return !isCustomIterable(v) && !hasDifferentiableLayout(v);
  // The common case, an array of layers or tensors, is answered without a walk.
  if (Array.isArray(v) && (v as unknown[]).some((e) => (e instanceof Tensor ? e.dtype !== "int32" : typeof e === "object" && e !== null && isClassInstance(e) && !(e instanceof NoDerivative) && (isCustomIterable(e) || hasDifferentiableLayout(e))))) {
    return false;
  }
  let holds = false;
  walk<void>("check", "stored", v, {
    leaf(x) {
      if (holds || typeof x !== "object" || x === null) return;
      if (x instanceof Tensor) holds = x.dtype !== "int32";
      else if (!(x instanceof NoDerivative)) holds = isCustomIterable(x) || hasDifferentiableLayout(x);
    },
    enter(kind, _x, keys) {
      if (kind === "array" && keys.length === 0) holds = true;
    },
  }, { leafIf: isClassInstance });
  return !holds;
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

// ---------------------------------------------------------------------------------------------------------
// The one primitive: a value's children under a view, and one traversal over it.

/**
 * @internal How a structure is looked at:
 * - `"differentiable"`: the leaves AD differentiates (the rules at the top of this file);
 * - `"tangent"`: a tangent vector (numbers and tensors in arrays, records and class tangents; `null` and
 *   `undefined` stand for "nothing here");
 * - `"stored"`: every stored property (both kinds), as key paths and checkpoints list them; anything
 *   that is not a container (a tensor, a box, a primitive, an undecorated object, a Map or Set) is a leaf;
 * - `"staged"`: the arguments and results of compiled functions, whose leaves become program inputs and
 *   outputs: every tensor (int32 too) is a leaf, and so is a number at the root or in a root-level array;
 *   containers are those of the stored view plus a `NoDerivative` box (its `value`, state a program
 *   reads); anything else (numbers below an object, strings, functions, a class without stored
 *   properties, a Map, a typed array) is a constant.
 */
export type View = "differentiable" | "tangent" | "stored" | "staged";

/** @internal A container the walk descends into. */
export type ContainerKind = "array" | "object" | "class";

/** @internal What a client does at each place the walk reaches. Only `leaf` is required. */
export interface Visitor<R> {
  /** A leaf, with what each other structure holds at the same path (`others[j]`). */
  leaf: (v: unknown, path: readonly Segment[], others: readonly unknown[]) => R;
  /** A constant (carried unchanged, no tangent); by default its result is the value itself. */
  constant?: (v: unknown, path: readonly Segment[], others: readonly unknown[]) => R;
  /** Before descending into a container: check the other structures against it (throw on mismatch). */
  enter?: (kind: ContainerKind, v: object, keys: readonly Segment[], path: readonly Segment[], others: readonly unknown[]) => void;
  /** An other structure has no entry `key` where the walked one has a non-constant child. */
  missing?: (other: number, key: Segment, path: readonly Segment[]) => void;
  /** A container, from its children's results (`constant[j]` when child `j` was a constant). */
  node?: (kind: ContainerKind, v: object, keys: readonly Segment[], results: R[], constant: boolean[], path: readonly Segment[]) => R;
  /** With `options.shared`: an object reached again, and the result of its first visit (reused). */
  again?: (v: object, result: R, path: readonly Segment[]) => void;
}

/** @internal Options of {@link walk}. */
export interface WalkOptions {
  /**
   * Visit an object reached by several paths once and reuse its result (a shared tensor or sub-model is
   * visited once and rebuilt shared). Off by default: AD keeps one leaf per path, so that the gradient
   * holds each field's own contribution.
   */
  readonly shared?: boolean;
  /** Other structures walked alongside, child by child (`Visitor.enter`/`missing` check them). */
  readonly others?: readonly unknown[];
  /** Treat a value the view would descend into as a leaf instead (Functors.jl's `exclude`). */
  readonly leafIf?: (v: object) => boolean;
}

/** @internal Kinds of a value under a view. */
type Kind = "leaf" | "constant" | ContainerKind;

/**
 * @internal The primitive: how `view` sees `v` (in context `ctx`, for the differentiable view), and, for a
 * container, the keys of its children and their context.
 */
export function childrenOf(view: View, op: string, v: unknown, path: readonly Segment[], ctx: Context): { kind: Kind; keys: readonly Segment[]; ctx: Context } {
  if (view === "differentiable") {
    const k = nodeKind(op, v, path, ctx);
    if (k === "number" || k === "tensor") return LEAF;
    if (k === "constant") return CONSTANT;
    const keys = k === "array" ? indicesOf((v as unknown[]).length) : childKeys(op, k, v as object, path);
    return container(k, keys, childContext(k, ctx));
  }
  if (view === "tangent") {
    if (typeof v === "number" || v instanceof Tensor) return LEAF;
    if (v === null || v === undefined) return CONSTANT;
    if (Array.isArray(v)) return container("array", indicesOf(v.length), ctx);
    if (typeof v === "object" && (isPlainObject(v) || isTangentStruct(v))) return container("object", Object.keys(v), ctx);
    throw new TypeError(
      `${op}: the value at ${pathString(path)} is ${describe(v)}, which is not a tangent vector; tangents are numbers, ` +
        `tensors, and arrays or records of them (use zeroTangentVector(model) for the tangent of a model)`,
    );
  }
  if (view === "staged") return stagedChildren(op, v, path, ctx);
  // A Map or Set of plain values is a value here (a leaf): stored configuration may hold one. One that
  // holds tensors, boxes or models would hide them from key paths and checkpoints: that is an error.
  if (v !== null && typeof v === "object" && isUnsupported(v) && hidesParts(v)) unsupported(op, v, path);
  if (v === null || typeof v !== "object" || v instanceof Tensor || v instanceof NoDerivative || isUnsupported(v)) return LEAF;
  if (Array.isArray(v)) return container("array", indicesOf(v.length), ctx);
  if (isPlainObject(v) || isTangentStruct(v)) return container("object", Object.keys(v), ctx);
  if (isCustomIterable(v)) return container("class", v[keyPathChildren](), ctx);
  const props = storedProperties(v);
  if (props.length === 0) return LEAF;
  classChildren(op, v, path); // reports misdecorated fields, as AD would
  return container("class", storedNames(props), ctx);
}

/**
 * The staged view (see {@link View}). A class instance is checked as AD checks it (a tensor in an
 * undecorated field is an error, not a constant silently baked into the program).
 */
function stagedChildren(op: string, v: unknown, path: readonly Segment[], ctx: Context): { kind: Kind; keys: readonly Segment[]; ctx: Context } {
  if (v instanceof Tensor) return LEAF;
  if (typeof v === "number") return ctx === 0 ? LEAF : CONSTANT;
  if (v === null || typeof v !== "object" || isUnsupported(v) || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return CONSTANT;
  if (Array.isArray(v)) return container("array", indicesOf(v.length), ctx);
  if (v instanceof NoDerivative) return container("class", BOX_KEYS, 1);
  if (isPlainObject(v) || isTangentStruct(v)) return container("object", Object.keys(v), 1);
  if (isCustomIterable(v)) return container("class", v[keyPathChildren](), 1);
  classChildren(op, v, path);
  const props = storedProperties(v);
  return props.length === 0 ? CONSTANT : container("class", storedNames(props), 1);
}
const BOX_KEYS: readonly Segment[] = Object.freeze(["value"]);

/**
 * The answer for a container, in one reused object: callers read it at once (the traversal destructures it
 * before descending), so no allocation per node is needed.
 */
const scratch: { kind: Kind; keys: readonly Segment[]; ctx: Context } = { kind: "leaf", keys: [], ctx: 0 };
function container(kind: ContainerKind, keys: readonly Segment[], ctx: Context): { kind: Kind; keys: readonly Segment[]; ctx: Context } {
  scratch.kind = kind;
  scratch.keys = keys;
  scratch.ctx = ctx;
  return scratch;
}

const NONE: readonly Segment[] = Object.freeze([]);
// Leaves and constants have no children; one shared answer each saves an allocation per leaf.
const LEAF = Object.freeze({ kind: "leaf", keys: NONE, ctx: 0 });
const CONSTANT = Object.freeze({ kind: "constant", keys: NONE, ctx: 0 });

// Every stored property name of a layout (cached with the layout).
const storedNameCache = new WeakMap<readonly StoredProperty[], readonly string[]>();
function storedNames(props: readonly StoredProperty[]): readonly string[] {
  let names = storedNameCache.get(props);
  if (names === undefined) storedNameCache.set(props, (names = Object.freeze(props.map((p) => p.name))));
  return names;
}

/** Containers the walk cannot see into: an error naming the path, rather than a silently skipped model part. */
function isUnsupported(v: object): boolean {
  return v instanceof Map || v instanceof Set || v instanceof WeakMap || v instanceof WeakSet;
}

/** Whether a Map or Set holds (as a key or a value) a tensor, a box, or an object with stored properties. */
function hidesParts(v: object): boolean {
  const part = (x: unknown): boolean =>
    x instanceof Tensor || x instanceof NoDerivative ||
    (x !== null && typeof x === "object" && !Array.isArray(x) && !isPlainObject(x) && (isCustomIterable(x) || storedProperties(x).length > 0));
  if (v instanceof Map) {
    for (const [k, x] of v) if (part(k) || part(x)) return true;
  } else if (v instanceof Set) {
    for (const x of v) if (part(x)) return true;
  }
  return false;
}

function unsupported(op: string, v: object, path: readonly Segment[]): void {
  if (isUnsupported(v)) {
    throw new TypeError(
      `${op}: the value at ${pathString(path)} is a ${v.constructor.name}, which the structural walk does not look into; ` +
        `hold the parts in an array, a plain object, or a class implementing CustomKeyPathIterable`,
    );
  }
}

/**
 * @internal The one traversal: walks `x` under `view`, calling `visitor` at every leaf, constant and
 * container (children before their container), and returns the root's result. Other structures given in
 * `options.others` are walked alongside. A cycle is an error naming the path where it closes.
 */
export function walk<R>(op: string, view: View, x: unknown, visitor: Visitor<R>, options: WalkOptions = {}): R {
  const state: WalkState<R> = {
    op,
    view,
    visitor,
    cache: options.shared === true ? new Map<object, R>() : null,
    leafIf: options.leafIf,
    onPath: [],
    path: [],
  };
  return visit(state, x, 0, options.others ?? NONE_OTHERS, null, 0);
}

/** One traversal's state, passed down instead of captured (no closure is made per call). */
interface WalkState<R> {
  readonly op: string;
  readonly view: View;
  readonly visitor: Visitor<R>;
  readonly cache: Map<object, R> | null;
  readonly leafIf: ((v: object) => boolean) | undefined;
  /** The containers on the current path, outermost first (short: a linear search beats a map here). */
  readonly onPath: object[];
  readonly path: Segment[];
}

function visit<R>(s: WalkState<R>, v: unknown, ctx: Context, os: readonly unknown[], isConstant: boolean[] | null, slot: number): R {
  const { cache, path, visitor } = s;
  const object = typeof v === "object" && v !== null;
  if (cache !== null && object) {
    const hit = cache.get(v);
    if (hit !== undefined || cache.has(v)) {
      if (visitor.again !== undefined) visitor.again(v, hit as R, path);
      return hit as R;
    }
  }
  const { kind, keys, ctx: c } = object && s.leafIf !== undefined && s.leafIf(v) ? LEAF : childrenOf(s.view, s.op, v, path, ctx);
  if (kind === "leaf") {
    const r = visitor.leaf(v, path, os);
    if (cache !== null && object) cache.set(v, r);
    return r;
  }
  if (kind === "constant") {
    if (isConstant !== null) isConstant[slot] = true;
    return visitor.constant === undefined ? (v as R) : visitor.constant(v, path, os);
  }
  const o = v as Record<Segment, unknown>;
  const start = s.onPath.indexOf(o);
  if (start >= 0) {
    throw new TypeError(
      `${s.op}: the structure is cyclic: ${pathString(path)} is the same object as ${pathString(path.slice(0, start))}; ` +
        `a model must be a tree (shared parts are fine, a part holding its own ancestor is not)`,
    );
  }
  if (visitor.enter !== undefined) visitor.enter(kind, o, keys, path, os);
  s.onPath.push(o);
  const n = keys.length;
  const results = new Array<R>(n);
  const flags = visitor.node === undefined ? null : new Array<boolean>(n).fill(false);
  for (let j = 0; j < n; j++) {
    const k = keys[j]!;
    path.push(k);
    const child = o[k];
    results[j] = visit(s, child, c, os.length === 0 ? NONE_OTHERS : othersAt(s, os, k, child, c), flags, j);
    path.pop();
  }
  s.onPath.pop();
  const r = visitor.node === undefined ? (undefined as R) : visitor.node(kind, o, keys, results, flags!, path);
  if (cache !== null) cache.set(o, r);
  return r;
}

/** What the other structures hold at key `k` (reporting, through `missing`, a key they lack). */
function othersAt<R>(s: WalkState<R>, os: readonly unknown[], k: Segment, child: unknown, c: Context): unknown[] {
  const out = new Array<unknown>(os.length);
  for (let i = 0; i < os.length; i++) {
    const t = os[i];
    if (t === null || t === undefined) {
      out[i] = t;
      continue;
    }
    if (s.visitor.missing !== undefined && typeof t === "object" && !(k in t) && childrenOf(s.view, s.op, child, s.path, c).kind !== "constant") {
      s.visitor.missing(i, k, s.path);
    }
    out[i] = (t as Record<Segment, unknown>)[k];
  }
  return out;
}

const NONE_OTHERS: readonly unknown[] = Object.freeze([]);

/** @internal Calls `f` on every leaf of `x` under `view`, in walk order (a fold with side effects). */
export function forEachLeaf(op: string, view: View, x: unknown, f: (v: unknown, path: readonly Segment[]) => void, options?: WalkOptions): void {
  walk<void>(op, view, x, { leaf: f }, options);
}

/** @internal Folds the leaves of `x` under `view` into one value, in walk order. */
export function foldLeaves<A>(op: string, view: View, x: unknown, init: A, f: (acc: A, v: unknown, path: readonly Segment[]) => A, options?: WalkOptions): A {
  let acc = init;
  forEachLeaf(op, view, x, (v, p) => {
    acc = f(acc, v, p);
  }, options);
  return acc;
}

/**
 * @internal Rebuilds a container of kind `kind` from new child values: arrays anew; plain records anew;
 * class instances (and class tangents) as a copy with the same prototype and every own property, the
 * walked ones replaced.
 */
export function rebuildNode(kind: ContainerKind, v: object, keys: readonly Segment[], values: readonly unknown[]): unknown {
  if (kind === "array") return values;
  const plain = kind === "object" && isPlainObject(v);
  const copy = (plain ? {} : Object.assign(Object.create(Object.getPrototypeOf(v) as object | null) as object, v)) as Record<string, unknown>;
  for (let j = 0; j < keys.length; j++) copy[keys[j] as string] = values[j];
  return copy;
}

/**
 * @internal Maps the leaves of `x` under `view`, keeping its structure (containers are rebuilt; constants
 * carried). With `options.shared`, an object reached twice is mapped once and the result shared.
 */
export function mapLeaves(op: string, view: View, x: unknown, f: (v: unknown, path: readonly Segment[], others: readonly unknown[]) => unknown, options?: WalkOptions): unknown {
  return walk<unknown>(op, view, x, { leaf: f, node: (kind, v, keys, results) => rebuildNode(kind, v, keys, results) }, options);
}

// Class instances already checked for `#private` fields (per instance, since the check reads the class).
const privateChecked = new WeakSet<object>();
// Per class: the names of the `#private` fields its source declares (own and inherited).
const privateFields = new WeakMap<Ctor, readonly string[]>();

/**
 * A class with `#private` fields cannot be differentiated: AD works on a copy of the model (its leaves
 * replaced by traced tensors), and a copy never has the original's private fields, so the model's methods
 * fail on it with V8's "Cannot read private member". Reported at the call, naming the field and the fix.
 */
function checkPrivate(op: string, o: object, path: readonly Segment[]): void {
  const cls = o.constructor;
  let names = privateFields.get(cls);
  if (names === undefined) {
    const found: string[] = [];
    for (let c: unknown = cls; typeof c === "function" && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
      const source = Function.prototype.toString.call(c);
      if (!source.startsWith("class")) continue;
      for (const pattern of PRIVATE_DECLARATIONS) {
        for (const m of source.matchAll(pattern)) if (!found.includes(m[1]!)) found.push(m[1]!);
      }
    }
    names = Object.freeze(found);
    privateFields.set(cls, names);
  }
  if (names.length > 0) {
    throw new TypeError(
      `${op}: ${cls.name} (at ${pathString(path)}) has the #private member ${names.map((n) => `#${n}`).join(", ")}; differentiation ` +
        `runs the model on a copy, which cannot carry #private members. Use a TypeScript \`private\` field instead ` +
        `(decorated @noDerivative for configuration or @differentiable for a parameter), or keep the value outside the model`,
    );
  }
  privateChecked.add(o);
}

// How a `#name` member shows in a class's source: natively (a field, a method, an accessor at the start of
// a member), or as lowered by esbuild (`__privateAdd(this, _name`, or without the space once minified, as
// tsx runs it) or by tsc (`_Class_name.set(this`).
const PRIVATE_DECLARATIONS = [
  /(?:^|[;{}\n])\s*(?:static\s+)?(?:async\s+)?(?:get\s+|set\s+)?\*?#([A-Za-z_$][\w$]*)\s*(?=[=;(\n}])/g,
  /__privateAdd\(this,\s*_([A-Za-z_$][\w$]*)/g,
  /\b_[A-Za-z$][\w$]*?_([A-Za-z_$][\w$]*)\.set\(this,/g,
];

// ---------------------------------------------------------------------------------------------------------
// Clients used by AD, move and the optimizers (differentiable view).

/** @internal The differentiable leaves of `x` in walk order (a number leaf becomes a float32 scalar). */
export function leavesOf(op: string, x: unknown): Leaf[] {
  const out: Leaf[] = [];
  forEachLeaf(op, "differentiable", x, (v, path) => {
    out.push(typeof v === "number"
      ? { path: path.slice(), value: scalar(v, "float32"), isNumber: true }
      : { path: path.slice(), value: v as Tensor, isNumber: false });
  });
  return out;
}

/**
 * @internal A copy of `x` whose leaves (in walk order) are replaced by `replacement(i)`. Class instances
 * are copied with their prototype and every own enumerable property, so methods and `@noDerivative` fields
 * work on the copy; the original is never touched. A class with `#private` members cannot be copied
 * faithfully and is an error naming the member.
 */
export function rebuild(x: unknown, replacement: (leafIndex: number, leafPath: readonly Segment[]) => unknown): unknown {
  let i = 0;
  return walk<unknown>("rebuild", "differentiable", x, {
    leaf: (_v, path) => replacement(i++, path),
    node: (kind, v, keys, results, _constant, path) => {
      if (kind === "class" && !privateChecked.has(v)) checkPrivate("gradient", v, path);
      return rebuildNode(kind, v, keys, results);
    },
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
  let i = 0;
  return walk<unknown>("tangent", "differentiable", x, {
    leaf: (v, path) => {
      const t = leafTangents[i++];
      if (typeof v === "number") return t === null || t === undefined ? 0 : numberOf(t, path);
      return t === null || t === undefined ? zeros((v as Tensor).shape, { dtype: (v as Tensor).dtype }) : t;
    },
    node: (kind, v, keys, values, constant) => {
      if (kind === "array") return values;
      const fields: Record<string, unknown> = {};
      for (let j = 0; j < keys.length; j++) {
        const c = values[j];
        if (!constant[j] || (kind === "class" && (c === null || c === undefined))) fields[keys[j] as string] = c;
      }
      return kind === "class" ? makeStruct(v, fields) : fields;
    },
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

/** @internal A leaf of the model paired with what a tangent-shaped value holds there. */
export interface PairedLeaf {
  readonly path: readonly Segment[];
  /** The printable path. */
  readonly key: string;
  /** The model's leaf. */
  readonly value: Tensor | number;
  /** The tangent's leaf, or `null` when it gives none there (`null`/`undefined` at the leaf or above). */
  readonly other: Tensor | number | null;
}

/** @internal Options of {@link pairLeaves}. */
export interface PairOptions {
  /** `null`/`undefined` in the tangent-shaped value means "nothing here" (default true); otherwise an error. */
  readonly absentIsZero?: boolean;
  /** A leaf of another float dtype is an error (default true); otherwise the caller casts. */
  readonly checkDtype?: boolean;
  /** What the walked value's leaves are called in messages (default "parameter"). */
  readonly subject?: string;
}

/**
 * @internal Walks `x` and a tangent-shaped value `t` together: one entry per differentiable leaf of `x`, in
 * walk order. With `absentIsZero`, `null`/`undefined` in `t` (at a leaf or above) means "nothing for these
 * leaves"; otherwise it is an error. Any other mismatch (a missing field, another length, a leaf of another
 * shape or dtype) throws, naming the key path. A number is accepted for a one-element tensor leaf.
 */
export function pairLeaves(op: string, x: unknown, t: unknown, what: string, options: PairOptions = {}): PairedLeaf[] {
  const { absentIsZero = true, checkDtype = true, subject = "parameter" } = options;
  const out: PairedLeaf[] = [];
  const fail = (path: readonly Segment[], message: string): never => {
    throw new TypeError(`${op}: the ${what} at ${pathString(path)} ${message}`);
  };
  walk<void>(op, "differentiable", x, {
    leaf(v, path, [o]) {
      const key = pathString(path);
      const isNumber = typeof v === "number";
      if (o === null || o === undefined) {
        if (!absentIsZero) fail(path, `should be ${isNumber ? "a number" : `a Tensor of shape ${fmt((v as Tensor).shape)}`}, got ${describe(o)}`);
        out.push({ path: path.slice(), key, value: v as number | Tensor, other: null });
        return;
      }
      const shape = isNumber ? [] : (v as Tensor).shape;
      const size = isNumber ? 1 : (v as Tensor).size;
      if (typeof o === "number") {
        if (size !== 1) fail(path, `should be a Tensor of shape ${fmt(shape)}, got a number`);
      } else if (!(o instanceof Tensor)) {
        fail(path, `should be ${isNumber ? "a number" : `a Tensor of shape ${fmt(shape)}`}, got ${describe(o)}`);
      } else {
        if (!sameShape(o.shape, shape) && !(o.size === 1 && size === 1)) {
          throw new RangeError(`${op}: the ${what} at ${key} has shape ${fmt(o.shape)} but the ${subject} has shape ${fmt(shape)}`);
        }
        if (checkDtype && (o.dtype === "int32" || (!isNumber && o.dtype !== (v as Tensor).dtype))) {
          const want = isNumber ? "float64" : (v as Tensor).dtype;
          throw new TypeError(`${op}: the ${what} at ${key} is ${o.dtype} but the ${subject} is ${isNumber ? "a number" : want}; cast it with .cast("${want}")`);
        }
      }
      out.push({ path: path.slice(), key, value: v as number | Tensor, other: o as Tensor | number });
    },
    enter(kind, v, _keys, path, [o]) {
      if (o === null || o === undefined) {
        if (!absentIsZero) fail(path, `should be ${kind === "array" ? `an array of length ${(v as unknown[]).length}` : "an object"}, got ${describe(o)}`);
        return;
      }
      if (kind === "array") {
        if (!Array.isArray(o) || o.length !== (v as unknown[]).length) fail(path, `should be an array of length ${(v as unknown[]).length}, got ${describe(o)}`);
      } else if (typeof o !== "object" || Array.isArray(o) || o instanceof Tensor) {
        fail(path, `should be an object, got ${describe(o)}`);
      }
    },
    missing(_i, key, path) {
      throw new TypeError(
        `${op}: the ${what} has no field '${String(key)}' (expected at ${pathString(path)})` + (absentIsZero ? `; give null there to mean "none"` : ""),
      );
    },
  }, { others: [t] });
  return out;
}

/**
 * @internal Reads a tangent (or cotangent) given for the value `x`: returns one tensor per leaf of `x`,
 * checking structure and shapes. A number is accepted for a one-element tensor leaf.
 */
export function tangentLeaves(op: string, x: unknown, tangent: unknown, what = "tangent"): (Tensor | null)[] {
  return pairLeaves(op, x, tangent, what, { absentIsZero: false, checkDtype: false, subject: "value" }).map((p) => {
    const t = p.other!;
    const shape = typeof p.value === "number" ? [] : p.value.shape;
    const dtype = typeof p.value === "number" ? "float32" : p.value.dtype;
    if (typeof t === "number") return scalarOfShape(t, shape, dtype);
    return sameShape(t.shape, shape) ? t : t.reshape(shape);
  });
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
  return walk<unknown>("assign", "differentiable", x, {
    leaf: () => values[i++],
    node(_kind, v, keys, results) {
      const container = v as Record<Segment, unknown>;
      for (let j = 0; j < keys.length; j++) {
        const k = keys[j]!;
        if (container[k] !== results[j]) container[k] = results[j];
      }
      return v;
    },
  });
}

/**
 * @internal Groups the leaves of a pairing by identity: a tensor reached by several paths is one parameter
 * (numbers are never shared). Returns, per parameter, the indices of its leaves in walk order.
 */
export function tieGroups(leaves: readonly { readonly value: unknown }[]): number[][] {
  const byTensor = new Map<Tensor, number[]>();
  const groups: number[][] = [];
  leaves.forEach((l, i) => {
    if (!(l.value instanceof Tensor)) {
      groups.push([i]);
      return;
    }
    let g = byTensor.get(l.value);
    if (g === undefined) {
      byTensor.set(l.value, (g = []));
      groups.push(g);
    }
    g.push(i);
  });
  return groups;
}

// Index lists of arrays, shared by length (read-only).
const indexLists: (readonly number[])[] = [];
function indicesOf(n: number): readonly number[] {
  return (indexLists[n] ??= Object.freeze(Array.from({ length: n }, (_, j) => j)));
}
