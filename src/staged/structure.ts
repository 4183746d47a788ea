/**
 * Arguments and results of compiled functions as trees, seen by the library's one structural walk under
 * its `"staged"` view: tensors (any dtype) are the leaves that become program inputs and outputs; a number
 * at the top level (or in a top-level array) is a leaf too, a rank-0 float32 input, as in the differential
 * operators. Containers are those key paths and checkpoints see (arrays, plain objects, the stored
 * properties of decorated classes, `CustomKeyPathIterable` children) plus `NoDerivative` boxes; the rest
 * is constant. A tensor or object reached by two paths is one input, rebuilt shared; a cycle is an error.
 * The signature of a call is the tree's shape: leaf shapes and dtypes, keys, classes, ties, and constants
 * (by value for primitives, by identity otherwise).
 */
import { Tensor } from "../tensor/tensor.js";
import { scalar } from "../tensor/creation.js";
import { rebuildNode, walk } from "../keypaths/walk.js";

/** @internal The shape of a flattened value: the value itself, walked again to rebuild it. */
export interface Node {
  readonly source: unknown;
  /** Whether numbers at the top level are leaves (arguments) or constants (results). */
  readonly numberLeaves: boolean;
  /** Whether the value is a single tensor (rebuilt without a walk). */
  readonly single: boolean;
}

/** @internal A flattened value: its tree, its leaves (numbers as float32 scalars), its signature. */
export interface Flat {
  readonly tree: Node;
  readonly leaves: Tensor[];
  readonly key: string;
}

const ids = new WeakMap<object, number>();
let nextId = 0;
function identity(x: object): number {
  let id = ids.get(x);
  if (id === undefined) ids.set(x, (id = nextId++));
  return id;
}

function constantKey(v: unknown): string {
  if (typeof v === "function" || (typeof v === "object" && v !== null)) return `R${identity(v)};`;
  return typeof v === "string" ? `Cs${JSON.stringify(v)}` : `C${typeof v}:${String(v)};`;
}

/** @internal Flattens `x`. With `numberLeaves`, numbers at the top level become leaves (inputs). */
export function flatten(x: unknown, numberLeaves: boolean): Flat {
  const leaves: Tensor[] = [];
  const key: string[] = [];
  // Results are ordinals of first visits, so that a tie is written in the signature by position.
  let visited = 0;
  walk<number>("compile", "staged", x, {
    leaf(v) {
      if (typeof v === "number" && !numberLeaves) {
        key.push(constantKey(v));
        return -1;
      }
      key.push(typeof v === "number" ? "N" : `T${(v as Tensor).dtype}[${(v as Tensor).shape.join(",")}]`);
      leaves.push(typeof v === "number" ? scalar(v, "float32") : (v as Tensor));
      return visited++;
    },
    constant(v) {
      key.push(constantKey(v));
      return -1;
    },
    enter(kind, v, keys) {
      key.push(kind === "array" ? `A${keys.length}(` : `${kind === "object" ? "O" : `K${identity(Object.getPrototypeOf(v) as object)}`}${JSON.stringify(keys)}(`);
    },
    node() {
      key.push(")");
      return visited++;
    },
    again(_v, first) {
      key.push(`S${first};`);
    },
  }, { shared: true });
  return { tree: { source: x, numberLeaves, single: x instanceof Tensor }, leaves, key: key.join("") };
}

/**
 * @internal Rebuilds a value of the tree's shape with new leaves. Objects are copied (same prototype, same
 * own properties, the walked ones replaced), so the original is never touched; ties stay ties. With
 * `remember`, each copy remembers its original ({@link originalOf}).
 */
export function unflatten(tree: Node, leaf: (index: number, isNumber: boolean) => unknown, remember = false): unknown {
  if (tree.single) return leaf(0, false);
  let i = 0;
  return walk<unknown>("compile", "staged", tree.source, {
    leaf: (v) => (typeof v === "number" && !tree.numberLeaves ? v : leaf(i++, typeof v === "number")),
    node: (kind, v, keys, results) => {
      const copy = rebuildNode(kind, v, keys, results) as object;
      if (remember) originals.set(copy, v);
      return copy;
    },
  }, { shared: true });
}

// The object each rebuilt container copies (so an optimizer recognises the staged copy of its model).
const originals = new WeakMap<object, object>();

/** @internal The argument object a container rebuilt by {@link unflatten} copies, or `x` itself. */
export function originalOf<T>(x: T): T {
  return (typeof x === "object" && x !== null ? (originals.get(x) as T | undefined) : undefined) ?? x;
}
