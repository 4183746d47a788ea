/**
 * @internal 3-D convolution kernels of the pure TypeScript backend (NDHWC input, DHWIO filter).
 *
 * Each is im2col (or its adjoint, col2im) around one matrix product per batch element, the classic
 * lowering (Chellapilla et al., 2006, "High Performance Convolutional Neural Networks for Document
 * Processing"), so the work runs in the same GEMM as matmul. Scratch memory is one batch element's
 * columns, `outDepth·outHeight·outWidth × filterDepth·filterHeight·filterWidth·inChannels`.
 */
import type { TypedArray } from "../dtype.js";
import { cpuLinalg } from "./linalg.js";

/** @internal Geometry of a 3-D convolution `[n, d, h, w, cin] * [fd, fh, fw, cin, cout] → [n, od, oh, ow, cout]`. */
export interface Conv3DGeometry {
  readonly n: number;
  readonly d: number;
  readonly h: number;
  readonly w: number;
  readonly cin: number;
  readonly od: number;
  readonly oh: number;
  readonly ow: number;
  readonly cout: number;
  readonly fd: number;
  readonly fh: number;
  readonly fw: number;
  readonly strides: readonly [number, number, number];
  readonly dilations: readonly [number, number, number];
  /** Zero cells before the input on each axis (front, top, left). */
  readonly padBefore: readonly [number, number, number];
}

/** @internal Kernels of the 3-D convolution family (see {@link Backend}). Every output is overwritten. */
export interface Conv3DKernels {
  /** `out[n, z, y, x, co] = Σ in[n, iz, iy, ix, ci] · filter[kz, ky, kx, ci, co]` over each receptive field. */
  conv3d(x: TypedArray, filter: TypedArray, out: TypedArray, g: Conv3DGeometry): void;
  /** The input gradient of {@link conv3d}: `dx[n, d, h, w, cin]` from `dy` and the filter. */
  conv3dBackpropInput(dy: TypedArray, filter: TypedArray, dx: TypedArray, g: Conv3DGeometry): void;
  /** The filter gradient of {@link conv3d}: `dw[fd, fh, fw, cin, cout]` from the input and `dy`. */
  conv3dBackpropFilter(x: TypedArray, dy: TypedArray, dw: TypedArray, g: Conv3DGeometry): void;
}

/**
 * Lowers one batch element's receptive fields to rows (im2col): row `r` of `cols` holds, for output cell
 * `r` (depth, then height, then width), the `fd·fh·fw·cin` input values under the filter taps, zero where
 * a tap falls on padding. The forward convolution is then `cols · filter` (filter as `[fd·fh·fw·cin, cout]`).
 */
function im2col(x: TypedArray, xOff: number, g: Conv3DGeometry, cols: TypedArray): void {
  const { d, h, w, cin, od, oh, ow, fd, fh, fw } = g;
  const [sd, sh, sw] = g.strides;
  const [dd, dh, dw] = g.dilations;
  const [pd, ph, pw] = g.padBefore;
  let c = 0;
  for (let oz = 0; oz < od; oz++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let kz = 0; kz < fd; kz++) {
          const iz = oz * sd + kz * dd - pd;
          for (let ky = 0; ky < fh; ky++) {
            const iy = oy * sh + ky * dh - ph;
            for (let kx = 0; kx < fw; kx++, c += cin) {
              const ix = ox * sw + kx * dw - pw;
              if (iz < 0 || iz >= d || iy < 0 || iy >= h || ix < 0 || ix >= w) {
                for (let ci = 0; ci < cin; ci++) cols[c + ci] = 0;
              } else {
                const from = xOff + ((iz * h + iy) * w + ix) * cin;
                for (let ci = 0; ci < cin; ci++) cols[c + ci] = x[from + ci]!;
              }
            }
          }
        }
      }
    }
  }
}

/** The adjoint of {@link im2col}: adds each row's values back onto the input cells they came from. */
function col2im(cols: TypedArray, g: Conv3DGeometry, dx: Float64Array, dxOff: number): void {
  const { d, h, w, cin, od, oh, ow, fd, fh, fw } = g;
  const [sd, sh, sw] = g.strides;
  const [dd, dh, dw] = g.dilations;
  const [pd, ph, pw] = g.padBefore;
  let c = 0;
  for (let oz = 0; oz < od; oz++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let kz = 0; kz < fd; kz++) {
          const iz = oz * sd + kz * dd - pd;
          for (let ky = 0; ky < fh; ky++) {
            const iy = oy * sh + ky * dh - ph;
            for (let kx = 0; kx < fw; kx++, c += cin) {
              const ix = ox * sw + kx * dw - pw;
              if (iz < 0 || iz >= d || iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const to = dxOff + ((iz * h + iy) * w + ix) * cin;
              for (let ci = 0; ci < cin; ci++) dx[to + ci] = dx[to + ci]! + cols[c + ci]!;
            }
          }
        }
      }
    }
  }
}

/** A zeroed scratch array of the same kind as `like`. */
function scratch(like: TypedArray, size: number): TypedArray {
  return like instanceof Float32Array ? new Float32Array(size) : like instanceof Float64Array ? new Float64Array(size) : new Int32Array(size);
}

/**
 * @internal The 3-D convolution kernels of the CPU backend: im2col per batch element, then one matrix
 * product through the backend's GEMM (so float32 volumes use the WebAssembly SIMD kernel), as the 2-D
 * convolution does. The input gradient is `dy · filterᵀ` scattered back by col2im, the filter gradient
 * `colsᵀ · dy` summed over the batch.
 */
export const cpuConv3d: Conv3DKernels = {
  conv3d(x, filter, out, g) {
    const rows = g.od * g.oh * g.ow;
    const k = g.fd * g.fh * g.fw * g.cin;
    const xSize = g.d * g.h * g.w * g.cin;
    const cols = scratch(x, rows * k);
    for (let b = 0; b < g.n; b++) {
      im2col(x, b * xSize, g, cols);
      cpuLinalg.matmul(cols, filter, out.subarray(b * rows * g.cout, (b + 1) * rows * g.cout), [], [], [], rows, k, g.cout, false, false);
    }
  },

  conv3dBackpropInput(dy, filter, dx, g) {
    const rows = g.od * g.oh * g.ow;
    const k = g.fd * g.fh * g.fw * g.cin;
    const xSize = g.d * g.h * g.w * g.cin;
    const cols = scratch(dy, rows * k);
    const acc = new Float64Array(dx.length);
    for (let b = 0; b < g.n; b++) {
      cpuLinalg.matmul(dy.subarray(b * rows * g.cout, (b + 1) * rows * g.cout), filter, cols, [], [], [], rows, g.cout, k, false, true);
      col2im(cols, g, acc, b * xSize);
    }
    for (let i = 0; i < acc.length; i++) dx[i] = acc[i]!;
  },

  conv3dBackpropFilter(x, dy, dw, g) {
    const rows = g.od * g.oh * g.ow;
    const k = g.fd * g.fh * g.fw * g.cin;
    const xSize = g.d * g.h * g.w * g.cin;
    const cols = scratch(x, rows * k);
    const part = scratch(dw, dw.length);
    const acc = new Float64Array(dw.length);
    for (let b = 0; b < g.n; b++) {
      im2col(x, b * xSize, g, cols);
      cpuLinalg.matmul(cols, dy.subarray(b * rows * g.cout, (b + 1) * rows * g.cout), part, [], [], [], k, rows, g.cout, true, false);
      for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + part[i]!;
    }
    for (let i = 0; i < acc.length; i++) dw[i] = acc[i]!;
  },
};
