/**
 * Parameter initializers: functions from a shape (and a seed) to a tensor, as in Swift for TensorFlow's
 * `ParameterInitializer`. The factories below return one; every layer takes an initializer per parameter
 * and a `seed`, so the same seed always builds the same model.
 *
 * Fans follow the usual convention: a matrix `[fanIn, fanOut]`; a convolution filter
 * `[...window, inChannels, outChannels]` has `fanIn = inChannels · window` and `fanOut = outChannels · window`.
 */
import { Tensor } from "../tensor/tensor.js";
import { full } from "../tensor/creation.js";
import { fromTyped } from "../tensor/creation.js";
import { randomNormal, randomUniform, truncatedNormal, RandomKey } from "../tensor/random.js";

/**
 * The float dtypes a parameter can have.
 * @category Layers
 */
export type FloatDType = "float32" | "float64";

/**
 * Options passed to an {@link Initializer}.
 * @category Layers
 */
export interface InitializerOptions {
  /** An integer seed or a key; without one, the global generator is used. */
  seed?: number | RandomKey;
  /** `'float32'` (default) or `'float64'`. */
  dtype?: FloatDType;
}

/**
 * Builds a parameter tensor of `shape`.
 * @example
 * ```ts
 * const init: Initializer = glorotUniform();
 * init([784, 128], { seed: 0 }).shape; // [784, 128]
 * ```
 * @category Layers
 */
export type Initializer = (shape: readonly number[], options?: InitializerOptions) => Tensor;

/** @internal `[fanIn, fanOut]` of a parameter shape. */
export function fans(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0]!, shape[0]!];
  let receptive = 1;
  for (let i = 0; i < shape.length - 2; i++) receptive *= shape[i]!;
  return [shape[shape.length - 2]! * receptive, shape[shape.length - 1]! * receptive];
}

/**
 * Zeros (the default for biases).
 * @returns an initializer.
 * @example
 * ```ts
 * zerosInitializer()([2]); // [0, 0]
 * ```
 * @category Layers
 */
export function zerosInitializer(): Initializer {
  return constantInitializer(0);
}

/**
 * Ones (the default for normalization scales).
 * @returns an initializer.
 * @example
 * ```ts
 * onesInitializer()([2]); // [1, 1]
 * ```
 * @category Layers
 */
export function onesInitializer(): Initializer {
  return constantInitializer(1);
}

/**
 * Every element set to `value`.
 * @param value the constant.
 * @returns an initializer.
 * @example
 * ```ts
 * constantInitializer(0.1)([2]); // [0.1, 0.1]
 * // A layer whose biases start at 0.1 (keeps ReLU units active early in training):
 * const dense = new Dense({ inputSize: 3, outputSize: 2, activation: relu, biasInitializer: constantInitializer(0.1), seed: 0 });
 * dense.bias; // [0.1, 0.1]
 * ```
 * @category Layers
 */
export function constantInitializer(value: number): Initializer {
  return (shape, options) => full(shape, value, { dtype: options?.dtype ?? "float32" });
}

/**
 * Uniform samples in `[min, max)`.
 * @param options `min` (−0.05) and `max` (0.05).
 * @returns an initializer.
 * @example
 * ```ts
 * const w = randomUniformInitializer({ min: -1, max: 1 })([1000], { seed: 0 });
 * w.min().item() >= -1 && w.max().item() < 1; // true
 * // The same seed draws the same values:
 * randomUniformInitializer({ min: -1, max: 1 })([1000], { seed: 0 }).sub(w).abs().max(); // 0
 * ```
 * @category Layers
 */
export function randomUniformInitializer(options: { min?: number; max?: number } = {}): Initializer {
  const min = options.min ?? -0.05;
  const max = options.max ?? 0.05;
  return (shape, o) => randomUniform(shape, { seed: o?.seed, min, max, dtype: o?.dtype ?? "float32" });
}

/**
 * Normal samples.
 * @param options `mean` (0) and `stddev` (0.05).
 * @returns an initializer.
 * @example
 * ```ts
 * const w = randomNormalInitializer({ stddev: 0.01 })([10000], { seed: 0 });
 * Math.abs(w.square().mean().sqrt().item() - 0.01) < 0.001; // true
 * ```
 * @category Layers
 */
export function randomNormalInitializer(options: { mean?: number; stddev?: number } = {}): Initializer {
  const mean = options.mean ?? 0;
  const stddev = options.stddev ?? 0.05;
  return (shape, o) => randomNormal(shape, { seed: o?.seed, mean, stddev, dtype: o?.dtype ?? "float32" });
}

/**
 * Normal samples truncated at two standard deviations (redrawn beyond them).
 * @param options `mean` (0) and `stddev` (0.05, before truncation).
 * @returns an initializer.
 * @example
 * ```ts
 * const w = truncatedNormalInitializer({ stddev: 0.1 })([3, 3], { seed: 0 });
 * w.shape;                            // [3, 3]
 * w.abs().max().item() <= 2 * 0.1;    // true
 * ```
 * @category Layers
 */
