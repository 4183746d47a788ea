/**
 * The WebAssembly implicit-GEMM convolutions (`src/tensor/wasm/conv.ts`, `assembly/conv.ts`) against the
 * TypeScript kernels, forward and both backprops, over geometries that exercise every packing path: few
 * and ragged channel counts, strides, dilations, asymmetric and oversized padding, depths past one GEMM
 * block, output channels past one GEMM panel, and batches run in groups.
 *
 * With small integer inputs every product and partial sum is an exact float32, so the two kernels must
 * agree bit for bit whatever their summation orders: a wrong tap, a missed zero or a stray value shows as
 * an exact mismatch. Random inputs check the float32 rounding against the float64-accumulating kernel.
 */
import { afterEach, describe, expect, it } from "vitest";
import { abs, conv2d, conv2dBackpropFilter, conv2dBackpropInput, tensor, type Conv2DOptions, type Tensor } from "../../src/index.js";
import { setWasmGemmEnabled, wasmSimdSupported } from "../../src/tensor/wasm/gemm.js";
import { setConvGroupElements, setWasmConvEnabled, wasmConv2d, wasmConv2dBackpropFilter, wasmConv2dBackpropInput } from "../../src/tensor/wasm/conv.js";
import type { ConvGeometry } from "../../src/tensor/cpu/conv.js";
import { rng } from "../helpers/rows.js";

afterEach(() => {
  setWasmGemmEnabled(true);
  setWasmConvEnabled(true);
  setConvGroupElements(1 << 22);
});

/** A float32 tensor of integers in [-2, 2] (or of reals in [-1, 1) with `real`). */
function data(shape: number[], seed: number, real = false): Tensor {
  const r = rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: size }, () => (real ? r() * 2 - 1 : Math.floor(r() * 5) - 2));
  return tensor(values, { shape, dtype: "float32" });
}

interface Case {
  name: string;
  x: number[];
  w: number[];
  options: Conv2DOptions;
}

const cases: Case[] = [
  { name: "b3 14x14x32→64 3x3 same (the benchmark layer)", x: [3, 14, 14, 32], w: [3, 3, 32, 64], options: { padding: "same" } },
  { name: "b2 28x28x1→32 3x3 same (first layer)", x: [2, 28, 28, 1], w: [3, 3, 1, 32], options: { padding: "same" } },
  { name: "b2 17x15x3→16 5x3 strides [2,3], asymmetric padding", x: [2, 17, 15, 3], w: [5, 3, 3, 16], options: { strides: [2, 3], padding: [[2, 1], [0, 3]] } },
  { name: "b2 9x11x5→7 3x3 same (ragged channels both sides)", x: [2, 9, 11, 5], w: [3, 3, 5, 7], options: { padding: "same" } },
  { name: "b2 12x13x8→12 3x3 dilation 2 same", x: [2, 12, 13, 8], w: [3, 3, 8, 12], options: { dilations: 2, padding: "same" } },
  { name: "b2 11x10x6→5 3x2 dilations [2,3] strides 2 valid", x: [2, 11, 10, 6], w: [3, 2, 6, 5], options: { dilations: [2, 3], strides: [1, 2], padding: "valid" } },
  { name: "b2 8x8x64→16 3x3 same (depth 576: two GEMM blocks)", x: [2, 8, 8, 64], w: [3, 3, 64, 16], options: { padding: "same" } },
  { name: "b1 5x5x4→520 3x3 valid (output channels past one panel)", x: [1, 5, 5, 4], w: [3, 3, 4, 520], options: { padding: "valid" } },
  { name: "b4 15x15x16→8 3x3 stride 2 valid", x: [4, 15, 15, 16], w: [3, 3, 16, 8], options: { strides: 2 } },
  { name: "b2 6x7x4→9 3x3 padding 4 (windows of padding only)", x: [2, 6, 7, 4], w: [3, 3, 4, 9], options: { padding: 4 } },
  { name: "b2 9x9x64→400 3x3 stride 2 same (col2im: depth 400 and 576 columns, past one GEMM block each)", x: [2, 9, 9, 64], w: [3, 3, 64, 400], options: { strides: 2, padding: "same" } },
  { name: "b5 4x4x2→3 2x2 valid (tiny, few channels)", x: [5, 4, 4, 2], w: [2, 2, 2, 3], options: { padding: "valid" } },
];

/** Forward, input gradient and filter gradient of one case, with the wasm kernels on or off. */
function all(c: Case, x: Tensor, w: Tensor, dy: Tensor, wasm: boolean): Tensor[] {
  setWasmGemmEnabled(wasm);
  try {
    return [conv2d(x, w, c.options), conv2dBackpropInput(dy, w, c.x, c.options), conv2dBackpropFilter(x, dy, c.w, c.options)];
  } finally {
    setWasmGemmEnabled(true);
  }
}

function bits(t: Tensor): Uint32Array {
  return new Uint32Array(t.dataSync().buffer);
}

/** The first element where two tensors' bits differ, or "none". */
function firstDifference(a: Tensor, b: Tensor): string {
  const x = bits(a), y = bits(b);
  if (x.length !== y.length) return `length ${x.length} against ${y.length}`;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `element ${i}: ${a.dataSync()[i]} against ${b.dataSync()[i]}`;
  return "none";
}

