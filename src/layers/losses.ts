/**
 * Loss functions, written in differentiable primitives (no rules of their own). Each computes a loss
 * per element (or per example, for the ones that sum over a class axis) and reduces it as asked:
 * `'mean'` (the default), `'sum'`, or `'none'` (the unreduced tensor). Anything with an exponential is
 * computed in a form that cannot overflow: cross-entropies go through log-sum-exp and `softplus`, so
 * logits of ±1e4 give finite losses and gradients.
 *
 * A loss that is smooth is written with smooth pieces only, so its derivatives are exact everywhere, to
 * every order: `softplus` (a primitive whose derivative is `sigmoid`) rather than `relu` and `abs`, and a
 * `where` between the two branches of the Huber loss rather than `|d|` (whose derivative at 0 is a
 * convention). The kinks that remain are the losses' own (`|d|` in the L1 losses, the margin of the hinge
 * losses, a tie in the categorical hinge's maximum).
 */
import { Tensor } from "../tensor/tensor.js";
import { oneHot } from "../tensor/ranges.js";
import { where, maximum } from "../ops/binary.js";

/**
 * How a loss reduces its per-element (or per-example) values.
 * @category Layers
 */
export type Reduction = "mean" | "sum" | "none";

/**
 * Options of every loss.
 * @category Layers
 */
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
 * @example
 * ```ts
 * meanSquaredError(tensor([1, 2]), tensor([1, 4]));                        // 2
 * meanSquaredError(tensor([1, 2]), tensor([1, 4]), { reduction: "none" }); // [0, 4]
 * // Regression: the gradient of the loss with respect to a model's parameters.
 * const model = new Dense({ inputSize: 3, outputSize: 1, seed: 0 });
 * const target = tensor([[1], [2]]);
 * const g = gradient(model, (m) => meanSquaredError(m.callAsFunction(x), target));
 * g.weight.shape; // [3, 1]
 * ```
 * @category Layers
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
 * @example
 * ```ts
 * meanAbsoluteError(tensor([1, 2]), tensor([1, 4])); // 1
 * ```
 * @category Layers
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
 * @example
 * ```ts
 * // Errors −0.5 (quadratic: ½ · 0.25) and 3 (linear: 3 − ½).
 * huberLoss(tensor([0, 3]), tensor([0.5, 0]), { reduction: "none" }); // [0.125, 2.5]
 * huberLoss(tensor([0, 3]), tensor([0.5, 0]));                        // 1.3125
 * huberLoss(tensor([0, 3]), tensor([0.5, 0]), { delta: 2 });          // 2.0625
 * ```
 * @category Layers
 */
export function huberLoss(predicted: Tensor, expected: Tensor, options?: LossOptions & { delta?: number }): Tensor {
  sameShape("huberLoss", predicted, expected, "predicted", "expected");
  const delta = options?.delta ?? 1;
  if (!(delta > 0)) throw new RangeError(`huberLoss: delta must be positive, got ${delta}`);
  const d = predicted.sub(floatOf(expected, predicted));
  const a = d.abs();
  // Two smooth branches joined by `where`: the quadratic one holds d = 0, so the second derivative there
  // is 1 (through |d|, whose second derivative is 0, it would be 0). At |d| = δ the quadratic side is taken.
  const l = where(a.lessEqual(delta), d.mul(d).mul(0.5), a.sub(delta / 2).mul(delta));
  return reduce("huberLoss", l, options);
}