export function truncatedNormalInitializer(options: { mean?: number; stddev?: number } = {}): Initializer {
  const mean = options.mean ?? 0;
  const stddev = options.stddev ?? 0.05;
  return (shape, o) => truncatedNormal(shape, { seed: o?.seed, mean, stddev, dtype: o?.dtype ?? "float32" });
}

function scaledUniform(scale: (fanIn: number, fanOut: number) => number): Initializer {
  return (shape, o) => {
    const [fanIn, fanOut] = fans(shape);
    const limit = Math.sqrt(3 * scale(fanIn, fanOut));
    return randomUniform(shape, { seed: o?.seed, min: -limit, max: limit, dtype: o?.dtype ?? "float32" });
  };
}

// A normal truncated at ±2σ has variance 0.774597… of the untruncated one's; dividing σ by its square root
// (0.87962566103423978) restores the intended variance, as TensorFlow's variance-scaling initializers do.
const TRUNCATED_STDDEV_CORRECTION = 0.87962566103423978;

function scaledNormal(scale: (fanIn: number, fanOut: number) => number): Initializer {
  return (shape, o) => {
    const [fanIn, fanOut] = fans(shape);
    const stddev = Math.sqrt(scale(fanIn, fanOut)) / TRUNCATED_STDDEV_CORRECTION;
    return truncatedNormal(shape, { seed: o?.seed, stddev, dtype: o?.dtype ?? "float32" });
  };
}

/**
 * Glorot (Xavier) uniform: `U(−l, l)` with `l = √(6 / (fanIn + fanOut))` (Glorot & Bengio, 2010,
 * "Understanding the difficulty of training deep feedforward neural networks"). The default for weights.
 * @returns an initializer.
 * @example
 * ```ts
 * const w = glorotUniform()([784, 128], { seed: 0 });
 * w.abs().max().item() <= Math.sqrt(6 / (784 + 128)); // true
 * // It is every layer's default for weights; pass another to change it:
 * new Dense({ inputSize: 784, outputSize: 128, weightInitializer: glorotUniform(), seed: 0 }).weight.shape; // [784, 128]
 * ```
 * @category Layers
 */
export function glorotUniform(): Initializer {
  return scaledUniform((i, o) => 2 / (i + o));
}

/**
 * Glorot (Xavier) normal: variance `2 / (fanIn + fanOut)`, truncated at two standard deviations
 * (Glorot & Bengio, 2010).
 * @returns an initializer.
 * @example
 * ```ts
 * const w = glorotNormal()([784, 128], { seed: 0 });
 * Math.abs(w.square().mean().item() - 2 / (784 + 128)) < 1e-4; // true
 * ```
 * @category Layers
 */
export function glorotNormal(): Initializer {
  return scaledNormal((i, o) => 2 / (i + o));
}

/**
 * He (Kaiming) uniform: `U(−l, l)` with `l = √(6 / fanIn)`, for ReLU networks (He, Zhang, Ren & Sun, 2015,
 * "Delving Deep into Rectifiers").
 * @returns an initializer.
 * @example
 * ```ts
 * // A 3×3 filter from 1 to 32 channels: fanIn = 3 · 3 · 1 = 9.
 * const filter = heUniform()([3, 3, 1, 32], { seed: 0 });
 * filter.abs().max().item() <= Math.sqrt(6 / 9); // true
 * const conv = new Conv2D({ filterShape: [3, 3, 1, 32], activation: relu, filterInitializer: heUniform(), seed: 0 });
 * conv.callAsFunction(zeros([1, 28, 28, 1])).shape; // [1, 26, 26, 32]
 * ```
 * @category Layers
 */
export function heUniform(): Initializer {
  return scaledUniform((i) => 2 / i);
}

/**
 * He (Kaiming) normal: variance `2 / fanIn`, truncated at two standard deviations (He et al., 2015).
 * @returns an initializer.
 * @example
 * ```ts
 * const dense = new Dense({ inputSize: 256, outputSize: 256, activation: relu, weightInitializer: heNormal(), seed: 0 });
 * Math.abs(dense.weight.square().mean().item() - 2 / 256) < 1e-3; // true
 * ```
 * @category Layers
 */
export function heNormal(): Initializer {
  return scaledNormal((i) => 2 / i);
}

/**
 * LeCun uniform: `U(−l, l)` with `l = √(3 / fanIn)` (LeCun, Bottou, Orr & Müller, 1998, "Efficient
 * BackProp").
 * @returns an initializer.
 * @example
 * ```ts
 * const w = leCunUniform()([64, 64], { seed: 0 });
 * w.abs().max().item() <= Math.sqrt(3 / 64); // true
 * ```
 * @category Layers
 */
export function leCunUniform(): Initializer {
  return scaledUniform((i) => 1 / i);
}

