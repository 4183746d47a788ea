import { expectType, expectError, expectAssignable } from "tsd";
import {
  Tensor,
  zeros,
  tensor,
  gradient,
  differentiable,
  noDerivative,
  Layer,
  Dense,
  Conv2D,
  MaxPool2D,
  Flatten,
  Dropout,
  BatchNorm,
  LSTMCell,
  GRUCell,
  RNN,
  Embedding,
  FunctionLayer,
  Sequential,
  summary,
  softmaxCrossEntropy,
  meanSquaredError,
  withLearningPhase,
  learningPhase,
  serializeCheckpoint,
  deserializeCheckpoint,
  glorotUniform,
  SeparableConv2D,
  UpSampling1D,
  UpSampling2D,
  ZeroPadding1D,
  ZeroPadding2D,
  InstanceNorm,
  AlphaDropout,
  Bidirectional,
  SimpleRNNCell,
  l1Loss,
  l2Loss,
  meanSquaredLogarithmicError,
  meanAbsolutePercentageError,
  squaredHingeLoss,
  categoricalHingeLoss,
  poissonLoss,
  cosineSimilarity,
  type TangentVector,
  type LSTMState,
  type LearningPhase,
  type Initializer,
  type OptimizerState,
} from "../dist/index.js";

// Layers are functions from their input to their output.
const dense = new Dense({ inputSize: 4, outputSize: 2, seed: 0 });
expectType<Tensor>(dense.callAsFunction(zeros([1, 4])));
expectAssignable<Layer<Tensor, Tensor>>(dense);

// Tangent vectors hold exactly the parameters.
expectType<{ weight: Tensor; bias: Tensor }>({} as TangentVector<Dense>);
expectType<{ filter: Tensor; bias: Tensor }>({} as TangentVector<Conv2D>);
expectType<{ scale: Tensor; offset: Tensor }>({} as TangentVector<BatchNorm>); // running statistics are boxed
expectType<{ fusedWeight: Tensor; fusedBias: Tensor }>({} as TangentVector<LSTMCell>);
expectType<{ embeddings: Tensor }>({} as TangentVector<Embedding>);
// Parameterless layers have an empty tangent.
expectType<{}>({} as TangentVector<MaxPool2D>);
expectType<{}>({} as TangentVector<Flatten>);
expectType<{}>({} as TangentVector<Dropout>);
expectType<{ cell: { inputWeight: Tensor; recurrentWeight: Tensor; inputBias: Tensor; recurrentBias: Tensor } }>({} as TangentVector<RNN<GRUCell>>);

// gradient(model, f) is typed by the model.
expectType<TangentVector<Dense>>(gradient(dense, (d) => d.callAsFunction(zeros([1, 4])).sum()));
dense.move({ weight: zeros([4, 2]), bias: zeros([2]) });
expectError(dense.move({ weight: zeros([4, 2]) }));
expectError(dense.move({ filter: zeros([4, 2]), bias: zeros([2]) }));

// A recurrent cell maps { input, state } to { output, state }.
const lstm = new LSTMCell({ inputSize: 2, hiddenSize: 3 });
expectType<LSTMState>(lstm.callAsFunction({ input: zeros([1, 2]), state: lstm.zeroState(1) }).state);
expectError(lstm.callAsFunction({ input: zeros([1, 2]), state: zeros([1, 3]) }));
expectType<{ outputs: Tensor; state: LSTMState }>(new RNN(lstm).run(zeros([1, 5, 2])));

// Sequential chains its layers' types at compile time.
const model = new Sequential(new Conv2D({ filterShape: [3, 3, 1, 4] }), new MaxPool2D({ poolSize: 2 }), new Flatten(), dense);
expectType<Tensor>(model.callAsFunction(zeros([1, 5, 5, 1])));
expectType<Tensor>(model.layers[3].weight);
expectType<Tensor>(gradient(model, (m) => m.callAsFunction(zeros([1, 5, 5, 1])).sum()).layers[3].weight);
expectType<{}>(gradient(model, (m) => m.callAsFunction(zeros([1, 5, 5, 1])).sum()).layers[1]);

