/**
 * The library's optimizers inside compile, beyond agreement with eager (training.test.ts): the optimizer
 * passed as an argument or closed over, learning rates set or scheduled without retracing, a non-finite
 * gradient that changes nothing, layout changes (freezing, loading state) that trace again, and the cases
 * that cannot be staged, each a clear error.
 */
import { describe, expect, test } from "vitest";
import {
  compile, cond, gradient, tensor, randomNormal, Tensor, differentiable, Dense, tanh, Optimizer, chain, scaleByLearningRate, type TangentVector, type GradientTransformation,
  Adam, AdamW, NAdam, AMSGrad, AdaMax, RAdam, RMSProp, AdaGrad, AdaDelta, Lion, SGD,
} from "../../src/index.js";
import { setFusedStepsEnabled } from "../../src/optimizers/fused.js";

class Net {
  @differentiable a: Dense;
  @differentiable b: Dense;
  constructor(seed: number) {
    this.a = new Dense({ inputSize: 2, outputSize: 8, activation: tanh, seed });
    this.b = new Dense({ inputSize: 8, outputSize: 1, seed: seed + 1 });
  }
  callAsFunction(x: Tensor): Tensor {
    return this.b.callAsFunction(this.a.callAsFunction(x));
  }
}

const x = randomNormal([16, 2], { seed: 3 });
const y = x.sum(1, true).sin();
const loss = (m: Net, xs: Tensor = x): Tensor => m.callAsFunction(xs).sub(y).square().mean();
const values = (t: Tensor): number[] => Array.from(t.dataSync());
const snapshot = (m: Net, o: Optimizer<Net>): string => JSON.stringify({
  params: [m.a.weight, m.a.bias, m.b.weight, m.b.bias].map(values),
  state: (() => {
    const s = o.state();
    return { step: s.step, skipped: s.skippedSteps, steps: s.parameterSteps, m: values((s.slots.firstMoments as TangentVector<Net>).a.weight) };
  })(),
});

