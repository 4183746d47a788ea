/**
 * Every layer family exports: each layer alone, with a dynamic batch, run in ONNX Runtime at another batch
 * size and compared with difftypes (the model table in models.test.ts covers whole networks).
 */
import { describe, test } from "vitest";
import {
  AlphaDropout,
  Bidirectional,
  Conv1D,
  DepthwiseConv2D,
  FunctionLayer,
  GlobalAvgPool2D,
  GroupNorm,
  GRUCell,
  InstanceNorm,
  Layer,
  Reshape,
  RNN,
  SeparableConv2D,
  SimpleRNNCell,
  Tensor,
  TransposedConv2D,
  UpSampling1D,
  UpSampling2D,
  ZeroPadding1D,
  ZeroPadding2D,
  elu,
  exportOnnx,
  gelu,
  leakyRelu,
  randomNormal,
  selu,
  swish,
} from "../../src/index.js";
import { expectMatches, runOnnx } from "./ort.js";

interface LayerCase {
  name: string;
  layer: Layer<Tensor, Tensor>;
  /** The input's shape after the batch axis. */
  shape: number[];
}

const cases: LayerCase[] = [
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

describe.each(cases)("$name", ({ layer, shape }) => {
  test("exports with a dynamic batch and matches at batch sizes 2 and 3", async () => {
    const bytes = exportOnnx(layer, randomNormal([2, ...shape], { seed: 10 }), { dynamicBatch: true });
    for (const b of [2, 3]) {
      const x = randomNormal([b, ...shape], { seed: 11 + b });
      expectMatches((await runOnnx(bytes, { input: x })).output, layer.callAsFunction(x));
    }
  });
});
