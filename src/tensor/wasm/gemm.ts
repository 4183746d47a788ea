/**
 * @internal The WebAssembly SIMD128 float32 GEMM: a drop-in for the TypeScript {@link gemm} of
 * `src/tensor/cpu/linalg.ts` when the product is float32.
 *
 * The kernel (AssemblyScript source in `assembly/gemm.ts`, compiled by `scripts/build-wasm.mjs` into the
 * generated `gemm-binary.ts`) is a Goto-style blocked GEMM with a 4×8 f32x4 register tile: SIMD128 has
 * no FMA, so each step is a broadcast of one A element times two vectors of B, then an add. It
 * accumulates in float32 (the TypeScript kernel accumulates in float64), so results agree with it to
 * float32 precision, not bit for bit.
 *
 * This module owns the instance's linear memory: `[workspace | B | A | C]`, grown on demand and never
 * shrunk. Operands are copied in as they are (float32, or float64 for the im2col buffers of the
 * convolution kernels, which the kernel narrows while packing), keeping their transposed layout; the
 * kernel packs them into panels itself, and C (float32) is copied back out. Very large operands are
 * processed in chunks so that each copy stays below {@link CHUNK} elements.
 *
 * The module is instantiated synchronously on first use (it is a couple of kilobytes). When WebAssembly or
 * its SIMD proposal is unavailable, {@link wasmGemm} returns false and the caller runs the TypeScript kernel.
 */
import type { TypedArray } from "../dtype.js";
import { gemmWasmBase64 } from "./gemm-binary.js";

/** The part of the WebAssembly JS API used here (the ES2022 lib does not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface GemmExports {
  memory: WasmMemory;
  workspaceBytes(): number;
  sgemm(
    a: number, ars: number, acs: number,
    b: number, brs: number, bcs: number,
    c: number, ldc: number,
    m: number, k: number, n: number,
    flags: number,
    work: number,
  ): void;
}

/** Largest operand chunk copied into wasm memory at once, in elements (16 MiB of float32). */
const CHUNK = 1 << 22;
/** `flags` bits of the kernel's sgemm. */
const ACCUMULATE = 1;
const A_F64 = 2;
const B_F64 = 4;
/** Register tile of the kernel: chunks are cut at multiples of it. */
const MR = 4;
const NR = 8;
const PAGE = 65536;

/** `(module (func (result v128) v128.const i32x4 0 0 0 0))`: validates only where SIMD128 is supported. */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code section: no locals, v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0x0b, // end
]);

let enabled = true;
/** undefined: not tried yet; null: unavailable. */
let kernel: GemmExports | null | undefined;
let heap32 = new Float32Array(0);
let heap64 = new Float64Array(0);
/** Bytes of the kernel's workspace at address 0 (rounded up to 16). */
let workBytes = 0;

/**
 * @internal Turns the wasm path on or off (tests use it to exercise the TypeScript fallback). Returns the
 * previous setting.
 */
export function setWasmGemmEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** @internal True when the wasm kernel is enabled and this runtime supports WebAssembly SIMD128. */
export function wasmGemmAvailable(): boolean {
  return enabled && load() !== null;
}

/** @internal True when this runtime can run the wasm kernel at all (regardless of the enabled flag). */
export function wasmSimdSupported(): boolean {
  return load() !== null;
}

function load(): GemmExports | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  try {
    const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
    if (api === undefined || !api.validate(SIMD_PROBE)) return null;
    const bytes = decodeBase64(gemmWasmBase64);
    const instance = new api.Instance(new api.Module(bytes), {});
    const exports = instance.exports as GemmExports;
    workBytes = align16(exports.workspaceBytes());
    kernel = exports;
  } catch {
    kernel = null;
  }
  return kernel;
}

/**
 * @internal `C[i, j] (+)= Σ_p A[i, p] · B[p, j]` in float32 on the wasm kernel, with exactly the
 * operand contract of the TypeScript `gemm` (`A[i, p] = a[aOff + i*ars + p*acs]`,
 * `B[p, j] = b[bOff + p*brs + j*bcs]`, `C[i, j] = c[cOff + i*n + j]`; overwrite unless `accumulate`).
 * Requires `m, k, n > 0`. Returns false, having touched nothing, when the wasm kernel is disabled or
 * unavailable (or its memory cannot grow): the caller then runs the TypeScript kernel.
 */
