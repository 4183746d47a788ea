/**
 * Recurrent cells and the layer that runs a cell over a sequence, after Swift for TensorFlow's
 * `RecurrentLayerCell` / `RecurrentLayer`. A cell maps `{ input, state }` at one time step to
 * `{ output, state }`; {@link RNN} unrolls it over the time axis of a `[batch, time, features]` tensor, and
 * differentiation goes back through every step (backpropagation through time). {@link Bidirectional} runs
 * two of them, one over the reversed sequence.
 */
import { Tensor } from "../tensor/tensor.js";
import type { RandomKey } from "../tensor/random.js";
import { zeros } from "../tensor/creation.js";
import { concat, stack } from "../ops/movement.js";
import { differentiable, noDerivative } from "../keypaths/decorators.js";
import { Layer, expectRank, expectLastDim, differentiableGeneric } from "./layer.js";
import { tanh, type Activation } from "./activations.js";
import { glorotUniform, orthogonal, zerosInitializer, layerKey, type FloatDType, type Initializer } from "./initializers.js";
import { positiveInt } from "./dense.js";

/**
 * The input of a recurrent cell at one time step.
 * @category Layers
 */
export interface RNNCellInput<State> {
  /** `[batch, inputSize]`. */
  input: Tensor;
  /** The state carried from the previous step. */
  state: State;
}

/**
 * The output of a recurrent cell at one time step.
 * @category Layers
 */
export interface RNNCellOutput<State> {
  /** `[batch, hiddenSize]`. */
  output: Tensor;
  /** The state passed to the next step. */
  state: State;
}

/**
 * The base class of recurrent cells: a layer from {@link RNNCellInput} to {@link RNNCellOutput}, plus the
 * zero state a sequence starts from.
 * @typeParam State the state carried between steps (a tensor, or `{ cell, hidden }` for an LSTM).
 * @example
 * ```ts
 * const cell = new GRUCell({ inputSize: 3, hiddenSize: 5, seed: 0 });
 * const { output, state } = cell.callAsFunction({ input: zeros([2, 3]), state: cell.zeroState(2) });
 * output.shape; // [2, 5]
 * state.shape;  // [2, 5]
 * ```
 * @category Layers
 */
export abstract class RecurrentCell<State> extends Layer<RNNCellInput<State>, RNNCellOutput<State>> {
  /**
   * The initial state for a batch.
   * @param batchSize the number of sequences.
   * @returns zeros of the state's shape.
   */
  abstract zeroState(batchSize: number): State;
}

/**
 * Options shared by the cells.
 * @category Layers
 */
export interface RecurrentCellOptions {
  /** Features per time step. */
  inputSize: number;
  /** Size of the hidden state (and of the output). */
  hiddenSize: number;
  /** Seed (or key) of the initializers; without one the global generator is used. */
  seed?: number | RandomKey;
  /** The parameters' dtype (default `'float32'`). */
  dtype?: FloatDType;
  /** Initializer of the input-to-hidden weights (default {@link glorotUniform}). */
  weightInitializer?: Initializer;
  /** Initializer of the hidden-to-hidden weights (default {@link orthogonal}). */
  recurrentInitializer?: Initializer;
}

/** Builds a fused `[inputSize + hiddenSize, columns]` weight: a Glorot block for the input, an orthogonal one per gate for the state. */
function fusedWeight(o: RecurrentCellOptions, gates: number, key: RandomKey): Tensor {
  const dtype = o.dtype ?? "float32";
  const [ik, rk] = key.split(2) as [RandomKey, RandomKey];
  const h = o.hiddenSize;
  const wi = (o.weightInitializer ?? glorotUniform())([o.inputSize, gates * h], { seed: ik, dtype });
  const rec = o.recurrentInitializer ?? orthogonal();
  const blocks = rk.split(gates).map((k) => rec([h, h], { seed: k, dtype }));
  return concat([wi, concat(blocks, 1)], 0);
}

