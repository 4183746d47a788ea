/**
 * @internal Storage recycling: the arrays of collected tensors are handed to new tensors of the same byte
 * size instead of fresh memory. A fresh array costs its zero-filling and a page fault per 4 KiB on first
 * write (0.3–0.6 ns per float32 element here); a recycled one costs a `fill(0)`.
 *
 * Every array {@link allocate} hands out above {@link POOL_MIN_BYTES} is registered with a
 * `FinalizationRegistry` that holds its `ArrayBuffer`, not the array. Tensors that share storage
 * (`reshape`, a tracer's value) share the array object itself, so the buffer comes back only when no tensor,
 * closure or user value can reach that array any more; views of a tensor's buffer made inside kernels
 * (`subarray`) never outlive the call, and `dataSync()` returns a copy.
 *
 * Finalizers run only when the event loop turns, and until then the registry keeps the buffers of dead
 * arrays alive. So at most {@link TURN_MAX_BYTES} are registered per turn of the event loop (a zero-delay
 * timer marks the turn); past that, arrays are plain fresh ones, and a turn that went past it turns
 * registering off for the next turn (a loop that allocates that much between yields would get back little
 * of it, and would keep that much dead storage alive each turn). A loop that never yields therefore
 * gets no recycled arrays and keeps at most that much extra memory alive; a loop that yields (awaiting data,
 * a browser frame) gets its arrays back from the second step on.
 */
import type { DType, TypedArray } from "./dtype.js";

/** Arrays below this size are not pooled: registering one costs more than its allocation saves. */
export const POOL_MIN_BYTES = 1 << 16;
/** Most bytes the pool keeps; buffers coming back beyond it are left to the garbage collector. */
const POOL_MAX_BYTES = 1 << 25;
/** Most bytes registered for recycling between two turns of the event loop (see above). */
export const TURN_MAX_BYTES = 1 << 25;

/** A zero-delay timer where the runtime has one (it marks a turn of the event loop); never keeps Node alive. */
const timer = (globalThis as { setTimeout?: (f: () => void, ms: number) => unknown }).setTimeout;
/** Poolable bytes asked for in this turn (registered or not). */
let turnBytes = 0;
let turnPending = false;
/** Whether this turn registers arrays: off after a turn that asked for more than the budget. */
let registering = true;
function endOfTurn(): void {
  registering = turnBytes <= TURN_MAX_BYTES;
  turnBytes = 0;
  turnPending = false;
}

const free = new Map<number, ArrayBuffer[]>();
let pooledBytes = 0;
let enabled = timer !== undefined && typeof FinalizationRegistry === "function";
let recycled = 0;
let allocatedBytes = 0;
let registeredBytes = 0;

const registry = new FinalizationRegistry<ArrayBuffer>((buffer) => {
  if (!enabled || pooledBytes + buffer.byteLength > POOL_MAX_BYTES) return;
  let list = free.get(buffer.byteLength);
  if (list === undefined) free.set(buffer.byteLength, (list = []));
  list.push(buffer);
  pooledBytes += buffer.byteLength;
});

/** @internal Turns recycling on or off (off also empties the pool). Returns the previous setting. */
export function setStoragePoolEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on && timer !== undefined && typeof FinalizationRegistry === "function";
  if (!on) {
    free.clear();
    pooledBytes = 0;
  }
  return was;
}

/**
 * @internal Since start: how many arrays were handed out recycled, the poolable bytes asked for and the bytes
 * registered for recycling; and the bytes waiting in the pool now.
 */
export function storagePoolStats(): { recycled: number; allocatedBytes: number; registeredBytes: number; pooledBytes: number } {
  return { recycled, allocatedBytes, registeredBytes, pooledBytes };
}

/**
 * @internal An array of `size` elements (`bytes` bytes): recycled when the pool has a buffer of that size, and
 * registered for recycling while this turn's budget lasts. Zero-filled when `zero` (else a recycled buffer
 * keeps its old values, for kernels that write every element).
 */
export function pooled(dtype: DType, size: number, bytes: number, zero = true): TypedArray {
  allocatedBytes += bytes;
  turnBytes += bytes;
  if (!turnPending) {
    turnPending = true;
    (timer!(endOfTurn, 0) as { unref?: () => void } | undefined)?.unref?.();
  }
  if (!registering || turnBytes > TURN_MAX_BYTES) return dtype === "float32" ? new Float32Array(size) : dtype === "float64" ? new Float64Array(size) : new Int32Array(size);
  const buffer = free.get(bytes)?.pop();
  let out: TypedArray;
  if (buffer === undefined) {
    out = dtype === "float32" ? new Float32Array(size) : dtype === "float64" ? new Float64Array(size) : new Int32Array(size);
  } else {
    pooledBytes -= bytes;
    recycled++;
    out = dtype === "float32" ? new Float32Array(buffer) : dtype === "float64" ? new Float64Array(buffer) : new Int32Array(buffer);
    if (zero) out.fill(0);
  }
  registry.register(out, out.buffer as ArrayBuffer);
  registeredBytes += bytes;
  return out;
}

/** @internal True when arrays of `bytes` go through the pool. */
export function poolable(bytes: number): boolean {
  return enabled && bytes >= POOL_MIN_BYTES;
}
