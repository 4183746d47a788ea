/**
 * The fused optimizer step (a rule, the learning rate and θ + u in one pass per float32 parameter) gives the
 * bits of the chain run stage by stage: for Adam and NAdam, on awkward values, at lengths around the
 * kernels' thresholds and segment boundaries, with the SIMD kernel on and off, at 1, 2 and 3 threads; with
 * NaN and ±Infinity applied (`checkFinite: false`), rejected (nothing changes) or skipped; with everything
 * that changes which stages apply (masks, decay, clipping, freezing, tied parameters, several partial
 * gradients, missing gradients, float64 parameters, schedules); and inside `compile`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  Adam, AdamW, NAdam, Optimizer, SGD, chain, compile, constantSchedule, getThreadCount, masked, randomNormal, scale, scaleByAdam,
  scaleByLearningRate, setThreadCount, tensor, Tensor, addDecayedWeights, trace, type OptimizerState,
} from "../../src/index.js";
import { setFusedStepsEnabled } from "../../src/optimizers/fused.js";
import { setWasmOptimizerEnabled } from "../../src/tensor/wasm/optimizer.js";
import { workersReady } from "../../src/tensor/wasm/threads.js";
import { awkwardFloat32 } from "../helpers/awkward.js";

let initialThreads = 1;
beforeAll(() => {
  initialThreads = getThreadCount();
});
afterEach(() => {
  setFusedStepsEnabled(true);
  setWasmOptimizerEnabled(true);
});
afterAll(() => {
  setThreadCount(initialThreads);
});

const made = new Map<string, Float32Array>();
/**
 * Deterministic float32 values of every kind: normal, tiny, denormal, huge, zeros of both signs; and NaN, ±∞
 * when asked. Made once per (n, seed, specials) and shared: tensors never change their storage, and a test
 * below checks that the fused step never writes the gradient.
 */
function awkward(n: number, seed: number, specials: boolean): Float32Array {
  const key = `${n} ${seed} ${specials}`;
  let values = made.get(key);
  if (values === undefined) made.set(key, (values = awkwardFloat32(n, seed, specials)));
  return values;
}

/** Lengths around the kernels' threshold (256), segment (2¹⁴, 2¹⁷), thread split (2¹⁵, 2¹⁸) and SIMD (2, 16) boundaries. */
const LENGTHS = [1, 2, 7, 17, 255, 256, 257, 1000, (1 << 14) - 1, 1 << 14, (1 << 14) + 3, (1 << 15) - 1, (1 << 15) + 1, (1 << 17) + 5, (1 << 18) + 3];

type Flat = Record<string, Tensor>;

/** A model of one float32 parameter per length, with awkward finite values. */
function model(seed: number): Flat {
  const m: Flat = {};
  LENGTHS.forEach((n, k) => (m[`p${k}`] = new Tensor([n], "float32", awkward(n, seed + k, false))));
  return m;
}

/** A gradient for {@link model}. */
function gradientOf(m: Flat, seed: number, specials: boolean): Flat {
  const g: Flat = {};
  for (const [k, t] of Object.entries(m)) g[k] = new Tensor(t.shape, t.dtype, awkward(t.size, seed + t.size, specials));
  return g;
}

/**
 * The bits of every parameter and every slot, as one string per array (its words in base64, which is fast to
 * build and to compare). A NaN reads as one canonical NaN whatever its sign and payload: NaN + NaN of two signs
 * keeps one operand's, and which one the TypeScript loop keeps depends on how V8 compiled it at the time (the
 * reference itself varies from run to run); every other value compares bit for bit.
 */
