import { describe, expect, it } from "vitest";
import {
  RandomKey,
  randomNormal,
  randomUniform,
  setGlobalSeed,
  splitSeed,
  threefry2x32,
  truncatedNormal,
} from "../../src/tensor/random.js";
import type { Tensor } from "../../src/tensor/tensor.js";

// ---------------------------------------------------------------------------------------------------
// An independent reference of Threefry-2x32-20, written from the paper's definition with BigInt
// arithmetic modulo 2^32 (a loop over rounds, a rotation table, key injection every four rounds).

const M = 0xffffffffn;
const ROT = [13, 15, 26, 6, 17, 29, 16, 24];

function refThreefry(k0: number, k1: number, c0: number, c1: number): [number, number] {
  const ks = [BigInt(k0), BigInt(k1), 0x1bd11bdan ^ BigInt(k0) ^ BigInt(k1)];
  let x0 = (BigInt(c0) + ks[0]!) & M;
  let x1 = (BigInt(c1) + ks[1]!) & M;
  for (let r = 0; r < 20; r++) {
    const rot = BigInt(ROT[r % 8]!);
    x0 = (x0 + x1) & M;
    x1 = ((x1 << rot) | (x1 >> (32n - rot))) & M;
    x1 ^= x0;
    if (r % 4 === 3) {
      const s = BigInt(r + 1) / 4n;
      x0 = (x0 + ks[Number(s % 3n)]!) & M;
      x1 = (x1 + ks[Number((s + 1n) % 3n)]! + s) & M;
    }
  }
  return [Number(x0), Number(x1)];
}

/** The uniform in [0, 1) of block (c0, c1): 27 bits of the first word over 26 of the second. */
function refUniform(k0: number, k1: number, c0: number, c1: number): number {
  const [w0, w1] = refThreefry(k0, k1, c0, c1);
  return ((w0 >>> 5) * 2 ** 26 + (w1 >>> 6)) / 2 ** 53;
}

function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

