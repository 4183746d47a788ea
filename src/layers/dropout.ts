/**
 * Dropout, the layer that behaves differently in the two learning phases.
 */
import { Tensor } from "../tensor/tensor.js";
import { randomUniform, RandomKey } from "../tensor/random.js";
import { noDerivative } from "../keypaths/decorators.js";
import { Layer } from "./layer.js";
import { learningPhase } from "./phase.js";

/** Options of {@link Dropout}. */
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
 * drop.callAsFunction(ones([4])); // inference: [1, 1, 1, 1]
 * withLearningPhase("training", () => drop.callAsFunction(ones([4]))); // e.g. [2, 0, 2, 0]
 * ```
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
    if (learningPhase() === "inference" || this.probability === 0) return input;
    const dtype = input.dtype === "float64" ? "float64" : "float32";
    const seed = this.key === undefined ? undefined : this.key.foldIn(this.state.calls++ % 4294967296);
    const keep = randomUniform(input.shape, { seed, dtype }).greaterEqual(this.probability).cast(dtype);
    return input.mul(keep.mul(1 / (1 - this.probability)));
  }
}
