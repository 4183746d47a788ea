/**
 * Whole training steps compiled: an MLP and a CNN (convolution, pooling, dense), forward, gradient and an
 * Adam update written with ops, agree with the same step run eagerly, step by step for 20 steps (parameters
 * and optimizer state), with a learning-rate schedule that never retraces.
 */
import { describe, expect, test } from "vitest";
import { compile, tensor, valueWithGradient, randomNormal, randomUniform, oneHot, zeros, conv2d, maxPool2d, Tensor } from "../../src/index.js";

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
