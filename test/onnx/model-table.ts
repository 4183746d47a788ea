/**
 * The model table of the ONNX tests: whole networks (models.test.ts) and every layer family on its own
 * (layers.test.ts), with the batch sizes they run at. The same builders, seeds and batches are exported and
 * run in ONNX Runtime for Node by those tests and in ONNX Runtime Web by test/platform/onnx-web.test.ts.
 */
import {
  AlphaDropout,
  AvgPool2D,
  BatchNorm,
  Bidirectional,
  Conv1D,
  Conv2D,
  Dense,
  DepthwiseConv2D,
  Dropout,
  Embedding,
  Flatten,
  FunctionLayer,
  GlobalAvgPool2D,
  GroupNorm,
  GRUCell,
  InstanceNorm,
  Layer,
  LayerNorm,
  LSTMCell,
  MaxPool2D,
  NoDerivative,
  Reshape,
  RNN,
  SeparableConv2D,
  Sequential,
  SimpleRNNCell,
  Tensor,
  TransposedConv2D,
  UpSampling1D,
  UpSampling2D,
  ZeroPadding1D,
  ZeroPadding2D,
  differentiable,
  elu,
  gelu,
  leakyRelu,
  noDerivative,
  randomNormal,
  randomUniform,
  relu,
  selu,
  swish,
} from "../../src/index.js";

/** Token embeddings, layer normalization and one head of scaled dot-product attention, pooled over time. */
export class TinyAttention extends Layer<Tensor, Tensor> {
  @differentiable embed = new Embedding({ vocabularySize: 11, embeddingSize: 8, seed: 1 });
  @differentiable norm = new LayerNorm({ featureCount: 8 });
  @differentiable query = new Dense({ inputSize: 8, outputSize: 8, seed: 2 });
  @differentiable key = new Dense({ inputSize: 8, outputSize: 8, seed: 3 });
  @differentiable value = new Dense({ inputSize: 8, outputSize: 8, seed: 4 });
  @differentiable head = new Dense({ inputSize: 8, outputSize: 2, seed: 5 });
  @noDerivative readonly scale = 1 / Math.sqrt(8);
  callAsFunction(ids: Tensor): Tensor {
    const h = this.norm.callAsFunction(this.embed.callAsFunction(ids));
    const q = this.query.callAsFunction(h);
    const k = this.key.callAsFunction(h);
    const v = this.value.callAsFunction(h);
    const weights = q.matmul(k.transpose([0, 2, 1])).mul(this.scale).softmax(-1);
    return this.head.callAsFunction(weights.matmul(v).mean(1));
  }
}

/** A custom class whose configuration (`@noDerivative`) picks the ops, with a boxed running statistic. */
export class Configured extends Layer<Tensor, Tensor> {
  @differentiable weight = randomNormal([3, 4], { seed: 6 });
  @differentiable bias = randomNormal([4], { seed: 7 });
  @noDerivative readonly squash: "tanh" | "sigmoid";
  @noDerivative readonly power = 2;
  @noDerivative readonly label = "configured";
  @noDerivative shift = new NoDerivative(randomNormal([4], { seed: 8 }));
  constructor(squash: "tanh" | "sigmoid") {
    super();
    this.squash = squash;
  }
  callAsFunction(x: Tensor): Tensor {
    const y = x.matmul(this.weight).add(this.bias).sub(this.shift.value);
    const s = this.squash === "tanh" ? y.tanh() : y.sigmoid();
    return s.pow(this.power).logSoftmax();
  }
}

export function cnn(): Layer<Tensor, Tensor> {
  const bn = new BatchNorm({ featureCount: 4 });
  // Running statistics as after training, so the inference path is not the identity.
  bn.runningMean.value = randomNormal([4], { seed: 9 });
  bn.runningVariance.value = randomUniform([4], { seed: 10, min: 0.5, max: 2 });
  bn.scale = randomNormal([4], { seed: 11 });
  return new Sequential(
    new Conv2D({ filterShape: [3, 3, 2, 4], padding: "same", activation: relu, seed: 12 }),
    bn,
    new MaxPool2D({ poolSize: 2 }),
    new Conv2D({ filterShape: [3, 3, 4, 4], strides: 2, padding: "same", seed: 13 }),
    new AvgPool2D({ poolSize: 2, strides: 1, padding: "same" }),
    new Flatten(),
    new Dropout({ probability: 0.5 }),
    new Dense({ inputSize: 2 * 2 * 4, outputSize: 3, seed: 14 }),
  );
}

/** A whole network of the table: how to build it, and its input at a batch size. */
export interface ModelCase {
  name: string;
  make: () => Layer<Tensor, Tensor>;
  /** An input of the given batch size. */
  input: (batch: number, seed: number) => Tensor;
}

const ids = (batch: number, seed: number): Tensor => randomUniform([batch, 5], { seed, min: 0, max: 11, dtype: "int32" });

