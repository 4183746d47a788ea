/**
 * The shared walk: class models, plain objects and arrays; shared parameters; missing gradients; frozen
 * parameters and masks; validation before any change (atomic failure); non-finite gradients.
 */
import { describe, expect, it } from "vitest";
import {
  Tensor,
  tensor,
  gradient,
  keyPath,
  recursivelyAllWritableKeyPaths,
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
  trace,
  scaleByAdam,
  scaleByLearningRate,
  addDecayedWeights,
  clipByValue,
  type GradientTransformation,
} from "../../src/index.js";
import { MLP, Stack, Tied, affineGradient, arrayModel, flatValues, plainMLP, randomTensor } from "./fixtures.js";

const lr = 0.1;

describe("model kinds", () => {
  const kinds = [
    { name: "class (nested)", make: () => new MLP() },
    { name: "class (array of layers)", make: () => new Stack() },
    { name: "plain object", make: () => plainMLP() },
    { name: "nested arrays", make: () => arrayModel() },
  ];

  it.each(kinds)("$name: SGD moves every parameter in place by −α·g", ({ make }) => {
    const model = make();
    const g = affineGradient(model, 0.5, 0.25);
    const expected = flatValues(model).map((x, i) => x - lr * flatValues(g)[i]!);
    const opt = new SGD(model, { learningRate: lr });
    const result = opt.update(model, g);
    expect(result).toBe(model);
    expect(flatValues(model)).toEqual(expected);
  });

  it.each(kinds)("$name: Adam's state is tangent-shaped and addressable by key paths", ({ make }) => {
    const model = make();
    const opt = new Adam(model);
    opt.update(model, affineGradient(model, 1, 0.5));
    const m = opt.state().slots.firstMoments!;
    // The same key path reads a parameter and its first moment.
    const paths = recursivelyAllWritableKeyPaths(model as object, Tensor);
    expect(paths.length).toBeGreaterThan(0);
    for (const kp of paths) {
      const θ = kp.get(model);
      const mθ = kp.get(m);
      expect(mθ.shape).toEqual(θ.shape);
      expect(mθ.dtype).toBe(θ.dtype);
    }
  });

  it("a bare tensor model: update returns the new tensor", () => {
    const x = tensor([3, -1]);
    const opt = new SGD(x, { learningRate: 0.5 });
    const y = opt.update(x, tensor([2, 2]));
    expect(y.toArray()).toEqual([2, -2]);
    expect(x.toArray()).toEqual([3, -1]);
  });

  it("a number leaf inside an array stays a number, in float64", () => {
    const model: [Tensor, number] = [tensor([1]), 0.1];
    const opt = new SGD(model, { learningRate: 0.1 });
    opt.update(model, [tensor([1]), 0.2]);
    expect(typeof model[1]).toBe("number");
    expect(model[1]).toBe(0.1 - 0.1 * 0.2);
    expect(opt.state().slots).toEqual({});
  });

  it("works with the gradient of a class model from autodiff", () => {
    const model = new MLP();
    const x = tensor([[0.5, -1, 2]], { dtype: "float64" });
    const loss = (m: MLP) => m.call(x).square().sum();
    const before = loss(model).item();
    const opt = new Adam(model, { learningRate: 0.01 });
    for (let i = 0; i < 20; i++) opt.update(model, gradient(model, loss));
    expect(loss(model).item()).toBeLessThan(before);
    expect(model.steps).toBe(0); // @noDerivative fields untouched
    expect(model.hidden.activation).toBe("tanh");
  });
});

