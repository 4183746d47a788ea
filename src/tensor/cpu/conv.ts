/**
 * @internal Convolution and pooling kernels of the pure TypeScript backend (NHWC layout throughout).
 *
 * A 2-D convolution is a matrix product in disguise: lay every receptive field out as one row (im2col),
 * and `y = cols · W` with the filter `[fh, fw, cin, cout]` read as a `[fh·fw·cin, cout]` matrix. Its two
 * gradients are the other two products of the same three matrices:
 * - input gradient: `dcols = dy · Wᵀ`, then scatter-add the rows back onto the image (col2im); with
 *   stride 1 and `cout <= 2·cin` it runs instead as a forward convolution of `dy` by the flipped filter,
 *   whose im2col copies are cheaper than col2im's scatter-adds;
 * - filter gradient: `dW = colsᵀ · dy`.
 * Float32 convolutions first try the WebAssembly kernels of `wasm/conv.ts`, which run the same three
 * products as implicit GEMMs (the patch panels packed straight from the input, on every thread); what
 * follows is the path for float64 and int32, for float32 where those kernels are off or unavailable, and
 * for the input gradient with one input channel, which they leave here.
 * All three run through the one {@link gemm} kernel with transposed reads, so the filter gradient costs
 * about what the forward pass costs (tfjs-cpu's direct loop costs ~60× its forward). The rows are built in
 * chunks sized to stay in cache, so memory use does not grow with the batch. They are float32 for float32
 * tensors, which the WebAssembly GEMM reads as they are, and float64 otherwise. im2col copies the input
 * rows a chunk reads next to its rows, then writes each filter row of a field as one `copyWithin` of a
 * contiguous run (`fw·cin` values when nothing is clipped) between zero runs for the padding. With fewer
 * than 4 input channels the rows are stored column-major instead and written one tap at a time.
 *
 * Depthwise convolution and pooling are direct loops: they do O(1) work per loaded element, so a GEMM
 * would not pay off. Max pooling selects its winners without data-dependent branches (a mispredicted
 * comparison costs more than the rest of the work per element), and 2×2 stride-2 windows, the common
 * case, have their own loops.
 */
import type { TypedArray } from "../dtype.js";
import { gemm } from "./linalg.js";
import { wasmMaxPool2x2 } from "../wasm/elementwise.js";
import { wasmConv2d, wasmConv2dBackpropFilter, wasmConv2dBackpropInput } from "../wasm/conv.js";
import { flipFilter, transposedGeometry } from "./transposed-conv.js";

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

/**
 * Target size of one chunk of im2col rows, in elements: 256 KiB of float32 or 512 KiB of float64, which
 * stays in L2 while the GEMM reads it.
 */
const CHUNK_ELEMENTS = 1 << 16;
/**
 * Runs at least this long are copied or zeroed with `copyWithin` / `fill` (a memmove or memset inside V8,
 * with no allocation, unlike `set(x.subarray(..))`); shorter ones by a plain loop.
 */
const BULK_MIN = 16;

/**
 * The im2col scratch: float32 rows for float32 tensors (the wasm GEMM reads them as they are), float64
 * rows otherwise (float64 and int32 products run on the TypeScript kernel). Grown on demand, reused.
 */
let cols32 = new Float32Array(0);
let cols64 = new Float64Array(0);

/** How many output pixels go in one chunk of im2col rows of `kk` elements each. */
function chunkRows(kk: number, rows: number): number {
  return Math.min(rows, Math.max(16, Math.floor(CHUNK_ELEMENTS / Math.max(kk, 1))));
}

/** Scratch of at least `size` elements, float32 when `like` is float32 and float64 otherwise. */
function cols(like: TypedArray, size: number): Float32Array | Float64Array {
  if (like instanceof Float32Array) {
    if (cols32.length < size) cols32 = new Float32Array(size);
    return cols32;
  }
  if (cols64.length < size) cols64 = new Float64Array(size);
  return cols64;
}

