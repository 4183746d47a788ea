/**
 * @internal Float32 elementwise ops and reductions on the WebAssembly SIMD128 kernels
 * (`assembly/elementwise.ts`): the TypeScript kernels in `cpu/elementwise.ts` and `cpu/reduce.ts` call
 * these first and keep their own loops for what is not handled here (other dtypes, small arrays,
 * broadcasting patterns other than those below, non-contiguous reduction axes).
 *
 * Operands are copied into the operand region of the kernels' memory a segment at a time (so a segment's
 * output is still in cache when it is copied back out). Segments of at least {@link PARALLEL_MIN} elements
 * are split across the thread pool at fixed boundaries. exp, log, tanh and sigmoid are SIMD polynomial
 * approximations accurate to a few float32 ulps (bounds asserted in `test/tensor/wasm-elementwise.test.ts`),
 * taken from {@link WASM_MIN_HEAVY} elements; smaller arrays run their scalar twins in
 * `cpu/float32-math.ts`, which give the same bits. Float64 keeps the TypeScript kernels and `Math` functions. Sums accumulate in float64 like the
 * TypeScript kernel; a sum along the last axis adds in four fixed lanes (and in fixed blocks of
 * {@link BLOCK} elements), so its last bit can differ from a sequential sum, never between thread counts.
 */
import type { BinaryKernel, CompareKernel, UnaryKernel } from "../cpu/elementwise.js";
import type { ReduceKernel } from "../cpu/reduce.js";
import { addressOf, align16, heap32, heap64, heapInt32, reserve, wasmKernels } from "./module.js";
import { operandBase, parallelFor, plannedThreads, type ParallelOp } from "./threads.js";

/** Opcodes of `assembly/elementwise.ts`, in its order. */
const BINARY_OPS: readonly (BinaryKernel | CompareKernel)[] = [
  "add", "sub", "mul", "div", "maximum", "minimum",
  "equal", "notEqual", "less", "lessEqual", "greater", "greaterEqual",
];
const UNARY_OPS: readonly UnaryKernel[] = ["exp", "log", "tanh", "sigmoid", "neg", "abs", "sqrt", "relu", "step"];
const REDUCE_OPS: readonly ReduceKernel[] = ["sum", "max", "min"];
/** Ops whose kernel costs far more than its copies: worth splitting across threads sooner. */
const HEAVY: ReadonlySet<UnaryKernel> = new Set(["exp", "log", "tanh", "sigmoid"]);

/** Below this many elements the TypeScript loop wins (the copies and the call cost more than they save). */
export const WASM_MIN = 1024;
/**
 * exp, log, tanh and sigmoid come here from this many elements: their TypeScript twins (same bits, see
 * `cpu/float32-math.ts`) cost several times `Math.exp`, more than a call here from about 16 elements.
 */
export const WASM_MIN_HEAVY = 16;
/** Elements copied in per segment on one thread (three segments stay in L2). */
const SEGMENT = 1 << 16;
/** Elements per segment when threads share the work. */
const SEGMENT_PARALLEL = 1 << 20;
/** Elements per thread-pool chunk (fixed, so the split never depends on the thread count). */
const PIECE = 1 << 14;
/** Below this many elements a segment is not split across threads (cheap ops; heavy ones from PARALLEL_MIN / 8). */
const PARALLEL_MIN = 1 << 18;
/** A sum along the last axis longer than this adds blocks of this many elements, then the blocks in order. */
const BLOCK = 1 << 14;
/** Largest input a wasm column reduction or arg-reduction copies in (the TypeScript kernel handles larger ones). */
const REDUCE_MAX = 1 << 22;

let enabled = true;

