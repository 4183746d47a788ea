/**
 * Models that stay right under surgery: a replaced head, state checked against the parameters, fresh
 * state on request, one model per optimizer, non-finite gradients rejected by default, and loaded state
 * checked value by value. Every bad case is an error that changes nothing, bit for bit.
 */
import { describe, expect, it } from "vitest";
import { Tensor, tensor, gradient, keyPath, SGD, Adam, AdaGrad, RMSProp, type OptimizerState, type TangentVector } from "../../src/index.js";
import { Dense, MLP, flatValues, randomTensor } from "./fixtures.js";

/** Every tensor's bits and every slot's values, to compare before and after a failed call. */
function bits(model: MLP) {
  const tensors = [model.hidden.weight, model.hidden.bias, model.out.weight, model.out.bias];
  return { tensors, data: tensors.map((t) => Array.from(new Uint8Array(t.dataSync().buffer.slice(0)))) };
}

function expectSameBits(model: MLP, before: ReturnType<typeof bits>) {
  const now = [model.hidden.weight, model.hidden.bias, model.out.weight, model.out.bias];
  now.forEach((t, i) => expect(t).toBe(before.tensors[i]));
  now.forEach((t, i) => expect(Array.from(new Uint8Array(t.dataSync().buffer.slice(0)))).toEqual(before.data[i]));
}

const x = randomTensor([5, 3], 1);
const y = randomTensor([5, 2], 2);
const loss = (m: MLP) => m.call(x).sub(y).square().mean();

describe("fine-tuning after replacing the head", () => {
  it("new head, frozen body, fresh state for the head: the loss goes down and nothing is NaN", () => {
    const model = new MLP();
    const opt = new Adam(model, { learningRate: 0.05 });
    for (let i = 0; i < 3; i++) opt.update(model, gradient(model, loss));
    const hidden = model.hidden.weight;
    // Surgery: a head of another size (two outputs became three, then a new target of that size).
    model.out = new Dense(4, 3, 99);
    const y3 = randomTensor([5, 3], 3);
    const loss3 = (m: MLP) => m.call(x).sub(y3).square().mean();
    opt.freeze("hidden");
    opt.resetState("out");
    const first = loss3(model).item();
    for (let i = 0; i < 20; i++) opt.update(model, gradient(model, loss3));
    expect(loss3(model).item()).toBeLessThan(first);
    expect(model.hidden.weight).toBe(hidden);
    expect(flatValues(model).every(Number.isFinite)).toBe(true);
    const state = opt.state();
    expect((state.slots.secondMoments as TangentVector<MLP>).out.weight.shape).toEqual([4, 3]);
    expect(flatValues(state.slots.secondMoments).every(Number.isFinite)).toBe(true);
  });

  it("without resetState the next update is an error naming the path and both shapes; nothing changes", () => {
    const model = new MLP();
    const opt = new Adam(model);
    opt.update(model, gradient(model, loss));
    model.out = new Dense(4, 3, 99);
    const before = bits(model);
    const stateBefore = opt.step;
    const g = gradient(model, (m) => m.call(x).sum());
    expect(() => opt.update(model, g)).toThrow(
      /Adam.update: the optimizer state at 'out.weight' was made for a float64 parameter of shape \[4,2\], but the parameter there is now float64 of shape \[4,3\].*resetState\("out.weight"\).*nothing was changed/,
    );
    expectSameBits(model, before);
    expect(opt.step).toBe(stateBefore);
    // state() reports the same instead of handing out tensors whose data disagrees with their shape.
    expect(() => opt.state()).toThrow(/state at 'out.weight' was made for .* shape \[4,2\]/);
    // The fix works.
    opt.resetState("out");
    opt.update(model, g);
    expect(flatValues(model).every(Number.isFinite)).toBe(true);
  });

  it("a parameter set through a writable key path to another shape is caught the same way", () => {
    const model = new MLP();
    const opt = new AdaGrad(model);
    opt.update(model, gradient(model, loss));
    model.out.bias = randomTensor([3], 5); // the key path's set refuses another shape; a field assignment does not
    model.out.weight = randomTensor([4, 3], 6);
    expect(() => opt.update(model, gradient(model, (m) => m.call(x).sum()))).toThrow(/state at 'out.weight'/);
  });

  it("resetState() without an argument resets everything; a path that names nothing is an error", () => {
    const model = new MLP();
    const opt = new Adam(model);
    opt.update(model, gradient(model, loss));
    expect(() => opt.resetState("out.wieght" as never)).toThrow(/'out.wieght' match no parameter; the parameters are hidden.weight/);
    opt.resetState();
    const s = opt.state();
    expect(s.parameterSteps).toEqual({});
    expect(flatValues(s.slots.firstMoments).every((v) => v === 0)).toBe(true);
  });
});

describe("one model per optimizer", () => {
  it("updating another model object is an error; neither model changes", () => {
    const a = new MLP();
    const b = new MLP();
    const opt = new Adam(a);
    opt.update(a, gradient(a, loss));
    const before = bits(b);
    expect(() => opt.update(b, gradient(b, loss))).toThrow(/Adam.update: this optimizer was built for another model object/);
    expectSameBits(b, before);
    // Carrying the state over explicitly works.
    const optB = new Adam(b);
    optB.loadState(opt.state());
    optB.update(b, gradient(b, loss));
    expect(flatValues(b).every(Number.isFinite)).toBe(true);
  });
});

