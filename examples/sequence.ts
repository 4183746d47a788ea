/**
 * A sequence model with an LSTM cell: reads 12 noisy steps of a sine wave and predicts the next value.
 * Gradients flow back through time (the RNN layer unrolls the cell).
 */
import { Tensor, Layer, RNN, LSTMCell, Dense, differentiable, Adam, valueWithGradient, meanSquaredError, tensor, randomUniform } from "../src/index.js";

class Forecaster extends Layer<Tensor, Tensor> {
  @differentiable lstm = new RNN(new LSTMCell({ inputSize: 1, hiddenSize: 16, seed: 0 }), { returnSequences: false });
  @differentiable head = new Dense({ inputSize: 16, outputSize: 1, seed: 1 });
  callAsFunction(x: Tensor): Tensor {
    return this.head.callAsFunction(this.lstm.callAsFunction(x));
  }
}

function batch(size: number, seed: number): { x: Tensor; y: Tensor } {
  const phases = randomUniform([size], { seed, min: 0, max: 2 * Math.PI }).dataSync();
  const steps = 12;
  const xs: number[][][] = [], ys: number[][] = [];
  for (const p of phases) {
    xs.push(Array.from({ length: steps }, (_, t) => [Math.sin(p + 0.5 * t)]));
    ys.push([Math.sin(p + 0.5 * steps)]);
  }
  return { x: tensor(xs), y: tensor(ys) };
}

/** Trains for `steps` batches; returns the loss on a held-out batch. */
export function main(steps = 150, log = true): number {
  const model = new Forecaster();
  const optimizer = new Adam(model, { learningRate: 0.01 });
  for (let step = 0; step < steps; step++) {
    const { x, y } = batch(32, step + 1);
    const { value, gradient } = valueWithGradient(model, (m) => meanSquaredError(m.callAsFunction(x), y));
    optimizer.update(model, gradient);
    if (log && step % 50 === 0) console.log(`step ${step}: loss ${value.item().toFixed(5)}`);
  }
  const test = batch(256, 10_000);
  const loss = meanSquaredError(model.callAsFunction(test.x), test.y).item();
  if (log) console.log(`held-out loss ${loss.toFixed(5)} (predicting 0 would give about 0.5)`);
  return loss;
}

if (import.meta.url === `file://${process.argv[1]}`) main();
