/**
 * @internal Convolution and pooling kernels of the pure TypeScript backend (NHWC layout throughout).
 *
 * A 2-D convolution is a matrix product in disguise: lay every receptive field out as one row (im2col),
 * and `y = cols · W` with the filter `[fh, fw, cin, cout]` read as a `[fh·fw·cin, cout]` matrix. Its two
 * gradients are the other two products of the same three matrices:
 * - input gradient: `dcols = dy · Wᵀ`, then scatter-add the rows back onto the image (col2im);
 * - filter gradient: `dW = colsᵀ · dy`.
 * All three run through the one {@link gemm} kernel with transposed reads, so the filter gradient costs
 * about what the forward pass costs (tfjs-cpu's direct loop costs ~60× its forward). The rows are built in
 * chunks sized to stay in cache, so memory use does not grow with the batch.
 *
 * Depthwise convolution and pooling are direct loops: they do O(1) work per loaded element, so a GEMM
 * would not pay off.
 */
import type { TypedArray } from "../dtype.js";
import { gemm } from "./linalg.js";

/**
 * @internal Geometry of a 2-D convolution, fully resolved by the op: input `[n, h, w, cin]`, filter
 * `[fh, fw, cin, cout]` (depthwise: `[fh, fw, cin, cout / cin]`), output `[n, oh, ow, cout]`; `padTop` and
 * `padLeft` are the implicit zero rows/columns before the input (those after it follow from the sizes).
 */
export interface ConvGeometry {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly cin: number;
  readonly oh: number;
  readonly ow: number;
  readonly cout: number;
  readonly fh: number;
  readonly fw: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly padTop: number;
  readonly padLeft: number;
}

/**
 * @internal Geometry of a 2-D pooling window over `[n, h, w, c]` giving `[n, oh, ow, c]`. Padded cells
 * never take part (max ignores them, average does not count them).
 */
export interface PoolGeometry {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly oh: number;
  readonly ow: number;
  readonly fh: number;
  readonly fw: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padLeft: number;
}

/** @internal Kernels of the convolution family (see {@link Backend}). Every output is overwritten. */
export interface ConvKernels {
  /** `out[n, oh, ow, cout] = Σ x[n, iy, ix, ci] · filter[ky, kx, ci, co]` over each receptive field. */
  conv2d(x: TypedArray, filter: TypedArray, out: TypedArray, g: ConvGeometry): void;
  /** The input gradient of {@link conv2d}: `dx[n, h, w, cin]` from `dy[n, oh, ow, cout]` and the filter. */
  conv2dBackpropInput(dy: TypedArray, filter: TypedArray, dx: TypedArray, g: ConvGeometry): void;
  /** The filter gradient of {@link conv2d}: `dw[fh, fw, cin, cout]` from `x` and `dy`. */
  conv2dBackpropFilter(x: TypedArray, dy: TypedArray, dw: TypedArray, g: ConvGeometry): void;
  /** Depthwise convolution: input channel `ci` meets `filter[.., .., ci, q]`, giving output channel `ci·mult + q`. */
  depthwiseConv2d(x: TypedArray, filter: TypedArray, out: TypedArray, g: ConvGeometry): void;
  /** The input gradient of {@link depthwiseConv2d}. */
  depthwiseConv2dBackpropInput(dy: TypedArray, filter: TypedArray, dx: TypedArray, g: ConvGeometry): void;
  /** The filter gradient of {@link depthwiseConv2d}. */
  depthwiseConv2dBackpropFilter(x: TypedArray, dy: TypedArray, dw: TypedArray, g: ConvGeometry): void;
  /** For each pooling window, the flat index into `x` of its maximum (the first one on ties; NaN wins). */
  maxPool2dArgmax(x: TypedArray, argmax: Int32Array, g: PoolGeometry): void;
  /** Average over each window's cells inside the input. */
  avgPool2d(x: TypedArray, out: TypedArray, g: PoolGeometry): void;
  /** The transpose of {@link avgPool2d}: spreads each `dy` over its window's cells, divided by their count. */
  avgPool2dBackprop(dy: TypedArray, dx: TypedArray, g: PoolGeometry): void;
}

/** Target size (elements) of one chunk of im2col rows: 512 KiB of doubles, which stays in L2. */
const CHUNK_ELEMENTS = 1 << 16;