/**
 * Log-cosh loss `log(cosh(predicted − expected))`, computed as `softplus(−2d) + d − log 2` so large
 * errors do not overflow; about `½ d²` for small errors and `|d| − log 2` for large ones.
 * @param predicted a float tensor of any shape.
 * @param expected a tensor of the same shape.
 * @param options `reduction`.
 * @returns a scalar, or the elementwise losses.
 * @example
 * ```ts
 * logCoshLoss(tensor([0, 1, 100]), tensor([0, 0, 0]), { reduction: "none" }); // [0, 0.4338, 99.3069]
 * ```
 * @category Layers
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
 * softmaxCrossEntropy(tensor([[0, 0]]), tensor([1], { dtype: "int32" })); // 0.6931
 * // The same with probabilities as labels:
 * softmaxCrossEntropy(tensor([[0, 0]]), tensor([[0, 1]]));                 // 0.6931
 * // A classifier's training loss, for a batch of two examples of 3 features and 4 classes:
 * const classifier = new Dense({ inputSize: 3, outputSize: 4, seed: 0 });
 * const labels = tensor([2, 0], { dtype: "int32" });
 * const { value, gradient: g } = valueWithGradient(classifier, (m) => softmaxCrossEntropy(m.callAsFunction(x), labels));
 * value.shape;    // []
 * g.weight.shape; // [3, 4]
 * ```
 * @category Layers
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
 * as `softplus(x) − x z`, which is finite for any logit and has the exact gradient `σ(x) − z` everywhere
 * (`0.5 − z` at a logit of exactly 0, what a zero-initialised output layer produces).
 * @param logits float, any shape.
 * @param labels the same shape, each in [0, 1].
 * @param options `reduction` (`'none'` keeps the elementwise losses).
 * @returns a scalar, or the elementwise losses.
 * @example
 * ```ts
 * sigmoidCrossEntropy(tensor([0]), tensor([1]));             // 0.6931
 * // Finite for any logit:
 * sigmoidCrossEntropy(tensor([-1e4, 1e4]), tensor([1, 1]), { reduction: "none" }); // [10000, 0]
 * ```
 * @category Layers
 */
export function sigmoidCrossEntropy(logits: Tensor, labels: Tensor, options?: LossOptions): Tensor {
  sameShape("sigmoidCrossEntropy", logits, labels, "logits", "labels");
  const z = floatOf(labels, logits);
  const l = logits.softplus().sub(logits.mul(z));
  return reduce("sigmoidCrossEntropy", l, options);
}

/**
 * Kullback–Leibler divergence `KL(expected ‖ predicted) = Σ e · (log e − log p)` over the last axis
 * (Kullback & Leibler, 1951, "On Information and Sufficiency"), with `0 · log 0 = 0`.
 * @param predicted probabilities `[...batch, classes]`.
 * @param expected probabilities of the same shape.
 * @param options `reduction` (`'none'` gives one divergence per example, `[...batch]`).
 * @returns a scalar, or the per-example divergences.
 * @example
 * ```ts
 * kullbackLeiblerDivergence(tensor([[0.5, 0.5]]), tensor([[0.5, 0.5]]));   // 0
 * // ½ (log ½ − log ¼) + ½ (log ½ − log ¾):
 * kullbackLeiblerDivergence(tensor([[0.25, 0.75]]), tensor([[0.5, 0.5]])); // 0.1438
 * // A zero-probability target class contributes nothing:
 * kullbackLeiblerDivergence(tensor([[0.5, 0.5]]), tensor([[1, 0]]));       // 0.6931
 * ```
 * @category Layers
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
 * @example
 * ```ts
 * hingeLoss(tensor([0.5, -2]), tensor([1, -1]), { reduction: "none" }); // [0.5, 0]
 * hingeLoss(tensor([0.5, -2]), tensor([1, -1]));                        // 0.25
 * ```
 * @category Layers
 */
export function hingeLoss(predicted: Tensor, expected: Tensor, options?: LossOptions): Tensor {
  sameShape("hingeLoss", predicted, expected, "predicted", "expected");
  return reduce("hingeLoss", predicted.mul(floatOf(expected, predicted)).neg().add(1).relu(), options);
}

/**
 * L1 loss `|predicted − expected|`, summed by default (Swift's `l1Loss`): the L1 norm of the error. With
 * `reduction: 'mean'` it is {@link meanAbsoluteError}.
 * @param predicted a float tensor of any shape.
 * @param expected a tensor of the same shape.
 * @param options `reduction` (default `'sum'`).
 * @returns a scalar, or the elementwise losses.
 * @example
 * ```ts
 * l1Loss(tensor([1, 2]), tensor([1, 4]));                        // 2
 * l1Loss(tensor([1, 2]), tensor([1, 4]), { reduction: "mean" }); // 1
 * ```
 * @category Layers
 */
