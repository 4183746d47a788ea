import { metadataSymbol } from "./metadata-polyfill.js";
import type { Tensor, tensorBrand } from "../tensor/tensor.js";
import type { noDerivativeBrand } from "../protocols/differentiable.js";

/** A class (constructor) of any signature, as `instance.constructor` is typed. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Ctor = Function;

/**
 * Whether a stored property is differentiated (`@differentiable`) or not (`@noDerivative`).
 * @example
 * ```ts
 * const kinds: StoredPropertyKind[] = storedProperties(Dense).map((p) => p.kind);
 * kinds; // ["differentiable", "differentiable", "noDerivative", "noDerivative"]
 * ```
 * @category Key paths
 */
export type StoredPropertyKind = "differentiable" | "noDerivative";

/**
 * One stored property of a class, as recorded by its decorator.
 * @example
 * ```ts
 * const first: StoredProperty = storedProperties(Dense)[0]!;
 * first.name; // "weight"
 * first.kind; // "differentiable"
 * ```
 * @category Key paths
 */
export interface StoredProperty {
  /** The field name. */
  readonly name: string;
  /** Its kind. */
  readonly kind: StoredPropertyKind;
}

// Keyed by the class's metadata object (TC39 decorators) or its prototype (legacy decorators).
const registry = new WeakMap<object, StoredProperty[]>();

function record(owner: object, name: string, kind: StoredPropertyKind): void {
  let list = registry.get(owner);
  if (list === undefined) registry.set(owner, (list = []));
  const i = list.findIndex((p) => p.name === name);
  if (i >= 0) list[i] = { name, kind };
  else list.push({ name, kind });
  layoutCache = new WeakMap();
}

/** @internal Key under which the layout is published through reflect-metadata, when that package is loaded. */
export const REFLECT_METADATA_KEY = "difftypes:storedProperties";

interface ReflectWithMetadata {
  defineMetadata?: (key: unknown, value: unknown, target: object) => void;
}

/**
 * @internal Names a differentiable field may not have: the methods of a class's runtime tangent vector
 * (its `VectorSpace` operations and printing), which an own field of that name would hide.
 */
export const RESERVED_TANGENT_FIELDS: ReadonlySet<string> = new Set([
  "add", "sub", "scaled", "adding", "mul", "div", "neg", "sqrt", "dot", "squaredNorm",
  "toString", "toJSON", "valueOf", "constructor", "__proto__",
]);

/** Values that can never be differentiable. */
type Plain = number | string | boolean | bigint | symbol | null | undefined | ((...args: never[]) => unknown);

/**
 * An object that may be differentiable: not a `NoDerivative` box (whose brand is private, so a box is not
 * assignable here) and not an array (arrays have a `length`; they go through the array case).
 */
type DifferentiableObject = object & { readonly [noDerivativeBrand]?: never; readonly length?: never };

/**
 * The declared types `@differentiable` accepts: a Tensor, an object that is not a box (a layer, a plain
 * record), arrays of those, and `null`/`undefined` (an optional parameter). A number, a string, a boolean,
 * an array of numbers or a `NoDerivative` box is rejected. A generic field (`layers: L`) is accepted when
 * its type parameter's constraint is.
 */
export type DifferentiableFieldValue = Tensor | DifferentiableObject | readonly DifferentiableFieldValue[] | null | undefined;

/**
 * An object that is not a Tensor (a tensor carries a private brand, which this type forbids) and not an array
 * (arrays go through the array case, so that an array of tensors is caught).
 */
type NonTensorObject = object & { readonly [tensorBrand]?: never; readonly length?: never };

/**
 * The declared types `@noDerivative` accepts: anything but a Tensor (or arrays of tensors), which
 * `TangentVector` would count as differentiable; such state goes in a `NoDerivative` box.
 */
export type NoDerivativeFieldValue = Plain | NonTensorObject | readonly NoDerivativeFieldValue[];

