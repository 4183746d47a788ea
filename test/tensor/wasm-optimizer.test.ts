/**
 * The optimizers' SIMD kernel: Adam's (and NAdam's) per-parameter arithmetic on float32 arrays gives the
 * TypeScript loop's bits exactly, for awkward values (zeros, denormals, huge and tiny gradients, NaN and
 * ±Infinity when finiteness checks are off), odd lengths, lengths across segment boundaries, and at 1, 2
 * and 3 threads; and a whole training run gives the same parameters and state with the kernel on and off.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Adam, NAdam, getThreadCount, randomNormal, scaleByAdam, setThreadCount, tensor, type Tensor } from "../../src/index.js";
import { setWasmOptimizerEnabled, wasmFirstNonFinite, WASM_ADAM_MIN } from "../../src/tensor/wasm/optimizer.js";
import { firstNonFinite32 } from "../../src/optimizers/parameters.js";
import { wasmKernels } from "../../src/tensor/wasm/module.js";
import { workersReady } from "../../src/tensor/wasm/threads.js";
import type { ParameterInfo } from "../../src/optimizers/transform.js";
import { awkwardFloat32 } from "../helpers/awkward.js";

let initial = 1;
beforeAll(() => {
  initial = getThreadCount();
});
afterAll(() => {
  setThreadCount(initial);
  setWasmOptimizerEnabled(true);
});

/** One step of `rule` from moments m, v and gradient g (copies); returns the bits of m, v and the direction. */
function step(nesterov: boolean, t: number, m: Float32Array, v: Float32Array, g: Float32Array): Uint32Array[] {
  const rule = scaleByAdam({ nesterov, beta1: 0.85, beta2: 0.995, epsilon: 1e-7 });
  const info: ParameterInfo = { path: "p", paths: ["p"], shape: [g.length], dtype: "float32", size: g.length };
  const state = { firstMoments: m.slice(), secondMoments: v.slice() };
  const [u, next] = rule.apply(state, { info, value: new Float32Array(g.length) }, g.slice(), { step: t, hyper: undefined });
  return [next.firstMoments!, next.secondMoments!, u].map((a) => new Uint32Array(a.slice().buffer));
}

function firstDifference(x: Uint32Array[], y: Uint32Array[]): string {
  for (let r = 0; r < x.length; r++) {
    for (let i = 0; i < x[r]!.length; i++) if (x[r]![i] !== y[r]![i]) return `array ${r}, element ${i}: bits ${x[r]![i]} against ${y[r]![i]}`;
  }
  return "none";
}

describe.skipIf(wasmKernels() === null)("Adam's SIMD kernel", () => {
  const lengths = [WASM_ADAM_MIN, WASM_ADAM_MIN + 1, 1000, 1 << 14, (1 << 14) + 3, 40_001, (1 << 17) + 5];
  for (const nesterov of [false, true]) {
    for (const specials of [false, true]) {
      it(`gives the TypeScript loop's bits${nesterov ? " (NAdam)" : ""}${specials ? " with NaN and ±Infinity" : ""}, at 1, 2 and 3 threads`, async () => {
        for (const n of lengths) {
          // Moments: m any sign, v a sum of squares (non-negative); t small (large corrections) and large.
          const m = awkwardFloat32(n, n, false), g = awkwardFloat32(n, n + 1, specials);
          const v = awkwardFloat32(n, n + 2, false).map(Math.abs);
          for (const t of [1, 3, 1000]) {
            setWasmOptimizerEnabled(false);
            const reference = step(nesterov, t, m, v, g);
            setWasmOptimizerEnabled(true);
            for (const threads of [1, 2, 3]) {
              setThreadCount(threads);
              await workersReady();
              expect(`n ${n}, t ${t}, ${threads} threads: ${firstDifference(step(nesterov, t, m, v, g), reference)}`).toBe(`n ${n}, t ${t}, ${threads} threads: none`);
            }
          }
        }
      });
    }
  }

  it("gives the same parameters and state over a training run (Adam and NAdam, float32 and float64 leaves)", () => {
    const run = (kernel: boolean, make: (model: { w: Tensor; b: Tensor; d: Tensor }) => Adam<{ w: Tensor; b: Tensor; d: Tensor }> | NAdam<{ w: Tensor; b: Tensor; d: Tensor }>): number[][] => {
      setWasmOptimizerEnabled(kernel);
      const model = { w: randomNormal([300, 70], { seed: 1 }), b: randomNormal([70], { seed: 2 }), d: randomNormal([20, 30], { seed: 3, dtype: "float64" }) };
      const opt = make(model);
      for (let s = 0; s < 5; s++) {
        const g = { w: randomNormal([300, 70], { seed: 10 + s }), b: randomNormal([70], { seed: 20 + s }), d: randomNormal([20, 30], { seed: 30 + s, dtype: "float64" }) };
        opt.update(model, g);
      }
      const st = opt.state();
      const slots = st.slots as unknown as Record<string, { w: Tensor }>;
      return [model.w, model.b, model.d, slots.firstMoments!.w, slots.secondMoments!.w].map((t) => Array.from(t.dataSync()));
    };
    for (const make of [(m: { w: Tensor; b: Tensor; d: Tensor }) => new Adam(m, { learningRate: 0.01 }), (m: { w: Tensor; b: Tensor; d: Tensor }) => new NAdam(m)]) {
      const on = run(true, make), off = run(false, make);
      expect(on).toEqual(off);
      expect(on[0]).not.toEqual(Array.from(randomNormal([300, 70], { seed: 1 }).dataSync())); // it trained
    }
    setWasmOptimizerEnabled(true);
    expect(tensor([1]).size).toBe(1);
  });
});

describe.skipIf(wasmKernels() === null)("the SIMD finiteness scan", () => {
  it("finds the first NaN or ±Infinity at every position near its blocks and segments, and nothing in finite values", () => {
    // Finite extremes: the largest float32, denormals, zeros of both signs.
    const finite = [3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -1e-45, 0, -0, 1];
    const lengths = [WASM_ADAM_MIN, WASM_ADAM_MIN + 15, 1000, (1 << 16) - 1, (1 << 16) + 17];
    for (const n of lengths) {
      const a = new Float32Array(n).map((_, i) => finite[i % finite.length]!);
      expect(wasmFirstNonFinite(a)).toBe(-1);
      const positions = [0, 1, 15, 16, 17, 31, 32, n - 17, n - 16, n - 1, (1 << 16) - 1, 1 << 16].filter((i) => i >= 0 && i < n);
      for (const at of positions) {
        for (const bad of [Number.NaN, Infinity, -Infinity]) {
          const b = a.slice();
          b[at] = bad;
          if (at + 3 < n) b[at + 3] = Number.NaN; // a later one is not reported
          expect(`${n} ${at} ${bad}: ${wasmFirstNonFinite(b)}`).toBe(`${n} ${at} ${bad}: ${at}`);
          setWasmOptimizerEnabled(false);
          expect(`TypeScript ${n} ${at} ${bad}: ${firstNonFinite32(b)}`).toBe(`TypeScript ${n} ${at} ${bad}: ${at}`);
          setWasmOptimizerEnabled(true);
        }
      }
    }
    // Below the threshold the TypeScript scan runs.
    expect(wasmFirstNonFinite(new Float32Array(WASM_ADAM_MIN - 1))).toBeUndefined();
    expect(firstNonFinite32(Float32Array.of(1, 2, Number.NaN))).toBe(2);
  });
});
