/**
 * `Sequential`: layers applied one after another, with the chain checked by the compiler.
 */
import { Layer, differentiableGeneric, type InputOf, type OutputOf } from "./layer.js";

/**
 * Any layer, whatever its input and output.
 * @category Layers
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyLayer = Layer<any, any>;

/** The last element of a tuple. */
type Last<L extends readonly unknown[]> = L extends readonly [...unknown[], infer X] ? X : never;

/**
 * The tuple `L` with every layer after the first required to accept the previous layer's output: a layer
 * whose input type does not match fails to type-check at the argument that breaks the chain.
 * @category Layers
 */
export type Chained<L extends readonly unknown[]> = L extends readonly [infer A, infer B, ...infer Rest]
  ? readonly [A, ...Chained<readonly [Layer<OutputOf<A>, OutputOf<B>> & B, ...Rest]>]
  : L;

/**
 * Layers applied in order: `Sequential(a, b, c)` computes `c(b(a(x)))` (Swift's `Sequential` and the
 * Keras model of the same name). Its input type is the first layer's input and its output type the last
 * layer's output; each layer must accept the previous one's output, or the call does not compile. The
 * layers are the differentiable stored property `layers`, so key paths read `layers.0.weight`.
 *
 * @typeParam L the tuple of layer types.
 * @example
 * ```ts
 * const model = new Sequential(
 *   new Conv2D({ filterShape: [3, 3, 1, 8], padding: "same", activation: relu, seed: 0 }),
 *   new MaxPool2D({ poolSize: 2 }),
 *   new Flatten(),
 *   new Dense({ inputSize: 14 * 14 * 8, outputSize: 10, seed: 1 }),
 * );
 * model.callAsFunction(zeros([4, 28, 28, 1])).shape; // [4, 10]
 * ```
 * @category Layers
 */
export class Sequential<L extends readonly [AnyLayer, ...AnyLayer[]]> extends Layer<InputOf<L[0]>, OutputOf<Last<L>>> {
  /** The layers, in order. */
  @differentiableGeneric layers: L;

  /** @param layers at least one layer; each must accept the previous one's output. */
  constructor(...layers: L & Chained<L>) {
    super();
    if (layers.length === 0) throw new RangeError("Sequential: needs at least one layer");
    layers.forEach((l, i) => {
      if (typeof (l as { callAsFunction?: unknown } | null)?.callAsFunction !== "function") {
        throw new TypeError(`Sequential: argument ${i} is not a layer (it has no callAsFunction method)`);
      }
    });
    this.layers = layers;
  }

  /**
   * Applies the layers in order.
   * @param input the first layer's input.
   * @returns the last layer's output.
   */
  callAsFunction(input: InputOf<L[0]>): OutputOf<Last<L>> {
    let x: unknown = input;
    for (const layer of this.layers) x = (layer as Layer<unknown, unknown>).callAsFunction(x);
    return x as OutputOf<Last<L>>;
  }
}