describe("shared parameters", () => {
  it("sums the partial derivatives, updates once and writes the same tensor to every path", () => {
    const model = new Tied();
    const w0 = flatValues(model.encoder.weight);
    const g1 = randomTensor([3, 3], 1);
    const g2 = randomTensor([3, 3], 2);
    const grad = { encoder: { weight: g1, bias: tensor([0, 0, 0], { dtype: "float64" }) }, decoderWeight: g2, scale: tensor(0, { dtype: "float64" }) };
    const opt = new SGD(model, { learningRate: lr });
    opt.update(model, grad);
    expect(model.decoderWeight).toBe(model.encoder.weight);
    const sum = flatValues(g1).map((a, i) => a + flatValues(g2)[i]!);
    expect(flatValues(model.encoder.weight)).toEqual(w0.map((w, i) => w - lr * sum[i]!));
  });

  it("keeps one state for a shared parameter: Adam on tied weights equals Adam on one weight with the summed gradient", () => {
    const tied = new Tied();
    const single = { w: tied.encoder.weight };
    const optTied = new Adam(tied, { learningRate: 0.05 });
    const optSingle = new Adam(single, { learningRate: 0.05 });
    for (let k = 0; k < 5; k++) {
      const g1 = randomTensor([3, 3], 10 + k);
      const g2 = randomTensor([3, 3], 20 + k);
      optTied.update(tied, { encoder: { weight: g1, bias: null }, decoderWeight: g2, scale: null } as never);
      optSingle.update(single, { w: g1.add(g2) });
    }
    expect(flatValues(tied.encoder.weight)).toEqual(flatValues(single.w));
    expect(tied.decoderWeight).toBe(tied.encoder.weight);
    const s = optTied.state();
    expect(Object.keys(s.parameterSteps)).toEqual(["encoder.weight"]);
    const m = s.slots.firstMoments as unknown as { encoder: { weight: Tensor }; decoderWeight: Tensor };
    expect(flatValues(m.decoderWeight)).toEqual(flatValues(m.encoder.weight));
  });
});

describe("missing gradients", () => {
  it("null at a leaf or a subtree leaves those parameters and their state alone", () => {
    const model = new MLP();
    const out0 = model.out;
    const w0 = model.out.weight;
    const opt = new Adam(model);
    const g = affineGradient(model, 1, 0.1);
    opt.update(model, { hidden: g.hidden, out: null } as never);
    expect(model.out).toBe(out0);
    expect(model.out.weight).toBe(w0);
    expect(opt.state().parameterSteps).toEqual({ "hidden.weight": 1, "hidden.bias": 1 });
    opt.update(model, { hidden: { weight: g.hidden.weight, bias: null }, out: g.out } as never);
    expect(opt.state().parameterSteps).toEqual({ "hidden.weight": 2, "hidden.bias": 1, "out.weight": 1, "out.bias": 1 });
  });

  it("a missing field is an error (not a silent zero)", () => {
    const model = new MLP();
    const opt = new SGD(model);
    const g = affineGradient(model, 1, 0);
    expect(() => opt.update(model, { hidden: g.hidden } as never)).toThrow(/has no field 'out'/);
  });
});

