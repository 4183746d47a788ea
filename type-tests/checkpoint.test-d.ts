import { expectType, expectError } from "tsd";
import {
  zeros,
  differentiable,
  Adam,
  serializeCheckpoint,
  deserializeCheckpoint,
  type LoadedCheckpoint,
  type OptimizerState,
} from "../dist/index.js";
import { loadCheckpoint } from "../dist/node.js";

class Model {
  @differentiable w = zeros([2]);
}
class Other {
  @differentiable v = zeros([3]);
}
const model = new Model();
const opt = new Adam(model);
const bytes = serializeCheckpoint(model, { optimizerState: opt.state() });

// The optimizer state handed back is typed for the model it was loaded into, so loadState accepts it.
const loaded = deserializeCheckpoint(bytes, model);
expectType<LoadedCheckpoint<Model>>(loaded);
expectType<OptimizerState<Model> | undefined>(loaded.optimizerState);
opt.loadState(loaded.optimizerState);
expectType<Promise<LoadedCheckpoint<Model>>>(loadCheckpoint("m.safetensors", model));
// A state loaded for another model type is rejected by the compiler.
expectError(opt.loadState(deserializeCheckpoint(bytes, new Other()).optimizerState));
