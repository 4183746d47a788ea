/**
 * Typed key paths: a value naming a path from a root to a value inside it (`layers.0.weight`), with fast
 * compiled accessors. One key path reads a parameter in a model and its gradient in the model's tangent,
 * because a tangent has the model's structure minus its constants.
 */
import { Tensor } from "../tensor/tensor.js";
import { fmt, sameShape } from "../tensor/shape.js";
import type { NoDerivative } from "../protocols/differentiable.js";
import type { TangentVector } from "../protocols/tangent.js";
import { describe, type Segment } from "./walk.js";

type Getter = (root: unknown) => unknown;
type Setter = (root: unknown, value: unknown) => void;
type Rec = Record<string | number, unknown>;

/**
 * Compiles a getter for a fixed path: an unrolled chain of property reads for short paths (the common
 * case: `layers.0.weight` has three), a loop beyond. No `new Function`, so it works under strict CSPs.
 */
function compileGet(s: readonly Segment[]): Getter {
  switch (s.length) {
    case 0:
      return (r) => r;
    case 1: {
      const a = s[0]!;
      return (r) => (r as Rec)[a];
    }
    case 2: {
      const [a, b] = s as [Segment, Segment];
      return (r) => ((r as Rec)[a] as Rec)[b];
    }
    case 3: {
      const [a, b, c] = s as [Segment, Segment, Segment];
      return (r) => (((r as Rec)[a] as Rec)[b] as Rec)[c];
    }
    case 4: {
      const [a, b, c, d] = s as [Segment, Segment, Segment, Segment];
      return (r) => ((((r as Rec)[a] as Rec)[b] as Rec)[c] as Rec)[d];
    }
    default:
      return (r) => {
        let v = r;
        for (let i = 0; i < s.length; i++) v = (v as Rec)[s[i]!];
        return v;
      };
  }
}

/** Compiles a setter: the parent is read with a compiled getter, then one property is written. */
function compileSet(s: readonly Segment[]): Setter {
  const parent = compileGet(s.slice(0, -1));
  const last = s[s.length - 1]!;
  return (r, v) => {
    (parent(r) as Rec)[last] = v;
  };
}

/**
 * Segments a key path may not have: they would reach an object's prototype or class rather than its data
 * (checkpoints refuse them too).
 */
const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

function checkSegments(op: string, shown: string, segments: readonly Segment[]): void {
  for (const s of segments) {
    if (typeof s === "string" && FORBIDDEN.has(s)) {
      throw new TypeError(`${op}: '${shown}': the segment '${s}' is forbidden (it reaches a prototype, not a stored value); key paths name fields and indices`);
    }
  }
}

/** @internal Where a path breaks on `root`: the first missing container, for error messages. */
function brokenAt(root: unknown, s: readonly Segment[], forSet: boolean): string {
  let v = root;
  const n = forSet ? s.length - 1 : s.length;
  for (let i = 0; i < n; i++) {
    if (v === null || v === undefined || (typeof v !== "object" && typeof v !== "function")) {
      return `${s.slice(0, i).join(".") || "(root)"} is ${describe(v)}, which has no '${String(s[i])}'`;
    }
    v = (v as Rec)[s[i]!];
  }
  return `${s.slice(0, n).join(".") || "(root)"} is ${describe(v)}`;
}

/**
 * What a key path's tangent overloads accept: the root's tangent vector when the path exists in it, and
 * otherwise nothing (a `@noDerivative` field or a constant has no tangent: reading one is a compile error).
 * @typeParam InTangent whether the path exists in `TangentVector<Root>`.
 * @typeParam Root the key path's root.
 * @example
 * ```ts
 * class Head {
 *   @differentiable weight = zeros([3, 2]);
 *   @noDerivative steps = 0;
 * }
 * class Model {
 *   @differentiable head = new Head();
 * }
 * const model = new Model();
 * const g = gradient(model, (m) => x.matmul(m.head.weight).sum());
 * keyPath(model, "head.weight").get(g).shape; // [3, 2]
 * // @ts-expect-error steps is @noDerivative, so the gradient has no such field
 * keyPath(model, "head.steps").get(g);
 * ```
 * @category Key paths
 */
export type TangentArgument<InTangent extends boolean, Root> = InTangent extends true ? TangentVector<Root> : NotInTangent;

