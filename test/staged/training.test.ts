/**
 * Whole training steps compiled: an MLP and a CNN (convolution, pooling, dense), forward, gradient and an
 * Adam update written with ops, agree with the same step run eagerly, step by step for 20 steps (parameters
 * and optimizer state), with a learning-rate schedule that never retraces. Then the same with the library's
 * optimizers: `opt.update(model, g)` inside the compiled step updates the model and the optimizer's state in
 * place, as the eager step does (bit for bit where the operation order is the same).
 */
import { describe, expect, test } from "vitest";
import {
  compile, tensor, valueWithGradient, randomNormal, randomUniform, oneHot, zeros, conv2d, maxPool2d, Tensor, differentiable, Dense, Conv2D, relu,
  Optimizer, Adam, AdamW, SGD, chain, clipByValue, trace, addDecayedWeights, scaleByLearningRate, cosineDecay,
} from "../../src/index.js";

type Params = Record<string, Tensor>;
type State = { p: Params; m: Params; v: Params };

function adam(loss: (p: Params) => Tensor) {
  return (s: State, lr: Tensor, t: Tensor): State & { value: Tensor } => {
    const { value, gradient: g } = valueWithGradient(s.p, loss);
    const c1 = t.mul(Math.log(0.9)).exp().neg().add(1);
    const c2 = t.mul(Math.log(0.999)).exp().neg().add(1);
    const p: Params = {}, m: Params = {}, v: Params = {};
    for (const k of Object.keys(s.p)) {
      m[k] = s.m[k]!.mul(0.9).add(g[k]!.mul(0.1));
      v[k] = s.v[k]!.mul(0.999).add(g[k]!.square().mul(0.001));
      p[k] = s.p[k]!.sub(m[k].div(c1).mul(lr).div(v[k].div(c2).sqrt().add(1e-8)));
    }
    return { value, p, m, v };
  };
}

const zerosLike = (p: Params): Params => Object.fromEntries(Object.entries(p).map(([k, x]) => [k, zeros(x.shape)]));

function expectSameState(a: State, b: State, rtol: number): void {
  for (const part of ["p", "m", "v"] as const) {
    for (const k of Object.keys(a.p)) {
      const x = a[part][k]!.dataSync(), y = b[part][k]!.dataSync();
      for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!)).toBeLessThanOrEqual(rtol * (1e-6 + Math.abs(y[i]!)));
    }
  }
}

function train(name: string, p0: Params, loss: (p: Params) => Tensor, rtol: number): void {
  test(`${name}: 20 compiled steps agree with eager, and the schedule does not retrace`, () => {
    const eagerStep = adam(loss);
    const stagedStep = compile(adam(loss));
    let a: State = { p: p0, m: zerosLike(p0), v: zerosLike(p0) };
    let b = a;
    const losses: number[] = [];
    for (let t = 1; t <= 20; t++) {
      const lr = 0.01 * 0.5 * (1 + Math.cos((Math.PI * t) / 20)); // cosine decay
      const ra = eagerStep(a, tensor(lr), tensor(t));
      const rb = stagedStep(b, lr, t);
      expect(rb.value.item()).toBeCloseTo(ra.value.item(), 5);
      a = { p: ra.p, m: ra.m, v: ra.v };
      b = { p: rb.p, m: rb.m, v: rb.v };
      expectSameState(b, a, rtol);
      losses.push(rb.value.item());
    }
    expect(losses[19]!).toBeLessThan(losses[0]!);
    expect(stagedStep.stats).toEqual({ traces: 1, compilations: 1, signatures: 1 });
  });
}

describe("training steps", () => {
  const x = randomNormal([16, 8], { seed: 1 });
  const labels = oneHot(randomUniform([16], { seed: 2, min: 0, max: 4, dtype: "int32" }), 4, { dtype: "float32" });
  train("MLP 8-16-4, cross-entropy", {
    w0: randomNormal([8, 16], { seed: 3 }).mul(0.3), b0: zeros([16]),
    w1: randomNormal([16, 4], { seed: 4 }).mul(0.3), b1: zeros([4]),
  }, (p) => x.matmul(p.w0!).add(p.b0!).relu().matmul(p.w1!).add(p.b1!).logSoftmax().mul(labels).sum(1).mean().neg(), 1e-5);

  const images = randomNormal([4, 6, 6, 1], { seed: 5 });
  const classes = oneHot(randomUniform([4], { seed: 6, min: 0, max: 3, dtype: "int32" }), 3, { dtype: "float32" });
  train("CNN conv 3x3x1x4 → maxPool 2 → dense 36-3", {
    k: randomNormal([3, 3, 1, 4], { seed: 7 }).mul(0.3), c: zeros([4]),
    w: randomNormal([36, 3], { seed: 8 }).mul(0.3), b: zeros([3]),
  }, (p) => {
    const h = maxPool2d(conv2d(images, p.k!, { padding: "same" }).add(p.c!).relu(), { size: 2 });
    return h.reshape([4, 36]).matmul(p.w!).add(p.b!).logSoftmax().mul(classes).sum(1).mean().neg();
  }, 1e-5);
});

// ---------------------------------------------------------------------------------------------------------
// The library's optimizers inside compile: `opt.update(model, g)` in the compiled step.

class Mlp {
  @differentiable l0: Dense;
  @differentiable l1: Dense;
  constructor(seed: number) {
    this.l0 = new Dense({ inputSize: 8, outputSize: 16, activation: relu, seed });
    this.l1 = new Dense({ inputSize: 16, outputSize: 4, seed: seed + 1 });
  }
  callAsFunction(x: Tensor): Tensor {
    return this.l1.callAsFunction(this.l0.callAsFunction(x));
  }
}