function fingerprint(m: Flat | Record<string, unknown>, state: OptimizerState<unknown>): string[] {
  const out: string[] = [];
  const add = (label: string, t: unknown): void => {
    if (!(t instanceof Tensor)) return;
    const d = t.dataSync();
    const words = new Uint32Array(d.byteLength / 4);
    words.set(new Uint32Array(d.buffer, d.byteOffset, d.byteLength / 4));
    // float32: one word per element; float64: two.
    const per = d instanceof Float64Array ? 2 : 1;
    for (let i = 0; i < d.length; i++) {
      if (d[i] !== d[i]) for (let k = 0; k < per; k++) words[i * per + k] = 0x7fc00000;
    }
    out.push(`${label}: ${Buffer.from(words.buffer).toString("base64")}`);
  };
  const walk = (label: string, x: unknown): void => {
    if (x instanceof Tensor) add(label, x);
    else if (Array.isArray(x)) x.forEach((y, i) => walk(`${label}.${i}`, y));
    else if (typeof x === "object" && x !== null) for (const [k, y] of Object.entries(x)) walk(`${label}.${k}`, y);
  };
  walk("model", m);
  walk("slots", state.slots);
  out.push(`steps ${state.step} skipped ${state.skippedSteps} ${JSON.stringify(state.parameterSteps)}`);
  return out;
}

/** The first array where two fingerprints differ and the first word there ("none" when equal). */
function firstDifference(a: string[], b: string[]): string {
  const words = (line: string): Uint32Array => {
    const bytes = Buffer.from(line.slice(line.indexOf(": ") + 2), "base64");
    return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  };
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    const [x, y] = [a[i] ?? "", b[i] ?? ""];
    if (!x.includes(": ") || !y.includes(": ") || x.startsWith("steps")) return `${x.slice(0, 80)} against ${y.slice(0, 80)}`;
    const [wx, wy] = [words(x), words(y)];
    let j = 0;
    while (j < Math.min(wx.length, wy.length) && wx[j] === wy[j]) j++;
    return `${x.split(":")[0]}, word ${j}: ${wx[j]} against ${wy[j]}`;
  }
  return "none";
}

/** The optimizers with a fused step, by name, with awkward hyperparameters. */
const FUSED: Record<string, <M>(m: M, checkFinite: boolean) => Optimizer<M>> = {
  Adam: (m, checkFinite) => new Adam(m, { learningRate: 0.003, beta1: 0.85, beta2: 0.995, epsilon: 1e-7, checkFinite }),
  NAdam: (m, checkFinite) => new NAdam(m, { learningRate: 0.003, beta1: 0.85, beta2: 0.995, epsilon: 1e-7, checkFinite }),
  "AdamW (decoupled decay folded in)": (m, checkFinite) => new AdamW(m, { learningRate: 0.003, weightDecay: 0.05, epsilon: 1e-6, checkFinite }),
  "SGD": (m, checkFinite) => new SGD(m, { learningRate: 0.3, checkFinite }),
  "SGD with momentum": (m, checkFinite) => new SGD(m, { learningRate: 0.03, momentum: 0.7, checkFinite }),
  "SGD with Nesterov momentum": (m, checkFinite) => new SGD(m, { learningRate: 0.03, momentum: 0.95, nesterov: true, checkFinite }),
};