/**
 * The parameter type of a tangent read through a path that has no tangent: an object no tangent matches,
 * whose property names the rule in the compiler's message.
 * @example
 * ```ts
 * class Head {
 *   @differentiable weight = zeros([3, 2]);
 *   @noDerivative steps = 0;
 * }
 * class Model {
 *   @differentiable head = new Head();
 * }
 * const model = new Model();
 * const kp: WritableKeyPath<Model, number, false> = keyPath(model, "head.steps");
 * kp.get(model); // 0
 * const g = gradient(model, (m) => x.matmul(m.head.weight).sum());
 * // @ts-expect-error the argument's type is NotInTangent, whose one property names the rule
 * kp.get(g);
 * ```
 * @category Key paths
 */
export interface NotInTangent {
  /** The explanation shown by the compiler. */
  readonly "this key path names a @noDerivative field or a constant, which TangentVector<Root> does not have": never;
}

/**
 * A path from a value of type `Root` to a value of type `Value` inside it (Swift's `KeyPath`): a list of
 * segments (field names and array indices) with a compiled getter. It also applies to the tangent
 * vectors of `Root`, where it reads the tangent of the value it names.
 *
 * @typeParam Root the type the path starts from.
 * @typeParam Value the type it reaches.
 * @typeParam InTangent whether the path also exists in `TangentVector<Root>` (`false` for a path to a
 *   `@noDerivative` field, whose tangent reads then do not compile); `true` when not known.
 * @example
 * ```ts
 * const model = new Sequential(new Dense({ inputSize: 3, outputSize: 2, seed: 0 }));
 * const kp = keyPath(model, "layers.0.weight"); // a WritableKeyPath<typeof model, Tensor>
 * kp.get(model).shape; // [3, 2]
 * // The same path reads the gradient:
 * const g = gradient(model, (m) => m.callAsFunction(x).sum());
 * kp.get(g);  // [[5, 5], [7, 7], [9, 9]]
 * String(kp); // "layers.0.weight"
 * ```
 * @category Key paths
 */
export class KeyPath<Root, Value, InTangent extends boolean = true> {
  /** The path's segments from the root: field names, and array indices as numbers. */
  readonly segments: readonly Segment[];
  /** @internal The compiled getter. */
  protected readonly read: Getter;

  /**
   * A key path from its segments (usually obtained from {@link keyPath} or the `allKeyPaths` family).
   * @param segments field names and array indices, from the root.
   */
  constructor(segments: readonly Segment[]) {
    checkSegments("KeyPath", segments.join("."), segments);
    this.segments = Object.freeze(segments.slice());
    this.read = compileGet(this.segments);
  }

  /**
   * Reads the value at this path.
   * @param root a value of type `Root`, or a tangent vector of one.
   * @returns the value (or its tangent) at the path.
   * @throws TypeError naming where the path breaks when a container on it is missing.
   * @example
   * ```ts
   * class Model {
   *   @differentiable dense = new Dense({ inputSize: 3, outputSize: 2, biasInitializer: onesInitializer(), seed: 0 });
   * }
   * const model = new Model();
   * keyPath(model, "dense.bias").get(model); // [1, 1]
   * ```
   */
  get(root: Root): Value;
  get(tangent: TangentArgument<InTangent, Root>): TangentVector<Value>;
  get(root: unknown): unknown {
    try {
      return this.read(root);
    } catch {
      throw new TypeError(`KeyPath ${this.toString()}: cannot read: ${brokenAt(root, this.segments, false)}`);
    }
  }

  /**
   * The dotted form, array indices as numbers: `"layers.0.weight"` (`""` for the empty path).
   * @returns the path as a string.
   * @example
   * ```ts
   * const model = new Sequential(new Dense({ inputSize: 3, outputSize: 2, seed: 0 }));
   * String(keyPath(model, "layers.0.weight")); // "layers.0.weight"
   * new KeyPath(["layers", 0, "weight"]).toString(); // "layers.0.weight"
   * ```
   */
  toString(): string {
    return this.segments.join(".");
  }