describe.skipIf(!wasmSimdSupported())("wasm convolutions", () => {
  for (const c of cases) {
    it(`${c.name}: forward and both backprops equal the TypeScript kernels on exact data`, () => {
      const x = data(c.x, 1), w = data(c.w, 2);
      const dy = data([...conv2d(x, w, c.options).shape], 3);
      const got = all(c, x, w, dy, true);
      const want = all(c, x, w, dy, false);
      const names = ["forward", "input gradient", "filter gradient"];
      for (let i = 0; i < 3; i++) expect(`${names[i]}: ${firstDifference(got[i]!, want[i]!)}`).toBe(`${names[i]}: none`);
      // Not all zeros: the data reach every output.
      expect(got[2]!.abs().sum().item()).toBeGreaterThan(0);
    });
  }

  it("takes float32 convolutions and leaves float64 ones to the TypeScript kernels", () => {
    // b2 6x6x4→8 3x3 same, and its stride-2 variant.
    const g: ConvGeometry = { n: 2, h: 6, w: 6, cin: 4, oh: 6, ow: 6, cout: 8, fh: 3, fw: 3, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 1, padLeft: 1 };
    const strided: ConvGeometry = { ...g, oh: 3, ow: 3, strideH: 2, strideW: 2, padTop: 0, padLeft: 0 };
    const x = new Float32Array(2 * 6 * 6 * 4).fill(1), f = new Float32Array(3 * 3 * 4 * 8).fill(1);
    const y = new Float32Array(2 * 6 * 6 * 8), dw = new Float32Array(f.length), dx = new Float32Array(x.length);
    expect(wasmConv2d(x, f, y, g)).toBe(true);
    // A corner output sees 2×2 taps of 4 channels of ones; an inner one 3×3.
    expect([y[0], y[(6 + 1) * 8]]).toEqual([16, 36]);
    expect(wasmConv2dBackpropFilter(x, y, dw, g)).toBe(true);
    expect(wasmConv2dBackpropInput(y, f, dx, g)).toBe(true);
    // An inner input cell is covered by 3×3 windows, each adding Σ over 8 output channels of 16 or 36.
    expect(dx[(6 + 1) * 4]).toBeGreaterThan(0);
    // The col2im path: strided, and with fewer than 4 input channels.
    expect(wasmConv2dBackpropInput(new Float32Array(2 * 3 * 3 * 8).fill(1), f, dx, strided)).toBe(true);
    expect(wasmConv2dBackpropInput(y, new Float32Array(3 * 3 * 2 * 8), new Float32Array(2 * 6 * 6 * 2), { ...g, cin: 2 })).toBe(true);
    // Float64, and the input gradient with one input channel, stay in TypeScript.
    expect(wasmConv2dBackpropInput(y, new Float32Array(3 * 3 * 1 * 8), new Float32Array(2 * 6 * 6), { ...g, cin: 1 })).toBe(false);
    expect(wasmConv2d(new Float64Array(x), f, y, g)).toBe(false);
    expect(wasmConv2dBackpropInput(new Float64Array(y), f, dx, g)).toBe(false);
    setWasmConvEnabled(false);
    expect(wasmConv2d(x, f, y, g)).toBe(false);
    setWasmConvEnabled(true);
    setWasmGemmEnabled(false);
    expect(wasmConv2d(x, f, y, g)).toBe(false);
  });

  it("runs a batch in groups of images with the same results", () => {
    const c = cases[0]!;
    const x = data(c.x, 4), w = data(c.w, 5);
    const dy = data([...conv2d(x, w, c.options).shape], 6);
    const whole = all(c, x, w, dy, true);
    // One image of input and output per group: three passes, the filter gradient added across them.
    setConvGroupElements(14 * 14 * (32 + 64));
    const grouped = all(c, x, w, dy, true);
    for (let i = 0; i < 3; i++) expect(firstDifference(grouped[i]!, whole[i]!)).toBe("none");
    setConvGroupElements(1);
    const single = all(c, x, w, dy, true);
    for (let i = 0; i < 3; i++) expect(firstDifference(single[i]!, whole[i]!)).toBe("none");
  });

  it("agrees with the float64-accumulating kernel to float32 precision on random data", () => {
    for (const c of cases) {
      const x = data(c.x, 7, true), w = data(c.w, 8, true);
      const dy = data([...conv2d(x, w, c.options).shape], 9, true);
      const got = all(c, x, w, dy, true);
      const want = all(c, x, w, dy, false);
      // Σ|terms| of each output element: the same op on absolute values.
      const scale = all(c, abs(x), abs(w), abs(dy), false);
      const depth = [c.w[0]! * c.w[1]! * c.w[2]!, c.w[0]! * c.w[1]! * c.w[3]!, c.x[0]! * dy.shape[1]! * dy.shape[2]!];
      for (let i = 0; i < 3; i++) {
        const g = got[i]!.dataSync(), r = want[i]!.dataSync(), s = scale[i]!.dataSync();
        const tol = 2 * (depth[i]! + 2) * 2 ** -24;
        for (let q = 0; q < g.length; q++) {
          if (!(Math.abs(g[q]! - r[q]!) <= tol * s[q]! + 1e-30)) {
            throw new Error(`${c.name}, result ${i}, element ${q}: ${g[q]} against ${r[q]} (scale ${s[q]})`);
          }
        }
      }
    }
  });
});