describe("freezing and masks", () => {
  it("freeze: no update, no weight decay, no state", () => {
    const model = new MLP();
    const hidden0 = { w: model.hidden.weight, b: model.hidden.bias };
    const opt = new AdamW(model, { freeze: "hidden", weightDecay: 0.5 });
    for (let i = 0; i < 3; i++) opt.update(model, affineGradient(model, 1, 0.3));
    expect(model.hidden.weight).toBe(hidden0.w);
    expect(model.hidden.bias).toBe(hidden0.b);
    const s = opt.state();
    expect(Object.keys(s.parameterSteps)).toEqual(["out.weight", "out.bias"]);
    const m = s.slots.firstMoments as unknown as MLP;
    expect(flatValues(m.hidden).every((x) => x === 0)).toBe(true); // no state: reads as zeros
    expect(flatValues(m.out).some((x) => x !== 0)).toBe(true);
  });

  it("freeze by a list of paths and by a predicate; unfreeze thaws with fresh state", () => {
    const model = new Stack();
    const l0 = model.layers[0]!.weight;
    const l2b = model.layers[2]!.bias;
    const opt = new SGD(model, { freeze: ["layers.0.weight", "layers.2"], momentum: 0.9 });
    opt.update(model, affineGradient(model, 1, 1));
    expect(model.layers[0]!.weight).toBe(l0);
    expect(model.layers[2]!.bias).toBe(l2b);
    expect(model.layers[0]!.bias).not.toBe(l0);
    const opt2 = new SGD(model, { freeze: (path) => path.endsWith("bias") });
    const biases = model.layers.map((l) => l.bias);
    opt2.update(model, affineGradient(model, 1, 1));
    model.layers.forEach((l, i) => expect(l.bias).toBe(biases[i]));
    opt.unfreeze();
    opt.update(model, affineGradient(model, 1, 1));
    expect(model.layers[0]!.weight).not.toBe(l0);
    expect(opt.state().parameterSteps["layers.0.weight"]).toBe(1);
    expect(opt.state().parameterSteps["layers.1.weight"]).toBe(2);
    opt.freeze("layers.1");
    opt.update(model, affineGradient(model, 1, 1));
    expect(opt.state().parameterSteps["layers.1.weight"]).toBeUndefined();
  });

  it("excludeFromWeightDecay spares the chosen parameters from decay only", () => {
    const model = plainMLP();
    const zero = affineGradient(model, 0, 0);
    const opt = new SGD(model, { learningRate: 0.1, weightDecay: 0.5, excludeFromWeightDecay: (p) => p.endsWith("bias") });
    const before = { w: flatValues(model.hidden.weight), b: flatValues(model.hidden.bias) };
    opt.update(model, zero);
    expect(flatValues(model.hidden.bias)).toEqual(before.b);
    expect(flatValues(model.hidden.weight)).toEqual(before.w.map((w) => w - 0.1 * 0.5 * w));
    // With a gradient, excluded parameters still learn.
    opt.update(model, affineGradient(model, 0, 1));
    expect(flatValues(model.hidden.bias)).toEqual(before.b.map((b) => b - 0.1));
  });

  it("masked(...) applies a transform to chosen parameters only, keeping state only for them", () => {
    const model = new MLP();
    const opt = new Optimizer(model, chain(masked<MLP>(trace({ momentum: 0.5 }), ["out.weight"]), scaleByLearningRate(1)));
    const g = affineGradient(model, 0, 1);
    const w0 = flatValues(model.out.weight);
    const b0 = flatValues(model.out.bias);
    opt.update(model, g);
    opt.update(model, g);
    expect(flatValues(model.out.weight)).toEqual(w0.map((w) => w - 1 - 1.5)); // momentum: 1, then 1.5
    expect(flatValues(model.out.bias)).toEqual(b0.map((b) => b - 2));
    const v = opt.state().slots.velocity as unknown as MLP;
    expect(flatValues(v.out.weight).every((x) => x === 1.5)).toBe(true);
    expect(flatValues(v.hidden).every((x) => x === 0)).toBe(true);
  });

  it("a path that names no parameter is rejected at construction, listing the parameters", () => {
    // As plain JavaScript would call them (in TypeScript, these paths do not compile).
    const model = new MLP();
    const UntypedSGD = SGD as unknown as new (m: unknown, o: unknown) => unknown;
    const UntypedAdamW = AdamW as unknown as new (m: unknown, o: unknown) => unknown;
    expect(() => new UntypedSGD(model, { freeze: "hiden" })).toThrow(/freeze names 'hiden', which match no parameter; the parameters are hidden.weight, hidden.bias, out.weight, out.bias/);
    expect(() => new UntypedAdamW(model, { excludeFromWeightDecay: ["out.bais"] })).toThrow(/excludeFromWeightDecay names 'out.bais'/);
    expect(() => new UntypedSGD(model, { freeze: 3 })).toThrow(/expected a key path string/);
  });

  it("key paths from keyPath() address the same parameter in model, gradient and state", () => {
    const model = new MLP();
    const opt = new Adam(model);
    const g = gradient(model, (m) => m.call(tensor([[1, 2, 3]], { dtype: "float64" })).sum());
    opt.update(model, g);
    const kp = keyPath(model, "out.bias");
    const v = kp.get(opt.state().slots.secondMoments!);
    const gb = kp.get(g);
    // After one step v = (1 − β2) g².
    const expected = Array.from(gb.dataSync()).map((x) => (1 - 0.999) * x * x);
    Array.from(v.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(expected[i]!, 18));
  });
});

