/**
 * @internal CPU kernels of the movement family: transpose, slice, pad, concat, gather, scatterAdd and
 * broadcast materialisation.
 *
 * Most of them are one operation in disguise: copy an n-d block from a strided source into a strided
 * destination. {@link stridedCopy} first merges adjacent axes that are contiguous in both arrays (so a
 * slice of whole rows is one long run, and a broadcast of a row is a fill), then walks the remaining
 * outer axes with an odometer and runs the innermost axis as a flat loop. A transpose whose two innermost
 * (merged) axes are swapped is copied in square tiles, so both the reads and the writes stay in cache.
 *
 * Kernels see typed arrays and shapes only; the ops validate every argument before calling them, and
 * allocate `out` (zero-filled) themselves.
 */
import type { TypedArray } from "../dtype.js";
import { stridesOf } from "../shape.js";

/** @internal The movement kernels every backend provides. `out` is allocated (zero-filled) by the caller. */
export interface MovementKernels {
  /** `out[j] = x[i]` where `out` has shape `perm.map(a => shape[a])` and output axis d reads input axis `perm[d]`. */
  transpose(x: TypedArray, shape: readonly number[], perm: readonly number[], out: TypedArray): void;
  /** The block of extents `size` starting at `begin` (all in range) of `x` of shape `shape`. */
  slice(x: TypedArray, shape: readonly number[], begin: readonly number[], size: readonly number[], out: TypedArray): void;
  /** `x` of shape `shape` placed at offset `before` inside `out` of shape `outShape`, the rest filled with `value`. */
  pad(x: TypedArray, shape: readonly number[], before: readonly number[], outShape: readonly number[], value: number, out: TypedArray): void;
  /** The inputs (same rank, equal dims except `axis`) laid end to end along `axis`; `out` has the summed extent. */
  concat(xs: readonly TypedArray[], shapes: readonly (readonly number[])[], axis: number, out: TypedArray): void;
  /**
   * `out[o, j, i] = x[o, indices[j], i]`, where `o` runs over the axes before `axis`, `i` over those after,
   * and `j` over the (flattened) indices, which are all in `[0, shape[axis])`.
   */
  gather(x: TypedArray, shape: readonly number[], indices: Int32Array, axis: number, out: TypedArray): void;
  /**
   * The transpose of gather: `out[o, indices[j], i] += updates[o, j, i]` into a zero-filled `out` of shape
   * `outShape`; duplicate indices accumulate.
   */
  scatterAdd(updates: TypedArray, indices: Int32Array, axis: number, outShape: readonly number[], out: TypedArray): void;
  /** `x` of shape `shape` (rank at most that of `outShape`, NumPy-compatible) materialised at `outShape`. */
  broadcastTo(x: TypedArray, shape: readonly number[], outShape: readonly number[], out: TypedArray): void;
}

function product(shape: readonly number[], from = 0, to = shape.length): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i]!;
  return n;
}

/** Contiguous runs at least this long are copied with `TypedArray.set` (a block copy). */
const RUN = 64;

/** Side of the square tiles of the blocked transpose (32 float64 rows of 32 elements fit in L1). */
const TILE = 32;

/**
 * Copies the block `shape` from `src` (element `idx` at `sOff + Σ idx[d]·sStr[d]`) to `dst` (at
 * `dOff + Σ idx[d]·dStr[d]`). A source stride of 0 repeats (broadcasts) the element along that axis.
 */
