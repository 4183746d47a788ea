/**
 * @internal A small pool of worker threads that run parts of one wasm kernel call, behind a synchronous API.
 *
 * Each worker instantiates the kernels module over the same shared memory (`module.ts`) and sleeps in
 * `Atomics.wait`. A call cuts its work into a fixed list of chunks, publishes it in the control block at
 * address 0 and wakes the workers; every thread, the caller included, then claims chunks one at a time
 * with a compare-and-swap until none is left, and the caller blocks until all are done. Which thread runs
 * a chunk never changes what the chunk computes, and every kernel split here writes disjoint outputs whose
 * values do not depend on the split, so results are bit-identical for any thread count. A worker that has
 * not started yet (or is descheduled) costs nothing: the caller runs the chunks itself.
 *
 * Threads need a shared memory and a calling thread that may block in `Atomics.wait`: Node (≥ 20.16, for
 * `process.getBuiltinModule`; workers are `unref`ed and never keep the process alive), and a browser's
 * dedicated worker on a cross-origin isolated page (where `SharedArrayBuffer` exists), whose helpers are
 * nested dedicated workers started from a `blob:` URL. Elsewhere (a browser's main thread, which may not
 * block; pages without cross-origin isolation; a content security policy without `worker-src blob:`)
 * everything runs on the calling thread.
 */
import { CONTROL_BYTES, heapInt32, reserve, storageRegionEnd, wasmKernels, workspaceAt, type WasmKernels } from "./module.js";

/** The wasm exports that run in parallel, by index in the control block (the workers get the same list). */
const OPS = ["sgemmPart", "binaryRows", "unaryF32", "reduceRows", "reduceColumns", "argRows", "argColumns", "maxPool2x2Argmax", "adamF32", "adamStepF32", "momentumStepF32", "scaledAddF32", "conv2dPart", "conv2dFilterPart", "conv2dInputPart"] as const;
/** @internal A wasm export that can be split across threads: `f(lo, hi, workspace, ...args)`. */
export type ParallelOp = (typeof OPS)[number];

// Control block layout (int32 slots at address 0).
const GEN = 0; // bumped to wake the workers
const NEXT = 1; // (task id << 20) | next chunk; chunk CLOSED once the task is over
const DONE = 2; // chunks finished
const CHUNKS = 3;
const OP = 4;
const TOTAL = 5;
const STEP = 6;
const READY = 7; // workers started
const FAILED = 8;
const BY_WORKERS = 9; // chunks run by workers since start (tests check the workers take part)
const ARGS = 16;
const MAX_ARGS = 16;
const CLOSED = 0xfffff;
const ID_MASK = 0x7ff;
/** @internal Most threads the pool runs, the calling one included. */
export const MAX_THREADS = 16;

/** The worker's loop, once it has `module`, `memory`, `ops` and `work` (its GEMM workspace). */
const workerLoop = `
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = ops.map((name) => ex[name]);
const ctl = new Int32Array(memory.buffer, 0, ${CONTROL_BYTES >> 2});
let seen = Atomics.load(ctl, ${GEN});
Atomics.add(ctl, ${READY}, 1);
for (;;) {
  Atomics.wait(ctl, ${GEN}, seen);
  seen = Atomics.load(ctl, ${GEN});
  for (;;) {
    const v = Atomics.load(ctl, ${NEXT});
    const c = v & ${CLOSED};
    if (c === ${CLOSED}) break;
    const n = ctl[${CHUNKS}], op = ctl[${OP}], total = ctl[${TOTAL}], step = ctl[${STEP}];
    const args = Array.from(ctl.subarray(${ARGS}, ${ARGS + MAX_ARGS}));
    if (c >= n) break;
    if (Atomics.compareExchange(ctl, ${NEXT}, v, v + 1) !== v) continue;
    const lo = c * step;
    try { fns[op](lo, Math.min(lo + step, total), work, ...args); } catch { Atomics.store(ctl, ${FAILED}, 1); }
    Atomics.add(ctl, ${BY_WORKERS}, 1);
    if (Atomics.add(ctl, ${DONE}, 1) + 1 === n) Atomics.notify(ctl, ${DONE});
  }
}
`;

/** What a worker needs: the compiled module, the shared memory, the op names and its workspace address. */
interface WorkerData {
  module: unknown;
  memory: unknown;
  index: number;
  ops: readonly string[];
  work: number;
}
/** A started worker, whichever the runtime. */
interface PoolWorker {
  terminate(): void;
}
/** Starts one worker (it may still fail later: then it never claims a chunk, and costs nothing). */
type Spawn = (data: WorkerData) => PoolWorker;

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
  on(event: "error", listener: (e: unknown) => void): void;
}
type NodeWorkerCtor = new (source: string, options: { eval: true; workerData: unknown }) => NodeWorker;
interface BrowserWorker {
  postMessage(data: unknown): void;
  terminate(): void;
  addEventListener(type: "error", listener: (e: { preventDefault(): void }) => void): void;
}
type BrowserWorkerCtor = new (url: string) => BrowserWorker;

