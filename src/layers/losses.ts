/**
 * Loss functions, written in differentiable primitives (no rules of their own). Each computes a loss
 * per element (or per example, for the ones that sum over a class axis) and reduces it as asked:
 * `'mean'` (the default), `'sum'`, or `'none'` (the unreduced tensor). Anything with an exponential is
 * computed in a form that cannot overflow: cross-entropies go through log-sum-exp and `softplus`, so
 * logits of ±1e4 give finite losses and gradients.
 */
import { Tensor } from "../tensor/tensor.js";
import { oneHot } from "../tensor/ranges.js";
import { where, minimum } from "../ops/binary.js";

/** How a loss reduces its per-element (or per-example) values. */
export type Reduction = "mean" | "sum" | "none";

/** Options of every loss. */
export interface LossOptions {
  /** `'mean'` (default), `'sum'`, or `'none'`. */
  reduction?: Reduction;
}

function reduce(op: string, losses: Tensor, options: LossOptions | undefined): Tensor {
  const r = options?.reduction ?? "mean";
  if (r === "mean") return losses.mean();
  if (r === "sum") return losses.sum();
  if (r === "none") return losses;
  throw new TypeError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${String(r)}`);
}

function sameShape(op: string, a: Tensor, b: Tensor, an: string, bn: string): void {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new TypeError(`${op}: ${an} and ${bn} must be Tensors`);
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`${op}: ${an} has shape [${a.shape.join(",")}] but ${bn} has shape [${b.shape.join(",")}]; they must be equal`);
  }
}

function floatOf(x: Tensor, like: Tensor): Tensor {
  return x.dtype === "int32" ? x.cast(like.dtype === "int32" ? "float32" : like.dtype) : x;
}

/**
 * Mean squared error `(predicted − expected)²`.
 * @param predicted a float tensor of any shape.
 * @param expected a tensor of the same shape.
 * @param options `reduction` (`'none'` keeps the elementwise squares).
 * @returns a scalar, or the elementwise losses.
 * @example `meanSquaredError(tensor([1, 2]), tensor([1, 4]))` is `2`.
 */
export function meanSquaredError(predicted: Tensor, expected: Tensor, options?: LossOptions): Tensor {
  sameShape("meanSquaredError", predicted, expected, "predicted", "expected");
  const d = predicted.sub(floatOf(expected, predicted));
  return reduce("meanSquaredError", d.mul(d), options);
}

/**
 * Mean absolute error `|predicted − expected|`.
 * @param predicted a float tensor of any shape.
 * @param expected a tensor of the same shape.
 * @param options `reduction`.
 * @returns a scalar, or the elementwise losses.
 * @example `meanAbsoluteError(tensor([1, 2]), tensor([1, 4]))` is `1`.
 */
export function meanAbsoluteError(predicted: Tensor, expected: Tensor, options?: LossOptions): Tensor {
  sameShape("meanAbsoluteError", predicted, expected, "predicted", "expected");
  return reduce("meanAbsoluteError", predicted.sub(floatOf(expected, predicted)).abs(), options);
}

/**
 * Huber loss (Huber, 1964, "Robust Estimation of a Location Parameter"): `½ d²` where `|d| ≤ δ`, and
 * `δ (|d| − ½ δ)` beyond, with `d = predicted − expected`; quadratic near zero, linear for outliers.
 * @param predicted a float tensor of any shape.
 * @param expected a tensor of the same shape.
 * @param options `delta` (δ, default 1) and `reduction`.
 * @returns a scalar, or the elementwise losses.
 * @example `huberLoss(tensor([0, 3]), tensor([0.5, 0]))` is `(0.125 + 2.5) / 2`.
 */
export function huberLoss(predicted: Tensor, expected: Tensor, options?: LossOptions & { delta?: number }): Tensor {
  sameShape("huberLoss", predicted, expected, "predicted", "expected");
  const delta = options?.delta ?? 1;
  if (!(delta > 0)) throw new RangeError(`huberLoss: delta must be positive, got ${delta}`);
  const a = predicted.sub(floatOf(expected, predicted)).abs();
  const q = minimum(a, delta); // the quadratic part
  return reduce("huberLoss", q.mul(q).mul(0.5).add(a.sub(q).mul(delta)), options);
}

/**
 * Log-cosh loss `log(cosh(predicted − expected))`, computed as `softplus(−2d) + d − log 2` so large
 * errors do not overflow; about `½ d²` for small errors and `|d| − log 2` for large ones.
 * @param predicted a float tensor of any shape.
 * @param expected a tensor of the same shape.
 * @param options `reduction`.
 * @returns a scalar, or the elementwise losses.
 * @example `logCoshLoss(tensor([0]), tensor([0]))` is `0`.
 */
export function logCoshLoss(predicted: Tensor, expected: Tensor, options?: LossOptions): Tensor {
  sameShape("logCoshLoss", predicted, expected, "predicted", "expected");
  const d = predicted.sub(floatOf(expected, predicted));
  return reduce("logCoshLoss", d.mul(-2).softplus().add(d).sub(Math.LN2), options);
}

/**
 * Softmax cross-entropy between logits and labels, computed from `logSoftmax` (log-sum-exp), so it is
 * exact and finite for any logits. The labels are either
 * - int32 class indices of shape `[...batch]` (the loss is `logSumExp(logits) − logits[label]`), or
 * - float probabilities of the logits' shape (the loss is `−Σ p · logSoftmax(logits)`).
 *
 * @param logits `[...batch, classes]` float.
 * @param labels int32 `[...batch]` indices in `[0, classes)`, or float `[...batch, classes]` probabilities.
 * @param options `reduction` (`'none'` gives one loss per example, `[...batch]`).
 * @returns a scalar, or the per-example losses.
 * @example
 * ```ts
 * softmaxCrossEntropy(tensor([[0, 0]]), tensor([1], { dtype: "int32" })).item(); // ln 2
 * ```
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, options?: LossOptions): Tensor {
  const op = "softmaxCrossEntropy";
  if (!(logits instanceof Tensor) || !(labels instanceof Tensor)) throw new TypeError(`${op}: logits and labels must be Tensors`);
  if (logits.rank < 1) throw new RangeError(`${op}: logits need a class axis; got a scalar`);
  const classes = logits.shape[logits.rank - 1]!;
  const logp = logits.logSoftmax(-1);
  let target: Tensor;
  if (labels.dtype === "int32") {
    const batch = logits.shape.slice(0, -1);
    if (labels.rank !== batch.length || labels.shape.some((d, i) => d !== batch[i])) {
      throw new RangeError(
        `${op}: int32 labels are class indices of shape [${batch.join(",")}] for logits [${logits.shape.join(",")}], ` +
          `got [${labels.shape.join(",")}]`,
      );
    }
    target = oneHot(labels, classes, { dtype: logp.dtype });
  } else {
    if (labels.rank !== logits.rank || labels.shape.some((d, i) => d !== logits.shape[i])) {
      throw new RangeError(
        `${op}: float labels are probabilities shaped like the logits [${logits.shape.join(",")}], got [${labels.shape.join(",")}]; ` +
          `class indices must be int32 (labels.cast('int32'))`,
      );
    }
    target = labels;
  }
  return reduce(op, target.mul(logp).sum(-1).neg(), options);
}

/**
 * Sigmoid cross-entropy (binary cross-entropy on logits) `−z log σ(x) − (1 − z) log(1 − σ(x))`, computed
 * as `max(x, 0) − x z + log(1 + e^−|x|)`, which is finite for any logit.
 * @param logits float, any shape.
 * @param labels the same shape, each in [0, 1].
 * @param options `reduction` (`'none'` keeps the elementwise losses).
 * @returns a scalar, or the elementwise losses.
 * @example `sigmoidCrossEntropy(tensor([0]), tensor([1]))` is `ln 2`.
 */
export function sigmoidCrossEntropy(logits: Tensor, labels: Tensor, options?: LossOptions): Tensor {
  sameShape("sigmoidCrossEntropy", logits, labels, "logits", "labels");
  const z = floatOf(labels, logits);
  const l = logits.relu().sub(logits.mul(z)).add(logits.abs().neg().exp().log1p());
  return reduce("sigmoidCrossEntropy", l, options);
}

/**
 * Kullback–Leibler divergence `KL(expected ‖ predicted) = Σ e · (log e − log p)` over the last axis
 * (Kullback & Leibler, 1951, "On Information and Sufficiency"), with `0 · log 0 = 0`.
 * @param predicted probabilities `[...batch, classes]`.
 * @param expected probabilities of the same shape.
 * @param options `reduction` (`'none'` gives one divergence per example, `[...batch]`).
 * @returns a scalar, or the per-example divergences.
 * @example `kullbackLeiblerDivergence(tensor([[0.5, 0.5]]), tensor([[0.5, 0.5]]))` is `0`.
 */
export function kullbackLeiblerDivergence(predicted: Tensor, expected: Tensor, options?: LossOptions): Tensor {
  sameShape("kullbackLeiblerDivergence", predicted, expected, "predicted", "expected");
  if (predicted.rank < 1) throw new RangeError("kullbackLeiblerDivergence: needs a class axis; got scalars");
  const e = floatOf(expected, predicted);
  const positive = e.greater(0);
  const safe = where(positive, e, 1); // log(1) = 0 where e = 0, so no 0·∞ and no NaN gradient
  return reduce("kullbackLeiblerDivergence", e.mul(safe.log().sub(predicted.log())).sum(-1), options);
}

/**
 * Hinge loss `max(0, 1 − expected · predicted)` for labels in {−1, 1} (the soft-margin loss of support
 * vector machines; Cortes & Vapnik, 1995, "Support-Vector Networks").
 * @param predicted float scores, any shape.
 * @param expected labels −1 or 1, the same shape.
 * @param options `reduction`.
 * @returns a scalar, or the elementwise losses.
 * @example `hingeLoss(tensor([0.5, -2]), tensor([1, -1]))` is `0.25`.
 */
export function hingeLoss(predicted: Tensor, expected: Tensor, options?: LossOptions): Tensor {
  sameShape("hingeLoss", predicted, expected, "predicted", "expected");
  return reduce("hingeLoss", predicted.mul(floatOf(expected, predicted)).neg().add(1).relu(), options);
}
