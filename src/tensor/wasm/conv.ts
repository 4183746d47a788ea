/**
 * @internal The WebAssembly SIMD128 float32 2-D convolutions: drop-ins for the forward pass and both
 * backward passes of the TypeScript kernels in `cpu/conv.ts`.
 *
 * The kernels (`assembly/conv.ts`) are implicit GEMMs: the products of the im2col formulation run on the
 * blocked GEMM of `assembly/gemm.ts`, but the patch matrix is never written out. Its GEMM panels are packed
 * straight from the input, inside the kernel, through the geometry (padding, stride, dilation). So the input
 * is copied into the kernels' memory once (not expanded ninefold in a JavaScript array and copied again),
 * and the packing runs on every thread with the products.
 * - forward: `y = patches · W`, split across threads by blocks of output pixels;
 * - filter gradient: `dW = patchesᵀ · dy`, split by blocks of filter rows (or of output channels when
 *   there are more of those), each thread summing over every pixel;
 * - input gradient with stride 1 and at least 4 input channels: a forward convolution of `dy` by the
 *   filter flipped in both spatial axes with its channel axes swapped, over the "full" padding (see
 *   `backpropInputAsConv` in `cpu/conv.ts`); otherwise, from 2 input channels on, `dcols = dy · Wᵀ` one
 *   block of an image's pixels at a time into per-thread scratch, added onto the image (col2im), split
 *   across threads by images (with one input channel the TypeScript kernel's col2im stays faster).
 * Each output element sums its products in an order fixed by the shapes alone, so results are bit-identical
 * at any thread count; they agree with the TypeScript kernels (which accumulate in float64) to float32
 * precision. Batches too large for one pass run in groups of whole images (the filter gradient adds the
 * groups in order).
 */
import type { TypedArray } from "../dtype.js";
import type { ConvGeometry } from "../cpu/conv.js";
import { flipFilter, transposedGeometry } from "../cpu/transposed-conv.js";
import { align16, heap32, heapInt32, reserve, wasmKernels } from "./module.js";
import { wasmGemmAvailable } from "./gemm.js";
import { operandBase, parallelFor, plannedThreads, type ParallelOp } from "./threads.js";

/** Elements of input plus output staged in the kernels' memory at once: batches beyond run in groups. */
let groupElements = 1 << 22;
/** From this many multiply-adds on, a convolution is split across threads (as the GEMM's threshold). */
const PARALLEL_MIN = 1 << 20;
/** Register tile of the GEMM: thread blocks are cut at its multiples. */
const MR = 4;
const NR = 8;
/** Columns of B the GEMM packs at once. */
const NC = 512;
/** Smallest block of output pixels given to one thread. */
const MIN_BLOCK = 32;
/** `flags` bits of conv2dFilterPart. */
const ACCUMULATE = 1;
const BY_COLUMNS = 8;
/** Bytes of the geometry block (15 int32 slots, rounded up). */
const GEOMETRY_BYTES = 64;

/**
 * @internal Sets how many input and output elements one pass stages (tests shrink it to exercise the batch
 * groups). Returns the previous setting.
 */
export function setConvGroupElements(elements: number): number {
  const was = groupElements;
  groupElements = elements;
  return was;
}

let enabled = true;

/**
 * @internal Turns these kernels on or off; off, convolutions run as the TypeScript im2col and the wasm GEMM
 * (tests and benchmarks compare the two). `setWasmGemmEnabled(false)` turns both off. Returns the previous
 * setting.
 */
export function setWasmConvEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** True when the three arrays are float32 and the wasm kernels are enabled (see `setWasmGemmEnabled`). */
function usable(a: TypedArray, b: TypedArray, c: TypedArray): a is Float32Array {
  return enabled && a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array && wasmGemmAvailable();
}

/** Whole images per pass: at least one, and as many as fit in `groupElements`. */
function imagesPerGroup(n: number, perImage: number): number {
  return Math.max(1, Math.min(n, Math.floor(groupElements / Math.max(1, perImage))));
}

/**
 * Copies `length` elements of `src` from `start` into the kernels' memory at byte address `at`. Every operand
 * enters the memory through here, so a tensor already stored there could skip the copy.
 */
function stage(src: TypedArray, start: number, length: number, at: number): void {
  heap32().set(src.subarray(start, start + length), at >> 2);
}

/** Copies `length` elements from the kernels' memory at byte address `at` into `dst` from `start` (every result leaves through here). */
function unstage(dst: TypedArray, start: number, length: number, at: number): void {
  dst.set(heap32().subarray(at >> 2, (at >> 2) + length), start);
}