let colsBuffer = new Float64Array(CHUNK_ELEMENTS);

/** How many output pixels go in one chunk of im2col rows of `kk` elements each. */
function chunkRows(kk: number, rows: number): number {
  return Math.min(rows, Math.max(16, Math.floor(CHUNK_ELEMENTS / Math.max(kk, 1))));
}

function cols(size: number): Float64Array {
  if (colsBuffer.length < size) colsBuffer = new Float64Array(size);
  return colsBuffer;
}

/** True when the convolution is a plain per-pixel matrix product (1×1 filter, stride 1, no padding). */
function isPointwise(g: ConvGeometry): boolean {
  return (
    g.fh === 1 && g.fw === 1 && g.strideH === 1 && g.strideW === 1 &&
    g.padTop === 0 && g.padLeft === 0 && g.oh === g.h && g.ow === g.w
  );
}

/**
 * Writes the receptive fields of output pixels `r0 .. r0 + rows - 1` (flat over `[n, oh, ow]`) as rows of
 * `cols` (`fh·fw·cin` each, zero where the field leaves the image).
 */
function im2col(x: TypedArray, c: Float64Array, g: ConvGeometry, r0: number, rows: number): void {
  const { h, w, cin, oh, ow, fh, fw, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  let q = 0;
  let ox = r0 % ow;
  const t = (r0 - ox) / ow;
  let oy = t % oh;
  let b = (t - oy) / oh;
  for (let r = 0; r < rows; r++) {
    const iy0 = oy * strideH - padTop;
    const ix0 = ox * strideW - padLeft;
    const imgBase = b * h;
    for (let ky = 0; ky < fh; ky++) {
      const iy = iy0 + ky * dilationH;
      if (iy < 0 || iy >= h) {
        c.fill(0, q, q + fw * cin);
        q += fw * cin;
        continue;
      }
      const rowBase = (imgBase + iy) * w;
      for (let kx = 0; kx < fw; kx++) {
        const ix = ix0 + kx * dilationW;
        if (ix < 0 || ix >= w) {
          for (let ci = 0; ci < cin; ci++) c[q + ci] = 0;
        } else {
          const src = (rowBase + ix) * cin;
          for (let ci = 0; ci < cin; ci++) c[q + ci] = x[src + ci]!;
        }
        q += cin;
      }
    }
    if (++ox === ow) {
      ox = 0;
      if (++oy === oh) {
        oy = 0;
        b++;
      }
    }
  }
}

/** The transpose of {@link im2col}: adds each row of `cols` back onto the pixels its field covers. */
function col2im(c: Float64Array, dx: TypedArray, g: ConvGeometry, r0: number, rows: number): void {
  const { h, w, cin, oh, ow, fh, fw, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  let q = 0;
  let ox = r0 % ow;
  const t = (r0 - ox) / ow;
  let oy = t % oh;
  let b = (t - oy) / oh;
  for (let r = 0; r < rows; r++) {
    const iy0 = oy * strideH - padTop;
    const ix0 = ox * strideW - padLeft;
    const imgBase = b * h;
    for (let ky = 0; ky < fh; ky++) {
      const iy = iy0 + ky * dilationH;
      if (iy < 0 || iy >= h) {
        q += fw * cin;
        continue;
      }
      const rowBase = (imgBase + iy) * w;
      for (let kx = 0; kx < fw; kx++) {
        const ix = ix0 + kx * dilationW;
        if (ix >= 0 && ix < w) {
          const dst = (rowBase + ix) * cin;
          for (let ci = 0; ci < cin; ci++) dx[dst + ci] = dx[dst + ci]! + c[q + ci]!;
        }
        q += cin;
      }
    }
    if (++ox === ow) {
      ox = 0;
      if (++oy === oh) {
        oy = 0;
        b++;
      }
    }
  }
}

/** @internal The CPU implementation of {@link ConvKernels}. */
export const cpuConv: ConvKernels = {
  conv2d(x, filter, out, g) {
    const { cout } = g;
    const kk = g.fh * g.fw * g.cin;
    const m = g.n * g.oh * g.ow;
    if (m === 0 || cout === 0) return;
    if (isPointwise(g)) {
      gemm(x, 0, kk, 1, filter, 0, cout, 1, out, 0, m, kk, cout, false);
      return;
    }
    const step = chunkRows(kk, m);
    const c = cols(step * kk);
    for (let r0 = 0; r0 < m; r0 += step) {
      const rows = Math.min(step, m - r0);
      im2col(x, c, g, r0, rows);
      // y[rows, cout] = cols[rows, kk] · W[kk, cout]
      gemm(c, 0, kk, 1, filter, 0, cout, 1, out, r0 * cout, rows, kk, cout, false);
    }
  },

  conv2dBackpropInput(dy, filter, dx, g) {
    const { cout } = g;
    const kk = g.fh * g.fw * g.cin;
    const m = g.n * g.oh * g.ow;
    if (isPointwise(g)) {
      // dx[m, cin] = dy[m, cout] · Wᵀ
      gemm(dy, 0, cout, 1, filter, 0, 1, cout, dx, 0, m, cout, kk, false);
      return;
    }
    dx.fill(0);
    if (m === 0 || kk === 0) return;
    const step = chunkRows(kk, m);
    const c = cols(step * kk);
    for (let r0 = 0; r0 < m; r0 += step) {
      const rows = Math.min(step, m - r0);
      // dcols[rows, kk] = dy[rows, cout] · Wᵀ (W read transposed in place)
      gemm(dy, r0 * cout, cout, 1, filter, 0, 1, cout, c, 0, rows, cout, kk, false);
      col2im(c, dx, g, r0, rows);
    }
  },

  conv2dBackpropFilter(x, dy, dw, g) {
    const { cout } = g;
    const kk = g.fh * g.fw * g.cin;
    const m = g.n * g.oh * g.ow;
    if (isPointwise(g)) {
      // dW[cin, cout] = xᵀ · dy
      gemm(x, 0, 1, kk, dy, 0, cout, 1, dw, 0, kk, m, cout, false);
      return;
    }
    if (m === 0) {
      dw.fill(0);
      return;
    }
    const step = chunkRows(kk, m);
    const c = cols(step * kk);
    for (let r0 = 0; r0 < m; r0 += step) {
      const rows = Math.min(step, m - r0);
      im2col(x, c, g, r0, rows);
      // dW[kk, cout] += colsᵀ · dy[rows, cout]
      gemm(c, 0, 1, kk, dy, r0 * cout, cout, 1, dw, 0, kk, rows, cout, r0 > 0);
    }
  },

  depthwiseConv2d(x, filter, out, g) {
    const { n, h, w, cin, oh, ow, cout, fh, fw, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
    const mult = cin === 0 ? 0 : cout / cin;
    out.fill(0);
    let o = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, o += cout) {
          for (let ky = 0; ky < fh; ky++) {
            const iy = oy * strideH - padTop + ky * dilationH;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < fw; kx++) {
              const ix = ox * strideW - padLeft + kx * dilationW;
              if (ix < 0 || ix >= w) continue;
              const xi = ((b * h + iy) * w + ix) * cin;
              const fi = (ky * fw + kx) * cout;
              for (let ci = 0; ci < cin; ci++) {
                const xv = x[xi + ci]!;
                const base = ci * mult;
                for (let q = 0; q < mult; q++) out[o + base + q] = out[o + base + q]! + xv * filter[fi + base + q]!;
              }
            }
          }
        }
      }
    }
  },

  depthwiseConv2dBackpropInput(dy, filter, dx, g) {
    const { n, h, w, cin, oh, ow, cout, fh, fw, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
    const mult = cin === 0 ? 0 : cout / cin;
    dx.fill(0);
    let o = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, o += cout) {
          for (let ky = 0; ky < fh; ky++) {
            const iy = oy * strideH - padTop + ky * dilationH;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < fw; kx++) {
              const ix = ox * strideW - padLeft + kx * dilationW;
              if (ix < 0 || ix >= w) continue;
              const xi = ((b * h + iy) * w + ix) * cin;
              const fi = (ky * fw + kx) * cout;
              for (let ci = 0; ci < cin; ci++) {
                const base = ci * mult;
                let s = 0;
                for (let q = 0; q < mult; q++) s += dy[o + base + q]! * filter[fi + base + q]!;
                dx[xi + ci] = dx[xi + ci]! + s;
              }
            }
          }
        }
      }
    }
  },

  depthwiseConv2dBackpropFilter(x, dy, dw, g) {
    const { n, h, w, cin, oh, ow, cout, fh, fw, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
    const mult = cin === 0 ? 0 : cout / cin;
    // Accumulate in double precision, then store once.
    const acc = new Float64Array(dw.length);
    let o = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, o += cout) {
          for (let ky = 0; ky < fh; ky++) {
            const iy = oy * strideH - padTop + ky * dilationH;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < fw; kx++) {
              const ix = ox * strideW - padLeft + kx * dilationW;
              if (ix < 0 || ix >= w) continue;
              const xi = ((b * h + iy) * w + ix) * cin;
              const fi = (ky * fw + kx) * cout;
              for (let ci = 0; ci < cin; ci++) {
                const xv = x[xi + ci]!;
                const base = ci * mult;
                for (let q = 0; q < mult; q++) acc[fi + base + q] = acc[fi + base + q]! + xv * dy[o + base + q]!;
              }
            }
          }
        }
      }
    }
    for (let i = 0; i < acc.length; i++) dw[i] = acc[i]!;
  },

  maxPool2dArgmax(x, argmax, g) {
    const { n, h, w, c, oh, ow, fh, fw, strideH, strideW, padTop, padLeft } = g;
    const best = new Float64Array(c);
    let o = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        const y0 = Math.max(oy * strideH - padTop, 0);
        const y1 = Math.min(oy * strideH - padTop + fh, h);
        for (let ox = 0; ox < ow; ox++, o += c) {
          const x0 = Math.max(ox * strideW - padLeft, 0);
          const x1 = Math.min(ox * strideW - padLeft + fw, w);
          if (y0 >= y1 || x0 >= x1) {
            // A window of padding only (the op's validation rules this out).
            for (let ch = 0; ch < c; ch++) argmax[o + ch] = -1;
            continue;
          }
          // Start from the first valid cell, then let later cells win only when strictly larger
          // (the first maximum wins ties); a NaN wins over any number and then keeps its place.
          const first = ((b * h + y0) * w + x0) * c;
          for (let ch = 0; ch < c; ch++) {
            best[ch] = x[first + ch]!;
            argmax[o + ch] = first + ch;
          }
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = iy === y0 ? x0 + 1 : x0; ix < x1; ix++) {
              const xi = ((b * h + iy) * w + ix) * c;
              for (let ch = 0; ch < c; ch++) {
                const v = x[xi + ch]!;
                const bv = best[ch]!;
                if (v > bv || (v !== v && bv === bv)) {
                  best[ch] = v;
                  argmax[o + ch] = xi + ch;
                }
              }
            }
          }
        }
      }
    }
  },

  avgPool2d(x, out, g) {
    const { n, h, w, c, oh, ow, fh, fw, strideH, strideW, padTop, padLeft } = g;
    const sum = new Float64Array(c);
    let o = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        const y0 = Math.max(oy * strideH - padTop, 0);
        const y1 = Math.min(oy * strideH - padTop + fh, h);
        for (let ox = 0; ox < ow; ox++, o += c) {
          const x0 = Math.max(ox * strideW - padLeft, 0);
          const x1 = Math.min(ox * strideW - padLeft + fw, w);
          sum.fill(0);
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const xi = ((b * h + iy) * w + ix) * c;
              for (let ch = 0; ch < c; ch++) sum[ch] = sum[ch]! + x[xi + ch]!;
            }
          }
          const count = (y1 - y0) * (x1 - x0);
          const inv = count > 0 ? 1 / count : 0;
          for (let ch = 0; ch < c; ch++) out[o + ch] = sum[ch]! * inv;
        }
      }
    }
  },

  avgPool2dBackprop(dy, dx, g) {
    const { n, h, w, c, oh, ow, fh, fw, strideH, strideW, padTop, padLeft } = g;
    dx.fill(0);
    let o = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        const y0 = Math.max(oy * strideH - padTop, 0);
        const y1 = Math.min(oy * strideH - padTop + fh, h);
        for (let ox = 0; ox < ow; ox++, o += c) {
          const x0 = Math.max(ox * strideW - padLeft, 0);
          const x1 = Math.min(ox * strideW - padLeft + fw, w);
          const count = (y1 - y0) * (x1 - x0);
          if (count === 0) continue;
          const inv = 1 / count;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const xi = ((b * h + iy) * w + ix) * c;
              for (let ch = 0; ch < c; ch++) dx[xi + ch] = dx[xi + ch]! + dy[o + ch]! * inv;
            }
          }
        }
      }
    }
  },
};
