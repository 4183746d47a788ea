/**
 * One table over every named optimizer: the same checks for each row (state finite and tangent-shaped,
 * the model keeps its structure, shapes and dtypes, convergence on a quadratic bowl and on Rosenbrock's
 * function within a step budget). A new optimizer is one row.
 */
import { describe, expect, it } from "vitest";
import {
  Tensor,
  tensor,
  gradient,
  differentiable,
  cosineDecay,
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
  type Optimizer,
  type Schedule,
} from "../../src/index.js";

/** A model whose loss is a quadratic bowl ½ Σ k ⊙ (θ − c)², curvatures 1 to 4. */
class Bowl {
  @differentiable a = tensor([2, -1, 0.5, 3]);
  @differentiable b = tensor([[-2, 1], [1.5, -0.5]]);
}
const kA = tensor([1, 2, 3, 4]);
const cA = tensor([0.5, 0.25, -1, 1]);
const kB = tensor([[4, 1], [2, 3]]);
const cB = tensor([[1, -1], [0, 0.5]]);
const bowlLoss = (m: Bowl): Tensor =>
  m.a.sub(cA).square().mul(kA).sum().add(m.b.sub(cB).square().mul(kB).sum()).mul(0.5);

/** Rosenbrock's function (1 − x)² + 100 (y − x²)², from the classic start (−1.2, 1); minimum at (1, 1). */
function rosenbrockGradient(p: Float64Array): Tensor {
  const x = p[0]!;
  const y = p[1]!;
  return tensor([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)], { dtype: "float64" });
}

interface Row {
  name: string;
  /** Builds the optimizer for a problem with a budget of `steps` steps. */
  make: <M>(model: M, problem: "bowl" | "rosenbrock", steps: number) => Optimizer<M>;
}
const cos = (peak: number, steps: number): Schedule => cosineDecay({ initialValue: peak, decaySteps: steps });

const rows: Row[] = [
  { name: "SGD", make: (m, p) => new SGD(m, { learningRate: p === "bowl" ? 0.2 : 1e-3, momentum: p === "bowl" ? 0 : 0.9 }) },
  { name: "SGD Nesterov", make: (m, p) => new SGD(m, { learningRate: p === "bowl" ? 0.1 : 1e-3, momentum: 0.9, nesterov: true }) },
  { name: "Adam", make: (m, p, n) => new Adam(m, { learningRate: cos(p === "bowl" ? 0.1 : 0.02, n) }) },
  { name: "AdamW", make: (m, p, n) => new AdamW(m, { learningRate: cos(p === "bowl" ? 0.1 : 0.02, n), weightDecay: 0 }) },
  { name: "NAdam", make: (m, p, n) => new NAdam(m, { learningRate: cos(p === "bowl" ? 0.1 : 0.02, n) }) },
  { name: "AMSGrad", make: (m, p, n) => new AMSGrad(m, { learningRate: cos(p === "bowl" ? 0.1 : 0.02, n) }) },
  { name: "AdaMax", make: (m, p, n) => new AdaMax(m, { learningRate: cos(p === "bowl" ? 0.1 : 0.02, n) }) },
  { name: "RAdam", make: (m, p, n) => new RAdam(m, { learningRate: cos(p === "bowl" ? 0.1 : 3e-3, n) }) },
  { name: "RMSProp", make: (m, p, n) => new RMSProp(m, { learningRate: cos(p === "bowl" ? 0.05 : 0.01, n) }) },
  { name: "RMSProp centered, momentum", make: (m, p, n) => new RMSProp(m, { learningRate: cos(p === "bowl" ? 0.01 : 0.002, n), centered: true, momentum: 0.9 }) },
  { name: "AdaGrad", make: (m) => new AdaGrad(m, { learningRate: 0.5 }) },
  { name: "AdaDelta", make: (m, p, n) => new AdaDelta(m, { learningRate: cos(1, n), epsilon: p === "bowl" ? 1e-3 : 1e-6 }) },
  { name: "Lion", make: (m, p, n) => new Lion(m, { learningRate: cos(p === "bowl" ? 0.05 : 0.01, n) }) },
];

function expectFiniteTangentState(opt: Optimizer<Bowl>, model: Bowl): void {
  const state = opt.state();
  for (const [slot, value] of Object.entries(state.slots)) {
    const v = value;
    expect(Object.keys(v), slot).toEqual(["a", "b"]);
    expect(v.a.shape).toEqual(model.a.shape);
    expect(v.b.shape).toEqual(model.b.shape);
    for (const t of [v.a, v.b]) expect(Array.from(t.dataSync()).every(Number.isFinite), slot).toBe(true);
  }
}

describe("every optimizer, one table", () => {
  it.each(rows)("$name: quadratic bowl (class model, float32, autodiff gradients)", (row) => {
    const steps = 1500;
    const model = new Bowl();
    const before = { a: model.a, b: model.b };
    const opt = row.make(model, "bowl", steps);
    for (let i = 0; i < steps; i++) opt.update(model, gradient(model, bowlLoss));
    // The model keeps its structure, shapes and dtypes; the parameters are new tensors.
    expect(model).toBeInstanceOf(Bowl);
    expect(model.a.shape).toEqual([4]);
    expect(model.b.shape).toEqual([2, 2]);
    expect(model.a.dtype).toBe("float32");
    expect(model.a).not.toBe(before.a);
    expectFiniteTangentState(opt, model);
    const err = Math.max(
      ...Array.from(model.a.sub(cA).abs().dataSync()),
      ...Array.from(model.b.sub(cB).abs().dataSync()),
    );
    expect(err, `${row.name}: distance to the minimum after ${steps} steps`).toBeLessThan(1e-2);
  });

  it.each(rows)("$name: Rosenbrock (array model, float64)", (row) => {
    const steps = 20000;
    const model = [tensor([-1.2, 1], { dtype: "float64" })];
    const opt = row.make(model, "rosenbrock", steps);
    for (let i = 0; i < steps; i++) opt.update(model, [rosenbrockGradient(model[0]!.dataSync() as Float64Array)]);
    const [x, y] = Array.from(model[0]!.dataSync());
    expect(Math.hypot(x! - 1, y! - 1), `${row.name}: distance to (1, 1) after ${steps} steps`).toBeLessThan(1e-2);
  });
});
