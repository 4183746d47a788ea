/**
 * Learning-rate schedules: functions from the number of completed steps (`count`, 0 for the first update)
 * to a rate, as in optax. Any `(count) => number` works wherever a schedule is accepted; these are the
 * usual shapes, and {@link joinSchedules} strings them together.
 */

/**
 * A schedule: the rate for the step taken after `count` completed steps (`count` is 0 for the first).
 * @category Optimizers
 */
export type Schedule = (count: number) => number;

/** Whether `x` is an array (without narrowing the caller's type to `any[]`). */
function isList(x: unknown): boolean {
  return Array.isArray(x);
}

/** @internal Throws unless `x` is a finite number (within bounds when given). */
export function checkNumber(op: string, name: string, x: unknown, range: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean; integer?: boolean } = {}): number {
  const { min, max, minExclusive = false, maxExclusive = false, integer = false } = range;
  const lo = min === undefined ? "" : `${minExclusive ? "(" : "["}${min}`;
  const hi = max === undefined ? "" : `${max}${maxExclusive ? ")" : "]"}`;
  const want =
    min !== undefined && max !== undefined ? `in ${lo}, ${hi}` :
    min !== undefined ? (minExclusive ? `> ${min}` : `>= ${min}`) :
    max !== undefined ? (maxExclusive ? `< ${max}` : `<= ${max}`) : "finite";
  const ok =
    typeof x === "number" && Number.isFinite(x) &&
    (!integer || Number.isInteger(x)) &&
    (min === undefined || (minExclusive ? x > min : x >= min)) &&
    (max === undefined || (maxExclusive ? x < max : x <= max));
  if (!ok) {
    throw new RangeError(`${op}: ${name} must be ${integer ? "an integer " : "a number "}${want}, got ${typeof x === "number" ? String(x) : typeof x}`);
  }
  return x;
}

/**
 * @internal Evaluates a rate (a number or a schedule) at `count`, checking the schedule's answer.
 * @param op who asks, for the message. @param name the hyperparameter. @param min the least valid value.
 */
export function evaluate(op: string, name: string, rate: number | Schedule, count: number, min = 0): number {
  if (typeof rate === "number") return rate;
  const v = rate(count);
  if (typeof v !== "number" || !Number.isFinite(v) || v < min) {
    throw new RangeError(`${op}: the ${name} schedule returned ${String(v)} at step count ${count}; it must return a finite number >= ${min}`);
  }
  return v;
}

/** @internal Checks a rate given as a number or a schedule. */
export function checkRate(op: string, name: string, rate: unknown): number | Schedule {
  if (typeof rate === "function") return rate as Schedule;
  return checkNumber(op, name, rate, { min: 0 });
}

/** Checks step-count boundaries: numbers >= 0, strictly increasing. */
function checkBoundaries(op: string, boundaries: readonly number[]): void {
  boundaries.forEach((b, i) => {
    checkNumber(op, `boundaries[${i}]`, b, { min: 0 });
    if (i > 0 && b <= boundaries[i - 1]!) throw new RangeError(`${op}: boundaries must increase strictly; ${b} follows ${boundaries[i - 1]}`);
  });
}

/** The index of the piece `count` falls in: the number of boundaries at or below it. */
function pieceAt(boundaries: readonly number[], count: number): number {
  let i = 0;
  while (i < boundaries.length && count >= boundaries[i]!) i++;
  return i;
}

/** `½(1 + cos(π · t / steps))` with `t = min(max(count, 0), steps)`: from 1 at count 0 down to 0 at `steps`. */
function halfCosine(count: number, steps: number): number {
  return 0.5 * (1 + Math.cos((Math.PI * Math.min(Math.max(count, 0), steps)) / steps));
}

/**
 * A schedule that always returns `value`.
 * @param value the rate.
 * @returns the schedule.
 * @example
 * ```ts
 * constantSchedule(0.1)(1000); // 0.1
 * // A schedule is a function of the number of completed steps; optimizers take one as their rate:
 * const opt = new SGD(model, { learningRate: constantSchedule(0.1) });
 * opt.learningRate; // 0.1
 * ```
 * @category Optimizers
 */
export function constantSchedule(value: number): Schedule {
  checkNumber("constantSchedule", "value", value);
  return () => value;
}