/** Whole networks: the model table of the ONNX export. */
export const modelTable: ModelCase[] = [
  {
    name: "Dense MLP",
    make: () => new Sequential(new Dense({ inputSize: 4, outputSize: 16, activation: relu, seed: 1 }), new Dropout({ probability: 0.3 }), new Dense({ inputSize: 16, outputSize: 3, seed: 2 })),
    input: (b, seed) => randomNormal([b, 4], { seed }),
  },
  { name: "CNN with pooling and batch norm", make: cnn, input: (b, seed) => randomNormal([b, 8, 8, 2], { seed }) },
  {
    name: "LSTM over a sequence",
    make: () => new Sequential(new RNN(new LSTMCell({ inputSize: 3, hiddenSize: 6, seed: 3 }), { returnSequences: false }), new Dense({ inputSize: 6, outputSize: 2, seed: 4 })),
    input: (b, seed) => randomNormal([b, 4, 3], { seed }),
  },
  { name: "Embedding + LayerNorm + attention", make: () => new TinyAttention(), input: ids },
  { name: "custom class with @noDerivative configuration", make: () => new Configured("sigmoid"), input: (b, seed) => randomNormal([b, 3], { seed }) },
];

/** A layer family of the table, alone. */
export interface LayerCase {
  name: string;
  layer: Layer<Tensor, Tensor>;
  /** The input's shape after the batch axis. */
  shape: number[];
}

/** Every layer family that has no whole network of its own in `modelTable`. */
export const layerTable: LayerCase[] = [
  { name: "Conv1D", layer: new Conv1D({ filterShape: [3, 2, 4], stride: 2, padding: "same", seed: 1 }), shape: [9, 2] },
  { name: "TransposedConv2D", layer: new TransposedConv2D({ filterShape: [3, 3, 2, 3], strides: 2, padding: "same", seed: 2 }), shape: [4, 5, 3] },
  { name: "DepthwiseConv2D", layer: new DepthwiseConv2D({ filterShape: [3, 3, 2, 2], padding: "same", seed: 3 }), shape: [5, 5, 2] },
  { name: "SeparableConv2D", layer: new SeparableConv2D({ filterShape: [3, 3, 2, 4], depthMultiplier: 2, seed: 4 }), shape: [6, 6, 2] },
  { name: "ZeroPadding1D", layer: new ZeroPadding1D({ padding: [1, 2] }), shape: [4, 2] },
  { name: "ZeroPadding2D", layer: new ZeroPadding2D({ padding: [[1, 0], [0, 2]] }), shape: [3, 3, 2] },
  { name: "UpSampling1D", layer: new UpSampling1D({ size: 3 }), shape: [4, 2] },
  { name: "UpSampling2D", layer: new UpSampling2D({ size: [2, 3] }), shape: [3, 2, 2] },
  { name: "GlobalAvgPool2D", layer: new GlobalAvgPool2D(), shape: [4, 5, 3] },
  { name: "Reshape", layer: new Reshape([-1, 2]), shape: [3, 4] },
  { name: "GroupNorm", layer: new GroupNorm({ featureCount: 4, groupCount: 2 }), shape: [3, 3, 4] },
  { name: "InstanceNorm", layer: new InstanceNorm({ featureCount: 3 }), shape: [4, 4, 3] },
  { name: "AlphaDropout (inference)", layer: new AlphaDropout({ probability: 0.2 }), shape: [5] },
  { name: "SimpleRNN", layer: new RNN(new SimpleRNNCell({ inputSize: 3, hiddenSize: 4, seed: 5 })), shape: [5, 3] },
  { name: "GRU", layer: new RNN(new GRUCell({ inputSize: 3, hiddenSize: 4, seed: 6 }), { returnSequences: false }), shape: [5, 3] },
  { name: "Bidirectional GRU", layer: new Bidirectional(new GRUCell({ inputSize: 3, hiddenSize: 2, seed: 7 }), new GRUCell({ inputSize: 3, hiddenSize: 2, seed: 8 })), shape: [4, 3] },
  {
    name: "activations (gelu, swish, elu, selu, leakyRelu)",
    layer: new FunctionLayer((x: Tensor) => gelu(x).add(swish(x)).add(elu(x)).add(selu(x)).add(leakyRelu(x))),
    shape: [6],
  },
];

/** The models are exported at this batch size (dynamic) from `input(MODEL_EXAMPLE.batch, MODEL_EXAMPLE.seed)`. */
export const MODEL_EXAMPLE = { batch: 2, seed: 100 } as const;
/** Then run at the example's batch size and others, each on inputs of its own seed: `[batch, seed]`. */
export const MODEL_RUNS: readonly (readonly [batch: number, seed: number])[] = [[2, 101], [5, 102], [1, 103]];

/** A layer of the table is exported from a batch of 2 (seed 10) with a dynamic batch, then run at these batch sizes. */
export const LAYER_BATCHES: readonly number[] = [2, 3];
/** The example a layer of the table is exported with. */
export const layerExample = (shape: readonly number[]): Tensor => randomNormal([2, ...shape], { seed: 10 });
/** The input a layer of the table runs on at batch size `batch`. */
export const layerInput = (shape: readonly number[], batch: number): Tensor => randomNormal([batch, ...shape], { seed: 11 + batch });
