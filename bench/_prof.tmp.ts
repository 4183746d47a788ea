import { Adam, Dense, differentiable, randomNormal, relu, setThreadCount } from "../src/index.js";
class MLP {
  @differentiable l0 = new Dense({ inputSize: 784, outputSize: 256, activation: relu, seed: 1 });
  @differentiable l1 = new Dense({ inputSize: 256, outputSize: 128, activation: relu, seed: 2 });
  @differentiable l2 = new Dense({ inputSize: 128, outputSize: 10, seed: 3 });
}
setThreadCount(1);
const m = new MLP();
const g = { l0: { weight: randomNormal([784, 256], { seed: 5 }), bias: randomNormal([256], { seed: 6 }) }, l1: { weight: randomNormal([256, 128], { seed: 7 }), bias: randomNormal([128], { seed: 8 }) }, l2: { weight: randomNormal([128, 10], { seed: 9 }), bias: randomNormal([10], { seed: 10 }) } };
const opt = new Adam(m);
const t0 = performance.now();
for (let i = 0; i < 2000; i++) opt.update(m, g as never);
console.log((performance.now() - t0) / 2000);
