/**
 * The runtime tangent vector of a class: a record whose own enumerable properties are exactly the class's
 * differentiable stored properties (each a tangent), on a per-class prototype that carries the
 * `VectorSpace` methods and a readable printout. The fields are data and the operations live on the
 * prototype, so `Object.keys(g)` lists the fields, the walk treats the value as a plain record (key paths
 * and `tangentLeaves` work on it), and the type `TangentVector<C>` (fields only) describes it exactly.
 */
import {
  tangentAdd,
  tangentSub,
  tangentScale,
  tangentAddScalar,
  tangentMul,
  tangentDiv,
  tangentNeg,
  tangentSqrt,
  tangentDot,
  tangentSquaredNorm,
  type VectorSpace,
} from "./vector-space.js";
import { Tensor } from "../tensor/tensor.js";
import { RESERVED_TANGENT_FIELDS } from "../keypaths/decorators.js";
import { walk } from "../keypaths/walk.js";

/** A class (constructor) of any signature, as `instance.constructor` is typed. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Ctor = Function;

const brand = Symbol.for("difftypes.TangentStruct");
const className = Symbol.for("difftypes.TangentStruct.className");
const inspectCustom = Symbol.for("nodejs.util.inspect.custom");

/** @internal Whether `x` is a class tangent built by {@link makeTangentStruct} (or an operation on one). */
export function isTangentStruct(x: object): boolean {
  return (x as Record<symbol, unknown>)[brand] === true;
}

/** A tangent as text: tensors indented by their depth, class tangents named by their class. */
function render(v: unknown): string {
  try {
    return walk<string>("toString", "tangent", v, {
      leaf: (x, path) => (x instanceof Tensor ? String(x).replace(/\n/g, "\n" + "  ".repeat(path.length + 1)) : String(x)),
      constant: (x) => String(x),
      node(kind, x, keys, results) {
        if (kind === "array") return `[${results.join(", ")}]`;
        const name = (x as Record<symbol, unknown>)[className];
        return `${typeof name === "string" ? `TangentVector<${name}> ` : ""}{ ${keys.map((k, j) => `${String(k)}: ${results[j]!}`).join(", ")} }`;
      },
    });
  } catch {
    return "[a tangent holding values that are not tangents]";
  }
}

type Self = Record<string, unknown>;

/** The methods shared by every class tangent; `this` is the tangent. */
const methods: VectorSpace<Self> & { toString(): string; toJSON(): Self } = {
  add(this: Self, other: Self) { return tangentAdd(this, other); },
  sub(this: Self, other: Self) { return tangentSub(this, other); },
  scaled(this: Self, by: number) { return tangentScale(this, by); },
  adding(this: Self, scalar: number) { return tangentAddScalar(this, scalar); },
  mul(this: Self, other: Self) { return tangentMul(this, other); },
  div(this: Self, other: Self) { return tangentDiv(this, other); },
  neg(this: Self) { return tangentNeg(this); },
  sqrt(this: Self) { return tangentSqrt(this); },
  dot(this: Self, other: Self) { return tangentDot(this, other); },
  squaredNorm(this: Self) { return tangentSquaredNorm(this); },
  toString(this: Self) { return render(this); },
  toJSON(this: Self) { return { ...this }; },
};

const descriptors: PropertyDescriptorMap = {
  [brand]: { value: true },
  [inspectCustom]: { value(this: Self) { return render(this); } },
};
for (const [k, f] of Object.entries(methods)) descriptors[k] = { value: f as unknown, writable: true, configurable: true };
const base = Object.create(Object.prototype, descriptors) as object;

// One prototype per class, so a tangent prints the name of its class.
const prototypes = new WeakMap<object, object>();

function prototypeFor(cls: Ctor): object {
  let p = prototypes.get(cls);
  if (p === undefined) {
    p = Object.create(base, { [className]: { value: cls.name || "anonymous class" } }) as object;
    prototypes.set(cls, p);
  }
  return p;
}

/**
 * @internal The runtime tangent of an instance of a class: `fields` (the tangents of its differentiable
 * stored properties, in layout order) as own enumerable properties of an object whose prototype has the
 * `VectorSpace` methods. A field named like one of those methods is rejected (the decorator already
 * rejects it; this catches the names a `CustomKeyPathIterable` lists).
 */
export function makeTangentStruct(instance: object, fields: Record<string, unknown>): unknown {
  const out = Object.create(prototypeFor(instance.constructor)) as Record<string, unknown>;
  for (const k in fields) {
    if (RESERVED_TANGENT_FIELDS.has(k)) {
      throw new TypeError(
        `${instance.constructor.name}: the differentiable child '${k}' has the name of a tangent vector method ` +
          `(${[...RESERVED_TANGENT_FIELDS].join(", ")}); rename it`,
      );
    }
    out[k] = fields[k];
  }
  return out;
}