function checkSizes(layer: string, o: RecurrentCellOptions): void {
  positiveInt(layer, "inputSize", o.inputSize);
  positiveInt(layer, "hiddenSize", o.hiddenSize);
}

/**
 * The simple (Elman) recurrent cell `h' = activation([x, h] · weight + bias)` (Elman, 1990, "Finding
 * Structure in Time"). Swift's `BasicRNNCell`. Its state is the hidden tensor `[batch, hiddenSize]`.
 *
 * @example
 * ```ts
 * const cell = new SimpleRNNCell({ inputSize: 4, hiddenSize: 8, seed: 0 });
 * const { output, state } = cell.callAsFunction({ input: zeros([2, 4]), state: cell.zeroState(2) });
 * output.shape; // [2, 8]
 * // Its state is the output itself:
 * output.sub(state).abs().max(); // 0
 * ```
 * @category Layers
 */
export class SimpleRNNCell extends RecurrentCell<Tensor> {
  /** `[inputSize + hiddenSize, hiddenSize]`. */
  @differentiable weight: Tensor;
  /** `[hiddenSize]`. */
  @differentiable bias: Tensor;
  /** The nonlinearity ({@link tanh} by default). */
  @noDerivative readonly activation: Activation;
  /** Features per step. */
  @noDerivative readonly inputSize: number;
  /** State size. */
  @noDerivative readonly hiddenSize: number;

  /** @param options sizes, activation, seed, dtype and initializers. */
  constructor(options: RecurrentCellOptions & { activation?: Activation }) {
    super();
    checkSizes("SimpleRNNCell", options);
    const [wk, bk] = layerKey(options.seed).split(2) as [RandomKey, RandomKey];
    this.inputSize = options.inputSize;
    this.hiddenSize = options.hiddenSize;
    this.activation = options.activation ?? tanh;
    this.weight = fusedWeight(options, 1, wk);
    this.bias = zerosInitializer()([options.hiddenSize], { seed: bk, dtype: options.dtype ?? "float32" });
  }

  /** @param batchSize the number of sequences. @returns zeros `[batchSize, hiddenSize]`. */
  zeroState(batchSize: number): Tensor {
    return zeros([batchSize, this.hiddenSize], { dtype: this.weight.dtype });
  }

  /**
   * One time step.
   * @param step `input` `[batch, inputSize]` and `state` `[batch, hiddenSize]`.
   * @returns the new hidden state as both `output` and `state`.
   */
  callAsFunction(step: RNNCellInput<Tensor>): RNNCellOutput<Tensor> {
    expectLastDim("SimpleRNNCell", step.input, this.inputSize, "features");
    const h = this.activation(concat([step.input, step.state], 1).matmul(this.weight).add(this.bias));
    return { output: h, state: h };
  }
}

/**
 * The state of an {@link LSTMCell}.
 * @category Layers
 */
export interface LSTMState {
  /** The memory cell `c`, `[batch, hiddenSize]`. */
  cell: Tensor;
  /** The hidden state `h` (also the output), `[batch, hiddenSize]`. */
  hidden: Tensor;
}

/**
 * The long short-term memory cell (Hochreiter & Schmidhuber, 1997, "Long Short-Term Memory"), with the
 * forget gate of Gers, Schmidhuber & Cummins, 2000:
 * `[i, f, g, o] = [x, h] · fusedWeight + fusedBias`,
 * `c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g)`, `h' = σ(o) ⊙ tanh(c')`.
 * The forget gate's bias starts at 1 (Jozefowicz, Zaremba & Sutskever, 2015, "An Empirical Exploration of
 * Recurrent Network Architectures"). All four gates come from one matrix product.
 *
 * @example
 * ```ts
 * const cell = new LSTMCell({ inputSize: 4, hiddenSize: 8, seed: 0 });
 * const { output, state } = cell.callAsFunction({ input: zeros([2, 4]), state: cell.zeroState(2) });
 * state.cell.shape; // [2, 8]
 * output.sub(state.hidden).abs().max(); // 0
 * ```
 * @category Layers
 */
