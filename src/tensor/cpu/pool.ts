/**
 * @internal Pooling kernels over 3-D windows with strides and dilations, of the pure TypeScript backend.
 *
 * One geometry covers 1-D, 2-D and 3-D pooling (a 1-D input is a volume of depth and height 1), and
 * windows whose cells are spaced by a dilation. Padded cells never take part: the maximum ignores them
 * and the average does not count them. The 2-D kernels in `conv.ts` stay the fast path for undilated
 * 2-D windows.
 */
import type { TypedArray } from "../dtype.js";

/** @internal Geometry of a pooling window over `[n, d, h, w, c]` giving `[n, od, oh, ow, c]`. */
export interface Pool3DGeometry {
  readonly n: number;
  readonly d: number;
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly od: number;
  readonly oh: number;
  readonly ow: number;
  readonly window: readonly [number, number, number];
  readonly strides: readonly [number, number, number];
  readonly dilations: readonly [number, number, number];
  /** Padding cells before the input on each axis (front, top, left). */
  readonly padBefore: readonly [number, number, number];
}

/** @internal Kernels of the general pooling family (see {@link Backend}). Every output is overwritten. */
export interface Pool3DKernels {
  /**
   * Flat input index of each window's maximum, per channel: the first maximum on ties, a NaN wins and
   * keeps its place; -1 for a window holding only padding (the ops rule that out).
   */
  maxPool3dArgmax(x: TypedArray, argmax: Int32Array, g: Pool3DGeometry): void;
  /** The mean of each window's cells inside the input. */
  avgPool3d(x: TypedArray, out: TypedArray, g: Pool3DGeometry): void;
  /** The transpose of {@link avgPool3d}: each cotangent spread evenly over its window's cells. */
  avgPool3dBackprop(dy: TypedArray, dx: TypedArray, g: Pool3DGeometry): void;
}

/** Fills `cells` with the input offsets (from the batch element's start) of one window's valid cells. */
function windowCells(g: Pool3DGeometry, oz: number, oy: number, ox: number, cells: Int32Array): number {
  const { d, h, w, c } = g;
  const [fd, fh, fw] = g.window;
  const [sd, sh, sw] = g.strides;
  const [dd, dh, dw] = g.dilations;
  const [pd, ph, pw] = g.padBefore;
  let count = 0;
  for (let kz = 0; kz < fd; kz++) {
    const iz = oz * sd + kz * dd - pd;
    if (iz < 0 || iz >= d) continue;
    for (let ky = 0; ky < fh; ky++) {
      const iy = oy * sh + ky * dh - ph;
      if (iy < 0 || iy >= h) continue;
      for (let kx = 0; kx < fw; kx++) {
        const ix = ox * sw + kx * dw - pw;
        if (ix < 0 || ix >= w) continue;
        cells[count++] = ((iz * h + iy) * w + ix) * c;
      }
    }
  }
  return count;
}

/** Calls `visit(outOffset, batchOffset, cells, count)` for every output cell. */
function forEachWindow(g: Pool3DGeometry, visit: (o: number, base: number, cells: Int32Array, count: number) => void): void {
  const { n, d, h, w, c, od, oh, ow } = g;
  const cells = new Int32Array(g.window[0] * g.window[1] * g.window[2]);
  let o = 0;
  for (let b = 0; b < n; b++) {
    const base = b * d * h * w * c;
    for (let oz = 0; oz < od; oz++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, o += c) visit(o, base, cells, windowCells(g, oz, oy, ox, cells));
      }
    }
  }
}

/** @internal The general pooling kernels of the CPU backend. */
export const cpuPool3d: Pool3DKernels = {
  maxPool3dArgmax(x, argmax, g) {
    const { c } = g;
    forEachWindow(g, (o, base, cells, count) => {
      for (let ch = 0; ch < c; ch++) {
        if (count === 0) {
          argmax[o + ch] = -1;
          continue;
        }
        let best = base + cells[0]! + ch;
        for (let i = 1; i < count; i++) {
          const j = base + cells[i]! + ch;
          const v = x[j]!;
          const bv = x[best]!;
          // A later cell wins when it is larger, or NaN over a number; the first maximum keeps ties.
          if (bv === bv && !(v <= bv)) best = j;
        }
        argmax[o + ch] = best;
      }
    });
  },

  avgPool3d(x, out, g) {
    const { c } = g;
    forEachWindow(g, (o, base, cells, count) => {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = 0; i < count; i++) s += x[base + cells[i]! + ch]!;
        out[o + ch] = count > 0 ? s / count : 0;
      }
    });
  },

  avgPool3dBackprop(dy, dx, g) {
    const { c } = g;
    const acc = new Float64Array(dx.length);
    forEachWindow(g, (o, base, cells, count) => {
      if (count === 0) return;
      for (let ch = 0; ch < c; ch++) {
        const v = dy[o + ch]! / count;
        for (let i = 0; i < count; i++) {
          const j = base + cells[i]! + ch;
          acc[j] = acc[j]! + v;
        }
      }
    });
    for (let i = 0; i < acc.length; i++) dx[i] = acc[i]!;
  },
};