/**
 * Options of {@link exponentialDecay}.
 * @category Optimizers
 */
export interface ExponentialDecayOptions {
  /** The rate at the start. */
  initialValue: number;
  /** Steps over which the rate is multiplied by `decayRate` once (> 0). */
  transitionSteps: number;
  /** The factor per `transitionSteps` (> 0; < 1 decays, > 1 grows). */
  decayRate: number;
  /** Steps before decay starts (the rate is `initialValue` until then); 0 by default. */
  transitionBegin?: number;
  /** Decay in whole transitions (a staircase) rather than continuously; false by default. */
  staircase?: boolean;
  /** A bound the rate never passes (a floor when decaying, a ceiling when growing). */
  endValue?: number;
}

/**
 * Exponential decay: `initialValue · decayRate^((count − transitionBegin) / transitionSteps)`, with the
 * exponent rounded down when `staircase`, and clamped at `endValue` (optax's `exponential_decay`).
 * @param options the shape (see {@link ExponentialDecayOptions}).
 * @returns the schedule.
 * @example
 * ```ts
 * const s = exponentialDecay({ initialValue: 0.1, transitionSteps: 100, decayRate: 0.5 });
 * s(0); // 0.1
 * s(100); // 0.05
 * ```
 * @category Optimizers
 */
export function exponentialDecay(options: ExponentialDecayOptions): Schedule {
  const op = "exponentialDecay";
  const init = checkNumber(op, "initialValue", options.initialValue);
  const steps = checkNumber(op, "transitionSteps", options.transitionSteps, { min: 0, minExclusive: true });
  const rate = checkNumber(op, "decayRate", options.decayRate, { min: 0, minExclusive: true });
  const begin = checkNumber(op, "transitionBegin", options.transitionBegin ?? 0, { min: 0 });
  const staircase = options.staircase ?? false;
  const end = options.endValue === undefined ? undefined : checkNumber(op, "endValue", options.endValue);
  return (count) => {
    const e = Math.max(0, count - begin) / steps;
    const v = init * Math.pow(rate, staircase ? Math.floor(e) : e);
    if (end === undefined) return v;
    return rate < 1 ? Math.max(v, end) : Math.min(v, end);
  };
}

/**
 * A piecewise constant schedule: `values[0]` before `boundaries[0]`, `values[i]` from `boundaries[i − 1]`
 * (inclusive) to `boundaries[i]`, and the last value after the last boundary (step decay).
 * @param boundaries strictly increasing step counts where the value changes.
 * @param values one more value than boundaries.
 * @returns the schedule.
 * @example
 * ```ts
 * const s = piecewiseConstant([100, 200], [0.1, 0.01, 0.001]);
 * s(99); // 0.1
 * s(100); // 0.01
 * s(250); // 0.001
 * ```
 * @category Optimizers
 */
export function piecewiseConstant(boundaries: readonly number[], values: readonly number[]): Schedule {
  const op = "piecewiseConstant";
  if (!isList(boundaries) || !isList(values) || values.length !== boundaries.length + 1) {
    throw new RangeError(`${op}: give one more value than boundaries (got ${String(values?.length)} values for ${String(boundaries?.length)} boundaries)`);
  }
  checkBoundaries(op, boundaries);
  values.forEach((v, i) => checkNumber(op, `values[${i}]`, v));
  const bs = boundaries.slice();
  const vs = values.slice();
  return (count) => vs[pieceAt(bs, count)]!;
}

/**
 * Options of {@link cosineDecay}.
 * @category Optimizers
 */
export interface CosineDecayOptions {
  /** The rate at the start. */
  initialValue: number;
  /** Steps over which to decay (> 0); the rate stays at its final value afterwards. */
  decaySteps: number;
  /** The final rate as a fraction of `initialValue`; 0 by default. */
  alpha?: number;
  /** The power the cosine factor is raised to; 1 by default. */
  exponent?: number;
}

/**
 * Cosine decay (Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017,
 * without restarts): `initialValue · ((1 − alpha) · (½(1 + cos(π · min(count, decaySteps) / decaySteps)))^exponent + alpha)`.
 * @param options the shape (see {@link CosineDecayOptions}).
 * @returns the schedule.
 * @example
 * ```ts
 * const s = cosineDecay({ initialValue: 1, decaySteps: 100 });
 * s(0); // 1
 * s(50); // 0.5
 * s(100); // 0
 * ```
 * @category Optimizers
 */