export class LSTMCell extends RecurrentCell<LSTMState> {
  /** `[inputSize + hiddenSize, 4 · hiddenSize]`, gates in the order input, forget, candidate, output. */
  @differentiable fusedWeight: Tensor;
  /** `[4 · hiddenSize]`. */
  @differentiable fusedBias: Tensor;
  /** Features per step. */
  @noDerivative readonly inputSize: number;
  /** State size. */
  @noDerivative readonly hiddenSize: number;

  /** @param options sizes, seed, dtype and initializers. */
  constructor(options: RecurrentCellOptions) {
    super();
    checkSizes("LSTMCell", options);
    const dtype = options.dtype ?? "float32";
    const h = options.hiddenSize;
    this.inputSize = options.inputSize;
    this.hiddenSize = h;
    this.fusedWeight = fusedWeight(options, 4, layerKey(options.seed));
    this.fusedBias = concat([zeros([h], { dtype }), zeros([h], { dtype }).add(1), zeros([2 * h], { dtype })], 0);
  }

  /** @param batchSize the number of sequences. @returns zero `cell` and `hidden`, each `[batchSize, hiddenSize]`. */
  zeroState(batchSize: number): LSTMState {
    const z = zeros([batchSize, this.hiddenSize], { dtype: this.fusedWeight.dtype });
    return { cell: z, hidden: z };
  }

  /**
   * One time step.
   * @param step `input` `[batch, inputSize]` and the `{ cell, hidden }` state.
   * @returns the new hidden state as `output`, and the new `{ cell, hidden }`.
   */
  callAsFunction(step: RNNCellInput<LSTMState>): RNNCellOutput<LSTMState> {
    expectLastDim("LSTMCell", step.input, this.inputSize, "features");
    const gates = concat([step.input, step.state.hidden], 1).matmul(this.fusedWeight).add(this.fusedBias);
    const [i, f, g, o] = gates.split(4, 1) as [Tensor, Tensor, Tensor, Tensor];
    const cell = f.sigmoid().mul(step.state.cell).add(i.sigmoid().mul(g.tanh()));
    const hidden = o.sigmoid().mul(cell.tanh());
    return { output: hidden, state: { cell, hidden } };
  }
}

/**
 * The gated recurrent unit (Cho et al., 2014, "Learning Phrase Representations using RNN Encoder–Decoder
 * for Statistical Machine Translation"), with the reset gate applied after the recurrent product (as in
 * cuDNN and PyTorch):
 * `r = σ(x Wᵣ + h Uᵣ + b)`, `z = σ(x W_z + h U_z + b)`, `n = tanh(x Wₙ + bₙ + r ⊙ (h Uₙ + b'ₙ))`,
 * `h' = (1 − z) ⊙ n + z ⊙ h`.
 *
 * @example
 * ```ts
 * const cell = new GRUCell({ inputSize: 4, hiddenSize: 8, seed: 0 });
 * cell.callAsFunction({ input: zeros([2, 4]), state: cell.zeroState(2) }).output.shape; // [2, 8]
 * ```
 * @category Layers
 */
export class GRUCell extends RecurrentCell<Tensor> {
  /** `[inputSize, 3 · hiddenSize]`, gates in the order reset, update, candidate. */
  @differentiable inputWeight: Tensor;
  /** `[hiddenSize, 3 · hiddenSize]`. */
  @differentiable recurrentWeight: Tensor;
  /** `[3 · hiddenSize]`. */
  @differentiable inputBias: Tensor;
  /** `[3 · hiddenSize]`. */
  @differentiable recurrentBias: Tensor;
  /** Features per step. */
  @noDerivative readonly inputSize: number;
  /** State size. */
  @noDerivative readonly hiddenSize: number;

