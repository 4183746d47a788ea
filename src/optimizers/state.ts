/**
 * The optimizer's saved state: its format, and the checks that keep state and parameters in step. State
 * is kept per parameter by key path; each entry remembers the shape and dtype it was made for, so that a
 * parameter replaced by one of another shape (model surgery) is caught before a rule reads past its state.
 */
import { fmt } from "../tensor/shape.js";
import type { TangentVector } from "../protocols/tangent.js";
import type { FloatArray, ParameterInfo, Slots } from "./transform.js";

/**
 * The format tag of {@link OptimizerState}, checked by `loadState`.
 * @example
 * ```ts
 * new Adam(model).state().format === OPTIMIZER_STATE_FORMAT; // true
 * OPTIMIZER_STATE_FORMAT; // "difftypes.optimizer/1"
 * ```
 * @category Optimizers
 */
export const OPTIMIZER_STATE_FORMAT = "difftypes.optimizer/1";

/**
 * An optimizer's state as a plain value (numbers, strings, records and tensors), ready to serialise.
 *
 * Each slot (`firstMoments`, `secondMoments`, …) is a value of type `TangentVector<Model>`: the same key
 * path reads a parameter in the model, its gradient, and its optimizer state
 * (`state.slots.firstMoments.dense.weight`). Parameters that have no state for a slot (frozen, masked out
 * of the rule) read as zeros there, and are ignored by {@link Optimizer.loadState}.
 *
 * @typeParam Model the model type.
 * @example
 * ```ts
 * class Model {
 *   @differentiable dense = new Dense({ inputSize: 3, outputSize: 2, seed: 0 });
 * }
 * const net = new Model();
 * const opt = new Adam(net);
 * opt.update(net, gradient(net, (m) => m.dense.callAsFunction(x).sum()));
 * const saved: OptimizerState<Model> = opt.state();
 * // The path of a parameter reads its state too: Adam's first moment after one step is (1 − β1) · g.
 * saved.slots["firstMoments"]!.dense.bias; // [0.2, 0.2]
 * saved.parameterSteps["dense.bias"]; // 1
 * ```
 * @category Optimizers
 */
export interface OptimizerState<Model> {
  /** Always `"difftypes.optimizer/1"`. */
  readonly format: typeof OPTIMIZER_STATE_FORMAT;
  /** The names of the rules, in order (checked on load). */
  readonly rules: readonly string[];
  /** Completed steps (schedules are evaluated at this count next). */
  readonly step: number;
  /** Steps skipped because of a non-finite gradient (see `skipNonFinite`). */
  readonly skippedSteps: number;
  /** Per parameter (by its key path): the paper's `t` of its last update (bias corrections use it). */
  readonly parameterSteps: Readonly<Record<string, number>>;
  /** The rules' per-parameter state, one tangent-shaped value per slot. */
  readonly slots: Readonly<Record<string, TangentVector<Model>>>;
}

/** @internal The state of one parameter: one `Slots` per stage (absent where the stage does not apply). */
export interface ParameterState {
  /** The shape the state was made for. */
  readonly shape: readonly number[];
  /** The dtype the state was made for. */
  readonly dtype: "float32" | "float64";
  /** Per stage. */
  readonly stages: (Slots | undefined)[];
  /** The paper's t of the parameter's last update (0 before the first). */
  step: number;
}

/**
 * @internal Throws when the state kept at a parameter's path was made for another shape or dtype (the
 * parameter was replaced after the optimizer was built).
 */
export function checkStateFits(op: string, label: string, p: ParameterInfo, s: ParameterState): void {
  if (s.dtype === p.dtype && s.shape.length === p.shape.length && s.shape.every((d, i) => d === p.shape[i])) return;
  throw new RangeError(
    `${op}: the optimizer state at '${p.path}' was made for a ${s.dtype} parameter of shape ${fmt(s.shape)}, but the ` +
      `parameter there is now ${p.dtype} of shape ${fmt(p.shape)} (the model changed after the optimizer was built). ` +
      `Call ${label.charAt(0).toLowerCase() + label.slice(1)}.resetState("${p.path}") to give it fresh state (or resetState() for all), ` +
      `or build a new optimizer; nothing was changed`,
  );
}

/**
 * @internal Checks the values of a loaded slot: finite, and non-negative where the rule says so (second
 * moments, accumulators). Returns a problem description, or `undefined`.
 */
export function slotValueProblem(values: FloatArray | ArrayLike<number>, nonNegative: boolean): string | undefined {
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!Number.isFinite(x)) return `holds ${String(x)} at flat index ${i}`;
    if (nonNegative && x < 0) return `holds the negative value ${x} at flat index ${i}, but this slot is a sum of squares`;
  }
  return undefined;
}