/** True when the convolution is a plain per-pixel matrix product (1×1 filter, stride 1, no padding). */
function isPointwise(g: ConvGeometry): boolean {
  return (
    g.fh === 1 && g.fw === 1 && g.strideH === 1 && g.strideW === 1 &&
    g.padTop === 0 && g.padLeft === 0 && g.oh === g.h && g.ow === g.w
  );
}

/** The valid tap ranges of a convolution along both axes (see {@link tapRanges}). */
interface Taps {
  readonly rows: Int32Array;
  readonly cols: Int32Array;
}

function taps(g: ConvGeometry): Taps {
  return {
    rows: tapRanges(g.oh, g.h, g.fh, g.strideH, g.dilationH, g.padTop),
    cols: tapRanges(g.ow, g.w, g.fw, g.strideW, g.dilationW, g.padLeft),
  };
}

/**
 * Returns scratch holding `size` elements of im2col rows followed by a copy of the part of `x` that the
 * fields of output pixels `r0 .. r0 + rows - 1` read (whole input rows, from the chunk's first field's top
 * row to its last field's bottom row), and the offset to add to an index of `x` to find it in the scratch.
 * Copying a chunk's input once (one memcpy, about a ninth of the rows' size for a 3×3 filter) lets im2col
 * move every run with `copyWithin`, which beats both a loop and `set` on a fresh subarray for short runs.
 */
function stageInput(x: TypedArray, size: number, g: ConvGeometry, r0: number, rows: number): [Float32Array | Float64Array, number] {
  const { h, w, cin, oh, ow, fh, strideH, dilationH, padTop } = g;
  const first = Math.floor(r0 / ow);
  const last = Math.floor((r0 + rows - 1) / ow);
  const b0 = Math.floor(first / oh);
  const b1 = Math.floor(last / oh);
  const iy0 = Math.min(h, Math.max(0, (first - b0 * oh) * strideH - padTop));
  const iy1 = Math.min(h, Math.max(0, (last - b1 * oh) * strideH - padTop + (fh - 1) * dilationH + 1));
  const start = (b0 * h + iy0) * w * cin;
  const end = Math.max(start, (b1 * h + iy1) * w * cin);
  const c = cols(x, size + end - start);
  c.set(x.subarray(start, end), size);
  return [c, size - start];
}

/**
 * The taps of a filter axis that land inside the input, for every output position along that axis:
 * taps `lo[o] .. hi[o] - 1` of `f` (spaced by `dilation`) read input cells `o·stride - pad + t·dilation`
 * inside `[0, size)`. The valid taps of a window are always one contiguous range.
 */
function tapRanges(outSize: number, size: number, f: number, stride: number, dilation: number, pad: number): Int32Array {
  const r = new Int32Array(2 * outSize);
  for (let o = 0; o < outSize; o++) {
    const i0 = o * stride - pad;
    const lo = i0 >= 0 ? 0 : Math.min(f, Math.ceil(-i0 / dilation));
    const hi = Math.max(lo, Math.min(f, Math.ceil((size - i0) / dilation)));
    r[2 * o] = lo;
    r[2 * o + 1] = hi;
  }
  return r;
}

/** `c[p .. p + len - 1] = c[s .. s + len - 1]` (non-overlapping): a memmove for long runs, a loop for short ones. */
function copyRun(c: Float32Array | Float64Array, p: number, s: number, len: number): void {
  if (len >= BULK_MIN) {
    c.copyWithin(p, s, s + len);
    return;
  }
  for (const e = p + len; p < e; p++, s++) c[p] = c[s]!;
}

/** `c[p .. p + len - 1] = 0`. */
function zeroRun(c: Float32Array | Float64Array, p: number, len: number): void {
  if (len >= BULK_MIN) {
    c.fill(0, p, p + len);
    return;
  }
  for (const e = p + len; p < e; p++) c[p] = 0;
}

/** `dx[d .. d + len - 1] += c[p .. p + len - 1]`, unrolled. */
function addRun(dx: TypedArray, d: number, c: Float32Array | Float64Array, p: number, len: number): void {
  const e = d + len;
  for (; d + 4 <= e; d += 4, p += 4) {
    dx[d] = dx[d]! + c[p]!;
    dx[d + 1] = dx[d + 1]! + c[p + 1]!;
    dx[d + 2] = dx[d + 2]! + c[p + 2]!;
    dx[d + 3] = dx[d + 3]! + c[p + 3]!;
  }
  for (; d < e; d++, p++) dx[d] = dx[d]! + c[p]!;
}

