/**
 * The embedding table.
 */
import { Tensor } from "../tensor/tensor.js";
import type { RandomKey } from "../tensor/random.js";
import { differentiable } from "../keypaths/decorators.js";
import { Layer } from "./layer.js";
import { randomUniformInitializer, layerKey, type FloatDType, type Initializer } from "./initializers.js";
import { positiveInt } from "./dense.js";

/**
 * Options of {@link Embedding}.
 * @category Layers
 */
export interface EmbeddingOptions {
  /** The number of distinct indices. */
  vocabularySize: number;
  /** The length of each embedding vector. */
  embeddingSize: number;
  /** Seed (or key) of the initializer; without one the global generator is used. */
  seed?: number | RandomKey;
  /** The table's dtype (default `'float32'`). */
  dtype?: FloatDType;
  /** Initializer of the table (default uniform in [−0.05, 0.05)). */
  embeddingsInitializer?: Initializer;
}

/**
 * A lookup table of learned vectors, one per index (Bengio, Ducharme, Vincent & Jauvin, 2003, "A Neural
 * Probabilistic Language Model"). The input is int32 indices; the gradient with respect to the table adds
 * each output row's cotangent into the row it was read from.
 *
 * @example
 * ```ts
 * const emb = new Embedding({ vocabularySize: 100, embeddingSize: 8, seed: 0 });
 * const ids = tensor([[1, 2, 3], [3, 3, 0]], { dtype: "int32" });
 * emb.callAsFunction(ids).shape; // [2, 3, 8]
 * // The gradient reaches only the rows that were looked up (row 3 three times):
 * const g = gradient(emb, (e) => e.callAsFunction(ids).sum());
 * g.embeddings.sum(1).slice([0], [5]); // [8, 8, 8, 24, 0]
 * ```
 * @category Layers
 */
export class Embedding extends Layer<Tensor, Tensor> {
  /** `[vocabularySize, embeddingSize]`. */
  @differentiable embeddings: Tensor;

  /** @param options sizes, seed, dtype and initializer. */
  constructor(options: EmbeddingOptions) {
    super();
    positiveInt("Embedding", "vocabularySize", options.vocabularySize);
    positiveInt("Embedding", "embeddingSize", options.embeddingSize);
    const init = options.embeddingsInitializer ?? randomUniformInitializer();
    this.embeddings = init([options.vocabularySize, options.embeddingSize], { seed: layerKey(options.seed), dtype: options.dtype ?? "float32" });
  }

  /**
   * Looks up the vectors.
   * @param input int32 indices of any shape, each in `[0, vocabularySize)`.
   * @returns `[...input.shape, embeddingSize]`.
   */
  callAsFunction(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) throw new TypeError(`Embedding: the input must be an int32 Tensor of indices, got ${typeof input}`);
    if (input.dtype !== "int32") {
      throw new TypeError(`Embedding: the input must be int32 indices, got a ${input.dtype} tensor; convert it with cast('int32')`);
    }
    return this.embeddings.gather(input, 0);
  }
}
