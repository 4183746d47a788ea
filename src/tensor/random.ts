/**
 * Seeded randomness that gives the same bits on every machine and every JavaScript engine.
 *
 * **Generator.** Threefry-2x32 with 20 rounds, the counter-based generator of Salmon, Moraes, Dror and
 * Shaw, "Parallel random numbers: as easy as 1, 2, 3" (SC 2011), the one JAX uses. It is a keyed bijection
 * of a 64-bit counter built from 32-bit additions, rotations and xors only, so JavaScript computes it
 * exactly. A counter-based generator has no hidden state: element `i` of a tensor is a pure function of
 * `(key, i)`, so results do not depend on evaluation order, and deriving independent keys (for the many
 * layers of a model) is one more encryption ({@link RandomKey.split}, {@link splitSeed}).
 *
 * **Streams.** With key `k`, the block `threefry(k, [c0, c1])` yields two 32-bit words:
 * - `randomUniform` element `i` uses block `[i, 0]` (53 bits: 27 from the first word, 26 from the second);
 * - `randomNormal` pair `j` (elements `2j`, `2j+1`) uses blocks `[2j, 1]` and `[2j+1, 1]`;
 * - `truncatedNormal` element `i`, attempt `a`, uses blocks `[i, 2+2a]` and `[i, 3+2a]`;
 * - key derivation uses `c1 = 0xffffffff` (split) and `0xfffffffe` (fold-in).
 * So a float32 tensor holds exactly the float32 rounding of the float64 tensor drawn with the same seed,
 * and a smaller tensor is a prefix of a larger one.
 *
 * **Normals.** Box–Muller. `Math.log`, `Math.sin` and `Math.cos` may differ in the last bit between
 * engines (the standard leaves their accuracy to the implementation), so this module evaluates the
 * logarithm and the sine and cosine with its own polynomials, using only `+ - * /` and `Math.sqrt`, which
 * IEEE 754 and ECMAScript define to be correctly rounded. That is what makes normals bit-reproducible.
 *
 * **No seed.** Calls without a seed draw from a global key, seeded with 0 when the module loads (so a
 * program is reproducible run to run) and reseeded with {@link setGlobalSeed}. Each unseeded call uses
 * the next key `foldIn(globalKey, n)` for a call counter `n`, so successive calls differ.
 */
import { Tensor } from "./tensor.js";
import { allocate, checkDType, type DType } from "./dtype.js";
import { checkShape, sizeOf } from "./shape.js";

// ---------------------------------------------------------------------------------------------------
// Threefry-2x32-20

/** The Threefry key-schedule parity constant for 32-bit words (Skein's C240 truncated). */
const PARITY = 0x1bd11bda;

let out0 = 0;
let out1 = 0;

/**
 * Encrypts the counter `[c0, c1]` under the key `[k0, k1]`; the result is left in `out0`, `out1`
 * (unsigned). Rotation constants and key injections follow Random123's `threefry2x32_R(20, …)`.
 */
function threefry(k0: number, k1: number, c0: number, c1: number): void {
  const k2 = PARITY ^ k0 ^ k1;
  let x0 = (c0 + k0) | 0;
  let x1 = (c1 + k1) | 0;
  // Rounds 0-3 (rotations 13, 15, 26, 6), then key injection 1.
  x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + k1) | 0; x1 = (x1 + k2 + 1) | 0;
  // Rounds 4-7 (17, 29, 16, 24), injection 2.
  x0 = (x0 + x1) | 0; x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + k2) | 0; x1 = (x1 + k0 + 2) | 0;
  // Rounds 8-11, injection 3.
  x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + k0) | 0; x1 = (x1 + k1 + 3) | 0;
  // Rounds 12-15, injection 4.
  x0 = (x0 + x1) | 0; x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + k1) | 0; x1 = (x1 + k2 + 4) | 0;
  // Rounds 16-19, injection 5.
  x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + k2) | 0; x1 = (x1 + k0 + 5) | 0;
  out0 = x0 >>> 0;
  out1 = x1 >>> 0;
}

/**
 * @internal Threefry-2x32-20 of one counter block, for tests and other generators.
 * @param key the two key words. @param counter the two counter words.
 * @returns the two output words, as unsigned 32-bit integers. Random123's known answer: key and counter
 * `[0, 0]` give `[0x6b200159, 0x99ba4efe]`.
 */
export function threefry2x32(key: readonly [number, number], counter: readonly [number, number]): [number, number] {
  threefry(key[0], key[1], counter[0], counter[1]);
  return [out0, out1];
}