class Cnn {
  @differentiable conv: Conv2D;
  @differentiable head: Dense;
  constructor(seed: number) {
    this.conv = new Conv2D({ filterShape: [3, 3, 1, 4], padding: "same", activation: relu, seed });
    this.head = new Dense({ inputSize: 36, outputSize: 3, seed: seed + 1 });
  }
  callAsFunction(x: Tensor): Tensor {
    const h = maxPool2d(this.conv.callAsFunction(x), { size: 2 });
    return this.head.callAsFunction(h.reshape([x.shape[0]!, 36]));
  }
}

const crossEntropy = (logits: Tensor, labels: Tensor): Tensor => logits.logSoftmax().mul(labels).sum(1).mean().neg();
const values = (t: Tensor): number[] => Array.from(t.dataSync());

type Model = Mlp | Cnn;
interface Case {
  readonly name: string;
  readonly model: (seed: number) => Model;
  readonly x: Tensor;
  readonly labels: Tensor;
}

const cases: Case[] = [
  {
    name: "MLP 8-16-4",
    model: (s) => new Mlp(s),
    x: randomNormal([16, 8], { seed: 11 }),
    labels: oneHot(randomUniform([16], { seed: 12, min: 0, max: 4, dtype: "int32" }), 4, { dtype: "float32" }),
  },
  {
    name: "CNN conv 3x3x1x4 → maxPool 2 → dense 36-3",
    model: (s) => new Cnn(s),
    x: randomNormal([4, 6, 6, 1], { seed: 13 }),
    labels: oneHot(randomUniform([4], { seed: 14, min: 0, max: 3, dtype: "int32" }), 3, { dtype: "float32" }),
  },
];

type MakeOptimizer = (m: Model) => Optimizer<Model>;
const optimizers: [string, MakeOptimizer, number][] = [
  // [name, optimizer, tolerance relative to eager: 0 means bit for bit]
  ["Adam with a cosine schedule", (m) => new Adam(m, { learningRate: cosineDecay({ initialValue: 0.01, decaySteps: 20 }) }), 0],
  ["SGD with Nesterov momentum", (m) => new SGD(m, { learningRate: 0.05, momentum: 0.9, nesterov: true }), 0],
  ["clipByGlobalNorm + AdamW (decoupled decay, biases excluded)", (m) => new AdamW(m, { learningRate: 0.01, clipGlobalNorm: 0.5, weightDecay: 0.05, excludeFromWeightDecay: (path) => path.endsWith("bias") }), 1e-5],
  ["chain(clipByValue, trace, addDecayedWeights, scaleByLearningRate)", (m) => new Optimizer(m, chain(clipByValue(0.05), trace({ momentum: 0.8 }), addDecayedWeights(1e-3), scaleByLearningRate(0.1))), 0],
];

function expectClose(a: Tensor, b: Tensor, rtol: number, what: string): void {
  const x = values(a), y = values(b);
  if (rtol === 0) {
    expect(x, what).toEqual(y);
    return;
  }
  for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!), `${what}[${i}]`).toBeLessThanOrEqual(rtol * (1e-6 + Math.abs(y[i]!)));
}

function expectSameTraining(eager: Model, staged: Model, eo: Optimizer<Model>, so: Optimizer<Model>, rtol: number, step: number): void {
  const pe = leavesOf(eager), ps = leavesOf(staged);
  pe.forEach((p, i) => expectClose(ps[i]!, p, rtol, `step ${step}: parameter ${i}`));
  const se = eo.state(), ss = so.state();
  expect(ss.step).toBe(se.step);
  expect(ss.parameterSteps).toEqual(se.parameterSteps);
  for (const k of Object.keys(se.slots)) {
    const a = leavesOf(se.slots[k]), b = leavesOf(ss.slots[k]);
    a.forEach((t, i) => expectClose(b[i]!, t, rtol, `step ${step}: slot ${k} ${i}`));
  }
}

/** The tensors of a structure in walk order (models and tangents alike). */
function leavesOf(x: unknown): Tensor[] {
  const out: Tensor[] = [];
  const visit = (v: unknown): void => {
    if (v instanceof Tensor) out.push(v);
    else if (typeof v === "object" && v !== null) for (const k of Object.keys(v).sort()) visit((v as Record<string, unknown>)[k]);
  };
  visit(x);
  return out;
}

describe("optimizer.update inside compile: the whole training step compiled", () => {
  for (const c of cases) {
    for (const [name, make, rtol] of optimizers) {
      test(`${c.name}, ${name}: 20 compiled steps agree with eager ${rtol === 0 ? "bit for bit" : `to ${rtol}`} (parameters and state), traced once`, () => {
        const eager = c.model(1), staged = c.model(1);
        const eo = make(eager), so = make(staged);
        const loss = (m: Model, x: Tensor, y: Tensor): Tensor => crossEntropy(m.callAsFunction(x), y);
        const step = compile((m: Model, x: Tensor, y: Tensor) => {
          const { value, gradient: g } = valueWithGradient(m, (q) => loss(q, x, y));
          so.update(m, g);
          return value;
        });
        const losses: number[] = [];
        for (let t = 1; t <= 20; t++) {
          const { value, gradient: g } = valueWithGradient(eager, (q) => loss(q, c.x, c.labels));
          eo.update(eager, g);
          const l = step(staged, c.x, c.labels);
          expect(l.item()).toBeCloseTo(value.item(), 5);
          expectSameTraining(eager, staged, eo, so, rtol, t);
          losses.push(l.item());
        }
        expect(losses[19]!).toBeLessThan(losses[0]!);
        expect(step.stats).toEqual({ traces: 1, compilations: 1, signatures: 1 });
        expect(so.step).toBe(20);
      });
    }
  }
});
