/**
 * @internal The optimizers' per-parameter arithmetic on the WebAssembly SIMD128 kernels
 * (`assembly/optimizer.ts`). Adam's moment updates and direction run in float64 lanes with the operations
 * and order of the TypeScript loop in `src/optimizers/adam.ts`, so they give its bits exactly, at any
 * thread count; the whole step (Adam, the learning rate and θ + u) runs in one pass with the roundings of
 * the separate loops. The arrays are copied into the kernels' memory a segment at a time (a segment's
 * arrays stay in cache until they are copied back; `throughWasm` is the one place that copies) and large
 * segments are split across the thread pool.
 */
import { align16, heap32, heap64, reserve, wasmKernels } from "./module.js";
import { operandBase, parallelFor, plannedThreads, type ParallelOp } from "./threads.js";

/** Below this many elements the TypeScript loop wins (the copies and the call cost more than they save). */
export const WASM_ADAM_MIN = 256;
/** Elements per segment on one thread (arrays of 64 KiB). */
const SEGMENT = 1 << 14;
/** Elements per segment when threads share the work. */
const SEGMENT_PARALLEL = 1 << 17;
/** Elements per thread-pool chunk (fixed, so the split never depends on the thread count). */
const PIECE = 1 << 13;
/** From this many elements a segment of Adam is split across threads (the division and square root dominate). */
const PARALLEL_MIN = 1 << 15;
/** The same for the kernels with a few multiplications per element (bound by the copies). */
const PARALLEL_MIN_CHEAP = 1 << 18;

let enabled = true;

