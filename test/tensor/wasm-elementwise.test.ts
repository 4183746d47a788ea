/**
 * The float32 WebAssembly SIMD elementwise and reduction kernels against exact references: the polynomial
 * exp, log, tanh and sigmoid in float32 ulps over a sweep of bit patterns (every sign, exponent and the
 * denormals) plus the special values; exact IEEE ops bit for bit against the TypeScript kernels; sums
 * against float64.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  add, div, equal, exp, gradient, greater, lessEqual, log, max, maximum, maxPool2d, min, minimum, mul, notEqual, sigmoid, sub, sum, tanh, tensor, where,
  type Tensor,
} from "../../src/index.js";
import { setWasmElementwiseEnabled, wasmUnary, WASM_MIN } from "../../src/tensor/wasm/elementwise.js";
import { step } from "../../src/ops/unary.js";
import { wasmSimdSupported } from "../../src/tensor/wasm/gemm.js";
import { rng } from "../helpers/rows.js";

afterEach(() => {
  setWasmElementwiseEnabled(true);
});

/** The first element whose bits differ ("none" when the arrays are identical). */
function firstDifference(x: ArrayLike<number> & { buffer: ArrayBufferLike }, y: ArrayLike<number> & { buffer: ArrayBufferLike }): string {
  const a = new Uint32Array(x.buffer), b = new Uint32Array(y.buffer);
  if (a.length !== b.length) return `length ${a.length} against ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `element ${i}: ${x[i]} against ${y[i]}`;
  return "none";
}

/** Float32 bits as an integer ordered like the values (so ulp distance is a difference). */
const ordered = (i: number): number => (i >= 0 ? i : -(i & 0x7fffffff));

const references: Record<"exp" | "log" | "tanh" | "sigmoid", (x: number) => number> = {
  exp: Math.exp,
  log: Math.log,
  tanh: Math.tanh,
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
};
/** Largest error measured over every 61st float32 bit pattern (70 million inputs); the sweep here is coarser. */
const maxUlp = { exp: 1, log: 1, tanh: 1, sigmoid: 2 };

const specials = [
  0, -0, Infinity, -Infinity, NaN, 1, -1, 1.401298464324817e-45, -1.401298464324817e-45, 1.1754942106924411e-38,
  1.1754943508222875e-38, 3.4028234663852886e38, -3.4028234663852886e38, 88.72283172607422, 88.72284, 89, -87.33654,
  -103.27893, -103.97208, -104, -1e-30, 1e-30, 0.625, -0.625, 0.6249999, 9.010913, 20, -20, 1e-7, -1e-7,
];

function inputs(): Float32Array {
  const stride = 8209;
  const n = Math.floor(2 ** 32 / stride);
  const bits = new Uint32Array(n + specials.length + 4096);
  for (let i = 0; i < n; i++) bits[i] = i * stride;
  // every 2048th denormal of both signs, densely
  for (let i = 0; i < 2048; i++) {
    bits[n + i] = i * 4096 + 1;
    bits[n + 2048 + i] = (0x80000000 | (i * 4096 + 1)) >>> 0;
  }
  const x = new Float32Array(bits.buffer);
  x.set(specials, n + 4096);
  return x;
}

describe.skipIf(!wasmSimdSupported())("wasm float32 elementwise kernels", () => {
  for (const op of ["exp", "log", "tanh", "sigmoid"] as const) {
    it(`${op} is within ${maxUlp[op]} ulp of the correctly rounded result over the whole float32 range`, () => {
      const x = inputs();
      const out = new Float32Array(x.length);
      expect(wasmUnary(op, x, out)).toBe(true);
      const got = new Int32Array(out.buffer);
      const want = new Float32Array(1);
      const wantBits = new Int32Array(want.buffer);
      let worst = 0;
      const wrongKind: number[] = []; // NaN for a number, or a non-finite / zero result that is not exact
      for (let i = 0; i < x.length; i++) {
        want[0] = references[op](x[i]!);
        const w = want[0], g = out[i]!;
        if (Number.isNaN(w) || Number.isNaN(g)) {
          if (Number.isNaN(w) !== Number.isNaN(g)) wrongKind.push(x[i]!);
          continue;
        }
        if (w === g) continue;
        if (!Number.isFinite(g) || g === 0 || !Number.isFinite(w) || w === 0) wrongKind.push(x[i]!);
        else worst = Math.max(worst, Math.abs(ordered(wantBits[0]!) - ordered(got[i]!)));
      }
      expect(wrongKind).toEqual([]);
      expect(worst).toBeLessThanOrEqual(maxUlp[op]);
    });
  }

  it("handles the special values exactly", () => {
    const pad = new Float32Array(WASM_MIN).fill(1);
    const run = (f: (t: Tensor) => Tensor, v: number[]): number[] => {
      const x = new Float32Array(WASM_MIN);
      x.set(pad);
      x.set(v);
      return Array.from(f(tensor(x)).dataSync().subarray(0, v.length));
    };
    expect(run(exp, [-Infinity, Infinity, NaN, 0, -0, 89, -104, -1e-30])).toEqual([0, Infinity, NaN, 1, 1, Infinity, 0, 1]);
    expect(run(log, [0, -0, -1, Infinity, NaN, 1, -Infinity])).toEqual([-Infinity, -Infinity, NaN, Infinity, NaN, 0, NaN]);
    expect(run(tanh, [Infinity, -Infinity, NaN, 0, -0, 20, -20])).toEqual([1, -1, NaN, 0, -0, 1, -1]);
    expect(run(sigmoid, [Infinity, -Infinity, NaN, 0, -200])).toEqual([1, 0, NaN, 0.5, 0]);
    expect(Object.is(run(tanh, [-0])[0], -0)).toBe(true);
  });

  /** Random float32 values with some NaN, ±Infinity, ±0 and denormals mixed in. */
  function data(n: number, seed: number): Float32Array {
    const r = rng(seed);
    const odd = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-41];
    return Float32Array.from({ length: n }, () => (r() < 0.02 ? odd[Math.floor(r() * odd.length)]! : (r() - 0.5) * 8));
  }

  const binaries = { add, sub, mul, div, maximum, minimum, equal, notEqual, greater, lessEqual };
  const shapes: [number[], number[]][] = [
    [[3000], [3000]],
    [[70, 33], [70, 33]],
    [[3001], []],
    [[], [2999]],
    [[40, 64], [64]],
    [[64], [40, 64]],
    [[40, 64], [40, 1]],
    [[5, 8, 64], [5, 8, 1]],
    [[2, 40, 64], [64]],
    [[70001], [70001]],
  ];
  for (const [name, f] of Object.entries(binaries)) {
    it(`${name} is bit-identical to the TypeScript kernel, with broadcasting`, () => {
      for (const [sa, sb] of shapes) {
        const a = tensor(data(sa.reduce((p, d) => p * d, 1), 1), { shape: sa });
        const b = tensor(data(sb.reduce((p, d) => p * d, 1), 2), { shape: sb });
        const fast = f(a, b).dataSync();
        setWasmElementwiseEnabled(false);
        const slow = f(a, b).dataSync();
        setWasmElementwiseEnabled(true);
        expect(firstDifference(fast, slow)).toBe("none");
      }
    });
  }

  it("neg, abs, sqrt, relu and step are bit-identical to the TypeScript kernels", () => {
    const x = tensor(data(5003, 13));
    for (const f of [(t: Tensor) => t.neg(), (t: Tensor) => t.abs(), (t: Tensor) => t.sqrt(), (t: Tensor) => t.relu(), step]) {
      const fast = f(x).dataSync();
      setWasmElementwiseEnabled(false);
      const slow = f(x).dataSync();
      setWasmElementwiseEnabled(true);
      expect(firstDifference(fast, slow)).toBe("none");
    }
  });

  it("where is bit-identical to the TypeScript kernel", () => {
    const a = tensor(data(5000, 3)), b = tensor(data(5000, 4));
    const c = greater(a, b);
    const fast = where(c, a, b).dataSync();
    setWasmElementwiseEnabled(false);
    const slow = where(c, a, b).dataSync();
    expect(firstDifference(fast, slow)).toBe("none");
  });

  it("sums in float64 (to float32 rounding of the exact sum), along any contiguous axes", () => {
    const r = rng(5);
    const v = Float32Array.from({ length: 300 * 700 }, () => (r() - 0.5) * 1e3);
    const x = tensor(v, { shape: [300, 700] });
    const exact = (i0: number, n: number, step: number): number => {
      let s = 0;
      for (let i = 0; i < n; i++) s += v[i0 + i * step]!;
      return Math.fround(s);
    };
    const all = sum(x).item();
    expect(Math.abs(all - exact(0, v.length, 1))).toBeLessThanOrEqual(Math.abs(all) * 1.2e-7);
    const rows = sum(x, 1).dataSync();
    for (let i = 0; i < 300; i++) expect(Math.abs(rows[i]! - exact(i * 700, 700, 1))).toBeLessThanOrEqual(1e-7 * Math.abs(rows[i]!) + 1e-30);
    const cols = sum(x, 0).dataSync();
    for (let j = 0; j < 700; j++) expect(cols[j]).toBe(exact(j, 300, 700)); // sequential, as the TS kernel
    const big = tensor(Float32Array.from({ length: 100_000 }, () => (r() - 0.5))).sum().item();
    expect(Number.isFinite(big)).toBe(true);
  });

  it("sums along rows in their documented order (four lanes, fixed blocks) across copy segments, any row length", () => {
    // The order written out in float64: lane l adds the elements i ≡ l (mod 4) in order, the lanes are
    // combined as (l0 + l2) + (l1 + l3), the tail is added after; rows longer than 2^14 do this per block of
    // 2^14 and add the blocks in order. Inputs cross the 2^16-element copy segments in both layouts.
    const laneSum = (v: Float32Array, from: number, to: number): number => {
      const l = [0, 0, 0, 0];
      let i = from;
      for (; i + 4 <= to; i += 4) for (let k = 0; k < 4; k++) l[k] = l[k]! + v[i + k]!;
      let s = (l[0]! + l[2]!) + (l[1]! + l[3]!);
      for (; i < to; i++) s += v[i]!;
      return s;
    };
    const rowSum = (v: Float32Array, from: number, len: number): number => {
      if (len <= 1 << 14) return laneSum(v, from, from + len);
      let s = 0;
      for (let b = 0; b < len; b += 1 << 14) s += laneSum(v, from + b, from + Math.min(len, b + (1 << 14)));
      return s;
    };
    const r = rng(8);
    for (const [rows, len] of [[1, 1_000_003], [3, 200_001], [5_000, 101], [700, 1_000], [2, 16_385]] as const) {
      const v = Float32Array.from({ length: rows * len }, () => (r() - 0.5) * 1e3);
      const got = rows === 1 ? Float32Array.of(sum(tensor(v)).item()) : sum(tensor(v, { shape: [rows, len] }), 1).dataSync();
      const want = Float32Array.from({ length: rows }, (_, i) => rowSum(v, i * len, len));
      expect(`[${rows}, ${len}]: ${firstDifference(got, want)}`).toBe(`[${rows}, ${len}]: none`);
      // max and min give the TypeScript kernel's bits, with a NaN in the last row
      v[(rows - 1) * len + Math.floor(len / 2)] = NaN;
      const x = tensor(v, { shape: [rows, len] });
      const fast = [max(x, 1).dataSync(), min(x, 1).dataSync()];
      setWasmElementwiseEnabled(false);
      const slow = [max(x, 1).dataSync(), min(x, 1).dataSync()];
      setWasmElementwiseEnabled(true);
      expect(firstDifference(fast[0]!, slow[0]!)).toBe("none");
      expect(firstDifference(fast[1]!, slow[1]!)).toBe("none");
      expect(Number.isNaN(fast[0]![rows - 1]!)).toBe(true);
    }
  });

  it("argmax and argmin along any axis match the TypeScript kernel (first on ties, first NaN wins)", () => {
    const r = rng(21);
    // few distinct values, so ties are common; some NaN
    const v = Float32Array.from({ length: 6 * 50 * 37 }, () => (r() < 0.003 ? NaN : Math.floor(r() * 7) - 3));
    const x = tensor(v, { shape: [6, 50, 37] });
    const noNaN = tensor(v.map((t) => (Number.isNaN(t) ? 0 : t)), { shape: [6, 50, 37] });
    for (const t of [x, noNaN]) {
      for (const axis of [0, 1, 2]) {
        const fast = [t.argmax(axis).dataSync(), t.argmin(axis).dataSync()];
        setWasmElementwiseEnabled(false);
        const slow = [t.argmax(axis).dataSync(), t.argmin(axis).dataSync()];
        setWasmElementwiseEnabled(true);
        expect(firstDifference(fast[0]!, slow[0]!)).toBe("none");
        expect(firstDifference(fast[1]!, slow[1]!)).toBe("none");
      }
    }
    const flat = tensor(Float32Array.from({ length: 5001 }, (_, i) => (i === 4321 ? 9 : Math.sin(i))));
    expect(flat.argmax().item()).toBe(4321);
  });

  it("2x2 max pooling picks the TypeScript kernel's window cells bit for bit (ties, NaN, odd sizes)", () => {
    const r = rng(31);
    for (const shape of [[2, 8, 8, 4], [3, 9, 11, 8], [1, 28, 28, 32]]) {
      const count = shape.reduce((p, d) => p * d, 1);
      const v = Float32Array.from({ length: count }, () => (r() < 0.01 ? NaN : Math.floor(r() * 5)));
      const x = tensor(v, { shape });
      const y = maxPool2d(x, { size: 2 });
      const dx = gradient(x, (t) => maxPool2d(t, { size: 2 }).mul(tensor(Float32Array.from({ length: y.size }, (_, i) => i + 1), { shape: [...y.shape] })).sum());
      setWasmElementwiseEnabled(false);
      const y0 = maxPool2d(x, { size: 2 });
      const dx0 = gradient(x, (t) => maxPool2d(t, { size: 2 }).mul(tensor(Float32Array.from({ length: y.size }, (_, i) => i + 1), { shape: [...y.shape] })).sum());
      setWasmElementwiseEnabled(true);
      expect(firstDifference(y.dataSync(), y0.dataSync())).toBe("none");
      expect(firstDifference(dx.dataSync(), dx0.dataSync())).toBe("none");
    }
  });

  it("max and min match the TypeScript kernel, NaN propagating", () => {
    for (const [shape, axes] of [[[4000], undefined], [[50, 90], 1], [[50, 90], 0], [[3, 20000], 1]] as const) {
      const v = data(shape.reduce((p: number, d: number) => p * d, 1), 9).map((t) => (Object.is(t, -0) ? 0 : t));
      const x = tensor(v, { shape: [...shape] });
      const fast = [max(x, axes).dataSync(), min(x, axes).dataSync()];
      setWasmElementwiseEnabled(false);
      const slow = [max(x, axes).dataSync(), min(x, axes).dataSync()];
      setWasmElementwiseEnabled(true);
      expect(fast).toEqual(slow);
    }
    const clean = tensor(Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i)));
    expect(max(clean).item()).toBe(Math.fround(Math.max(...Array.from(clean.dataSync()))));
  });
});
