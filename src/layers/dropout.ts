/**
 * Dropout and alpha dropout, the layers that behave differently in the two learning phases.
 */
import { Tensor } from "../tensor/tensor.js";
import { randomUniform, RandomKey } from "../tensor/random.js";
import { noDerivative } from "../keypaths/decorators.js";
import { Layer } from "./layer.js";
import { learningPhase } from "./phase.js";

/**
 * Options of {@link Dropout}.
 * @category Layers
 */
export interface DropoutOptions {
  /** The probability of zeroing each element, in `[0, 1)`. */
  probability: number;
  /** Seed (or key) of the masks; the n-th training call uses `key.foldIn(n)`. Without one, the global generator. */
  seed?: number | RandomKey;
}

/** Mutable per-layer state shared by the copies that differential operators make of a layer. */
interface DropoutState {
  calls: number;
}

/**
 * Dropout (Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov, 2014, "Dropout: A Simple Way to
 * Prevent Neural Networks from Overfitting"), in its "inverted" form: in the training phase each element is
 * zeroed with probability `p` and the survivors are scaled by `1 / (1 − p)`, so the inference phase is the
 * identity. The phase comes from {@link withLearningPhase}.
 *
 * @example
 * ```ts
 * const drop = new Dropout({ probability: 0.5, seed: 0 });
 * // Inference (the default phase) is the identity:
 * drop.callAsFunction(ones([4])); // [1, 1, 1, 1]
 * // In training, survivors are scaled by 1 / (1 − 0.5); each call draws a new mask (fixed by the seed):
 * withLearningPhase("training", () => drop.callAsFunction(ones([4]))); // [0, 0, 2, 2]
 * withLearningPhase("training", () => drop.callAsFunction(ones([4]))); // [0, 2, 0, 0]
 * ```
 * @category Layers
 */
export class Dropout extends Layer<Tensor, Tensor> {
  /** The probability of dropping an element. */
  @noDerivative readonly probability: number;
  private readonly key: RandomKey | undefined;
  private readonly state: DropoutState;

  /** @param options probability and seed. */
  constructor(options: DropoutOptions) {
    super();
    const p = options.probability;
    if (typeof p !== "number" || !(p >= 0 && p < 1)) {
      throw new RangeError(`Dropout: probability must be in [0, 1), got ${String(p)}`);
    }
    this.probability = p;
    this.key = options.seed === undefined ? undefined : options.seed instanceof RandomKey ? options.seed : RandomKey.of(options.seed);
    this.state = { calls: 0 };
  }

  /**
   * Applies dropout in the training phase; the identity in inference.
   * @param input a float tensor of any shape.
   * @returns a tensor of the same shape.
   */
  callAsFunction(input: Tensor): Tensor {
    const keep = this.keepMask(input);
    return keep === undefined ? input : input.mul(keep.mul(1 / (1 - this.probability)));
  }

  /**
   * @internal The mask of kept elements (1 kept, 0 dropped, in the input's float dtype) for this call, or
   * `undefined` in the inference phase or when `probability` is 0. Each training call advances the counter.
   */
  protected keepMask(input: Tensor): Tensor | undefined {
    if (learningPhase() === "inference" || this.probability === 0) return undefined;
    const dtype = input.dtype === "float64" ? "float64" : "float32";
    const seed = this.key === undefined ? undefined : this.key.foldIn(this.state.calls++ % 4294967296);
    return randomUniform(input.shape, { seed, dtype }).greaterEqual(this.probability).cast(dtype);
  }
}

/** `−λα` of the SELU activation (Klambauer et al., 2017): the value SELU tends to for large negative inputs. */
const SELU_NEGATIVE_SATURATION = -1.0507009873554805 * 1.6732632423543772;

/**
 * Alpha dropout (Klambauer, Unterthiner, Mayr & Hochreiter, 2017, "Self-Normalizing Neural Networks"), the
 * dropout of self-normalizing networks ({@link selu} activations with LeCun-normal weights): in the training
 * phase each element is replaced with probability `p` by SELU's negative saturation value
 * `α' = −λα ≈ −1.7581` (not by 0, which would shift the mean), and then everything is transformed
 * affinely, `y = a · (x ⊙ keep + α' · (1 − keep)) + b` with `a = ((1 − p)(1 + p α'²))^(−1/2)` and
 * `b = −a α' p`, so inputs of zero mean and unit variance keep them. The inference phase is the identity.
 * Masks follow the same seeding as {@link Dropout}. Swift's `AlphaDropout`.
 *
 * @example
 * ```ts
 * const drop = new AlphaDropout({ probability: 0.1, seed: 0 });
 * const z = randomNormal([10000], { seed: 1 }); // mean 0, variance 1
 * const y = withLearningPhase("training", () => drop.callAsFunction(z));
 * // Mean and variance stay about 0 and 1 (a tenth of the elements were replaced):
 * Math.abs(y.mean().item()) < 0.02;               // true
 * Math.abs(y.sub(y.mean()).square().mean().item() - 1) < 0.05; // true
 * // Inference is the identity:
 * drop.callAsFunction(z).sub(z).abs().max();      // 0
 * ```
 * @category Layers
 */
export class AlphaDropout extends Dropout {
  /**
   * Applies alpha dropout in the training phase; the identity in inference.
   * @param input a float tensor of any shape.
   * @returns a tensor of the same shape.
   */
  override callAsFunction(input: Tensor): Tensor {
    const keep = this.keepMask(input);
    if (keep === undefined) return input;
    const p = this.probability;
    const alpha = SELU_NEGATIVE_SATURATION;
    const a = 1 / Math.sqrt((1 - p) * (1 + p * alpha * alpha));
    const b = -a * alpha * p;
    // a · (x·keep + α'·(1 − keep)) + b = x · (a·keep) + (b + a·α' − a·α'·keep)
    return input.mul(keep.mul(a)).add(keep.mul(-a * alpha).add(b + a * alpha));
  }
}
