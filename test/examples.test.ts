/** Every example runs here, briefly, so none of them rots. */
import { expect, test } from "vitest";
import { main as fitLine } from "../examples/fit-line.js";
import { main as customModel } from "../examples/custom-model.js";
import { main as sgdByHand } from "../examples/sgd-by-hand.js";
import { main as iris } from "../examples/iris.js";
import { main as sequence } from "../examples/sequence.js";
import { main as demo } from "../examples/demo.js";

test("fit-line learns w = 3, b = 1", () => {
  const [w, b] = fitLine(200, false);
  expect(w).toBeCloseTo(3, 2);
  expect(b).toBeCloseTo(1, 2);
});
test("custom-model separates two blobs", () => {
  expect(customModel(60, false)).toBeLessThan(0.05);
});
test("sgd-by-hand fits a sine", () => {
  expect(sgdByHand(300, false)).toBeLessThan(0.02);
});
test("iris reaches 90% on held-out flowers", () => {
  expect(iris(150, false)).toBeGreaterThanOrEqual(0.9);
});
test("sequence: the LSTM forecasts a sine", () => {
  expect(sequence(120, false)).toBeLessThan(0.01);
});
test("demo: a short MNIST run learns, saves and reloads identically", async () => {
  const r = await demo({ epochs: 1, stepsPerEpoch: 60, progress: false });
  expect(r.testAccuracy).toBeGreaterThan(0.7);
  expect(r.restoredAccuracy).toBe(r.testAccuracy);
}, 120_000);
