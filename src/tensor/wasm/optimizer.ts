/**
 * @internal The optimizers' per-parameter arithmetic on the WebAssembly SIMD128 kernels
 * (`assembly/optimizer.ts`). Adam's moment updates and direction run in float64 lanes with the operations
 * and order of the TypeScript loop in `src/optimizers/adam.ts`, so they give its bits exactly, at any
 * thread count. The arrays are copied into the kernels' memory a segment at a time (a segment's three
 * arrays stay in cache until they are copied back) and large segments are split across the thread pool.
 */
import { align16, heap32, heap64, reserve, wasmKernels } from "./module.js";
import { operandBase, parallelFor, plannedThreads } from "./threads.js";

/** Below this many elements the TypeScript loop wins (the copies and the call cost more than they save). */
export const WASM_ADAM_MIN = 256;
/** Elements per segment on one thread (three arrays of 64 KiB). */
const SEGMENT = 1 << 14;
/** Elements per segment when threads share the work. */
const SEGMENT_PARALLEL = 1 << 17;
/** Elements per thread-pool chunk (fixed, so the split never depends on the thread count). */
const PIECE = 1 << 13;
/** From this many elements a segment is split across threads (the division and square root dominate). */
const PARALLEL_MIN = 1 << 15;

let enabled = true;

/** @internal Turns the wasm optimizer kernels on or off (tests compare both). Returns the previous setting. */
export function setWasmOptimizerEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Adam's per-step constants, as the TypeScript loop computes them. */
export interface AdamConstants {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Weight of the new first moment in the direction (1 / (1 − β1ᵗ), or NAdam's look-ahead weight). */
  readonly a: number;
  /** Weight of the gradient in the direction (0 for Adam, NAdam's (1 − β1) / (1 − β1ᵗ)). */
  readonly b: number;
  /** The second moment's bias correction 1 − β2ᵗ. */
  readonly c2: number;
}

/**
 * @internal One Adam step in place over float32 arrays of one parameter: the moments `m`, `v` are updated
 * and `g` becomes the direction. Returns false (nothing written) when not handled here.
 */
export function wasmAdam(m: Float32Array, v: Float32Array, g: Float32Array, k: AdamConstants): boolean {
  const n = g.length;
  if (!enabled || n < WASM_ADAM_MIN || m.length !== n || v.length !== n) return false;
  const w = wasmKernels();
  if (w === null) return false;
  const parallel = n >= PARALLEL_MIN && plannedThreads() > 1;
  const seg = Math.min(n, parallel ? SEGMENT_PARALLEL : SEGMENT);
  const pAt = operandBase(w);
  const mAt = pAt + 64, vAt = mAt + align16(seg * 4), gAt = vAt + align16(seg * 4);
  if (!reserve(w, gAt + seg * 4)) return false;
  heap64().set([k.beta1, 1 - k.beta1, k.beta2, 1 - k.beta2, k.a, k.b, k.c2, k.epsilon], pAt >> 3);
  const adam = w.exports.adamF32 as (...a: number[]) => void;
  for (let s = 0; s < n; s += seg) {
    const len = Math.min(seg, n - s);
    const h = heap32();
    h.set(m.subarray(s, s + len), mAt >> 2);
    h.set(v.subarray(s, s + len), vAt >> 2);
    h.set(g.subarray(s, s + len), gAt >> 2);
    if (parallel && len >= PARALLEL_MIN) parallelFor("adamF32", len, PIECE, [mAt, vAt, gAt, pAt]);
    else adam(0, len, 0, mAt, vAt, gAt, pAt);
    m.set(h.subarray(mAt >> 2, (mAt >> 2) + len), s);
    v.set(h.subarray(vAt >> 2, (vAt >> 2) + len), s);
    g.set(h.subarray(gAt >> 2, (gAt >> 2) + len), s);
  }
  return true;
}