const TWO_26 = 67108864;
const TWO_32 = 4294967296;
const TWO_M53 = 1 / 9007199254740992;

/** The 53-bit integer `m` in `[0, 2^53)` made from the last block: 27 bits of `out0`, 26 of `out1`. */
function bits53(): number {
  return (out0 >>> 5) * TWO_26 + (out1 >>> 6);
}

// ---------------------------------------------------------------------------------------------------
// Deterministic elementary functions (only correctly rounded operations)

/** `POW2_NEG[e] = 2^-e`, built by exact halvings. */
const POW2_NEG: number[] = [1];
for (let e = 1; e <= 64; e++) POW2_NEG.push(POW2_NEG[e - 1]! / 2);

const LN2_HI = 6.93147180369123816490e-1; // ln 2 rounded to 32 significant bits: k·LN2_HI is exact
const LN2_LO = 1.90821492927058770002e-10; // ln 2 − LN2_HI
const SQRT2 = 1.4142135623730951;

/** `1/(2k+1)` for the atanh series, k = 1…11. */
const ATANH: number[] = [];
for (let k = 1; k <= 11; k++) ATANH.push(1 / (2 * k + 1));

/**
 * `ln(m · 2^-53)` for an integer `m` in `[1, 2^53]`, accurate to about one ulp: `m = f·2^e` with
 * `f` in `[1/√2, √2)`, and `ln f = 2·atanh(s)`, `s = (f-1)/(f+1)`, summed as a series (|s| < 0.172).
 */
function lnUnit(m: number): number {
  const hi = Math.floor(m / TWO_32);
  let e = hi > 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(m >>> 0);
  let f = m * POW2_NEG[e]!;
  if (f > SQRT2) {
    f *= 0.5;
    e += 1;
  }
  const s = (f - 1) / (f + 1);
  const z = s * s;
  let p = ATANH[10]!;
  for (let k = 9; k >= 0; k--) p = ATANH[k]! + z * p;
  const lnF = 2 * s + 2 * s * (z * p);
  const k = e - 53;
  return k * LN2_HI + (lnF + k * LN2_LO);
}

/** Taylor coefficients `(-1)^k / (2k+1)!` (sine) and `(-1)^k / (2k)!` (cosine), k = 0…9. */
const SIN_C: number[] = [];
const COS_C: number[] = [];
{
  let fact = 1;
  for (let n = 0; n <= 19; n++) {
    if (n > 0) fact *= n;
    const c = (Math.floor(n / 2) % 2 === 0 ? 1 : -1) / fact;
    if (n % 2 === 0) COS_C.push(c);
    else SIN_C.push(c);
  }
}
const PI_2 = 1.5707963267948966;

let sinOut = 0;
let cosOut = 0;

/** Sine and cosine of `t` in `[0, π/4]` (Taylor series to degree 19), into `sinOut`/`cosOut`. */
function sinCosSmall(t: number): void {
  const z = t * t;
  let s = SIN_C[9]!;
  let c = COS_C[9]!;
  for (let k = 8; k >= 0; k--) {
    s = SIN_C[k]! + z * s;
    c = COS_C[k]! + z * c;
  }
  sinOut = t * s;
  cosOut = c;
}

/**
 * Sine and cosine of `2π·m·2^-53` for an integer `m` in `[0, 2^53)`: the quadrant and the reflection
 * are found exactly from `m`, so only an angle in `[0, π/4]` reaches the polynomials.
 */
function sinCosTurn(m: number): void {
  const u4 = m * TWO_M53 * 4; // exact: a multiple of 2^-51 below 4
  const q = Math.floor(u4);
  const r = u4 - q; // exact
  let s: number;
  let c: number;
  if (r <= 0.5) {
    sinCosSmall(r * PI_2);
    s = sinOut;
    c = cosOut;
  } else {
    sinCosSmall((1 - r) * PI_2);
    s = cosOut;
    c = sinOut;
  }
  switch (q) {
    case 0: sinOut = s; cosOut = c; break;
    case 1: sinOut = c; cosOut = -s; break;
    case 2: sinOut = -s; cosOut = -c; break;
    default: sinOut = -c; cosOut = s; break;
  }
}

// ---------------------------------------------------------------------------------------------------
// Keys and seeds

const SPLIT_TAG = 0xffffffff;
const FOLD_TAG = 0xfffffffe;