  /** @param options sizes, seed, dtype and initializers. */
  constructor(options: RecurrentCellOptions) {
    super();
    checkSizes("GRUCell", options);
    const dtype = options.dtype ?? "float32";
    const h = options.hiddenSize;
    this.inputSize = options.inputSize;
    this.hiddenSize = h;
    const w = fusedWeight(options, 3, layerKey(options.seed));
    this.inputWeight = w.slice([0, 0], [options.inputSize, 3 * h]);
    this.recurrentWeight = w.slice([options.inputSize, 0], [h, 3 * h]);
    this.inputBias = zeros([3 * h], { dtype });
    this.recurrentBias = zeros([3 * h], { dtype });
  }

  /** @param batchSize the number of sequences. @returns zeros `[batchSize, hiddenSize]`. */
  zeroState(batchSize: number): Tensor {
    return zeros([batchSize, this.hiddenSize], { dtype: this.inputWeight.dtype });
  }

  /**
   * One time step.
   * @param step `input` `[batch, inputSize]` and `state` `[batch, hiddenSize]`.
   * @returns the new hidden state as both `output` and `state`.
   */
  callAsFunction(step: RNNCellInput<Tensor>): RNNCellOutput<Tensor> {
    expectLastDim("GRUCell", step.input, this.inputSize, "features");
    const h = step.state;
    const [xr, xz, xn] = step.input.matmul(this.inputWeight).add(this.inputBias).split(3, 1) as [Tensor, Tensor, Tensor];
    const [hr, hz, hn] = h.matmul(this.recurrentWeight).add(this.recurrentBias).split(3, 1) as [Tensor, Tensor, Tensor];
    const r = xr.add(hr).sigmoid();
    const z = xz.add(hz).sigmoid();
    const n = xn.add(r.mul(hn)).tanh();
    const next = n.add(z.mul(h.sub(n))); // (1 − z) n + z h
    return { output: next, state: next };
  }
}

/**
 * The state type of a cell.
 * @category Layers
 */
export type StateOf<C> = C extends RecurrentCell<infer S> ? S : never;

/**
 * Options of {@link RNN}.
 * @category Layers
 */
export interface RNNOptions {
  /** Return every step's output `[batch, time, hidden]` (default) or only the last `[batch, hidden]`. */
  returnSequences?: boolean;
}

/**
 * Runs a recurrent cell over the time axis of a batch of sequences (Swift's `RecurrentLayer`; the
 * unrolled network of Rumelhart, Hinton & Williams, 1986, differentiated by backpropagation through time,
 * Werbos, 1990). Works with any {@link RecurrentCell}, including user-defined ones.
 *
 * @typeParam Cell the cell type.
 * @example
 * ```ts
 * const lstm = new RNN(new LSTMCell({ inputSize: 4, hiddenSize: 8, seed: 0 }));
 * lstm.callAsFunction(zeros([2, 5, 4])).shape; // [2, 5, 8]
 * const last = new RNN(new GRUCell({ inputSize: 4, hiddenSize: 8, seed: 0 }), { returnSequences: false });
 * last.callAsFunction(zeros([2, 5, 4])).shape; // [2, 8]
 * ```
 * @category Layers
 */
export class RNN<Cell extends RecurrentCell<unknown>> extends Layer<Tensor, Tensor> {
  /** The cell applied at every step. */
  @differentiableGeneric cell: Cell;
  /** Whether every step's output is returned. */
  @noDerivative readonly returnSequences: boolean;

  /** @param cell the cell. @param options whether to return the whole sequence. */
  constructor(cell: Cell, options: RNNOptions = {}) {
    super();
    if (!(cell instanceof RecurrentCell)) throw new TypeError("RNN: the cell must extend RecurrentCell (e.g. new LSTMCell({...}))");
    this.cell = cell;
    this.returnSequences = options.returnSequences ?? true;
  }

