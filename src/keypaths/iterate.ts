/**
 * Key-path iteration (Swift's `KeyPathIterable`): the key paths of a value's children, optionally
 * recursive and filtered by value type: clients of the structural walk's stored view (stored properties
 * for classes, from the decorators, cached per class; `CustomKeyPathIterable` for classes that list their
 * own; own enumerable keys for plain objects and tangents; indices for arrays).
 */
import { Tensor } from "../tensor/tensor.js";
import { childrenOf, leavesOf, walk, type Segment } from "./walk.js";
import { KeyPath, WritableKeyPath } from "./keypath.js";

/**
 * A value type to filter key paths by: `Number`, `String`, `Boolean`, or a class (`Tensor`, a layer
 * class, …), matched with `instanceof`.
 * @example
 * ```ts
 * const model = new Sequential(new Dense({ inputSize: 3, outputSize: 4, seed: 0 }), new Dense({ inputSize: 4, outputSize: 2, seed: 1 }));
 * const tensors: KeyPath<typeof model, Tensor>[] = recursivelyAllKeyPaths(model, Tensor);
 * tensors.map(String); // ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
 * recursivelyAllKeyPaths(model, Boolean).map(String); // ["layers.0.useBias", "layers.1.useBias"]
 * ```
 * @category Key paths
 */
export type KeyPathValueType = NumberConstructor | StringConstructor | BooleanConstructor | (abstract new (...args: never[]) => unknown);

/**
 * The value type a {@link KeyPathValueType} selects: `Number → number`, `String → string`,
 * `Boolean → boolean`, a class → its instances.
 * @example
 * ```ts
 * const t: ValueOfType<typeof Tensor> = zeros([2]);
 * const n: ValueOfType<NumberConstructor> = 3;
 * // Hence the value type of the key paths that a filter selects:
 * const dense = new Dense({ inputSize: 3, outputSize: 2, seed: 0 });
 * allKeyPaths(dense, Tensor)[0]!.get(dense).shape; // [3, 2]
 * ```
 * @category Key paths
 */
export type ValueOfType<C> = C extends NumberConstructor
  ? number
  : C extends StringConstructor
    ? string
    : C extends BooleanConstructor
      ? boolean
      : C extends abstract new (...args: never[]) => infer I
        ? I
        : never;

function matches(v: unknown, type: KeyPathValueType | undefined): boolean {
  if (type === undefined) return true;
  if (type === Number) return typeof v === "number";
  if (type === String) return typeof v === "string";
  if (type === Boolean) return typeof v === "boolean";
  return v instanceof (type as abstract new (...args: never[]) => unknown);
}

function isWritable(container: object, key: Segment): boolean {
  if (Object.isFrozen(container)) return false;
  let o: object | null = container;
  while (o !== null) {
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (d) return d.writable === true || d.set !== undefined;
    o = Object.getPrototypeOf(o) as object | null;
  }
  return Object.isExtensible(container);
}

/**
 * The key paths below `x` (children only, or every value depth first), from the structural walk's stored
 * view: array indices; own enumerable keys of plain objects and tangents; the keys a
 * `CustomKeyPathIterable` lists; every stored property of a decorated class (both kinds, superclass first,
 * as Swift's `allKeyPaths` lists `@noDerivative` properties too). Tensors, boxes, primitives and
 * undecorated classes have no children.
 */
function collect(op: string, x: unknown, recursive: boolean, writable: boolean, type: KeyPathValueType | undefined): Segment[][] {
  const out: Segment[][] = [];
  const consider = (v: unknown, path: readonly Segment[]): void => {
    if (path.length === 0 || !matches(v, type)) return;
    if (writable) {
      let parent = x as Record<Segment, unknown>;
      for (let i = 0; i < path.length - 1; i++) parent = parent[path[i]!] as Record<Segment, unknown>;
      if (!isWritable(parent, path[path.length - 1]!)) return;
    }
    out.push(path.slice());
  };
  if (!recursive) {
    const { keys } = childrenOf("stored", op, x, [], 0);
    for (const k of keys) consider((x as Record<Segment, unknown>)[k], [k]);
    return out;
  }
  walk<void>(op, "stored", x, { leaf: consider, enter: (_kind, v, _keys, path) => consider(v, path) });
  return out;
}