export function l1Loss(predicted: Tensor, expected: Tensor, options?: LossOptions): Tensor {
  sameShape("l1Loss", predicted, expected, "predicted", "expected");
  return reduce("l1Loss", predicted.sub(floatOf(expected, predicted)).abs(), { reduction: options?.reduction ?? "sum" });
}

/**
 * L2 loss `(predicted − expected)²`, summed by default (Swift's `l2Loss`): the squared L2 norm of the error,
 * without the `½` of TensorFlow's `tf.nn.l2_loss`. With `reduction: 'mean'` it is {@link meanSquaredError}.
 * @param predicted a float tensor of any shape.
 * @param expected a tensor of the same shape.
 * @param options `reduction` (default `'sum'`).
 * @returns a scalar, or the elementwise losses.
 * @example
 * ```ts
 * l2Loss(tensor([1, 2]), tensor([1, 4]));                        // 4
 * l2Loss(tensor([1, 2]), tensor([1, 4]), { reduction: "mean" }); // 2
 * ```
 * @category Layers
 */
export function l2Loss(predicted: Tensor, expected: Tensor, options?: LossOptions): Tensor {
  sameShape("l2Loss", predicted, expected, "predicted", "expected");
  const d = predicted.sub(floatOf(expected, predicted));
  return reduce("l2Loss", d.mul(d), { reduction: options?.reduction ?? "sum" });
}

/**
 * Mean squared logarithmic error `(log(1 + max(predicted, 0)) − log(1 + max(expected, 0)))²`, for
 * non-negative targets spanning orders of magnitude (it penalizes ratios rather than differences).
 * Negative values are clamped to 0 as in Swift and Keras, so the logarithms are always finite; `log1p` keeps
 * small values exact. The gradient is zero where `predicted < 0`.
 * @param predicted a float tensor of any shape.
 * @param expected a tensor of the same shape.
 * @param options `reduction`.
 * @returns a scalar, or the elementwise losses.
 * @example
 * ```ts
 * // log(1 + (e − 1)) − log(1 + 0) = 1:
 * meanSquaredLogarithmicError(tensor([Math.E - 1]), tensor([0])); // 1
 * // Ratios count, not differences: 99 for 999 costs as much as 9 for 99.
 * meanSquaredLogarithmicError(tensor([99, 9]), tensor([999, 99]), { reduction: "none" }); // [5.3019, 5.3019]
 * ```
 * @category Layers
 */
export function meanSquaredLogarithmicError(predicted: Tensor, expected: Tensor, options?: LossOptions): Tensor {
  sameShape("meanSquaredLogarithmicError", predicted, expected, "predicted", "expected");
  const d = maximum(predicted, 0).log1p().sub(maximum(floatOf(expected, predicted), 0).log1p());
  return reduce("meanSquaredLogarithmicError", d.mul(d), options);
}

/**
 * Mean absolute percentage error `100 · |predicted − expected| / max(|expected|, ε)`. The floor `ε` on
 * the denominator (as in Keras; Swift divides by `|expected|` alone) keeps a zero target from producing
 * `∞` or `NaN`; it only matters for targets smaller than `ε`.
 * @param predicted a float tensor of any shape.
 * @param expected a tensor of the same shape.
 * @param options `epsilon` (ε, default 1e-7) and `reduction`.
 * @returns a scalar, or the elementwise losses (in percent).
 * @example
 * ```ts
 * meanAbsolutePercentageError(tensor([1, 3]), tensor([2, 2])); // 50
 * ```
 * @category Layers
 */