/**
 * Writes the receptive fields of output pixels `r0 .. r0 + rows - 1` (flat over `[n, oh, ow]`) as rows of
 * `c` from index 0 (`fh·fw·cin` each, zero where the field leaves the image), reading the input from `c`
 * itself: input element `i` is at `c[xAt + i]` (see {@link stageInput}), so every run is one `copyWithin`.
 *
 * Each filter row of a field is one contiguous run of the input when the width dilation is 1 (`cin` values
 * per tap, taps side by side), so a row of the field is written as: zeros for the taps left of the image,
 * one copy of the valid run, zeros for the taps right of it. Rows above or below the image are zero runs.
 * The valid tap ranges are computed once per output row and column, not per element.
 */
function im2col(c: Float32Array | Float64Array, xAt: number, g: ConvGeometry, taps: Taps, r0: number, rows: number): void {
  const { h, w, cin, oh, ow, fh, fw, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const fwc = fw * cin;
  const kk = fh * fwc;
  const colTaps = taps.cols;
  const rowTaps = taps.rows;
  const tapStep = dilationW * cin;
  const rowStep = dilationH * w * cin;
  const colStep = strideW * cin;
  let ox = r0 % ow;
  const t = (r0 - ox) / ow;
  let oy = t % oh;
  let b = (t - oy) / oh;
  let q = 0;
  let r = 0;
  while (r < rows) {
    // One output row (b, oy), from column ox to `end`.
    const end = Math.min(ow, ox + rows - r);
    r += end - ox;
    const kyLo = rowTaps[2 * oy]!;
    const kyHi = rowTaps[2 * oy + 1]!;
    const zTop = kyLo * fwc;
    const zBottom = (fh - kyHi) * fwc;
    // Offset in `c` of input tap (ky = kyLo, kx = 0, ci = 0) for output column 0.
    const rowBase = ((b * h + oy * strideH - padTop + kyLo * dilationH) * w - padLeft) * cin + xAt;
    for (; ox < end; ox++, q += kk) {
      const kxLo = colTaps[2 * ox]!;
      const kxHi = colTaps[2 * ox + 1]!;
      const zl = kxLo * cin;
      const run = (kxHi - kxLo) * cin;
      const zr = fwc - zl - run;
      let p = q;
      if (zTop > 0) zeroRun(c, p, zTop);
      p += zTop;
      let src = rowBase + ox * colStep + kxLo * tapStep;
      for (let ky = kyLo; ky < kyHi; ky++, src += rowStep) {
        if (zl > 0) zeroRun(c, p, zl);
        p += zl;
        if (dilationW === 1) {
          copyRun(c, p, src, run);
          p += run;
        } else {
          for (let kx = kxLo, s = src; kx < kxHi; kx++, s += tapStep, p += cin) copyRun(c, p, s, cin);
        }
        if (zr > 0) zeroRun(c, p, zr);
        p += zr;
      }
      if (zBottom > 0) zeroRun(c, p, zBottom);
    }
    if (ox === ow) {
      ox = 0;
      if (++oy === oh) {
        oy = 0;
        b++;
      }
    }
  }
}

/** Below this many input channels, the convolutions build their im2col rows with {@link im2colColumns}. */
const NARROW = 4;

/** For each tap column kx, the output columns `[lo, hi)` whose tap lands inside the image, as `[lo, hi]` pairs. */
function tapColumnRanges(g: ConvGeometry): Int32Array {
  const { w, ow, fw, strideW, dilationW, padLeft } = g;
  const ranges = new Int32Array(2 * fw);
  for (let kx = 0; kx < fw; kx++) {
    const off = kx * dilationW - padLeft;
    const lo = Math.min(ow, Math.max(0, Math.ceil(-off / strideW)));
    const hi = Math.max(lo, Math.min(ow, Math.ceil((w - off) / strideW)));
    ranges[2 * kx] = lo;
    ranges[2 * kx + 1] = hi;
  }
  return ranges;
}

/**
 * {@link im2col} for few input channels (the first layer of an image network: 9 to 27 values per field),
 * written column-major: column `(ky, kx, ci)` of the `rows × fh·fw·cin` matrix is stored contiguously,
 * `c[col · rows + r]`, which the GEMM reads as well as row-major. For each output row segment and each
 * column, the values form one run: zeros where the tap lands on padding, then a strided read of the input
 * row into contiguous stores (a plain copy when `cin` and the stride are 1), then zeros again. That keeps
 * per-element work to a load and a store, where row-major rows would cut it into runs of `fw·cin` values.
 */
function im2colColumns(x: TypedArray, c: Float32Array | Float64Array, g: ConvGeometry, r0: number, rows: number): void {
  const { h, w, cin, oh, ow, fh, fw, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const colStep = strideW * cin;
  // For each tap column kx, the output columns [lo, hi) whose tap lands inside the image.
  const oxRange = tapColumnRanges(g);
  let ox = r0 % ow;
  const t = (r0 - ox) / ow;
  let oy = t % oh;
  let b = (t - oy) / oh;
  let r = 0;
  while (r < rows) {
    // Output row (b, oy), columns ox0 .. end - 1: rows r .. r + count - 1 of the chunk.
    const ox0 = ox;
    const end = Math.min(ow, ox + rows - r);
    for (let ky = 0; ky < fh; ky++) {
      const iy = oy * strideH - padTop + ky * dilationH;
      const rowOk = iy >= 0 && iy < h;
      for (let kx = 0; kx < fw; kx++) {
        const lo = rowOk ? Math.min(end, Math.max(ox0, oxRange[2 * kx]!)) : end;
        const hi = rowOk ? Math.max(lo, Math.min(end, oxRange[2 * kx + 1]!)) : end;
        const s0 = ((b * h + iy) * w + lo * strideW - padLeft + kx * dilationW) * cin;
        for (let ci = 0; ci < cin; ci++) {
          let p = ((ky * fw + kx) * cin + ci) * rows + r;
          for (let e = p + lo - ox0; p < e; p++) c[p] = 0;
          let s = s0 + ci;
          let e = p + hi - lo;
          if (colStep === 1) {
            for (; p + 4 <= e; p += 4, s += 4) {
              c[p] = x[s]!;
              c[p + 1] = x[s + 1]!;
              c[p + 2] = x[s + 2]!;
              c[p + 3] = x[s + 3]!;
            }
          }
          for (; p < e; p++, s += colStep) c[p] = x[s]!;
          for (e = p + end - hi; p < e; p++) c[p] = 0;
        }
      }
    }
    r += end - ox0;
    ox = end;
    if (ox === ow) {
      ox = 0;
      if (++oy === oh) {
        oy = 0;
        b++;
      }
    }
  }
}

/**
 * The transpose of {@link im2colColumns}: adds each column-major row of `c` (`c[col · rows + r]`) back onto
 * the pixels its field covers, one tap column at a time, skipping the parts that fall on padding.
 */
function col2imColumns(c: Float32Array | Float64Array, dx: TypedArray, g: ConvGeometry, r0: number, rows: number): void {
  const { h, w, cin, oh, ow, fh, fw, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const colStep = strideW * cin;
  const oxRange = tapColumnRanges(g);
  let ox = r0 % ow;
  const t = (r0 - ox) / ow;
  let oy = t % oh;
  let b = (t - oy) / oh;
  let r = 0;
  while (r < rows) {
    const ox0 = ox;
    const end = Math.min(ow, ox + rows - r);
    for (let ky = 0; ky < fh; ky++) {
      const iy = oy * strideH - padTop + ky * dilationH;
      if (iy < 0 || iy >= h) continue;
      for (let kx = 0; kx < fw; kx++) {
        const lo = Math.min(end, Math.max(ox0, oxRange[2 * kx]!));
        const hi = Math.max(lo, Math.min(end, oxRange[2 * kx + 1]!));
        const d0 = ((b * h + iy) * w + lo * strideW - padLeft + kx * dilationW) * cin;
        for (let ci = 0; ci < cin; ci++) {
          let p = ((ky * fw + kx) * cin + ci) * rows + r + lo - ox0;
          let d = d0 + ci;
          const e = p + hi - lo;
          if (colStep === 1) {
            for (; p + 4 <= e; p += 4, d += 4) {
              dx[d] = dx[d]! + c[p]!;
              dx[d + 1] = dx[d + 1]! + c[p + 1]!;
              dx[d + 2] = dx[d + 2]! + c[p + 2]!;
              dx[d + 3] = dx[d + 3]! + c[p + 3]!;
            }
          }
          for (; p < e; p++, d += colStep) dx[d] = dx[d]! + c[p]!;
        }
      }
    }
    r += end - ox0;
    ox = end;
    if (ox === ow) {
      ox = 0;
      if (++oy === oh) {
        oy = 0;
        b++;
      }
    }
  }
}

/**
 * The transpose of {@link im2col}: adds each row of `c` back onto the pixels its field covers (the same
 * valid runs, added instead of copied; the parts of a row that fall on padding are skipped).
 */
function col2im(c: Float32Array | Float64Array, dx: TypedArray, g: ConvGeometry, taps: Taps, r0: number, rows: number): void {
  const { h, w, cin, oh, ow, fh, fw, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const fwc = fw * cin;
  const kk = fh * fwc;
  const colTaps = taps.cols;
  const rowTaps = taps.rows;
  const tapStep = dilationW * cin;
  const rowStep = dilationH * w * cin;
  const colStep = strideW * cin;
  let ox = r0 % ow;
  const t = (r0 - ox) / ow;
  let oy = t % oh;
  let b = (t - oy) / oh;
  let q = 0;
  let r = 0;
  while (r < rows) {
    const end = Math.min(ow, ox + rows - r);
    r += end - ox;
    const kyLo = rowTaps[2 * oy]!;
    const kyHi = rowTaps[2 * oy + 1]!;
    const rowBase = ((b * h + oy * strideH - padTop + kyLo * dilationH) * w - padLeft) * cin;
    for (; ox < end; ox++, q += kk) {
      const kxLo = colTaps[2 * ox]!;
      const kxHi = colTaps[2 * ox + 1]!;
      const run = (kxHi - kxLo) * cin;
      let p = q + kyLo * fwc + kxLo * cin;
      let dst = rowBase + ox * colStep + kxLo * tapStep;
      for (let ky = kyLo; ky < kyHi; ky++, dst += rowStep, p += fwc) {
        if (dilationW === 1) {
          addRun(dx, dst, c, p, run);
        } else {
          for (let kx = kxLo, d = dst, s = p; kx < kxHi; kx++, d += tapStep, s += cin) addRun(dx, d, c, s, cin);
        }
      }
    }
    if (ox === ow) {
      ox = 0;
      if (++oy === oh) {
        oy = 0;
        b++;
      }
    }
  }
}

/**
 * From this many input channels on, a stride-1 input gradient with `cout <= 2·cin` runs as a forward
 * convolution ({@link backpropInputAsConv}); with fewer, the GEMM's output would be too narrow to pay.
 */
const AS_CONV_MIN_CHANNELS = 8;

/**
 * The input gradient of a stride-1 convolution as a forward convolution of `dy`: with stride 1,
 * `dx[b, iy, ix, ci] = Σ dy[b, iy + padTop - ky·dh, ix + padLeft - kx·dw, co] · W[ky, kx, ci, co]`, which is
 * a convolution of `dy` by the filter flipped in both spatial axes with its channel axes swapped,
 * `W'[fh-1-ky, fw-1-kx, co, ci] = W[ky, kx, ci, co]`, over the "full" padding `(f-1)·d - pad`. It runs as
 * im2col + GEMM: its rows of `dy` hold `fh·fw·cout` values against `fh·fw·cin` for col2im, but they are
 * copies (memmoves of `fw·cout` values), where col2im does scatter-adds. Measured on b32 14×14 layers:
 * 1.1x faster than col2im at 16→32 and 32→64 channels, 1.25x at 64→64, 1.6x at 64→32; even at 8→32
 * (4x), slower at 16→64, hence the `cout <= 2·cin` rule.
 */
function backpropInputAsConv(dy: TypedArray, filter: TypedArray, dx: TypedArray, g: ConvGeometry): void {
  const flipped = newLike(filter, filter.length);
  flipFilter(filter, g, flipped);
  cpuConv.conv2d(dy, flipped, dx, transposedGeometry(g));
}

/** A zeroed typed array of the same kind as `like`. */
function newLike(like: TypedArray, size: number): TypedArray {
  if (like instanceof Float32Array) return new Float32Array(size);
  if (like instanceof Int32Array) return new Int32Array(size);
  return new Float64Array(size);
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
    if (wasmConv2d(x, filter, out, g)) return;
    const step = chunkRows(kk, m);
    const narrow = g.cin < NARROW;
    const t = narrow ? null : taps(g);
    for (let r0 = 0; r0 < m; r0 += step) {
      const rows = Math.min(step, m - r0);
      // y[rows, cout] = cols[rows, kk] · W[kk, cout]
      if (t === null) {
        const c = cols(x, step * kk);
        im2colColumns(x, c, g, r0, rows);
        gemm(c, 0, 1, rows, filter, 0, cout, 1, out, r0 * cout, rows, kk, cout, false);
      } else {
        const [c, xAt] = stageInput(x, rows * kk, g, r0, rows);
        im2col(c, xAt, g, t, r0, rows);
        gemm(c, 0, kk, 1, filter, 0, cout, 1, out, r0 * cout, rows, kk, cout, false);
      }
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
    if (m > 0 && wasmConv2dBackpropInput(dy, filter, dx, g)) return;
    if (g.strideH === 1 && g.strideW === 1 && g.cout <= 2 * g.cin && g.cin >= AS_CONV_MIN_CHANNELS) {
      backpropInputAsConv(dy, filter, dx, g);
      return;
    }
    dx.fill(0);
    if (m === 0 || kk === 0) return;
    const step = chunkRows(kk, m);
    const c = cols(dy, step * kk);
    const narrow = g.cin < NARROW;
    const t = narrow ? null : taps(g);
    for (let r0 = 0; r0 < m; r0 += step) {
      const rows = Math.min(step, m - r0);
      if (t === null) {
        // dcolsᵀ[kk, rows] = W[kk, cout] · dy[rows, cout]ᵀ: the column-major layout of im2colColumns
        gemm(filter, 0, cout, 1, dy, r0 * cout, 1, cout, c, 0, kk, cout, rows, false);
        col2imColumns(c, dx, g, r0, rows);
      } else {
        // dcols[rows, kk] = dy[rows, cout] · Wᵀ (W read transposed in place)
        gemm(dy, r0 * cout, cout, 1, filter, 0, 1, cout, c, 0, rows, cout, kk, false);
        col2im(c, dx, g, t, r0, rows);
      }
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
    if (wasmConv2dBackpropFilter(x, dy, dw, g)) return;
    const step = chunkRows(kk, m);
    const narrow = g.cin < NARROW;
    const t = narrow ? null : taps(g);
    for (let r0 = 0; r0 < m; r0 += step) {
      const rows = Math.min(step, m - r0);
      // dW[kk, cout] += colsᵀ · dy[rows, cout]
      if (t === null) {
        const c = cols(x, step * kk);
        im2colColumns(x, c, g, r0, rows);
        gemm(c, 0, rows, 1, dy, r0 * cout, cout, 1, dw, 0, kk, rows, cout, r0 > 0);
      } else {
        const [c, xAt] = stageInput(x, rows * kk, g, r0, rows);
        im2col(c, xAt, g, t, r0, rows);
        gemm(c, 0, 1, kk, dy, r0 * cout, cout, 1, dw, 0, kk, rows, cout, r0 > 0);
      }
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
    if (isHalving(g)) {
      if (x instanceof Float32Array && wasmMaxPool2x2(x, g.n, g.h, g.w, g.c, g.oh, g.ow, argmax)) return;
      maxPool2x2(x, argmax, g);
      return;
    }
    const { n, h, w, c, oh, ow, fh, fw, strideH, strideW, padTop, padLeft } = g;
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
          // Start from the first valid cell; a later cell takes over only when it beats the current best
          // (see `beats`). The best value is re-read through its index, so the update is a branch-free
          // select: which cell wins depends on the data, and a mispredicted branch costs more than the load.
          const first = ((b * h + y0) * w + x0) * c;
          for (let ch = 0; ch < c; ch++) argmax[o + ch] = first + ch;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = iy === y0 ? x0 + 1 : x0; ix < x1; ix++) {
              const xi = ((b * h + iy) * w + ix) * c;
              for (let ch = 0; ch < c; ch++) {
                const bi = argmax[o + ch]!;
                const m = -beats(x[bi]!, x[xi + ch]!);
                argmax[o + ch] = (bi & ~m) | ((xi + ch) & m);
              }
            }
          }
        }
      }
    }
  },

  avgPool2d(x, out, g) {
    if (isHalving(g)) {
      avgPool2x2(x, out, g);
      return;
    }
    const { n, h, w, c, oh, ow, fh, fw, strideH, strideW, padTop, padLeft } = g;
    // Per window: the offsets of its cells from its first one, then one flat loop per channel that
    // accumulates in a local (double precision, in the order of the cells, row by row).
    const offs = new Int32Array(fh * fw);
    let o = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        const y0 = Math.max(oy * strideH - padTop, 0);
        const y1 = Math.min(oy * strideH - padTop + fh, h);
        for (let ox = 0; ox < ow; ox++, o += c) {
          const x0 = Math.max(ox * strideW - padLeft, 0);
          const x1 = Math.min(ox * strideW - padLeft + fw, w);
          const count = windowOffsets(offs, y1 - y0, x1 - x0, w, c);
          const first = ((b * h + y0) * w + x0) * c;
          const inv = count > 0 ? 1 / count : 0;
          for (let ch = 0; ch < c; ch++) {
            let sum = 0;
            for (let k = 0, base = first + ch; k < count; k++) sum += x[base + offs[k]!]!;
            out[o + ch] = sum * inv;
          }
        }
      }
    }
  },

  avgPool2dBackprop(dy, dx, g) {
    if (isHalving(g)) {
      avgPool2x2Backprop(dy, dx, g);
      return;
    }
    const { n, h, w, c, oh, ow, fh, fw, strideH, strideW, padTop, padLeft } = g;
    dx.fill(0);
    const offs = new Int32Array(fh * fw);
    let o = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        const y0 = Math.max(oy * strideH - padTop, 0);
        const y1 = Math.min(oy * strideH - padTop + fh, h);
        for (let ox = 0; ox < ow; ox++, o += c) {
          const x0 = Math.max(ox * strideW - padLeft, 0);
          const x1 = Math.min(ox * strideW - padLeft + fw, w);
          const count = windowOffsets(offs, y1 - y0, x1 - x0, w, c);
          if (count === 0) continue;
          const first = ((b * h + y0) * w + x0) * c;
          const inv = 1 / count;
          for (let ch = 0; ch < c; ch++) {
            const v = dy[o + ch]! * inv;
            for (let k = 0, base = first + ch; k < count; k++) {
              const i = base + offs[k]!;
              dx[i] = dx[i]! + v;
            }
          }
        }
      }
    }
  },
};