  /**
   * This path followed by `path` (which starts where this one ends).
   * @param path a key path rooted at `Value`.
   * @returns the path from `Root` to the value `path` reaches.
   * @example
   * ```ts
   * const dense = new Dense({ inputSize: 3, outputSize: 4, seed: 0 });
   * const model = new Sequential(dense, new Dense({ inputSize: 4, outputSize: 2, seed: 1 }));
   * const kp = keyPath(model, "layers.0").appending(keyPath(dense, "weight"));
   * String(kp);                       // "layers.0.weight"
   * kp.get(model) === dense.weight;   // true
   * ```
   */
  appending<V2>(path: KeyPath<Value, V2, boolean>): KeyPath<Root, V2> {
    return new KeyPath<Root, V2>([...this.segments, ...path.segments]);
  }
}

/**
 * A key path that can also write (Swift's `WritableKeyPath`): `set(root, value)` replaces the value at the
 * path in place.
 *
 * @typeParam Root the type the path starts from.
 * @typeParam Value the type it reaches.
 * @typeParam InTangent whether the path also exists in `TangentVector<Root>`.
 * @example
 * ```ts
 * const model = new Sequential(new Dense({ inputSize: 3, outputSize: 4, seed: 0 }), new Dense({ inputSize: 4, outputSize: 1, seed: 1 }));
 * const grad = gradient(model, (m) => m.callAsFunction(x).square().mean());
 * for (const kp of recursivelyAllWritableKeyPaths(model, Tensor)) {
 *   kp.set(model, kp.get(model).sub(kp.get(grad).mul(0.01)));
 * }
 * ```
 * @category Key paths
 */
export class WritableKeyPath<Root, Value, InTangent extends boolean = true> extends KeyPath<Root, Value, InTangent> {
  /** @internal The compiled setter. */
  protected readonly write: Setter;

  /**
   * A writable key path from its segments.
   * @param segments field names and array indices, from the root; at least one.
   */
  constructor(segments: readonly Segment[]) {
    super(segments);
    if (segments.length === 0) throw new RangeError("WritableKeyPath: the empty path cannot be written; it names the root itself");
    this.write = compileSet(this.segments);
  }

  /**
   * Writes `value` at this path, in place. Where the path holds a Tensor, the new value must be a Tensor
   * of the same shape and dtype (a parameter keeps its shape; surgery assigns the field itself).
   * @param root a value of type `Root` (or a tangent vector of one).
   * @param value the new value.
   * @throws TypeError naming the path and both shapes and dtypes when a tensor would change shape or dtype.
   * @example
   * ```ts
   * class Model {
   *   @differentiable dense = new Dense({ inputSize: 3, outputSize: 4, biasInitializer: onesInitializer(), seed: 0 });
   * }
   * const model = new Model();
   * keyPath(model, "dense.bias").set(model, zeros([4]));
   * model.dense.bias; // [0, 0, 0, 0]
   * // A parameter keeps its shape:
   * keyPath(model, "dense.bias").set(model, zeros([5])); // throws TypeError: KeyPath dense.bias: cannot write a Tensor of shape [5] (float32) where the value has shape [4] (float32)...
   * ```
   */
  set(root: Root, value: Value): void;
  set(tangent: TangentArgument<InTangent, Root>, value: TangentVector<Value>): void;
  set(root: unknown, value: unknown): void {
    let current: unknown;
    try {
      current = this.read(root);
    } catch {
      current = undefined; // the write below reports where the path breaks
    }
    if (current instanceof Tensor) {
      if (!(value instanceof Tensor) || !sameShape(value.shape, current.shape) || value.dtype !== current.dtype) {
        const got = value instanceof Tensor ? `a Tensor of shape ${fmt(value.shape)} (${value.dtype})` : describe(value);
        throw new TypeError(
          `KeyPath ${this.toString()}: cannot write ${got} where the value has shape ${fmt(current.shape)} (${current.dtype}); ` +
            `a key path keeps a parameter's shape and dtype (cast or reshape the value). To change the architecture, ` +
            `assign the field itself, then give an optimizer fresh state for it with resetState`,
        );
      }
    }
    try {
      this.write(root, value);
    } catch (e) {
      throw new TypeError(`KeyPath ${this.toString()}: cannot write: ${brokenAt(root, this.segments, true)} (${(e as Error).message})`);
    }
  }

