// AssemblyScript source of the float32 2-D convolution kernels used by src/tensor/wasm/conv.ts (NHWC input
// `[n, h, w, cin]`, filter `[fh, fw, cin, cout]` read as a `[fh·fw·cin, cout]` matrix, output
// `[n, oh, ow, cout]`).
//
// Implicit GEMM: the products are those of the im2col formulation (y = patches · W, dW = patchesᵀ · dy),
// run by the blocked GEMM of assembly/gemm.ts (its B packing, macro- and micro-kernel), but the patch matrix
// never exists. Its GEMM panels are packed straight from the input through the convolution's geometry
// (padding, stride, dilation), zeros where a tap falls outside the image:
// - forward (rows = output pixels, depth = taps × channels): a panel holds, for each depth index, one value
//   of four pixels; four channels of a tap are four contiguous floats of each pixel, so four vector loads
//   and a 4×4 transpose fill four depth steps;
// - filter gradient (rows = taps × channels, depth = output pixels): four rows of a panel are four
//   channels of one tap, one vector load per pixel.
// - input gradient (other than the stride-1 case that src/tensor/wasm/conv.ts runs as a forward convolution
//   of dy): dcols = dy · Wᵀ one block of an image's pixels at a time, into scratch, then added onto the
//   image's pixels that each column's tap covers (col2im). The filter's panels are packed once per call.
//
// Every export has the thread pool's signature f(lo, hi, work, ...): it computes rows (or columns) [lo, hi)
// of its output and writes nothing else. The depth is cut into blocks that depend on the depth alone, so each
// output element sums its products in the same order whatever the split: results are bit-identical at any
// thread count.
/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion */
import { ACCUMULATE, KC, MC, MR, NC, NR, PACK_A_BYTES, PACK_B_BYTES, macro, packA, packB } from "./gemm";

// Geometry block: i32 slots at `geo`, written in this order by src/tensor/wasm/conv.ts.
const G_N: i32 = 0;
const G_H: i32 = 1;
const G_W: i32 = 2;
const G_CIN: i32 = 3;
const G_OH: i32 = 4;
const G_OW: i32 = 5;
const G_COUT: i32 = 6;
const G_FH: i32 = 7;
const G_FW: i32 = 8;
const G_SH: i32 = 9;
const G_SW: i32 = 10;
const G_DH: i32 = 11;
const G_DW: i32 = 12;
const G_PT: i32 = 13;
const G_PL: i32 = 14;

/** conv2dFilterPart: split the filter gradient by columns (output channels) instead of rows. */
const BY_COLUMNS: i32 = 8;

/** An input row far above the image: every tap of a padding row of a panel reads zeros. */
const OUTSIDE: i32 = -(1 << 30);

function geom(geo: usize, slot: i32): i32 {
  return load<i32>(geo + (<usize>slot << 2));
}

/**
 * Rows [lo, hi) (output pixels, flat over n·oh·ow) of the forward convolution: y = patches · W. `f` is the
 * filter as a row-major [fh·fw·cin, cout] matrix, `zero` holds at least max(cin, 4) zeros.
 */
export function conv2dPart(lo: i32, hi: i32, work: usize, geo: usize, x: usize, f: usize, y: usize, zero: usize): void {
  const cout = geom(geo, G_COUT);
  const kk = geom(geo, G_FH) * geom(geo, G_FW) * geom(geo, G_CIN);
  const pa = work;
  const pb = work + PACK_A_BYTES;
  const tile = pb + PACK_B_BYTES;
  const ldcBytes = <usize>cout << 2;
  // Equal depth blocks of at most KC, as in sgemm.
  const kb = (kk + KC - 1) / KC;
  const kcMax = (kk + kb - 1) / kb;
  for (let jc = 0; jc < cout; jc += NC) {
    const nc = min(NC, cout - jc);
    for (let pc = 0; pc < kk; pc += kcMax) {
      const kc = min(kcMax, kk - pc);
      packB<f32>(f + ((<usize>pc * <usize>cout + <usize>jc) << 2), cout, 1, kc, nc, pb);
      for (let ic = lo; ic < hi; ic += MC) {
        const mc = min(MC, hi - ic);
        packPatchRows(geo, x, zero, ic, mc, pc, kc, pa);
        macro(pa, pb, kc, mc, nc, y + <usize>ic * ldcBytes + (<usize>jc << 2), ldcBytes, pc > 0, tile);
      }
    }
  }
}

