/**
 * Optimizers: rules over one parameter, composed with `chain` and `masked`, run by one walk over any
 * model; Swift-shaped named optimizers over them; schedules; clipping; saved state.
 * @module
 */
export {
  Optimizer,
  OPTIMIZER_STATE_FORMAT,
  type OptimizerOptions,
  type OptimizerState,
} from "./optimizer.js";
export {
  chain,
  slot,
  type GradientTransformation,
  type Transform,
  type FloatArray,
  type ParameterInfo,
  type ParameterView,
  type ParameterPredicate,
  type Slots,
  type StepContext,
  type TensorSlots,
  type StagedStepContext,
} from "./transform.js";
export { masked, type PathSelector } from "./masks.js";
export {
  constantSchedule,
  exponentialDecay,
  piecewiseConstant,
  cosineDecay,
  linearSchedule,
  linearWarmup,
  cosineWarmup,
  warmupCosineDecay,
  joinSchedules,
  type Schedule,
  type ExponentialDecayOptions,
  type CosineDecayOptions,
  type LinearScheduleOptions,
  type WarmupOptions,
  type WarmupCosineDecayOptions,
} from "./schedules.js";
export { clipByGlobalNorm, clipByValue } from "./clipping.js";
export { scaleByLearningRate, scale, addDecayedWeights, type ScaleByLearningRateOptions, type LearningRateTransformation } from "./scale.js";
export type { CommonOptions } from "./facade.js";
export { trace, SGD, type TraceOptions, type SGDOptions } from "./sgd.js";
export { scaleByAdam, Adam, AdamW, NAdam, type ScaleByAdamOptions, type AdamOptions, type AdamHyperparameters } from "./adam.js";
export { scaleByAmsgrad, AMSGrad, type ScaleByAmsgradOptions } from "./amsgrad.js";
export { scaleByAdamax, AdaMax, type ScaleByAdamaxOptions } from "./adamax.js";
export { scaleByRAdam, RAdam, type ScaleByRAdamOptions } from "./radam.js";
export { scaleByRms, RMSProp, type ScaleByRmsOptions, type RMSPropOptions } from "./rmsprop.js";
export { scaleByAdagrad, AdaGrad, type ScaleByAdagradOptions, type AdaGradOptions } from "./adagrad.js";
export { scaleByAdadelta, AdaDelta, type ScaleByAdadeltaOptions, type AdaDeltaOptions } from "./adadelta.js";
export { scaleByLion, Lion, type ScaleByLionOptions, type LionOptions } from "./lion.js";