export function cosineDecay(options: CosineDecayOptions): Schedule {
  const op = "cosineDecay";
  const init = checkNumber(op, "initialValue", options.initialValue);
  const steps = checkNumber(op, "decaySteps", options.decaySteps, { min: 0, minExclusive: true });
  const alpha = checkNumber(op, "alpha", options.alpha ?? 0, { min: 0, max: 1 });
  const exponent = checkNumber(op, "exponent", options.exponent ?? 1, { min: 0, minExclusive: true });
  return (count) => init * ((1 - alpha) * Math.pow(halfCosine(count, steps), exponent) + alpha);
}

/**
 * Options of {@link linearSchedule}.
 * @category Optimizers
 */
export interface LinearScheduleOptions {
  /** The rate before the transition. */
  initialValue: number;
  /** The rate after it. */
  endValue: number;
  /** The length of the transition in steps (> 0). */
  transitionSteps: number;
  /** Steps before the transition starts; 0 by default. */
  transitionBegin?: number;
}

/**
 * A linear ramp from `initialValue` to `endValue` over `transitionSteps`, constant on either side
 * (optax's `linear_schedule`).
 * @param options the shape (see {@link LinearScheduleOptions}).
 * @returns the schedule.
 * @example
 * ```ts
 * const s = linearSchedule({ initialValue: 1, endValue: 0, transitionSteps: 10 });
 * s(5); // 0.5
 * ```
 * @category Optimizers
 */
export function linearSchedule(options: LinearScheduleOptions): Schedule {
  const op = "linearSchedule";
  const init = checkNumber(op, "initialValue", options.initialValue);
  const end = checkNumber(op, "endValue", options.endValue);
  const steps = checkNumber(op, "transitionSteps", options.transitionSteps, { min: 0, minExclusive: true });
  const begin = checkNumber(op, "transitionBegin", options.transitionBegin ?? 0, { min: 0 });
  return (count) => {
    const f = Math.min(Math.max(count - begin, 0), steps) / steps;
    return init + (end - init) * f;
  };
}

/**
 * Options of {@link linearWarmup} and {@link cosineWarmup}.
 * @category Optimizers
 */
export interface WarmupOptions {
  /** The rate reached at the end of the warm-up, and kept afterwards. */
  peakValue: number;
  /** The length of the warm-up in steps (> 0). */
  warmupSteps: number;
  /** The rate at the first step; 0 by default. */
  initialValue?: number;
}

/** The checked {@link WarmupOptions}. */
function warmupArguments(op: string, options: WarmupOptions): { peak: number; steps: number; init: number } {
  return {
    peak: checkNumber(op, "peakValue", options.peakValue),
    steps: checkNumber(op, "warmupSteps", options.warmupSteps, { min: 0, minExclusive: true }),
    init: checkNumber(op, "initialValue", options.initialValue ?? 0),
  };
}

/**
 * Linear warm-up (Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour", 2017): from
 * `initialValue` up to `peakValue` in a straight line over `warmupSteps`, then constant. Join it with a
 * decay through {@link joinSchedules}, or use {@link warmupCosineDecay}.
 * @param options the shape (see {@link WarmupOptions}).
 * @returns the schedule.
 * @example
 * ```ts
 * const s = linearWarmup({ peakValue: 1e-3, warmupSteps: 100 });
 * s(50); // 5e-4
 * s(500); // 1e-3
 * ```
 * @category Optimizers
 */
export function linearWarmup(options: WarmupOptions): Schedule {
  const { peak, steps, init } = warmupArguments("linearWarmup", options);
  return linearSchedule({ initialValue: init, endValue: peak, transitionSteps: steps });
}

/**
 * Cosine warm-up: from `initialValue` up to `peakValue` along a half cosine over `warmupSteps` (slow at
 * both ends), then constant.
 * @param options the shape (see {@link WarmupOptions}).
 * @returns the schedule.
 * @example
 * ```ts
 * const s = cosineWarmup({ peakValue: 1, warmupSteps: 100 });
 * s(50); // 0.5
 * ```
 * @category Optimizers
 */