const toArray = new FunctionLayer((x: Tensor) => x.toArray());
const count = new FunctionLayer((xs: string[]) => xs.length);
const toStrings = new FunctionLayer((x: Tensor) => [String(x.size)]);
const chain = new Sequential(dense, toStrings, count);
expectType<number>(chain.callAsFunction(zeros([1, 4])));
// A layer that does not accept the previous layer's output is a compile error.
expectError(new Sequential(dense, count));
expectError(new Sequential(toStrings, dense));
expectError(new Sequential(dense, toStrings, dense));
expectType<Tensor>(new Sequential(dense, toArray, new FunctionLayer((x: unknown) => tensor(x as number))).callAsFunction(zeros([1, 4])));

// Custom models extend Layer.
class Model extends Layer<Tensor, Tensor> {
  @differentiable encoder = new Dense({ inputSize: 4, outputSize: 8 });
  @differentiable layers = [new Dense({ inputSize: 8, outputSize: 8 }), new Dense({ inputSize: 8, outputSize: 2 })];
  @noDerivative drop = new Dropout({ probability: 0.5 });
  @noDerivative label = "model";
  callAsFunction(x: Tensor): Tensor {
    return this.layers.reduce((h, l) => l.callAsFunction(h), this.encoder.callAsFunction(x));
  }
}
expectType<{ encoder: TangentVector<Dense>; layers: TangentVector<Dense>[] }>(
  {} as TangentVector<Model>,
);

// The learning phase.
expectType<LearningPhase>(learningPhase());
expectType<number>(withLearningPhase("training", () => 1));
expectType<Promise<number>>(withLearningPhase("inference", async () => 1));
expectError(withLearningPhase("train", () => 1));

// Losses, summary, initializers, checkpoints.
expectType<Tensor>(softmaxCrossEntropy(zeros([2, 3]), tensor([0, 1], { dtype: "int32" })));
expectType<Tensor>(meanSquaredError(zeros([2]), zeros([2]), { reduction: "none" }));
expectError(meanSquaredError(zeros([2]), zeros([2]), { reduction: "average" }));
expectType<string>(summary(model, [1, 4]));
expectAssignable<Initializer>(glorotUniform());
expectType<Uint8Array>(serializeCheckpoint(model));
expectType<OptimizerState<typeof model> | undefined>(deserializeCheckpoint(new Uint8Array(), model).optimizerState);

// The layers added after Swift's library: exact tangents.
expectType<{ depthwiseFilter: Tensor; pointwiseFilter: Tensor; bias: Tensor }>({} as TangentVector<SeparableConv2D>);
expectType<{ scale: Tensor; offset: Tensor }>({} as TangentVector<InstanceNorm>);
expectType<{}>({} as TangentVector<UpSampling1D>);
expectType<{}>({} as TangentVector<UpSampling2D>);
expectType<{}>({} as TangentVector<ZeroPadding1D>);
expectType<{}>({} as TangentVector<ZeroPadding2D>);
expectType<{}>({} as TangentVector<AlphaDropout>);
type LSTMTangent = { fusedWeight: Tensor; fusedBias: Tensor };
type GRUTangent = { inputWeight: Tensor; recurrentWeight: Tensor; inputBias: Tensor; recurrentBias: Tensor };
expectType<{ forward: { cell: LSTMTangent }; backward: { cell: LSTMTangent } }>({} as TangentVector<Bidirectional<LSTMCell>>);
expectType<{ forward: { cell: GRUTangent }; backward: { cell: { weight: Tensor; bias: Tensor } } }>(
  {} as TangentVector<Bidirectional<GRUCell, SimpleRNNCell>>,
);