/** Writes the geometry block at `at`, with `n` images (a group's). */
function writeGeometry(at: number, g: ConvGeometry, n: number): void {
  heapInt32().set(
    [n, g.h, g.w, g.cin, g.oh, g.ow, g.cout, g.fh, g.fw, g.strideH, g.strideW, g.dilationH, g.dilationW, g.padTop, g.padLeft],
    at >> 2,
  );
}

/**
 * Runs `op` over `[0, extent)` in blocks of whole tiles, at least `minBlock` long: one call when small or
 * on one thread.
 */
function run(op: ParallelOp, extent: number, tile: number, minBlock: number, blocksPerThread: number, work: number, args: readonly number[]): void {
  const threads = plannedThreads();
  if (threads <= 1 || work < PARALLEL_MIN || extent <= tile) {
    parallelFor(op, extent, extent, args);
    return;
  }
  const step = Math.max(Math.min(minBlock, extent), Math.ceil(extent / (blocksPerThread * threads) / tile) * tile);
  parallelFor(op, extent, step, args);
}

/**
 * The operand region of a forward or filter-gradient call, reserved, its zeros written:
 * [geometry | zeros | the filter (or dW) | a group of input images | the same group of output images].
 * Null when the memory cannot grow.
 */
function regions(g: ConvGeometry): { xImage: number; yImage: number; group: number; geoAt: number; zeroAt: number; filterAt: number; xAt: number; yAt: number } | null {
  const { n, h, w, cin, oh, ow, cout, fh, fw } = g;
  const k = wasmKernels()!;
  const xImage = h * w * cin;
  const yImage = oh * ow * cout;
  const group = imagesPerGroup(n, xImage + yImage);
  const geoAt = operandBase(k);
  const zeroAt = geoAt + GEOMETRY_BYTES;
  const filterAt = zeroAt + align16(Math.max(cin, MR) * 4);
  const xAt = filterAt + align16(fh * fw * cin * cout * 4);
  const yAt = xAt + align16(group * xImage * 4);
  if (!reserve(k, yAt + group * yImage * 4)) return null;
  heap32().fill(0, zeroAt >> 2, filterAt >> 2);
  return { xImage, yImage, group, geoAt, zeroAt, filterAt, xAt, yAt };
}

/**
 * @internal `out[n, oh, ow, cout]` = the convolution of `x[n, h, w, cin]` by `filter[fh, fw, cin, cout]`
 * on the wasm kernel. Returns false, having written nothing, when the arrays are not all float32, the wasm
 * kernels are off or missing, or the memory cannot grow: the caller then runs the TypeScript kernel.
 */
export function wasmConv2d(x: TypedArray, filter: TypedArray, out: TypedArray, g: ConvGeometry): boolean {
  if (!usable(x, filter, out)) return false;
  const { n, cin, oh, ow, cout, fh, fw } = g;
  const kk = fh * fw * cin;
  if (kk === 0 || n * oh * ow === 0 || cout === 0) return false;
  const r = regions(g);
  if (r === null) return false;
  const { xImage, yImage, group, geoAt, zeroAt, filterAt, xAt, yAt } = r;
  stage(filter, 0, kk * cout, filterAt);
  for (let b0 = 0; b0 < n; b0 += group) {
    const nb = Math.min(group, n - b0);
    writeGeometry(geoAt, g, nb);
    stage(x, b0 * xImage, nb * xImage, xAt);
    const rows = nb * oh * ow;
    run("conv2dPart", rows, MR, MIN_BLOCK, 2, rows * kk * cout, [geoAt, xAt, filterAt, yAt, zeroAt]);
    unstage(out, b0 * yImage, rows * cout, yAt);
  }
  return true;
}

/**
 * @internal `dw[fh, fw, cin, cout]` = the filter gradient of the convolution, from `x[n, h, w, cin]` and
 * `dy[n, oh, ow, cout]`, on the wasm kernel. Returns false, having written nothing, as {@link wasmConv2d}.
 */
