/**
 * Scans along an axis: `cumsum` (linear, so its JVP is itself and its VJP is the cumulative sum run the
 * other way), `cumprod`, and `reverse` (derived, so it needs no rules).
 *
 * `cumprod`'s value is one sequential kernel. Its rules differentiate a Hillis–Steele prefix scan of `mul`
 * (log₂ n rounds of "multiply by the sequence shifted by 2^k, padded with ones"), the way JAX's
 * `associative_scan` computes it. Because the scan is built from products alone, never from a division by
 * the input, the derivatives are exact at every order even where the input holds zeros (`cumprod(x) / x`
 * would give NaN there).
 */
import { Tensor } from "../tensor/tensor.js";
import { allocate } from "../tensor/dtype.js";
import { normalizeAxes, normalizeAxis } from "../tensor/shape.js";
import { backend } from "../tensor/backend.js";
import { bind } from "../autodiff/trace.js";
import { definePrimitive, type Primitive } from "../autodiff/primitive.js";
import { checkTensor } from "./util.js";
import { add, mul } from "./binary.js";
import { slice, pad, gather } from "./movement.js";

/**
 * Options of {@link cumsum} and {@link cumprod}.
 * @category Scans and sorting
 */
export interface ScanOptions {
  /** Leave each element out of its own result: the first result is 0 (sum) or 1 (product). Default false. */
  exclusive?: boolean;
  /** Scan from the end of the axis towards its start. Default false. */
  reverse?: boolean;
}

interface ScanParams {
  readonly axis: number;
  readonly exclusive: boolean;
  readonly reverse: boolean;
}

const cumsumP: Primitive<ScanParams> = definePrimitive<ScanParams>({
  name: "cumsum",
  impl: ([x], p) => {
    const out = allocate(x!.dtype, x!.size);
    backend().cumulative("sum", x!._data!, x!.shape, p.axis, p.exclusive, p.reverse, out);
    return new Tensor(x!.shape, x!.dtype, out);
  },
  jvp: (_, [t], _out, p) => bind(cumsumP, [t!], p),
  // The transpose of a running sum is the running sum taken the other way (with the same exclusivity).
  vjp: (ct, _, _out, p) => [bind(cumsumP, [ct], { ...p, reverse: !p.reverse })],
});

function scanArgs(op: string, x: Tensor, axis: number, options: ScanOptions | undefined): ScanParams {
  checkTensor(op, "x", x);
  if (x.rank === 0) throw new RangeError(`${op}: needs a tensor of rank >= 1 to scan along an axis, got a scalar; reshape it to [1] first`);
  const a = normalizeAxis(op, axis, x.rank);
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`${op}: options must be an object { exclusive?, reverse? }, got ${String(options)}`);
  }
  return { axis: a, exclusive: options?.exclusive === true, reverse: options?.reverse === true };
}

/**
 * Cumulative sum along `axis`: `out[i] = x[0] + … + x[i]` (TensorFlow's and JAX's `cumsum`; float sums
 * accumulate in float64, int32 sums wrap like int32 `add`).
 * @param x a tensor of rank >= 1, any dtype.
 * @param axis the axis to scan (default -1, the last, as for `softmax` and `argmax`; TensorFlow's default is
 *   0 and NumPy's flattens; negative counts from the end).
 * @param options `exclusive` (start from 0, leaving each element out) and `reverse` (scan from the end).
 * @returns a tensor of the shape and dtype of `x`.
 * @example
 * ```ts
 * cumsum(tensor([1, 2, 3])).toArray();                      // [1, 3, 6]
 * cumsum(tensor([1, 2, 3]), 0, { exclusive: true }).toArray(); // [0, 1, 3]
 * cumsum(tensor([1, 2, 3]), 0, { reverse: true }).toArray();   // [6, 5, 3]
 * ```
 * @category Scans and sorting
 */
export function cumsum(x: Tensor, axis = -1, options?: ScanOptions): Tensor {
  const p = scanArgs("cumsum", x, axis, options);
  if (x.size === 0) return x;
  return bind(cumsumP, [x], p);
}

/**
 * Cumulative product along `axis`: `out[i] = x[0] · … · x[i]`. Its derivatives are exact at every order,
 * zeros in the input included (see the module notes).
 * @param x a tensor of rank >= 1, any dtype (int32 products wrap like int32 `mul`).
 * @param axis the axis to scan (default -1, the last; negative counts from the end).
 * @param options `exclusive` (start from 1, leaving each element out) and `reverse` (scan from the end).
 * @returns a tensor of the shape and dtype of `x`.
 * @example
 * ```ts
 * cumprod(tensor([1, 2, 3, 4])).toArray();                    // [1, 2, 6, 24]
 * cumprod(tensor([2, 3]), 0, { exclusive: true }).toArray();    // [1, 2]
 * gradient(tensor([2, 0, 3]), (x) => cumprod(x).sum()).toArray(); // [1, 8, 0]
 * ```
 * @category Scans and sorting
 */
export function cumprod(x: Tensor, axis = -1, options?: ScanOptions): Tensor {
  const p = scanArgs("cumprod", x, axis, options);
  if (x.size === 0) return x;
  return bind(cumprodP, [x], p);
}

