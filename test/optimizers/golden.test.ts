/**
 * Golden trajectories: each rule runs several steps on a small float64 model, and every parameter is
 * compared with the paper's update written out below in plain float64 arithmetic, one element at a time
 * (a second, independent reading of each paper, not a copy of the library's code).
 */
import { describe, expect, it } from "vitest";
import {
  Tensor,
  tensor,
  differentiable,
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
} from "../../src/index.js";

class Pair {
  @differentiable weight: Tensor;
  @differentiable bias: Tensor;
  constructor(theta: readonly number[], dtype: "float32" | "float64" = "float64") {
    this.weight = tensor(theta.slice(0, 6), { shape: [2, 3], dtype });
    this.bias = tensor(theta.slice(6, 9), { shape: [3], dtype });
  }
}

const θ0 = [0.9, -1.2, 0.3, 2.0, -0.4, 1.1, -0.7, 0.05, 1.6];
/** A non-linear gradient field: g_i = a_i (θ_i − c_i) + 0.3 sin(3 θ_i). */
function gradAt(θ: readonly number[]): number[] {
  return θ.map((x, i) => (1 + (i % 5)) * (x - 0.5 * Math.cos(i)) + 0.3 * Math.sin(3 * x));
}
function gradientOf(θ: readonly number[], dtype: "float32" | "float64" = "float64") {
  const g = gradAt(θ);
  return { weight: tensor(g.slice(0, 6), { shape: [2, 3], dtype }), bias: tensor(g.slice(6, 9), { shape: [3], dtype }) };
}
function paramsOf(m: Pair): number[] {
  return [...m.weight.dataSync(), ...m.bias.dataSync()];
}

/** One step of a reference rule: updates θ in place from g, with per-element state `s` and step t. */
type RefStep = (θ: number[], g: readonly number[], s: Record<string, number[]>, t: number) => void;

interface GoldenRow {
  name: string;
  make: (m: Pair) => Optimizer<Pair>;
  init?: (n: number) => Record<string, number[]>;
  step: RefStep;
  steps?: number;
}

const zeros = (n: number): number[] => new Array<number>(n).fill(0);
const sign = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : 0);