/** @internal Turns the wasm elementwise kernels on or off (tests compare both). Returns the previous setting. */
export function setWasmElementwiseEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** @internal out = op(x) elementwise, float32. Returns false (nothing written) when not handled here. */
export function wasmUnary(op: UnaryKernel, x: Float32Array, out: Float32Array): boolean {
  const code = UNARY_OPS.indexOf(op);
  const n = x.length;
  if (!enabled || code < 0 || n < (HEAVY.has(op) ? WASM_MIN_HEAVY : WASM_MIN)) return false;
  const w = wasmKernels();
  if (w === null) return false;
  const threshold = HEAVY.has(op) ? PARALLEL_MIN >> 3 : PARALLEL_MIN;
  const parallel = n >= threshold && plannedThreads() > 1;
  // Operands already in the kernels' memory (resident tensor storage) are read and written where they are.
  const xRes = addressOf(x), oRes = addressOf(out);
  const seg = xRes >= 0 && oRes >= 0 ? n : parallel ? SEGMENT_PARALLEL : SEGMENT;
  const xAt = operandBase(w);
  const oAt = xAt + (xRes >= 0 ? 0 : align16(Math.min(seg, n) * 4));
  if (!reserve(w, oAt + (oRes >= 0 ? 0 : Math.min(seg, n) * 4))) return false;
  for (let s = 0; s < n; s += seg) {
    const len = Math.min(seg, n - s);
    const h = heap32();
    if (xRes < 0) h.set(x.subarray(s, s + len), xAt >> 2);
    const xs = xRes >= 0 ? xRes + s * 4 : xAt, os = oRes >= 0 ? oRes + s * 4 : oAt;
    if (parallel && len >= threshold) parallelFor("unaryF32", len, PIECE, [code, xs, os]);
    else (w.exports.unaryF32 as (...a: number[]) => void)(0, len, 0, code, xs, os);
    if (oRes < 0) out.set(h.subarray(oAt >> 2, (oAt >> 2) + len), s);
  }
  return true;
}

/**
 * One operand of a broadcasting binary op seen as rows: element i of output row r reads
 * `data[r·row + i·step]` (`step` 1 or 0).
 */
interface RowOperand {
  data: Float32Array;
  row: number;
  step: number;
}

/** The [rows, len] form of a broadcast, or null when it is none of the handled patterns. */
function rowForm(a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[], outShape: readonly number[]):
  { len: number; a: RowOperand; b: RowOperand } | null {
  const size = outShape.reduce((p, d) => p * d, 1);
  const flat = (x: Float32Array, shape: readonly number[]): RowOperand | null =>
    x.length === 1 ? { data: x, row: 0, step: 0 } : sameAs(shape, outShape) ? { data: x, row: PIECE, step: 1 } : null;
  const fa = flat(a, aShape), fb = flat(b, bShape);
  if (fa !== null && fb !== null) return { len: PIECE, a: fa, b: fb };
  // [..., n] with a trailing-dims operand (a bias) or a [..., m, 1] operand (a per-row value).
  const len = outShape.length === 0 ? 1 : outShape[outShape.length - 1]!;
  if (len < 16 || size === 0) return null;
  const asRows = (x: Float32Array, shape: readonly number[]): RowOperand | null => {
    if (sameAs(shape, outShape)) return { data: x, row: len, step: 1 };
    if (x.length === 1) return { data: x, row: 0, step: 0 };
    if (x.length === len && shape[shape.length - 1] === len) return { data: x, row: 0, step: 1 };
    if (x.length === size / len && shape.length === outShape.length && shape[shape.length - 1] === 1 && sameAs(shape.slice(0, -1), outShape.slice(0, -1))) {
      return { data: x, row: 1, step: 0 };
    }
    return null;
  };
  const ra = asRows(a, aShape), rb = asRows(b, bShape);
  return ra !== null && rb !== null ? { len, a: ra, b: rb } : null;
}

