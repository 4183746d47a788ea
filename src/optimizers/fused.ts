/**
 * One pass per parameter for the common chains. A rule may declare a *fused step* for float32 parameters:
 * the rule, then the chain's constant-factor tail (`scaleByLearningRate`, `scale`) and θ + u, in one loop
 * (a SIMD kernel where it pays) with the roundings the separate loops make where they store, so the bits
 * are the chain's. The optimizer takes it when the rule and the tail are the last two stages that apply to a
 * float32 parameter (a decoupled decay may sit between them when the step takes it; a tail alone is a step
 * too) and no tree-wide `reduce` comes after the rule; everything else, and every parameter where it does
 * not apply, runs the generic path. Inside `compile` the fused step is one primitive whose kernel is the same.
 *
 * The rules declare their fused forms where they are defined (`adam.ts`, `sgd.ts`, `scale.ts`), into the
 * registries here (keyed by the rule object), not in `GradientTransformation`: they are how the built-in
 * rules run fast, not something a user's rule must provide.
 */
import { Tensor } from "../tensor/tensor.js";
import { allocate } from "../tensor/dtype.js";
import { bind } from "../autodiff/trace.js";
import type { Primitive } from "../autodiff/primitive.js";
import { fromTyped } from "../tensor/creation.js";
import { wasmScaledAdd } from "../tensor/wasm/optimizer.js";
import type { GradientTransformation, Slots, TensorSlots } from "./transform.js";

/** @internal A rule's step fused with a constant-factor tail and θ + u, for one float32 parameter. */
export interface FusedStep {
  /** Whether it also folds in decoupled weight decay between the rule and the tail (`d + λθ`, AdamW). */
  readonly decoupledDecay: boolean;
  /**
   * Runs the rule on `g` (read only) with the slots updated in place, then (with `decay` λ ≠ 0) `d + λθ`,
   * then `θ + factor·d`.
   * @returns the new parameter's elements (a new array), or null when the slots are not float32 (then
   *   nothing was changed and the generic path runs).
   */
  eager(slots: Slots, theta: Float32Array, g: Float32Array, step: number, factor: number, decay: number): Float32Array | null;
  /** The same inside `compile`: the new parameter and the new slots, from staged values (`decay` a float64 scalar or none). */
  staged(slots: TensorSlots, theta: Tensor, g: Tensor, step: Tensor, factor: Tensor, decay: Tensor | undefined): { theta: Tensor; slots: TensorSlots };
}

/** @internal A decoupled weight decay stage (`u + λθ`), folded into a fused step that declares it can. */
export interface FusedDecay {
  /** λ from the stage's per-step value. */
  eager(hyper: unknown): number;
  /** λ as a float64 scalar, from the staged per-step value. */
  staged(hyper: Tensor | undefined): Tensor;
}

/** @internal A last stage that multiplies the update by one number per step (folded into a fused step). */
export interface FusedTail {
  /** The factor, from the stage's per-step value (−α for the learning rate). */
  eager(hyper: unknown): number;
  /** The factor as a float64 scalar, from the staged per-step value. */
  staged(hyper: Tensor | undefined): Tensor;
}

const steps = new WeakMap<GradientTransformation, FusedStep>();
const tails = new WeakMap<GradientTransformation, FusedTail>();
const decays = new WeakMap<GradientTransformation, FusedDecay>();
let enabled = true;

/** @internal Declares `rule`'s fused step; returns the rule. */
export function withFusedStep<R extends GradientTransformation>(rule: R, step: FusedStep): R {
  steps.set(rule, step);
  return rule;
}

/** @internal Declares `rule` a constant-factor tail; returns the rule. */
export function withFusedTail<R extends GradientTransformation>(rule: R, tail: FusedTail): R {
  tails.set(rule, tail);
  return rule;
}

/** @internal Declares `rule` a decoupled weight decay; returns the rule. */
export function withFusedDecay<R extends GradientTransformation>(rule: R, decay: FusedDecay): R {
  decays.set(rule, decay);
  return rule;
}

/** @internal The decay `rule` is, if any. */
export function fusedDecayOf(rule: GradientTransformation): FusedDecay | undefined {
  return decays.get(rule);
}

/** @internal The fused step `rule` declares, if any. */
export function fusedStepOf(rule: GradientTransformation): FusedStep | undefined {
  return steps.get(rule);
}

/** @internal Whether fused steps are on (see {@link setFusedStepsEnabled}). */
export function fusedStepsEnabled(): boolean {
  return enabled;
}

/** @internal The tail `rule` is, if any. */
export function fusedTailOf(rule: GradientTransformation): FusedTail | undefined {
  return tails.get(rule);
}