// The constructors infer the cells' types; options are checked.
const bi = new Bidirectional(new GRUCell({ inputSize: 2, hiddenSize: 3 }), new SimpleRNNCell({ inputSize: 2, hiddenSize: 3 }), { merge: "sum" });
expectType<Bidirectional<GRUCell, SimpleRNNCell>>(bi);
expectType<Tensor>(bi.backward.cell.weight);
expectError(new Bidirectional(new GRUCell({ inputSize: 2, hiddenSize: 3 }), new GRUCell({ inputSize: 2, hiddenSize: 3 }), { merge: "stack" }));
expectError(new Bidirectional(new GRUCell({ inputSize: 2, hiddenSize: 3 }), dense));
expectError(new SeparableConv2D({ filterShape: [3, 3, 1] }));
expectError(new UpSampling2D({ size: [2, 2, 2] }));
expectError(new ZeroPadding2D({ padding: [[1, 1], 1] }));
expectError(new InstanceNorm({ featureCount: 4, groupCount: 2 }));

// They chain in Sequential, and the gradient is typed through them.
const vision = new Sequential(
  new ZeroPadding2D({ padding: 1 }),
  new SeparableConv2D({ filterShape: [3, 3, 1, 4] }),
  new InstanceNorm({ featureCount: 4 }),
  new UpSampling2D({ size: 2 }),
  new AlphaDropout({ probability: 0.1 }),
  new Flatten(),
  new Dense({ inputSize: 4 * 10 * 10, outputSize: 2 }),
);
expectType<Tensor>(vision.callAsFunction(zeros([1, 5, 5, 1])));
const visionGrad = gradient(vision, (m) => m.callAsFunction(zeros([1, 5, 5, 1])).sum());
expectType<Tensor>(visionGrad.layers[1].pointwiseFilter);
expectType<{ scale: Tensor; offset: Tensor }>(visionGrad.layers[2]);
expectType<{}>(visionGrad.layers[3]);
const sequence = new Sequential(
  new ZeroPadding1D({ padding: [2, 0] }),
  new UpSampling1D({ size: 2 }),
  new Bidirectional(new LSTMCell({ inputSize: 2, hiddenSize: 3 }), new LSTMCell({ inputSize: 2, hiddenSize: 3 }), { returnSequences: false }),
  new Dense({ inputSize: 6, outputSize: 1 }),
);
expectType<Tensor>(sequence.callAsFunction(zeros([1, 4, 2])));
expectType<LSTMTangent>(gradient(sequence, (m) => m.callAsFunction(zeros([1, 4, 2])).sum()).layers[2].backward.cell);
expectError(new Sequential(new Bidirectional(new LSTMCell({ inputSize: 2, hiddenSize: 3 }), new LSTMCell({ inputSize: 2, hiddenSize: 3 })), count));

// The losses take the same options as the others, plus their own.
expectType<Tensor>(l1Loss(zeros([2]), zeros([2])));
expectType<Tensor>(l2Loss(zeros([2]), zeros([2]), { reduction: "mean" }));
expectType<Tensor>(meanSquaredLogarithmicError(zeros([2]), zeros([2]), { reduction: "none" }));
expectType<Tensor>(meanAbsolutePercentageError(zeros([2]), zeros([2]), { epsilon: 1e-6 }));
expectType<Tensor>(squaredHingeLoss(zeros([2]), zeros([2])));
expectType<Tensor>(categoricalHingeLoss(zeros([2, 3]), zeros([2, 3]), { reduction: "sum" }));
expectType<Tensor>(poissonLoss(zeros([2]), zeros([2]), { logInput: true }));
expectType<Tensor>(cosineSimilarity(zeros([2, 3]), zeros([2, 3]), { epsilon: 1e-8, reduction: "none" }));
expectError(l1Loss(zeros([2]), zeros([2]), { reduction: "average" }));
expectError(poissonLoss(zeros([2]), zeros([2]), { logInput: "yes" }));
expectError(squaredHingeLoss(zeros([2]), zeros([2]), { delta: 1 }));