/**
 * 1 when a later window cell `v` takes the maximum from the current best `best`, else 0: when it is
 * larger, or when it is NaN and the best is not (a NaN wins over any number and then keeps its place, and
 * the first maximum wins ties). Computed from comparison bits, without a branch.
 */
function beats(best: number, v: number): number {
  return +!(v <= best) & +(best === best);
}

/**
 * Fills `offs` with the element offsets, from the window's first cell, of the cells of a `rows × cols`
 * window (row by row) over an input `w` pixels wide with `c` channels, and returns their count.
 */
function windowOffsets(offs: Int32Array, rows: number, cols: number, w: number, c: number): number {
  if (rows <= 0 || cols <= 0) return 0;
  let k = 0;
  for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) offs[k++] = (r * w + q) * c;
  return k;
}

/** True for the common 2×2 window with stride 2 and no window crossing the edge (no padding inside). */
function isHalving(g: PoolGeometry): boolean {
  return (
    g.fh === 2 && g.fw === 2 && g.strideH === 2 && g.strideW === 2 && g.padTop === 0 && g.padLeft === 0 &&
    2 * g.oh <= g.h && 2 * g.ow <= g.w
  );
}

/**
 * {@link ConvKernels.maxPool2dArgmax} for 2×2 windows with stride 2 inside the input: the four cells
 * `v0 v1 / v2 v3` of each window and channel are compared pairwise (six comparisons, all of them
 * computed), and the winner follows from the comparison bits: cell `i` wins when it beats every earlier
 * cell and no later cell beats it. No branch depends on the data, which matters: with real activations
 * each window's winner is a coin toss, and a branchy scan mispredicts about once per window.
 */
