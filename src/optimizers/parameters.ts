/**
 * The parameters an optimizer sees: the model's differentiable leaves paired with the gradient's by the
 * structural walk (`pairLeaves`), then grouped by identity so that a tensor reached by several key paths
 * is one parameter (`tieGroups`). Also the one pass over a parameter's gradient that sums its partials
 * and, in the same loop, looks for non-finite values.
 */
import { Tensor } from "../tensor/tensor.js";
import { pairLeaves, tieGroups, type PairedLeaf } from "../keypaths/walk.js";
import { StagedTensor } from "../staged/tracing.js";
import type { FloatArray, ParameterInfo, ParameterView } from "./transform.js";

const NO_VALUES = new Float64Array(0);

/** @internal One parameter: a leaf tensor of the model, with every path that reaches it. */
export interface Parameter {
  readonly info: ParameterInfo;
  readonly view: ParameterView;
  /** Indices of its leaves in walk order. */
  readonly leaves: readonly number[];
  readonly isNumber: boolean;
  /** The partial derivatives given for it (one per path that has one). */
  readonly grads: readonly (Tensor | number)[];
  /** The key path of each partial derivative. */
  readonly gradPaths: readonly string[];
}

/**
 * @internal The model's leaves paired with `along` (a tangent-shaped value; `null` for none) and grouped
 * into parameters, in walk order.
 */
export function parametersOf(op: string, model: unknown, along: unknown, what: string): { pairs: PairedLeaf[]; params: Parameter[] } {
  const pairs = pairLeaves(op, model, along, what);
  const params = tieGroups(pairs).map((leaves): Parameter => {
    const first = pairs[leaves[0]!]!;
    const v = first.value;
    const isNumber = typeof v === "number";
    const grads: (Tensor | number)[] = [];
    const gradPaths: string[] = [];
    for (const i of leaves) {
      const o = pairs[i]!.other;
      if (o === null) continue;
      grads.push(o);
      gradPaths.push(pairs[i]!.key);
    }
    const info: ParameterInfo = Object.freeze({
      path: first.key,
      paths: Object.freeze(leaves.map((i) => pairs[i]!.key)),
      shape: isNumber ? [] : v.shape,
      dtype: isNumber ? "float64" : (v.dtype as "float32" | "float64"),
      size: isNumber ? 1 : v.size,
    });
    // A staged parameter (inside compile) has no elements yet: its rules run in their staged form.
    const value: FloatArray = isNumber ? Float64Array.of(v) : v instanceof StagedTensor ? NO_VALUES : (v._values as FloatArray);
    return { info, view: { info, value }, leaves, isNumber, grads, gradPaths };
  });
  return { pairs, params };
}

/** @internal The parameters of a model (shared tensors once), for checking selectors against them. */
export function parameterInfos(op: string, model: unknown): ParameterInfo[] {
  return parametersOf(op, model, null, "gradient").params.map((p) => p.info);
}

/**
 * @internal Writes the sum of a parameter's partial derivatives into `u`; with `scan`, the same loop
 * also looks for NaN and ±Infinity. Returns the flat index of the first non-finite sum, or -1.
 */
export function sumInto(u: FloatArray, grads: readonly (Tensor | number)[], scan: boolean): number {
  const n = u.length;
  const first = grads[0]!;
  const last = grads.length - 1;
  if (last === 0 && typeof first !== "number" && first.size === n) {
    const g = first._values;
    if (!scan) {
      u.set(g);
      return -1;
    }
    let bad = -1;
    for (let i = 0; i < n; i++) {
      const x = g[i]!;
      u[i] = x;
      // x - x is 0 for finite x and NaN for NaN and ±Infinity.
      if (x - x !== 0 && bad < 0) bad = i;
    }
    return bad;
  }
  if (typeof first === "number") u.fill(first);
  else if (first.size === n) u.set(first._values);
  else u.fill(first._values[0]!);
  for (let k = 1; k <= last; k++) {
    const g = grads[k]!;
    if (typeof g === "number" || g.size === 1) {
      const x = typeof g === "number" ? g : g._values[0]!;
      for (let i = 0; i < n; i++) u[i] = u[i]! + x;
    } else {
      const gv = g._values;
      for (let i = 0; i < n; i++) u[i] = u[i]! + gv[i]!;
    }
  }
  if (!scan) return -1;
  for (let i = 0; i < n; i++) if (u[i]! - u[i]! !== 0) return i;
  return -1;
}

/** @internal Where a non-finite value sits among a parameter's partials: its path and flat index. */
export function locateNonFinite(p: Parameter): { path: string; index: number; value: number } {
  for (let k = 0; k < p.grads.length; k++) {
    const g = p.grads[k]!;
    const a = typeof g === "number" ? [g] : g._values;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return { path: p.gradPaths[k]!, index: i, value: a[i]! };
  }
  // Finite partials whose sum overflows.
  return { path: p.info.paths.join(" + "), index: -1, value: Infinity };
}
