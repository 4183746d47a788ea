/**
 * @internal The WebAssembly SIMD128 kernels module (AssemblyScript source in `assembly/`, compiled by
 * `scripts/build-wasm.mjs` into the generated `kernels-binary.ts`) and the memory it runs on.
 *
 * The module imports its memory. Where `SharedArrayBuffer` exists, the memory is shared, so worker threads
 * (`threads.ts`) can instantiate the same module over the same memory and run parts of one kernel call;
 * elsewhere a plain memory and the build without threads are used. Layout of the memory, in bytes:
 * `[control block | one GEMM workspace per thread | tensor storage | operands of the current call]`. Tensor
 * storage (`arena.ts`, shared memory only) starts after the workspaces of the most threads there can be and
 * holds float32 and int32 tensors' elements; the operand region after it is scratch owned by the call in
 * progress, for operands that live elsewhere. The memory grows on demand and never shrinks.
 *
 * The module is instantiated synchronously on first use (a few kilobytes). When WebAssembly or its SIMD
 * proposal is unavailable, {@link wasmKernels} returns null and callers run their TypeScript kernels.
 */
import { kernelsMemoryFlagsAt, kernelsWasmBase64 } from "./kernels-binary.js";

/** The part of the WebAssembly JS API used here (the ES2022 lib does not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
}

/** @internal A WebAssembly.Memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

/** @internal The exports of the kernels module (see `assembly/kernels.ts`). */
export interface KernelExports {
  workspaceBytes(): number;
  sgemm(
    a: number, ars: number, acs: number,
    b: number, brs: number, bcs: number,
    c: number, ldc: number,
    m: number, k: number, n: number,
    flags: number,
    work: number,
  ): void;
  [name: string]: unknown;
}

/** @internal The loaded module, its memory and the compiled module (which worker threads instantiate again). */
export interface WasmKernels {
  readonly exports: KernelExports;
  readonly memory: WasmMemory;
  readonly module: object;
  /** True when the memory is shared (worker threads possible). */
  readonly shared: boolean;
  /** Bytes of one thread's GEMM workspace (a multiple of 16). */
  readonly workBytes: number;
}

/** Bytes reserved at address 0 for the thread pool's control block. */
export const CONTROL_BYTES = 256;
const PAGE = 65536;
/** Maximum memory of both builds, in pages (1 GiB); must match `--maximumMemory` in the build script. */
const MAX_PAGES = 16384;

/** `(module (func (result v128) v128.const i32x4 0 0 0 0))`: validates only where SIMD128 is supported. */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code section: no locals, v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0x0b, // end
]);

/** undefined: not tried yet; null: unavailable. */
let loaded: WasmKernels | null | undefined;
let heapF32: Float32Array<ArrayBufferLike> = new Float32Array(0);
let heapF64: Float64Array<ArrayBufferLike> = new Float64Array(0);
let heapI32: Int32Array<ArrayBufferLike> = new Int32Array(0);
/**
 * Every `SharedArrayBuffer` the shared memory has handed out (one per growth): a typed array over one of them
 * is tensor storage inside the memory (`arena.ts`), and its `byteOffset` is its address.
 */
const sharedBuffers = new WeakSet<object>();
/** End of the tensor storage region (`arena.ts`): the operand region of a call starts at or after it. */
let storageEnd = 0;

/** @internal The kernels module, instantiated on first call; null where WebAssembly SIMD128 is missing. */
export function wasmKernels(): WasmKernels | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  try {
    const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
    if (api === undefined || !api.validate(SIMD_PROBE)) return null;
    let memory: WasmMemory | undefined;
    let shared = false;
    if (typeof SharedArrayBuffer === "function") {
      try {
        memory = new api.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
        shared = true;
      } catch {
        memory = undefined;
      }
    }
    memory ??= new api.Memory({ initial: 1, maximum: MAX_PAGES });
    const module = new api.Module(kernelsBytes(shared));
    const exports = new api.Instance(module, { env: { memory } }).exports as KernelExports;
    loaded = { exports, memory, module, shared, workBytes: align16(exports.workspaceBytes()) };
  } catch {
    loaded = null;
  }
  return loaded;
}

/** @internal Address of thread `t`'s GEMM workspace (thread 0 is the calling thread). */
export function workspaceAt(w: WasmKernels, t: number): number {
  return CONTROL_BYTES + t * w.workBytes;
}

/**
 * @internal Grows the memory to at least `bytes` and refreshes the views; false if it cannot grow (the
 * caller then falls back to TypeScript).
 */
export function reserve(w: WasmKernels, bytes: number): boolean {
  const have = w.memory.buffer.byteLength;
  if (have < bytes) {
    try {
      w.memory.grow(Math.ceil((bytes - have) / PAGE));
    } catch {
      return false;
    }
  }
  // A plain memory detaches its old buffer when it grows; a shared one hands out a longer one. Either way
  // the views are rebuilt when the length changed.
  if (heapF32.byteLength !== w.memory.buffer.byteLength || heapF32.buffer.byteLength === 0) {
    const buf = w.memory.buffer;
    heapF32 = new Float32Array(buf);
    heapF64 = new Float64Array(buf);
    heapI32 = new Int32Array(buf);
    if (w.shared) sharedBuffers.add(buf);
  }
  return true;
}

/**
 * @internal The address of `x`'s first element when `x` is a view into the kernels' shared memory (tensor
 * storage from `arena.ts`), else -1 (an ordinary array, to be copied in).
 */
export function addressOf(x: ArrayBufferView): number {
  return sharedBuffers.has(x.buffer) ? x.byteOffset : -1;
}

/** @internal End of the tensor storage region (0 when there is none): operand regions start at or after it. */
export function storageRegionEnd(): number {
  return storageEnd;
}

/** @internal Moves the end of the tensor storage region (it only grows). */
export function setStorageRegionEnd(end: number): void {
  storageEnd = Math.max(storageEnd, end);
}

/** @internal A float32 view of the whole memory (valid until the next {@link reserve}). */
export function heap32(): Float32Array<ArrayBufferLike> {
  return heapF32;
}

/** @internal A float64 view of the whole memory (valid until the next {@link reserve}). */
export function heap64(): Float64Array<ArrayBufferLike> {
  return heapF64;
}

/** @internal An int32 view of the whole memory (valid until the next {@link reserve}). */
export function heapInt32(): Int32Array<ArrayBufferLike> {
  return heapI32;
}

/** @internal Rounds a byte count up to a multiple of 16. */
export function align16(x: number): number {
  return Math.ceil(x / 16) * 16;
}

/** @internal The kernels module's bytes, importing a shared or a plain memory (one flag byte apart). */
export function kernelsBytes(shared: boolean): Uint8Array {
  const bytes = decodeBase64(kernelsWasmBase64);
  if (!shared) {
    if (bytes[kernelsMemoryFlagsAt] !== 0x03) throw new Error("internal: the kernels module's memory import is not where the build said");
    bytes[kernelsMemoryFlagsAt] = 0x01;
  }
  return bytes;
}

function decodeBase64(s: string): Uint8Array {
  const table = new Int8Array(128).fill(-1);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < 64; i++) table[alphabet.charCodeAt(i)] = i;
  let len = s.length;
  while (len > 0 && s[len - 1] === "=") len--;
  const out = new Uint8Array((len * 3) >> 2);
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < len; i++) {
    acc = (acc << 6) | table[s.charCodeAt(i)]!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}