export function meanAbsolutePercentageError(predicted: Tensor, expected: Tensor, options?: LossOptions & { epsilon?: number }): Tensor {
  sameShape("meanAbsolutePercentageError", predicted, expected, "predicted", "expected");
  const epsilon = options?.epsilon ?? 1e-7;
  if (!(epsilon > 0)) throw new RangeError(`meanAbsolutePercentageError: epsilon must be positive, got ${epsilon}`);
  const e = floatOf(expected, predicted);
  return reduce("meanAbsolutePercentageError", predicted.sub(e).abs().div(maximum(e.abs(), epsilon)).mul(100), options);
}

/**
 * Squared hinge loss `max(0, 1 − expected · predicted)²` for labels in {−1, 1} (the L2-SVM loss; Lee &
 * Mangasarian, 2001, "SSVM: A Smooth Support Vector Machine for Classification"). Unlike {@link hingeLoss}
 * it is differentiable at the margin.
 * @param predicted float scores, any shape.
 * @param expected labels −1 or 1, the same shape.
 * @param options `reduction`.
 * @returns a scalar, or the elementwise losses.
 * @example
 * ```ts
 * squaredHingeLoss(tensor([0.5, -2]), tensor([1, -1]), { reduction: "none" }); // [0.25, 0]
 * squaredHingeLoss(tensor([0.5, -2]), tensor([1, -1]));                        // 0.125
 * ```
 * @category Layers
 */
export function squaredHingeLoss(predicted: Tensor, expected: Tensor, options?: LossOptions): Tensor {
  sameShape("squaredHingeLoss", predicted, expected, "predicted", "expected");
  const h = predicted.mul(floatOf(expected, predicted)).neg().add(1).relu();
  return reduce("squaredHingeLoss", h.mul(h), options);
}

/**
 * Categorical hinge loss over the last (class) axis, as Swift and Keras define it:
 * `max(0, 1 + max_j((1 − e_j) · p_j) − Σ_j e_j · p_j)` for one-hot `expected` `e`. It is the multiclass
 * hinge of Crammer & Singer, 2001 ("On the Algorithmic Implementation of Multiclass Kernel-based Vector
 * Machines"), `max(0, 1 + max_{j≠y} p_j − p_y)`, whenever some wrong class scores at least 0; otherwise the
 * true class's own term `(1 − 1) · p_y = 0` takes the maximum and the loss is `max(0, 1 − p_y)`.
 * @param predicted scores `[...batch, classes]`.
 * @param expected one-hot labels of the same shape.
 * @param options `reduction` (`'none'` gives one loss per example, `[...batch]`).
 * @returns a scalar, or the per-example losses.
 * @example
 * ```ts
 * // Class 0 wins by a margin of 1 in the first example; loses to class 2 by 0.5 in the second.
 * const scores = tensor([[2, 0.5, 1], [1, 0.5, 1.5]]);
 * const labels = tensor([[1, 0, 0], [1, 0, 0]]);
 * categoricalHingeLoss(scores, labels, { reduction: "none" }); // [0, 1.5]
 * categoricalHingeLoss(scores, labels);                        // 0.75
 * ```
 * @category Layers
 */
export function categoricalHingeLoss(predicted: Tensor, expected: Tensor, options?: LossOptions): Tensor {
  sameShape("categoricalHingeLoss", predicted, expected, "predicted", "expected");
  if (predicted.rank < 1) throw new RangeError("categoricalHingeLoss: needs a class axis; got scalars");
  const e = floatOf(expected, predicted);
  const positive = e.mul(predicted).sum(-1);
  const negative = e.neg().add(1).mul(predicted).max(-1);
  return reduce("categoricalHingeLoss", negative.sub(positive).add(1).relu(), options);
}

