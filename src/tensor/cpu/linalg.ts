/**
 * @internal Matrix-multiplication kernels of the pure TypeScript backend.
 *
 * One general matrix multiply ({@link gemm}) serves every caller: the batched `matmul` kernel, and the
 * convolution kernels (im2col, col2im and the filter gradient are all GEMMs). It reads both operands
 * through a row stride and a column stride, so `A·B`, `Aᵀ·B`, `A·Bᵀ` and `Aᵀ·Bᵀ` run at the same speed
 * without materialising a transpose: the transposition happens while packing.
 *
 * The structure is the classic one of Goto and van de Geijn ("Anatomy of high-performance matrix
 * multiplication", ACM TOMS 34(3), 2008): the `k` dimension is cut into blocks of {@link KC}, a
 * `KC × NC` block of B is packed into 4-column panels (kept in L2 and streamed through L1), an
 * `MC × KC` block of A is packed into 4-row panels, and a 4×4 register-tiled micro-kernel multiplies one
 * A panel by one B panel with sixteen scalar accumulators. Packed panels are `Float64Array`s whatever the
 * dtype, so the micro-kernel is monomorphic (V8 compiles it once) and accumulates in double precision.
 * Panels are zero-padded to a multiple of 4, so ragged edges need no special inner loop.
 *
 * Plain JavaScript has no SIMD, so this reaches about 3-4.5 GFLOP/s on one core (the figure the
 * project's performance study gives for a 4×4 register tile, ~4× tfjs-cpu); small products skip packing
 * and use a direct dot-product loop, which is faster below a few thousand multiply-adds.
 *
 * Float32 products above {@link WASM_MIN} multiply-adds go to the WebAssembly SIMD128 kernel of
 * `src/tensor/wasm/gemm.ts` (same contract, float32 accumulation, ~30-35 GFLOP/s). The TypeScript kernel
 * below is the fallback, for float64 and int32, for small products, and where WebAssembly SIMD is
 * unavailable or switched off (`setWasmGemmEnabled(false)`); tests use it as the reference.
 */
import type { TypedArray } from "../dtype.js";
import { wasmGemm } from "../wasm/gemm.js";

/** @internal Kernels of the linear-algebra family (see {@link Backend}). */
export interface LinalgKernels {
  /**
   * Batched matrix product `out[b] = op(A[b]) · op(B[b])`, where `op` transposes when the flag is set.
   *
   * `a` holds, per batch element, an `m × k` matrix (or `k × m` when `transposeA`), row-major and
   * contiguous; `b` holds `k × n` matrices (or `n × k` when `transposeB`). `out` is contiguous
   * `[...batchShape, m, n]` and is overwritten. Batch broadcasting is expressed by element strides over
   * `batchShape` for each operand (0 along a broadcast dimension), e.g. a `[5, 1, m, k]` operand against a
   * batch shape `[5, 7]` has strides `[m*k, 0]`.
   */
  matmul(
    a: TypedArray,
    b: TypedArray,
    out: TypedArray,
    batchShape: readonly number[],
    aBatchStrides: readonly number[],
    bBatchStrides: readonly number[],
    m: number,
    k: number,
    n: number,
    transposeA: boolean,
    transposeB: boolean,
  ): void;
}

/** Depth of a packed block (the `k` extent the micro-kernel runs over in one call). */
const KC = 256;
/** Rows of A packed at once (an `MC × KC` block of doubles: 256 KiB, sits in L2). */
const MC = 128;
/** Columns of B packed at once (a `KC × NC` block of doubles: 1 MiB, sits in L2). */
const NC = 512;
/** Below this many multiply-adds, packing costs more than it saves. */
const SMALL = 16 * 16 * 16;
/** From this many multiply-adds on, float32 products run on the wasm kernel (below, its call overhead dominates). */
const WASM_MIN = 256;

let packA = new Float64Array(MC * KC);
let packB = new Float64Array(KC * NC);

/**
 * @internal General matrix multiply on strided operands:
 * `C[i, j] (+)= Σ_p A[i, p] · B[p, j]` for `i < m`, `j < n`, `p < k`, where
 * `A[i, p] = a[aOff + i*ars + p*acs]`, `B[p, j] = b[bOff + p*brs + j*bcs]`, and `C[i, j] = c[cOff + i*n + j]`
 * (row-major, contiguous rows). With `accumulate` false, C is overwritten; otherwise added to.
 */