type Builtins = { process?: { getBuiltinModule?: (id: string) => unknown } };

/** Node's workers (node:worker_threads, reached without importing a Node module). */
function nodeSpawn(): Spawn | undefined {
  const mod = (globalThis as Builtins).process?.getBuiltinModule?.("node:worker_threads") as { Worker?: NodeWorkerCtor } | undefined;
  const Worker = mod?.Worker;
  if (Worker === undefined) return undefined;
  const source = `const { module, memory, ops, work } = require("node:worker_threads").workerData;\n${workerLoop}`;
  return (data) => {
    const worker = new Worker(source, { eval: true, workerData: data });
    worker.unref();
    // Listening keeps a worker's failure to start from becoming an uncaught exception here.
    worker.on("error", () => undefined);
    return { terminate: () => void worker.terminate() };
  };
}

/**
 * A browser's nested dedicated workers, from a `blob:` URL; only where this thread may block in `Atomics.wait`
 * (a dedicated worker, not a page's main thread) and the memory can be shared (a cross-origin isolated page).
 */
function browserSpawn(): Spawn | undefined {
  const g = globalThis as {
    Worker?: BrowserWorkerCtor;
    Blob?: new (parts: string[], options: { type: string }) => unknown;
    URL?: { createObjectURL?(blob: unknown): string };
  };
  if (g.Worker === undefined || g.Blob === undefined || g.URL?.createObjectURL === undefined || !mayBlock()) return undefined;
  const source = `self.onmessage = (event) => {\nconst { module, memory, ops, work } = event.data;\n${workerLoop}};`;
  let url: string | undefined;
  const Worker = g.Worker;
  return (data) => {
    url ??= g.URL!.createObjectURL!(new g.Blob!([source], { type: "text/javascript" }));
    const worker = new Worker(url);
    // A worker refused after its creation (a content security policy without `worker-src blob:`) never
    // claims a chunk: keep its error quiet, and end threads, so that calls stop cutting work for helpers.
    worker.addEventListener("error", (e) => {
      e.preventDefault();
      supported = false;
    });
    worker.postMessage(data);
    return worker;
  };
}

/** True when this thread may block in `Atomics.wait` (false on a browser's main thread, which throws). */
function mayBlock(): boolean {
  if (typeof SharedArrayBuffer !== "function") return false;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

let spawner: Spawn | null | undefined;
/** How this runtime starts workers, or null where it cannot. */
function spawn(): Spawn | null {
  if (spawner === undefined) {
    try {
      spawner = nodeSpawn() ?? browserSpawn() ?? null;
    } catch {
      spawner = null;
    }
  }
  return spawner;
}

/** Cores the runtime reports (at most MAX_THREADS; 1 where unknown). */
function cores(): number {
  const os = (globalThis as Builtins).process?.getBuiltinModule?.("node:os") as { availableParallelism?: () => number } | undefined;
  const browser = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  const n = os?.availableParallelism?.() ?? browser ?? 1;
  return Math.max(1, Math.min(MAX_THREADS, Math.floor(n) || 1));
}

let requested: number | undefined;
const workers: PoolWorker[] = [];
let taskId = 0;
let supported: boolean | undefined;

/**
 * True when this runtime can run kernels on worker threads: a shared wasm memory, and workers from Node or,
 * in a browser, from a dedicated worker (which may block) on a cross-origin isolated page.
 */
export function threadsSupported(): boolean {
  if (supported === undefined) {
    const w = wasmKernels();
    supported = w !== null && w.shared && spawn() !== null;
  }
  return supported;
}

/**
 * Sets how many threads the kernels may use, the calling one included (1 = no worker threads).
 *
 * Large matrix products, convolutions (forward and both backward passes) and the SIMD elementwise and
 * reduction kernels are split across this many threads. Results are bit-identical for every count. The
 * default is the number of cores, at most 16. Threads run under Node and in a browser's dedicated worker on a
 * cross-origin isolated page; where they cannot (a page's main thread, which may not block; a runtime without
 * `SharedArrayBuffer`) the setting is kept but everything runs on the calling thread. Worker threads start on
 * the first large kernel call after the setting changes and never keep Node alive.
 * @param count a whole number from 1 to 16.
 * @returns the previous setting.
 * @example
 * ```ts
 * const previous = setThreadCount(1); // everything on the calling thread
 * getThreadCount(); // 1
 * matmul(randomNormal([256, 256]), randomNormal([256, 256]));
 * setThreadCount(previous);
 * ```
 * @category Tensors
 */
export function setThreadCount(count: number): number {
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > MAX_THREADS) {
    throw new RangeError(`setThreadCount: count must be a whole number from 1 to ${MAX_THREADS}, got ${String(count)}`);
  }
  const previous = getThreadCount();
  requested = count;
  if (workers.length > count - 1) {
    for (const w of workers.splice(count - 1)) w.terminate();
    const ctl = heapInt32();
    if (ctl.length > 0) Atomics.store(ctl, READY, workers.length);
  }
  return previous;
}