function stridedCopy(
  src: TypedArray,
  sOff: number,
  sStr: readonly number[],
  dst: TypedArray,
  dOff: number,
  dStr: readonly number[],
  shape: readonly number[],
): void {
  // Merge axes: drop size-1 axes; fuse axis d into the previous kept one when both arrays are
  // contiguous across them (a stride-0 pair fuses too: a fill stays a fill).
  const n: number[] = [];
  const ss: number[] = [];
  const ds: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const len = shape[d]!;
    if (len === 0) return;
    if (len === 1) continue;
    const k = n.length - 1;
    if (k >= 0 && ss[k] === sStr[d]! * len && ds[k] === dStr[d]! * len) {
      n[k] = n[k]! * len;
      ss[k] = sStr[d]!;
      ds[k] = dStr[d]!;
    } else {
      n.push(len);
      ss.push(sStr[d]!);
      ds.push(dStr[d]!);
    }
  }
  const r = n.length;
  if (r === 0) {
    dst[dOff] = src[sOff]!;
    return;
  }
  const len = n[r - 1]!;
  const si = ss[r - 1]!;
  const di = ds[r - 1]!;

  // Tiled path: the innermost axis reads with a large stride while the next one reads contiguously
  // (a transpose of the two innermost axes). Walk tiles so that both sides reuse cache lines.
  const tiled = r >= 2 && si !== 1 && si !== 0 && ss[r - 2] === 1 && di === 1 && len >= TILE && n[r - 2]! >= TILE;
  const outerRank = tiled ? r - 2 : r - 1;
  let outer = 1;
  for (let d = 0; d < outerRank; d++) outer *= n[d]!;
  const idx = new Array<number>(outerRank).fill(0);
  let so = sOff;
  let dof = dOff;
  const rows = tiled ? n[r - 2]! : 0;
  const rowD = tiled ? ds[r - 2]! : 0;
  for (let k = 0; k < outer; k++) {
    if (tiled) {
      for (let a0 = 0; a0 < rows; a0 += TILE) {
        const a1 = a0 + TILE < rows ? a0 + TILE : rows;
        for (let b0 = 0; b0 < len; b0 += TILE) {
          const b1 = b0 + TILE < len ? b0 + TILE : len;
          for (let a = a0; a < a1; a++) {
            const sRow = so + a;
            const dRow = dof + a * rowD;
            for (let b = b0; b < b1; b++) dst[dRow + b] = src[sRow + b * si]!;
          }
        }
      }
    } else if (si === 1 && di === 1) {
      // A contiguous run: a block copy once it is long enough to pay for the subarray view.
      if (len >= RUN) dst.set(src.subarray(so, so + len), dof);
      else for (let i = 0; i < len; i++) dst[dof + i] = src[so + i]!;
    } else if (si === 0) {
      const v = src[so]!;
      if (di === 1) dst.fill(v, dof, dof + len);
      else for (let i = 0; i < len; i++) dst[dof + i * di] = v;
    } else {
      for (let i = 0; i < len; i++) dst[dof + i * di] = src[so + i * si]!;
    }
    // Advance the odometer over the outer axes.
    for (let d = outerRank - 1; d >= 0; d--) {
      so += ss[d]!;
      dof += ds[d]!;
      if (++idx[d]! < n[d]!) break;
      idx[d] = 0;
      so -= ss[d]! * n[d]!;
      dof -= ds[d]! * n[d]!;
    }
  }
}

/** @internal The pure TypeScript movement kernels. */
export const cpuMovement: MovementKernels = {
  transpose(x, shape, perm, out) {
    const xs = stridesOf(shape);
    const outShape = perm.map((a) => shape[a]!);
    const sStr = perm.map((a) => xs[a]!);
    stridedCopy(x, 0, sStr, out, 0, stridesOf(outShape), outShape);
  },

  slice(x, shape, begin, size, out) {
    const xs = stridesOf(shape);
    let off = 0;
    for (let d = 0; d < shape.length; d++) off += begin[d]! * xs[d]!;
    stridedCopy(x, off, xs, out, 0, stridesOf(size), size);
  },

  pad(x, shape, before, outShape, value, out) {
    if (value !== 0) out.fill(value);
    const os = stridesOf(outShape);
    let off = 0;
    for (let d = 0; d < outShape.length; d++) off += before[d]! * os[d]!;
    stridedCopy(x, 0, stridesOf(shape), out, off, os, shape);
  },

  concat(xs, shapes, axis, out) {
    const first = shapes[0]!;
    const outShape = first.slice();
    let total = 0;
    for (const s of shapes) total += s[axis]!;
    outShape[axis] = total;
    const os = stridesOf(outShape);
    let at = 0;
    for (let i = 0; i < xs.length; i++) {
      const s = shapes[i]!;
      stridedCopy(xs[i]!, 0, stridesOf(s), out, at * os[axis]!, os, s);
      at += s[axis]!;
    }
  },

  gather(x, shape, indices, axis, out) {
    const outer = product(shape, 0, axis);
    const n = shape[axis]!;
    const inner = product(shape, axis + 1);
    const k = indices.length;
    let p = 0;
    for (let o = 0; o < outer; o++) {
      const base = o * n * inner;
      for (let j = 0; j < k; j++) {
        const from = base + indices[j]! * inner;
        if (inner === 1) {
          out[p++] = x[from]!;
        } else {
          if (inner >= RUN) out.set(x.subarray(from, from + inner), p);
          else for (let i = 0; i < inner; i++) out[p + i] = x[from + i]!;
          p += inner;
        }
      }
    }
  },

  scatterAdd(updates, indices, axis, outShape, out) {
    const outer = product(outShape, 0, axis);
    const n = outShape[axis]!;
    const inner = product(outShape, axis + 1);
    const k = indices.length;
    let p = 0;
    for (let o = 0; o < outer; o++) {
      const base = o * n * inner;
      for (let j = 0; j < k; j++) {
        const to = base + indices[j]! * inner;
        if (inner === 1) {
          out[to] = out[to]! + updates[p++]!;
        } else {
          for (let i = 0; i < inner; i++) out[to + i] = out[to + i]! + updates[p + i]!;
          p += inner;
        }
      }
    }
  },

  broadcastTo(x, shape, outShape, out) {
    const lead = outShape.length - shape.length;
    const xs = stridesOf(shape);
    const sStr = new Array<number>(outShape.length);
    for (let d = 0; d < outShape.length; d++) {
      const xd = d - lead;
      sStr[d] = xd < 0 || shape[xd] === 1 ? 0 : xs[xd]!;
    }
    stridedCopy(x, 0, sStr, out, 0, stridesOf(outShape), outShape);
  },
};
