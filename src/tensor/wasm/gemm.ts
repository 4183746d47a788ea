/**
 * @internal The WebAssembly SIMD128 float32 GEMM: a drop-in for the TypeScript {@link gemm} of
 * `src/tensor/cpu/linalg.ts` when the product is float32.
 *
 * The kernel (AssemblyScript source in `assembly/gemm.ts`, part of the kernels module of `module.ts`) is a
 * Goto-style blocked GEMM with a 4×8 f32x4 register tile: SIMD128 has no FMA, so each step is a broadcast
 * of one A element times two vectors of B, then an add. It accumulates in float32 (the TypeScript kernel
 * accumulates in float64), so results agree with it to float32 precision, not bit for bit.
 *
 * Operands already in the kernels' memory (resident tensor storage, `arena.ts`) are read where they are, with
 * their own strides, and a resident C is written in place. Other operands are copied into the operand region
 * as they are (float32, or float64 for the im2col buffers of the convolutions, which the kernel narrows while
 * packing), keeping their transposed layout; the kernel packs them into panels itself, and C (float32) is
 * copied back out. Very large operands
 * are processed in chunks so that each copy stays below {@link CHUNK} elements. Products of at least
 * {@link PARALLEL_MIN} multiply-adds are cut into row (or column) blocks run on the thread pool
 * (`threads.ts`); a block computes each of its elements exactly as the whole product would.
 */
import type { TypedArray } from "../dtype.js";
import { addressOf, heap32, heap64, reserve, wasmKernels, workspaceAt, align16 } from "./module.js";
import { operandBase, parallelFor, plannedThreads } from "./threads.js";

/** Largest operand chunk copied into wasm memory at once, in elements (16 MiB of float32). */
const CHUNK = 1 << 22;
/** `flags` bits of the kernel's sgemm. */
const ACCUMULATE = 1;
const A_F64 = 2;
const B_F64 = 4;
const BY_COLUMNS = 8;
/** Register tile of the kernel: chunks are cut at multiples of it. */
const MR = 4;
const NR = 8;
/**
 * From this many multiply-adds on, a product is split across threads (below, waking a worker, ~10-30 µs
 * on a loaded machine, costs more than half the product saves). Measured with `npm run bench -- --case=matmul`.
 */
const PARALLEL_MIN = 1 << 20;
/** Smallest block of rows (or columns) given to one thread: the other operand is packed once per block. */
const MIN_BLOCK = 32;

let enabled = true;

/**
 * @internal Turns the wasm path on or off (tests use it to exercise the TypeScript fallback). Returns the
 * previous setting.
 */
export function setWasmGemmEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** @internal True when the wasm kernel is enabled and this runtime supports WebAssembly SIMD128. */
export function wasmGemmAvailable(): boolean {
  return enabled && wasmKernels() !== null;
}

/** @internal True when this runtime can run the wasm kernel at all (regardless of the enabled flag). */
export function wasmSimdSupported(): boolean {
  return wasmKernels() !== null;
}

/**
 * @internal `C[i, j] (+)= Σ_p A[i, p] · B[p, j]` in float32 on the wasm kernel, with exactly the
 * operand contract of the TypeScript `gemm` (`A[i, p] = a[aOff + i*ars + p*acs]`,
 * `B[p, j] = b[bOff + p*brs + j*bcs]`, `C[i, j] = c[cOff + i*n + j]`; overwrite unless `accumulate`).
 * Requires `m, k, n > 0`. Returns false, having touched nothing, when the wasm kernel is disabled or
 * unavailable (or its memory cannot grow): the caller then runs the TypeScript kernel.
 */
