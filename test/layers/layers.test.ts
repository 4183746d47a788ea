/**
 * Every layer, from one table: output shapes, seeds, both learning phases, and a gradient check of its
 * parameters and input against finite differences (float64, forward and reverse mode).
 */
import { describe, expect, test } from "vitest";
import {
  AlphaDropout,
  AvgPool1D,
  AvgPool2D,
  AvgPool3D,
  BatchNorm,
  Bidirectional,
  Conv1D,
  Conv2D,
  Conv3D,
  Dense,
  DepthwiseConv2D,
  Dropout,
  Embedding,
  Flatten,
  FunctionLayer,
  GlobalAvgPool1D,
  GlobalAvgPool2D,
  GlobalAvgPool3D,
  GlobalMaxPool1D,
  GlobalMaxPool2D,
  GlobalMaxPool3D,
  GroupNorm,
  GRUCell,
  InstanceNorm,
  LayerNorm,
  LSTMCell,
  MaxPool1D,
  MaxPool2D,
  MaxPool3D,
  RNN,
  Reshape,
  SeparableConv2D,
  Sequential,
  SimpleRNNCell,
  TransposedConv2D,
  Tensor,
  UpSampling1D,
  UpSampling2D,
  ZeroPadding1D,
  ZeroPadding2D,
  checkGradients,
  conv2d,
  conv3d,
  depthwiseConv2d,
  maxPool2d,
  gradient,
  tensor,
  withLearningPhase,
  type Layer,
  type LearningPhase,
} from "../../src/index.js";
import { leavesOf, rebuild } from "../../src/keypaths/walk.js";
import { distinct, rng, uniform } from "../helpers/rows.js";

type Dtype = "float32" | "float64";

interface LayerRow {
  readonly name: string;
  /** Builds the layer; the same seed must give the same parameters. */
  readonly make: (seed: number, dtype: Dtype) => Layer<Tensor, Tensor>;
  /** A float64 input (or int32 indices). */
  readonly input: () => Tensor;
  readonly outputShape: readonly number[];
  /** The output depends on the learning phase (Dropout, BatchNorm). */
  readonly phaseDependent?: boolean;
  /** The input carries no derivative (int32 indices). */
  readonly intInput?: boolean;
  /** The layer has no parameters. */
  readonly parameterless?: boolean;
}

const tanh = (x: Tensor): Tensor => x.tanh();

