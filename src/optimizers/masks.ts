/**
 * Choosing parameters by key path: for freezing, for leaving some parameters out of weight decay, and for
 * {@link masked} transforms. A literal path is checked by the compiler against the model's type.
 */
import type { KeyPathString } from "../keypaths/keypath.js";
import type { Masked, ParameterInfo, ParameterPredicate, Transform } from "./transform.js";
import { checkTransform } from "./transform.js";

/**
 * The key paths a selector of `Model` accepts: {@link KeyPathString} (every dotted path into the model,
 * checked at compile time), or any string when the model type is unknown.
 */
type PathOf<Model> = unknown extends Model ? string : KeyPathString<Model>;

/**
 * Chooses parameters of `Model`: one key path (a parameter, or a container whose parameters are all
 * chosen), a list of key paths, or a predicate over the path (and the parameter's description). Literal
 * paths are {@link KeyPathString}s of the model, so a misspelt one does not compile; at run time, a path
 * that matches no parameter is an error too.
 * @typeParam Model the model type; literal paths are checked against it.
 * @example
 * ```ts
 * class MLP {
 *   @differentiable hidden = new Dense({ inputSize: 3, outputSize: 8, activation: relu, seed: 0 });
 *   @differentiable out = new Dense({ inputSize: 8, outputSize: 2, seed: 1 });
 * }
 * const frozen: PathSelector<MLP> = "hidden";                        // every parameter under `hidden`
 * const some: PathSelector<MLP> = ["hidden.bias", "out.weight"];     // these two
 * const noDecay: PathSelector<MLP> = (path) => path.endsWith("bias"); // every bias
 * // @ts-expect-error a literal path is checked against the model's type
 * const typo: PathSelector<MLP> = "hiden";
 * const net = new MLP();
 * const opt = new SGD(net, { learningRate: 0.1, freeze: frozen });
 * const w = net.hidden.weight;
 * opt.update(net, gradient(net, (m) => m.out.callAsFunction(m.hidden.callAsFunction(x)).sum()));
 * net.hidden.weight === w; // true
 * ```
 * @category Optimizers
 */
export type PathSelector<Model = unknown> = PathOf<Model> | readonly PathOf<Model>[] | ParameterPredicate;

/** True when `path` is `prefix` or lies under it (`"a.b"` is under `"a"`, `"ab"` is not). */
function under(path: string, prefix: string): boolean {
  return path === prefix || (path.length > prefix.length && path.startsWith(prefix) && path[prefix.length] === ".");
}

/**
 * @internal Turns a selector into a predicate over parameters, checking its form.
 * @param where the option or argument, for the error message.
 */
export function selectorPredicate(where: string, sel: unknown): { test: (p: ParameterInfo) => boolean; description: string } {
  if (typeof sel === "function") {
    const f = sel as ParameterPredicate;
    return {
      test: (p) => p.paths.some((path) => {
        const r = f(path, p);
        if (typeof r !== "boolean") {
          throw new TypeError(`${where}: the predicate returned ${typeof r} for ${path}; it must return true or false`);
        }
        return r;
      }),
      description: `predicate ${f.name || "(anonymous)"}`,
    };
  }
  const list: unknown[] = typeof sel === "string" ? [sel] : Array.isArray(sel) ? (sel as unknown[]) : [];
  if ((typeof sel !== "string" && !Array.isArray(sel)) || list.some((s) => typeof s !== "string")) {
    throw new TypeError(
      `${where}: expected a key path string ("layers.0.bias"), an array of them, or a predicate (path) => boolean; got ${sel === null ? "null" : typeof sel}`,
    );
  }
  const prefixes = list as string[];
  return {
    test: (p) => p.paths.some((path) => prefixes.some((q) => under(path, q))),
    description: prefixes.length === 1 ? `"${prefixes[0]}"` : `[${prefixes.map((q) => `"${q}"`).join(", ")}]`,
  };
}

/**
 * @internal The paths of a selector that match no parameter (to report a misspelt path at run time too).
 */
export function unmatchedPaths(sel: unknown, params: readonly ParameterInfo[]): string[] {
  if (typeof sel === "function") return [];
  const list = typeof sel === "string" ? [sel] : Array.isArray(sel) ? (sel as string[]) : [];
  return list.filter((q) => !params.some((p) => p.paths.some((path) => under(path, q))));
}

/**
 * Applies a transform to the chosen parameters only; the others pass through it unchanged and get no
 * state from it (optax's `masked`). A tree-wide transform inside (e.g. {@link clipByGlobalNorm}) sees only
 * the chosen parameters.
 * @param transform the transform to restrict.
 * @param select which parameters it applies to (key paths are typed when `Model` is given).
 * @returns the restricted transform.
 * @example
 * ```ts
 * // Weight decay on everything but biases.
 * const tx = chain(
 *   scaleByAdam(),
 *   masked(addDecayedWeights(0.01), (path) => !path.endsWith("bias")),
 *   scaleByLearningRate(1e-3),
 * );
 * // Typed paths: a misspelt path does not compile.
 * class MLP {
 *   @differentiable hidden = new Dense({ inputSize: 3, outputSize: 8, activation: relu, seed: 0 });
 *   @differentiable out = new Dense({ inputSize: 8, outputSize: 2, seed: 1 });
 * }
 * const decayWeights = masked<MLP>(addDecayedWeights(0.01), ["hidden.weight", "out.weight"]);
 * // @ts-expect-error "out.wieght" is not a path of MLP
 * masked<MLP>(addDecayedWeights(0.01), ["out.wieght"]);
 * // Only the masked parameters decay: a bias with a zero gradient stays put.
 * const net = new MLP();
 * const opt = new Optimizer(net, chain(decayWeights, scaleByLearningRate(0.1)));
 * opt.update(net, { hidden: { weight: zeros([3, 8]), bias: zeros([8]) }, out: { weight: zeros([8, 2]), bias: zeros([2]) } });
 * net.out.bias; // [0, 0]
 * ```
 * @category Optimizers
 */
export function masked<Model = unknown>(transform: Transform, select: PathSelector<Model>): Transform {
  checkTransform("masked: the transform", transform);
  const { test, description } = selectorPredicate("masked", select);
  const m: Masked = { kind: "masked", inner: transform, select: test, description };
  return m;
}