/**
 * The key paths of the direct children of `x` (Swift's `allKeyPaths`), optionally only those whose
 * current value is of type `type`.
 * @param x any value: a model, a tangent, an array, a plain object.
 * @returns key paths in declaration order (stored properties superclass first, then array order).
 * @example
 * ```ts
 * class Linear {
 *   @differentiable weight = zeros([3, 2]);
 *   @differentiable bias = zeros([2]);
 *   @noDerivative steps = 0;
 * }
 * allKeyPaths(new Linear()).map(String);         // ["weight", "bias", "steps"]
 * allKeyPaths(new Linear(), Tensor).map(String); // ["weight", "bias"]
 * allKeyPaths(new Linear(), Number).map(String); // ["steps"]
 * ```
 * @category Key paths
 */
export function allKeyPaths<T>(x: T): KeyPath<T, unknown>[];
/**
 * The key paths of the direct children of `x` (Swift's `allKeyPaths`), optionally only those whose
 * current value is of type `type`.
 * @param x any value: a model, a tangent, an array, a plain object.
 * @param type optional filter: `Tensor`, `Number`, `String`, `Boolean`, or a class.
 * @returns key paths in declaration order (stored properties superclass first, then array order).
 * @example
 * ```ts
 * class Linear {
 *   @differentiable weight = zeros([3, 2]);
 *   @differentiable bias = zeros([2]);
 *   @noDerivative steps = 0;
 * }
 * allKeyPaths(new Linear()).map(String);         // ["weight", "bias", "steps"]
 * allKeyPaths(new Linear(), Tensor).map(String); // ["weight", "bias"]
 * allKeyPaths(new Linear(), Number).map(String); // ["steps"]
 * ```
 * @category Key paths
 */
export function allKeyPaths<T, C extends KeyPathValueType>(x: T, type: C): KeyPath<T, ValueOfType<C>>[];
export function allKeyPaths(x: unknown, type?: KeyPathValueType): KeyPath<unknown, unknown>[] {
  return collect("allKeyPaths", x, false, false, type).map((s) => new KeyPath(s));
}

/**
 * The writable key paths of the direct children of `x` (Swift's `allWritableKeyPaths`): those whose
 * property can be assigned (not frozen, not a getter without setter).
 * @param x any value.
 * @returns writable key paths in declaration order.
 * @example
 * ```ts
 * const dense = new Dense({ inputSize: 3, outputSize: 2, biasInitializer: onesInitializer(), seed: 0 });
 * // Halve every parameter, in place:
 * allWritableKeyPaths(dense, Tensor).forEach((kp) => kp.set(dense, kp.get(dense).mul(0.5)));
 * dense.bias; // [0.5, 0.5]
 * ```
 * @category Key paths
 */
export function allWritableKeyPaths<T>(x: T): WritableKeyPath<T, unknown>[];
/**
 * The writable key paths of the direct children of `x` (Swift's `allWritableKeyPaths`): those whose
 * property can be assigned (not frozen, not a getter without setter).
 * @param x any value. @param type optional value type filter.
 * @returns writable key paths in declaration order.
 * @example
 * ```ts
 * const dense = new Dense({ inputSize: 3, outputSize: 2, biasInitializer: onesInitializer(), seed: 0 });
 * // Halve every parameter, in place:
 * allWritableKeyPaths(dense, Tensor).forEach((kp) => kp.set(dense, kp.get(dense).mul(0.5)));
 * dense.bias; // [0.5, 0.5]
 * ```
 * @category Key paths
 */
export function allWritableKeyPaths<T, C extends KeyPathValueType>(x: T, type: C): WritableKeyPath<T, ValueOfType<C>>[];
export function allWritableKeyPaths(x: unknown, type?: KeyPathValueType): WritableKeyPath<unknown, unknown>[] {
  return collect("allWritableKeyPaths", x, false, true, type).map((s) => new WritableKeyPath(s));
}

/**
 * The key paths of every value inside `x`, depth first: each child, then the paths inside it (Swift's
 * `recursivelyAllKeyPaths`), optionally filtered by value type.
 * @param x any value.
 * @returns key paths in depth-first declaration order.
 * @example
 * ```ts
 * class Model {
 *   @differentiable dense = new Dense({ inputSize: 3, outputSize: 2, seed: 0 });
 *   @noDerivative steps = 0;
 * }
 * recursivelyAllKeyPaths(new Model()).map(String); // ["dense", "dense.weight", "dense.bias", "dense.activation", "dense.useBias", "steps"]
 * recursivelyAllKeyPaths(new Model(), Tensor).map(String); // ["dense.weight", "dense.bias"]
 * ```
 * @category Key paths
 */