/** The declared field types a decorator of kind `K` accepts. */
export type FieldValue<K extends StoredPropertyKind> = K extends "differentiable" ? DifferentiableFieldValue : NoDerivativeFieldValue;

/**
 * The compile-time error a misdecorated field produces under legacy decorators: TypeScript reports this
 * type as the decorator's (wrong) return type, which shows the explanation and the field's type.
 * @example
 * ```ts
 * class Counter {
 *   // @ts-expect-error a number cannot be differentiable; the message explains why and names the type
 *   @differentiable n = 3;
 * }
 * ```
 * @category Key paths
 */
export interface DecoratorTypeError<Message extends string, Value> {
  /** The explanation. */
  readonly error: Message;
  /** The declared type of the field. */
  readonly fieldType: Value;
}

type Messages = {
  differentiable: "@differentiable needs a field whose type holds a Tensor (a Tensor, a differentiable object, or arrays of them); a number, string or boxed value is @noDerivative";
  noDerivative: "@noDerivative cannot hold a Tensor (TangentVector<Model> counts every Tensor field); box it: @noDerivative x = new NoDerivative(t)";
};

type PrivateMessage = "@differentiable cannot decorate a private or protected field: TangentVector<Model> lists public fields only, so its gradient would vanish from the type; make the field public (readonly if you like)";

/**
 * TC39 decorators: `unknown` when field `N` of `This` may carry the decorator of kind `K`, else the
 * error type (a private or protected field cannot be differentiable: types cannot see it).
 */
type PublicCheck<K extends StoredPropertyKind, This, N> = K extends "differentiable" ? (N extends keyof This ? unknown : DecoratorTypeError<PrivateMessage, N>) : unknown;

/**
 * Legacy decorators: `void` when a field of type `V` passes the check of kind `K`, else the
 * error type. Distributive, and arrays are unwrapped first, so that a generic field (`cell: C`,
 * `layers: L[]`) is checked through its type parameter's constraint.
 * @example
 * ```ts
 * const ok: FieldCheck<"differentiable", Tensor[]> = undefined; // void: the check passes
 * // @ts-expect-error a number fails it: the type is a DecoratorTypeError carrying the explanation
 * const bad: FieldCheck<"differentiable", number> = undefined;
 * ```
 * @category Key paths
 */
export type FieldCheck<K extends StoredPropertyKind, V> = V extends readonly (infer E)[]
  ? FieldCheck<K, E>
  : V extends FieldValue<K>
    ? void
    : DecoratorTypeError<Messages[K], V>;

/**
 * Legacy decorators: the return type for field `Key` of `Target` (`void` when it passes).
 * @example
 * ```ts
 * const ok: LegacyFieldCheck<"noDerivative", Dense, "useBias"> = undefined;
 * // @ts-expect-error a Tensor field cannot be @noDerivative (box it in NoDerivative instead)
 * const bad: LegacyFieldCheck<"noDerivative", Dense, "weight"> = undefined;
 * ```
 * @category Key paths
 */
export type LegacyFieldCheck<K extends StoredPropertyKind, Target, Key> = Key extends keyof Target
  ? FieldCheck<K, Target[Key]>
  : K extends "differentiable"
    ? DecoratorTypeError<PrivateMessage, Key>
    : void;

/**
 * The type of `@differentiable` (`K = "differentiable"`) and `@noDerivative` (`K = "noDerivative"`): a field
 * decorator that works with TC39 decorators and with legacy `experimentalDecorators` alike (it detects the
 * mode from its arguments). Its type checks the field's declared type: `@differentiable` rejects a field
 * that can hold no Tensor (a number, a string, an array of numbers, a `NoDerivative` box), and
 * `@noDerivative` rejects a `Tensor` field (box it instead); a wrongly typed field's compiler message
 * carries the explanation in both modes. TypeScript `private` and `protected` fields may be `@noDerivative`
 * (configuration the tangent never lists anyway) but not `@differentiable`: `TangentVector<Model>` is a
 * mapped type and sees public fields only, so such a gradient would vanish from the type. Legacy
 * decorators see a private field's type only at run time.
 * @example
 * ```ts
 * class Linear {
 *   @differentiable weight = zeros([2, 2]);
 *   @noDerivative steps = 0;
 *   // @ts-expect-error a number is not differentiable
 *   @differentiable count = 0;
 *   // @ts-expect-error a Tensor cannot be @noDerivative: it goes in a NoDerivative box
 *   @noDerivative mask = ones([2]);
 * }
 * ```
 * @category Key paths
 */
