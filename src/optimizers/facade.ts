/**
 * What the named, Swift-shaped optimizers (`Adam`, `SGD`, …) share: their common options and the chain
 * they assemble around their rule.
 */
import type { PathSelector } from "./masks.js";
import { masked, selectorPredicate, unmatchedPaths } from "./masks.js";
import { checkOptionKeys, type OptimizerOptions } from "./optimizer.js";
import { parameterInfos } from "./parameters.js";
import { checkNumber, checkRate, type Schedule } from "./schedules.js";
import { addDecayedWeights, scaleByLearningRate } from "./scale.js";
import { clipByGlobalNorm, clipByValue } from "./clipping.js";
import { chain, type Transform } from "./transform.js";

/**
 * Options every named optimizer accepts (besides its own hyperparameters).
 * @category Optimizers
 */
export interface CommonOptions<Model> extends OptimizerOptions<Model> {
  /** The step size α: a number >= 0 or a schedule of the step count. Default: the optimizer's. */
  learningRate?: number | Schedule;
  /**
   * Swift for TensorFlow's learning-rate decay: at step `t` the rate is `learningRate / (1 + decay · t)`;
   * 0 by default.
   */
  decay?: number;
  /**
   * Weight decay λ >= 0. For `AdamW` and `Lion` it is decoupled (`θ ← θ − α(u + λθ)`); for the others it
   * is an L2 penalty added to the gradient (`g ← g + λθ`), as in PyTorch. 0 by default (AdamW: 0.01).
   */
  weightDecay?: number;
  /** Parameters spared from weight decay (biases, normalisation scales), by key path or predicate. */
  excludeFromWeightDecay?: PathSelector<Model>;
  /** Clip the gradient to this global L2 norm first (see {@link clipByGlobalNorm}). */
  clipGlobalNorm?: number;
  /** Clip every gradient element into `[−clipValue, clipValue]` first (see {@link clipByValue}). */
  clipValue?: number;
}

/** @internal The names of {@link CommonOptions}. */
export const COMMON_KEYS = [
  "learningRate", "decay", "weightDecay", "excludeFromWeightDecay", "clipGlobalNorm", "clipValue",
  "freeze", "checkFinite", "skipNonFinite",
] as const;

/** @internal Checked values of the common options. */
export interface Common {
  readonly learningRate: number | Schedule;
  readonly decay: number;
  readonly weightDecay: number;
}

/** @internal Checks the option names and the common hyperparameters. */
export function commonOptions<Model>(
  op: string,
  options: CommonOptions<Model> | undefined,
  own: readonly string[],
  defaults: { learningRate: number; weightDecay?: number },
): Common {
  checkOptionKeys(op, options, [...own, ...COMMON_KEYS]);
  const o = options ?? {};
  for (const k of ["checkFinite", "skipNonFinite"] as const) {
    if (o[k] !== undefined && typeof o[k] !== "boolean") throw new TypeError(`${op}: ${k} must be true or false`);
  }
  return {
    learningRate: checkRate(op, "learningRate", o.learningRate ?? defaults.learningRate),
    decay: checkNumber(op, "decay", o.decay ?? 0, { min: 0 }),
    weightDecay: checkNumber(op, "weightDecay", o.weightDecay ?? defaults.weightDecay ?? 0, { min: 0 }),
  };
}

/** @internal Checks a number hyperparameter in `[0, 1)`. */
export function unitInterval(op: string, name: string, x: unknown): number {
  return checkNumber(op, name, x, { min: 0, max: 1, maxExclusive: true });
}

/** @internal Checks a positive number (epsilon). */
export function positive(op: string, name: string, x: unknown): number {
  return checkNumber(op, name, x, { min: 0, minExclusive: true });
}

/** @internal Checks a boolean option. */
export function flag(op: string, name: string, x: unknown, fallback: boolean): boolean {
  if (x === undefined) return fallback;
  if (typeof x !== "boolean") throw new TypeError(`${op}: ${name} must be true or false, got ${typeof x}`);
  return x;
}

/**
 * @internal The chain of a named optimizer:
 * `[clipByValue] [clipByGlobalNorm] [L2 decay] rule [decoupled decay] scaleByLearningRate`.
 */
export function assemble<Model>(
  op: string,
  model: Model,
  options: CommonOptions<Model> | undefined,
  common: Common,
  rule: readonly Transform[],
  decoupled: boolean,
): Transform {
  const o = options ?? {};
  const parts: Transform[] = [];
  if (o.clipValue !== undefined) parts.push(clipByValue(checkNumber(op, "clipValue", o.clipValue, { min: 0, minExclusive: true })));
  if (o.clipGlobalNorm !== undefined) parts.push(clipByGlobalNorm(checkNumber(op, "clipGlobalNorm", o.clipGlobalNorm, { min: 0, minExclusive: true })));
  let decayRule: Transform | undefined;
  if (common.weightDecay > 0) {
    decayRule = addDecayedWeights(common.weightDecay);
    if (o.excludeFromWeightDecay !== undefined) {
      const excluded = o.excludeFromWeightDecay;
      const { test } = selectorPredicate(`${op}: excludeFromWeightDecay`, excluded);
      const infos = parameterInfos(op, model);
      const missing = unmatchedPaths(excluded, infos);
      if (missing.length > 0) {
        throw new RangeError(`${op}: excludeFromWeightDecay names ${missing.map((m) => `'${m}'`).join(", ")}, which match no parameter; the parameters are ${infos.map((p) => p.path).join(", ")}`);
      }
      decayRule = masked(decayRule, (_path, p) => !test(p));
    }
  } else if (o.excludeFromWeightDecay !== undefined) {
    selectorPredicate(`${op}: excludeFromWeightDecay`, o.excludeFromWeightDecay);
  }
  if (decayRule && !decoupled) parts.push(decayRule);
  parts.push(...rule);
  if (decayRule && decoupled) parts.push(decayRule);
  parts.push(scaleByLearningRate(common.learningRate, { decay: common.decay }));
  return chain(...parts);
}
