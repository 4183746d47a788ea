/**
 * No dispose, no tidy: once a pullback has run or become unreachable, what it held is garbage. 10,000
 * gradient calls on a small MLP must leave the heap where it was.
 */
import { expect, test } from "vitest";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { valueWithGradient, randomNormal, Tensor } from "../../src/index.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

test("10,000 valueWithGradient calls keep the heap flat", () => {
  const params = {
    w1: randomNormal([4, 16], { seed: 1 }), b1: randomNormal([16], { seed: 2 }),
    w2: randomNormal([16, 1], { seed: 3 }), b2: randomNormal([1], { seed: 4 }),
  };
  const x = randomNormal([8, 4], { seed: 5 });
  const loss = (p: typeof params): Tensor => x.matmul(p.w1).add(p.b1).tanh().matmul(p.w2).add(p.b2).square().mean();
  const step = (): void => {
    valueWithGradient(params, loss);
  };
  for (let i = 0; i < 500; i++) step(); // warm up code and caches
  gc();
  const before = process.memoryUsage().heapUsed;
  let last = 0;
  for (let i = 0; i < 10_000; i++) {
    const { value } = valueWithGradient(params, loss);
    last = value.item();
  }
  gc();
  const growth = process.memoryUsage().heapUsed - before;
  expect(Number.isFinite(last)).toBe(true);
  // One call allocates ~40 KB of tensors and tape; 10,000 retained calls would be ~400 MB.
  expect(growth).toBeLessThan(2 * 1024 * 1024);
});