export interface FieldDecorator<K extends StoredPropertyKind = StoredPropertyKind> {
  /** TC39 decorators: `(undefined, context)`; the field's type must extend `FieldValue`, and a differentiable field must be public. */
  <This, V extends FieldValue<K>, N extends string | symbol>(value: undefined, context: ClassFieldDecoratorContext<This, V> & { readonly name: N } & PublicCheck<K, This, N>): void;
  /** TC39 decorators, a field of the wrong type: this signature only carries the explanation into the compiler's message. */
  <This, V>(value: undefined, context: ClassFieldDecoratorContext<This, V> & DecoratorTypeError<Messages[K], V>): void;
  /** Legacy `experimentalDecorators`: `(prototype, name)`. */
  <Target extends object, Key extends string>(target: Target, propertyKey: Key): LegacyFieldCheck<K, Target, Key>;
}

type AnyDecoratorFn = (a: unknown, b: unknown, c?: unknown) => void;

function makeFieldDecorator<K extends StoredPropertyKind>(kind: K): FieldDecorator<K> {
  const at = `@${kind}`;
  const decorate: AnyDecoratorFn = (a, b, c) => {
    if (typeof b === "object" && b !== null && "kind" in b) {
      const ctx = b as DecoratorContext;
      if (ctx.kind !== "field") {
        throw new TypeError(
          `${at} applies to fields only, not to the ${ctx.kind} ${String(ctx.name)}; stored properties are plain instance fields ` +
            `(\`${at} ${String(ctx.name)} = ...\`)`,
        );
      }
      if (ctx.static) throw new TypeError(`${at} cannot decorate the static field ${String(ctx.name)}: stored properties are per instance`);
      if (ctx.private) throw new TypeError(`${at} cannot decorate the #private field ${String(ctx.name)}: #private fields are not stored properties; make it a public field`);
      if (typeof ctx.name !== "string") throw new TypeError(`${at} cannot decorate a symbol-keyed field; use a string name`);
      if (ctx.metadata == null) throw new Error(`${at}: decorator metadata is unavailable; import difftypes before defining the class`);
      checkName(at, kind, ctx.name);
      record(ctx.metadata, ctx.name, kind);
    } else if (typeof b === "string" || typeof b === "symbol") {
      if (typeof a === "function") throw new TypeError(`${at} cannot decorate the static member ${String(b)}: stored properties are per instance`);
      if (c !== undefined) {
        throw new TypeError(
          `${at} applies to fields only, not to the method or accessor ${String(b)}; stored properties are plain instance fields`,
        );
      }
      if (typeof b === "symbol") throw new TypeError(`${at} cannot decorate a symbol-keyed field; use a string name`);
      checkName(at, kind, b);
      const proto = a as object;
      record(proto, b, kind);
      const R = Reflect as unknown as ReflectWithMetadata;
      if (typeof R.defineMetadata === "function") {
        R.defineMetadata(REFLECT_METADATA_KEY, ownList(proto.constructor), proto.constructor);
      }
    } else {
      throw new TypeError(`${at} must be used as a field decorator (e.g. \`${at} weight: Tensor\`)`);
    }
  };
  // The run-time function serves every signature; the signatures exist for the compile-time checks.
  return decorate as FieldDecorator<K>;
}

function checkName(at: string, kind: StoredPropertyKind, name: string): void {
  if (kind === "differentiable" && RESERVED_TANGENT_FIELDS.has(name)) {
    throw new TypeError(
      `${at} cannot decorate a field named '${name}': the tangent vector of the class has a method of that name ` +
        `(${[...RESERVED_TANGENT_FIELDS].slice(0, 10).join(", ")}); rename the field`,
    );
  }
}

