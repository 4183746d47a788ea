/**
 * @internal 3-D convolution kernels of the pure TypeScript backend (NDHWC input, DHWIO filter).
 *
 * Direct loops over each output cell's receptive field, accumulating in double precision: the forward
 * pass gathers, the input gradient scatters the same taps back, and the filter gradient sums the outer
 * products of input and output cotangent over every tap. Volumetric convolutions in this library are
 * small (medical or video patches); an im2col + GEMM path like the 2-D one is the obvious next step if
 * they grow (not yet).
 */
import type { TypedArray } from "../dtype.js";

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
 * Calls `visit(yOff, xOff, fOff)` for every (output cell, valid filter tap) pair: the element offsets of
 * the output cell's channels, of the input cell's channels and of the tap's `[cin, cout]` filter block.
 */
function forEachTap(g: Conv3DGeometry, visit: (yOff: number, xOff: number, fOff: number) => void): void {
  const { n, d, h, w, cin, od, oh, ow, cout, fd, fh, fw } = g;
  const [sd, sh, sw] = g.strides;
  const [dd, dh, dw] = g.dilations;
  const [pd, ph, pw] = g.padBefore;
  let yOff = 0;
  for (let b = 0; b < n; b++) {
    for (let oz = 0; oz < od; oz++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, yOff += cout) {
          for (let kz = 0; kz < fd; kz++) {
            const iz = oz * sd + kz * dd - pd;
            if (iz < 0 || iz >= d) continue;
            for (let ky = 0; ky < fh; ky++) {
              const iy = oy * sh + ky * dh - ph;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < fw; kx++) {
                const ix = ox * sw + kx * dw - pw;
                if (ix < 0 || ix >= w) continue;
                visit(yOff, (((b * d + iz) * h + iy) * w + ix) * cin, ((kz * fh + ky) * fw + kx) * cin * cout);
              }
            }
          }
        }
      }
    }
  }
}

/** @internal The 3-D convolution kernels of the CPU backend. */
export const cpuConv3d: Conv3DKernels = {
  conv3d(x, filter, out, g) {
    const { cin, cout } = g;
    const acc = new Float64Array(out.length);
    forEachTap(g, (yOff, xOff, fOff) => {
      for (let ci = 0; ci < cin; ci++) {
        const v = x[xOff + ci]!;
        if (v === 0) continue;
        const f0 = fOff + ci * cout;
        for (let co = 0; co < cout; co++) acc[yOff + co] = acc[yOff + co]! + v * filter[f0 + co]!;
      }
    });
    for (let i = 0; i < acc.length; i++) out[i] = acc[i]!;
  },

  conv3dBackpropInput(dy, filter, dx, g) {
    const { cin, cout } = g;
    const acc = new Float64Array(dx.length);
    forEachTap(g, (yOff, xOff, fOff) => {
      for (let ci = 0; ci < cin; ci++) {
        const f0 = fOff + ci * cout;
        let s = 0;
        for (let co = 0; co < cout; co++) s += dy[yOff + co]! * filter[f0 + co]!;
        acc[xOff + ci] = acc[xOff + ci]! + s;
      }
    });
    for (let i = 0; i < acc.length; i++) dx[i] = acc[i]!;
  },

  conv3dBackpropFilter(x, dy, dw, g) {
    const { cin, cout } = g;
    const acc = new Float64Array(dw.length);
    forEachTap(g, (yOff, xOff, fOff) => {
      for (let ci = 0; ci < cin; ci++) {
        const v = x[xOff + ci]!;
        if (v === 0) continue;
        const f0 = fOff + ci * cout;
        for (let co = 0; co < cout; co++) acc[f0 + co] = acc[f0 + co]! + v * dy[yOff + co]!;
      }
    });
    for (let i = 0; i < acc.length; i++) dw[i] = acc[i]!;
  },
};