describe("bad input, nothing lost", () => {
  function snapshot(model: MLP, opt: Optimizer<MLP>) {
    return { tensors: [model.hidden.weight, model.hidden.bias, model.out.weight, model.out.bias], state: opt.state() };
  }
  function expectUnchanged(model: MLP, opt: Optimizer<MLP>, before: ReturnType<typeof snapshot>) {
    expect([model.hidden.weight, model.hidden.bias, model.out.weight, model.out.bias]).toEqual(before.tensors);
    [model.hidden.weight, model.hidden.bias, model.out.weight, model.out.bias].forEach((t, i) => expect(t).toBe(before.tensors[i]));
    const after = opt.state();
    expect(after.step).toBe(before.state.step);
    expect(after.parameterSteps).toEqual(before.state.parameterSteps);
    for (const k of Object.keys(after.slots)) expect(flatValues(after.slots[k])).toEqual(flatValues(before.state.slots[k]));
  }

  const bad: { name: string; grad: (g: ReturnType<typeof affineGradient<MLP>>) => unknown; message: RegExp }[] = [
    { name: "wrong shape at the last leaf", grad: (g) => ({ ...g, out: { ...g.out, bias: tensor([1, 2, 3], { dtype: "float64" }) } }), message: /gradient at out.bias has shape \[3\] but the parameter has shape \[2\]/ },
    { name: "wrong dtype", grad: (g) => ({ ...g, out: { ...g.out, weight: g.out.weight.cast("float32") } }), message: /gradient at out.weight is float32 but the parameter is float64; cast it with .cast\("float64"\)/ },
    { name: "int32 gradient", grad: (g) => ({ ...g, out: { ...g.out, bias: tensor([1, 2], { dtype: "int32" }) } }), message: /out.bias is int32/ },
    { name: "wrong structure", grad: (g) => ({ ...g, out: [g.out.weight, g.out.bias] }), message: /gradient at out should be an object/ },
    { name: "not a tensor", grad: (g) => ({ ...g, out: { ...g.out, bias: "x" } }), message: /gradient at out.bias should be a Tensor of shape \[2\], got a string/ },
    { name: "non-finite with checkFinite", grad: (g) => ({ ...g, out: { ...g.out, bias: tensor([1, NaN], { dtype: "float64" }) } }), message: /gradient at out.bias holds NaN \(flat index 1\); nothing was changed/ },
  ];

  it.each(bad)("$name: throws naming the key path; model and state unchanged", ({ grad, message }) => {
    const model = new MLP();
    const opt = new Adam(model, { checkFinite: true });
    opt.update(model, affineGradient(model, 1, 0.5));
    const before = snapshot(model, opt);
    expect(() => opt.update(model, grad(affineGradient(model, 1, 0.5)) as never)).toThrow(message);
    expectUnchanged(model, opt, before);
  });

  it("a schedule that throws mid-run changes nothing", () => {
    const model = new MLP();
    const opt = new Adam(model, { learningRate: (c) => { if (c === 1) throw new Error("boom"); return 0.01; } });
    opt.update(model, affineGradient(model, 1, 0.5));
    const before = snapshot(model, opt);
    expect(() => opt.update(model, affineGradient(model, 1, 0.5))).toThrow("boom");
    expectUnchanged(model, opt, before);
  });

  it("a schedule returning a bad rate is reported", () => {
    const model = new MLP();
    const opt = new SGD(model, { learningRate: () => NaN });
    expect(() => opt.update(model, affineGradient(model, 1, 0))).toThrow(/learningRate schedule returned NaN at step count 0/);
  });

  it("skipNonFinite skips the step and counts it", () => {
    const model = new MLP();
    const opt = new Adam(model, { skipNonFinite: true });
    opt.update(model, affineGradient(model, 1, 0.5));
    const before = snapshot(model, opt);
    const g = affineGradient(model, 1, 0.5);
    opt.update(model, { ...g, hidden: { ...g.hidden, weight: g.hidden.weight.mul(Infinity) } });
    expect(opt.skippedSteps).toBe(1);
    expectUnchanged(model, opt, before);
    opt.update(model, affineGradient(model, 1, 0.5));
    expect(opt.step).toBe(2);
    expect(opt.state().skippedSteps).toBe(1);
  });

  it("checkFinite: false lets non-finite gradients through (as in optax)", () => {
    const model = [tensor([1, 2])];
    new SGD(model, { checkFinite: false }).update(model, [tensor([NaN, 1])]);
    expect(Number.isNaN(model[0]!.dataSync()[0])).toBe(true);
  });

  // Every named optimizer rejects out-of-range hyperparameters at construction, giving the range.
  const ctors = { SGD, Adam, AdamW, NAdam, AMSGrad, AdaMax, RAdam, RMSProp, AdaGrad, AdaDelta, Lion } as const;
  const m = () => [tensor([1])];
  const invalid: [keyof typeof ctors, Record<string, unknown>, RegExp][] = [
    ["SGD", { learningRate: -1 }, /new SGD: learningRate must be a number >= 0, got -1/],
    ["SGD", { momentum: 1 }, /momentum must be a number in \[0, 1\), got 1/],
    ["SGD", { nesterov: true }, /nesterov needs momentum > 0/],
    ["SGD", { nesterov: "yes" }, /nesterov must be true or false/],
    ["Adam", { beta1: 1 }, /new Adam: beta1 must be a number in \[0, 1\), got 1/],
    ["Adam", { beta2: -0.1 }, /beta2 must be a number in \[0, 1\)/],
    ["Adam", { epsilon: 0 }, /epsilon must be a number > 0, got 0/],
    ["Adam", { learningRate: NaN }, /learningRate must be a number >= 0, got NaN/],
    ["AdamW", { weightDecay: -0.1 }, /weightDecay must be a number >= 0/],
    ["NAdam", { beta1: 1.5 }, /beta1/],
    ["AMSGrad", { epsilon: -1 }, /epsilon/],
    ["AdaMax", { beta2: 1 }, /beta2/],
    ["RAdam", { decay: -1 }, /decay must be a number >= 0/],
    ["RMSProp", { rho: 1 }, /rho must be a number in \[0, 1\)/],
    ["RMSProp", { momentum: -0.5 }, /momentum/],
    ["AdaGrad", { initialAccumulatorValue: -1 }, /initialAccumulatorValue must be a number >= 0/],
    ["AdaDelta", { rho: 2 }, /rho/],
    ["Lion", { beta2: 1 }, /beta2/],
    ["Adam", { clipGlobalNorm: 0 }, /clipGlobalNorm must be a number > 0/],
    ["Adam", { learning_rate: 0.1 }, /unknown option 'learning_rate'; the options are beta1, beta2, epsilon, learningRate/],
    ["Adam", { momentum: 0.9 }, /unknown option 'momentum'/],
  ];
  it.each(invalid)("new %s(%o) is rejected", (name, options, message) => {
    const C = ctors[name] as unknown as new (model: unknown, o: unknown) => unknown;
    expect(() => new C(m(), options)).toThrow(message);
  });

  it("a custom rule's bad init is reported", () => {
    const broken: GradientTransformation = { name: "broken", slots: ["s"], init: () => ({ s: new Float32Array(1) }), apply: (s, _p, u) => [u, s] };
    expect(() => new Optimizer([tensor([1, 2])], broken)).toThrow(/broken.init: slot 's' for 0 must be a Float32Array or Float64Array of length 2/);
    expect(() => new Optimizer([tensor([1])], {} as never)).toThrow(/the transform is not a transform/);
  });
});