const rows: LayerRow[] = [
  { name: "Dense", make: (seed, dtype) => new Dense({ inputSize: 3, outputSize: 2, activation: tanh, seed, dtype }), input: () => uniform([2, 3], 1), outputShape: [2, 2] },
  { name: "Dense (rank 3, no bias)", make: (seed, dtype) => new Dense({ inputSize: 3, outputSize: 2, useBias: false, seed, dtype }), input: () => uniform([2, 2, 3], 2), outputShape: [2, 2, 2] },
  { name: "Conv2D same, stride 2", make: (seed, dtype) => new Conv2D({ filterShape: [3, 3, 2, 2], strides: 2, padding: "same", activation: tanh, seed, dtype }), input: () => uniform([1, 4, 4, 2], 3), outputShape: [1, 2, 2, 2] },
  { name: "Conv2D dilated valid", make: (seed, dtype) => new Conv2D({ filterShape: [2, 2, 1, 2], dilations: 2, seed, dtype }), input: () => uniform([2, 4, 4, 1], 4), outputShape: [2, 2, 2, 2] },
  { name: "Conv1D", make: (seed, dtype) => new Conv1D({ filterShape: [3, 2, 3], padding: "same", seed, dtype }), input: () => uniform([2, 4, 2], 5), outputShape: [2, 4, 3] },
  { name: "TransposedConv2D", make: (seed, dtype) => new TransposedConv2D({ filterShape: [3, 3, 2, 2], strides: 2, padding: "same", seed, dtype }), input: () => uniform([1, 2, 2, 2], 6), outputShape: [1, 4, 4, 2] },
  { name: "TransposedConv2D valid", make: (seed, dtype) => new TransposedConv2D({ filterShape: [2, 2, 1, 2], seed, dtype }), input: () => uniform([1, 2, 2, 2], 7), outputShape: [1, 3, 3, 1] },
  { name: "DepthwiseConv2D", make: (seed, dtype) => new DepthwiseConv2D({ filterShape: [2, 2, 2, 2], padding: "same", seed, dtype }), input: () => uniform([1, 3, 3, 2], 8), outputShape: [1, 3, 3, 4] },
  { name: "MaxPool2D", make: () => new MaxPool2D({ poolSize: 2 }), input: () => distinct([1, 4, 4, 2], 9, 0.37), outputShape: [1, 2, 2, 2], parameterless: true },
  { name: "MaxPool2D overlapping same", make: () => new MaxPool2D({ poolSize: 3, strides: 2, padding: "same" }), input: () => distinct([1, 4, 4, 1], 10, 0.37), outputShape: [1, 2, 2, 1], parameterless: true },
  { name: "AvgPool2D", make: () => new AvgPool2D({ poolSize: [2, 1] }), input: () => uniform([1, 4, 2, 2], 11), outputShape: [1, 2, 2, 2], parameterless: true },
  { name: "GlobalAvgPool2D", make: () => new GlobalAvgPool2D(), input: () => uniform([2, 3, 3, 2], 12), outputShape: [2, 2], parameterless: true },
  { name: "MaxPool2D dilated", make: () => new MaxPool2D({ poolSize: 2, strides: 1, dilations: 2 }), input: () => distinct([1, 4, 4, 1], 40, 0.37), outputShape: [1, 2, 2, 1], parameterless: true },
  { name: "AvgPool2D dilated same", make: () => new AvgPool2D({ poolSize: 2, strides: 1, dilations: [1, 2], padding: "same" }), input: () => uniform([1, 3, 4, 2], 41), outputShape: [1, 3, 4, 2], parameterless: true },
  { name: "GlobalMaxPool2D", make: () => new GlobalMaxPool2D(), input: () => distinct([2, 3, 3, 2], 42, 0.37), outputShape: [2, 2], parameterless: true },
  { name: "Conv3D same, strides [1,2,2]", make: (seed, dtype) => new Conv3D({ filterShape: [2, 3, 3, 2, 2], strides: [1, 2, 2], padding: "same", activation: tanh, seed, dtype }), input: () => uniform([1, 2, 4, 4, 2], 43), outputShape: [1, 2, 2, 2, 2] },
  { name: "Conv3D dilated valid, no bias", make: (seed, dtype) => new Conv3D({ filterShape: [2, 2, 2, 1, 2], dilations: [1, 2, 1], useBias: false, seed, dtype }), input: () => uniform([2, 3, 4, 3, 1], 44), outputShape: [2, 2, 2, 2, 2] },
  { name: "MaxPool1D", make: () => new MaxPool1D({ poolSize: 2 }), input: () => distinct([2, 6, 2], 45, 0.37), outputShape: [2, 3, 2], parameterless: true },
  { name: "MaxPool1D dilated same", make: () => new MaxPool1D({ poolSize: 2, stride: 1, dilation: 2, padding: "same" }), input: () => distinct([1, 5, 2], 46, 0.37), outputShape: [1, 5, 2], parameterless: true },
  { name: "AvgPool1D stride 2 same", make: () => new AvgPool1D({ poolSize: 3, stride: 2, padding: "same" }), input: () => uniform([2, 5, 2], 47), outputShape: [2, 3, 2], parameterless: true },
  { name: "GlobalAvgPool1D", make: () => new GlobalAvgPool1D(), input: () => uniform([2, 5, 3], 48), outputShape: [2, 3], parameterless: true },
  { name: "GlobalMaxPool1D", make: () => new GlobalMaxPool1D(), input: () => distinct([2, 5, 3], 49, 0.37), outputShape: [2, 3], parameterless: true },
  { name: "MaxPool3D", make: () => new MaxPool3D({ poolSize: 2 }), input: () => distinct([1, 2, 4, 4, 2], 50, 0.37), outputShape: [1, 1, 2, 2, 2], parameterless: true },
  { name: "AvgPool3D [1,2,2] dilated", make: () => new AvgPool3D({ poolSize: [1, 2, 2], strides: 1, dilations: [1, 2, 1] }), input: () => uniform([1, 2, 4, 3, 1], 51), outputShape: [1, 2, 2, 2, 1], parameterless: true },
  { name: "GlobalAvgPool3D", make: () => new GlobalAvgPool3D(), input: () => uniform([2, 2, 3, 2, 2], 52), outputShape: [2, 2], parameterless: true },
  { name: "GlobalMaxPool3D", make: () => new GlobalMaxPool3D(), input: () => distinct([2, 2, 3, 2, 2], 53, 0.37), outputShape: [2, 2], parameterless: true },
  { name: "Flatten", make: () => new Flatten(), input: () => uniform([2, 2, 3], 13), outputShape: [2, 6], parameterless: true },
  { name: "Reshape", make: () => new Reshape([3, -1]), input: () => uniform([2, 6], 14), outputShape: [2, 3, 2], parameterless: true },
  { name: "FunctionLayer", make: () => new FunctionLayer((x: Tensor) => x.mul(x).sin()), input: () => uniform([2, 3], 15), outputShape: [2, 3], parameterless: true },
  { name: "Dropout", make: (seed) => new Dropout({ probability: 0.5, seed }), input: () => uniform([4, 4], 16), outputShape: [4, 4], phaseDependent: true, parameterless: true },
  { name: "BatchNorm (channels last)", make: (_s, dtype) => new BatchNorm({ featureCount: 2, dtype }), input: () => uniform([3, 2, 2], 17), outputShape: [3, 2, 2], phaseDependent: true },
  { name: "BatchNorm (axis 1)", make: (_s, dtype) => new BatchNorm({ featureCount: 3, axis: 1, dtype }), input: () => uniform([4, 3], 18), outputShape: [4, 3], phaseDependent: true },
  { name: "LayerNorm", make: (_s, dtype) => new LayerNorm({ featureCount: 3, dtype }), input: () => uniform([2, 2, 3], 19), outputShape: [2, 2, 3] },
  { name: "GroupNorm", make: (_s, dtype) => new GroupNorm({ featureCount: 4, groupCount: 2, dtype }), input: () => uniform([2, 2, 4], 20), outputShape: [2, 2, 4] },
  { name: "Embedding", make: (seed, dtype) => new Embedding({ vocabularySize: 5, embeddingSize: 3, seed, dtype }), input: () => tensor([[0, 4, 4], [2, 1, 0]], { dtype: "int32" }), outputShape: [2, 3, 3], intInput: true },
  { name: "RNN(SimpleRNNCell)", make: (seed, dtype) => new RNN(new SimpleRNNCell({ inputSize: 2, hiddenSize: 3, seed, dtype })), input: () => uniform([2, 3, 2], 21), outputShape: [2, 3, 3] },
  { name: "RNN(LSTMCell)", make: (seed, dtype) => new RNN(new LSTMCell({ inputSize: 2, hiddenSize: 2, seed, dtype })), input: () => uniform([2, 3, 2], 22), outputShape: [2, 3, 2] },
  { name: "RNN(GRUCell), last output", make: (seed, dtype) => new RNN(new GRUCell({ inputSize: 2, hiddenSize: 2, seed, dtype }), { returnSequences: false }), input: () => uniform([2, 3, 2], 23), outputShape: [2, 2] },
  { name: "SeparableConv2D same, multiplier 2", make: (seed, dtype) => new SeparableConv2D({ filterShape: [3, 3, 2, 3], depthMultiplier: 2, padding: "same", activation: tanh, seed, dtype }), input: () => uniform([1, 4, 4, 2], 25), outputShape: [1, 4, 4, 3] },
  { name: "SeparableConv2D valid, stride 2, no bias", make: (seed, dtype) => new SeparableConv2D({ filterShape: [2, 2, 2, 2], strides: 2, useBias: false, seed, dtype }), input: () => uniform([2, 4, 4, 2], 26), outputShape: [2, 2, 2, 2] },
  { name: "UpSampling2D", make: () => new UpSampling2D({ size: 2 }), input: () => uniform([1, 2, 3, 2], 27), outputShape: [1, 4, 6, 2], parameterless: true },
  { name: "UpSampling2D [1, 3]", make: () => new UpSampling2D({ size: [1, 3] }), input: () => uniform([2, 2, 2, 1], 28), outputShape: [2, 2, 6, 1], parameterless: true },
  { name: "UpSampling1D", make: () => new UpSampling1D({ size: 3 }), input: () => uniform([2, 2, 2], 29), outputShape: [2, 6, 2], parameterless: true },
  { name: "ZeroPadding1D", make: () => new ZeroPadding1D({ padding: [1, 2] }), input: () => uniform([2, 3, 2], 30), outputShape: [2, 6, 2], parameterless: true },
  { name: "ZeroPadding2D", make: () => new ZeroPadding2D({ padding: [[0, 1], [2, 0]] }), input: () => uniform([1, 3, 3, 2], 31), outputShape: [1, 4, 5, 2], parameterless: true },
  { name: "InstanceNorm", make: (_s, dtype) => new InstanceNorm({ featureCount: 3, dtype }), input: () => uniform([2, 3, 2, 3], 32), outputShape: [2, 3, 2, 3] },
  { name: "AlphaDropout", make: (seed) => new AlphaDropout({ probability: 0.3, seed }), input: () => uniform([4, 4], 33), outputShape: [4, 4], phaseDependent: true, parameterless: true },
  {
    name: "Bidirectional(LSTMCell), concatenated",
    make: (seed, dtype) => new Bidirectional(new LSTMCell({ inputSize: 2, hiddenSize: 2, seed, dtype }), new LSTMCell({ inputSize: 2, hiddenSize: 2, seed: seed + 1, dtype })),
    input: () => uniform([2, 3, 2], 34),
    outputShape: [2, 3, 4],
  },
  {
    name: "Bidirectional(GRUCell, SimpleRNNCell), summed, last output",
    make: (seed, dtype) =>
      new Bidirectional(new GRUCell({ inputSize: 2, hiddenSize: 2, seed, dtype }), new SimpleRNNCell({ inputSize: 2, hiddenSize: 2, seed: seed + 1, dtype }), {
        merge: "sum",
        returnSequences: false,
      }),
    input: () => uniform([2, 3, 2], 35),
    outputShape: [2, 2],
  },
  {
    name: "Sequential(Dense, LayerNorm, Dense)",
    make: (seed, dtype) => new Sequential(new Dense({ inputSize: 3, outputSize: 4, activation: tanh, seed, dtype }), new LayerNorm({ featureCount: 4, dtype }), new Dense({ inputSize: 4, outputSize: 2, seed: seed + 1, dtype })),
    input: () => uniform([2, 3], 24),
    outputShape: [2, 2],
  },
];

