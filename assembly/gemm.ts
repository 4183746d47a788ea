// AssemblyScript source of the WebAssembly SIMD128 float32 GEMM used by src/tensor/wasm/gemm.ts (compiled
// into the kernels module through assembly/kernels.ts; `npm run build:wasm` regenerates
// src/tensor/wasm/kernels-binary.ts).
//
// C[i, j] (+)= Σ_p A[i, p] · B[p, j] with A[i, p] at a + size*(i*ars + p*acs), B[p, j] at
// b + size*(p*brs + j*bcs) (f32 elements, or f64 ones narrowed while packing) and the f32 C[i, j] at
// c + 4*(i*ldc + j). The caller owns all memory: it passes the operands' addresses and a workspace of
// workspaceBytes() bytes for the packed panels.
//
// Goto/van de Geijn blocking, as in the TypeScript kernel (src/tensor/cpu/linalg.ts): k is cut into
// blocks of at most KC; a KC × NC block of B is packed into NR-column panels, an MC × KC block of A into
// MR-row panels, and the MR × NR micro-kernel keeps its tile of C in f32x4 registers. SIMD128 has no fused
// multiply-add, so each step is splat(A[i, p]) * B[p, j..j+3] followed by an add. The micro-kernel stays a
// separate function (not inlined into the loops): V8 first runs wasm in its baseline compiler and swaps in
// optimised code per function on the next call, which a function called once per tile gets quickly.
//
// The tile sizes, packA, packB and macro are exported to assembly/conv.ts, whose implicit-GEMM convolutions pack
// their A panels from the input and share the rest.
//
// Linted through assembly/tsconfig.json (AssemblyScript's portable types), where i32, usize and f32 are
// all `number`: the `<usize>` casts that pick the wasm integer type look redundant there but are not.
/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion */

/** Rows of the register tile (one f32x4 splat of A per row and step). */
export const MR: i32 = 4;
/** Columns of the register tile (two f32x4 vectors of B per step). */
export const NR: i32 = 8;
/** Largest depth of a packed block (k is cut into equal blocks of at most KC). */
export const KC: i32 = 384;
/** Rows of A packed at once (MC × KC floats = 192 KiB, stays in L2). Multiple of MR. */
export const MC: i32 = 128;
/** Columns of B packed at once (KC × NC floats = 768 KiB). Multiple of NR. */
export const NC: i32 = 512;

export const PACK_A_BYTES: usize = <usize>(MC * KC * 4);
export const PACK_B_BYTES: usize = <usize>(KC * NC * 4);
const TILE_BYTES: usize = <usize>(MR * NR * 4);

/** Bytes of scratch memory sgemm needs at its `work` address (16-byte aligned). */
export function workspaceBytes(): i32 {
  return <i32>(PACK_A_BYTES + PACK_B_BYTES + TILE_BYTES);
}

/** `flags` bits of sgemm. */
export const ACCUMULATE: i32 = 1;
const A_F64: i32 = 2;
const B_F64: i32 = 4;
/** sgemmPart: split C by columns (otherwise by rows). */
const BY_COLUMNS: i32 = 8;

/**
 * One thread's share of sgemm: rows [lo, hi) of C, or columns [lo, hi) with BY_COLUMNS. Every element of C
 * sums its k products in the same order whatever the split (k blocking depends on k alone), so a product
 * computed in parts is bit-identical to one computed whole.
 */
export function sgemmPart(
  lo: i32, hi: i32, work: usize,
  a: usize, ars: i32, acs: i32,
  b: usize, brs: i32, bcs: i32,
  c: usize, ldc: i32,
  m: i32, k: i32, n: i32,
  flags: i32,
): void {
  const sa = <usize>(flags & A_F64 ? 8 : 4);
  const sb = <usize>(flags & B_F64 ? 8 : 4);
  if (flags & BY_COLUMNS) {
    sgemm(a, ars, acs, b + <usize>lo * <usize>bcs * sb, brs, bcs, c + (<usize>lo << 2), ldc, m, k, hi - lo, flags, work);
  } else {
    sgemm(a + <usize>lo * <usize>ars * sa, ars, acs, b, brs, bcs, c + ((<usize>lo * <usize>ldc) << 2), ldc, hi - lo, k, n, flags, work);
  }
}

