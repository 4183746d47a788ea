/**
 * Schedules (each against its formula written out), clipping, and the plain transforms.
 */
import { describe, expect, it } from "vitest";
import {
  tensor,
  Optimizer,
  SGD,
  chain,
  masked,
  scale,
  scaleByLearningRate,
  clipByGlobalNorm,
  clipByValue,
  addDecayedWeights,
  constantSchedule,
  exponentialDecay,
  piecewiseConstant,
  cosineDecay,
  linearSchedule,
  linearWarmup,
  cosineWarmup,
  warmupCosineDecay,
  joinSchedules,
  slot,
  type GradientTransformation,
} from "../../src/index.js";
import { flatValues } from "./fixtures.js";

describe("schedules", () => {
  it("constantSchedule", () => {
    expect([0, 10, 1e6].map(constantSchedule(0.3))).toEqual([0.3, 0.3, 0.3]);
  });

  it("exponentialDecay: continuous, staircase, delayed, bounded", () => {
    const s = exponentialDecay({ initialValue: 2, transitionSteps: 10, decayRate: 0.5 });
    for (const c of [0, 1, 5, 10, 25]) expect(s(c)).toBeCloseTo(2 * 0.5 ** (c / 10), 14);
    const st = exponentialDecay({ initialValue: 2, transitionSteps: 10, decayRate: 0.5, staircase: true });
    expect([0, 9, 10, 19, 20].map(st)).toEqual([2, 2, 1, 1, 0.5]);
    const late = exponentialDecay({ initialValue: 2, transitionSteps: 10, decayRate: 0.5, transitionBegin: 5 });
    expect([0, 5, 15].map(late)).toEqual([2, 2, 1]);
    const floor = exponentialDecay({ initialValue: 2, transitionSteps: 1, decayRate: 0.5, endValue: 0.3 });
    expect(floor(100)).toBe(0.3);
    const grow = exponentialDecay({ initialValue: 1, transitionSteps: 1, decayRate: 2, endValue: 5 });
    expect([1, 2, 3].map(grow)).toEqual([2, 4, 5]);
  });

  it("piecewiseConstant switches at each boundary (inclusive)", () => {
    const s = piecewiseConstant([10, 20], [1, 0.1, 0.01]);
    expect([0, 9, 10, 19, 20, 1000].map(s)).toEqual([1, 1, 0.1, 0.1, 0.01, 0.01]);
  });

  it("cosineDecay: ½(1 + cos(πc/T)), alpha floor, exponent", () => {
    const s = cosineDecay({ initialValue: 4, decaySteps: 100 });
    for (const c of [0, 25, 50, 75, 100, 150]) expect(s(c)).toBeCloseTo(4 * 0.5 * (1 + Math.cos((Math.PI * Math.min(c, 100)) / 100)), 14);
    const a = cosineDecay({ initialValue: 4, decaySteps: 100, alpha: 0.25, exponent: 2 });
    expect(a(100)).toBeCloseTo(1, 14);
    expect(a(50)).toBeCloseTo(4 * (0.75 * 0.25 + 0.25), 14);
  });

  it("linear schedule, linear and cosine warm-up", () => {
    const l = linearSchedule({ initialValue: 1, endValue: 3, transitionSteps: 4, transitionBegin: 2 });
    expect([0, 2, 3, 6, 9].map(l)).toEqual([1, 1, 1.5, 3, 3]);
    const w = linearWarmup({ peakValue: 1, warmupSteps: 10 });
    expect([0, 5, 10, 50].map(w)).toEqual([0, 0.5, 1, 1]);
    const c = cosineWarmup({ peakValue: 2, warmupSteps: 10, initialValue: 1 });
    expect(c(0)).toBe(1);
    expect(c(5)).toBeCloseTo(1.5, 14);
    expect(c(10)).toBe(2);
    expect(c(30)).toBe(2);
  });

  it("joinSchedules restarts each piece at its boundary; warmupCosineDecay is warm-up then cosine", () => {
    const j = joinSchedules([() => 1, (c) => 10 + c, (c) => 100 + c], [5, 8]);
    expect([0, 4, 5, 7, 8, 9].map(j)).toEqual([1, 1, 10, 12, 100, 101]);
    const w = warmupCosineDecay({ peakValue: 1, warmupSteps: 10, decaySteps: 110, endValue: 0.1 });
    expect(w(0)).toBe(0);
    expect(w(5)).toBeCloseTo(0.5, 14);
    expect(w(10)).toBeCloseTo(1, 14);
    expect(w(60)).toBeCloseTo(0.1 + 0.9 * 0.5, 14);
    expect(w(110)).toBeCloseTo(0.1, 14);
  });

  it("reject bad shapes with the valid range", () => {
    expect(() => exponentialDecay({ initialValue: 1, transitionSteps: 0, decayRate: 0.5 })).toThrow(/transitionSteps must be a number > 0, got 0/);
    expect(() => piecewiseConstant([10, 5], [1, 2, 3])).toThrow(/boundaries must increase strictly/);
    expect(() => piecewiseConstant([10], [1])).toThrow(/give one more value than boundaries/);
    expect(() => cosineDecay({ initialValue: 1, decaySteps: 10, alpha: 2 })).toThrow(/alpha must be a number in \[0, 1\], got 2/);
    expect(() => joinSchedules([() => 1], [3])).toThrow(/one boundary fewer than schedules/);
    expect(() => warmupCosineDecay({ peakValue: 1, warmupSteps: 10, decaySteps: 5 })).toThrow(/decaySteps must be a number > 10/);
  });

  it("an optimizer evaluates its schedule at the completed-step count", () => {
    const seen: number[] = [];
    const model = [tensor([0], { dtype: "float64" })];
    const opt = new SGD(model, { learningRate: (c) => { seen.push(c); return piecewiseConstant([2], [1, 0.5])(c); } });
    for (let i = 0; i < 4; i++) opt.update(model, [tensor([1], { dtype: "float64" })]);
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(model[0]!.item()).toBe(-3);
  });
});