export function cosineWarmup(options: WarmupOptions): Schedule {
  const { peak, steps, init } = warmupArguments("cosineWarmup", options);
  return (count) => {
    const f = Math.min(Math.max(count, 0), steps) / steps;
    return init + (peak - init) * 0.5 * (1 - Math.cos(Math.PI * f));
  };
}

/**
 * Strings schedules together: `schedules[0]` until `boundaries[0]`, then `schedules[1]` restarted at
 * count 0, and so on (optax's `join_schedules`).
 * @param schedules the pieces, in order.
 * @param boundaries strictly increasing step counts where the next piece starts (one fewer than pieces).
 * @returns the joined schedule.
 * @example
 * ```ts
 * // 100 steps of linear warm-up to 1e-3, then 900 steps of cosine decay.
 * const s = joinSchedules(
 *   [linearWarmup({ peakValue: 1e-3, warmupSteps: 100 }), cosineDecay({ initialValue: 1e-3, decaySteps: 900 })],
 *   [100],
 * );
 * s(50);  // 0.0005
 * s(100); // 0.001
 * s(550); // 0.0005
 * const opt = new Adam(model, { learningRate: s });
 * ```
 * @category Optimizers
 */
export function joinSchedules(schedules: readonly Schedule[], boundaries: readonly number[]): Schedule {
  const op = "joinSchedules";
  if (!isList(schedules) || schedules.length === 0 || schedules.some((s) => typeof s !== "function")) {
    throw new TypeError(`${op}: expected a non-empty array of schedules (functions from step count to rate)`);
  }
  if (!isList(boundaries) || boundaries.length !== schedules.length - 1) {
    throw new RangeError(`${op}: give one boundary fewer than schedules (got ${String(boundaries?.length)} boundaries for ${schedules.length} schedules)`);
  }
  checkBoundaries(op, boundaries);
  const ss = schedules.slice();
  const bs = boundaries.slice();
  return (count) => {
    const i = pieceAt(bs, count);
    return ss[i]!(i === 0 ? count : count - bs[i - 1]!);
  };
}

/**
 * Options of {@link warmupCosineDecay}.
 * @category Optimizers
 */
export interface WarmupCosineDecayOptions {
  /** The rate at the first step; 0 by default. */
  initialValue?: number;
  /** The rate at the end of the warm-up. */
  peakValue: number;
  /** The length of the linear warm-up (> 0). */
  warmupSteps: number;
  /** The total length, warm-up included (> warmupSteps); the rate stays at `endValue` afterwards. */
  decaySteps: number;
  /** The final rate; 0 by default. */
  endValue?: number;
}

/**
 * Linear warm-up to `peakValue`, then cosine decay to `endValue` (optax's `warmup_cosine_decay_schedule`).
 * @param options the shape (see {@link WarmupCosineDecayOptions}).
 * @returns the schedule.
 * @example
 * ```ts
 * const s = warmupCosineDecay({ peakValue: 1e-3, warmupSteps: 100, decaySteps: 1000 });
 * s(0);    // 0
 * s(100);  // 1e-3
 * s(1000); // 0
 * const opt = new AdamW(model, { learningRate: s });
 * opt.learningRate; // 0
 * ```
 * @category Optimizers
 */
export function warmupCosineDecay(options: WarmupCosineDecayOptions): Schedule {
  const op = "warmupCosineDecay";
  const init = checkNumber(op, "initialValue", options.initialValue ?? 0);
  const peak = checkNumber(op, "peakValue", options.peakValue);
  const warm = checkNumber(op, "warmupSteps", options.warmupSteps, { min: 0, minExclusive: true });
  const total = checkNumber(op, "decaySteps", options.decaySteps, { min: warm, minExclusive: true });
  const end = checkNumber(op, "endValue", options.endValue ?? 0);
  const alpha = peak === 0 ? 0 : end / peak;
  const decay: Schedule = peak === 0 ? () => 0 : (c) => peak * ((1 - alpha) * halfCosine(c, total - warm) + alpha);
  return joinSchedules([linearWarmup({ initialValue: init, peakValue: peak, warmupSteps: warm }), decay], [warm]);
}