describe("the optimizer's state is read at every run, never baked in", () => {
  test("passed as an argument, interleaved with eager steps: the same trajectory as all-eager", () => {
    const ref = new Net(1), m = new Net(1);
    const ro = new Adam(ref, { learningRate: 0.02 }), mo = new Adam(m, { learningRate: 0.02 });
    const step = compile((net: Net, opt: Adam<Net>) => {
      opt.update(net, gradient(net, (q) => loss(q)));
      return loss(net);
    });
    for (let i = 0; i < 10; i++) {
      ro.update(ref, gradient(ref, (q) => loss(q)));
      if (i % 3 === 2) mo.update(m, gradient(m, (q) => loss(q))); // an eager step in between
      else step(m, mo);
      expect(snapshot(m, mo)).toBe(snapshot(ref, ro));
    }
    expect(step.stats.traces).toBe(1);
  });

  test("compiled steps write slots into two alternating arrays: a saved state, a rejected step and a restored state see no change", () => {
    const slots = (o: Optimizer<Net>): string => JSON.stringify(o.state().slots, (_k, v: unknown) => (v instanceof Tensor ? values(v) : v));
    const params = (n: Net): string => JSON.stringify([n.a.weight, n.a.bias, n.b.weight, n.b.bias].map(values));
    for (const make of [(n: Net) => new Adam(n, { learningRate: 0.02 }), (n: Net) => new SGD(n, { learningRate: 0.02, momentum: 0.9 })]) {
      const ref = new Net(3), m = new Net(3);
      const ro = make(ref), mo = make(m);
      const step = compile((net: Net, g: TangentVector<Net>) => void mo.update(net, g));
      const saved: string[] = [];
      const states: ReturnType<typeof mo.state>[] = [];
      for (let i = 0; i < 6; i++) {
        const g = gradient(m, (q) => loss(q));
        ro.update(ref, gradient(ref, (q) => loss(q)));
        step(m, g);
        expect([params(m), slots(mo)]).toEqual([params(ref), slots(ro)]);
        states.push(mo.state());
        saved.push(slots(mo));
        // A step whose gradient holds NaN is rejected and changes nothing, slots included.
        const bad = gradient(m, (q) => loss(q));
        const nan = { ...bad, a: { ...bad.a, bias: tensor(values(bad.a.bias).map((v, j) => (j === 0 ? Number.NaN : v))) } };
        expect(() => step(m, nan)).toThrow(/NaN/);
        expect([params(m), slots(mo)]).toEqual([params(ref), slots(ro)]);
      }
      // Every state saved along the way still reads as it did.
      states.forEach((st, i) => expect(JSON.stringify(st.slots, (_k, v: unknown) => (v instanceof Tensor ? values(v) : v))).toBe(saved[i]));
      // Restoring an old state and stepping again follows the eager optimizer restored to the same state.
      mo.loadState(states[2]);
      ro.loadState(states[2]);
      const g = gradient(m, (q) => loss(q));
      step(m, g);
      ro.update(ref, g);
      expect(slots(mo)).toBe(slots(ro));
    }
  });

  test("a learning rate set between steps, and a schedule, change the step without retracing", () => {
    const ref = new Net(2), m = new Net(2);
    const schedule = (count: number): number => 0.05 / (1 + count);
    const ro = new SGD(ref, { learningRate: schedule, momentum: 0.9 }), mo = new SGD(m, { learningRate: schedule, momentum: 0.9 });
    const step = compile((net: Net) => void mo.update(net, gradient(net, (q) => loss(q))));
    for (let i = 0; i < 6; i++) {
      if (i === 3) ro.learningRate = mo.learningRate = 0.2;
      ro.update(ref, gradient(ref, (q) => loss(q)));
      step(m);
      expect(values(m.a.weight)).toEqual(values(ref.a.weight));
    }
    expect(step.stats.traces).toBe(1);
  });

  test("parameters that took different numbers of steps keep their own bias corrections (the step traces again)", () => {
    const ref = new Net(10), m = new Net(10);
    const ro = new Adam(ref, { learningRate: 0.02 }), mo = new Adam(m, { learningRate: 0.02 });
    const step = compile((net: Net) => void mo.update(net, gradient(net, (q) => loss(q))));
    const partial = (net: Net): TangentVector<Net> => ({ ...gradient(net, (q) => loss(q)), b: null as never });
    for (let i = 0; i < 6; i++) {
      if (i === 2) {
        ro.update(ref, partial(ref)); // `b` skips a step: its t now lags behind `a`'s
        mo.update(m, partial(m));
      }
      ro.update(ref, gradient(ref, (q) => loss(q)));
      step(m);
      expect(snapshot(m, mo)).toBe(snapshot(ref, ro));
    }
    expect(mo.state().parameterSteps).toEqual({ "a.weight": 7, "a.bias": 7, "b.weight": 6, "b.bias": 6 });
    expect(step.stats.traces).toBe(2);
  });

  test("a parameter shared by two paths gets the summed gradient and one new tensor at both paths, as eagerly", () => {
    const mk = (): { enc: { w: Tensor }; dec: { w: Tensor } } => {
      const w = randomNormal([2, 2], { seed: 13 });
      return { enc: { w }, dec: { w } };
    };
    type Tied = ReturnType<typeof mk>;
    const tiedLoss = (q: Tied): Tensor => x.matmul(q.enc.w).tanh().matmul(q.dec.w).sum(1, true).sub(y).square().mean();
    const ref = mk(), m = mk();
    const ro = new Adam(ref, { learningRate: 0.05 }), mo = new Adam(m, { learningRate: 0.05 });
    const step = compile((q: Tied) => void mo.update(q, gradient(q, tiedLoss)));
    for (let i = 0; i < 5; i++) {
      ro.update(ref, gradient(ref, tiedLoss));
      step(m);
      expect(m.enc.w).toBe(m.dec.w);
      expect(values(m.enc.w)).toEqual(values(ref.enc.w));
    }
    expect(step.stats.traces).toBe(1);
  });

  test("freezing, resetting or loading state traces again; the frozen parameter stays", () => {
    const m = new Net(3);
    const opt = new Adam(m);
    const step = compile((net: Net) => void opt.update(net, gradient(net, (q) => loss(q))));
    step(m);
    opt.freeze("a");
    const frozen = m.a.weight;
    step(m);
    expect(m.a.weight).toBe(frozen);
    expect(step.stats.traces).toBe(2);
    opt.loadState(opt.state());
    step(m);
    expect(step.stats.traces).toBe(3);
    expect(opt.step).toBe(3);
  });
});

