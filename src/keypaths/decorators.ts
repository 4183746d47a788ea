import { metadataSymbol } from "./metadata-polyfill.js";

/** Whether a stored property is differentiated (`@differentiable`) or not (`@noDerivative`). */
export type StoredPropertyKind = "differentiable" | "noDerivative";

/** One stored property of a class, as recorded by its decorator. */
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
 * The signature of `@differentiable` and `@noDerivative`: a field decorator that works with TC39 decorators
 * and with legacy `experimentalDecorators` alike (it detects the mode from its arguments).
 */
export interface FieldDecorator {
  (value: undefined, context: ClassFieldDecoratorContext): void;
  (target: object, propertyKey: string | symbol): void;
}

function makeFieldDecorator(kind: StoredPropertyKind): FieldDecorator {
  const at = `@${kind}`;
  return function (a: unknown, b: unknown): void {
    if (typeof b === "object" && b !== null && "kind" in b) {
      const ctx = b as ClassFieldDecoratorContext | ClassMemberDecoratorContext;
      if (ctx.kind !== "field") {
        throw new TypeError(`${at} applies to fields only, not to the ${ctx.kind} ${String(ctx.name)}; declare a plain field`);
      }
      if (ctx.static) throw new TypeError(`${at} cannot decorate the static field ${String(ctx.name)}: stored properties are per instance`);
      if (ctx.private) throw new TypeError(`${at} cannot decorate the #private field ${String(ctx.name)}: make it a public field`);
      if (typeof ctx.name !== "string") throw new TypeError(`${at} cannot decorate a symbol-keyed field; use a string name`);
      if (ctx.metadata == null) throw new Error(`${at}: decorator metadata is unavailable; import difftypes before defining the class`);
      record(ctx.metadata, ctx.name, kind);
    } else if (typeof b === "string" || typeof b === "symbol") {
      if (typeof a === "function") throw new TypeError(`${at} cannot decorate the static field ${String(b)}: stored properties are per instance`);
      if (typeof b === "symbol") throw new TypeError(`${at} cannot decorate a symbol-keyed field; use a string name`);
      const proto = a as object;
      record(proto, b, kind);
      const R = Reflect as unknown as ReflectWithMetadata;
      if (typeof R.defineMetadata === "function") {
        R.defineMetadata(REFLECT_METADATA_KEY, ownList(proto.constructor as Function), proto.constructor);
      }
    } else {
      throw new TypeError(`${at} must be used as a field decorator (e.g. \`${at} weight: Tensor\`)`);
    }
  };
}

/**
 * Marks a stored property as differentiable: it is lifted for differentiation, appears in
 * `TangentVector<Model>`, is moved by optimizers and saved in checkpoints.
 * @example
 * ```ts
 * class Linear {
 *   @differentiable weight = zeros([3, 2]);
 *   @differentiable bias = zeros([2]);
 * }
 * ```
 */
export const differentiable: FieldDecorator = makeFieldDecorator("differentiable");

/**
 * Marks a stored property that is not differentiated: configuration, counters, running statistics.
 * It is copied as is into the value a differentiated function receives, and absent from the tangent.
 * @example
 * ```ts
 * class Counter {
 *   @differentiable scale = ones([]);
 *   @noDerivative steps = 0;
 * }
 * ```
 */
export const noDerivative: FieldDecorator = makeFieldDecorator("noDerivative");

function ownList(c: Function): StoredProperty[] {
  const meta = Object.hasOwn(c, metadataSymbol) ? (c as unknown as Record<symbol, object | undefined>)[metadataSymbol] : undefined;
  return [...(meta ? (registry.get(meta) ?? []) : []), ...(registry.get(c.prototype as object) ?? [])];
}

let layoutCache = new WeakMap<Function, readonly StoredProperty[]>();

/**
 * The stored properties of a class (the static layout), from its decorators alone: superclass fields
 * first, then the class's own, in declaration order. Cached per class.
 * @param classOrInstance a class, or an instance of one.
 * @returns the properties with their kinds.
 * @example
 * ```ts
 * storedProperties(Counter); // [{ name: "scale", kind: "differentiable" }, { name: "steps", kind: "noDerivative" }]
 * ```
 */
export function storedProperties(classOrInstance: Function | object): readonly StoredProperty[] {
  const cls = typeof classOrInstance === "function" ? classOrInstance : classOrInstance.constructor;
  const cached = layoutCache.get(cls);
  if (cached) return cached;
  const chain: Function[] = [];
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