export function wasmGemm(
  a: TypedArray,
  aOff: number,
  ars: number,
  acs: number,
  b: TypedArray,
  bOff: number,
  brs: number,
  bcs: number,
  c: TypedArray,
  cOff: number,
  m: number,
  k: number,
  n: number,
  accumulate: boolean,
): boolean {
  if (!enabled) return false;
  const w = load();
  if (w === null) return false;

  // Chunk sizes: whole operands unless one would exceed CHUNK elements.
  const nb = k * n <= CHUNK ? n : Math.max(NR, Math.floor(CHUNK / k / NR) * NR);
  const nMax = Math.min(nb, n);
  const mb = m * Math.max(k, nMax) <= CHUNK ? m : Math.max(MR, Math.floor(CHUNK / Math.max(k, nMax) / MR) * MR);
  const mMax = Math.min(mb, m);
  // Float64 operands (the convolutions' im2col buffers) are copied as they are and narrowed by the kernel
  // while packing: a Float64Array → Float32Array `set` costs about 1 ns per element, a plain copy far less.
  const aSize = a instanceof Float64Array ? 8 : 4;
  const bSize = b instanceof Float64Array ? 8 : 4;
  // Layout in bytes: [workspace | B chunk | A chunk | C chunk (f32)], each 16-byte aligned.
  const bAt = workBytes;
  const aAt = bAt + align16(k * nMax * bSize);
  const cAt = aAt + align16(mMax * k * aSize);
  if (!reserve(w, cAt + mMax * nMax * 4)) return false;
  const flags = (accumulate ? ACCUMULATE : 0) | (aSize === 8 ? A_F64 : 0) | (bSize === 8 ? B_F64 : 0);
  const cIdx = cAt >> 2;

  for (let j0 = 0; j0 < n; j0 += nb) {
    const nj = Math.min(nb, n - j0);
    const [bRs, bCs] = copyIn(view(bSize), bAt / bSize, b, bOff + j0 * bcs, brs, bcs, k, nj);
    for (let i0 = 0; i0 < m; i0 += mb) {
      const mi = Math.min(mb, m - i0);
      const [aRs, aCs] = copyIn(view(aSize), aAt / aSize, a, aOff + i0 * ars, ars, acs, mi, k);
      const cStart = cOff + i0 * n + j0;
      if (accumulate) copyIn(heap32, cIdx, c, cStart, n, 1, mi, nj);
      w.sgemm(aAt, aRs, aCs, bAt, bRs, bCs, cAt, nj, mi, k, nj, flags, 0);
      if (nj === n) {
        c.set(heap32.subarray(cIdx, cIdx + mi * n), cStart);
      } else {
        for (let i = 0; i < mi; i++) c.set(heap32.subarray(cIdx + i * nj, cIdx + (i + 1) * nj), cStart + i * n);
      }
    }
  }
  return true;
}

/** The view of wasm memory matching an operand's element size. */
function view(size: number): Float32Array | Float64Array {
  return size === 8 ? heap64 : heap32;
}

/**
 * Copies the `rows × cols` strided matrix `src[off + i*rs + j*cs]` to `dst` at `at`, contiguous, keeping a
 * column-major layout when the source has one (so transposed operands stay cheap to copy). Returns the
 * element strides `[rowStride, colStride]` of the copy.
 */
function copyIn(
  dst: Float32Array | Float64Array,
  at: number,
  src: TypedArray,
  off: number,
  rs: number,
  cs: number,
  rows: number,
  cols: number,
): [number, number] {
  if (cs === 1 && (rs === cols || rows === 1)) {
    dst.set(src.subarray(off, off + rows * cols), at);
    return [cols, 1];
  }
  if (rs === 1 && (cs === rows || cols === 1)) {
    dst.set(src.subarray(off, off + rows * cols), at);
    return [1, rows];
  }
  if (cs === 1) {
    for (let i = 0; i < rows; i++) dst.set(src.subarray(off + i * rs, off + i * rs + cols), at + i * cols);
    return [cols, 1];
  }
  if (rs === 1) {
    for (let j = 0; j < cols; j++) dst.set(src.subarray(off + j * cs, off + j * cs + rows), at + j * rows);
    return [1, rows];
  }
  let q = at;
  for (let i = 0; i < rows; i++) {
    let s = off + i * rs;
    for (let j = 0; j < cols; j++, s += cs) dst[q++] = src[s]!;
  }
  return [cols, 1];
}

/** Grows the wasm memory to at least `bytes` and refreshes the view; false if it cannot grow. */
function reserve(w: GemmExports, bytes: number): boolean {
  const have = w.memory.buffer.byteLength;
  if (have < bytes) {
    try {
      w.memory.grow(Math.ceil((bytes - have) / PAGE));
    } catch {
      return false;
    }
  }
  if (heap32.buffer !== w.memory.buffer) {
    heap32 = new Float32Array(w.memory.buffer);
    heap64 = new Float64Array(w.memory.buffer);
  }
  return true;
}

/** Rounds a byte count up to a multiple of 16. */
function align16(x: number): number {
  return Math.ceil(x / 16) * 16;
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