/** @internal Turns the wasm optimizer kernels on or off (tests compare both). Returns the previous setting. */
export function setWasmOptimizerEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** @internal Whether the kernels would take an array of `n` elements now (enabled, loaded, large enough). */
export function wasmOptimizerTakes(n: number): boolean {
  return enabled && n >= WASM_ADAM_MIN && wasmKernels() !== null;
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
 * Runs `body(len, addresses)` over `n` elements of float32 operands a segment at a time: operand k is copied
 * in from `ins[k]` before each segment and, when `outs[k]` is given, copied back out to it after (it may be
 * `ins[k]`). `params` (float64) are written first, at `addresses[ins.length]`. The only place where operands
 * cross into the kernels' memory, so that storage living there already can skip it. `body` returns true to
 * stop early. False (nothing written) when the memory cannot hold a segment.
 */
function throughWasm(
  n: number, seg: number, ins: readonly Float32Array[], outs: readonly (Float32Array | null)[], params: readonly number[],
  body: (len: number, at: readonly number[]) => boolean | void,
): boolean {
  const w = wasmKernels()!;
  const pAt = operandBase(w);
  const at = ins.map((_, k) => pAt + align16(params.length * 8) + k * align16(seg * 4));
  if (!reserve(w, (at[at.length - 1] ?? pAt) + seg * 4)) return false;
  heap64().set(params, pAt >> 3);
  const args = [...at, pAt];
  for (let s = 0; s < n; s += seg) {
    const len = Math.min(seg, n - s);
    const h = heap32();
    ins.forEach((x, k) => h.set(x.subarray(s, s + len), at[k]! >> 2));
    const stop = body(len, args) === true;
    outs.forEach((y, k) => {
      if (y !== null) y.set(h.subarray(at[k]! >> 2, (at[k]! >> 2) + len), s);
    });
    if (stop) break;
  }
  return true;
}

/**
 * Runs the element-wise kernel `op(lo, hi, work, ...addresses)` over `n` elements, across threads from
 * `parallelMin` elements.
 */
function elementwise(
  op: ParallelOp, n: number, ins: readonly Float32Array[], outs: readonly (Float32Array | null)[], params: readonly number[],
  parallelMin = PARALLEL_MIN,
): boolean {
  const parallel = n >= parallelMin && plannedThreads() > 1;
  const seg = Math.min(n, parallel ? SEGMENT_PARALLEL : SEGMENT);
  const f = wasmKernels()!.exports[op] as (...a: number[]) => void;
  return throughWasm(n, seg, ins, outs, params, (len, at) => {
    if (parallel && len >= parallelMin) parallelFor(op, len, PIECE, at);
    else f(0, len, 0, ...at);
  });
}

/** Elements per piece of a finiteness scan (256 KiB, in cache from the copy to the scan). */
const SCAN_SEGMENT = 1 << 16;

/**
 * @internal The flat index of the first NaN or ±Infinity in `a`, or -1; undefined when not handled here
 * (then the caller scans in TypeScript).
 */
export function wasmFirstNonFinite(a: Float32Array): number | undefined {
  const n = a.length;
  if (!wasmOptimizerTakes(n)) return undefined;
  const scan = wasmKernels()!.exports.firstNonFiniteF32 as (p: number, n: number) => number;
  let found = -1;
  let done = 0;
  const ok = throughWasm(n, Math.min(n, SCAN_SEGMENT), [a], [null], [], (len, at) => {
    const r = scan(at[0]!, len);
    if (r >= 0) found = done + r;
    done += len;
    return r >= 0;
  });
  return ok ? found : undefined;
}

/** The kernels' Adam constants, in the order `assembly/optimizer.ts` reads them. */
function adamParams(k: AdamConstants): number[] {
  return [k.beta1, 1 - k.beta1, k.beta2, 1 - k.beta2, k.a, k.b, k.c2, k.epsilon];
}

/**
 * @internal One Adam step in place over float32 arrays of one parameter: the moments `m`, `v` are updated
 * and `g` becomes the direction. Returns false (nothing written) when not handled here.
 */
export function wasmAdam(m: Float32Array, v: Float32Array, g: Float32Array, k: AdamConstants): boolean {
  const n = g.length;
  if (!wasmOptimizerTakes(n) || m.length !== n || v.length !== n) return false;
  return elementwise("adamF32", n, [m, v, g], [m, v, g], adamParams(k));
}

/**
 * @internal A whole Adam step of one float32 parameter in one pass: from θ, the moments `m`, `v` and the
 * incoming update `g` (read only), the new moments go to `mOut`, `vOut` (which may be `m`, `v`) and the new
 * parameter `θ + f·d` to `thetaOut`, where d is Adam's direction (plus `decay·θ` when `decay` ≠ 0: AdamW's
 * decoupled decay) and f the learning-rate factor (−α).
 * Every intermediate is rounded to float32 where the separate loops store it, so the bits are theirs.
 * Returns false (nothing written) when not handled here.
 */
export function wasmAdamStep(
  theta: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, k: AdamConstants, factor: number, decay: number,
  mOut: Float32Array, vOut: Float32Array, thetaOut: Float32Array,
): boolean {
  const n = g.length;
  if (!wasmOptimizerTakes(n) || [theta, m, v, mOut, vOut, thetaOut].some((x) => x.length !== n)) return false;
  return elementwise("adamStepF32", n, [theta, m, v, g], [null, mOut, vOut, thetaOut], [...adamParams(k), factor, decay]);
}

/**
 * @internal A whole momentum step of one float32 parameter in one pass (`trace`, the learning-rate factor
 * and θ + u): the velocity goes to `vOut` (which may be `v`), the new parameter to `thetaOut`, each value
 * rounded to float32 where the separate loops store it. Returns false (nothing written) when not handled here.
 */
export function wasmMomentumStep(
  theta: Float32Array, v: Float32Array, g: Float32Array, momentum: number, nesterov: boolean, factor: number,
  vOut: Float32Array, thetaOut: Float32Array,
): boolean {
  const n = g.length;
  if (!wasmOptimizerTakes(n) || [theta, v, vOut, thetaOut].some((x) => x.length !== n)) return false;
  return elementwise("momentumStepF32", n, [theta, v, g], [null, vOut, thetaOut], [momentum, nesterov ? 1 : 0, factor], PARALLEL_MIN_CHEAP);
}

/**
 * @internal `θ + factor·g` over float32 in one pass (plain gradient descent: the learning rate and θ + u),
 * `factor·g` rounded to float32 before the sum as the separate loops store it. False when not handled here.
 */
export function wasmScaledAdd(theta: Float32Array, g: Float32Array, factor: number, thetaOut: Float32Array): boolean {
  const n = g.length;
  if (!wasmOptimizerTakes(n) || theta.length !== n || thetaOut.length !== n) return false;
  return elementwise("scaledAddF32", n, [theta, g], [null, thetaOut], [factor], PARALLEL_MIN_CHEAP);
}