export function recursivelyAllKeyPaths<T>(x: T): KeyPath<T, unknown>[];
/**
 * The key paths of every value inside `x`, depth first: each child, then the paths inside it (Swift's
 * `recursivelyAllKeyPaths`), optionally filtered by value type.
 * @param x any value. @param type optional value type filter.
 * @returns key paths in depth-first declaration order.
 * @example
 * ```ts
 * class Model {
 *   @differentiable dense = new Dense({ inputSize: 3, outputSize: 2, seed: 0 });
 *   @noDerivative steps = 0;
 * }
 * recursivelyAllKeyPaths(new Model()).map(String); // ["dense", "dense.weight", "dense.bias", "dense.activation", "dense.useBias", "steps"]
 * recursivelyAllKeyPaths(new Model(), Tensor).map(String); // ["dense.weight", "dense.bias"]
 * ```
 * @category Key paths
 */
export function recursivelyAllKeyPaths<T, C extends KeyPathValueType>(x: T, type: C): KeyPath<T, ValueOfType<C>>[];
export function recursivelyAllKeyPaths(x: unknown, type?: KeyPathValueType): KeyPath<unknown, unknown>[] {
  return collect("recursivelyAllKeyPaths", x, true, false, type).map((s) => new KeyPath(s));
}

/**
 * The writable key paths of every value of type `type` inside `x`, depth first (Swift's
 * `recursivelyAllWritableKeyPaths(to:)`): the optimizer's loop over parameters.
 * @param x any value.
 * @returns writable key paths in depth-first declaration order.
 * @example
 * ```ts
 * const model = new Sequential(new Dense({ inputSize: 3, outputSize: 4, seed: 0 }), new Dense({ inputSize: 4, outputSize: 1, seed: 1 }));
 * const grad = gradient(model, (m) => m.callAsFunction(x).square().mean());
 * // A step of gradient descent, parameter by parameter (the gradient has the same paths):
 * const lr = 0.01;
 * for (const kp of recursivelyAllWritableKeyPaths(model, Tensor)) kp.set(model, kp.get(model).sub(kp.get(grad).mul(lr)));
 * ```
 * @category Key paths
 */
export function recursivelyAllWritableKeyPaths<T>(x: T): WritableKeyPath<T, unknown>[];
/**
 * The writable key paths of every value of type `type` inside `x`, depth first (Swift's
 * `recursivelyAllWritableKeyPaths(to:)`): the optimizer's loop over parameters.
 * @param x any value. @param type the value type: typically `Tensor`.
 * @returns writable key paths in depth-first declaration order.
 * @example
 * ```ts
 * const model = new Sequential(new Dense({ inputSize: 3, outputSize: 4, seed: 0 }), new Dense({ inputSize: 4, outputSize: 1, seed: 1 }));
 * const grad = gradient(model, (m) => m.callAsFunction(x).square().mean());
 * // A step of gradient descent, parameter by parameter (the gradient has the same paths):
 * const lr = 0.01;
 * for (const kp of recursivelyAllWritableKeyPaths(model, Tensor)) kp.set(model, kp.get(model).sub(kp.get(grad).mul(lr)));
 * ```
 * @category Key paths
 */
export function recursivelyAllWritableKeyPaths<T, C extends KeyPathValueType>(x: T, type: C): WritableKeyPath<T, ValueOfType<C>>[];
export function recursivelyAllWritableKeyPaths(x: unknown, type?: KeyPathValueType): WritableKeyPath<unknown, unknown>[] {
  return collect("recursivelyAllWritableKeyPaths", x, true, true, type).map((s) => new WritableKeyPath(s));
}

/**
 * The key paths of exactly the differentiable leaves of `x`, in the order automatic differentiation and
 * tangents use them: the paths that are valid both in `x` and in every `TangentVector<T>` (unlike
 * `recursivelyAllKeyPaths`, which also lists `@noDerivative` properties and constants).
 * @param x a number, Tensor, or structure of them.
 * @returns one writable key path per leaf (a Tensor, or a number in root-level arrays); none when `x` is itself a leaf.
 * @example
 * ```ts
 * class Model {
 *   @differentiable dense = new Dense({ inputSize: 3, outputSize: 2, seed: 0 });
 *   @noDerivative steps = 0;
 * }
 * differentiableKeyPaths(new Model()).map(String); // ["dense.weight", "dense.bias"]
 * // Numbers are leaves too, in an array at the root:
 * differentiableKeyPaths([2, zeros([3])]).map(String); // ["0", "1"]
 * ```
 * @category Key paths
 */
export function differentiableKeyPaths<T>(x: T): WritableKeyPath<T, Tensor | number>[] {
  const leaves = leavesOf("differentiableKeyPaths", x);
  // A leaf at the root (a number or a Tensor) has no path inside it to write through.
  return leaves.filter((l) => l.path.length > 0).map((l) => new WritableKeyPath<T, Tensor | number>(l.path));
}