describe("the fused step gives the bits of the chain run stage by stage", () => {
  for (const [name, make] of Object.entries(FUSED)) {
    for (const specials of [false, true]) {
      it(`${name}${specials ? ", NaN and ±Infinity applied (checkFinite: false)" : ""}: kernel on and off, 1 to 3 threads`, async () => {
        const run = (): string[] => {
          const m = model(1);
          const opt = make(m, !specials);
          for (let s = 0; s < 3; s++) opt.update(m, gradientOf(m, 100 * s, specials));
          return fingerprint(m, opt.state() as OptimizerState<unknown>);
        };
        setFusedStepsEnabled(false);
        setWasmOptimizerEnabled(false);
        setThreadCount(1);
        const reference = run();
        for (const kernel of [true, false]) {
          for (const threads of [1, 2, 3]) {
            setWasmOptimizerEnabled(kernel);
            setThreadCount(threads);
            await workersReady();
            setFusedStepsEnabled(true);
            expect(`kernel ${kernel}, ${threads} threads: ${firstDifference(run(), reference)}`).toBe(`kernel ${kernel}, ${threads} threads: none`);
            // The generic path with the kernel agrees too (the reference ran without it).
            setFusedStepsEnabled(false);
            expect(`generic, kernel ${kernel}, ${threads} threads: ${firstDifference(run(), reference)}`).toBe(`generic, kernel ${kernel}, ${threads} threads: none`);
          }
        }
        // It trained: the parameters moved.
        expect(reference[LENGTHS.length - 1]).not.toBe(fingerprint(model(1), new Adam(model(1)).state() as OptimizerState<unknown>)[LENGTHS.length - 1]);
      });
    }
  }

  it("reads the gradient in place and never writes it", () => {
    const m = model(2);
    const g = gradientOf(m, 7, false);
    const before = Object.values(g).map((t) => Array.from(t.dataSync()));
    new Adam(m).update(m, g);
    expect(Object.values(g).map((t) => Array.from(t.dataSync()))).toEqual(before);
  });
});

describe("a non-finite gradient with the fused step", () => {
  const big = (1 << 16) + 3; // over one scan segment
  for (const at of [0, 5, 16, big - 1, 1 << 16]) {
    it(`is rejected naming the path and the flat index ${at}, and nothing changes`, () => {
      const m = { w: randomNormal([big], { seed: 1 }), small: randomNormal([3], { seed: 2 }) };
      const opt = new Adam(m);
      opt.update(m, { w: randomNormal([big], { seed: 3 }), small: randomNormal([3], { seed: 4 }) });
      const before = fingerprint(m, opt.state() as OptimizerState<unknown>);
      const w = m.w;
      const bad = randomNormal([big], { seed: 5 }).dataSync().slice();
      bad[at] = at % 2 === 0 ? Number.NaN : -Infinity;
      expect(() => opt.update(m, { w: tensor(bad), small: randomNormal([3], { seed: 6 }) })).toThrow(
        new RegExp(`Adam\\.update: the gradient at w holds ${at % 2 === 0 ? "NaN" : "-Infinity"} \\(flat index ${at}\\); nothing was changed`),
      );
      expect(m.w).toBe(w);
      expect(fingerprint(m, opt.state() as OptimizerState<unknown>)).toEqual(before);
    });
  }

  it("with the kernels off, is found at the same index", () => {
    setWasmOptimizerEnabled(false);
    const m = { w: randomNormal([1000], { seed: 1 }) };
    const bad = randomNormal([1000], { seed: 5 }).dataSync().slice();
    bad[998] = Infinity;
    expect(() => new Adam(m).update(m, { w: tensor(bad) })).toThrow(/the gradient at w holds Infinity \(flat index 998\)/);
  });

  it("is skipped with skipNonFinite (counted, nothing changed), and training goes on as if it never came", () => {
    const run = (withBadStep: boolean): { fp: string[]; skipped: number } => {
      const m = { w: randomNormal([40_001], { seed: 1 }), b: randomNormal([300], { seed: 2 }) };
      const opt = new Adam(m, { skipNonFinite: true });
      for (let s = 0; s < 4; s++) {
        if (withBadStep && s === 2) {
          const bad = randomNormal([300], { seed: 9 }).dataSync().slice();
          bad[299] = Number.NaN;
          const w = m.w;
          opt.update(m, { w: randomNormal([40_001], { seed: 8 }), b: tensor(bad) });
          expect(m.w).toBe(w);
        }
        opt.update(m, { w: randomNormal([40_001], { seed: 10 + s }), b: randomNormal([300], { seed: 20 + s }) });
      }
      const st = opt.state() as OptimizerState<unknown>;
      return { fp: fingerprint(m, { ...st, skippedSteps: 0 }), skipped: st.skippedSteps };
    };
    const clean = run(false), skipped = run(true);
    expect(skipped.skipped).toBe(1);
    expect(clean.skipped).toBe(0);
    expect(firstDifference(skipped.fp, clean.fp)).toBe("none");
  });
});