/**
 * Poisson loss: the negative log-likelihood of counts `expected` under Poisson rates `predicted`, without
 * the term `log(expected!)`, which does not depend on the prediction: `predicted − expected · log(predicted)`
 * (Swift's `poissonLoss`). The product takes `0 · log 0 = 0`: where both are 0 the logarithm is fed 1, so a
 * zero rate with a zero count gives loss 0 and a finite gradient, not `NaN`. A zero rate with a positive
 * count is a true `∞`.
 *
 * With `logInput: true`, `predicted` is the log-rate `x` (what a network outputs before an exponential) and
 * the loss is `exp(x) − expected · x`: finite for any `x`, with no logarithm to guard (PyTorch's
 * `PoissonNLLLoss(log_input=True)`).
 * @param predicted rates (non-negative) or, with `logInput`, log-rates; any shape.
 * @param expected counts (non-negative), the same shape.
 * @param options `logInput` (default false) and `reduction`.
 * @returns a scalar, or the elementwise losses.
 * @example
 * ```ts
 * // Rate 1 for a count of 1: 1 − 1 · log 1; rate 2 for a count of 0: 2.
 * poissonLoss(tensor([1, 2]), tensor([1, 0]), { reduction: "none" }); // [1, 2]
 * poissonLoss(tensor([1, 2]), tensor([1, 0]));                        // 1.5
 * // The same rates given as logarithms:
 * poissonLoss(tensor([0, Math.LN2]), tensor([1, 0]), { logInput: true }); // 1.5
 * ```
 * @category Layers
 */
export function poissonLoss(predicted: Tensor, expected: Tensor, options?: LossOptions & { logInput?: boolean }): Tensor {
  sameShape("poissonLoss", predicted, expected, "predicted", "expected");
  const e = floatOf(expected, predicted);
  if (options?.logInput === true) return reduce("poissonLoss", predicted.exp().sub(e.mul(predicted)), options);
  // Where both are 0 the logarithm is fed 1 (0 · log 1 = 0): no 0·(−∞) and no NaN gradient. Elsewhere it
  // sees the rate itself, so the derivative in `expected`, −log(predicted), stays exact at zero counts.
  const safe = where(predicted.equal(0).mul(e.equal(0)), 1, predicted);
  return reduce("poissonLoss", predicted.sub(e.mul(safe.log())), options);
}

/**
 * Cosine similarity of `predicted` and `expected` along the last axis,
 * `Σ p·e / (max(‖p‖, ε) · max(‖e‖, ε))`, in [−1, 1]. It is a similarity, not a loss: to make two vectors
 * point the same way, minimize its negation (Keras's `CosineSimilarity` loss) or the cosine distance
 * `1 − cosineSimilarity`. The floor `ε` on each norm keeps a zero vector at similarity 0 with a finite
 * gradient: the norm is computed as `√max(‖v‖², ε²)`, so the square root is never taken at 0. (Swift has a
 * `cosineSimilarity` over all elements among its tensor operations, not its losses; this one reduces per
 * example, like the losses here, and takes their `reduction`.)
 * @param predicted `[...batch, features]`.
 * @param expected the same shape.
 * @param options `epsilon` (ε, default 1e-8) and `reduction` (`'none'` gives one similarity per example,
 *   `[...batch]`).
 * @returns a scalar, or the per-example similarities.
 * @example
 * ```ts
 * const a = tensor([[1, 0], [1, 1], [1, 0]]);
 * const b = tensor([[2, 0], [-1, -1], [0, 3]]);
 * cosineSimilarity(a, b, { reduction: "none" }); // [1, -1, 0]
 * // As a loss that aligns the predictions with the targets:
 * const loss = cosineSimilarity(a, b).neg();
 * loss; // 0
 * ```
 * @category Layers
 */
export function cosineSimilarity(predicted: Tensor, expected: Tensor, options?: LossOptions & { epsilon?: number }): Tensor {
  sameShape("cosineSimilarity", predicted, expected, "predicted", "expected");
  if (predicted.rank < 1) throw new RangeError("cosineSimilarity: needs a feature axis; got scalars");
  const epsilon = options?.epsilon ?? 1e-8;
  if (!(epsilon > 0)) throw new RangeError(`cosineSimilarity: epsilon must be positive, got ${epsilon}`);
  const e = floatOf(expected, predicted);
  const inverseNorm = (v: Tensor): Tensor => maximum(v.mul(v).sum(-1), epsilon * epsilon).rsqrt();
  return reduce("cosineSimilarity", predicted.mul(e).sum(-1).mul(inverseNorm(predicted)).mul(inverseNorm(e)), options);
}