  /**
   * Runs the cell over the sequence from a given (or zero) state.
   * @param input `[batch, time, inputSize]`.
   * @param initialState the state before the first step (default: the cell's zero state).
   * @returns `outputs` `[batch, time, hiddenSize]` and the final `state`.
   */
  run(input: Tensor, initialState?: StateOf<Cell>): { outputs: Tensor; state: StateOf<Cell> } {
    expectRank("RNN", input, 3, "[batch, time, features]");
    const [batch, time, features] = input.shape as [number, number, number];
    if (time === 0) throw new RangeError("RNN: the sequence is empty (time axis of size 0)");
    let state: StateOf<Cell> = initialState ?? (this.cell.zeroState(batch) as StateOf<Cell>);
    const outputs: Tensor[] = [];
    for (let t = 0; t < time; t++) {
      const x = input.slice([0, t, 0], [batch, 1, features]).reshape([batch, features]);
      const out = this.cell.callAsFunction({ input: x, state });
      outputs.push(out.output);
      state = out.state as StateOf<Cell>;
    }
    return { outputs: stack(outputs, 1), state };
  }

  /**
   * Applies the layer from the zero state.
   * @param input `[batch, time, inputSize]`.
   * @returns `[batch, time, hiddenSize]`, or `[batch, hiddenSize]` (the last step) when `returnSequences` is false.
   */
  callAsFunction(input: Tensor): Tensor {
    const { outputs } = this.run(input);
    if (this.returnSequences) return outputs;
    const [b, t, h] = outputs.shape as [number, number, number];
    return outputs.slice([0, t - 1, 0], [b, 1, h]).reshape([b, h]);
  }
}

/**
 * How {@link Bidirectional} merges the outputs of its two directions.
 * @category Layers
 */
export type BidirectionalMerge = "concatenate" | "sum" | "average" | "multiply";

/**
 * Options of {@link Bidirectional}.
 * @category Layers
 */
export interface BidirectionalOptions {
  /**
   * `'concatenate'` (default: `[forward, backward]` on the feature axis, `hiddenF + hiddenB` features),
   * `'sum'`, `'average'` or `'multiply'` (elementwise; the two hidden sizes must be equal).
   */
  merge?: BidirectionalMerge;
  /** Return every step's merged output `[batch, time, …]` (default) or only the last one `[batch, …]`. */
  returnSequences?: boolean;
}

/** Reverses the time axis of `[batch, time, features]` with a gather, so the reversal has a derivative. */
function reverseTime(x: Tensor): Tensor {
  const time = x.shape[1]!;
  return x.gather(Array.from({ length: time }, (_, t) => time - 1 - t), 1);
}

/**
 * A bidirectional recurrent layer (Schuster & Paliwal, 1997, "Bidirectional Recurrent Neural Networks";
 * Graves & Schmidhuber, 2005, "Framewise Phoneme Classification with Bidirectional LSTM"): one {@link RNN}
 * reads the sequence forwards, another reads it backwards, and their outputs for the same time step are
 * merged, so every step sees the whole sequence. Swift's `BidirectionalRecurrentLayer`.
 *
 * The backward direction runs over the sequence reversed (a `gather` with reversed indices, so the reversal
 * is differentiated like any operation), and its outputs are reversed back before merging: step `t` merges
 * the forward output after reading `x₀ … x_t` with the backward output after reading `x_{T−1} … x_t`. With
 * `returnSequences: false` the layer returns the merge of each direction's final output (the forward one at
 * step `T − 1`, the backward one at step 0), as Keras does.
 *
 * The two cells are separate parameters (build them with different seeds); they may be of different types.
 * The tangent vector is `{ forward: { cell: … }, backward: { cell: … } }`.
 *
 * @typeParam Forward the forward cell's type.
 * @typeParam Backward the backward cell's type (by default the forward one's).
 * @example
 * ```ts
 * const bi = new Bidirectional(
 *   new LSTMCell({ inputSize: 4, hiddenSize: 8, seed: 0 }),
 *   new LSTMCell({ inputSize: 4, hiddenSize: 8, seed: 1 }),
 * );
 * bi.callAsFunction(zeros([2, 5, 4])).shape; // [2, 5, 16]
 * const summed = new Bidirectional(
 *   new GRUCell({ inputSize: 4, hiddenSize: 8, seed: 2 }),
 *   new GRUCell({ inputSize: 4, hiddenSize: 8, seed: 3 }),
 *   { merge: "sum", returnSequences: false },
 * );
 * summed.callAsFunction(zeros([2, 5, 4])).shape; // [2, 8]
 * ```
 * @category Layers
 */