describe("every named optimizer stages its rules", () => {
  const table: [string, (m: Net) => Optimizer<Net>][] = [
    ["SGD", (m) => new SGD(m, { learningRate: 0.05 })],
    ["SGD with momentum and L2 decay", (m) => new SGD(m, { learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3 })],
    ["Adam with clipValue and decay", (m) => new Adam(m, { learningRate: 0.01, clipValue: 0.05, decay: 0.01 })],
    ["AdamW", (m) => new AdamW(m, { learningRate: 0.01 })],
    ["NAdam", (m) => new NAdam(m)],
    ["AMSGrad", (m) => new AMSGrad(m, { learningRate: 0.01 })],
    ["AdaMax", (m) => new AdaMax(m)],
    ["RAdam (the rectified step from step 6)", (m) => new RAdam(m, { learningRate: 0.01 })],
    ["RMSProp", (m) => new RMSProp(m, { learningRate: 0.01 })],
    ["RMSProp centered, with Nesterov momentum", (m) => new RMSProp(m, { learningRate: 0.01, centered: true, momentum: 0.5, nesterov: true })],
    ["AdaGrad", (m) => new AdaGrad(m, { learningRate: 0.05 })],
    ["AdaDelta", (m) => new AdaDelta(m, { learningRate: 1 })],
    ["Lion", (m) => new Lion(m, { learningRate: 1e-3 })],
  ];
  test.each(table)("%s: 12 compiled steps equal the eager ones bit for bit (parameters and state)", (_name, make) => {
    const ref = new Net(9), m = new Net(9);
    const ro = make(ref), mo = make(m);
    const step = compile((net: Net) => void mo.update(net, gradient(net, (q) => loss(q))));
    for (let i = 0; i < 12; i++) {
      ro.update(ref, gradient(ref, (q) => loss(q)));
      step(m);
      expect(JSON.stringify(values(m.a.weight)) + JSON.stringify(values(m.b.bias))).toBe(JSON.stringify(values(ref.a.weight)) + JSON.stringify(values(ref.b.bias)));
    }
    const a = ro.state(), b = mo.state();
    expect(b.step).toBe(12);
    for (const k of Object.keys(a.slots)) {
      const x = (a.slots[k] as TangentVector<Net>).a.weight, y = (b.slots[k] as TangentVector<Net>).a.weight;
      expect(values(y)).toEqual(values(x));
    }
    expect(step.stats.traces).toBe(1);
  });
});

test("each parameter's whole Adam update is one call of the fused step, which computes the parameter and both moments", () => {
  const m = new Net(11);
  const opt = new Adam(m);
  const step = compile((net: Net) => void opt.update(net, gradient(net, (q) => loss(q))));
  const lines = step.inspect(m).optimized.split("\n");
  expect(lines.filter((l) => / = adamStep /.test(l))).toHaveLength(4); // a.weight, a.bias, b.weight, b.bias
  expect(lines.filter((l) => / = fusedSlot /.test(l))).toHaveLength(8); // their two moments
  // Nothing else recomputes the moments.
  expect(lines.filter((l) => l.includes("sqrt"))).toHaveLength(0);
});

