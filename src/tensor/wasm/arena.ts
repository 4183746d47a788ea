/**
 * @internal Tensor storage inside the kernels' WebAssembly memory (float32 and int32 arrays), so that the
 * kernels read their operands and write their results where they are, with no copy in or out.
 *
 * Only where the memory is shared and threads can run (Node, or a browser's dedicated worker on a
 * cross-origin isolated page): a view into a shared memory stays valid when the memory grows (a plain memory
 * detaches its buffer on growth, so the plain-memory build, a page's main thread included, keeps JS arrays).
 * The storage region starts after the control block and the GEMM workspaces of the most threads there can
 * be; the operand region of each call starts after its end (`threads.ts`, `operandBase`), so storage and a
 * call's scratch never overlap. Blocks come in size classes (four per power of two, so at most a quarter is
 * lost to rounding) from {@link ARENA_MIN_BYTES}; each class has a free list, and a block never changes
 * class. A new block is cut from the end of the region, which grows the memory; the region is capped at
 * {@link ARENA_MAX_BYTES}, and the memory never shrinks.
 *
 * The rules are those of `pool.ts`: every view handed out is registered with a `FinalizationRegistry`, and
 * its block returns to its free list once the view is collected. Tensors that share storage share the view
 * object; kernels' `subarray`s of it never outlive a call; `dataSync()` copies. So a block comes back only
 * when nothing can reach its view, and a recycled block never aliases a live tensor or a user-held array.
 * Finalizers run only when the event loop turns, so at most {@link ARENA_TURN_BYTES} of new blocks are cut
 * per turn (a zero-delay timer marks the turn); free blocks are handed out whatever the budget, since they
 * cost no memory. Past the budget, or past the cap, allocations are plain JS arrays and the kernels copy
 * them as before. A loop that never yields therefore grows the region by at most that much per turn; one
 * that yields gets its blocks back once a collection has found their views dead (see
 * {@link ARENA_MAX_BYTES}). Where storage lives never changes a result: a kernel computes the same thing
 * on an address it was given as on a copy.
 */
import { addressOf, align16, heap32, reserve, setStorageRegionEnd, wasmKernels, workspaceAt } from "./module.js";
import { MAX_THREADS, threadsSupported } from "./threads.js";

/** Arrays below this size stay JS arrays: registering one costs more than its copies. */
export const ARENA_MIN_BYTES = 1 << 16;
/**
 * Largest the storage region grows by default. The memory never shrinks, so this is memory the process keeps;
 * and since the garbage collector does not see storage in the region (a view costs it a few bytes), dead
 * tensors' blocks may wait for a collection that JS garbage triggers, during which new arrays are JS
 * arrays. Measured on a loop of `add` on 1e6 float32 that yields after each call (1,000 calls): caps of
 * 32, 64, 128 and 256 MiB gave 25%, 45%, 63% and 79% resident results, 1.85, 1.29, 1.02 and 1.15 ms per
 * call (3.87 with none), and RSS 35, 72, 121 and 243 MB above the 228 MB of the run without it.
 */
export const ARENA_MAX_BYTES = 1 << 27;
/** Most bytes of new blocks cut between two turns of the event loop (see above). */
export const ARENA_TURN_BYTES = 1 << 26;
const PAGE = 1 << 16;

/** Start and end of the region (-1: not placed yet). */
let start = -1;
let end = -1;
/** Free blocks by class size, addresses. */
const free = new Map<number, number[]>();
/** Blocks handed out and not yet returned: address → class size. */
const live = new Map<number, number>();
let enabled = true;
let cap = ARENA_MAX_BYTES;
let turnMax = ARENA_TURN_BYTES;
let turnBytes = 0;
let turnPending = false;
let handedOut = 0;
let recycled = 0;

const registry = new FinalizationRegistry<number>((at) => {
  const bytes = live.get(at);
  if (bytes === undefined) return;
  live.delete(at);
  let list = free.get(bytes);
  if (list === undefined) free.set(bytes, (list = []));
  list.push(at);
});