/**
 * LeCun normal: variance `1 / fanIn`, truncated at two standard deviations (LeCun et al., 1998); the
 * initializer that {@link selu} networks need.
 * @returns an initializer.
 * @example
 * ```ts
 * const dense = new Dense({ inputSize: 64, outputSize: 64, activation: selu, weightInitializer: leCunNormal(), seed: 0 });
 * Math.abs(dense.weight.square().mean().item() - 1 / 64) < 2e-3; // true
 * ```
 * @category Layers
 */
export function leCunNormal(): Initializer {
  return scaledNormal((i) => 1 / i);
}

/**
 * A (semi-)orthogonal matrix scaled by `gain` (Saxe, McClelland & Ganguli, 2014, "Exact solutions to the
 * nonlinear dynamics of learning in deep linear neural networks"). The shape is viewed as
 * `[product of all but the last axis, last axis]`; the result has orthonormal rows or columns, whichever
 * are fewer. Computed as the Q factor of a Gaussian matrix (Householder QR), with signs fixed by R's
 * diagonal so the distribution is uniform (Haar).
 * @param options `gain` (1).
 * @returns an initializer.
 * @example
 * ```ts
 * const q = orthogonal()([4, 4], { seed: 0 });
 * // Qᵀ Q = I, to float32 precision:
 * q.transpose().matmul(q).sub(eye(4)).abs().max().item() < 1e-5; // true
 * // The default of recurrent cells for their state-to-state weights, here scaled:
 * const cell = new SimpleRNNCell({ inputSize: 3, hiddenSize: 4, recurrentInitializer: orthogonal({ gain: 0.9 }), seed: 0 });
 * ```
 * @category Layers
 */
export function orthogonal(options: { gain?: number } = {}): Initializer {
  const gain = options.gain ?? 1;
  return (shape, o) => {
    if (shape.length < 2) throw new RangeError(`orthogonal: needs a shape of rank at least 2, got [${shape.join(",")}]`);
    const cols = shape[shape.length - 1]!;
    const rows = shape.reduce((p, q) => p * q, 1) / cols;
    const m = Math.max(rows, cols);
    const n = Math.min(rows, cols);
    const a = Float64Array.from(randomNormal([m, n], { seed: o?.seed, dtype: "float64" })._values);
    const q = householderQ(a, m, n);
    // q is m×n with orthonormal columns; the result is q (rows ≥ cols) or qᵀ (rows < cols).
    const out = new Float64Array(rows * cols);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const v = gain * q[i * n + j]!;
        if (rows >= cols) out[i * cols + j] = v;
        else out[j * cols + i] = v;
      }
    }
    const t = fromTyped(out, shape, "float64");
    return (o?.dtype ?? "float32") === "float64" ? t : t.cast("float32");
  };
}

/** The thin Q (m×n, m ≥ n) of the QR factorization of the row-major m×n matrix `a`, with diag(R) ≥ 0. */
function householderQ(a: Float64Array, m: number, n: number): Float64Array {
  const vs: Float64Array[] = [];
  const signs = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += a[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    const akk = a[k * n + k]!;
    const alpha = akk >= 0 ? -norm : norm; // R[k][k] = alpha
    const v = new Float64Array(m);
    for (let i = k; i < m; i++) v[i] = a[i * n + k]!;
    v[k] = akk - alpha;
    let vn = 0;
    for (let i = k; i < m; i++) vn += v[i]! ** 2;
    if (vn > 0) {
      // Apply H = I − 2 v vᵀ / (vᵀ v) to the remaining columns.
      for (let j = k; j < n; j++) {
        let d = 0;
        for (let i = k; i < m; i++) d += v[i]! * a[i * n + j]!;
        const f = (2 * d) / vn;
        for (let i = k; i < m; i++) a[i * n + j] = a[i * n + j]! - f * v[i]!;
      }
    }
    vs.push(v);
    signs[k] = alpha < 0 ? -1 : 1;
  }
  // Q = H_0 H_1 … H_{n−1} applied to the first n columns of the identity, then columns scaled by sign(R_kk).
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k]!;
    let vn = 0;
    for (let i = k; i < m; i++) vn += v[i]! ** 2;
    if (vn === 0) continue;
    for (let j = 0; j < n; j++) {
      let d = 0;
      for (let i = k; i < m; i++) d += v[i]! * q[i * n + j]!;
      const f = (2 * d) / vn;
      for (let i = k; i < m; i++) q[i * n + j] = q[i * n + j]! - f * v[i]!;
    }
  }
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) q[i * n + j] = q[i * n + j]! * signs[j]!;
  return q;
}

/** @internal The key a layer builds its parameters from: the given seed or key, else one drawn from the global generator. */
export function layerKey(seed: number | RandomKey | undefined): RandomKey {
  if (seed instanceof RandomKey) return seed;
  if (seed !== undefined) {
    if (typeof seed !== "number" || !Number.isSafeInteger(seed)) {
      throw new RangeError(`layer: the seed must be a safe integer or a RandomKey, got ${String(seed)}`);
    }
    return RandomKey.of(seed);
  }
  const w = randomUniform([2], { dtype: "int32", min: -2147483648, max: 2147483647 })._values;
  return RandomKey.fromWords(w[0]!, w[1]!);
}
