import type { TypedArray } from "../dtype.js";

/** @internal Unary kernels: one output element per input element. */
export type UnaryKernel =
  | "neg" | "exp" | "log" | "log1p" | "expm1" | "sqrt" | "abs" | "sign"
  | "sin" | "cos" | "tan" | "tanh" | "sigmoid" | "relu" | "step";

/** @internal Binary arithmetic kernels (output has the operands' dtype). */
export type BinaryKernel = "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum";

/** @internal Comparison kernels (int32 output, 1 where true). */
export type CompareKernel = "equal" | "notEqual" | "less" | "lessEqual" | "greater" | "greaterEqual";

/**
 * @internal Elementwise kernels. Broadcasting never materialises copies: each operand is read through
 * strides that are 0 along broadcast dimensions, one output row at a time.
 */
export interface ElementwiseKernels {
  unary(op: UnaryKernel, x: TypedArray, out: TypedArray): void;
  binary(op: BinaryKernel | CompareKernel, a: TypedArray, aShape: readonly number[], b: TypedArray, bShape: readonly number[], out: TypedArray, outShape: readonly number[]): void;
  where(c: TypedArray, cShape: readonly number[], a: TypedArray, aShape: readonly number[], b: TypedArray, bShape: readonly number[], out: TypedArray, outShape: readonly number[]): void;
  cast(x: TypedArray, out: TypedArray): void;
}

// One row kernel per op, written out so every loop body is monomorphic (a shared loop calling an op
// closure would go megamorphic in V8 and run several times slower). `as`/`bs` are 0 (broadcast) or 1.
type Row = (a: TypedArray, ai: number, as: number, b: TypedArray, bi: number, bs: number, o: TypedArray, oi: number, n: number) => void;

const rows: Record<BinaryKernel | CompareKernel, Row> = {
  add(a, ai, as, b, bi, bs, o, oi, n) {
    if (as === 1 && bs === 1) for (let i = 0; i < n; i++) o[oi + i] = a[ai + i]! + b[bi + i]!;
    else for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai]! + b[bi]!;
  },
  sub(a, ai, as, b, bi, bs, o, oi, n) {
    if (as === 1 && bs === 1) for (let i = 0; i < n; i++) o[oi + i] = a[ai + i]! - b[bi + i]!;
    else for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai]! - b[bi]!;
  },
  mul(a, ai, as, b, bi, bs, o, oi, n) {
    if (as === 1 && bs === 1) for (let i = 0; i < n; i++) o[oi + i] = a[ai + i]! * b[bi + i]!;
    else for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai]! * b[bi]!;
  },
  div(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai]! / b[bi]!;
  },
  pow(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = Math.pow(a[ai]!, b[bi]!);
  },
  maximum(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) {
      const x = a[ai]!, y = b[bi]!;
      o[oi + i] = x >= y || x !== x ? x : y; // NaN propagates
    }
  },
  minimum(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) {
      const x = a[ai]!, y = b[bi]!;
      o[oi + i] = x <= y || x !== x ? x : y;
    }
  },
  equal(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai]! === b[bi]! ? 1 : 0;
  },
  notEqual(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai]! !== b[bi]! ? 1 : 0;
  },
  less(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai]! < b[bi]! ? 1 : 0;
  },
  lessEqual(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai]! <= b[bi]! ? 1 : 0;
  },
  greater(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai]! > b[bi]! ? 1 : 0;
  },
  greaterEqual(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai]! >= b[bi]! ? 1 : 0;
  },
};

/** @internal Strides of `shape` aligned to `outShape` (right-aligned), 0 along broadcast dimensions. */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const r = outShape.length;
  const s = new Array<number>(r).fill(0);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    s[r - shape.length + i] = d === 1 ? 0 : acc;
    acc *= d;
  }
  return s;
}

/**
 * @internal Visits the output one innermost row at a time, calling `row(offsets..., outOffset, n)` with
 * each operand's offset. Operands are given by their broadcast strides.
 */