// Hyperparameters differ from the defaults so that a wiring mistake shows.
const lr = 0.05;
const rows: GoldenRow[] = [
  {
    // Plain SGD: θ ← θ − α g.
    name: "SGD",
    make: (m) => new SGD(m, { learningRate: lr }),
    step: (θ, g) => θ.forEach((_, i) => (θ[i] = θ[i]! - lr * g[i]!)),
  },
  {
    // Swift for TensorFlow's momentum: v ← μv − αg; θ ← θ + v.
    name: "SGD momentum (Swift's form)",
    make: (m) => new SGD(m, { learningRate: lr, momentum: 0.8 }),
    init: (n) => ({ v: zeros(n) }),
    step: (θ, g, s) =>
      θ.forEach((_, i) => {
        s.v![i] = 0.8 * s.v![i]! - lr * g[i]!;
        θ[i] = θ[i]! + s.v![i];
      }),
  },
  {
    // Swift's Nesterov: v ← μv − αg; θ ← θ + μv − αg.
    name: "SGD Nesterov (Swift's form)",
    make: (m) => new SGD(m, { learningRate: lr, momentum: 0.8, nesterov: true }),
    init: (n) => ({ v: zeros(n) }),
    step: (θ, g, s) =>
      θ.forEach((_, i) => {
        s.v![i] = 0.8 * s.v![i]! - lr * g[i]!;
        θ[i] = θ[i]! + 0.8 * s.v![i] - lr * g[i]!;
      }),
  },
  {
    // L2 weight decay and Swift's inverse-time decay: α_t = α / (1 + decay·t); g ← g + λθ.
    name: "SGD weightDecay + decay",
    make: (m) => new SGD(m, { learningRate: lr, weightDecay: 0.1, decay: 0.5 }),
    step: (θ, g, _s, t) => θ.forEach((_, i) => (θ[i] = θ[i]! - (lr / (1 + 0.5 * t)) * (g[i]! + 0.1 * θ[i]!))),
  },
  {
    // Kingma & Ba 2015, Algorithm 1.
    name: "Adam",
    make: (m) => new Adam(m, { learningRate: lr, beta1: 0.8, beta2: 0.95, epsilon: 1e-6 }),
    init: (n) => ({ m: zeros(n), v: zeros(n) }),
    step: (θ, g, s, t) =>
      θ.forEach((_, i) => {
        s.m![i] = 0.8 * s.m![i]! + 0.2 * g[i]!;
        s.v![i] = 0.95 * s.v![i]! + 0.05 * g[i]! ** 2;
        const mHat = s.m![i] / (1 - 0.8 ** t);
        const vHat = s.v![i] / (1 - 0.95 ** t);
        θ[i] = θ[i]! - (lr * mHat) / (Math.sqrt(vHat) + 1e-6);
      }),
  },
  {
    // Adam with L2 decay in the gradient.
    name: "Adam weightDecay (L2)",
    make: (m) => new Adam(m, { learningRate: lr, weightDecay: 0.2 }),
    init: (n) => ({ m: zeros(n), v: zeros(n) }),
    step: (θ, g, s, t) =>
      θ.forEach((_, i) => {
        const gi = g[i]! + 0.2 * θ[i]!;
        s.m![i] = 0.9 * s.m![i]! + 0.1 * gi;
        s.v![i] = 0.999 * s.v![i]! + 0.001 * gi ** 2;
        θ[i] = θ[i]! - (lr * (s.m![i] / (1 - 0.9 ** t))) / (Math.sqrt(s.v![i] / (1 - 0.999 ** t)) + 1e-8);
      }),
  },
  {
    // Loshchilov & Hutter 2019: θ ← θ − α (m̂ / (√v̂ + ε) + λθ).
    name: "AdamW",
    make: (m) => new AdamW(m, { learningRate: lr, weightDecay: 0.3 }),
    init: (n) => ({ m: zeros(n), v: zeros(n) }),
    step: (θ, g, s, t) =>
      θ.forEach((_, i) => {
        s.m![i] = 0.9 * s.m![i]! + 0.1 * g[i]!;
        s.v![i] = 0.999 * s.v![i]! + 0.001 * g[i]! ** 2;
        const mHat = s.m![i] / (1 - 0.9 ** t);
        const vHat = s.v![i] / (1 - 0.999 ** t);
        θ[i] = θ[i]! - lr * (mHat / (Math.sqrt(vHat) + 1e-8) + 0.3 * θ[i]!);
      }),
  },
  {
    // Dozat 2016 with constant β1: m̂ = β1 m_t / (1 − β1^{t+1}) + (1 − β1) g / (1 − β1^t).
    name: "NAdam",
    make: (m) => new NAdam(m, { learningRate: lr, beta1: 0.85 }),
    init: (n) => ({ m: zeros(n), v: zeros(n) }),
    step: (θ, g, s, t) =>
      θ.forEach((_, i) => {
        s.m![i] = 0.85 * s.m![i]! + 0.15 * g[i]!;
        s.v![i] = 0.999 * s.v![i]! + 0.001 * g[i]! ** 2;
        const mHat = (0.85 * s.m![i]) / (1 - 0.85 ** (t + 1)) + (0.15 * g[i]!) / (1 - 0.85 ** t);
        const vHat = s.v![i] / (1 - 0.999 ** t);
        θ[i] = θ[i]! - (lr * mHat) / (Math.sqrt(vHat) + 1e-8);
      }),
  },
  {
    // Reddi et al. 2018 with Adam's bias corrections; the maximum over the raw v.
    name: "AMSGrad",
    make: (m) => new AMSGrad(m, { learningRate: lr, beta2: 0.9 }),
    init: (n) => ({ m: zeros(n), v: zeros(n), vMax: zeros(n) }),
    step: (θ, g, s, t) =>
      θ.forEach((_, i) => {
        s.m![i] = 0.9 * s.m![i]! + 0.1 * g[i]!;
        s.v![i] = 0.9 * s.v![i]! + 0.1 * g[i]! ** 2;
        s.vMax![i] = Math.max(s.vMax![i]!, s.v![i]);
        θ[i] = θ[i]! - (lr * (s.m![i] / (1 - 0.9 ** t))) / (Math.sqrt(s.vMax![i] / (1 - 0.9 ** t)) + 1e-8);
      }),
    steps: 12,
  },
  {
    // Kingma & Ba 2015 §7.1: u ← max(β2 u, |g|); θ ← θ − (α / (1 − β1^t)) m / (u + ε).
    name: "AdaMax",
    make: (m) => new AdaMax(m, { learningRate: lr }),
    init: (n) => ({ m: zeros(n), u: zeros(n) }),
    step: (θ, g, s, t) =>
      θ.forEach((_, i) => {
        s.m![i] = 0.9 * s.m![i]! + 0.1 * g[i]!;
        s.u![i] = Math.max(0.999 * s.u![i]!, Math.abs(g[i]!));
        θ[i] = θ[i]! - ((lr / (1 - 0.9 ** t)) * s.m![i]) / (s.u![i] + 1e-8);
      }),
  },
  {
    // Liu et al. 2020, Algorithm 2 (rectified once ρ_t > 5).
    name: "RAdam",
    make: (m) => new RAdam(m, { learningRate: lr, beta2: 0.99 }),
    init: (n) => ({ m: zeros(n), v: zeros(n) }),
    step: (θ, g, s, t) => {
      const ρInf = 2 / (1 - 0.99) - 1;
      const ρt = ρInf - (2 * t * 0.99 ** t) / (1 - 0.99 ** t);
      θ.forEach((_, i) => {
        s.m![i] = 0.9 * s.m![i]! + 0.1 * g[i]!;
        s.v![i] = 0.99 * s.v![i]! + 0.01 * g[i]! ** 2;
        const mHat = s.m![i] / (1 - 0.9 ** t);
        if (ρt > 5) {
          const r = Math.sqrt(((ρt - 4) * (ρt - 2) * ρInf) / ((ρInf - 4) * (ρInf - 2) * ρt));
          const vHat = s.v![i] / (1 - 0.99 ** t);
          θ[i] = θ[i]! - (lr * r * mHat) / (Math.sqrt(vHat) + 1e-8);
        } else {
          θ[i] = θ[i]! - lr * mHat;
        }
      });
    },
    steps: 12, // ρ_t crosses 5 at t = 6 for β2 = 0.99: both branches run
  },
  {
    // Tieleman & Hinton 2012.
    name: "RMSProp",
    make: (m) => new RMSProp(m, { learningRate: lr, rho: 0.8 }),
    init: (n) => ({ v: zeros(n) }),
    step: (θ, g, s) =>
      θ.forEach((_, i) => {
        s.v![i] = 0.8 * s.v![i]! + 0.2 * g[i]! ** 2;
        θ[i] = θ[i]! - (lr * g[i]!) / (Math.sqrt(s.v![i]) + 1e-8);
      }),
  },
  {
    // Graves 2013 (centered) with PyTorch's momentum buffer: b ← μb + g / (√(v − ḡ²) + ε); θ ← θ − αb.
    name: "RMSProp centered + momentum",
    make: (m) => new RMSProp(m, { learningRate: lr, centered: true, momentum: 0.5 }),
    init: (n) => ({ v: zeros(n), gBar: zeros(n), b: zeros(n) }),
    step: (θ, g, s) =>
      θ.forEach((_, i) => {
        s.v![i] = 0.9 * s.v![i]! + 0.1 * g[i]! ** 2;
        s.gBar![i] = 0.9 * s.gBar![i]! + 0.1 * g[i]!;
        s.b![i] = 0.5 * s.b![i]! + g[i]! / (Math.sqrt(s.v![i] - s.gBar![i] ** 2) + 1e-8);
        θ[i] = θ[i]! - lr * s.b![i];
      }),
  },
  {
    // Duchi et al. 2011, G starting at 0.1.
    name: "AdaGrad",
    make: (m) => new AdaGrad(m, { learningRate: lr }),
    init: (n) => ({ G: new Array<number>(n).fill(0.1) }),
    step: (θ, g, s) =>
      θ.forEach((_, i) => {
        s.G![i] = s.G![i]! + g[i]! ** 2;
        θ[i] = θ[i]! - (lr * g[i]!) / (Math.sqrt(s.G![i]) + 1e-8);
      }),
  },
  {
    // Zeiler 2012, Algorithm 1 (α = 1).
    name: "AdaDelta",
    make: (m) => new AdaDelta(m),
    init: (n) => ({ Eg: zeros(n), Ed: zeros(n) }),
    step: (θ, g, s) =>
      θ.forEach((_, i) => {
        s.Eg![i] = 0.95 * s.Eg![i]! + 0.05 * g[i]! ** 2;
        const Δ = -(Math.sqrt(s.Ed![i]! + 1e-6) / Math.sqrt(s.Eg![i] + 1e-6)) * g[i]!;
        s.Ed![i] = 0.95 * s.Ed![i]! + 0.05 * Δ ** 2;
        θ[i] = θ[i]! + Δ;
      }),
  },
  {
    // Chen et al. 2023, Algorithm 2, with decoupled decay.
    name: "Lion",
    make: (m) => new Lion(m, { learningRate: lr, weightDecay: 0.5 }),
    init: (n) => ({ m: zeros(n) }),
    step: (θ, g, s) =>
      θ.forEach((_, i) => {
        const c = 0.9 * s.m![i]! + 0.1 * g[i]!;
        θ[i] = θ[i]! - lr * (sign(c) + 0.5 * θ[i]!);
        s.m![i] = 0.99 * s.m![i]! + 0.01 * g[i]!;
      }),
  },
];