function moments(v: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  const mean = s / v.length;
  for (let i = 0; i < v.length; i++) s2 += (v[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(s2 / v.length) };
}

describe("Threefry-2x32-20", () => {
  // Random123's known-answer vectors (kat_vectors), the same as JAX's tests use.
  const kat: [[number, number], [number, number], [number, number]][] = [
    [[0, 0], [0, 0], [0x6b200159, 0x99ba4efe]],
    [[0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x1cb996fc, 0xbb002be7]],
    [[0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3], [0xc4923a9c, 0x483df7a0]],
  ];
  it.each(kat)("key %j counter %j gives the published answer", (key, counter, want) => {
    expect(threefry2x32(key, counter)).toEqual(want);
    expect(refThreefry(key[0], key[1], counter[0], counter[1])).toEqual(want);
  });

  it("agrees with the reference on arbitrary blocks", () => {
    for (let i = 0; i < 200; i++) {
      const k0 = (i * 2654435761) >>> 0;
      const k1 = (i * 40503 + 17) >>> 0;
      expect(threefry2x32([k0, k1], [i, i * 3])).toEqual(refThreefry(k0, k1, i, i * 3));
    }
  });
});

describe("randomUniform", () => {
  it("is the definition, bit for bit: element i from block [i, 0] of the seed's key", () => {
    const seed = 42; // key words [42, 0]
    const got = values(randomUniform([7], { seed, dtype: "float64" }));
    const want = Array.from({ length: 7 }, (_, i) => refUniform(42, 0, i, 0));
    expect(got).toEqual(want);
    // pinned from the definition (as computed by the reference above, on any machine)
    expect(got.slice(0, 3)).toEqual([0.8690483965743594, 0.1506324111875399, 0.5203206621592672]);
    const scaled = values(randomUniform([7], { seed, dtype: "float64", min: -3, max: 5 }));
    expect(scaled).toEqual(want.map((u) => -3 + 8 * u));
  });

  it("maps a seed to its two 32-bit key words (negative seeds in two's complement)", () => {
    const big = 2 ** 40 + 5;
    const got = values(randomUniform([3], { seed: big, dtype: "float64" }));
    expect(got).toEqual([0, 1, 2].map((i) => refUniform(5, 2 ** 8, i, 0)));
    const neg = values(randomUniform([2], { seed: -1, dtype: "float64" }));
    expect(neg).toEqual([0, 1].map((i) => refUniform(0xffffffff, 0xffffffff, i, 0)));
  });

  it("gives identical bits for the same seed and different ones otherwise", () => {
    const a = randomUniform([50], { seed: 3 });
    const b = randomUniform([50], { seed: 3 });
    expect(values(a)).toEqual(values(b));
    expect(values(randomUniform([50], { seed: 4 }))).not.toEqual(values(a));
  });

  it("float32 is the rounding of float64, and smaller tensors are prefixes", () => {
    const f64 = values(randomUniform([2, 5], { seed: 9, dtype: "float64" }));
    const f32 = values(randomUniform([2, 5], { seed: 9 }));
    expect(f32).toEqual(f64.map(Math.fround));
    expect(values(randomUniform([4], { seed: 9, dtype: "float64" }))).toEqual(f64.slice(0, 4));
  });

  it("stays in [min, max) with the right mean and spread", () => {
    const v = randomUniform([20000], { seed: 1, min: -2, max: 6 })._values;
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...v)).toBeLessThan(6);
    const m = moments(v);
    expect(m.mean).toBeCloseTo(2, 1);
    expect(m.std).toBeCloseTo(8 / Math.sqrt(12), 1);
  });

  it("draws int32 values in [min, max), each value about equally often", () => {
    const t = randomUniform([6000], { seed: 5, min: -1, max: 2, dtype: "int32" });
    expect(t.dtype).toBe("int32");
    const counts = new Map<number, number>();
    for (const x of t._values) counts.set(x, (counts.get(x) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([-1, 0, 1]);
    for (const c of counts.values()) expect(Math.abs(c - 2000)).toBeLessThan(200);
  });

  it("never returns max for float32 even when rounding would reach it", () => {
    // A narrow range just below 1 (16 float32 values): many float64 samples round up to 1 in float32.
    const max = 1;
    const min = 1 - 2 ** -20;
    const v = randomUniform([2000], { seed: 11, min, max })._values;
    expect(Math.max(...v)).toBeLessThan(max);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(min);
    expect(v).toContain(1 - 2 ** -24);
  });

  it("handles empty shapes and rejects bad options", () => {
    expect(randomUniform([0, 3], { seed: 1 }).shape).toEqual([0, 3]);
    expect(() => randomUniform([2], { min: 1, max: 1 })).toThrow("randomUniform: max (1) must be greater than min (1)");
    expect(() => randomUniform([2], { max: NaN })).toThrow("max must be a finite number");
    expect(() => randomUniform([2], { seed: 1.5 })).toThrow("the seed must be a safe integer or a RandomKey");
    expect(() => randomUniform([2], { dtype: "int32", max: 2.5 })).toThrow("int32 samples need integer bounds");
    expect(() => randomUniform([-1])).toThrow("invalid shape");
  });
});

describe("randomNormal", () => {
  it("is Box–Muller over the definition's uniforms (to rounding of log/cos/sin)", () => {
    const n = 9;
    const got = values(randomNormal([n], { seed: 42, dtype: "float64", mean: 1, stddev: 2 }));
    for (let j = 0; 2 * j < n; j++) {
      const u1 = refUniform(42, 0, 2 * j, 1);
      const u2 = refUniform(42, 0, 2 * j + 1, 1);
      const r = Math.sqrt(-2 * Math.log(1 - u1));
      const z = [r * Math.cos(2 * Math.PI * u2), r * Math.sin(2 * Math.PI * u2)];
      for (let k = 0; k < 2 && 2 * j + k < n; k++) {
        expect(Math.abs(got[2 * j + k]! - (1 + 2 * z[k]!))).toBeLessThan(1e-13);
      }
    }
  });

  it("is bit-for-bit pinned (its log, sin and cos use only correctly rounded arithmetic)", () => {
    // Regression pins: these bits must be the same on every machine and engine.
    expect(values(randomNormal([5], { seed: 42, dtype: "float64" }))).toEqual([
      -0.645438503756835, -2.0531423764733843, 1.9884975011562607, -1.0715186163482713, 1.4706977866522974,
    ]);
    expect(values(randomNormal([5], { seed: 42 }))).toEqual(
      [-0.645438503756835, -2.0531423764733843, 1.9884975011562607, -1.0715186163482713, 1.4706977866522974].map(Math.fround),
    );
  });

  it("matches the engine's Math functions closely over many samples", () => {
    const got = randomNormal([4000], { seed: 3, dtype: "float64" })._values;
    let worst = 0;
    for (let j = 0; j < 2000; j++) {
      const r = Math.sqrt(-2 * Math.log(1 - refUniform(3, 0, 2 * j, 1)));
      const a = 2 * Math.PI * refUniform(3, 0, 2 * j + 1, 1);
      worst = Math.max(worst, Math.abs(got[2 * j]! - r * Math.cos(a)), Math.abs(got[2 * j + 1]! - r * Math.sin(a)));
    }
    expect(worst).toBeLessThan(1e-14);
  });

  it("has the requested mean and standard deviation", () => {
    const m = moments(randomNormal([40000], { seed: 1, mean: 3, stddev: 0.5 })._values);
    expect(Math.abs(m.mean - 3)).toBeLessThan(0.02);
    expect(Math.abs(m.std - 0.5)).toBeLessThan(0.01);
  });

  it("rejects int32 and negative deviations", () => {
    expect(() => randomNormal([2], { dtype: "int32" })).toThrow("randomNormal: normal samples need a float dtype");
    expect(() => randomNormal([2], { stddev: -1 })).toThrow("stddev must be non-negative, got -1");
  });
});

describe("truncatedNormal", () => {
  it("stays within two standard deviations, with the truncated distribution's spread", () => {
    const v = truncatedNormal([40000], { seed: 8, mean: -1, stddev: 0.25, dtype: "float64" })._values;
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-1.5);
    expect(Math.max(...v)).toBeLessThanOrEqual(-0.5);
    const m = moments(v);
    expect(Math.abs(m.mean + 1)).toBeLessThan(0.01);
    // the standard deviation of N(0, 1) truncated to [-2, 2] is 0.8796
    expect(Math.abs(m.std - 0.25 * 0.8796)).toBeLessThan(0.005);
  });

  it("is reproducible and pinned", () => {
    const a = values(truncatedNormal([5], { seed: 42, dtype: "float64" }));
    expect(a).toEqual(values(truncatedNormal([5], { seed: 42, dtype: "float64" })));
    expect(a).toEqual([0.35785978388590345, 0.6345146018733986, 0.10360674021331408, -0.21581159375741704, 0.17590889107964744]);
  });
});