describe("whatever changes which stages apply, the fused path and the generic one agree bit for bit", () => {
  interface Tied {
    a: Tensor;
    b: Tensor;
    again: Tensor;
    d: Tensor;
    norm: Tensor;
  }
  const make = (): Tied => {
    const a = randomNormal([70, 40], { seed: 1 });
    return { a, b: randomNormal([300], { seed: 2 }), again: a, d: randomNormal([20, 30], { seed: 3, dtype: "float64" }), norm: randomNormal([5], { seed: 4 }) };
  };
  const grad = (s: number, missing: boolean): Tied => ({
    a: randomNormal([70, 40], { seed: 10 + s }),
    b: randomNormal([300], { seed: 20 + s }),
    // A second partial derivative of the tied parameter (reached at `again`).
    again: randomNormal([70, 40], { seed: 30 + s }),
    d: randomNormal([20, 30], { seed: 40 + s, dtype: "float64" }),
    norm: (missing ? null : randomNormal([5], { seed: 50 + s })) as Tensor,
  });
  const cases: [string, (m: Tied) => Optimizer<Tied>][] = [
    ["Adam", (m) => new Adam(m, { learningRate: 0.01 })],
    ["NAdam with a schedule", (m) => new NAdam(m, { learningRate: constantSchedule(0.02) })],
    ["Adam with an L2 penalty (the rule is not the first stage)", (m) => new Adam(m, { weightDecay: 0.1 })],
    ["AdamW sparing the norm (decay between the rule and the rate for the others)", (m) => new AdamW(m, { excludeFromWeightDecay: "norm" })],
    ["AdamW with a decay schedule that reaches 0", (m) => new Optimizer(m, chain(scaleByAdam(), addDecayedWeights((t) => (t < 2 ? 0.1 : 0)), scaleByLearningRate(0.01)))],
    ["SGD with momentum and decoupled decay (not fused: generic)", (m) => new Optimizer(m, chain(trace({ momentum: 0.9 }), addDecayedWeights(0.1), scaleByLearningRate(0.01)))],
    ["Adam with global-norm and value clipping", (m) => new Adam(m, { clipGlobalNorm: 1, clipValue: 0.5, decay: 0.01 })],
    ["Adam with b frozen", (m) => new Adam(m, { freeze: "b" })],
    ["Adam and a fixed scale", (m) => new Optimizer(m, chain(scaleByAdam({ nesterov: true }), scale(-1e-3)))],
    ["Adam masked to some parameters (plain descent for the others)", (m) => new Optimizer(m, chain(masked(scaleByAdam(), "b"), scaleByLearningRate(0.1)))],
    ["SGD with momentum, an L2 penalty and clipping", (m) => new SGD(m, { momentum: 0.9, weightDecay: 0.01, clipGlobalNorm: 2, excludeFromWeightDecay: "b" })],
    ["SGD with b frozen and a decaying rate", (m) => new SGD(m, { learningRate: 0.1, decay: 0.5, freeze: "b" })],
  ];
  for (const [name, opt] of cases) {
    it(name, () => {
      const run = (fused: boolean): string[] => {
        setFusedStepsEnabled(fused);
        const m = make();
        const o = opt(m);
        for (let s = 0; s < 4; s++) o.update(m, grad(s, s === 1));
        expect(m.a).toBe(m.again);
        return fingerprint(m as unknown as Flat, o.state() as OptimizerState<unknown>);
      };
      const generic = run(false), fused = run(true);
      expect(firstDifference(fused, generic)).toBe("none");
      expect(generic[0]).not.toBe(fingerprint(make() as unknown as Flat, new Adam(make()).state() as OptimizerState<unknown>)[0]);
    });
  }
});