describe("clipping and plain transforms", () => {
  it("clipByGlobalNorm rescales the whole gradient to the norm, over every parameter", () => {
    const model = { a: tensor([0, 0], { dtype: "float64" }), b: tensor([0], { dtype: "float64" }) };
    const opt = new Optimizer(model, chain(clipByGlobalNorm(1), scaleByLearningRate(1)));
    opt.update(model, { a: tensor([3, 0], { dtype: "float64" }), b: tensor([4], { dtype: "float64" }) }); // norm 5
    expect(flatValues(model).map((v) => +v.toFixed(15))).toEqual([-0.6, 0, -0.8]);
    opt.update(model, { a: tensor([0.3, 0], { dtype: "float64" }), b: tensor([0.4], { dtype: "float64" }) }); // norm 0.5: unchanged
    expect(flatValues(model).map((v) => +v.toFixed(15))).toEqual([-0.9, 0, -1.2]);
  });

  it("clipByGlobalNorm inside masked sees only the chosen parameters", () => {
    const model = { a: tensor([0], { dtype: "float64" }), b: tensor([0], { dtype: "float64" }) };
    const opt = new Optimizer(model, chain(masked(clipByGlobalNorm(1), ["a"]), scaleByLearningRate(1)));
    opt.update(model, { a: tensor([3], { dtype: "float64" }), b: tensor([4], { dtype: "float64" }) });
    expect(flatValues(model)).toEqual([-1, -4]);
  });

  it("clipByValue clips each element, symmetric or between bounds", () => {
    const model = [tensor([0, 0, 0], { dtype: "float64" })];
    new SGD(model, { learningRate: 1, clipValue: 0.5 }).update(model, [tensor([-2, 0.25, 3], { dtype: "float64" })]);
    expect(flatValues(model)).toEqual([0.5, -0.25, -0.5]);
    const m2 = [tensor([0, 0], { dtype: "float64" })];
    new Optimizer(m2, chain(clipByValue(-1, 2), scale(-1))).update(m2, [tensor([-5, 5], { dtype: "float64" })]);
    expect(flatValues(m2)).toEqual([1, -2]);
    expect(() => clipByValue(0)).toThrow(/limit must be a number > 0/);
    expect(() => clipByValue(2, 1)).toThrow(/max must be a number > 2/);
  });

  it("SGD's clipGlobalNorm option clips the raw gradient before weight decay", () => {
    const model = [tensor([1], { dtype: "float64" })];
    new SGD(model, { learningRate: 1, clipGlobalNorm: 1, weightDecay: 0.5 }).update(model, [tensor([10], { dtype: "float64" })]);
    expect(model[0]!.item()).toBe(1 - (1 + 0.5));
  });

  it("addDecayedWeights takes a schedule", () => {
    const model = [tensor([1], { dtype: "float64" })];
    const opt = new Optimizer(model, chain(addDecayedWeights((c) => (c === 0 ? 0 : 1)), scaleByLearningRate(0.5)));
    opt.update(model, [tensor([0], { dtype: "float64" })]);
    expect(model[0]!.item()).toBe(1);
    opt.update(model, [tensor([0], { dtype: "float64" })]);
    expect(model[0]!.item()).toBe(0.5);
  });

  it("a user-written rule plugs into the same walk (sign SGD with a step counter slot)", () => {
    const scaleBySign: GradientTransformation = {
      name: "scaleBySign",
      slots: ["count"],
      init: ({ info }) => ({ count: slot(info) }),
      apply(state, _param, u, { step }) {
        for (let i = 0; i < u.length; i++) {
          u[i] = Math.sign(u[i]!);
          state.count![i] = step;
        }
        return [u, state];
      },
    };
    const model = { w: tensor([1, -1, 0], { dtype: "float64" }) };
    const opt = new Optimizer(model, chain(scaleBySign, scaleByLearningRate(0.1)));
    opt.update(model, { w: tensor([5, -3, 0], { dtype: "float64" }) });
    opt.update(model, { w: tensor([5, -3, 0], { dtype: "float64" }) });
    expect(flatValues(model)).toEqual([0.8, -0.8, 0]);
    expect(flatValues(opt.state().slots.count)).toEqual([2, 2, 2]);
  });
});