function maxPool2x2(x: TypedArray, argmax: Int32Array, g: PoolGeometry): void {
  const { n, h, w, c, oh, ow } = g;
  const wc = w * c;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      let p = (b * h + 2 * oy) * wc;
      for (let ox = 0; ox < ow; ox++, p += 2 * c, o += c) {
        for (let ch = 0; ch < c; ch++) {
          const i0 = p + ch;
          const v0 = x[i0]!;
          const v1 = x[i0 + c]!;
          const v2 = x[i0 + wc]!;
          const v3 = x[i0 + wc + c]!;
          // Comparison bits `gij`: cell j (later) is larger than cell i. With a NaN in the window, the
          // same formula runs on `beats`, which also orders NaN above every number (rare: a predictable branch).
          let g01, g02, g03, g12, g13, g23;
          if (v0 === v0 && v1 === v1 && v2 === v2 && v3 === v3) {
            g01 = +(v1 > v0);
            g02 = +(v2 > v0);
            g03 = +(v3 > v0);
            g12 = +(v2 > v1);
            g13 = +(v3 > v1);
            g23 = +(v3 > v2);
          } else {
            g01 = beats(v0, v1);
            g02 = beats(v0, v2);
            g03 = beats(v0, v3);
            g12 = beats(v1, v2);
            g13 = beats(v1, v3);
            g23 = beats(v2, v3);
          }
          const w1 = g01 & ~g12 & ~g13;
          const w2 = g02 & g12 & ~g23;
          const w3 = g03 & g13 & g23;
          argmax[o + ch] = i0 + (-w1 & c) + (-w2 & wc) + (-w3 & (wc + c));
        }
      }
    }
  }
}