describe("inside compile", () => {
  interface Net {
    w: Tensor;
    b: Tensor;
    d: Tensor;
  }
  const make = (): Net => ({ w: randomNormal([300, 70], { seed: 1 }), b: randomNormal([70], { seed: 2 }), d: randomNormal([20, 30], { seed: 3, dtype: "float64" }) });
  const grad = (s: number): Net => ({
    w: randomNormal([300, 70], { seed: 10 + s }).mul(10 ** (s - 2)),
    b: randomNormal([70], { seed: 20 + s }),
    d: randomNormal([20, 30], { seed: 30 + s, dtype: "float64" }),
  });
  const primitive: Record<string, string> = { Adam: "adamStep", NAdam: "adamStep", "AdamW (decoupled decay folded in)": "adamStep", SGD: "scaledAdd", "SGD with momentum": "momentumStep", "SGD with Nesterov momentum": "momentumStep" };
  for (const [name, opt] of Object.entries(FUSED)) {
    it(`${name}: the compiled step calls the fused step (${primitive[name]}) and gives the eager bits at 1 and 2 threads`, async () => {
      const eager = (): string[] => {
        const m = make();
        const o = opt(m, true);
        for (let s = 0; s < 5; s++) o.update(m, grad(s));
        return fingerprint(m as unknown as Flat, o.state() as OptimizerState<unknown>);
      };
      setFusedStepsEnabled(false);
      const reference = eager();
      setFusedStepsEnabled(true);
      for (const fused of [true, false]) {
        for (const threads of [1, 2]) {
          setThreadCount(threads);
          await workersReady();
          setFusedStepsEnabled(fused);
          const m = make();
          const o = opt(m, true);
          const step = compile((net: Net, g: Net) => void o.update(net, g));
          for (let s = 0; s < 5; s++) step(m, grad(s));
          expect(step.stats.traces).toBe(1);
          const printed = step.inspect(m, grad(0)).optimized;
          expect(printed.includes(`= ${primitive[name]!} `)).toBe(fused);
          expect(`fused ${fused}, ${threads} threads: ${firstDifference(fingerprint(m as unknown as Flat, o.state() as OptimizerState<unknown>), reference)}`).toBe(
            `fused ${fused}, ${threads} threads: none`,
          );
        }
      }
      setThreadCount(initialThreads);
    });
  }

  it("the interpreter (no generated code) runs the same fused step, with the same bits", () => {
    const run = (generateCode: boolean | null): string[] => {
      const m = make();
      const o = new AdamW(m, { weightDecay: 0.1 });
      if (generateCode === null) for (let s = 0; s < 4; s++) o.update(m, grad(s));
      else {
        const step = compile((net: Net, g: Net) => void o.update(net, g), { generateCode });
        for (let s = 0; s < 4; s++) step(m, grad(s));
        expect(step.inspect(m, grad(0)).optimized).toContain("= adamStep ");
      }
      return fingerprint(m as unknown as Flat, o.state() as OptimizerState<unknown>);
    };
    const eager = run(null);
    expect(firstDifference(run(false), eager)).toBe("none");
    expect(firstDifference(run(true), eager)).toBe("none");
  });

  it("a non-finite gradient throws before the fused step commits anything", () => {
    const m = make();
    const o = new Adam(m);
    const step = compile((net: Net, g: Net) => void o.update(net, g));
    step(m, grad(0));
    const before = fingerprint(m as unknown as Flat, o.state() as OptimizerState<unknown>);
    const bad = grad(1);
    const w = bad.w.dataSync().slice();
    w[12_345] = Number.NaN;
    expect(() => step(m, { ...bad, w: new Tensor([300, 70], "float32", w) })).toThrow(/the gradient at w holds NaN or ±Infinity \(found by the compiled step\); nothing was changed/);
    expect(fingerprint(m as unknown as Flat, o.state() as OptimizerState<unknown>)).toEqual(before);
  });
});
