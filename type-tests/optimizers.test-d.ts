import { expectType, expectError, expectAssignable } from "tsd";
import {
  Tensor,
  zeros,
  tensor,
  gradient,
  differentiable,
  noDerivative,
  Optimizer,
  SGD,
  Adam,
  AdamW,
  RMSProp,
  Lion,
  chain,
  masked,
  scaleByAdam,
  scaleByLearningRate,
  addDecayedWeights,
  cosineDecay,
  type TangentVector,
  type OptimizerState,
  type PathSelector,
  type Schedule,
  type GradientTransformation,
  type TensorSlots,
  type StagedStepContext,
  compile,
} from "../dist/index.js";

class Dense {
  @differentiable weight = zeros([2, 2]);
  @differentiable bias = zeros([2]);
  @noDerivative name = "dense";
}
class Model {
  @differentiable blocks = [new Dense(), new Dense()];
  @differentiable head = new Dense();
  @noDerivative steps = 0;
}
class Other {
  @differentiable w = zeros([3]);
}

const model = new Model();
const opt = new Adam(model, { learningRate: 1e-3 });
expectType<Adam<Model>>(opt);

// update accepts the model's tangent vector, from autodiff or built by hand, and returns the model.
const g = gradient(model, (m) => m.head.weight.sum());
expectType<Model>(opt.update(model, g));
opt.update(model, { blocks: [{ weight: zeros([2, 2]), bias: zeros([2]) }, { weight: zeros([2, 2]), bias: zeros([2]) }], head: { weight: zeros([2, 2]), bias: zeros([2]) } });

// A gradient of another model type, or a partial one, does not compile.
const other = new Other();
expectError(opt.update(model, gradient(other, (m) => m.w.sum())));
expectError(opt.update(model, { head: { weight: zeros([2, 2]), bias: zeros([2]) } }));
expectError(opt.update(other, g));

// A bare tensor model: the new tensor comes back.
const x = tensor([1, 2]);
expectType<Tensor>(new SGD(x).update(x, x));

// Masks and freezing: literal key paths are checked against the model.
new Adam(model, { freeze: "head" });
new Adam(model, { freeze: ["blocks.0.weight", "head.bias"] });
new AdamW(model, { excludeFromWeightDecay: (path) => path.endsWith("bias") });
expectError(new Adam(model, { freeze: "haed" }));
expectError(new Adam(model, { freeze: ["blocks.0.wieght"] }));
expectError(new AdamW(model, { excludeFromWeightDecay: "head.bais" }));
opt.freeze("blocks.1");
expectError(opt.freeze("block.1"));
masked<Model>(addDecayedWeights(0.01), ["head.weight"]);
expectError(masked<Model>(addDecayedWeights(0.01), ["head.wieght"]));
expectAssignable<PathSelector<Model>>("blocks.0.bias");

// Options are typed: hyperparameter names and kinds.
new RMSProp(model, { rho: 0.9, centered: true, momentum: 0.9 });
new Lion(model, { beta1: 0.9, beta2: 0.99, weightDecay: 0.1 });
expectError(new Adam(model, { beta1: "0.9" }));
expectError(new SGD(model, { rho: 0.9 }));

// Learning rate: read a number, set a number or a schedule.
expectType<number>(opt.learningRate);
opt.learningRate = 1e-4;
opt.learningRate = cosineDecay({ initialValue: 1e-3, decaySteps: 100 });
expectType<number | Schedule>(opt.learningRateSchedule);

// State: tangent-shaped slots.
const state = opt.state();
expectType<OptimizerState<Model>>(state);
const m = state.slots["firstMoments"];
expectType<TangentVector<Model> | undefined>(m);
if (m) expectType<Tensor>(m.head.weight);
opt.loadState(state);
expectError(opt.loadState(new Adam(other).state()));

// A generic optimizer over a chain.
const custom = new Optimizer(model, chain(scaleByAdam(), scaleByLearningRate(1e-3)));
expectType<Optimizer<Model>>(custom);

// --- re-initialising state after surgery: paths are checked against the model's type ---
opt.resetState();
opt.resetState("head");
opt.resetState(["head.weight", "blocks.0"]);
expectError(opt.resetState("hed"));

// --- staged forms of rules: tensors in, tensors out; `update` inside compile ---
const signSGD: GradientTransformation = {
  name: "scaleBySign",
  slots: [],
  init: () => ({}),
  apply: (state, _param, u) => [u.map(Math.sign) as typeof u, state],
  applyStaged: (state, _param, u, ctx) => {
    expectType<Tensor>(ctx.step);
    expectType<Tensor | undefined>(ctx.hyper);
    expectType<TensorSlots>(state);
    return [u.sign(), state];
  },
};
expectAssignable<GradientTransformation>(signSGD);
expectType<StagedStepContext["step"]>(tensor(1));
expectError<GradientTransformation>({ ...signSGD, applyStaged: (_s: TensorSlots, _p: Tensor, u: Float32Array) => [u, {}] });
const trainStep = compile((m: Model, o: Adam<Model>) => {
  o.update(m, gradient(m, (q) => q.head.weight.sum()));
});
expectType<void>(trainStep(model, opt));
