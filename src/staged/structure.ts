/**
 * Arguments and results of compiled functions as trees: tensors (any dtype) are the leaves that become
 * program inputs and outputs; a number at the top level (or in a top-level array) is a leaf too, a rank-0
 * float32 input, as in the differential operators. Everything else is structure (arrays, plain objects,
 * class instances, `NoDerivative` boxes) or a constant, and the signature of a call is the tree's shape:
 * leaf shapes and dtypes, keys, classes, and constants (by value for primitives, by identity otherwise).
 */
import { Tensor } from "../tensor/tensor.js";
import { scalar } from "../tensor/creation.js";

/** @internal A tree node. */
export type Node =
  | { readonly kind: "leaf"; readonly index: number; readonly isNumber: boolean }
  | { readonly kind: "constant"; readonly value: unknown }
  | { readonly kind: "array"; readonly items: readonly Node[] }
  | { readonly kind: "record"; readonly source: object; readonly keys: readonly string[]; readonly values: readonly Node[] };

/** @internal A flattened value: its tree, its leaves (numbers as float32 scalars), their paths, its signature. */
export interface Flat {
  readonly tree: Node;
  readonly leaves: Tensor[];
  readonly paths: string[];
  readonly key: string;
}

const ids = new WeakMap<object, number>();
let nextId = 0;
function identity(x: object): number {
  let id = ids.get(x);
  if (id === undefined) ids.set(x, (id = nextId++));
  return id;
}

function isPlain(x: object): boolean {
  const p = Object.getPrototypeOf(x) as object | null;
  return p === Object.prototype || p === null;
}

/** Built-in objects with internal slots are carried whole, never copied field by field. */
function opaque(v: object): boolean {
  return ArrayBuffer.isView(v) || v instanceof Map || v instanceof Set || v instanceof WeakMap || v instanceof WeakSet ||
    v instanceof Date || v instanceof RegExp || v instanceof Promise || v instanceof ArrayBuffer;
}

/** @internal Flattens `x`. With `numberLeaves`, numbers at the top level become leaves (inputs). */
export function flatten(x: unknown, numberLeaves: boolean): Flat {
  const leaves: Tensor[] = [];
  const paths: string[] = [];
  const key: string[] = [];
  const seen = new Set<object>();
  const go = (v: unknown, top: boolean, path: string): Node => {
    if (v instanceof Tensor) {
      key.push(`T${v.dtype}[${v.shape.join(",")}]`);
      leaves.push(v);
      paths.push(path);
      return { kind: "leaf", index: leaves.length - 1, isNumber: false };
    }
    if (typeof v === "number" && top && numberLeaves) {
      key.push("N");
      leaves.push(scalar(v, "float32"));
      paths.push(path);
      return { kind: "leaf", index: leaves.length - 1, isNumber: true };
    }
    if (v === null || typeof v !== "object") {
      key.push(typeof v === "function" ? `F${identity(v)}` : `C${typeof v}:${String(v)}`);
      return { kind: "constant", value: v };
    }
    if (opaque(v)) {
      key.push(`R${identity(v)}`);
      return { kind: "constant", value: v };
    }
    if (seen.has(v)) {
      // A cycle (an object inside itself) is carried as it is (its identity is in the signature). An object
      // reached twice without a cycle is walked twice: its leaves are inputs at both places.
      key.push(`R${identity(v)}`);
      return { kind: "constant", value: v };
    }
    seen.add(v);
    try {
      return walkObject(v, top, path);
    } finally {
      seen.delete(v);
    }
  };
  const walkObject = (v: object, top: boolean, path: string): Node => {
    if (Array.isArray(v)) {
      key.push(`A${v.length}(`);
      const items = v.map((e, i) => go(e, top, `${path}[${i}]`));
      key.push(")");
      return { kind: "array", items };
    }
    const keys = Object.keys(v);
    key.push(isPlain(v) ? "O(" : `K${identity(Object.getPrototypeOf(v) as object)}(`);
    const values = keys.map((k) => {
      key.push(`${JSON.stringify(k)}:`);
      return go((v as Record<string, unknown>)[k], false, path === "" ? k : `${path}.${k}`);
    });
    key.push(")");
    return { kind: "record", source: v, keys, values };
  };
  const tree = go(x, true, "");
  return { tree, leaves, paths, key: key.join("") };
}

/**
 * @internal Rebuilds a value of the tree's shape with new leaves. Objects are copied (same prototype, same
 * own properties, the walked ones replaced), so the original is never touched.
 */
export function unflatten(tree: Node, leaf: (index: number, isNumber: boolean) => unknown): unknown {
  const go = (n: Node): unknown => {
    switch (n.kind) {
      case "leaf":
        return leaf(n.index, n.isNumber);
      case "constant":
        return n.value;
      case "array":
        return n.items.map(go);
      case "record": {
        const copy = Object.assign(Object.create(Object.getPrototypeOf(n.source) as object | null) as object, n.source) as Record<string, unknown>;
        for (let i = 0; i < n.keys.length; i++) copy[n.keys[i]!] = go(n.values[i]!);
        return copy;
      }
    }
  };
  return go(tree);
}
