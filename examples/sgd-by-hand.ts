/**
 * An optimizer in ten lines: plain SGD over the model's typed key paths. The key path that reads a
 * parameter in the model reads its gradient in the tangent.
 */
import {
  Tensor, Sequential, Dense, tanh, recursivelyAllWritableKeyPaths, valueWithGradient, meanSquaredError,
  linspace, type TangentVector,
} from "../src/index.js";

function sgdStep<M extends object>(model: M, gradient: TangentVector<M>, learningRate: number): void {
  for (const kp of recursivelyAllWritableKeyPaths(model, Tensor)) {
    kp.set(model, kp.get(model).sub(kp.get(gradient).mul(learningRate)));
  }
}

/** Fits sin(x) on [-3, 3] with a small network; returns the final loss. */
export function main(steps = 300, log = true): number {
  const x = linspace(-3, 3, 64).reshape([64, 1]);
  const y = x.sin();
  const model = new Sequential(
    new Dense({ inputSize: 1, outputSize: 16, activation: tanh, seed: 0 }),
    new Dense({ inputSize: 16, outputSize: 1, seed: 1 }),
  );
  let loss = NaN;
  for (let step = 0; step < steps; step++) {
    const { value, gradient } = valueWithGradient(model, (m) => meanSquaredError(m.callAsFunction(x), y));
    sgdStep(model, gradient, 0.1);
    loss = value.item();
    if (log && step % 100 === 0) console.log(`step ${step}: loss ${loss.toFixed(5)}`);
  }
  if (log) console.log(`final loss ${loss.toFixed(5)}`);
  return loss;
}

if (import.meta.url === `file://${process.argv[1]}`) main();