/**
 * Packs patch-matrix rows [r0, r0 + mc) (output pixels), depth [pc, pc + kc), into MR-row panels: panel q
 * holds, for each depth index p, the values of pixels r0 + 4q .. r0 + 4q + 3 at p (zeros past mc).
 */
function packPatchRows(geo: usize, x: usize, zero: usize, r0: i32, mc: i32, pc: i32, kc: i32, dst: usize): void {
  const h = geom(geo, G_H), w = geom(geo, G_W), cin = geom(geo, G_CIN);
  const oh = geom(geo, G_OH), ow = geom(geo, G_OW), fw = geom(geo, G_FW);
  const sh = geom(geo, G_SH), sw = geom(geo, G_SW), dh = geom(geo, G_DH), dw = geom(geo, G_DW);
  const pt = geom(geo, G_PT), pl = geom(geo, G_PL);
  const imageBytes = <usize>h * <usize>w * <usize>cin << 2;
  const stepBytes = <usize>(sw * cin) << 2;
  // Output pixel of row r0 + i, advanced row by row (no division per panel).
  let ox = r0 % ow;
  const t0 = r0 / ow;
  let oy = t0 % oh;
  let b = t0 / oh;
  let d = dst;
  for (let i = 0; i < mc; i += MR) {
    const rows = min(MR, mc - i);
    // Four pixels of one output row read taps `stepBytes` apart: one address per tap serves all four.
    const sameRow = rows == MR && ox + MR <= ow;
    // Each row's image and the input cell of its window's first tap; rows past mc read zeros only.
    const iyA = oy * sh - pt, ixA = ox * sw - pl;
    const imA = x + <usize>b * imageBytes;
    if (++ox == ow) { ox = 0; if (++oy == oh) { oy = 0; b++; } }
    const iyB = rows > 1 ? oy * sh - pt : OUTSIDE, ixB = ox * sw - pl;
    const imB = x + <usize>b * imageBytes;
    if (++ox == ow) { ox = 0; if (++oy == oh) { oy = 0; b++; } }
    const iyC = rows > 2 ? oy * sh - pt : OUTSIDE, ixC = ox * sw - pl;
    const imC = x + <usize>b * imageBytes;
    if (++ox == ow) { ox = 0; if (++oy == oh) { oy = 0; b++; } }
    const iyD = rows > 3 ? oy * sh - pt : OUTSIDE, ixD = ox * sw - pl;
    const imD = x + <usize>b * imageBytes;
    if (++ox == ow) { ox = 0; if (++oy == oh) { oy = 0; b++; } }
    const lastX = 3 * sw;
    // Walk the depth: tap (ky, kx), channels ci ..
    let ci = pc % cin;
    const tap = pc / cin;
    let kx = tap % fw;
    let ky = tap / fw;
    let left = kc;
    while (left > 0) {
      const run = min(cin - ci, left);
      const yOff = ky * dh, xOff = kx * dw;
      let sA: usize, sB: usize, sC: usize, sD: usize;
      const iy = iyA + yOff, ix = ixA + xOff;
      if (sameRow && <u32>iy < <u32>h && ix >= 0 && ix + lastX < w) {
        sA = imA + ((<usize>(iy * w + ix) * <usize>cin) << 2);
        sB = sA + stepBytes;
        sC = sB + stepBytes;
        sD = sC + stepBytes;
      } else {
        sA = tapAddress(imA, iy, ix, h, w, cin, zero);
        sB = tapAddress(imB, iyB + yOff, ixB + xOff, h, w, cin, zero);
        sC = tapAddress(imC, iyC + yOff, ixC + xOff, h, w, cin, zero);
        sD = tapAddress(imD, iyD + yOff, ixD + xOff, h, w, cin, zero);
      }
      let j = ci;
      const end = ci + run;
      if (cin == 1 && sB == sA + 4 && sC == sA + 8 && sD == sA + 12) {
        // One channel, four neighbouring pixels read four neighbouring inputs (stride 1, inside the image).
        v128.store(d, v128.load(sA));
        d += 16;
        j = end;
      }
      for (; j + 4 <= end; j += 4) {
        const o = <usize>j << 2;
        const a = v128.load(sA + o), bb = v128.load(sB + o), c = v128.load(sC + o), e = v128.load(sD + o);
        // 4×4 transpose: column q of (a; bb; c; e) is depth step j + q.
        const ab0 = v128.shuffle<f32>(a, bb, 0, 4, 1, 5);
        const ab1 = v128.shuffle<f32>(a, bb, 2, 6, 3, 7);
        const ce0 = v128.shuffle<f32>(c, e, 0, 4, 1, 5);
        const ce1 = v128.shuffle<f32>(c, e, 2, 6, 3, 7);
        v128.store(d, v128.shuffle<f32>(ab0, ce0, 0, 1, 4, 5));
        v128.store(d, v128.shuffle<f32>(ab0, ce0, 2, 3, 6, 7), 16);
        v128.store(d, v128.shuffle<f32>(ab1, ce1, 0, 1, 4, 5), 32);
        v128.store(d, v128.shuffle<f32>(ab1, ce1, 2, 3, 6, 7), 48);
        d += 64;
      }
      for (; j < end; j++) {
        const o = <usize>j << 2;
        store<f32>(d, load<f32>(sA + o));
        store<f32>(d, load<f32>(sB + o), 4);
        store<f32>(d, load<f32>(sC + o), 8);
        store<f32>(d, load<f32>(sD + o), 12);
        d += 16;
      }
      left -= run;
      ci = 0;
      if (++kx == fw) {
        kx = 0;
        ky++;
      }
    }
  }
}

