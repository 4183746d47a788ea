/**
 * The parameters an optimizer sees: the model's differentiable leaves paired with the gradient's by the
 * structural walk (`pairLeaves`), then grouped by identity so that a tensor reached by several key paths
 * is one parameter (`tieGroups`). Also the one pass over a parameter's gradient that sums its partials
 * and, in the same loop, looks for non-finite values.
 */
import { Tensor } from "../tensor/tensor.js";
import { pairLeaves, tieGroups, type PairedLeaf } from "../keypaths/walk.js";
import { StagedTensor } from "../staged/tracing.js";
import { wasmFirstNonFinite } from "../tensor/wasm/optimizer.js";
import { bind } from "../autodiff/trace.js";
import type { Primitive } from "../autodiff/primitive.js";
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
 * @internal Writes the sum of a parameter's partial derivatives into `u`; with `scan`, also looks for NaN
 * and ±Infinity in it. Returns the flat index of the first non-finite sum, or -1.
 */
export function sumInto(u: FloatArray, grads: readonly (Tensor | number)[], scan: boolean): number {
  const n = u.length;
  const first = grads[0]!;
  if (typeof first === "number") u.fill(first);
  else if (first.size === n) u.set(first._values);
  else u.fill(first._values[0]!);
  for (let k = 1; k < grads.length; k++) {
    const g = grads[k]!;
    if (typeof g === "number" || g.size === 1) addScalar(u, typeof g === "number" ? g : g._values[0]!);
    else addArray(u, g._values as FloatArray);
  }
  if (!scan) return -1;
  return u instanceof Float32Array ? firstNonFinite32(u) : firstNonFinite64(u);
}

// One loop per array kind below: a loop that sees several kinds is polymorphic and several times slower.

function addScalar(u: FloatArray, x: number): void {
  if (u instanceof Float32Array) for (let i = 0; i < u.length; i++) u[i] = u[i]! + x;
  else for (let i = 0; i < u.length; i++) u[i] = u[i]! + x;
}

function addArray(u: FloatArray, g: FloatArray): void {
  if (u instanceof Float32Array && g instanceof Float32Array) for (let i = 0; i < u.length; i++) u[i] = u[i]! + g[i]!;
  else if (u instanceof Float64Array && g instanceof Float64Array) for (let i = 0; i < u.length; i++) u[i] = u[i]! + g[i]!;
  else for (let i = 0; i < u.length; i++) u[i] = u[i]! + g[i]!;
}

/**
 * @internal The flat index of the first NaN or ±Infinity in `a`, or -1: a SIMD scan where the kernels take
 * it, else four values at a time (x·0 is 0 for finite x and NaN otherwise), then the exact index.
 */
export function firstNonFinite32(a: Float32Array): number {
  const w = wasmFirstNonFinite(a);
  if (w !== undefined) return w;
  const n = a.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) if (a[i]! * 0 + a[i + 1]! * 0 + (a[i + 2]! * 0 + a[i + 3]! * 0) !== 0) break;
  for (; i < n; i++) if (a[i]! - a[i]! !== 0) return i;
  return -1;
}

function firstNonFinite64(a: Float64Array): number {
  const n = a.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) if (a[i]! * 0 + a[i + 1]! * 0 + (a[i + 2]! * 0 + a[i + 3]! * 0) !== 0) break;
  for (; i < n; i++) if (a[i]! - a[i]! !== 0) return i;
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

/** Inside compile: a scalar of the update's dtype, 0 when every element is finite and NaN otherwise. */
const finiteFlagP: Primitive = {
  name: "nonFiniteFlag",
  impl([u]) {
    const a = u!._values;
    const bad = a instanceof Float32Array ? firstNonFinite32(a) : firstNonFinite64(a as Float64Array);
    return new Tensor([], u!.dtype, u!.dtype === "float32" ? Float32Array.of(bad < 0 ? 0 : NaN) : Float64Array.of(bad < 0 ? 0 : NaN));
  },
  shape: ([u]) => ({ shape: [], dtype: u!.dtype }),
  jvp: () => {
    throw new Error("nonFiniteFlag has no derivative");
  },
  vjp: () => {
    throw new Error("nonFiniteFlag has no derivative");
  },
  nondifferentiable: true,
};

/**
 * @internal The finiteness flag of a parameter's update inside compile: 0 exactly when it is finite (one
 * scan, SIMD where the kernels take it), else NaN; a scalar of its dtype.
 */
export function nonFiniteFlag(u: Tensor): Tensor {
  return bind(finiteFlagP, [u], undefined);
}