function reference(row: GoldenRow, steps: number): number[][] {
  const θ = θ0.slice();
  const s = row.init?.(θ.length) ?? {};
  const out: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    row.step(θ, gradAt(θ), s, t);
    out.push(θ.slice());
  }
  return out;
}

function expectClose(actual: readonly number[], expected: readonly number[], rtol: number, what: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tol = rtol * Math.max(1, Math.abs(expected[i]!));
    if (!(Math.abs(actual[i]! - expected[i]!) <= tol)) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]} (tolerance ${tol})`);
    }
  }
}

describe("golden trajectories (float64, against the papers' formulas)", () => {
  it.each(rows)("$name", (row) => {
    const steps = row.steps ?? 8;
    const expected = reference(row, steps);
    const model = new Pair(θ0);
    const opt = row.make(model);
    for (let t = 0; t < steps; t++) {
      opt.update(model, gradientOf(paramsOf(model)));
      expectClose(paramsOf(model), expected[t]!, 1e-12, `${row.name} step ${t + 1}`);
    }
    expect(opt.step).toBe(steps);
  });

  it.each(rows)("$name in float32 stays within float32 rounding", (row) => {
    const steps = row.steps ?? 8;
    const expected = reference(row, steps);
    const model = new Pair(θ0, "float32");
    const opt = row.make(model);
    for (let t = 0; t < steps; t++) opt.update(model, gradientOf(paramsOf(model), "float32"));
    expect(model.weight.dtype).toBe("float32");
    expectClose(paramsOf(model), expected[steps - 1]!, row.name === "Lion" ? 1e-4 : 2e-5, row.name);
  });
});