/**
 * A key of the random generator: two 32-bit words. Derive independent keys from one seed with
 * {@link RandomKey.split} or {@link RandomKey.foldIn} rather than by adding numbers to a seed.
 *
 * @example
 * ```ts
 * const [k1, k2] = RandomKey.of(42).split(2);
 * randomNormal([2, 3], { seed: k1 }); // independent of the next one
 * randomNormal([2, 3], { seed: k2 });
 * ```
 * @category Tensors
 */
export class RandomKey {
  private constructor(
    /** The first key word (unsigned 32-bit). */
    readonly k0: number,
    /** The second key word (unsigned 32-bit). */
    readonly k1: number,
  ) {
    Object.freeze(this);
  }

  /**
   * The key of an integer seed: its low and high 32 bits (a negative seed in two's complement).
   * @param seed a safe integer.
   * @returns the key.
   * @example
   * ```ts
   * RandomKey.of(1).k0; // 1
   * ```
   */
  static of(seed: number): RandomKey {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`RandomKey.of: the seed must be a safe integer, got ${seed}`);
    }
    const b = BigInt.asUintN(64, BigInt(seed));
    return new RandomKey(Number(b & 0xffffffffn), Number(b >> 32n));
  }

  /** @internal A key from two words (taken modulo 2^32). */
  static fromWords(k0: number, k1: number): RandomKey {
    return new RandomKey(k0 >>> 0, k1 >>> 0);
  }

  /**
   * `n` new keys, statistically independent of this one and of each other.
   * @param n how many (default 2).
   * @returns the keys.
   * @example
   * ```ts
   * const [a, b] = RandomKey.of(0).split();
   * const x = randomUniform([3], { seed: a });
   * randomUniform([3], { seed: a }).equal(x).sum(); // 3
   * randomUniform([3], { seed: b }).equal(x).sum(); // 0
   * ```
   */
  split(n = 2): RandomKey[] {
    if (!Number.isInteger(n) || n < 0 || n >= TWO_32) {
      throw new RangeError(`RandomKey.split: the count must be a non-negative integer, got ${n}`);
    }
    const keys: RandomKey[] = [];
    for (let i = 0; i < n; i++) {
      threefry(this.k0, this.k1, i, SPLIT_TAG);
      keys.push(new RandomKey(out0, out1));
    }
    return keys;
  }

  /**
   * A new key determined by this one and an integer (a step number, a layer index, …).
   * @param data an integer in `[0, 2^32)`.
   * @returns the derived key.
   * @example
   * ```ts
   * const key = RandomKey.of(0);
   * // One key per training step, the same on every run.
   * const noise = [0, 1, 2].map((step) => randomNormal([2], { seed: key.foldIn(step) }));
   * noise[1]!.equal(randomNormal([2], { seed: key.foldIn(1) })).sum(); // 2
   * ```
   */
  foldIn(data: number): RandomKey {
    if (!Number.isInteger(data) || data < 0 || data >= TWO_32) {
      throw new RangeError(`RandomKey.foldIn: data must be an integer in [0, 2^32), got ${data}`);
    }
    threefry(this.k0, this.k1, data, FOLD_TAG);
    return new RandomKey(out0, out1);
  }

  /** A readable form, e.g. `RandomKey(0x00000000, 0x0000002a)`. */
  toString(): string {
    const hex = (w: number): string => "0x" + w.toString(16).padStart(8, "0");
    return `RandomKey(${hex(this.k0)}, ${hex(this.k1)})`;
  }
}

/**
 * Derives `n` independent integer seeds from one (for example, one per layer of a model), each usable
 * wherever a `seed` is accepted.
 *
 * @param seed a safe integer.
 * @param n how many seeds.
 * @returns `n` non-negative safe integers.
 * @example
 * ```ts
 * const [wSeed, bSeed] = splitSeed(42, 2);
 * const w = randomNormal([3, 2], { seed: wSeed });
 * const b = randomNormal([2], { seed: bSeed });
 * w.equal(randomNormal([3, 2], { seed: wSeed })).sum().item(); // 6
 * ```
 * @category Tensors
 */
export function splitSeed(seed: number, n: number): number[] {
  return RandomKey.of(seed)
    .split(n)
    .map((k) => (k.k1 & 0x1fffff) * TWO_32 + k.k0);
}

let globalKey = RandomKey.of(0);
let globalCount = 0;

