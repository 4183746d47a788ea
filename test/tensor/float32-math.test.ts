/**
 * The scalar float32 exp, log, tanh and sigmoid against the WebAssembly SIMD kernels they mirror: identical
 * bits over a sweep of every float32 sign and exponent, all denormal classes, the special values and the
 * edges of each range reduction (NaN counts as equal to NaN: payloads are not specified). Then the eager
 * ops: the same bits whatever the tensor's size (scalar loop or wasm kernel) and the thread count.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exp, getThreadCount, log, randomNormal, setThreadCount, sigmoid, tanh, tensor, type Tensor } from "../../src/index.js";
import { setWasmElementwiseEnabled, wasmUnary, WASM_MIN, WASM_MIN_HEAVY } from "../../src/tensor/wasm/elementwise.js";
import { workersReady } from "../../src/tensor/wasm/threads.js";
import { wasmSimdSupported } from "../../src/tensor/wasm/gemm.js";
import { expF32, logF32, sigmoidF32, tanhF32 } from "../../src/tensor/cpu/float32-math.js";

const scalar = { exp: expF32, log: logF32, tanh: tanhF32, sigmoid: sigmoidF32 };

/** The float32 values `count` ulps either side of `v` (v included), both signs. */
function around(v: number, count: number): number[] {
  const f = new Float32Array([v]);
  const b = new Int32Array(f.buffer);
  const base = b[0]!;
  const out: number[] = [];
  for (let d = -count; d <= count; d++) {
    b[0] = base + d;
    out.push(f[0]!, -f[0]!);
  }
  return out;
}

function inputs(): Float32Array {
  const stride = 1021; // about 4.2 million patterns, every sign and exponent
  const n = Math.floor(2 ** 32 / stride);
  const extra: number[] = [
    0, -0, Infinity, -Infinity, NaN, -NaN, 1, -1, 2, 0.5,
    ...around(1.401298464324817e-45, 8), // smallest denormals
    ...around(1.1754942106924411e-38, 8), // largest denormal, smallest normal
    ...around(3.4028234663852886e38, 8), // largest finite
    ...around(89, 8), ...around(-104, 8), // exp's clamp
    ...around(88.72283935546875, 8), ...around(-87.33654022216797, 8), ...around(-103.27893, 8), ...around(-103.97208, 8),
    ...around(0.625, 8), ...around(1e-7, 4), ...around(9.010913, 4),
    ...around(Math.SQRT1_2, 8), ...around(Math.SQRT2, 8), // log's mantissa split at 0x3f3504f3
  ];
  // exp's reduction steps where x·log2(e) crosses a half-integer (n changes): k + 0.5 for every n in range
  for (let k = -151; k <= 129; k++) extra.push(...around((k + 0.5) * Math.LN2, 3));
  // log near every power of two and its √2 split
  for (let e = -149; e <= 127; e++) extra.push(...around(2 ** e, 2), ...around(2 ** e * Math.SQRT2, 2));
  const bits = new Uint32Array(n + 2 * 4096 + extra.length);
  for (let i = 0; i < n; i++) bits[i] = i * stride;
  // denormals of both signs, densely
  for (let i = 0; i < 4096; i++) {
    bits[n + i] = i * 2048 + 1;
    bits[n + 4096 + i] = (0x80000000 | (i * 2048 + 3)) >>> 0;
  }
  const x = new Float32Array(bits.buffer);
  x.set(extra, n + 2 * 4096);
  return x;
}

describe.skipIf(!wasmSimdSupported())("scalar float32 exp, log, tanh, sigmoid", () => {
  const x = inputs();
  for (const op of ["exp", "log", "tanh", "sigmoid"] as const) {
    it(`${op} gives the wasm kernel's bits for every input`, () => {
      const wasm = new Float32Array(x.length);
      expect(wasmUnary(op, x, wasm)).toBe(true);
      const mine = new Float32Array(x.length);
      const f = scalar[op];
      for (let i = 0; i < x.length; i++) mine[i] = f(x[i]!);
      const a = new Uint32Array(wasm.buffer), b = new Uint32Array(mine.buffer);
      const differing: string[] = [];
      for (let i = 0; i < x.length; i++) {
        if (a[i] === b[i] || (wasm[i] !== wasm[i] && mine[i] !== mine[i])) continue;
        differing.push(`${op}(${x[i]}): wasm ${wasm[i]}, scalar ${mine[i]}`);
      }
      expect(differing.slice(0, 5), `${differing.length} of ${x.length} differ`).toEqual([]);
    });
  }
});

/** Raw bits with every NaN made one pattern (NaN payloads are not specified, everything else is). */
function bitsOf(t: Tensor): number[] {
  const v = t.dataSync() as Float32Array;
  const b = new Uint32Array(v.buffer, v.byteOffset, v.length);
  return Array.from(b, (w, i) => (v[i] !== v[i] ? 0x7fc00000 : w));
}

describe("eager float32 exp, log, tanh, sigmoid do not depend on size or thread count", () => {
  const ops = { exp, log, tanh, sigmoid };
  let initial = 1;
  beforeAll(() => {
    initial = getThreadCount();
  });
  afterAll(() => {
    setThreadCount(initial);
  });
  // Values over the whole useful range of each op, with the special values first (so every size sees them).
  const big = 100_000;
  const values = randomNormal([big], { seed: 41 }).mul(30).dataSync() as Float32Array;
  values.set([0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 1e-38, 89, -104, 0.625, -0.625]);

  for (const name of ["exp", "log", "tanh", "sigmoid"] as const) {
    it(`${name} at sizes 10 to 100,000, at 1 and 2 threads and without wasm, gives the same bits`, async () => {
      const f = scalar[name];
      const expected = Array.from(values, (v) => f(v));
      const want = bitsOf(tensor(new Float32Array(expected)));
      const check = (n: number, how: string): void => {
        const got = bitsOf(ops[name](tensor(values.slice(0, n))));
        expect(got.length).toBe(n);
        let first = -1;
        for (let i = 0; i < n && first < 0; i++) if (got[i] !== want[i]) first = i;
        expect(first, `${name} at size ${n}, ${how}: element ${first} (${values[first]})`).toBe(-1);
      };
      const sizes = [10, WASM_MIN_HEAVY - 1, WASM_MIN_HEAVY, WASM_MIN - 1, WASM_MIN, big];
      for (const threads of [1, 2]) {
        setThreadCount(threads);
        await workersReady();
        for (const n of sizes) check(n, `${threads} threads`);
      }
      setWasmElementwiseEnabled(false);
      try {
        for (const n of sizes) check(n, "wasm off");
      } finally {
        setWasmElementwiseEnabled(true);
      }
    });
  }

  it("float64 keeps the Math functions", () => {
    const x = tensor([0.3, -2, 7.5], { dtype: "float64" });
    expect(Array.from(exp(x).dataSync())).toEqual([Math.exp(0.3), Math.exp(-2), Math.exp(7.5)]);
    expect(Array.from(tanh(x).dataSync())).toEqual([Math.tanh(0.3), Math.tanh(-2), Math.tanh(7.5)]);
  });
});