/**
 * The thread-count setting (see {@link setThreadCount}): the number of cores by default.
 * @returns the number of threads kernels may use, the calling one included.
 * @example
 * ```ts
 * // The number of cores by default (2 on a two-core machine), at most 16.
 * const n = getThreadCount();
 * n >= 1 && n <= 16; // true
 * ```
 * @category Tensors
 */
export function getThreadCount(): number {
  requested ??= cores();
  return requested;
}

/** @internal Threads that can run a call now: 1 plus the workers started (≤ the setting). */
export function activeThreads(): number {
  return threadsSupported() ? Math.min(getThreadCount(), 1 + workers.length) : 1;
}

/** @internal Threads a call may be cut for (the setting, where threads are supported). */
export function plannedThreads(): number {
  return threadsSupported() ? getThreadCount() : 1;
}

/**
 * @internal Address of the operand region: after the control block, one GEMM workspace per planned thread and
 * the tensor storage region (`arena.ts`, which starts after the workspaces of the most threads there can be).
 */
export function operandBase(w: WasmKernels): number {
  return Math.max(workspaceAt(w, plannedThreads()), storageRegionEnd());
}

/** Starts the workers the setting asks for (they become useful once they report ready). */
function ensureWorkers(w: WasmKernels): void {
  const want = getThreadCount() - 1;
  if (workers.length >= want) return;
  const start = spawn()!;
  if (!reserve(w, workspaceAt(w, want + 1))) return;
  while (workers.length < want) {
    const index = workers.length + 1;
    // A worker that fails to start never claims a chunk: the other threads run its share. One that cannot
    // even be created (a content security policy refusing blob: workers throws here) ends threads for good:
    // every call then runs on this thread.
    try {
      workers.push(start({ module: w.module, memory: w.memory, index, ops: OPS, work: workspaceAt(w, index) }));
    } catch {
      supported = false;
      return;
    }
  }
}

/** @internal How many chunks worker threads have run since the pool started (tests check they take part). */
export function chunksRunByWorkers(): number {
  const ctl = heapInt32();
  return ctl.length > 0 ? Atomics.load(ctl, BY_WORKERS) : 0;
}

/** @internal Resolves once every worker the setting asks for has started (tests use it). */
export async function workersReady(): Promise<void> {
  const w = wasmKernels();
  if (w === null || !threadsSupported() || !reserve(w, CONTROL_BYTES)) return;
  ensureWorkers(w);
  for (let i = 0; i < 2000 && threadsSupported() && Atomics.load(heapInt32(), READY) < getThreadCount() - 1; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * @internal Runs `op(lo, hi, workspace, ...args)` over `[0, total)` in chunks of `step`: chunk `c` covers
 * `[c·step, min((c+1)·step, total))`. With one thread (or one chunk) the calls run here in order. The
 * memory must already hold everything the op reads or writes (grow it before calling).
 */
export function parallelFor(op: ParallelOp, total: number, step: number, args: readonly number[]): void {
  const w = wasmKernels()!;
  const f = w.exports[op] as (...a: number[]) => void;
  const chunks = Math.ceil(total / step);
  if (chunks <= 1 || plannedThreads() <= 1) {
    const work = workspaceAt(w, 0);
    for (let lo = 0; lo < total; lo += step) f(lo, Math.min(lo + step, total), work, ...args);
    return;
  }
  ensureWorkers(w);
  const ctl = heapInt32();
  ctl[OP] = OPS.indexOf(op);
  ctl[CHUNKS] = chunks;
  ctl[TOTAL] = total;
  ctl[STEP] = step;
  for (let i = 0; i < MAX_ARGS; i++) ctl[ARGS + i] = args[i] ?? 0;
  Atomics.store(ctl, DONE, 0);
  Atomics.store(ctl, FAILED, 0);
  taskId = (taskId + 1) & ID_MASK;
  const base = taskId << 20;
  Atomics.store(ctl, NEXT, base);
  Atomics.add(ctl, GEN, 1);
  Atomics.notify(ctl, GEN);
  const work = workspaceAt(w, 0);
  for (;;) {
    const c = Atomics.add(ctl, NEXT, 1) - base;
    if (c >= chunks) break;
    const lo = c * step;
    // A failing chunk still counts as done, so that the join below cannot hang; the error is raised after it.
    try {
      f(lo, Math.min(lo + step, total), work, ...args);
    } catch {
      Atomics.store(ctl, FAILED, 1);
    }
    Atomics.add(ctl, DONE, 1);
  }
  for (let d = Atomics.load(ctl, DONE); d < chunks; d = Atomics.load(ctl, DONE)) Atomics.wait(ctl, DONE, d);
  Atomics.store(ctl, NEXT, base | CLOSED);
  if (Atomics.load(ctl, FAILED) !== 0) throw new Error(`${op}: a kernel call failed on one of ${plannedThreads()} threads; call setThreadCount(1) to run on one thread`);
}