/** A zero-delay timer where the runtime has one (it marks a turn of the event loop); never keeps Node alive. */
const timer = (globalThis as { setTimeout?: (f: () => void, ms: number) => unknown }).setTimeout;
function endOfTurn(): void {
  turnBytes = 0;
  turnPending = false;
}

/** The class a request of `bytes` falls in: the next multiple of a quarter of the power of two below it. */
export function classBytes(bytes: number): number {
  const p = 2 ** Math.floor(Math.log2(bytes));
  if (p === bytes) return p;
  const q = p / 4;
  return Math.ceil(bytes / q) * q;
}

/** @internal Turns resident storage on or off (off: new arrays are JS arrays; live blocks still come back). Returns the previous setting. */
export function setResidentStorageEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/**
 * @internal Sets the most bytes the storage region may grow to and the most handed out per turn of the event
 * loop (tests change them). Returns the previous limits.
 */
export function setResidentStorageLimits(limits: { cap: number; turn: number }): { cap: number; turn: number } {
  const was = { cap, turn: turnMax };
  cap = limits.cap;
  turnMax = limits.turn;
  return was;
}

/**
 * @internal Since start: blocks handed out and how many of those were recycled; now: blocks live, bytes in
 * free lists and the region's size.
 */
export function residentStorageStats(): { handedOut: number; recycled: number; liveBlocks: number; freeBytes: number; regionBytes: number } {
  let freeBytes = 0;
  for (const [bytes, list] of free) freeBytes += bytes * list.length;
  return { handedOut, recycled, liveBlocks: live.size, freeBytes, regionBytes: start < 0 ? 0 : end - start };
}

/** @internal The `[address, block size]` of every block handed out and not yet returned (tests check for aliasing). */
export function liveBlocks(): [number, number][] {
  return [...live];
}

/**
 * @internal A float32 or int32 array of `size` elements inside the kernels' memory, or null where that is
 * not possible (not shared, disabled, under the minimum, past this turn's budget or the cap): the caller
 * then makes a JS array. Its elements are zero when `zero`, else unspecified (for kernels that write them all).
 */
export function residentArray(dtype: "float32" | "int32", size: number, zero: boolean): Float32Array | Int32Array | null {
  const bytes = size * 4;
  if (!enabled || bytes < ARENA_MIN_BYTES || !threadsSupported()) return null;
  const w = wasmKernels()!;
  const cls = classBytes(bytes);
  let at = free.get(cls)?.pop();
  // Bytes of the block that may hold old values: all of a recycled block; of a new one, the part below the
  // memory's old end (operand regions of earlier calls); memory added by growing is zero.
  let dirty = bytes;
  if (at === undefined) {
    if (!turnPending && timer !== undefined) {
      turnPending = true;
      (timer(endOfTurn, 0) as { unref?: () => void } | undefined)?.unref?.();
    }
    if (turnBytes + cls > turnMax) return null;
    if (start < 0) start = end = Math.ceil(workspaceAt(w, MAX_THREADS) / PAGE) * PAGE;
    if (end - start + cls > cap) return null;
    const had = w.memory.buffer.byteLength;
    if (!reserve(w, end + cls)) return null;
    at = end;
    end += cls;
    turnBytes += cls;
    setStorageRegionEnd(end);
    dirty = Math.max(0, Math.min(bytes, align16(had - at)));
  } else {
    recycled++;
  }
  handedOut++;
  const buffer = heap32().buffer;
  const view = dtype === "float32" ? new Float32Array(buffer, at, size) : new Int32Array(buffer, at, size);
  if (zero && dirty > 0) view.fill(0, 0, Math.min(size, dirty >> 2));
  live.set(at, cls);
  registry.register(view, at);
  return view;
}

/** @internal True when `x` is storage inside the kernels' memory. */
export function isResident(x: ArrayBufferView): boolean {
  return addressOf(x) >= 0;
}
