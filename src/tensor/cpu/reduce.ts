import type { TypedArray } from "../dtype.js";
import { WASM_MIN, wasmArgReduce, wasmReduce } from "../wasm/elementwise.js";

/** @internal Reductions: sum, product, maximum and minimum over any set of axes; arg-reductions over one. */
export type ReduceKernel = "sum" | "prod" | "max" | "min";

/** @internal Reduction kernels. `axes` are sorted and valid; `out` has the kept axes' size. */
export interface ReduceKernels {
  reduce(op: ReduceKernel, x: TypedArray, shape: readonly number[], axes: readonly number[], out: TypedArray): void;
  /** Index of the max (or min) along `axis`, first on ties, into an Int32Array. */
  argReduce(op: "argmax" | "argmin", x: TypedArray, shape: readonly number[], axis: number, out: Int32Array): void;
}

const INIT: Record<ReduceKernel, number> = { sum: 0, prod: 1, max: -Infinity, min: Infinity };

/** @internal The CPU implementation: one sequential pass over the input, accumulating in float64. */
export const cpuReduce: ReduceKernels = {
  reduce(op, x, shape, axes, out) {
    if (x.length >= WASM_MIN && x instanceof Float32Array && out instanceof Float32Array && wasmReduce(op, x, shape, axes, out)) return;
    const r = shape.length;
    const m = out.length;
    const acc = new Float64Array(m).fill(INIT[op]);
    const n = x.length;
    if (n > 0) {
      // outer = product of dims before the first reduced axis ... simple fast paths first.
      const reduced = new Array<boolean>(r).fill(false);
      for (const a of axes) reduced[a] = true;
      // Output stride of every input dimension (0 along reduced axes).
      const ostr = new Array<number>(r).fill(0);
      let s = 1;
      for (let d = r - 1; d >= 0; d--) {
        if (!reduced[d]) { ostr[d] = s; s *= shape[d]!; }
      }
      const inner = r === 0 ? 1 : shape[r - 1]!;
      const innerStride = r === 0 ? 0 : ostr[r - 1]!;
      const idx = new Int32Array(r);
      let oi = 0;
      for (let i = 0; i < n; i += inner) {
        // one innermost row
        if (innerStride === 0) {
          let v = acc[oi]!;
          switch (op) {
            case "sum": for (let j = 0; j < inner; j++) v += x[i + j]!; break;
            case "prod": for (let j = 0; j < inner; j++) v *= x[i + j]!; break;
            case "max": for (let j = 0; j < inner; j++) { const t = x[i + j]!; if (t > v || t !== t) v = t; } break;
            case "min": for (let j = 0; j < inner; j++) { const t = x[i + j]!; if (t < v || t !== t) v = t; } break;
          }
          acc[oi] = v;
        } else {
          switch (op) {
            case "sum": for (let j = 0; j < inner; j++) acc[oi + j] = acc[oi + j]! + x[i + j]!; break;
            case "prod": for (let j = 0; j < inner; j++) acc[oi + j] = acc[oi + j]! * x[i + j]!; break;
            case "max": for (let j = 0; j < inner; j++) { const t = x[i + j]!; if (t > acc[oi + j]! || t !== t) acc[oi + j] = t; } break;
            case "min": for (let j = 0; j < inner; j++) { const t = x[i + j]!; if (t < acc[oi + j]! || t !== t) acc[oi + j] = t; } break;
          }
        }
        for (let d = r - 2; d >= 0; d--) {
          idx[d]!++;
          oi += ostr[d]!;
          if (idx[d]! < shape[d]!) break;
          oi -= ostr[d]! * shape[d]!;
          idx[d] = 0;
        }
      }
    }
    for (let i = 0; i < m; i++) out[i] = acc[i]!;
  },
  argReduce(op, x, shape, axis, out) {
    if (x.length >= WASM_MIN && x instanceof Float32Array && wasmArgReduce(op, x, shape, axis, out)) return;
    let outer = 1;
    for (let d = 0; d < axis; d++) outer *= shape[d]!;
    const len = shape[axis]!;
    let inner = 1;
    for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
    const isMax = op === "argmax";
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < inner; k++) {
        const base = o * len * inner + k;
        let best = x[base]!;
        let bi = 0;
        for (let j = 1; j < len; j++) {
          const v = x[base + j * inner]!;
          if (best !== best) break; // NaN wins and stays
          if (isMax ? v > best || v !== v : v < best || v !== v) { best = v; bi = j; }
        }
        out[o * inner + k] = bi;
      }
    }
  },
};