/** Address of channel 0 of input cell (iy, ix) of an image, or `zero` when the cell is outside it. */
function tapAddress(image: usize, iy: i32, ix: i32, h: i32, w: i32, cin: i32, zero: usize): usize {
  return <u32>iy < <u32>h && <u32>ix < <u32>w ? image + ((<usize>(iy * w + ix) * <usize>cin) << 2) : zero;
}

/**
 * Rows [lo, hi) (taps × input channels) of the filter gradient dW = patchesᵀ · dy, or columns [lo, hi)
 * (output channels) with BY_COLUMNS; added to dW with ACCUMULATE (a later batch group), else overwritten.
 */
export function conv2dFilterPart(lo: i32, hi: i32, work: usize, geo: usize, x: usize, dy: usize, dwOut: usize, zero: usize, flags: i32): void {
  const cout = geom(geo, G_COUT);
  const kk = geom(geo, G_FH) * geom(geo, G_FW) * geom(geo, G_CIN);
  const m = geom(geo, G_N) * geom(geo, G_OH) * geom(geo, G_OW);
  const byColumns = (flags & BY_COLUMNS) != 0;
  const rowLo = byColumns ? 0 : lo, rowHi = byColumns ? kk : hi;
  const colLo = byColumns ? lo : 0, colHi = byColumns ? hi : cout;
  const pa = work;
  const pb = work + PACK_A_BYTES;
  const tile = pb + PACK_B_BYTES;
  const ldcBytes = <usize>cout << 2;
  const kb = (m + KC - 1) / KC;
  const kcMax = (m + kb - 1) / kb;
  for (let jc = colLo; jc < colHi; jc += NC) {
    const nc = min(NC, colHi - jc);
    for (let pc = 0; pc < m; pc += kcMax) {
      const kc = min(kcMax, m - pc);
      packB<f32>(dy + ((<usize>pc * <usize>cout + <usize>jc) << 2), cout, 1, kc, nc, pb);
      for (let ic = rowLo; ic < rowHi; ic += MC) {
        const mc = min(MC, rowHi - ic);
        packPatchColumns(geo, x, zero, ic, mc, pc, kc, pa);
        macro(pa, pb, kc, mc, nc, dwOut + <usize>ic * ldcBytes + (<usize>jc << 2), ldcBytes, (flags & ACCUMULATE) != 0 || pc > 0, tile);
      }
    }
  }
}

/**
 * Packs rows [p0, p0 + mc) (taps × channels) of the transposed patch matrix, depth [r0, r0 + kc) (output
 * pixels), into MR-row panels: panel q holds, for each pixel r, the pixel's values at depth indices
 * p0 + 4q .. p0 + 4q + 3 (zeros past mc). Four channels of one tap are one vector per pixel; otherwise (few
 * channels, or a panel across two taps) each row is packed on its own.
 */