const PHASES: LearningPhase[] = ["inference", "training"];

function params(layer: object): Tensor[] {
  return leavesOf("test", layer).map((l) => l.value);
}

/** `n` standard normal samples (Box–Muller over the test generator). */
function rngNormal(seed: number, n: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
}

function bits(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

describe.each(rows)("$name", (row) => {
  test("output shape, in both learning phases and both float dtypes", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const layer = row.make(7, dtype);
      const x = row.intInput ? row.input() : row.input().cast(dtype);
      for (const phase of PHASES) {
        const y = withLearningPhase(phase, () => layer.callAsFunction(x));
        expect(y.shape).toEqual(row.outputShape);
        expect(y.dtype).toBe(dtype);
      }
    }
  });

  test("the same seed builds the same parameters; another seed others", () => {
    const a = params(row.make(3, "float32"));
    const b = params(row.make(3, "float32"));
    expect(a.map(bits)).toEqual(b.map(bits));
    if (row.parameterless) {
      expect(a).toHaveLength(0);
      expect(Object.keys(gradient(row.make(3, "float32"), (m) => (row.intInput ? m.callAsFunction(row.input()) : m.callAsFunction(row.input())).sum()))).toEqual([]);
    } else {
      expect(a.length).toBeGreaterThan(0);
    }
  });

  test("inference and training agree unless the layer depends on the phase", () => {
    const layer = row.make(5, "float64");
    const x = row.input();
    const inf = withLearningPhase("inference", () => layer.callAsFunction(x));
    const train = withLearningPhase("training", () => row.make(5, "float64").callAsFunction(x));
    const same = inf.sub(train).abs().max().item() === 0;
    expect(same).toBe(!row.phaseDependent);
  });

  test.each(PHASES)("gradients of parameters and input match finite differences (%s)", (phase) => {
    // A fresh layer per evaluation keeps Dropout's mask and BatchNorm's statistics identical between the
    // finite-difference evaluations; its parameters are then replaced by the checked ones.
    const ps = params(row.make(11, "float64"));
    const x = row.input();
    const f = (...args: Tensor[]): Tensor => {
      const [input, ...rest] = row.intInput ? [x, ...args] : args;
      const layer = rebuild(row.make(11, "float64"), (i) => rest[i]) as Layer<Tensor, Tensor>;
      return layer.callAsFunction(input!);
    };
    const inputs = row.intInput ? ps : [x, ...ps];
    if (!row.parameterless) {
      // The check is not vacuous: the output depends on the parameters that replace the layer's own.
      const shifted = inputs.map((t, i) => (row.intInput || i > 0 ? t.add(0.25) : t));
      const moved = withLearningPhase(phase, () => f(...shifted).sub(f(...inputs)).abs().max().item());
      expect(moved).toBeGreaterThan(1e-3);
    }
    withLearningPhase(phase, () => checkGradients(f, inputs, { order: 1, atol: 1e-6, rtol: 1e-5 }));
  });
});