/**
 * Marks a stored property as differentiable: it is lifted for differentiation, appears in
 * `TangentVector<Model>`, is moved by optimizers and saved in checkpoints. Its type must hold a Tensor (a
 * Tensor, a differentiable class or structure, arrays of them; `undefined`/`null` allowed), which the
 * decorator's type checks at compile time.
 * @example
 * ```ts
 * class Linear {
 *   @differentiable weight = zeros([3, 2]);
 *   @differentiable bias = zeros([2]);
 *   callAsFunction(input: Tensor): Tensor {
 *     return input.matmul(this.weight).add(this.bias);
 *   }
 * }
 * // The gradient has one field per differentiable stored property:
 * const g = gradient(new Linear(), (m) => m.callAsFunction(x).sum());
 * g.weight; // [[5, 5], [7, 7], [9, 9]]
 * g.bias;   // [2, 2]
 * ```
 * @category Key paths
 */
export const differentiable: FieldDecorator<"differentiable"> = makeFieldDecorator("differentiable");

/**
 * Marks a stored property that is not differentiated: configuration, counters, running statistics.
 * It is copied as is into the value a differentiated function receives, and absent from the tangent.
 * A tensor that must not be differentiated goes in a `NoDerivative` box, so that its type says so.
 * @example
 * ```ts
 * class Scaler {
 *   @differentiable scale = ones([]);
 *   @noDerivative steps = 0;
 *   @noDerivative runningMean = new NoDerivative(zeros([3]));
 * }
 * const g = gradient(new Scaler(), (s) => s.scale.mul(x).sum());
 * Object.keys(g); // ["scale"]
 * g.scale;        // 21
 * ```
 * @category Key paths
 */
export const noDerivative: FieldDecorator<"noDerivative"> = makeFieldDecorator("noDerivative");

function ownList(c: Ctor): StoredProperty[] {
  const meta = Object.hasOwn(c, metadataSymbol) ? (c as unknown as Record<symbol, object | undefined>)[metadataSymbol] : undefined;
  return [...(meta ? (registry.get(meta) ?? []) : []), ...(registry.get(c.prototype as object) ?? [])];
}

let layoutCache = new WeakMap<Ctor, readonly StoredProperty[]>();

/**
 * The stored properties of a class (the static layout), from its decorators alone: superclass fields
 * first, then the class's own, in declaration order. Cached per class.
 * @param classOrInstance a class, or an instance of one.
 * @returns the properties with their kinds.
 * @example
 * ```ts
 * class Scaler {
 *   @differentiable scale = ones([]);
 *   @noDerivative steps = 0;
 * }
 * storedProperties(Scaler).map((p) => `${p.name}: ${p.kind}`); // ["scale: differentiable", "steps: noDerivative"]
 * // Superclass fields come first:
 * storedProperties(BatchNorm).map((p) => p.name); // ["scale", "offset", "runningMean", "runningVariance", "axis", "momentum", "epsilon"]
 * ```
 * @category Key paths
 */
export function storedProperties(classOrInstance: object): readonly StoredProperty[] {
  const cls: Ctor = typeof classOrInstance === "function" ? classOrInstance : classOrInstance.constructor;
  const cached = layoutCache.get(cls);
  if (cached) return cached;
  const chain: Ctor[] = [];
  for (let c: unknown = cls; typeof c === "function" && c !== Function.prototype && c !== Object; c = Object.getPrototypeOf(c)) {
    chain.unshift(c);
  }
  const out: StoredProperty[] = [];
  for (const c of chain) {
    for (const p of ownList(c)) {
      const i = out.findIndex((q) => q.name === p.name);
      if (i >= 0) out[i] = p;
      else out.push(p);
    }
  }
  const frozen = Object.freeze(out.map((p) => Object.freeze({ ...p })));
  layoutCache.set(cls, frozen);
  return frozen;
}