function forEachRow(
  outShape: readonly number[],
  strides: readonly number[][],
  row: (offsets: Int32Array, oi: number, n: number, inner: Int32Array) => void,
): void {
  const r = outShape.length;
  const k = strides.length;
  const offsets = new Int32Array(k);
  const inner = new Int32Array(k);
  if (r === 0) {
    row(offsets, 0, 1, inner);
    return;
  }
  const n = outShape[r - 1]!;
  let total = 1;
  for (const d of outShape) total *= d;
  if (total === 0) return;
  for (let j = 0; j < k; j++) inner[j] = strides[j]![r - 1]!;
  const idx = new Int32Array(r);
  for (let oi = 0; oi < total; oi += n) {
    row(offsets, oi, n, inner);
    // advance the odometer over the outer dimensions
    for (let d = r - 2; d >= 0; d--) {
      idx[d]!++;
      for (let j = 0; j < k; j++) offsets[j]! += strides[j]![d]!;
      if (idx[d]! < outShape[d]!) break;
      for (let j = 0; j < k; j++) offsets[j]! -= strides[j]![d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** @internal The CPU implementation of the elementwise kernels. */
export const cpuElementwise: ElementwiseKernels = {
  unary(op, x, o) {
    const n = x.length;
    switch (op) {
      case "neg": for (let i = 0; i < n; i++) o[i] = -x[i]!; break;
      case "exp": for (let i = 0; i < n; i++) o[i] = Math.exp(x[i]!); break;
      case "log": for (let i = 0; i < n; i++) o[i] = Math.log(x[i]!); break;
      case "log1p": for (let i = 0; i < n; i++) o[i] = Math.log1p(x[i]!); break;
      case "expm1": for (let i = 0; i < n; i++) o[i] = Math.expm1(x[i]!); break;
      case "sqrt": for (let i = 0; i < n; i++) o[i] = Math.sqrt(x[i]!); break;
      case "abs": for (let i = 0; i < n; i++) o[i] = Math.abs(x[i]!); break;
      case "sign": for (let i = 0; i < n; i++) { const v = x[i]!; o[i] = v > 0 ? 1 : v < 0 ? -1 : v; } break;
      case "sin": for (let i = 0; i < n; i++) o[i] = Math.sin(x[i]!); break;
      case "cos": for (let i = 0; i < n; i++) o[i] = Math.cos(x[i]!); break;
      case "tan": for (let i = 0; i < n; i++) o[i] = Math.tan(x[i]!); break;
      case "tanh": for (let i = 0; i < n; i++) o[i] = Math.tanh(x[i]!); break;
      case "sigmoid":
        // Stable on both sides: never exponentiates a large positive number.
        for (let i = 0; i < n; i++) {
          const v = x[i]!;
          if (v >= 0) o[i] = 1 / (1 + Math.exp(-v));
          else { const e = Math.exp(v); o[i] = e / (1 + e); }
        }
        break;
      case "relu": for (let i = 0; i < n; i++) { const v = x[i]!; o[i] = v > 0 ? v : 0; } break;
      case "step": for (let i = 0; i < n; i++) o[i] = x[i]! > 0 ? 1 : 0; break;
    }
  },
  binary(op, a, aShape, b, bShape, o, outShape) {
    const row = rows[op];
    if (sameShape(aShape, bShape)) return row(a, 0, 1, b, 0, 1, o, 0, o.length);
    if (b.length === 1 && sameShape(aShape, outShape)) return row(a, 0, 1, b, 0, 0, o, 0, o.length);
    if (a.length === 1 && sameShape(bShape, outShape)) return row(a, 0, 0, b, 0, 1, o, 0, o.length);
    const sa = broadcastStrides(aShape, outShape);
    const sb = broadcastStrides(bShape, outShape);
    forEachRow(outShape, [sa, sb], (off, oi, n, inner) => row(a, off[0]!, inner[0]!, b, off[1]!, inner[1]!, o, oi, n));
  },
  where(c, cShape, a, aShape, b, bShape, o, outShape) {
    const sc = broadcastStrides(cShape, outShape);
    const sa = broadcastStrides(aShape, outShape);
    const sb = broadcastStrides(bShape, outShape);
    forEachRow(outShape, [sc, sa, sb], (off, oi, n, inner) => {
      let ci = off[0]!, ai = off[1]!, bi = off[2]!;
      const cs = inner[0]!, as = inner[1]!, bs = inner[2]!;
      for (let i = 0; i < n; i++, ci += cs, ai += as, bi += bs) o[oi + i] = c[ci] !== 0 ? a[ai]! : b[bi]!;
    });
  },
  cast(x, o) {
    if (o instanceof Int32Array && !(x instanceof Int32Array)) {
      for (let i = 0; i < x.length; i++) o[i] = Math.trunc(x[i]!);
    } else {
      o.set(x);
    }
  },
};