test("without the fused step (switched off), each parameter's whole Adam update is one fused loop storing the parameter and both moments", () => {
  const was = setFusedStepsEnabled(false);
  try {
    const m = new Net(11);
    const opt = new Adam(m);
    const step = compile((net: Net) => void opt.update(net, gradient(net, (q) => loss(q))));
    const lines = step.inspect(m).optimized.split("\n");
    const updates = lines.filter((l) => /= fused \[.*sqrt.*outputs=3/.test(l));
    expect(updates).toHaveLength(4); // a.weight, a.bias, b.weight, b.bias
    // Outside those loops, nothing of the same shapes recomputes the moments.
    expect(lines.filter((l) => l.includes("sqrt"))).toHaveLength(4);
  } finally {
    setFusedStepsEnabled(was);
  }
});

describe("a non-finite gradient inside the compiled step", () => {
  const bad = tensor([[NaN, 1], ...Array.from({ length: 15 }, () => [0, 1])]);

  test("throws naming the parameter, and leaves the model and the optimizer's state untouched", () => {
    const m = new Net(4);
    const opt = new Adam(m);
    const step = compile((net: Net, xs: Tensor) => {
      opt.update(net, gradient(net, (q) => loss(q, xs)));
      return loss(net, xs);
    });
    step(m, x);
    const before = snapshot(m, opt);
    expect(() => step(m, bad)).toThrow(/Adam\.update: the gradient at a\.weight holds NaN or ±Infinity \(found by the compiled step\); nothing was changed/);
    expect(snapshot(m, opt)).toBe(before);
    step(m, x);
    expect(opt.step).toBe(2);
    expect(step.stats.traces).toBe(1);
  });

  test("with skipNonFinite the step is skipped and counted, nothing else changes; checkFinite: false applies it", () => {
    const m = new Net(5);
    const opt = new Adam(m, { skipNonFinite: true });
    const step = compile((net: Net, xs: Tensor) => void opt.update(net, gradient(net, (q) => loss(q, xs))));
    step(m, x);
    const before = JSON.parse(snapshot(m, opt)) as { state: { skipped: number } };
    step(m, bad);
    const after = JSON.parse(snapshot(m, opt)) as { state: { skipped: number } };
    expect(after.state.skipped).toBe(1);
    after.state.skipped = 0;
    expect(after).toEqual(before);
    expect(opt.skippedSteps).toBe(1);

    const n = new Net(5);
    const raw = new Adam(n, { checkFinite: false });
    compile((net: Net, xs: Tensor) => void raw.update(net, gradient(net, (q) => loss(q, xs))))(n, bad);
    expect(values(n.a.weight).some(Number.isNaN)).toBe(true);
  });
});

describe("what cannot be staged is a clear error", () => {
  test("a rule without a staged form", () => {
    const m = new Net(6);
    const halve = { name: "halve", slots: [], init: () => ({}), apply: (s: Record<string, never>, _p: unknown, u: Float32Array | Float64Array) => [u.map((v) => v / 2), s] } as const;
    const opt = new Optimizer(m, chain(halve as never, scaleByLearningRate(0.1)));
    const step = compile((net: Net) => void opt.update(net, gradient(net, (q) => loss(q))));
    expect(() => step(m)).toThrow(/Optimizer\.update: the rule halve has no staged form \(applyStaged\), so this optimizer cannot update inside compile yet/);
    expect(opt.step).toBe(0);
  });

  test("a staged rule whose update has another dtype than the parameter: an error at the trace, nothing changes", () => {
    const m = new Net(8);
    const before = values(m.a.weight);
    const bySqrtStep: GradientTransformation = {
      name: "bySqrtStep",
      slots: [],
      init: () => ({}),
      apply(state, _param, u, { step }) {
        for (let i = 0; i < u.length; i++) u[i] = u[i]! / Math.sqrt(step);
        return [u, state];
      },
      applyStaged: (state, _param, u, { step }) => [u.div(step.sqrt()), state], // float64: the step is float64
    };
    const opt = new Optimizer(m, chain(bySqrtStep, scaleByLearningRate(0.1)));
    const step = compile((net: Net) => void opt.update(net, gradient(net, (q) => loss(q))));
    expect(() => step(m)).toThrow(
      /bySqrtStep\.applyStaged: the update for a\.weight must be a float32 tensor of shape \[2,8\], got float64 \[2,8\]; .*end with \.cast\("float32"\)/,
    );
    expect(values(m.a.weight)).toEqual(before);
    expect(m.a.weight.dtype).toBe("float32");
    expect(opt.step).toBe(0);
  });

  test("a model closed over instead of passed in, another model, two updates in one step", () => {
    const m = new Net(7);
    const opt = new SGD(m);
    const closed = compile((xs: Tensor) => void opt.update(m, gradient(m, (q) => loss(q, xs))));
    expect(() => closed(x)).toThrow(/SGD\.update: inside compile, the parameter at a\.weight is a tensor the compiled function closed over; pass the model as an argument/);
    const other = compile((net: Net) => void opt.update(net, gradient(net, (q) => loss(q))));
    expect(() => other(new Net(7))).toThrow(/this optimizer was built for another model object/);
    const twice = compile((net: Net) => {
      opt.update(net, gradient(net, (q) => loss(q)));
      opt.update(net, gradient(net, (q) => loss(q)));
    });
    expect(() => twice(m)).toThrow(/this optimizer already updated the model in this compiled function/);
    expect(opt.step).toBe(0);
  });

  test("an update inside a cond branch", () => {
    const m = new Net(12);
    const opt = new SGD(m);
    const step = compile((net: Net, flag: Tensor) =>
      cond(flag, (f: Tensor) => {
        opt.update(net, gradient(net, (q) => loss(q)));
        return f;
      }, (f: Tensor) => f, flag));
    expect(() => step(m, 1)).toThrow(/SGD\.update: an in-place update inside a cond branch or a fori body cannot be staged/);
    expect(opt.step).toBe(0);
  });

  test("a compiled function that updates state in place, under a differential operator", () => {
    const f = compile((s: { w: Tensor }, v: Tensor) => {
      s.w = s.w.add(v);
      return s.w.sum();
    });
    const s = { w: tensor([1, 2]) };
    expect(() => gradient(tensor([1, 1]), (v) => f(s, v))).toThrow(/cannot run under a differential operator .*differentiate inside the compiled function instead/);
    expect(values(s.w)).toEqual([1, 2]);
  });
});