  /**
   * This path followed by `path`; writable when `path` is.
   * @param path a key path rooted at `Value`.
   * @returns the combined path.
   * @example
   * ```ts
   * const dense = new Dense({ inputSize: 3, outputSize: 4, seed: 0 });
   * const model = new Sequential(dense, new Dense({ inputSize: 4, outputSize: 2, seed: 1 }));
   * const w = ones([3, 4]);
   * keyPath(model, "layers.0").appending(keyPath(dense, "weight")).set(model, w);
   * model.layers[0].weight === w; // true
   * ```
   */
  override appending<V2>(path: WritableKeyPath<Value, V2, boolean>): WritableKeyPath<Root, V2>;
  override appending<V2>(path: KeyPath<Value, V2, boolean>): KeyPath<Root, V2>;
  override appending<V2>(path: KeyPath<Value, V2, boolean>): KeyPath<Root, V2> {
    const s = [...this.segments, ...path.segments];
    return path instanceof WritableKeyPath ? new WritableKeyPath<Root, V2>(s) : new KeyPath<Root, V2>(s);
  }
}

// ---------------------------------------------------------------------------------------------------------
// String key paths checked at compile time

type Stop = number | string | boolean | bigint | symbol | null | undefined | Tensor | NoDerivative<unknown> | ((...args: never[]) => unknown);
type Depth = [never, 0, 1, 2, 3, 4, 5, 6, 7];

/** The string keys of `T` that name data (not methods). */
type DataKeys<T> = { [K in keyof T & string]-?: T[K] extends (...args: never[]) => unknown ? never : K }[keyof T & string];

type Paths<T, D extends number> = [D] extends [never]
  ? never
  : T extends Stop
    ? never
    : T extends readonly unknown[]
      ? number extends T["length"]
        ? `${number}` | `${number}.${Paths<T[number], Depth[D]>}`
        : { [K in keyof T & `${number}`]: K | `${K}.${Paths<T[K], Depth[D]>}` }[keyof T & `${number}`]
      : T extends object
        ? { [K in DataKeys<T>]: K | `${K}.${Paths<NonNullable<T[K]>, Depth[D]>}` }[DataKeys<T>]
        : never;

/**
 * Every valid dotted path into a value of type `T`, as a union of string literal types:
 * `"layers" | "layers.${number}" | "layers.${number}.weight" | …`. Paths stop at tensors, primitives and
 * `NoDerivative` boxes, and skip methods; nesting is followed to a depth of eight. Optimizer masks and
 * freezing take these strings.
 *
 * @typeParam T the root type.
 * @example
 * ```ts
 * class Model {
 *   @differentiable encoder = new Dense({ inputSize: 3, outputSize: 4, seed: 0 });
 *   @differentiable layers = [new Dense({ inputSize: 4, outputSize: 2, seed: 1 })];
 * }
 * const frozen: KeyPathString<Model>[] = ["encoder.weight", "layers.0.bias"];
 * // @ts-expect-error a misspelt path is not a KeyPathString
 * const typo: KeyPathString<Model> = "encoder.wieght";
 * // Optimizers take them to select parameters:
 * const model = new Model();
 * const opt = new SGD(model, { learningRate: 0.1, freeze: frozen });
 * ```
 * @category Key paths
 */
export type KeyPathString<T> = Paths<T, 8>;

type Child<T, H extends string> = T extends readonly unknown[]
  ? H extends keyof T
    ? T[H]
    : H extends `${number}`
      ? T[number]
      : never
  : H extends keyof T
    ? T[H]
    : never;

/** Whether the dotted path `P` also names a value of `TangentVector<Root>` (a `@noDerivative` field does not). */
type IsTangentPath<Root, P extends string> = string extends P ? true : P extends KeyPathString<TangentVector<Root>> ? true : false;

type ForbiddenSegment = "__proto__" | "constructor" | "prototype";
type HasForbiddenSegment<P extends string> = P extends `${infer H}.${infer R}`
  ? H extends ForbiddenSegment
    ? true
    : HasForbiddenSegment<R>
  : P extends ForbiddenSegment
    ? true
    : false;

/**
 * `unknown` for a path without forbidden segments, else a type no string matches, which names the rule
 * in the compiler's message.
 * @example
 * ```ts
 * const record = { a: zeros([2]) };
 * // @ts-expect-error a `__proto__` segment does not compile, and a path built at run time is refused too:
 * keyPath(record, "__proto__"); // throws TypeError: keyPath: '__proto__': the segment '__proto__' is forbidden
 * ```
 * @category Key paths
 */