export function gemm(
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
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) c.fill(0, cOff, cOff + m * n);
    return;
  }
  if (m * n * k >= WASM_MIN && isFloat32(a, b, c) && wasmGemm(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, m, k, n, accumulate)) {
    return;
  }
  if (m * n * k <= SMALL) {
    gemmSmall(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, m, k, n, accumulate);
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      const acc = accumulate || pc > 0;
      packPanelsB(b, bOff + pc * brs + jc * bcs, brs, bcs, kc, nc);
      const bp = packB;
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packPanelsA(a, aOff + ic * ars + pc * acs, ars, acs, mc, kc);
        const ap = packA;
        for (let j = 0; j < nc; j += 4) {
          const nr = Math.min(4, nc - j);
          const bi = j * kc;
          for (let i = 0; i < mc; i += 4) {
            micro4x4(ap, i * kc, bp, bi, kc, c, cOff + (ic + i) * n + jc + j, n, Math.min(4, mc - i), nr, acc);
          }
        }
      }
    }
  }
}

/**
 * True for a float32 product: no integer operand and at least one float32 one. (The convolution kernels
 * pass float64 im2col buffers alongside float32 tensors; a float64 product has only Float64Arrays.)
 */
function isFloat32(a: TypedArray, b: TypedArray, c: TypedArray): boolean {
  if (a instanceof Int32Array || b instanceof Int32Array || c instanceof Int32Array) return false;
  return a instanceof Float32Array || b instanceof Float32Array || c instanceof Float32Array;
}

/**
 * Packs `count` lanes of `kc` values into panels of 4 lanes: panel q holds `[p][0..3]` for lanes 4q..4q+3,
 * zero-padded past `count`. Lane `t` starts at `off + t·laneStride`; step `p` moves by `stepStride`. B's
 * columns (`laneStride` = column stride, `stepStride` = row stride) and A's rows (the other way round) are
 * both packed this way, each into its own buffer.
 */
function packPanels(src: TypedArray, off: number, laneStride: number, stepStride: number, count: number, kc: number, dst: Float64Array): void {
  let q = 0;
  const full = count & ~3;
  for (let i = 0; i < full; i += 4) {
    let base = off + i * laneStride;
    if (laneStride === 1) {
      for (let p = 0; p < kc; p++) {
        dst[q] = src[base]!;
        dst[q + 1] = src[base + 1]!;
        dst[q + 2] = src[base + 2]!;
        dst[q + 3] = src[base + 3]!;
        q += 4;
        base += stepStride;
      }
    } else {
      const l1 = laneStride, l2 = 2 * laneStride, l3 = 3 * laneStride;
      for (let p = 0; p < kc; p++) {
        dst[q] = src[base]!;
        dst[q + 1] = src[base + l1]!;
        dst[q + 2] = src[base + l2]!;
        dst[q + 3] = src[base + l3]!;
        q += 4;
        base += stepStride;
      }
    }
  }
  if (full < count) {
    const rem = count - full;
    for (let p = 0; p < kc; p++) {
      const base = off + full * laneStride + p * stepStride;
      for (let t = 0; t < 4; t++) dst[q + t] = t < rem ? src[base + t * laneStride]! : 0;
      q += 4;
    }
  }
}

/** Packs a `kc × nc` block of B into 4-column panels (into `packB`). */
function packPanelsB(b: TypedArray, off: number, brs: number, bcs: number, kc: number, nc: number): void {
  const need = kc * ((nc + 3) & ~3);
  if (packB.length < need) packB = new Float64Array(need);
  packPanels(b, off, bcs, brs, nc, kc, packB);
}

/** Packs an `mc × kc` block of A into 4-row panels (into `packA`). */
function packPanelsA(a: TypedArray, off: number, ars: number, acs: number, mc: number, kc: number): void {
  const need = kc * ((mc + 3) & ~3);
  if (packA.length < need) packA = new Float64Array(need);
  packPanels(a, off, ars, acs, mc, kc, packA);
}

/**
 * The register-tiled inner kernel: a 4×4 tile of C from one packed A panel and one packed B panel, with
 * the sixteen sums in locals. `mr`/`nr` (≤ 4) say how much of the tile is inside C.
 */