function packPatchColumns(geo: usize, x: usize, zero: usize, p0: i32, mc: i32, r0: i32, kc: i32, dst: usize): void {
  const cin = geom(geo, G_CIN);
  let d = dst;
  for (let i = 0; i < mc; i += MR) {
    const p = p0 + i;
    const rows = min(MR, mc - i);
    if (rows == MR && p % cin + MR <= cin) {
      packPatchLane(geo, x, zero, p, true, r0, kc, d);
    } else {
      for (let q = 0; q < MR; q++) {
        if (q < rows) {
          packPatchLane(geo, x, zero, p + q, false, r0, kc, d + (<usize>q << 2));
        } else {
          for (let e = 0; e < kc; e++) store<f32>(d + (<usize>e << 4) + (<usize>q << 2), 0);
        }
      }
    }
    d += <usize>kc << 4;
  }
}

/**
 * Row p of the transposed patch matrix, pixels [r0, r0 + kc), into every 16 bytes from `d`: with `four`,
 * the vector of rows p .. p + 3 (four channels of one tap), else one float (a lane of an MR-row panel).
 * Pixels are walked one output row segment at a time, so the input row and its validity are found once per
 * segment.
 */
function packPatchLane(geo: usize, x: usize, zero: usize, p: i32, four: bool, r0: i32, kc: i32, d: usize): void {
  const h = geom(geo, G_H), w = geom(geo, G_W), cin = geom(geo, G_CIN);
  const oh = geom(geo, G_OH), ow = geom(geo, G_OW), fw = geom(geo, G_FW);
  const sh = geom(geo, G_SH), sw = geom(geo, G_SW), dh = geom(geo, G_DH), dw = geom(geo, G_DW);
  const pt = geom(geo, G_PT), pl = geom(geo, G_PL);
  const ci = p % cin;
  const tap = p / cin;
  const kx = tap % fw;
  const ky = tap / fw;
  const rowBytes = <usize>w * <usize>cin << 2;
  const stepBytes = <usize>sw * <usize>cin << 2;
  const yOff = ky * dh - pt;
  const xOff = kx * dw - pl;
  let ox = r0 % ow;
  const t = r0 / ow;
  let oy = t % oh;
  let b = t / oh;
  let left = kc;
  while (left > 0) {
    const seg = min(ow - ox, left);
    const iy = oy * sh + yOff;
    const rowOk = <u32>iy < <u32>h;
    let ix = ox * sw + xOff;
    let s = x + (<usize>(b * h + iy)) * rowBytes + (<usize>ci << 2) + <usize>(ix * (cin << 2));
    for (let e = 0; e < seg; e++) {
      const from = rowOk && <u32>ix < <u32>w ? s : zero;
      if (four) v128.store(d, v128.load(from));
      else store<f32>(d, load<f32>(from));
      d += 16;
      ix += sw;
      s += stepBytes;
    }
    left -= seg;
    ox += seg;
    if (ox == ow) {
      ox = 0;
      if (++oy == oh) {
        oy = 0;
        b++;
      }
    }
  }
}

/**
 * Packs Wᵀ (the [cout, fh·fw·cin] transpose of the filter `f`) into the GEMM's NR-column panels, block after
 * block in the order conv2dInputPart reads them: for each column block jc (NC columns), each depth block pc.
 * Returns the bytes written.
 */
export function packFilterPanels(f: usize, kk: i32, cout: i32, dst: usize): i32 {
  const kb = (cout + KC - 1) / KC;
  const kcMax = (cout + kb - 1) / kb;
  let d = dst;
  for (let jc = 0; jc < kk; jc += NC) {
    const nc = min(NC, kk - jc);
    const ncPadded = (nc + NR - 1) & ~(NR - 1);
    for (let pc = 0; pc < cout; pc += kcMax) {
      const kc = min(kcMax, cout - pc);
      // Wᵀ[co, q] = f[q·cout + co]
      packB<f32>(f + ((<usize>jc * <usize>cout + <usize>pc) << 2), 1, cout, kc, nc, d);
      d += <usize>(kc * ncPadded) << 2;
    }
  }
  return <i32>(d - dst);
}