/**
 * @internal Turns fused steps on or off (tests compare both paths, which give the same bits). Returns the
 * previous setting. A compiled step traced with one setting keeps it until it traces again.
 */
export function setFusedStepsEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

// ---------------------------------------------------------------------------------------------------------
// Inside compile: a primitive with several results. The step's equation returns the new parameter; each
// slot is read by an equation of its own from that result (so the program stays single-output, and the
// slots are computed by the same kernel call).

/** @internal The slots computed with each new parameter, by its tensor (a fresh one per run). */
const slotsOfResult = new WeakMap<Tensor, readonly Tensor[]>();

/**
 * @internal A fused step as a primitive: `impl` computes the new parameter and the new slots (kept beside
 * it for {@link fusedSlot}). Optimizer internals have no derivative.
 */
export function fusedStepPrimitive<P>(name: string, impl: (inputs: readonly Tensor[], params: P) => { theta: Tensor; slots: readonly Tensor[] }): Primitive<P> {
  const none = (): never => {
    throw new Error(`${name} has no derivative`);
  };
  return {
    name,
    impl(inputs, params) {
      const r = impl(inputs, params);
      slotsOfResult.set(r.theta, r.slots);
      return r.theta;
    },
    shape: (inputs) => ({ shape: inputs[0]!.shape, dtype: inputs[0]!.dtype }),
    jvp: none,
    vjp: none,
    nondifferentiable: true,
  };
}

const slotP: Primitive<{ readonly slot: number }> = {
  name: "fusedSlot",
  impl(inputs, { slot }) {
    const slots = slotsOfResult.get(inputs[0]!);
    if (slots === undefined) throw new Error("fusedSlot: its operand is not the result of a fused optimizer step");
    return slots[slot]!;
  },
  shape: (inputs) => ({ shape: inputs[0]!.shape, dtype: inputs[0]!.dtype }),
  jvp: () => {
    throw new Error("fusedSlot has no derivative");
  },
  vjp: () => {
    throw new Error("fusedSlot has no derivative");
  },
  nondifferentiable: true,
};

/** @internal Slot `slot` computed by the fused step whose result (the new parameter) is `theta`. */
export function fusedSlot(theta: Tensor, slot: number): Tensor {
  return bind(slotP, [theta], { slot });
}

/** @internal A new float32 array of `n` elements (pooled storage when large). */
export function newF32(n: number): Float32Array {
  return allocate("float32", n) as Float32Array;
}

/** Each slot array's partner (both ways), into which a compiled step writes the slot's next value. */
const partners = new WeakMap<Float32Array, Float32Array>();

/**
 * @internal The array a compiled fused step writes a slot's new value into, given the slot's current array:
 * its partner, made on first use. Steps alternate between the two, as eager steps update a slot in place,
 * instead of allocating a new array every step. The partner is never the current array (a step's input),
 * and the old one is read by nothing once the optimizer holds the new one: `state()` copies, and a step
 * that fails its checks commits nothing, so its next run writes the same partner again.
 */
export function slotOutput(current: Float32Array): Float32Array {
  let next = partners.get(current);
  if (next === undefined || next.length !== current.length) {
    next = newF32(current.length);
    partners.set(current, next);
    partners.set(next, current);
  }
  return next;
}

// ---------------------------------------------------------------------------------------------------------
// Plain gradient descent: a tail that is the only stage (θ + factor·g in one pass).

/** `θ + factor·g` over float32 arrays, `factor·g` rounded before the sum as the separate loops store it. */
function scaledAdd32(theta: Float32Array, g: Float32Array, factor: number, out: Float32Array): void {
  for (let i = 0; i < g.length; i++) out[i] = theta[i]! + Math.fround(factor * g[i]!);
}

function scaledAdd(theta: Float32Array, g: Float32Array, factor: number): Float32Array {
  const out = newF32(g.length);
  if (!wasmScaledAdd(theta, g, factor, out)) scaledAdd32(theta, g, factor, out);
  return out;
}

const scaledAddP = fusedStepPrimitive("scaledAdd", (inputs) => {
  const theta = inputs[0]!;
  const out = scaledAdd(theta._values as Float32Array, inputs[1]!._values as Float32Array, inputs[2]!._values[0]!);
  return { theta: fromTyped(out, theta.shape, "float32"), slots: [] };
});

/**
 * @internal The fused step of a tail that is the only stage applying to a parameter (plain gradient
 * descent): no rule, no slots.
 */
export const TAIL_ONLY: FusedStep = {
  decoupledDecay: false,
  eager: (_slots, theta, g, _t, factor) => scaledAdd(theta, g, factor),
  staged: (slots, theta, g, _t, factor) => ({ theta: bind(scaledAddP, [theta, g, factor], undefined), slots }),
};
