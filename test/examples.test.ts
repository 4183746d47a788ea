/** Every example runs here, briefly, so none of them rots. */
import { expect, test } from "vitest";
import { main as fitLine } from "../examples/fit-line.js";
import { main as customModel } from "../examples/custom-model.js";
import { main as sgdByHand } from "../examples/sgd-by-hand.js";
import { main as iris } from "../examples/iris.js";
import { main as sequence } from "../examples/sequence.js";
import { main as demo } from "../examples/demo.js";
import { spirals, makeModel as makeSpiralModel, train as trainSpirals, decisionGrid } from "../examples/browser/spirals.js";

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
test("browser page: the spiral classifier learns (the same code, run in Node)", async () => {
  const data = spirals();
  const model = makeSpiralModel();
  const reports: number[] = [];
  const last = await trainSpirals(model, data, { steps: 200, chunk: 50, onProgress: (_m, p) => void reports.push(p.step) });
  expect(reports).toEqual([50, 100, 150, 200]);
  expect(last.losses[0]).toBeGreaterThan(0.9);
  expect(last.losses.at(-1)).toBeLessThan(0.1);
  expect(last.accuracy).toBeGreaterThanOrEqual(0.95);
  expect(decisionGrid(model, 8)).toHaveLength(64);
});