describe("learning rate", () => {
  it("is readable and settable mid-run, as a number or a schedule", () => {
    const model = [tensor([0], { dtype: "float64" })];
    const opt = new SGD(model, { learningRate: 0.5 });
    expect(opt.learningRate).toBe(0.5);
    opt.update(model, [tensor([1], { dtype: "float64" })]);
    expect(model[0]!.item()).toBe(-0.5);
    opt.learningRate = 0.25;
    opt.update(model, [tensor([1], { dtype: "float64" })]);
    expect(model[0]!.item()).toBe(-0.75);
    opt.learningRate = (count) => count; // count is 2 now
    expect(opt.learningRate).toBe(2);
    expect(typeof opt.learningRateSchedule).toBe("function");
    opt.update(model, [tensor([1], { dtype: "float64" })]);
    expect(model[0]!.item()).toBe(-2.75);
    expect(() => { opt.learningRate = -1; }).toThrow(/learningRate must be a number >= 0/);
  });

  it("Swift's decay divides the rate by 1 + decay·t", () => {
    const model = [tensor([0], { dtype: "float64" })];
    const opt = new SGD(model, { learningRate: 1, decay: 1 });
    opt.update(model, [tensor([1], { dtype: "float64" })]); // α/(1+1)
    opt.update(model, [tensor([1], { dtype: "float64" })]); // α/(1+2)
    expect(model[0]!.item()).toBeCloseTo(-(1 / 2 + 1 / 3), 15);
    expect(opt.learningRate).toBe(1);
  });

  it("an optimizer without scaleByLearningRate says how to get one", () => {
    const opt = new Optimizer([tensor([1])], chain(scaleByAdam(), clipByValue(1)));
    expect(() => opt.learningRate).toThrow(/has no learning rate; add scaleByLearningRate/);
  });

  it("a chain equals its named optimizer: chain(scaleByAdam, addDecayedWeights, lr) is AdamW", () => {
    const a = new MLP();
    const b = new MLP();
    const named = new AdamW(a, { learningRate: 0.01, weightDecay: 0.1 });
    const chained = new Optimizer(b, chain(scaleByAdam(), addDecayedWeights(0.1), scaleByLearningRate(0.01)));
    for (let i = 0; i < 4; i++) {
      named.update(a, affineGradient(a, 1, 0.2));
      chained.update(b, affineGradient(b, 1, 0.2));
    }
    expect(flatValues(a)).toEqual(flatValues(b));
  });
});