/**
 * Reseeds the generator used by calls that pass no `seed` (it starts seeded with 0).
 * @param seed a safe integer.
 * @example
 * ```ts
 * setGlobalSeed(1); const a = randomNormal([3]);
 * setGlobalSeed(1); const b = randomNormal([3]);
 * b.equal(a).sum().item(); // 3
 * ```
 * @category Tensors
 */
export function setGlobalSeed(seed: number): void {
  globalKey = RandomKey.of(seed);
  globalCount = 0;
}

function keyOf(op: string, seed: number | RandomKey | undefined): RandomKey {
  if (seed === undefined) {
    const k = globalKey.foldIn(globalCount);
    globalCount = (globalCount + 1) % TWO_32;
    return k;
  }
  if (seed instanceof RandomKey) return seed;
  if (typeof seed !== "number" || !Number.isSafeInteger(seed)) {
    throw new RangeError(`${op}: the seed must be a safe integer or a RandomKey, got ${String(seed)}`);
  }
  return RandomKey.of(seed);
}

// ---------------------------------------------------------------------------------------------------
// Distributions

/**
 * Options of {@link randomUniform}.
 * @category Tensors
 */
export interface RandomUniformOptions {
  /** An integer seed or a key; without one, the global generator is used. */
  seed?: number | RandomKey;
  /** The lower bound (inclusive); 0 by default. */
  min?: number;
  /** The upper bound (exclusive); 1 by default. */
  max?: number;
  /** `'float32'` (default), `'float64'`, or `'int32'` (uniform integers in `[min, max)`). */
  dtype?: DType;
}

/**
 * Options of {@link randomNormal} and {@link truncatedNormal}.
 * @category Tensors
 */
export interface RandomNormalOptions {
  /** An integer seed or a key; without one, the global generator is used. */
  seed?: number | RandomKey;
  /** The mean; 0 by default. */
  mean?: number;
  /** The standard deviation; 1 by default. */
  stddev?: number;
  /** `'float32'` (default) or `'float64'`. */
  dtype?: DType;
}

function finite(op: string, name: string, v: number): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new RangeError(`${op}: ${name} must be a finite number, got ${String(v)}`);
  return v;
}

/** The largest value of the dtype strictly below `v` (a value of that dtype). */
function below(v: number, dtype: "float32" | "float64"): number {
  if (dtype === "float32") {
    const f = new Float32Array([v]);
    const i = new Int32Array(f.buffer);
    if (v > 0) i[0]! -= 1;
    else if (v < 0) i[0]! += 1;
    else i[0] = -2147483647; // bits 0x80000001: the negative subnormal closest to 0
    return f[0]!;
  }
  const f = new Float64Array([v]);
  const i = new BigInt64Array(f.buffer);
  if (v > 0) i[0]! -= 1n;
  else if (v < 0) i[0]! += 1n;
  else i[0] = -9223372036854775807n; // bits 0x8000000000000001
  return f[0]!;
}

/**
 * Samples uniformly from `[min, max)`.
 *
 * @param shape the dimensions.
 * @param options `seed`, `min` (0), `max` (1), `dtype`.
 * @returns a tensor of `shape`; the same seed gives the same bits on any machine.
 * @example
 * ```ts
 * randomUniform([2, 2], { seed: 42, min: -1, max: 1 }).shape; // [2, 2]
 * ```
 * @category Tensors
 */
export function randomUniform(shape: readonly number[], options: RandomUniformOptions = {}): Tensor {
  const op = "randomUniform";
  const s = checkShape(op, shape);
  const dtype = options.dtype === undefined ? "float32" : checkDType(op, options.dtype);
  const min = finite(op, "min", options.min ?? 0);
  const max = finite(op, "max", options.max ?? 1);
  if (!(max > min)) throw new RangeError(`${op}: max (${max}) must be greater than min (${min})`);
  if (dtype === "int32" && (!Number.isInteger(min) || !Number.isInteger(max) || min < -2147483648 || max > 2147483648)) {
    throw new RangeError(`${op}: int32 samples need integer bounds within the int32 range, got min ${min}, max ${max}`);
  }
  const { k0, k1 } = keyOf(op, options.seed);
  const n = sizeOf(s);
  const data = allocate(dtype, n);
  const range = max - min;
  // The largest value of the dtype below max: where rounding would reach max, this is used instead.
  let top = max;
  if (dtype !== "int32") {
    top = dtype === "float32" ? Math.fround(max) : max;
    if (top >= max) top = below(top, dtype);
  }
  for (let i = 0; i < n; i++) {
    threefry(k0, k1, i, 0);
    let v = min + range * (bits53() * TWO_M53);
    if (dtype === "int32") {
      v = Math.floor(v);
      if (v >= max) v = max - 1;
    } else if (v >= max || (dtype === "float32" && Math.fround(v) >= max)) {
      v = top; // rounding reached max: stay inside [min, max)
    }
    data[i] = v;
  }
  return new Tensor(s, dtype, data);
}