/** {@link ConvKernels.avgPool2d} for 2×2 windows with stride 2 inside the input. */
function avgPool2x2(x: TypedArray, out: TypedArray, g: PoolGeometry): void {
  const { n, h, w, c, oh, ow } = g;
  const wc = w * c;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      let p = (b * h + 2 * oy) * wc;
      for (let ox = 0; ox < ow; ox++, p += 2 * c, o += c) {
        for (let ch = 0; ch < c; ch++) {
          const i = p + ch;
          out[o + ch] = (x[i]! + x[i + c]! + x[i + wc]! + x[i + wc + c]!) * 0.25;
        }
      }
    }
  }
}

/**
 * {@link ConvKernels.avgPool2dBackprop} for 2×2 windows with stride 2 inside the input. The windows do not
 * overlap, so each cell is written once; only a last odd row or column, which no window covers, is zeroed.
 */
function avgPool2x2Backprop(dy: TypedArray, dx: TypedArray, g: PoolGeometry): void {
  const { n, h, w, c, oh, ow } = g;
  const wc = w * c;
  if (2 * oh < h || 2 * ow < w) dx.fill(0);
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      let p = (b * h + 2 * oy) * wc;
      for (let ox = 0; ox < ow; ox++, p += 2 * c, o += c) {
        for (let ch = 0; ch < c; ch++) {
          const i = p + ch;
          const v = dy[o + ch]! * 0.25;
          dx[i] = v;
          dx[i + c] = v;
          dx[i + wc] = v;
          dx[i + wc + c] = v;
        }
      }
    }
  }
}