describe("layer details", () => {
  test("Dense matches input · weight + bias and exposes the contract's shapes", () => {
    const d = new Dense({ inputSize: 3, outputSize: 2, seed: 0 });
    expect(d.weight.shape).toEqual([3, 2]);
    expect(d.bias.shape).toEqual([2]);
    const x = uniform([4, 3], 0).cast("float32");
    const expected = x.matmul(d.weight).add(d.bias);
    expect(d.callAsFunction(x).sub(expected).abs().max().item()).toBe(0);
    const g = gradient(d, (m) => m.callAsFunction(x).sum());
    expect(Object.keys(g)).toEqual(["weight", "bias"]);
  });

  test("layers reject inputs of the wrong size, naming the layer and the shapes", () => {
    const d = new Dense({ inputSize: 3, outputSize: 2, seed: 0 });
    expect(() => d.callAsFunction(uniform([2, 4], 0))).toThrow(/Dense: the input's last axis \(features\) has size 4 but the layer was built for 3/);
    const c = new Conv2D({ filterShape: [3, 3, 1, 2], seed: 0 });
    expect(() => c.callAsFunction(uniform([2, 5, 5], 0))).toThrow(/Conv2D: expected an input of rank 4/);
    expect(() => new Embedding({ vocabularySize: 3, embeddingSize: 2 }).callAsFunction(tensor([1]))).toThrow(/int32/);
    expect(() => new Dense({ inputSize: 0, outputSize: 2 })).toThrow(/inputSize must be a positive integer/);
    expect(() => new Dropout({ probability: 1 })).toThrow(/probability must be in \[0, 1\)/);
    expect(() => new GroupNorm({ featureCount: 6, groupCount: 4 })).toThrow(/must divide/);
  });

  test("Dropout: identity in inference; in training zeroes about p and scales the rest; masks differ per call but repeat per seed", () => {
    const x = tensor(new Array<number>(4000).fill(1));
    const d = new Dropout({ probability: 0.3, seed: 1 });
    expect(d.callAsFunction(x)).toBe(x);
    const [a, b] = withLearningPhase("training", () => [d.callAsFunction(x), d.callAsFunction(x)]);
    const kept = a.greater(0).cast("float32").mean().item();
    expect(kept).toBeGreaterThan(0.66);
    expect(kept).toBeLessThan(0.74);
    expect(a.max().item()).toBeCloseTo(1 / 0.7, 5);
    expect(a.sub(b).abs().max().item()).toBeGreaterThan(0);
    const again = new Dropout({ probability: 0.3, seed: 1 });
    expect(bits(withLearningPhase("training", () => again.callAsFunction(x)))).toEqual(bits(a));
  });

  test("volume and sequence layers name themselves and the layout they expect", () => {
    const conv = new Conv3D({ filterShape: [2, 2, 2, 3, 4], seed: 1 });
    expect(() => conv.callAsFunction(tensor(new Array<number>(48).fill(0), { shape: [1, 4, 4, 3] }))).toThrow(
      "Conv3D: expected an input of rank 5 [batch, depth, height, width, channels], got shape [1,4,4,3]",
    );
    expect(() => conv.callAsFunction(tensor(new Array<number>(64).fill(0), { shape: [1, 2, 2, 2, 8] }))).toThrow(/^Conv3D: .*8.*3/);
    expect(() => new Conv3D({ filterShape: [2, 2, 3, 4] as unknown as [number, number, number, number, number] })).toThrow(
      "Conv3D: filterShape must have 5 entries, got [2,2,3,4]",
    );
    expect(() => new MaxPool3D({ poolSize: 2 }).callAsFunction(tensor(new Array<number>(8).fill(0), { shape: [1, 2, 2, 2] }))).toThrow(
      "MaxPool3D: expected an input of rank 5 [batch, depth, height, width, channels], got shape [1,2,2,2]",
    );
    expect(() => new AvgPool1D({ poolSize: 2 }).callAsFunction(tensor([1, 2, 3, 4]))).toThrow(
      "AvgPool1D: expected an input of rank 3 [batch, width, channels], got shape [4]",
    );
    expect(() => new MaxPool1D({ poolSize: 5 }).callAsFunction(tensor([1, 2, 3, 4], { shape: [1, 4, 1] }))).toThrow(
      /^maxPool1d: the output would be empty: the window spans 5 cells along width/,
    );
  });

  test("the conv and pooling layers compute the ops they wrap (Conv3D = conv3d + bias; dilated pooling)", () => {
    const x = uniform([1, 3, 4, 4, 2], 60);
    const conv = new Conv3D({ filterShape: [2, 2, 2, 2, 3], padding: "same", strides: [1, 2, 1], seed: 3, dtype: "float64" });
    expect(conv.callAsFunction(x).toArray()).toEqual(conv3d(x, conv.filter, { padding: "same", strides: [1, 2, 1] }).add(conv.bias).toArray());
    const img = uniform([1, 5, 5, 1], 61);
    expect(new MaxPool2D({ poolSize: 2, strides: 1, dilations: 2 }).callAsFunction(img).toArray()).toEqual(
      maxPool2d(img, { size: 2, strides: 1, dilations: 2 }).toArray(),
    );
    expect(new GlobalMaxPool3D().callAsFunction(x).toArray()).toEqual(x.max([1, 2, 3]).toArray());
  });

  test("Dropout masks advance across gradient calls (the copy a differential operator makes shares the counter)", () => {
    const d = new Dropout({ probability: 0.5, seed: 2 });
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8]);
    const g1 = withLearningPhase("training", () => gradient(x, (v) => d.callAsFunction(v).sum()));
    const g2 = withLearningPhase("training", () => gradient(x, (v) => d.callAsFunction(v).sum()));
    expect(bits(g1)).not.toEqual(bits(g2));
  });

  test("Embedding gathers rows, and its gradient adds repeated rows", () => {
    const e = new Embedding({ vocabularySize: 4, embeddingSize: 2, seed: 0 });
    const idx = tensor([3, 1, 3], { dtype: "int32" });
    expect(e.callAsFunction(idx).toArray()).toEqual(e.embeddings.gather([3, 1, 3]).toArray());
    const g = gradient(e, (m) => m.callAsFunction(idx).sum());
    expect(g.embeddings.toArray()).toEqual([[0, 0], [1, 1], [0, 0], [2, 2]]);
  });

  test("RNN.run carries a given initial state and returns the final one", () => {
    const cell = new LSTMCell({ inputSize: 2, hiddenSize: 3, seed: 0 });
    const rnn = new RNN(cell);
    const x = uniform([2, 4, 2], 1).cast("float32");
    const whole = rnn.run(x);
    const first = rnn.run(x.slice([0, 0, 0], [2, 2, 2]));
    const second = rnn.run(x.slice([0, 2, 0], [2, 2, 2]), first.state);
    expect(second.state.hidden.sub(whole.state.hidden).abs().max().item()).toBeLessThan(1e-6);
    expect(second.state.cell.sub(whole.state.cell).abs().max().item()).toBeLessThan(1e-6);
    expect(cell.fusedBias.slice([3], [3]).toArray()).toEqual([1, 1, 1]); // forget-gate bias starts at 1
  });

  test("a custom model class composes layers; its gradient has exactly its differentiable fields", () => {
    class Model extends Sequential<[Dense, Dense]> {}
    const m = new Model(new Dense({ inputSize: 2, outputSize: 3, seed: 0 }), new Dense({ inputSize: 3, outputSize: 1, seed: 1 }));
    const g = gradient(m, (mm) => mm.callAsFunction(tensor([[1, 2]])).sum());
    expect(Object.keys(g)).toEqual(["layers"]);
    expect(g.layers[1].weight.shape).toEqual([3, 1]);
  });

  test("SeparableConv2D is a depthwise then a pointwise convolution, i.e. a Conv2D with the composed filter", () => {
    const sep = new SeparableConv2D({ filterShape: [3, 3, 2, 3], depthMultiplier: 2, strides: [1, 2], padding: "same", biasInitializer: () => tensor([0.1, -0.2, 0.3], { dtype: "float64" }), seed: 0, dtype: "float64" });
    expect(sep.depthwiseFilter.shape).toEqual([3, 3, 2, 2]);
    expect(sep.pointwiseFilter.shape).toEqual([1, 1, 4, 3]);
    expect(sep.bias.shape).toEqual([3]);
    const x = uniform([2, 5, 5, 2], 40);
    const y = sep.callAsFunction(x);
    const steps = conv2d(depthwiseConv2d(x, sep.depthwiseFilter, { strides: [1, 2], padding: "same" }), sep.pointwiseFilter).add(sep.bias);
    expect(y.sub(steps).abs().max().item()).toBe(0);
    // W[kh, kw, c, o] = Σ_q dw[kh, kw, c, q] · pw[c·m + q, o], written out here.
    const dw = sep.depthwiseFilter.toArray() as number[][][][];
    const pw = (sep.pointwiseFilter.toArray() as number[][][][])[0]![0]!;
    const composed = dw.map((row) => row.map((cell) => cell.map((qs, c) => [0, 1, 2].map((o) => qs.reduce((a, d, q) => a + d * pw[c * 2 + q]![o]!, 0)))));
    const full = conv2d(x, tensor(composed, { dtype: "float64" }), { strides: [1, 2], padding: "same" }).add(sep.bias);
    expect(y.sub(full).abs().max().item()).toBeLessThan(1e-12);
    expect(Object.keys(gradient(sep, (m) => m.callAsFunction(x).sum()))).toEqual(["depthwiseFilter", "pointwiseFilter", "bias"]);
    expect(() => new SeparableConv2D({ filterShape: [3, 3, 2, 3], depthMultiplier: 0 })).toThrow(/depthMultiplier must be a positive integer/);
    expect(() => sep.callAsFunction(uniform([1, 4, 4, 3], 0))).toThrow(/SeparableConv2D: the input's last axis \(channels\) has size 3/);
  });

  test("UpSampling repeats every position (out[i, j] = in[⌊i/s⌋, ⌊j/s⌋]); its gradient sums each block", () => {
    const x = uniform([2, 2, 3, 2], 41);
    const y = new UpSampling2D({ size: [2, 3] }).callAsFunction(x);
    const xv = x.toArray() as number[][][][];
    const plain = xv.map((img) => Array.from({ length: 4 }, (_, i) => Array.from({ length: 9 }, (_, j) => img[Math.floor(i / 2)]![Math.floor(j / 3)]!)));
    expect(y.toArray()).toEqual(plain);
    const w = uniform([2, 4, 9, 2], 42);
    const g = gradient(x, (v) => new UpSampling2D({ size: [2, 3] }).callAsFunction(v).mul(w).sum()).toArray() as number[][][][];
    const wv = w.toArray() as number[][][][];
    g.forEach((img, b) => img.forEach((row, i) => row.forEach((px, j) => px.forEach((v, c) => {
      let s = 0;
      for (let di = 0; di < 2; di++) for (let dj = 0; dj < 3; dj++) s += wv[b]![2 * i + di]![3 * j + dj]![c]!;
      expect(v).toBeCloseTo(s, 12);
    }))));
    expect(new UpSampling1D({ size: 2 }).callAsFunction(tensor([[[1], [2]]])).toArray()).toEqual([[[1], [1], [2], [2]]]);
    expect(() => new UpSampling2D({ size: 1.5 })).toThrow(/size\[0\] must be a positive integer/);
    expect(() => new UpSampling1D({ size: 2 }).callAsFunction(uniform([2, 3], 0))).toThrow(/UpSampling1D: expected an input of rank 3/);
  });

  test("ZeroPadding adds zeros at the given ends and accepts a number, a pair or two pairs", () => {
    expect(new ZeroPadding1D({ padding: 1 }).callAsFunction(tensor([[[1], [2]]])).toArray()).toEqual([[[0], [1], [2], [0]]]);
    const img = tensor([[[[1], [2]], [[3], [4]]]]);
    expect(new ZeroPadding2D({ padding: [[1, 0], [0, 1]] }).callAsFunction(img).toArray()).toEqual([[[[0], [0], [0]], [[1], [2], [0]], [[3], [4], [0]]]]);
    expect(new ZeroPadding2D({ padding: [1, 0] }).callAsFunction(img).shape).toEqual([1, 4, 2, 1]);
    expect(new ZeroPadding2D({ padding: 2 }).callAsFunction(img).shape).toEqual([1, 6, 6, 1]);
    expect(() => new ZeroPadding2D({ padding: [[1, -1], [0, 0]] })).toThrow(/ZeroPadding2D: padding\[0\] must be a non-negative integer/);
    expect(() => new ZeroPadding1D({ padding: 0.5 })).toThrow(/ZeroPadding1D: padding must be a non-negative integer/);
  });

  test("InstanceNorm normalizes each channel of each example over its positions (= GroupNorm, one channel per group)", () => {
    const x = uniform([2, 3, 2, 3], 43, -2, 3);
    const norm = new InstanceNorm({ featureCount: 3, dtype: "float64" });
    norm.scale = tensor([1, 2, 0.5], { dtype: "float64" });
    norm.offset = tensor([0, -1, 3], { dtype: "float64" });
    const y = norm.callAsFunction(x).toArray() as number[][][][];
    const xv = x.toArray() as number[][][][];
    for (let b = 0; b < 2; b++) {
      for (let c = 0; c < 3; c++) {
        const vs = xv[b]!.flatMap((row) => row.map((px) => px[c]!));
        const mean = vs.reduce((a, v) => a + v, 0) / vs.length;
        const variance = vs.reduce((a, v) => a + (v - mean) ** 2, 0) / vs.length;
        xv[b]!.forEach((row, i) => row.forEach((px, j) => {
          expect(y[b]![i]![j]![c]).toBeCloseTo(((px[c]! - mean) / Math.sqrt(variance + 1e-5)) * [1, 2, 0.5][c]! + [0, -1, 3][c]!, 12);
        }));
      }
    }
    const group = new GroupNorm({ featureCount: 3, groupCount: 3, dtype: "float64" });
    group.scale = norm.scale;
    group.offset = norm.offset;
    expect(group.callAsFunction(x).toArray()).toEqual(y);
    expect(norm).toBeInstanceOf(GroupNorm);
    expect(() => norm.callAsFunction(uniform([2, 3], 0))).toThrow(/InstanceNorm: expected an input of rank at least 3/);
    expect(() => new InstanceNorm({ featureCount: 2, epsilon: 0 })).toThrow(/InstanceNorm: epsilon must be positive/);
    expect(() => new InstanceNorm({ featureCount: 0 })).toThrow(/InstanceNorm: featureCount must be a positive integer/);
    expect(() => norm.callAsFunction(uniform([2, 3, 4], 0))).toThrow(/InstanceNorm: the input's last axis \(channels\) has size 4/);
  });

  test("AlphaDropout: identity in inference; in training keeps a unit normal's mean and variance, dropped values at a·α' + b", () => {
    const n = 20000;
    const r = rngNormal(44, n);
    const x = tensor(r, { dtype: "float64" });
    const d = new AlphaDropout({ probability: 0.2, seed: 3 });
    expect(d.callAsFunction(x)).toBe(x);
    const y = withLearningPhase("training", () => d.callAsFunction(x));
    const mean = y.mean().item();
    const variance = y.sub(mean).square().mean().item();
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    const alpha = -1.0507009873554805 * 1.6732632423543772;
    const a = 1 / Math.sqrt(0.8 * (1 + 0.2 * alpha * alpha));
    const dropped = a * alpha - a * alpha * 0.2;
    const ys = Array.from(y.dataSync());
    const droppedShare = ys.filter((v) => Math.abs(v - dropped) < 1e-12).length / n;
    expect(droppedShare).toBeGreaterThan(0.18);
    expect(droppedShare).toBeLessThan(0.22);
    ys.forEach((v, i) => {
      if (Math.abs(v - dropped) >= 1e-12) expect(v).toBeCloseTo(a * r[i]! - a * alpha * 0.2, 12);
    });
    const again = new AlphaDropout({ probability: 0.2, seed: 3 });
    expect(bits(withLearningPhase("training", () => again.callAsFunction(x)))).toEqual(bits(y));
  });

  test("Bidirectional merges a forward RNN with a backward RNN over the reversed sequence", () => {
    const fCell = new LSTMCell({ inputSize: 2, hiddenSize: 3, seed: 0, dtype: "float64" });
    const bCell = new GRUCell({ inputSize: 2, hiddenSize: 3, seed: 1, dtype: "float64" });
    const x = uniform([2, 4, 2], 45);
    const xv = x.toArray() as number[][][];
    const reversed = tensor(xv.map((seq) => [...seq].reverse()), { dtype: "float64" });
    const f = new RNN(fCell).callAsFunction(x).toArray() as number[][][];
    const bRev = new RNN(bCell).callAsFunction(reversed).toArray() as number[][][];
    const b = bRev.map((seq) => [...seq].reverse());
    const cat = new Bidirectional(fCell, bCell).callAsFunction(x).toArray() as number[][][];
    cat.forEach((seq, i) => seq.forEach((step, t) => {
      expect(step.slice(0, 3)).toEqual(f[i]![t]);
      step.slice(3).forEach((v, k) => expect(v).toBeCloseTo(b[i]![t]![k]!, 14));
    }));
    const plainMerge = { sum: (u: number, v: number) => u + v, average: (u: number, v: number) => (u + v) / 2, multiply: (u: number, v: number) => u * v };
    for (const [merge, op] of Object.entries(plainMerge) as ["sum" | "average" | "multiply", (u: number, v: number) => number][]) {
      const last = new Bidirectional(fCell, bCell, { merge, returnSequences: false }).callAsFunction(x).toArray() as number[][];
      last.forEach((row, i) => row.forEach((v, k) => expect(v).toBeCloseTo(op(f[i]![3]![k]!, b[i]![0]![k]!), 14)));
    }
    const g = gradient(new Bidirectional(fCell, bCell), (m) => m.callAsFunction(x).sum());
    expect(Object.keys(g)).toEqual(["forward", "backward"]);
    expect(Object.keys(g.backward.cell)).toEqual(["inputWeight", "recurrentWeight", "inputBias", "recurrentBias"]);
    expect(() => new Bidirectional(fCell, fCell)).toThrow(/different instances/);
    const narrow = new SimpleRNNCell({ inputSize: 2, hiddenSize: 2, seed: 2, dtype: "float64" });
    expect(() => new Bidirectional(fCell, narrow, { merge: "sum" }).callAsFunction(x)).toThrow(/needs equal hidden sizes, got 3 \(forward\) and 2 \(backward\)/);
    expect(() => new Bidirectional(fCell, bCell, { merge: "stack" as "sum" })).toThrow(/merge must be/);
  });

  test("move(by) moves every parameter in place and keeps dtypes", () => {
    const d = new Dense({ inputSize: 2, outputSize: 2, seed: 0 });
    const w = d.weight.toArray() as number[][];
    d.move({ weight: tensor([[1, 1], [1, 1]], { dtype: "float64" }), bias: tensor([0.5, 0.5]) });
    expect(d.weight.dtype).toBe("float32");
    expect((d.weight.toArray() as number[][])[0]![0]).toBeCloseTo(w[0]![0]! + 1, 6);
    expect(d.bias.toArray()).toEqual([0.5, 0.5]);
  });
});