function floatDType(op: string, d: DType | undefined): "float32" | "float64" {
  const dtype = d === undefined ? "float32" : checkDType(op, d);
  if (dtype === "int32") throw new TypeError(`${op}: normal samples need a float dtype ('float32' or 'float64'), got 'int32'`);
  return dtype;
}

/** The checked arguments of a normal sampler (`randomNormal`, `truncatedNormal`), its key and its output. */
function normalArguments(op: string, shape: readonly number[], options: RandomNormalOptions) {
  const s = checkShape(op, shape);
  const dtype = floatDType(op, options.dtype);
  const mean = finite(op, "mean", options.mean ?? 0);
  const stddev = finite(op, "stddev", options.stddev ?? 1);
  if (stddev < 0) throw new RangeError(`${op}: stddev must be non-negative, got ${stddev}`);
  const { k0, k1 } = keyOf(op, options.seed);
  return { s, dtype, mean, stddev, k0, k1, data: allocate(dtype, sizeOf(s)) };
}

/**
 * Box–Muller from two blocks under the key `[k0, k1]`: block `[a0, a1]` gives `u1` in `(0, 1]`, block
 * `[b0, b1]` the angle. Returns the radius `√(−2 ln u1)` and leaves the angle's sine and cosine in
 * `sinOut`/`cosOut`; the two normals are `radius · cosOut` and `radius · sinOut`.
 */
function boxMuller(k0: number, k1: number, a0: number, a1: number, b0: number, b1: number): number {
  threefry(k0, k1, a0, a1);
  const lnU = lnUnit(9007199254740992 - bits53());
  threefry(k0, k1, b0, b1);
  sinCosTurn(bits53());
  return Math.sqrt(-2 * lnU);
}

/**
 * Samples from a normal distribution (Box–Muller).
 *
 * @param shape the dimensions.
 * @param options `seed`, `mean` (0), `stddev` (1), `dtype`.
 * @returns a tensor of `shape`; the same seed gives the same bits on any machine.
 * @example
 * ```ts
 * const z = randomNormal([1000], { seed: 0 });
 * Math.abs(z.mean().item()) < 0.1; // true
 * randomNormal([1000], { seed: 0 }).equal(z).sum().item(); // 1000
 * ```
 * @category Tensors
 */
export function randomNormal(shape: readonly number[], options: RandomNormalOptions = {}): Tensor {
  const { s, dtype, mean, stddev, k0, k1, data } = normalArguments("randomNormal", shape, options);
  const n = data.length;
  for (let i = 0; i < n; i += 2) {
    const r = boxMuller(k0, k1, i, 1, i + 1, 1);
    data[i] = mean + stddev * (r * cosOut);
    if (i + 1 < n) data[i + 1] = mean + stddev * (r * sinOut);
  }
  return new Tensor(s, dtype, data);
}

/**
 * Samples from a normal distribution truncated to two standard deviations: values beyond `mean ± 2·stddev`
 * are redrawn (the usual initializer of weight matrices).
 *
 * @param shape the dimensions.
 * @param options `seed`, `mean` (0), `stddev` (1; the deviation before truncation), `dtype`.
 * @returns a tensor of `shape` with every value within two standard deviations of the mean.
 * @example
 * ```ts
 * truncatedNormal([3, 3], { seed: 1, stddev: 0.1 }).abs().max().item() <= 0.2; // true
 * ```
 * @category Tensors
 */
export function truncatedNormal(shape: readonly number[], options: RandomNormalOptions = {}): Tensor {
  const { s, dtype, mean, stddev, k0, k1, data } = normalArguments("truncatedNormal", shape, options);
  for (let i = 0; i < data.length; i++) {
    let z = 0;
    // About 4.6% of draws are rejected; 2^31 attempts in a row cannot happen in practice.
    for (let a = 0; ; a++) {
      z = boxMuller(k0, k1, i, 2 + 2 * a, i, 3 + 2 * a) * cosOut;
      if (z >= -2 && z <= 2) break;
    }
    // Rounding to float32 is monotonic, so the stored value stays within the (rounded) bounds.
    data[i] = mean + stddev * z;
  }
  return new Tensor(s, dtype, data);
}