export class Bidirectional<Forward extends RecurrentCell<unknown>, Backward extends RecurrentCell<unknown> = Forward> extends Layer<Tensor, Tensor> {
  /** Reads the sequence from the first step to the last. */
  @differentiableGeneric forward: RNN<Forward>;
  /** Reads the sequence from the last step to the first. */
  @differentiableGeneric backward: RNN<Backward>;
  /** How the two directions' outputs are merged. */
  @noDerivative readonly merge: BidirectionalMerge;
  /** Whether every step's output is returned. */
  @noDerivative readonly returnSequences: boolean;

  /**
   * @param forward the forward direction's cell.
   * @param backward the backward direction's cell (a different instance: the directions do not share parameters).
   * @param options the merge and whether to return the whole sequence.
   */
  constructor(forward: Forward, backward: Backward, options: BidirectionalOptions = {}) {
    super();
    if (!(forward instanceof RecurrentCell) || !(backward instanceof RecurrentCell)) {
      throw new TypeError("Bidirectional: both cells must extend RecurrentCell (e.g. new LSTMCell({...}))");
    }
    if ((forward as unknown) === backward) {
      throw new TypeError("Bidirectional: the forward and backward cells must be different instances (build two, with different seeds)");
    }
    const merge = options.merge ?? "concatenate";
    if (!["concatenate", "sum", "average", "multiply"].includes(merge)) {
      throw new RangeError(`Bidirectional: merge must be 'concatenate', 'sum', 'average' or 'multiply', got ${String(merge)}`);
    }
    this.forward = new RNN(forward);
    this.backward = new RNN(backward);
    this.merge = merge;
    this.returnSequences = options.returnSequences ?? true;
  }

  /**
   * Applies both directions from their zero states and merges their outputs.
   * @param input `[batch, time, inputSize]`.
   * @returns `[batch, time, merged]`, or `[batch, merged]` when `returnSequences` is false, where `merged` is
   *   `hiddenF + hiddenB` for `'concatenate'` and the (common) hidden size otherwise.
   */
  callAsFunction(input: Tensor): Tensor {
    expectRank("Bidirectional", input, 3, "[batch, time, features]");
    // Both RNNs return whole sequences (they are built so); calling them as layers lets `summary` see them.
    const f = this.forward.callAsFunction(input);
    const b = reverseTime(this.backward.callAsFunction(reverseTime(input)));
    const [batch, time] = f.shape as [number, number, number];
    const last = (x: Tensor, t: number): Tensor => x.slice([0, t, 0], [batch, 1, x.shape[2]!]).reshape([batch, x.shape[2]!]);
    const [fo, bo] = this.returnSequences ? [f, b] : [last(f, time - 1), last(b, 0)];
    if (this.merge === "concatenate") return concat([fo, bo], -1);
    if (fo.shape[fo.rank - 1] !== bo.shape[bo.rank - 1]) {
      throw new RangeError(
        `Bidirectional: merge '${this.merge}' needs equal hidden sizes, got ${fo.shape[fo.rank - 1]} (forward) and ${bo.shape[bo.rank - 1]} (backward)`,
      );
    }
    if (this.merge === "sum") return fo.add(bo);
    if (this.merge === "average") return fo.add(bo).mul(0.5);
    return fo.mul(bo);
  }
}
