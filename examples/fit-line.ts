/**
 * The smallest useful program: fits y = 3x + 1 with a model held in a plain object, its gradient, and a
 * hand-written update.
 */
import { tensor, randomUniform, valueWithGradient, type Tensor } from "../src/index.js";

/** Fits the line; returns the learned `[w, b]`. */
export function main(steps = 200, log = true): [number, number] {
  const x = randomUniform([64, 1], { seed: 1, min: -1, max: 1 });
  const y = x.mul(3).add(1);
  const model = { w: tensor([[0]]), b: tensor([0]) };
  const loss = (m: typeof model): Tensor => x.matmul(m.w).add(m.b).sub(y).square().mean();
  for (let step = 0; step <= steps; step++) {
    const { value, gradient } = valueWithGradient(model, loss);
    model.w = model.w.sub(gradient.w.mul(0.5));
    model.b = model.b.sub(gradient.b.mul(0.5));
    if (log && step % 50 === 0) console.log(`step ${step}: loss ${value.item().toFixed(6)}`);
  }
  if (log) console.log(`w = ${model.w.item().toFixed(3)}, b = ${model.b.item().toFixed(3)}`);
  return [model.w.item(), model.b.item()];
}

if (import.meta.url === `file://${process.argv[1]}`) main();
