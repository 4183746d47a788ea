/**
 * Saved state: `state()` is a plain value (records, numbers, strings and tensors) whose slots are
 * tangent-shaped; saving after k steps, loading into a fresh optimizer and continuing gives bit-identical
 * parameters to an uninterrupted run, for every optimizer, also through JSON.
 */
import { describe, expect, it } from "vitest";
import {
  Tensor,
  tensor,
  gradient,
  Optimizer,
  SGD,
  Adam,
  AdamW,
  NAdam,
  AMSGrad,
  AdaMax,
  RAdam,
  RMSProp,
  AdaGrad,
  AdaDelta,
  Lion,
  chain,
  masked,
  clipByGlobalNorm,
  scaleByAdam,
  scaleByLearningRate,
  trace,
  warmupCosineDecay,
  serializeCheckpoint,
  deserializeCheckpoint,
  type OptimizerState,
} from "../../src/index.js";
import { MLP, flatValues } from "./fixtures.js";

const x = tensor([[0.5, -1, 2], [1, 0.25, -0.5]]);
const loss = (m: MLP) => m.call(x).sub(0.3).square().sum();

const rows: { name: string; make: (m: MLP) => Optimizer<MLP> }[] = [
  { name: "SGD momentum", make: (m) => new SGD(m, { learningRate: 0.05, momentum: 0.9, nesterov: true }) },
  { name: "Adam", make: (m) => new Adam(m, { learningRate: 0.01 }) },
  { name: "AdamW (decay mask)", make: (m) => new AdamW(m, { learningRate: 0.01, excludeFromWeightDecay: (p) => p.endsWith("bias") }) },
  { name: "NAdam", make: (m) => new NAdam(m) },
  { name: "AMSGrad", make: (m) => new AMSGrad(m) },
  { name: "AdaMax", make: (m) => new AdaMax(m) },
  { name: "RAdam", make: (m) => new RAdam(m) },
  { name: "RMSProp centered + momentum", make: (m) => new RMSProp(m, { centered: true, momentum: 0.5 }) },
  { name: "AdaGrad", make: (m) => new AdaGrad(m) },
  { name: "AdaDelta", make: (m) => new AdaDelta(m) },
  { name: "Lion", make: (m) => new Lion(m, { weightDecay: 0.1 }) },
  { name: "frozen, clipped, scheduled Adam", make: (m) => new Adam(m, { freeze: "hidden.bias", clipGlobalNorm: 0.5, learningRate: warmupCosineDecay({ peakValue: 0.01, warmupSteps: 3, decaySteps: 20 }) }) },
  { name: "a custom chain with a mask", make: (m) => new Optimizer(m, chain(clipByGlobalNorm(1), masked(trace({ momentum: 0.8 }), ["out"]), scaleByAdam(), scaleByLearningRate(0.01))) },
];

/** The state through JSON: tensors as { shape, dtype, data }. */
function throughJSON<M>(state: OptimizerState<M>): OptimizerState<M> {
  const text = JSON.stringify(state, (_k, v: unknown) =>
    v instanceof Tensor ? { $tensor: true, shape: v.shape, dtype: v.dtype, data: Array.from(v.dataSync()) } : v,
  );
  return JSON.parse(text, (_k, v: unknown) => {
    const t = v as { $tensor?: boolean; shape: number[]; dtype: "float32"; data: number[] };
    return typeof v === "object" && v !== null && t.$tensor === true ? tensor(t.data, { shape: t.shape, dtype: t.dtype }) : v;
  }) as OptimizerState<M>;
}

/** A fresh model holding the same parameter values as `m`. */
function copyOf(m: MLP): MLP {
  const c = new MLP("float32");
  c.hidden.weight = m.hidden.weight;
  c.hidden.bias = m.hidden.bias;
  c.out.weight = m.out.weight;
  c.out.bias = m.out.bias;
  return c;
}