function sameAs(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The elements of operand `x` that output rows [r0, r1) read: [start, end). */
function span(x: RowOperand, r0: number, r1: number, len: number): [number, number] {
  if (x.row === 0) return [0, x.data.length];
  const start = r0 * x.row;
  return [start, Math.min(x.data.length, (r1 - 1) * x.row + (x.step === 1 ? len : 1))];
}

/**
 * @internal out = a op b with broadcasting, float32 operands (comparisons write int32 into `out`). Returns
 * false (nothing written) when not handled here.
 */
export function wasmBinary(
  op: BinaryKernel | CompareKernel,
  a: Float32Array, aShape: readonly number[],
  b: Float32Array, bShape: readonly number[],
  out: Float32Array | Int32Array, outShape: readonly number[],
): boolean {
  const code = BINARY_OPS.indexOf(op);
  const n = out.length;
  if (!enabled || code < 0 || n < WASM_MIN) return false;
  const w = wasmKernels();
  if (w === null) return false;
  const form = rowForm(a, aShape, b, bShape, outShape);
  if (form === null) return false;
  const { len } = form;
  const rows = Math.ceil(n / len);
  const parallel = n >= PARALLEL_MIN && plannedThreads() > 1;
  // Operands already in the kernels' memory (resident tensor storage) are read and written where they are;
  // the others are copied in (and the output out) a segment at a time.
  const aRes = addressOf(form.a.data), bRes = addressOf(form.b.data), oRes = addressOf(out);
  const copies = aRes < 0 || bRes < 0 || oRes < 0;
  // Segments hold whole rows.
  const segRows = copies ? Math.max(1, Math.floor((parallel ? SEGMENT_PARALLEL : SEGMENT) / len)) : rows;
  const segElems = Math.min(n, segRows * len);
  const aAt = operandBase(w);
  const aMax = aRes >= 0 ? 0 : form.a.row === 0 ? form.a.data.length : Math.min(form.a.data.length, segElems);
  const bAt = aAt + align16(aMax * 4);
  const bMax = bRes >= 0 ? 0 : form.b.row === 0 ? form.b.data.length : Math.min(form.b.data.length, segElems);
  const oAt = bAt + align16(bMax * 4);
  if (!reserve(w, oAt + (oRes >= 0 ? 0 : segElems * 4))) return false;
  for (let r0 = 0; r0 < rows; r0 += segRows) {
    const r1 = Math.min(rows, r0 + segRows);
    const [as0, as1] = span(form.a, r0, r1, len);
    const [bs0, bs1] = span(form.b, r0, r1, len);
    const h = heap32();
    if (aRes < 0) h.set(form.a.data.subarray(as0, as1), aAt >> 2);
    if (bRes < 0) h.set(form.b.data.subarray(bs0, bs1), bAt >> 2);
    const total = Math.min(n, r1 * len) - r0 * len;
    const start = r0 * len;
    const as = aRes >= 0 ? aRes + as0 * 4 : aAt, bs = bRes >= 0 ? bRes + bs0 * 4 : bAt, os = oRes >= 0 ? oRes + start * 4 : oAt;
    const args = [code, as, form.a.row, form.a.step, bs, form.b.row, form.b.step, os, len, total];
    if (parallel && total >= PARALLEL_MIN) parallelFor("binaryRows", r1 - r0, Math.max(1, Math.floor(PIECE / len)), args);
    else (w.exports.binaryRows as (...a: number[]) => void)(0, r1 - r0, 0, ...args);
    if (oRes >= 0) continue;
    if (out instanceof Int32Array) out.set(heapInt32().subarray(oAt >> 2, (oAt >> 2) + total), start);
    else out.set(h.subarray(oAt >> 2, (oAt >> 2) + total), start);
  }
  return true;
}

/** @internal out = where(c, a, b) for same-shape operands (c int32, a and b float32). False when not handled. */
export function wasmWhere(c: Int32Array, a: Float32Array, b: Float32Array, out: Float32Array): boolean {
  const n = out.length;
  if (!enabled || n < WASM_MIN || c.length !== n || a.length !== n || b.length !== n) return false;
  const w = wasmKernels();
  if (w === null) return false;
  // Resident operands (see wasmUnary) are used where they are.
  const cRes = addressOf(c), aRes = addressOf(a), bRes = addressOf(b), oRes = addressOf(out);
  const seg = cRes >= 0 && aRes >= 0 && bRes >= 0 && oRes >= 0 ? n : Math.min(n, SEGMENT);
  const room = (res: number): number => (res >= 0 ? 0 : seg * 4);
  const cAt = operandBase(w), aAt = cAt + room(cRes), bAt = aAt + room(aRes), oAt = bAt + room(bRes);
  if (!reserve(w, oAt + room(oRes))) return false;
  for (let s = 0; s < n; s += seg) {
    const len = Math.min(seg, n - s);
    if (cRes < 0) heapInt32().set(c.subarray(s, s + len), cAt >> 2);
    const h = heap32();
    if (aRes < 0) h.set(a.subarray(s, s + len), aAt >> 2);
    if (bRes < 0) h.set(b.subarray(s, s + len), bAt >> 2);
    const at = (res: number, scratch: number): number => (res >= 0 ? res + s * 4 : scratch);
    (w.exports.whereF32 as (...a: number[]) => void)(0, len, 0, at(cRes, cAt), at(aRes, aAt), at(bRes, bAt), at(oRes, oAt));
    if (oRes < 0) out.set(h.subarray(oAt >> 2, (oAt >> 2) + len), s);
  }
  return true;
}

/**
 * @internal A float32 reduction (sum, max, min) over contiguous trailing axes (rows) or leading axes
 * (columns). Writes float32 results into `out`; returns false when not handled here.
 */
export function wasmReduce(op: ReduceKernel, x: Float32Array, shape: readonly number[], axes: readonly number[], out: Float32Array): boolean {
  const code = REDUCE_OPS.indexOf(op);
  const n = x.length;
  if (!enabled || code < 0 || n < WASM_MIN || axes.length === 0) return false;
  for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1]! + 1) return false;
  const r = shape.length;
  const first = axes[0]!, last = axes[axes.length - 1]!;
  const w = wasmKernels();
  if (w === null) return false;
  const xRes = addressOf(x);
  if (last === r - 1) {
    // rows × len, reduce each row. An input in the kernels' memory (resident storage) is reduced where it
    // is, split across threads when large. Any other input is copied in a segment at a time and reduced
    // while the segment is still in cache, on the calling thread: the copy is most of the work and cannot
    // be shared, so a second thread only added its wake-up and join (measured: 0.52 → 0.68 ns/element for
    // a sum of 1e6 before, and more CPU time now).
    let len = 1;
    for (let d = first; d < r; d++) len *= shape[d]!;
    const rows = n / len;
    const seg = SEGMENT;
    const xAt = operandBase(w);
    if (xRes >= 0) {
      const parallel = n >= PARALLEL_MIN && plannedThreads() > 1;
      if (len <= BLOCK) {
        if (!reserve(w, xAt + rows * 8)) return false;
        run2("reduceRows", rows, Math.max(1, Math.floor(PIECE / len)), parallel, [code, xRes, len, n, xAt]);
        const h = heap64();
        for (let i = 0; i < rows; i++) out[i] = h[(xAt >> 3) + i]!;
        return true;
      }
      // Long rows: fixed blocks of BLOCK elements, then the blocks' results in order, as below.
      const blocks = Math.ceil(len / BLOCK);
      if (!reserve(w, xAt + blocks * 8)) return false;
      for (let i = 0; i < rows; i++) {
        run2("reduceRows", blocks, 4, parallel, [code, xRes + i * len * 4, BLOCK, len, xAt]);
        out[i] = combine(op, heap64(), xAt >> 3, blocks);
      }
      return true;
    }
    if (len <= BLOCK) {
      const segRows = Math.max(1, Math.floor(seg / len));
      const outAt = xAt + align16(Math.min(rows, segRows) * len * 4);
      if (!reserve(w, outAt + segRows * 8)) return false;
      for (let r0 = 0; r0 < rows; r0 += segRows) {
        const r1 = Math.min(rows, r0 + segRows);
        heap32().set(x.subarray(r0 * len, r1 * len), xAt >> 2);
        run2("reduceRows", r1 - r0, 1, false, [code, xAt, len, (r1 - r0) * len, outAt]);
        const h = heap64();
        for (let i = r0; i < r1; i++) out[i] = h[(outAt >> 3) + i - r0]!;
      }
      return true;
    }
    // Long rows: fixed blocks of BLOCK elements, then the blocks' results in order.
    const blocks = Math.ceil(len / BLOCK);
    const segBlocks = Math.max(1, Math.floor(seg / BLOCK));
    const outAt = xAt + align16(Math.min(blocks, segBlocks) * BLOCK * 4);
    if (!reserve(w, outAt + blocks * 8)) return false;
    for (let i = 0; i < rows; i++) {
      for (let b0 = 0; b0 < blocks; b0 += segBlocks) {
        const b1 = Math.min(blocks, b0 + segBlocks);
        const start = i * len + b0 * BLOCK, end = i * len + Math.min(len, b1 * BLOCK);
        heap32().set(x.subarray(start, end), xAt >> 2);
        run2("reduceRows", b1 - b0, 1, false, [code, xAt, BLOCK, end - start, outAt + b0 * 8]);
      }
      out[i] = combine(op, heap64(), outAt >> 3, blocks);
    }
    return true;
  }
  if (first === 0 && n <= REDUCE_MAX) {
    // rows × cols, reduce each column over the rows
    const xAt = operandBase(w);
    const outAt = xRes >= 0 ? xAt : xAt + align16(n * 4);
    const parallel = n >= PARALLEL_MIN && plannedThreads() > 1;
    let rows = 1;
    for (let d = 0; d <= last; d++) rows *= shape[d]!;
    const cols = n / rows;
    if (cols < 4 || !reserve(w, outAt + cols * 8)) return false;
    if (xRes < 0) heap32().set(x, xAt >> 2);
    run2("reduceColumns", cols, Math.max(2, Math.ceil(PIECE / rows / 2) * 2), parallel, [code, xRes >= 0 ? xRes : xAt, rows, cols, outAt]);
    const h = heap64();
    for (let j = 0; j < cols; j++) out[j] = h[(outAt >> 3) + j]!;
    return true;
  }
  return false;
}