/**
 * C (+)= A·B. A and B are f32, or f64 when the A_F64 / B_F64 flag is set (narrowed while packing, so the
 * float64 im2col buffers of the convolutions need no separate conversion pass); C is f32.
 */
export function sgemm(
  a: usize, ars: i32, acs: i32,
  b: usize, brs: i32, bcs: i32,
  c: usize, ldc: i32,
  m: i32, k: i32, n: i32,
  flags: i32,
  work: usize,
): void {
  if (flags & A_F64) {
    if (flags & B_F64) blocked<f64, f64>(a, ars, acs, b, brs, bcs, c, ldc, m, k, n, flags, work);
    else blocked<f64, f32>(a, ars, acs, b, brs, bcs, c, ldc, m, k, n, flags, work);
  } else {
    if (flags & B_F64) blocked<f32, f64>(a, ars, acs, b, brs, bcs, c, ldc, m, k, n, flags, work);
    else blocked<f32, f32>(a, ars, acs, b, brs, bcs, c, ldc, m, k, n, flags, work);
  }
}

/** The blocked product, for operands A of element type TA and B of TB (f32 or f64; C is always f32). */
function blocked<TA, TB>(
  a: usize, ars: i32, acs: i32,
  b: usize, brs: i32, bcs: i32,
  c: usize, ldc: i32,
  m: i32, k: i32, n: i32,
  flags: i32,
  work: usize,
): void {
  const pa = work;
  const pb = work + PACK_A_BYTES;
  const tile = pb + PACK_B_BYTES;
  const ldcBytes = <usize>ldc << 2;
  const sa = <usize>sizeof<TA>();
  const sb = <usize>sizeof<TB>();
  // Equal k blocks of at most KC (k = 400 runs as 200 + 200, not 384 + 16).
  const kb = (k + KC - 1) / KC;
  const kcMax = (k + kb - 1) / kb;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += kcMax) {
      const kc = min(kcMax, k - pc);
      const acc = (flags & ACCUMULATE) != 0 || pc > 0;
      packB<TB>(b + (<usize>pc * <usize>brs + <usize>jc * <usize>bcs) * sb, brs, bcs, kc, nc, pb);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA<TA>(a + (<usize>ic * <usize>ars + <usize>pc * <usize>acs) * sa, ars, acs, mc, kc, pa);
        const cBlock = c + <usize>ic * ldcBytes + (<usize>jc << 2);
        macro(pa, pb, kc, mc, nc, cBlock, ldcBytes, acc, tile);
      }
    }
  }
}

/** Every MR × NR tile of an mc × nc block of C from the packed panels. */
export function macro(pa: usize, pb: usize, kc: i32, mc: i32, nc: i32, c: usize, ldcBytes: usize, acc: bool, tile: usize): void {
  const aPanel = <usize>(kc * MR) << 2;
  const bPanel = <usize>(kc * NR) << 2;
  let bp = pb;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    let ap = pa;
    let cp = c + (<usize>jr << 2);
    for (let ir = 0; ir < mc; ir += MR) {
      micro(ap, bp, kc, cp, ldcBytes, min(MR, mc - ir), nr, acc, tile);
      ap += aPanel;
      cp += ldcBytes * <usize>MR;
    }
    bp += bPanel;
  }
}

/** Packs a kc × nc block of B into NR-column panels: panel q holds, for each p, B[p, NR*q .. NR*q + NR - 1]. */
export function packB<T>(src: usize, brs: i32, bcs: i32, kc: i32, nc: i32, dst: usize): void {
  const rowStep = <usize>brs * sizeof<T>();
  const colStep = <usize>bcs * sizeof<T>();
  const full = nc & ~(NR - 1);
  let d = dst;
  for (let j = 0; j < full; j += NR) {
    let s = src + <usize>j * colStep;
    if (sizeof<T>() == 4 && bcs == 1) {
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        s += rowStep;
        d += 32;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        let t = s;
        for (let q = 0; q < NR; q++) {
          store<f32>(d + (<usize>q << 2), <f32>load<T>(t));
          t += colStep;
        }
        s += rowStep;
        d += 32;
      }
    }
  }
  if (full < nc) {
    const rem = nc - full;
    let s = src + <usize>full * colStep;
    for (let p = 0; p < kc; p++) {
      let t = s;
      for (let q = 0; q < NR; q++) {
        store<f32>(d + (<usize>q << 2), q < rem ? <f32>load<T>(t) : 0);
        t += colStep;
      }
      s += rowStep;
      d += 32;
    }
  }
}