describe("state round trip", () => {
  it.each(rows)("$name: save after 4 steps, load into a new optimizer, continue: bit-identical", ({ make }) => {
    const straight = new MLP("float32");
    const optStraight = make(straight);
    for (let i = 0; i < 10; i++) optStraight.update(straight, gradient(straight, loss));

    const first = new MLP("float32");
    const opt1 = make(first);
    for (let i = 0; i < 4; i++) opt1.update(first, gradient(first, loss));
    const saved = opt1.state();
    const second = copyOf(first);
    const opt2 = make(second);
    opt2.loadState(saved);
    expect(opt2.step).toBe(4);
    for (let i = 0; i < 6; i++) opt2.update(second, gradient(second, loss));
    expect(flatValues(second)).toEqual(flatValues(straight));

    // The same through JSON.
    const third = copyOf(first);
    const opt3 = make(third);
    opt3.loadState(throughJSON(saved));
    for (let i = 0; i < 6; i++) opt3.update(third, gradient(third, loss));
    expect(flatValues(third)).toEqual(flatValues(straight));
  });

  it("state() is a copy: later steps do not change a saved state", () => {
    const m = new MLP("float32");
    const opt = new Adam(m);
    opt.update(m, gradient(m, loss));
    const s = opt.state();
    const before = flatValues(s.slots);
    opt.update(m, gradient(m, loss));
    expect(flatValues(s.slots)).toEqual(before);
  });

  it("the state's shape: format, rules, step counts and tangent-shaped slots", () => {
    const m = new MLP("float32");
    const opt = new RMSProp(m, { centered: true, momentum: 0.9 });
    opt.update(m, gradient(m, loss));
    const s = opt.state();
    expect(s.format).toBe("difftypes.optimizer/1");
    expect(s.rules).toEqual(["scaleByRms", "trace", "scaleByLearningRate"]);
    expect(s.step).toBe(1);
    expect(s.skippedSteps).toBe(0);
    expect(s.parameterSteps).toEqual({ "hidden.weight": 1, "hidden.bias": 1, "out.weight": 1, "out.bias": 1 });
    expect(Object.keys(s.slots)).toEqual(["meanSquare", "meanGradient", "velocity"]);
    const v = s.slots.velocity as unknown as MLP;
    expect(Object.keys(v)).toEqual(["hidden", "out"]);
    expect(Object.keys(v.hidden)).toEqual(["weight", "bias"]);
    expect(v.out.weight.shape).toEqual([4, 2]);
  });

  it("two rules with the same slot name get distinct keys", () => {
    const m = [tensor([1, 2])];
    const opt = new Optimizer(m, chain(trace({ momentum: 0.5 }), trace({ momentum: 0.9 }), scaleByLearningRate(0.1)));
    expect(Object.keys(opt.state().slots)).toEqual(["trace.velocity", "trace#1.velocity"]);
  });
});

describe("loading bad state changes nothing", () => {
  function setup() {
    const m = new MLP("float32");
    const opt = new Adam(m);
    opt.update(m, gradient(m, loss));
    return { m, opt, good: opt.state() };
  }
  const cases: { name: string; edit: (s: OptimizerState<MLP>) => unknown; message: RegExp }[] = [
    { name: "not a state", edit: () => ({ step: 1 }), message: /expected a value from optimizer.state\(\)/ },
    { name: "other rules", edit: (s) => ({ ...s, rules: ["scaleByRms", "scaleByLearningRate"] }), message: /the state is for the rules \[scaleByRms,scaleByLearningRate\], but this optimizer runs \[scaleByAdam, scaleByLearningRate\]/ },
    { name: "a missing slot", edit: (s) => ({ ...s, slots: { firstMoments: s.slots.firstMoments } }), message: /the state's slots are \[firstMoments\] but this optimizer keeps \[firstMoments, secondMoments\]/ },
    { name: "a bad step", edit: (s) => ({ ...s, step: -1 }), message: /step must be an integer >= 0, got -1/ },
    { name: "an unknown parameter", edit: (s) => ({ ...s, parameterSteps: { ...s.parameterSteps, "hidden.wieght": 1 } }), message: /parameterSteps names 'hidden.wieght'/ },
    {
      name: "a wrongly shaped slot",
      edit: (s) => {
        const m = s.slots.secondMoments as unknown as MLP;
        return { ...s, slots: { ...s.slots, secondMoments: { ...m, out: { ...m.out, bias: tensor([1, 2, 3]) } } } };
      },
      message: /state slot 'secondMoments' at out.bias has shape \[3\] but the parameter has shape \[2\]/,
    },
  ];
  it.each(cases)("$name", ({ edit, message }) => {
    const { m, opt, good } = setup();
    const twin = copyOf(m);
    const optTwin = new Adam(twin);
    optTwin.loadState(good);
    expect(() => opt.loadState(edit(good) as OptimizerState<MLP>)).toThrow(message);
    opt.update(m, gradient(m, loss));
    optTwin.update(twin, gradient(twin, loss));
    expect(flatValues(m)).toEqual(flatValues(twin));
    expect(opt.step).toBe(2);
  });
});

describe("with the checkpoint format", () => {
  it("an optimizer state saved in a checkpoint continues bit-identically", () => {
    const straight = new MLP("float32");
    const optStraight = new AdamW(straight, { learningRate: 0.01 });
    for (let i = 0; i < 8; i++) optStraight.update(straight, gradient(straight, loss));

    const first = new MLP("float32");
    const opt1 = new AdamW(first, { learningRate: 0.01 });
    for (let i = 0; i < 3; i++) opt1.update(first, gradient(first, loss));
    const bytes = serializeCheckpoint(first, { optimizerState: opt1.state() });
    const second = new MLP("float32");
    const loaded = deserializeCheckpoint(bytes, second);
    const opt2 = new AdamW(second, { learningRate: 0.01 });
    opt2.loadState(loaded.optimizerState);
    for (let i = 0; i < 5; i++) opt2.update(second, gradient(second, loss));
    expect(flatValues(second)).toEqual(flatValues(straight));
  });
});