/**
 * @internal The index of the maximum (or minimum) along `axis` of a float32 array, first on ties, the first
 * NaN winning (the TypeScript kernel's rules, bit for bit). Returns false when not handled here.
 */
export function wasmArgReduce(op: "argmax" | "argmin", x: Float32Array, shape: readonly number[], axis: number, out: Int32Array): boolean {
  const n = x.length;
  if (!enabled || n < WASM_MIN || n > REDUCE_MAX) return false;
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d]!;
  const len = shape[axis]!;
  const inner = n / (outer * len);
  if (len < 4 || (inner > 1 && inner < 4)) return false;
  const w = wasmKernels();
  if (w === null) return false;
  // A resident input (see wasmUnary) is read where it is.
  const xRes = addressOf(x);
  const outAt = operandBase(w);
  const xAt = xRes >= 0 ? xRes : outAt + align16(outer * inner * 4);
  if (!reserve(w, Math.max(outAt + outer * inner * 4, xRes >= 0 ? 0 : xAt + n * 4))) return false;
  if (xRes < 0) heap32().set(x, xAt >> 2);
  const parallel = n >= PARALLEL_MIN && plannedThreads() > 1;
  const isMax = op === "argmax" ? 1 : 0;
  if (inner === 1) {
    run2("argRows", outer, Math.max(1, Math.floor(PIECE / len)), parallel, [isMax, xAt, len, outAt]);
  } else {
    for (let o = 0; o < outer; o++) {
      const block = o * len * inner;
      run2("argColumns", inner, Math.max(4, Math.ceil(PIECE / len / 4) * 4), parallel && len * inner >= PARALLEL_MIN, [isMax, xAt + block * 4, len, inner, outAt + o * inner * 4]);
    }
  }
  out.set(heapInt32().subarray(outAt >> 2, (outAt >> 2) + outer * inner));
  return true;
}

