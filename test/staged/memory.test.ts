/**
 * Memory: compiled calls allocate only their results. 2,000 compiled training steps (forward, gradient and an
 * Adam update, written with ops or the library's optimizer updating in place, schedule-driven learning rate)
 * keep the heap flat and trace once; the derivative programs of a compiled function are built once, not per
 * call.
 */
import { expect, test } from "vitest";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { compile, gradient, valueWithGradient, randomNormal, zeros, Tensor, Adam, cosineDecay } from "../../src/index.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

interface Params { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor }

const init = (): Params => ({
  w1: randomNormal([2, 16], { seed: 1 }).mul(0.5), b1: zeros([16]),
  w2: randomNormal([16, 1], { seed: 2 }).mul(0.5), b2: zeros([1]),
});
const x = randomNormal([32, 2], { seed: 3 });
const y = x.sum(1, true).sin();
const loss = (p: Params): Tensor => x.matmul(p.w1).add(p.b1).tanh().matmul(p.w2).add(p.b2).sub(y).square().mean();

function heapGrowth(steps: number, step: (i: number) => void): number {
  for (let i = 0; i < 200; i++) step(i); // warm up code and caches
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < steps; i++) step(i);
  gc();
  return process.memoryUsage().heapUsed - before;
}

test("2,000 compiled Adam steps keep the heap flat and never retrace", () => {
  const adamStep = compile((p: Params, m: Params, v: Params, lr: Tensor, t: Tensor) => {
    const { value, gradient: g } = valueWithGradient(p, loss);
    const next = {} as Record<keyof Params, Tensor>;
    const nm = {} as Record<keyof Params, Tensor>;
    const nv = {} as Record<keyof Params, Tensor>;
    const c1 = t.mul(Math.log(0.9)).exp().neg().add(1);
    const c2 = t.mul(Math.log(0.999)).exp().neg().add(1);
    for (const k of ["w1", "b1", "w2", "b2"] as const) {
      nm[k] = m[k].mul(0.9).add(g[k].mul(0.1));
      nv[k] = v[k].mul(0.999).add(g[k].square().mul(0.001));
      next[k] = p[k].sub(nm[k].div(c1).mul(lr).div(nv[k].div(c2).sqrt().add(1e-8)));
    }
    return { value, p: next, m: nm, v: nv };
  });
  let p = init();
  // Two separate zero states: one shared object would be a tie, which is part of the signature.
  let m: Params = { w1: zeros([2, 16]), b1: zeros([16]), w2: zeros([16, 1]), b2: zeros([1]) };
  let v: Params = { w1: zeros([2, 16]), b1: zeros([16]), w2: zeros([16, 1]), b2: zeros([1]) };
  let first = NaN;
  let last = NaN;
  const growth = heapGrowth(2000, (i) => {
    const r = adamStep(p, m, v, 0.01 * 0.5 ** (i / 1000), i + 1);
    p = r.p;
    m = r.m;
    v = r.v;
    last = r.value.item();
    if (Number.isNaN(first)) first = last;
  });
  expect(last).toBeLessThan(first);
  expect(adamStep.stats).toEqual({ traces: 1, compilations: 1, signatures: 1 });
  expect(growth).toBeLessThan(2 * 1024 * 1024);
});

test("2,000 compiled steps with Adam.update in place keep the heap flat and never retrace", () => {
  const p = init();
  const opt = new Adam(p, { learningRate: cosineDecay({ initialValue: 0.01, decaySteps: 4000 }) });
  const step = compile((q: Params) => {
    const { value, gradient: g } = valueWithGradient(q, loss);
    opt.update(q, g);
    return value;
  });
  let first = NaN;
  let last = NaN;
  const growth = heapGrowth(2000, () => {
    last = step(p).item();
    if (Number.isNaN(first)) first = last;
  });
  expect(last).toBeLessThan(first);
  expect(opt.step).toBe(2200);
  expect(step.stats).toEqual({ traces: 1, compilations: 1, signatures: 1 });
  expect(growth).toBeLessThan(2 * 1024 * 1024);
});

test("2,000 gradients of a compiled function build its derivative programs once and keep the heap flat", () => {
  const f = compile(loss);
  const p = init();
  const growth = heapGrowth(2000, () => {
    gradient(p, (q) => f(q));
  });
  expect(f.stats.traces).toBe(1);
  expect(growth).toBeLessThan(2 * 1024 * 1024);
});