/** Packs an mc × kc block of A into MR-row panels: panel q holds, for each p, A[MR*q .. MR*q + MR - 1, p]. */
export function packA<T>(src: usize, ars: i32, acs: i32, mc: i32, kc: i32, dst: usize): void {
  const rowStep = <usize>ars * sizeof<T>();
  const colStep = <usize>acs * sizeof<T>();
  const full = mc & ~(MR - 1);
  let d = dst;
  for (let i = 0; i < full; i += MR) {
    let s = src + <usize>i * rowStep;
    if (sizeof<T>() == 4 && ars == 1) {
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(s));
        s += colStep;
        d += 16;
      }
    } else {
      const r1 = rowStep, r2 = rowStep * 2, r3 = rowStep * 3;
      for (let p = 0; p < kc; p++) {
        store<f32>(d, <f32>load<T>(s));
        store<f32>(d, <f32>load<T>(s + r1), 4);
        store<f32>(d, <f32>load<T>(s + r2), 8);
        store<f32>(d, <f32>load<T>(s + r3), 12);
        s += colStep;
        d += 16;
      }
    }
  }
  if (full < mc) {
    const rem = mc - full;
    let s = src + <usize>full * rowStep;
    for (let p = 0; p < kc; p++) {
      let t = s;
      for (let r = 0; r < MR; r++) {
        store<f32>(d + (<usize>r << 2), r < rem ? <f32>load<T>(t) : 0);
        t += rowStep;
      }
      s += colStep;
      d += 16;
    }
  }
}

/**
 * The register-tiled micro-kernel: a 4 × 8 tile of C (eight f32x4 accumulators) from one packed A panel
 * and one packed B panel. `mr` × `nr` is the part of the tile inside C; ragged tiles go through `tile`.
 */
function micro(ap: usize, bp: usize, kc: i32, c: usize, ldcBytes: usize, mr: i32, nr: i32, acc: bool, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let x = v128.load32_splat(ap);
    c00 = f32x4.add(c00, f32x4.mul(x, b0));
    c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(ap, 4);
    c10 = f32x4.add(c10, f32x4.mul(x, b0));
    c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(ap, 8);
    c20 = f32x4.add(c20, f32x4.mul(x, b0));
    c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(ap, 12);
    c30 = f32x4.add(c30, f32x4.mul(x, b0));
    c31 = f32x4.add(c31, f32x4.mul(x, b1));
    ap += 16;
    bp += 32;
  }
  if (mr == MR && nr == NR) {
    let r = c;
    if (acc) {
      v128.store(r, f32x4.add(v128.load(r), c00));
      v128.store(r, f32x4.add(v128.load(r, 16), c01), 16);
      r += ldcBytes;
      v128.store(r, f32x4.add(v128.load(r), c10));
      v128.store(r, f32x4.add(v128.load(r, 16), c11), 16);
      r += ldcBytes;
      v128.store(r, f32x4.add(v128.load(r), c20));
      v128.store(r, f32x4.add(v128.load(r, 16), c21), 16);
      r += ldcBytes;
      v128.store(r, f32x4.add(v128.load(r), c30));
      v128.store(r, f32x4.add(v128.load(r, 16), c31), 16);
    } else {
      v128.store(r, c00);
      v128.store(r, c01, 16);
      r += ldcBytes;
      v128.store(r, c10);
      v128.store(r, c11, 16);
      r += ldcBytes;
      v128.store(r, c20);
      v128.store(r, c21, 16);
      r += ldcBytes;
      v128.store(r, c30);
      v128.store(r, c31, 16);
    }
    return;
  }
  // Ragged edge: spill the tile, then write only the part inside C.
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
  v128.store(tile, c20, 64);
  v128.store(tile, c21, 80);
  v128.store(tile, c30, 96);
  v128.store(tile, c31, 112);
  let r = c;
  let t = tile;
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) {
      const o = <usize>j << 2;
      const v = load<f32>(t + o);
      store<f32>(r + o, acc ? load<f32>(r + o) + v : v);
    }
    r += ldcBytes;
    t += <usize>NR << 2;
  }
}
