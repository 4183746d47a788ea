import type { TypedArray } from "../dtype.js";
import { WASM_MIN, WASM_MIN_HEAVY, wasmBinary, wasmUnary, wasmWhere } from "../wasm/elementwise.js";
import { expF32, logF32, sigmoidF32, tanhF32 } from "./float32-math.js";

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
    if (as === 1 && bs === 1) {
      let i = 0;
      for (; i + 3 < n; i += 4) {
        o[oi + i] = a[ai + i]! + b[bi + i]!;
        o[oi + i + 1] = a[ai + i + 1]! + b[bi + i + 1]!;
        o[oi + i + 2] = a[ai + i + 2]! + b[bi + i + 2]!;
        o[oi + i + 3] = a[ai + i + 3]! + b[bi + i + 3]!;
      }
      for (; i < n; i++) o[oi + i] = a[ai + i]! + b[bi + i]!;
    }
    else for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai]! + b[bi]!;
  },
  sub(a, ai, as, b, bi, bs, o, oi, n) {
    if (as === 1 && bs === 1) {
      let i = 0;
      for (; i + 3 < n; i += 4) {
        o[oi + i] = a[ai + i]! - b[bi + i]!;
        o[oi + i + 1] = a[ai + i + 1]! - b[bi + i + 1]!;
        o[oi + i + 2] = a[ai + i + 2]! - b[bi + i + 2]!;
        o[oi + i + 3] = a[ai + i + 3]! - b[bi + i + 3]!;
      }
      for (; i < n; i++) o[oi + i] = a[ai + i]! - b[bi + i]!;
    }
    else for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = a[ai]! - b[bi]!;
  },
  mul(a, ai, as, b, bi, bs, o, oi, n) {
    if (as === 1 && bs === 1) {
      let i = 0;
      for (; i + 3 < n; i += 4) {
        o[oi + i] = a[ai + i]! * b[bi + i]!;
        o[oi + i + 1] = a[ai + i + 1]! * b[bi + i + 1]!;
        o[oi + i + 2] = a[ai + i + 2]! * b[bi + i + 2]!;
        o[oi + i + 3] = a[ai + i + 3]! * b[bi + i + 3]!;
      }
      for (; i < n; i++) o[oi + i] = a[ai + i]! * b[bi + i]!;
    }
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
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = +(a[ai]! === b[bi]!);
  },
  notEqual(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = +(a[ai]! !== b[bi]!);
  },
  less(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = +(a[ai]! < b[bi]!);
  },
  lessEqual(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = +(a[ai]! <= b[bi]!);
  },
  greater(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = +(a[ai]! > b[bi]!);
  },
  greaterEqual(a, ai, as, b, bi, bs, o, oi, n) {
    for (let i = 0; i < n; i++, ai += as, bi += bs) o[oi + i] = +(a[ai]! >= b[bi]!);
  },
};

// One small function per unary op, so each loop is compiled on its own. Data-dependent branches are
// avoided where the sign of the input is random (relu, step): a mispredicted branch per element costs
// about 5 ns here, four times the rest of the loop.
type Unary = (x: TypedArray, o: TypedArray, n: number) => void;
const unaryOps: Record<UnaryKernel, Unary> = {
  neg(x, o, n) { for (let i = 0; i < n; i++) o[i] = -x[i]!; },
  exp(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.exp(x[i]!); },
  log(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.log(x[i]!); },
  log1p(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.log1p(x[i]!); },
  expm1(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.expm1(x[i]!); },
  sqrt(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.sqrt(x[i]!); },
  abs(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.abs(x[i]!); },
  sign(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.sign(x[i]!); },
  sin(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.sin(x[i]!); },
  cos(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.cos(x[i]!); },
  tan(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.tan(x[i]!); },
  tanh(x, o, n) { for (let i = 0; i < n; i++) o[i] = Math.tanh(x[i]!); },
  sigmoid(x, o, n) {
    // Stable on both sides: exponentiates only -|v|, then reflects for negative inputs.
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      const s = 1 / (1 + Math.exp(-Math.abs(v)));
      o[i] = v >= 0 ? s : 1 - s;
    }
  },
  relu(x, o, n) {
    // (v + |v|) / 2 is max(v, 0) without a branch, except at -Infinity (gives NaN): those are fixed after.
    let negInf = 0;
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      o[i] = (v + Math.abs(v)) * 0.5;
      negInf += +(v === -Infinity);
    }
    if (negInf > 0) for (let i = 0; i < n; i++) if (x[i] === -Infinity) o[i] = 0;
  },
  step(x, o, n) { for (let i = 0; i < n; i++) o[i] = +(x[i]! > 0); },
};

// Float32 exp, log, tanh and sigmoid have one definition (`float32-math.ts`, the wasm kernels' algorithm):
// these loops give tiny tensors, and any tensor where WebAssembly is unavailable, the same bits as the wasm
// kernels give larger ones.
const float32Ops: Partial<Record<UnaryKernel, (x: Float32Array, o: Float32Array, n: number) => void>> = {
  exp(x, o, n) { for (let i = 0; i < n; i++) o[i] = expF32(x[i]!); },
  log(x, o, n) { for (let i = 0; i < n; i++) o[i] = logF32(x[i]!); },
  tanh(x, o, n) { for (let i = 0; i < n; i++) o[i] = tanhF32(x[i]!); },
  sigmoid(x, o, n) { for (let i = 0; i < n; i++) o[i] = sigmoidF32(x[i]!); },
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
    if (x instanceof Float32Array && o instanceof Float32Array) {
      if (x.length >= WASM_MIN_HEAVY && wasmUnary(op, x, o)) return;
      const f32 = float32Ops[op];
      if (f32 !== undefined) return f32(x, o, x.length);
    }
    unaryOps[op](x, o, x.length);
  },
  binary(op, a, aShape, b, bShape, o, outShape) {
    if (o.length >= WASM_MIN && a instanceof Float32Array && b instanceof Float32Array && !(o instanceof Float64Array) &&
      wasmBinary(op, a, aShape, b, bShape, o, outShape)) return;
    const row = rows[op];
    if (sameShape(aShape, bShape)) return row(a, 0, 1, b, 0, 1, o, 0, o.length);
    if (b.length === 1 && sameShape(aShape, outShape)) return row(a, 0, 1, b, 0, 0, o, 0, o.length);
    if (a.length === 1 && sameShape(bShape, outShape)) return row(a, 0, 0, b, 0, 1, o, 0, o.length);
    const sa = broadcastStrides(aShape, outShape);
    const sb = broadcastStrides(bShape, outShape);
    forEachRow(outShape, [sa, sb], (off, oi, n, inner) => row(a, off[0]!, inner[0]!, b, off[1]!, inner[1]!, o, oi, n));
  },
  where(c, cShape, a, aShape, b, bShape, o, outShape) {
    if (o.length >= WASM_MIN && c instanceof Int32Array && a instanceof Float32Array && b instanceof Float32Array && o instanceof Float32Array &&
      wasmWhere(c, a, b, o)) return;
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