/**
 * Images [lo, hi) of the input gradient dx (overwritten), from dy and the filter panels of
 * packFilterPanels: for each block of at most MC of an image's output pixels, dcols = dy · Wᵀ into scratch
 * (the workspace's B-panel area, unused here), then col2imAdd. Each dx element sums its contributions in an
 * order fixed by the image alone.
 */
export function conv2dInputPart(lo: i32, hi: i32, work: usize, geo: usize, dy: usize, panels: usize, dx: usize): void {
  const h = geom(geo, G_H), w = geom(geo, G_W), cin = geom(geo, G_CIN), cout = geom(geo, G_COUT);
  const pixels = geom(geo, G_OH) * geom(geo, G_OW);
  const kk = geom(geo, G_FH) * geom(geo, G_FW) * cin;
  const imageBytes = <usize>h * <usize>w * <usize>cin << 2;
  const kb = (cout + KC - 1) / KC;
  const kcMax = (cout + kb - 1) / kb;
  const pa = work;
  const scratch = work + PACK_A_BYTES;
  const tile = scratch + PACK_B_BYTES;
  for (let b = lo; b < hi; b++) {
    const image = dx + <usize>b * imageBytes;
    memory.fill(image, 0, imageBytes);
    for (let ic = 0; ic < pixels; ic += MC) {
      const mc = min(MC, pixels - ic);
      let panel = panels;
      for (let jc = 0; jc < kk; jc += NC) {
        const nc = min(NC, kk - jc);
        const ncPadded = (nc + NR - 1) & ~(NR - 1);
        for (let pc = 0; pc < cout; pc += kcMax) {
          const kc = min(kcMax, cout - pc);
          packA<f32>(dy + ((<usize>(b * pixels + ic) * <usize>cout + <usize>pc) << 2), cout, 1, mc, kc, pa);
          macro(pa, panel, kc, mc, nc, scratch, <usize>nc << 2, pc > 0, tile);
          panel += <usize>(kc * ncPadded) << 2;
        }
        col2imAdd(geo, scratch, mc, nc, ic, jc, image);
      }
    }
  }
}

/**
 * Adds the mc × nc block of dcols at `c` (rows: an image's output pixels from `p0`; columns: depth indices
 * from `q0`, taps × channels) onto the image's input cells each tap covers; taps on padding are dropped.
 */
function col2imAdd(geo: usize, c: usize, mc: i32, nc: i32, p0: i32, q0: i32, image: usize): void {
  const h = geom(geo, G_H), w = geom(geo, G_W), cin = geom(geo, G_CIN);
  const ow = geom(geo, G_OW), fw = geom(geo, G_FW);
  const sh = geom(geo, G_SH), sw = geom(geo, G_SW), dh = geom(geo, G_DH), dw = geom(geo, G_DW);
  const pt = geom(geo, G_PT), pl = geom(geo, G_PL);
  let ox = p0 % ow;
  let oy = p0 / ow;
  let row = c;
  for (let r = 0; r < mc; r++) {
    const iy0 = oy * sh - pt, ix0 = ox * sw - pl;
    let ci = q0 % cin;
    const tap = q0 / cin;
    let kx = tap % fw;
    let ky = tap / fw;
    let q = 0;
    while (q < nc) {
      const run = min(cin - ci, nc - q);
      const iy = iy0 + ky * dh, ix = ix0 + kx * dw;
      if (<u32>iy < <u32>h && <u32>ix < <u32>w) {
        let d = image + ((<usize>(iy * w + ix) * <usize>cin + <usize>ci) << 2);
        let s = row + (<usize>q << 2);
        let j = 0;
        for (; j + 4 <= run; j += 4) {
          v128.store(d, f32x4.add(v128.load(d), v128.load(s)));
          d += 16;
          s += 16;
        }
        for (; j < run; j++) {
          store<f32>(d, load<f32>(d) + load<f32>(s));
          d += 4;
          s += 4;
        }
      }
      q += run;
      ci = 0;
      if (++kx == fw) {
        kx = 0;
        ky++;
      }
    }
    row += <usize>nc << 2;
    if (++ox == ow) {
      ox = 0;
      oy++;
    }
  }
}