function micro4x4(
  ap: Float64Array,
  ai: number,
  bp: Float64Array,
  bi: number,
  kc: number,
  c: TypedArray,
  ci: number,
  ldc: number,
  mr: number,
  nr: number,
  acc: boolean,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = ap[ai]!, a1 = ap[ai + 1]!, a2 = ap[ai + 2]!, a3 = ap[ai + 3]!;
    const b0 = bp[bi]!, b1 = bp[bi + 1]!, b2 = bp[bi + 2]!, b3 = bp[bi + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    ai += 4;
    bi += 4;
  }
  if (mr === 4 && nr === 4) {
    const r1 = ci + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
    if (acc) {
      c[ci] = c[ci]! + c00; c[ci + 1] = c[ci + 1]! + c01; c[ci + 2] = c[ci + 2]! + c02; c[ci + 3] = c[ci + 3]! + c03;
      c[r1] = c[r1]! + c10; c[r1 + 1] = c[r1 + 1]! + c11; c[r1 + 2] = c[r1 + 2]! + c12; c[r1 + 3] = c[r1 + 3]! + c13;
      c[r2] = c[r2]! + c20; c[r2 + 1] = c[r2 + 1]! + c21; c[r2 + 2] = c[r2 + 2]! + c22; c[r2 + 3] = c[r2 + 3]! + c23;
      c[r3] = c[r3]! + c30; c[r3 + 1] = c[r3 + 1]! + c31; c[r3 + 2] = c[r3 + 2]! + c32; c[r3 + 3] = c[r3 + 3]! + c33;
    } else {
      c[ci] = c00; c[ci + 1] = c01; c[ci + 2] = c02; c[ci + 3] = c03;
      c[r1] = c10; c[r1 + 1] = c11; c[r1 + 2] = c12; c[r1 + 3] = c13;
      c[r2] = c20; c[r2 + 1] = c21; c[r2 + 2] = c22; c[r2 + 3] = c23;
      c[r3] = c30; c[r3 + 1] = c31; c[r3 + 2] = c32; c[r3 + 3] = c33;
    }
    return;
  }
  // A ragged edge tile: write row by row, only the part inside C.
  storeRow(c, ci, nr, acc, c00, c01, c02, c03);
  if (mr > 1) storeRow(c, ci + ldc, nr, acc, c10, c11, c12, c13);
  if (mr > 2) storeRow(c, ci + 2 * ldc, nr, acc, c20, c21, c22, c23);
  if (mr > 3) storeRow(c, ci + 3 * ldc, nr, acc, c30, c31, c32, c33);
}

function storeRow(c: TypedArray, ci: number, nr: number, acc: boolean, v0: number, v1: number, v2: number, v3: number): void {
  if (acc) {
    c[ci] = c[ci]! + v0;
    if (nr > 1) c[ci + 1] = c[ci + 1]! + v1;
    if (nr > 2) c[ci + 2] = c[ci + 2]! + v2;
    if (nr > 3) c[ci + 3] = c[ci + 3]! + v3;
  } else {
    c[ci] = v0;
    if (nr > 1) c[ci + 1] = v1;
    if (nr > 2) c[ci + 2] = v2;
    if (nr > 3) c[ci + 3] = v3;
  }
}

/** Direct dot-product loop for small products (and single rows), summing in double precision. */
function gemmSmall(
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
): void {
  for (let i = 0; i < m; i++) {
    const ai = aOff + i * ars;
    const ci = cOff + i * n;
    for (let j = 0; j < n; j++) {
      let s = 0;
      let pa = ai;
      let pb = bOff + j * bcs;
      for (let p = 0; p < k; p++) {
        s += a[pa]! * b[pb]!;
        pa += acs;
        pb += brs;
      }
      if (accumulate) c[ci + j] = c[ci + j]! + s;
      else c[ci + j] = s;
    }
  }
}

/** @internal The CPU implementation of {@link LinalgKernels}. */
export const cpuLinalg: LinalgKernels = {
  matmul(a, b, out, batchShape, aBatchStrides, bBatchStrides, m, k, n, transposeA, transposeB) {
    // Element strides of one matrix: A[i, p] and B[p, j].
    const ars = transposeA ? 1 : k;
    const acs = transposeA ? m : 1;
    const brs = transposeB ? 1 : n;
    const bcs = transposeB ? k : 1;
    const rank = batchShape.length;
    let batch = 1;
    for (let d = 0; d < rank; d++) batch *= batchShape[d]!;
    if (batch === 0 || m === 0 || n === 0) return;

    // B shared by every batch element and A a contiguous stack of untransposed matrices: one tall GEMM.
    let bShared = true;
    let aStacked = !transposeA;
    let expect = m * k;
    for (let d = rank - 1; d >= 0; d--) {
      if (bBatchStrides[d] !== 0 && batchShape[d] !== 1) bShared = false;
      if (batchShape[d] !== 1 && aBatchStrides[d] !== expect) aStacked = false;
      expect *= batchShape[d]!;
    }
    if (bShared && aStacked && batch > 1) {
      gemm(a, 0, ars, acs, b, 0, brs, bcs, out, 0, batch * m, k, n, false);
      return;
    }

    const index = new Array<number>(rank).fill(0);
    let aOff = 0;
    let bOff = 0;
    const mn = m * n;
    for (let t = 0; t < batch; t++) {
      gemm(a, aOff, ars, acs, b, bOff, brs, bcs, out, t * mn, m, k, n, false);
      // Advance the batch odometer, keeping both operands' offsets in step.
      for (let d = rank - 1; d >= 0; d--) {
        aOff += aBatchStrides[d]!;
        bOff += bBatchStrides[d]!;
        if (++index[d]! < batchShape[d]!) break;
        aOff -= aBatchStrides[d]! * batchShape[d]!;
        bOff -= bBatchStrides[d]! * batchShape[d]!;
        index[d] = 0;
      }
    }
  },
};