export function wasmConv2dBackpropFilter(x: TypedArray, dy: TypedArray, dw: TypedArray, g: ConvGeometry): boolean {
  if (!usable(x, dy, dw)) return false;
  const { n, cin, oh, ow, cout, fh, fw } = g;
  const kk = fh * fw * cin;
  if (kk === 0 || n * oh * ow === 0 || cout === 0) return false;
  const r = regions(g);
  if (r === null) return false;
  const { xImage, yImage, group, geoAt, zeroAt, filterAt: dwAt, xAt, yAt: dyAt } = r;
  // Each block packs all of dy (and the patches) again, so each thread gets one block, of at least 32 rows
  // or columns (narrower blocks lost: the first layer's 32 output channels in two blocks of 16 took
  // 1.6 ms at 2 threads against 1.2 ms in one block, loaded machine); the split follows the longer side of dW.
  const byColumns = cout > kk;
  for (let b0 = 0; b0 < n; b0 += group) {
    const nb = Math.min(group, n - b0);
    writeGeometry(geoAt, g, nb);
    stage(x, b0 * xImage, nb * xImage, xAt);
    stage(dy, b0 * yImage, nb * yImage, dyAt);
    const flags = (b0 > 0 ? ACCUMULATE : 0) | (byColumns ? BY_COLUMNS : 0);
    run("conv2dFilterPart", byColumns ? cout : kk, byColumns ? NR : MR, MIN_BLOCK, 1, nb * oh * ow * kk * cout, [geoAt, xAt, dyAt, dwAt, zeroAt, flags]);
  }
  unstage(dw, 0, kk * cout, dwAt);
  return true;
}

/** From this many input channels on, a stride-1 input gradient runs as a wasm forward convolution. */
const AS_CONV_MIN_CHANNELS = 4;

/**
 * @internal `dx[n, h, w, cin]` = the input gradient of the convolution, from `dy[n, oh, ow, cout]` and the
 * filter, on the wasm kernels: with stride 1 and at least {@link AS_CONV_MIN_CHANNELS} input channels as a
 * forward convolution of `dy` by the flipped filter (fewer channels would leave most of the GEMM's
 * 8-column tile empty), otherwise, from 2 input channels on, as `dcols = dy · Wᵀ` and col2im, split across
 * threads by images. Returns false, having written nothing, for one input channel and as {@link wasmConv2d}.
 */
export function wasmConv2dBackpropInput(dy: TypedArray, filter: TypedArray, dx: TypedArray, g: ConvGeometry): boolean {
  if (!usable(dy, filter, dx)) return false;
  if (g.strideH === 1 && g.strideW === 1 && g.cin >= AS_CONV_MIN_CHANNELS) {
    const flipped = new Float32Array(filter.length);
    flipFilter(filter, g, flipped);
    return wasmConv2d(dy, flipped, dx, transposedGeometry(g));
  }
  // One input channel (a first layer): the product's 9-column output fills an 8-column tile and a ninth
  // column, and col2im adds one value per tap; the TypeScript kernel's column-major col2im was faster.
  if (g.cin < 2) return false;
  return col2imBackpropInput(dy, filter, dx, g);
}

/** {@link wasmConv2dBackpropInput} as `dcols = dy · Wᵀ` and col2im (any stride, any channel count). */
function col2imBackpropInput(dy: Float32Array, filter: TypedArray, dx: TypedArray, g: ConvGeometry): boolean {
  const { n, h, w, cin, oh, ow, cout, fh, fw } = g;
  const kk = fh * fw * cin;
  if (kk === 0 || cout === 0 || n * h * w === 0 || oh * ow === 0) return false;
  const k = wasmKernels()!;
  const xImage = h * w * cin;
  const yImage = oh * ow * cout;
  const group = imagesPerGroup(n, xImage + yImage);
  // Operand region: [geometry | filter | filter panels | dy group | dx group]. The panels hold Wᵀ padded to
  // whole 8-column panels in every block of at most 512 columns.
  const panelColumns = kk + NR * Math.ceil(kk / NC);
  const geoAt = operandBase(k);
  const filterAt = geoAt + GEOMETRY_BYTES;
  const panelsAt = filterAt + align16(kk * cout * 4);
  const dyAt = panelsAt + align16(panelColumns * cout * 4);
  const dxAt = dyAt + align16(group * yImage * 4);
  if (!reserve(k, dxAt + group * xImage * 4)) return false;
  stage(filter, 0, kk * cout, filterAt);
  (k.exports.packFilterPanels as (f: number, kk: number, cout: number, dst: number) => number)(filterAt, kk, cout, panelsAt);
  for (let b0 = 0; b0 < n; b0 += group) {
    const nb = Math.min(group, n - b0);
    writeGeometry(geoAt, g, nb);
    stage(dy, b0 * yImage, nb * yImage, dyAt);
    run("conv2dInputPart", nb, 1, 1, 2, nb * oh * ow * kk * cout, [geoAt, dyAt, panelsAt, dxAt]);
    unstage(dx, b0 * xImage, nb * xImage, dxAt);
  }
  return true;
}