export function wasmGemm(
  a: TypedArray,
  aOff: number,
  ars: number,
  acs: number,
  b: TypedArray,
  bOff: number,
  brs: number,
  bcs: number,
  c: TypedArray,
  cOff: number,
  m: number,
  k: number,
  n: number,
  accumulate: boolean,
): boolean {
  if (!enabled) return false;
  const w = wasmKernels();
  if (w === null) return false;
  const threads = plannedThreads();

  // Operands already in the kernels' memory (resident tensor storage, always float32) are read, and a
  // resident C written, where they are, with their own strides; the others are copied in (and C out).
  const aRes = resident(a, ars, acs), bRes = resident(b, brs, bcs), cRes = resident(c, n, 1);
  // Chunk sizes: whole operands unless a copied one would exceed CHUNK elements.
  const nb = bRes >= 0 || k * n <= CHUNK ? n : Math.max(NR, Math.floor(CHUNK / k / NR) * NR);
  const nMax = Math.min(nb, n);
  const rowElems = Math.max(aRes >= 0 ? 0 : k, cRes >= 0 ? 0 : nMax);
  const mb = m * rowElems <= CHUNK ? m : Math.max(MR, Math.floor(CHUNK / rowElems / MR) * MR);
  const mMax = Math.min(mb, m);
  // Float64 operands (the convolutions' im2col buffers) are copied as they are and narrowed by the kernel
  // while packing: a Float64Array → Float32Array `set` costs about 1 ns per element, a plain copy far less.
  const aSize = a instanceof Float64Array ? 8 : 4;
  const bSize = b instanceof Float64Array ? 8 : 4;
  // Operand region in bytes: [B chunk | A chunk | C chunk (f32)], each 16-byte aligned.
  const bAt = operandBase(w);
  const aAt = bAt + (bRes >= 0 ? 0 : align16(k * nMax * bSize));
  const cAt = aAt + (aRes >= 0 ? 0 : align16(mMax * k * aSize));
  if (!reserve(w, cAt + (cRes >= 0 ? 0 : mMax * nMax * 4))) return false;
  const flags = (accumulate ? ACCUMULATE : 0) | (aSize === 8 ? A_F64 : 0) | (bSize === 8 ? B_F64 : 0);
  const cIdx = cAt >> 2;

  for (let j0 = 0; j0 < n; j0 += nb) {
    const nj = Math.min(nb, n - j0);
    const [bRs, bCs] = bRes >= 0 ? [brs, bcs] : copyIn(view(bSize), bAt / bSize, b, bOff + j0 * bcs, brs, bcs, k, nj);
    const bPtr = bRes >= 0 ? bRes + (bOff + j0 * bcs) * 4 : bAt;
    for (let i0 = 0; i0 < m; i0 += mb) {
      const mi = Math.min(mb, m - i0);
      const [aRs, aCs] = aRes >= 0 ? [ars, acs] : copyIn(view(aSize), aAt / aSize, a, aOff + i0 * ars, ars, acs, mi, k);
      const aPtr = aRes >= 0 ? aRes + (aOff + i0 * ars) * 4 : aAt;
      const cStart = cOff + i0 * n + j0;
      if (cRes >= 0) {
        product(aPtr, aRs, aCs, bPtr, bRs, bCs, cRes + cStart * 4, n, mi, k, nj, flags, threads);
        continue;
      }
      const h = heap32();
      if (accumulate) copyIn(h, cIdx, c, cStart, n, 1, mi, nj);
      product(aPtr, aRs, aCs, bPtr, bRs, bCs, cAt, nj, mi, k, nj, flags, threads);
      if (nj === n) {
        c.set(h.subarray(cIdx, cIdx + mi * n), cStart);
      } else {
        for (let i = 0; i < mi; i++) c.set(h.subarray(cIdx + i * nj, cIdx + (i + 1) * nj), cStart + i * n);
      }
    }
  }
  return true;
}

/**
 * One product of operands already in wasm memory: whole on the calling thread when small, else cut along
 * the longer of m and n into blocks (multiples of the register tile) that the thread pool runs.
 */
function product(
  aAt: number, ars: number, acs: number,
  bAt: number, brs: number, bcs: number,
  cAt: number, ldc: number,
  m: number, k: number, n: number,
  flags: number,
  threads: number,
): void {
  if (threads <= 1 || m * k * n < PARALLEL_MIN) {
    wasmKernels()!.exports.sgemm(aAt, ars, acs, bAt, brs, bcs, cAt, ldc, m, k, n, flags, workspaceAt(wasmKernels()!, 0));
    return;
  }
  const byColumns = n > m;
  const extent = byColumns ? n : m;
  const tile = byColumns ? NR : MR;
  // Two blocks per thread, so a descheduled thread's share can be taken over by the others.
  const step = Math.max(MIN_BLOCK, Math.ceil(extent / (2 * threads) / tile) * tile);
  parallelFor("sgemmPart", extent, step, [aAt, ars, acs, bAt, brs, bcs, cAt, ldc, m, k, n, flags | (byColumns ? BY_COLUMNS : 0)]);
}

/** The address of a float32 operand in the kernels' memory (with strides the kernel takes as they are), else -1. */
function resident(x: TypedArray, rs: number, cs: number): number {
  return x instanceof Float32Array && rs >= 0 && cs >= 0 ? addressOf(x) : -1;
}

/** The view of wasm memory matching an operand's element size. */
function view(size: number): Float32Array | Float64Array {
  return size === 8 ? heap64() : heap32();
}

/**
 * Copies the `rows × cols` strided matrix `src[off + i*rs + j*cs]` to `dst` at `at`, contiguous, keeping a
 * column-major layout when the source has one (so transposed operands stay cheap to copy). Returns the
 * element strides `[rowStride, colStride]` of the copy.
 */
function copyIn(
  dst: Float32Array | Float64Array,
  at: number,
  src: TypedArray,
  off: number,
  rs: number,
  cs: number,
  rows: number,
  cols: number,
): [number, number] {
  if (cs === 1 && (rs === cols || rows === 1)) {
    dst.set(src.subarray(off, off + rows * cols), at);
    return [cols, 1];
  }
  if (rs === 1 && (cs === rows || cols === 1)) {
    dst.set(src.subarray(off, off + rows * cols), at);
    return [1, rows];
  }
  if (cs === 1) {
    for (let i = 0; i < rows; i++) dst.set(src.subarray(off + i * rs, off + i * rs + cols), at + i * cols);
    return [cols, 1];
  }
  if (rs === 1) {
    for (let j = 0; j < cols; j++) dst.set(src.subarray(off + j * cs, off + j * cs + rows), at + j * rows);
    return [1, rows];
  }
  let q = at;
  for (let i = 0; i < rows; i++) {
    let s = off + i * rs;
    for (let j = 0; j < cols; j++, s += cs) dst[q++] = src[s]!;
  }
  return [cols, 1];
}
