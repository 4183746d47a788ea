/** Initializers: shapes, dtypes, seeds, the variance each paper prescribes, orthogonality. */
import { describe, expect, test } from "vitest";
import {
  RandomKey,
  constantInitializer,
  glorotNormal,
  glorotUniform,
  heNormal,
  heUniform,
  leCunNormal,
  leCunUniform,
  onesInitializer,
  orthogonal,
  randomNormalInitializer,
  randomUniformInitializer,
  truncatedNormalInitializer,
  zerosInitializer,
  type Initializer,
} from "../../src/index.js";

function variance(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m += values[i]!;
  m /= values.length;
  let v = 0;
  for (let i = 0; i < values.length; i++) v += (values[i]! - m) ** 2;
  return v / values.length;
}

// Shape [fanIn, fanOut] = [200, 300] and a conv filter [3, 3, 20, 30] (fanIn 180, fanOut 270).
const scaled: [string, () => Initializer, (fanIn: number, fanOut: number) => number][] = [
  ["glorotUniform", glorotUniform, (i, o) => 2 / (i + o)],
  ["glorotNormal", glorotNormal, (i, o) => 2 / (i + o)],
  ["heUniform", heUniform, (i) => 2 / i],
  ["heNormal", heNormal, (i) => 2 / i],
  ["leCunUniform", leCunUniform, (i) => 1 / i],
  ["leCunNormal", leCunNormal, (i) => 1 / i],
];

describe.each(scaled)("%s", (_name, make, expectedVariance) => {
  test("has the paper's variance for matrices and convolution filters", () => {
    for (const [shape, fanIn, fanOut] of [[[200, 300], 200, 300], [[3, 3, 20, 30], 180, 270]] as const) {
      const t = make()(shape, { seed: 1 });
      expect(t.shape).toEqual(shape);
      expect(t.dtype).toBe("float32");
      const v = variance(t.dataSync());
      expect(v / expectedVariance(fanIn, fanOut)).toBeGreaterThan(0.93);
      expect(v / expectedVariance(fanIn, fanOut)).toBeLessThan(1.07);
    }
  });
  test("is reproducible from a seed or a key, and float64 on request", () => {
    const a = make()([4, 5], { seed: 3 }).dataSync();
    const b = make()([4, 5], { seed: RandomKey.of(3) }).dataSync();
    const c = make()([4, 5], { seed: 4 }).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(make()([4, 5], { seed: 3, dtype: "float64" }).dtype).toBe("float64");
  });
});

test("constant initializers", () => {
  expect(zerosInitializer()([2]).toArray()).toEqual([0, 0]);
  expect(onesInitializer()([2], { dtype: "float64" }).toArray()).toEqual([1, 1]);
  expect(constantInitializer(0.5)([1, 2]).toArray()).toEqual([[0.5, 0.5]]);
});

test("random initializers respect their bounds", () => {
  const u = randomUniformInitializer({ min: -0.1, max: 0.1 })([1000], { seed: 0 });
  expect(u.max().item()).toBeLessThan(0.1);
  expect(u.min().item()).toBeGreaterThanOrEqual(-0.1);
  const t = truncatedNormalInitializer({ stddev: 0.1 })([1000], { seed: 0 });
  expect(t.abs().max().item()).toBeLessThanOrEqual(0.2 + 1e-7);
  const n = randomNormalInitializer({ mean: 1, stddev: 0.01 })([1000], { seed: 0 });
  expect(n.mean().item()).toBeCloseTo(1, 2);
});

describe("orthogonal", () => {
  test.each([[[6, 6]], [[8, 3]], [[3, 8]], [[2, 3, 4]]] as const)("shape %j has orthonormal rows or columns", (shape) => {
    const gain = 1.5;
    const q = orthogonal({ gain })(shape, { seed: 7, dtype: "float64" });
    expect(q.shape).toEqual(shape);
    const m = q.reshape([-1, shape[shape.length - 1]!]);
    const [rows, cols] = m.shape as [number, number];
    const gram = rows >= cols ? m.transpose().matmul(m) : m.matmul(m.transpose());
    const n = Math.min(rows, cols);
    const g = gram.toArray() as number[][];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(g[i]![j]).toBeCloseTo(i === j ? gain * gain : 0, 10);
  });
  test("is reproducible and rejects vectors", () => {
    expect(Array.from(orthogonal()([4, 4], { seed: 1 }).dataSync())).toEqual(Array.from(orthogonal()([4, 4], { seed: 1 }).dataSync()));
    expect(() => orthogonal()([4])).toThrow(/rank at least 2/);
  });
});