/**
 * @internal The argmax indices of a 2×2, stride-2 max pooling over NHWC float32 `x` (`c` a multiple of 4,
 * windows inside the input): the TypeScript kernel's indices bit for bit. Returns false when not handled here.
 */
export function wasmMaxPool2x2(x: Float32Array, n: number, h: number, w: number, c: number, oh: number, ow: number, out: Int32Array): boolean {
  const size = x.length;
  if (!enabled || c % 4 !== 0 || size < WASM_MIN || size > REDUCE_MAX) return false;
  const kernels = wasmKernels();
  if (kernels === null) return false;
  // A resident input (see wasmUnary) is read where it is.
  const xRes = addressOf(x);
  const outAt = operandBase(kernels);
  const xAt = xRes >= 0 ? xRes : outAt + align16(out.length * 4);
  if (!reserve(kernels, Math.max(outAt + out.length * 4, xRes >= 0 ? 0 : xAt + size * 4))) return false;
  if (xRes < 0) heap32().set(x, xAt >> 2);
  const rows = n * oh;
  run2("maxPool2x2Argmax", rows, Math.max(1, Math.floor(PIECE / (ow * c))), size >= PARALLEL_MIN && plannedThreads() > 1, [xAt, h, w, c, oh, ow, outAt]);
  out.set(heapInt32().subarray(outAt >> 2, (outAt >> 2) + out.length));
  return true;
}

/** Runs `op` over `total` items in pieces of `piece`: on the pool when `parallel`, else here. */
function run2(op: ParallelOp, total: number, piece: number, parallel: boolean, args: readonly number[]): void {
  if (parallel) parallelFor(op, total, piece, args);
  else (wasmKernels()!.exports[op] as (...a: number[]) => void)(0, total, 0, ...args);
}

/** Combines block results in order, with the TypeScript kernel's rules (NaN sticks). */
function combine(op: ReduceKernel, h: Float64Array<ArrayBufferLike>, at: number, count: number): number {
  let v = h[at]!;
  for (let i = 1; i < count; i++) {
    const t = h[at + i]!;
    if (op === "sum") v += t;
    else if (v === v && ((op === "max" ? t > v : t < v) || t !== t)) v = t;
  }
  return v;
}