export type SegmentCheck<P extends string> = HasForbiddenSegment<P> extends true ? ForbiddenSegmentError : unknown;

/**
 * The type a path with a `__proto__`, `constructor` or `prototype` segment must (and cannot) match.
 * @example
 * ```ts
 * const fine: SegmentCheck<"a.b"> = "anything"; // unknown: no forbidden segment
 * // @ts-expect-error SegmentCheck<"a.__proto__"> is ForbiddenSegmentError, which no value matches
 * const refused: SegmentCheck<"a.__proto__"> = "anything";
 * ```
 * @category Key paths
 */
export interface ForbiddenSegmentError {
  /** The explanation shown by the compiler. */
  readonly "key paths cannot have a __proto__, constructor or prototype segment": never;
}

/**
 * The type of the value at the dotted path `P` inside a `T`.
 * @typeParam T the root type. @typeParam P a {@link KeyPathString} of `T`.
 * @example
 * ```ts
 * const model = new Sequential(new Dense({ inputSize: 3, outputSize: 2, seed: 0 }));
 * const w: ValueAtPath<typeof model, "layers.0.weight"> = model.layers[0].weight; // a Tensor
 * const activation: ValueAtPath<typeof model, "layers.0.activation"> = model.layers[0].activation; // an Activation
 * ```
 * @category Key paths
 */
export type ValueAtPath<T, P extends string> = P extends `${infer H}.${infer R}`
  ? ValueAtPath<NonNullable<Child<T, H>>, R>
  : Child<T, P>;

/**
 * A writable key path from a dotted string checked at compile time against the root's type: a misspelt
 * path does not compile, and the value type is inferred. At run time the path is checked against `root`
 * (each segment must exist), and segments into arrays become numeric indices.
 *
 * @param root the value the path starts from (a model, or any structure).
 * @param path the dotted path, e.g. `"blocks.0.weight"`.
 * @returns a `WritableKeyPath<Root, ValueAtPath<Root, P>>`.
 * @throws TypeError when a segment does not exist on `root`, listing the keys that do.
 * @example
 * ```ts
 * class Model {
 *   @differentiable blocks = [new Dense({ inputSize: 3, outputSize: 2, seed: 0 })];
 * }
 * const model = new Model();
 * const w = keyPath(model, "blocks.0.weight"); // a WritableKeyPath<Model, Tensor>
 * w.get(model).shape; // [3, 2]
 * // @ts-expect-error a misspelt path does not compile; at run time the message lists the fields that exist
 * keyPath(model, "blocks.0.wieght"); // throws TypeError: keyPath: 'blocks.0.wieght': blocks.0 (an instance of Dense) has no field 'wieght'; its fields are weight, bias, activation, useBias
 * ```
 * @category Key paths
 */
export function keyPath<Root, P extends KeyPathString<Root>>(
  root: Root,
  path: P & SegmentCheck<P>,
): WritableKeyPath<Root, ValueAtPath<Root, P>, IsTangentPath<Root, P>> {
  if (typeof path !== "string" || path.length === 0) throw new TypeError(`keyPath: the path must be a non-empty dotted string, got ${describe(path)}`);
  const parts = path.split(".");
  checkSegments("keyPath", path, parts);
  const segments: Segment[] = [];
  let v: unknown = root;
  for (const part of parts) {
    if (v === null || v === undefined || typeof v !== "object") {
      throw new TypeError(`keyPath: '${path}': ${segments.join(".") || "(root)"} is ${describe(v)}, which has no '${part}'`);
    }
    if (Array.isArray(v)) {
      const i = Number(part);
      if (!Number.isInteger(i) || i < 0 || i >= v.length || String(i) !== part) {
        throw new TypeError(`keyPath: '${path}': ${segments.join(".") || "(root)"} is an array of length ${v.length}, which has no index '${part}'`);
      }
      segments.push(i);
      v = v[i];
    } else {
      if (!(part in v)) {
        throw new TypeError(
          `keyPath: '${path}': ${segments.join(".") || "(root)"} (${describe(v)}) has no field '${part}'; its fields are ${Object.keys(v).join(", ") || "none"}`,
        );
      }
      segments.push(part);
      v = (v as Rec)[part];
    }
  }
  return new WritableKeyPath<Root, ValueAtPath<Root, P>, IsTangentPath<Root, P>>(segments);
}