describe("keys and seeds", () => {
  it("splits a key into independent keys, deterministically", () => {
    const [a, b] = RandomKey.of(42).split();
    expect([a!.k0, a!.k1]).toEqual(refThreefry(42, 0, 0, 0xffffffff));
    expect([b!.k0, b!.k1]).toEqual(refThreefry(42, 0, 1, 0xffffffff));
    const x = values(randomNormal([8], { seed: a }));
    expect(x).not.toEqual(values(randomNormal([8], { seed: b })));
    expect(x).toEqual(values(randomNormal([8], { seed: RandomKey.of(42).split()[0] })));
    expect(RandomKey.of(42).foldIn(3).toString()).toMatch(/^RandomKey\(0x[0-9a-f]{8}, 0x[0-9a-f]{8}\)$/);
    expect(() => RandomKey.of(0.5)).toThrow("the seed must be a safe integer");
  });

  it("splitSeed derives distinct safe integer seeds", () => {
    const seeds = splitSeed(7, 5);
    expect(seeds).toEqual(splitSeed(7, 5));
    expect(new Set(seeds).size).toBe(5);
    for (const s of seeds) expect(Number.isSafeInteger(s) && s >= 0).toBe(true);
    const [w0, w1] = refThreefry(7, 0, 0, 0xffffffff);
    expect(seeds[0]).toBe((w1 & 0x1fffff) * 2 ** 32 + w0);
  });

  it("unseeded calls differ from each other and replay after setGlobalSeed", () => {
    setGlobalSeed(123);
    const a = values(randomUniform([4]));
    const b = values(randomUniform([4]));
    expect(a).not.toEqual(b);
    setGlobalSeed(123);
    expect(values(randomUniform([4]))).toEqual(a);
    expect(values(randomUniform([4]))).toEqual(b);
  });
});