describe("non-finite gradients", () => {
  it.each([NaN, Infinity, -Infinity])("%s is rejected by default, naming the path and index; nothing changes", (bad) => {
    const model = new MLP();
    const opt = new Adam(model);
    opt.update(model, gradient(model, loss));
    const before = bits(model);
    const saved = opt.state();
    const g = gradient(model, loss);
    const data = Array.from(g.out.bias.dataSync());
    data[1] = bad;
    const badGrad = { ...g, out: { ...g.out, bias: tensor(data, { dtype: "float64" }) } };
    expect(() => opt.update(model, badGrad)).toThrow(new RegExp(`gradient at out.bias holds ${String(bad)} \\(flat index 1\\); nothing was changed`));
    expectSameBits(model, before);
    expect(flatValues(opt.state().slots)).toEqual(flatValues(saved.slots));
    expect(opt.step).toBe(1);
  });

  it("a sum of tied partials that overflows is rejected too", () => {
    const w = tensor([3e38, 1], { dtype: "float32" });
    const model = { a: w, b: w };
    const opt = new SGD(model);
    expect(() => opt.update(model, { a: tensor([3e38, 0], { dtype: "float32" }), b: tensor([3e38, 0], { dtype: "float32" }) })).toThrow(/the sum of its tied paths/);
    expect(model.a).toBe(w);
  });

  it("skipNonFinite skips and counts; checkFinite: false applies", () => {
    const model = [tensor([1, 2])];
    const skipping = new SGD(model, { skipNonFinite: true });
    skipping.update(model, [tensor([NaN, 0])]);
    expect(skipping.skippedSteps).toBe(1);
    expect(Array.from(model[0]!.dataSync())).toEqual([1, 2]);
    const other = [tensor([1, 2])];
    new SGD(other, { checkFinite: false }).update(other, [tensor([NaN, 0])]);
    expect(Number.isNaN(other[0]!.dataSync()[0])).toBe(true);
  });
});

describe("loadState checks values", () => {
  function saved() {
    const model = new MLP();
    const opt = new Adam(model);
    opt.update(model, gradient(model, loss));
    return { model, opt, state: opt.state() };
  }
  const withLeaf = (s: OptimizerState<MLP>, slot: string, t: Tensor): OptimizerState<MLP> => {
    const m = s.slots[slot] as unknown as { out: { bias: Tensor } };
    return { ...s, slots: { ...s.slots, [slot]: { ...m, out: { ...m.out, bias: t } } } } as OptimizerState<MLP>;
  };
  it.each([
    ["NaN in a first moment", "firstMoments", tensor([NaN, 0], { dtype: "float64" }), /state slot 'firstMoments' at out.bias holds NaN at flat index 0/],
    ["a negative second moment", "secondMoments", tensor([0, -1], { dtype: "float64" }), /state slot 'secondMoments' at out.bias holds the negative value -1 at flat index 1/],
    ["a wrongly shaped slot", "secondMoments", tensor([1, 2, 3], { dtype: "float64" }), /state slot 'secondMoments' at out.bias has shape \[3\] but the parameter has shape \[2\]/],
  ] as const)("%s is an error; nothing changes", (_name, slot, t, message) => {
    const { model, opt, state } = saved();
    expect(() => opt.loadState(withLeaf(state, slot, t))).toThrow(message);
    expect(flatValues(opt.state().slots)).toEqual(flatValues(state.slots));
    void model;
  });
  it("RMSProp's mean square is a sum of squares too; undefined is a clear error", () => {
    const model = new MLP();
    const opt = new RMSProp(model);
    const s = opt.state();
    expect(() => opt.loadState(withLeaf(s, "meanSquare", tensor([-1, 0], { dtype: "float64" })))).toThrow(/negative value -1/);
    expect(() => opt.loadState(undefined)).toThrow(/there is no state to load/);
  });
});

describe("key paths", () => {
  it("set checks shape and dtype, naming the path and both shapes; nothing changes", () => {
    const model = new MLP();
    const kp = keyPath(model, "out.bias");
    const before = model.out.bias;
    expect(() => kp.set(model, randomTensor([3], 1))).toThrow(/KeyPath out.bias: cannot write a Tensor of shape \[3\] \(float64\) where the value has shape \[2\] \(float64\)/);
    expect(() => kp.set(model, randomTensor([2], 1, "float32"))).toThrow(/shape \[2\] \(float32\) where the value has shape \[2\] \(float64\)/);
    expect(model.out.bias).toBe(before);
    kp.set(model, randomTensor([2], 1));
    expect(model.out.bias).not.toBe(before);
  });
  it("__proto__, constructor and prototype segments are rejected at run time", () => {
    const m = { a: { b: tensor([1]) } } as Record<string, unknown>;
    for (const seg of ["__proto__", "constructor", "prototype"]) {
      expect(() => keyPath(m as never, `a.${seg}` as never)).toThrow(new RegExp(`keyPath: 'a.${seg}': the segment '${seg}' is forbidden`));
    }
  });
});