/**
 * The Hillis–Steele scan behind cumprod's derivatives: `a₀` is `x` oriented (flipped for `reverse`, shifted
 * by one for `exclusive`), and round k multiplies by the sequence shifted by `2^k`: `a_{k+1} = a_k · S_k(a_k)`,
 * where `S_k` shifts along the axis and fills with ones. Returns every `a_k` (the rules need them all).
 */
function scanRounds(x: Tensor, p: ScanParams): Tensor[] {
  const n = x.shape[p.axis]!;
  let a = p.reverse ? flip(x, p.axis) : x;
  if (p.exclusive) a = shift(a, p.axis, 1, n);
  const rounds = [a];
  for (let s = 1; s < n; s *= 2) {
    a = mul(a, shift(a, p.axis, s, n));
    rounds.push(a);
  }
  return rounds;
}

// The value is one sequential kernel (several times faster than the scan, and what compiled programs run
// too). The rules differentiate the scan, which is built from products alone, never from a division by the
// input: they are exact at every order, zeros included.
const cumprodP: Primitive<ScanParams> = definePrimitive<ScanParams>({
  name: "cumprod",
  impl: ([x], p) => {
    const out = allocate(x!.dtype, x!.size);
    backend().cumulative("prod", x!._data!, x!.shape, p.axis, p.exclusive, p.reverse, out);
    return new Tensor(x!.shape, x!.dtype, out);
  },
  // Tangents ride along the rounds: d(a·S(a)) = da·S(a) + a·S₀(da), where S₀ is the shift filling with zeros.
  jvp: ([x], [t], _out, p) => {
    const n = x!.shape[p.axis]!;
    let a = p.reverse ? flip(x!, p.axis) : x!;
    let da = p.reverse ? flip(t!, p.axis) : t!;
    if (p.exclusive) {
      a = shift(a, p.axis, 1, n);
      da = shift(da, p.axis, 1, n, 0);
    }
    for (let s = 1; s < n; s *= 2) {
      da = add(mul(da, shift(a, p.axis, s, n)), mul(a, shift(da, p.axis, s, n, 0)));
      a = mul(a, shift(a, p.axis, s, n));
    }
    return p.reverse ? flip(da, p.axis) : da;
  },
  // The transpose of each round: ā_k = ā_{k+1}·S(a_k) + S₀ᵀ(ā_{k+1}·a_k), where S₀ᵀ shifts the other way
  // (dropping the first s places, filling the end with zeros); then the orientation's transpose.
  vjp: (ct, [x], _out, p) => {
    const n = x!.shape[p.axis]!;
    const rounds = scanRounds(x!, p);
    let g = p.reverse ? flip(ct, p.axis) : ct;
    for (let k = rounds.length - 2, s = 2 ** k; k >= 0; k--, s /= 2) {
      const a = rounds[k]!;
      g = add(mul(g, shift(a, p.axis, s, n)), unshift(mul(g, a), p.axis, s, n));
    }
    if (p.exclusive) g = unshift(g, p.axis, 1, n);
    return [p.reverse ? flip(g, p.axis) : g];
  },
});

/** `y` moved `s` places along `axis`, the first `s` places filled with `fill` (ones by default). */
function shift(y: Tensor, axis: number, s: number, n: number, fill = 1): Tensor {
  const size = y.shape.slice();
  size[axis] = n - s;
  const kept = slice(y, new Array<number>(y.rank).fill(0), size);
  const paddings = y.shape.map((_, i) => (i === axis ? ([s, 0] as const) : ([0, 0] as const)));
  return pad(kept, paddings, fill);
}

/** The transpose of {@link shift}'s linear part: `y` moved `s` places back, the last `s` places zero. */
function unshift(y: Tensor, axis: number, s: number, n: number): Tensor {
  const begin = y.shape.map((_, i) => (i === axis ? s : 0));
  const size = y.shape.slice();
  size[axis] = n - s;
  const kept = slice(y, begin, size);
  const paddings = y.shape.map((_, i) => (i === axis ? ([0, s] as const) : ([0, 0] as const)));
  return pad(kept, paddings, 0);
}

function flip(x: Tensor, axis: number): Tensor {
  const n = x.shape[axis]!;
  if (n <= 1) return x;
  return gather(x, Array.from({ length: n }, (_, i) => n - 1 - i), axis);
}

/**
 * Reverses the order of the elements along the given axes (NumPy's and JAX's `flip`, TensorFlow's
 * `reverse`). Its derivative reverses the cotangent the same way.
 * @param x a tensor of any shape and dtype.
 * @param axes the axes to reverse (all of them by default; negative counts from the end).
 * @returns a tensor of the shape and dtype of `x`.
 * @example
 * ```ts
 * reverse(tensor([[1, 2], [3, 4]]), 1).toArray(); // [[2, 1], [4, 3]]
 * reverse(tensor([[1, 2], [3, 4]])).toArray();    // [[4, 3], [2, 1]]
 * ```
 * @category Scans and sorting
 */
export function reverse(x: Tensor, axes?: number | readonly number[]): Tensor {
  checkTensor("reverse", "x", x);
  let y = x;
  for (const a of normalizeAxes("reverse", axes, x.rank)) y = flip(y, a);
  return y;
}
