import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput, matmul, tensor, type Tensor } from "../../src/index.js";
import { cpuLinalg, gemm } from "../../src/tensor/cpu/linalg.js";
import { setWasmGemmEnabled, wasmGemm, wasmGemmAvailable, wasmSimdSupported } from "../../src/tensor/wasm/gemm.js";
import { kernelsBytes } from "../../src/tensor/wasm/module.js";
import { rng } from "../helpers/rows.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

afterEach(() => {
  setWasmGemmEnabled(true);
});

/** A strided matrix view over a flat array with some padding around it (so offsets are exercised). */
interface Operand {
  data: Float32Array | Float64Array;
  off: number;
  rs: number;
  cs: number;
}

type Layout = "row" | "col" | "padded" | "colpadded" | "strided";

/**
 * A `rows × cols` operand filled with reals in [-1, 1) (rounded to float32), laid out row-major,
 * column-major (a transposed operand), with a loose leading stride (a sub-matrix of either), or with no
 * unit stride at all.
 */
function operand(rows: number, cols: number, layout: Layout, seed: number, f64 = false): Operand {
  const r = rng(seed);
  const pad = 3;
  let rs: number, cs: number, size: number;
  if (layout === "row") [rs, cs, size] = [cols, 1, rows * cols];
  else if (layout === "col") [rs, cs, size] = [1, rows, rows * cols];
  else if (layout === "padded") [rs, cs, size] = [cols + 5, 1, rows * (cols + 5)];
  else if (layout === "colpadded") [rs, cs, size] = [1, rows + 3, (rows + 3) * cols];
  else [rs, cs, size] = [2 * cols + 1, 2, rows * (2 * cols + 1)];
  const data = f64 ? new Float64Array(size + 2 * pad) : new Float32Array(size + 2 * pad);
  for (let i = 0; i < data.length; i++) data[i] = Math.fround(r() * 2 - 1);
  return { data, off: pad, rs, cs };
}

/** The plain triple loop in float64, plus Σ|a||b| per element (the scale of float32 rounding error). */
function reference(A: Operand, B: Operand, m: number, k: number, n: number): { value: Float64Array; scale: Float64Array } {
  const value = new Float64Array(m * n), scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, t = 0;
      for (let p = 0; p < k; p++) {
        const x = A.data[A.off + i * A.rs + p * A.cs]! * B.data[B.off + p * B.rs + j * B.cs]!;
        s += x;
        t += Math.abs(x);
      }
      value[i * n + j] = s;
      scale[i * n + j] = t;
    }
  }
  return { value, scale };
}

const SENTINEL = 12345;

/**
 * Checks `c` (with its result at `cOff`) against the reference plus `c0` when accumulating: float32
 * accumulation over k terms errs by at most about k·2⁻²⁴·Σ|a||b| (plus the final roundings); the
 * padding around C must be untouched.
 */
function expectProduct(c: Float32Array | Float64Array, cOff: number, ref: { value: Float64Array; scale: Float64Array }, k: number, c0?: Float32Array | Float64Array): void {
  const u = 2 ** -24;
  for (let i = 0; i < cOff; i++) expect(c[i]).toBe(SENTINEL);
  for (let i = cOff + ref.value.length; i < c.length; i++) expect(c[i]).toBe(SENTINEL);
  for (let q = 0; q < ref.value.length; q++) {
    const base = c0 === undefined ? 0 : c0[cOff + q]!;
    const want = base + ref.value[q]!;
    const tol = 2 * (k + 2) * u * (ref.scale[q]! + Math.abs(base)) + 1e-30;
    const got = c[cOff + q]!;
    if (!(Math.abs(got - want) <= tol)) {
      throw new Error(`C[${q}] = ${got}, expected ${want} ± ${tol}`);
    }
  }
}

function output(m: number, n: number, cOff: number, f64 = false, seed?: number): Float32Array | Float64Array {
  const c = f64 ? new Float64Array(m * n + 2 * cOff) : new Float32Array(m * n + 2 * cOff);
  c.fill(SENTINEL);
  if (seed !== undefined) {
    const r = rng(seed);
    for (let q = 0; q < m * n; q++) c[cOff + q] = Math.fround(r() * 2 - 1);
  }
  return c;
}

// [m, k, n]: tiny, degenerate, odd, every ragged edge of the 4×8 tile, across the KC/MC/NC blocks, large k.
const shapes: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 1],
  [2, 3, 5],
  [4, 8, 4],
  [3, 5, 9],
  [5, 9, 17],
  [7, 13, 11],
  [16, 16, 16],
  [17, 33, 19],
  [1, 300, 40],
  [40, 300, 1],
  [33, 257, 65],
  [131, 20, 9],
  [6, 10, 521],
  [64, 64, 64],
  [13, 1500, 7],
];

describe("wasm float32 GEMM", () => {
  it("is available on this runtime (Node 20 has WebAssembly SIMD128)", () => {
    expect(wasmSimdSupported()).toBe(true);
    expect(wasmGemmAvailable()).toBe(true);
  });

  for (const [m, k, n] of shapes) {
    for (const [la, lb] of [["row", "row"], ["col", "row"], ["row", "col"], ["col", "col"]] as const) {
      it(`${m}x${k}x${n}, A ${la}-major, B ${lb}-major: wasm, TS kernel and the triple loop agree`, () => {
        const A = operand(m, k, la, m * 1000 + k), B = operand(k, n, lb, n * 1000 + k + 1);
        const ref = reference(A, B, m, k, n);
        const cOff = 2;
        const cw = output(m, n, cOff);
        expect(wasmGemm(A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, cw, cOff, m, k, n, false)).toBe(true);
        expectProduct(cw, cOff, ref, k);
        const cd = output(m, n, cOff);
        gemm(A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, cd, cOff, m, k, n, false);
        expectProduct(cd, cOff, ref, k);
        setWasmGemmEnabled(false);
        const ct = output(m, n, cOff);
        gemm(A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, ct, cOff, m, k, n, false);
        expectProduct(ct, cOff, ref, k);
      });
    }
  }

  it("handles zero extents like the TS kernel", () => {
    for (const [m, k, n] of [[0, 5, 3], [3, 0, 4], [4, 5, 0]] as const) {
      const A = operand(m, k, "row", 1), B = operand(k, n, "row", 2);
      const c = output(m, n, 2, false, 3);
      const before = c.slice();
      gemm(A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, c, 2, m, k, n, true);
      expect(c).toEqual(before);
      gemm(A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, c, 2, m, k, n, false);
      if (k === 0) for (let q = 0; q < m * n; q++) expect(c[2 + q]).toBe(0);
      else expect(c).toEqual(before);
    }
  });

  it("accumulates into C when asked", () => {
    for (const [m, k, n] of [[9, 300, 13], [33, 17, 70], [4, 600, 8]] as const) {
      for (const [la, lb] of [["row", "row"], ["col", "col"]] as const) {
        const A = operand(m, k, la, 5), B = operand(k, n, lb, 6);
        const ref = reference(A, B, m, k, n);
        const c = output(m, n, 1, false, 7);
        const c0 = c.slice();
        expect(wasmGemm(A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, c, 1, m, k, n, true)).toBe(true);
        expectProduct(c, 1, ref, k, c0);
      }
    }
  });

  it("reads operands with loose and non-unit strides", () => {
    const [m, k, n] = [19, 70, 23];
    for (const la of ["padded", "colpadded", "strided", "col"] as const) {
      for (const lb of ["padded", "colpadded", "strided", "row"] as const) {
        const A = operand(m, k, la, 8), B = operand(k, n, lb, 9);
        const c = output(m, n, 4);
        expect(wasmGemm(A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, c, 4, m, k, n, false)).toBe(true);
        expectProduct(c, 4, reference(A, B, m, k, n), k);
      }
    }
    // A zero row stride (a broadcast row) is a valid operand too.
    const A = operand(1, 40, "row", 10), B = operand(40, 12, "row", 11);
    const c = output(5, 12, 0);
    wasmGemm(A.data, A.off, 0, 1, B.data, B.off, B.rs, B.cs, c, 0, 5, 40, 12, false);
    const one = reference(A, B, 1, 40, 12);
    expectProduct(c, 0, { value: new Float64Array(5 * 12).map((_, q) => one.value[q % 12]!), scale: new Float64Array(5 * 12).map((_, q) => one.scale[q % 12]!) }, 40);
  });

  it("mixes float64 operands and output in (the im2col buffers of the convolutions)", () => {
    const [m, k, n] = [37, 45, 29];
    const kinds = [[true, false, false], [false, true, false], [false, false, true], [true, true, true]] as const;
    const layouts = [["row", "row"], ["col", "col"], ["strided", "colpadded"], ["colpadded", "strided"]] as const;
    for (const f64 of kinds) {
      for (const [la, lb] of layouts) {
        const A = operand(m, k, la, 12, f64[0]), B = operand(k, n, lb, 13, f64[1]);
        const c = output(m, n, 3, f64[2], 14);
        const c0 = c.slice();
        expect(wasmGemm(A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, c, 3, m, k, n, true)).toBe(true);
        expectProduct(c, 3, reference(A, B, m, k, n), k, c0);
      }
    }
  });

  it("splits operands larger than its copy chunk", () => {
    // k·n above 2^22 floats splits B by columns; m·k above it splits A by rows.
    for (const [m, k, n, la, lb] of [[5, 3001, 1401, "row", "col"], [4203, 1001, 3, "col", "row"]] as const) {
      const A = operand(m, k, la, 14), B = operand(k, n, lb, 15);
      const c = output(m, n, 0, false, 16);
      const c0 = c.slice();
      expect(wasmGemm(A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, c, 0, m, k, n, true)).toBe(true);
      expectProduct(c, 0, reference(A, B, m, k, n), k, c0);
    }
  });

  it("float32 products above the threshold dispatch to it; float64 ones and the disabled flag do not", () => {
    // 1 + 63 × 2⁻²⁵: float32 accumulation (the wasm kernel) absorbs every small term and gives exactly 1,
    // the TS kernel's float64 accumulation keeps them (1 + 1.9e-6 after rounding to float32).
    const [m, k, n] = [8, 64, 8];
    const a = new Float32Array(m * k).fill(1);
    const b = new Float32Array(k * n).fill(2 ** -25);
    for (let j = 0; j < n; j++) b[j] = 1;
    const run = (): number => {
      const c = new Float32Array(m * n);
      gemm(a, 0, k, 1, b, 0, n, 1, c, 0, m, k, n, false);
      return c[m * n - 1]!;
    };
    expect(run()).toBe(1);
    expect(setWasmGemmEnabled(false)).toBe(true);
    expect(wasmGemmAvailable()).toBe(false);
    expect(wasmGemm(a, 0, k, 1, b, 0, n, 1, new Float32Array(m * n), 0, m, k, n, false)).toBe(false);
    expect(run()).toBe(Math.fround(1 + 63 * 2 ** -25));
    setWasmGemmEnabled(true);
    const c64 = new Float64Array(m * n);
    gemm(Float64Array.from(a), 0, k, 1, Float64Array.from(b), 0, n, 1, c64, 0, m, k, n, false);
    expect(c64[0]).toBe(1 + 63 * 2 ** -25);
  });

  it("batched matmul: wasm and the TS fallback agree with each other and with float64", () => {
    const r = rng(17);
    const rand = (size: number): Float32Array => Float32Array.from({ length: size }, () => Math.fround(r() * 2 - 1));
    // [batch shape, A batch strides, B batch strides, m, k, n, transposeA, transposeB]
    const cases: [number[], number[], number[], number, number, number, boolean, boolean][] = [
      [[3, 2], [2 * 17 * 40, 17 * 40], [0, 0], 17, 40, 23, false, false], // shared B: one tall GEMM
      [[3, 2], [2 * 17 * 40, 17 * 40], [0, 40 * 23], 17, 40, 23, false, false],
      [[4], [33 * 50], [50 * 9], 33, 50, 9, true, false],
      [[2, 3], [0, 21 * 70], [3 * 70 * 30, 70 * 30], 21, 70, 30, false, true],
    ];
    for (const [batch, sa, sb, m, k, n, ta, tb] of cases) {
      const extent = (s: number[], size: number): number => s.reduce((t, st, d) => t + st * (batch[d]! - 1), size);
      const a = rand(extent(sa, m * k)), b = rand(extent(sb, k * n));
      const total = batch.reduce((p, q) => p * q, 1) * m * n;
      const outW = new Float32Array(total), outT = new Float32Array(total), out64 = new Float64Array(total);
      cpuLinalg.matmul(a, b, outW, batch, sa, sb, m, k, n, ta, tb);
      setWasmGemmEnabled(false);
      cpuLinalg.matmul(a, b, outT, batch, sa, sb, m, k, n, ta, tb);
      setWasmGemmEnabled(true);
      cpuLinalg.matmul(Float64Array.from(a), Float64Array.from(b), out64, batch, sa, sb, m, k, n, ta, tb);
      for (let q = 0; q < total; q++) {
        expect(Math.abs(outW[q]! - out64[q]!)).toBeLessThan(2 * (k + 2) * 2 ** -24 * k);
        expect(Math.abs(outT[q]! - out64[q]!)).toBeLessThan(2 ** -24 * (1 + Math.abs(out64[q]!)));
      }
    }
  });

  it("matmul and conv2d (forward, both backprops) on float32 tensors agree with float64", () => {
    const make = (shape: readonly number[], dtype: "float32" | "float64", seed: number): Tensor => {
      const r = rng(seed);
      const size = shape.reduce((p, q) => p * q, 1);
      return tensor(Array.from({ length: size }, () => Math.fround(r() * 2 - 1)), { shape, dtype });
    };
    const close = (x: Tensor, y: Tensor, tol: number): void => {
      expect(x.dtype).toBe("float32");
      const p = x.dataSync(), q = y.dataSync();
      expect(p.length).toBe(q.length);
      let worst = 0;
      for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i]! - q[i]!) / (1 + Math.abs(q[i]!)));
      expect(worst).toBeLessThan(tol);
    };
    close(matmul(make([3, 45, 130], "float32", 1), make([130, 29], "float32", 2)), matmul(make([3, 45, 130], "float64", 1), make([130, 29], "float64", 2)), 1e-5);
    const xs = [2, 9, 11, 6], fs = [3, 3, 6, 10];
    const o = { padding: "same" as const };
    const x32 = make(xs, "float32", 3), f32 = make(fs, "float32", 4), x64 = make(xs, "float64", 3), f64 = make(fs, "float64", 4);
    const y64 = conv2d(x64, f64, o);
    close(conv2d(x32, f32, o), y64, 1e-5);
    const dy32 = make(y64.shape, "float32", 5), dy64 = make(y64.shape, "float64", 5);
    close(conv2dBackpropInput(dy32, f32, xs, o), conv2dBackpropInput(dy64, f64, xs, o), 1e-5);
    // The filter gradient sums over all 2·9·11 output pixels.
    close(conv2dBackpropFilter(x32, dy32, fs, o), conv2dBackpropFilter(x64, dy64, fs, o), 1e-5);
  });

  it("the module imports a shared memory, and with one flag byte cleared a plain one: both builds compute the same", () => {
    // The project's types leave WebAssembly out (the library reaches it through globalThis): the parts used here.
    interface Memory { buffer: ArrayBufferLike }
    const wa = (globalThis as unknown as {
      WebAssembly: {
        Memory: new (d: { initial: number; maximum: number; shared?: boolean }) => Memory;
        Module: { new (bytes: Uint8Array): object; imports(m: object): { kind: string }[] };
        Instance: new (m: object, imports: object) => { exports: Record<string, (...a: number[]) => void> };
      };
    }).WebAssembly;
    const instance = (shared: boolean, memory: Memory) => new wa.Instance(new wa.Module(kernelsBytes(shared)), { env: { memory } });
    const results = [true, false].map((shared) => {
      const memory = new wa.Memory({ initial: 64, maximum: 16384, ...(shared ? { shared: true } : {}) });
      expect(wa.Module.imports(new wa.Module(kernelsBytes(shared))).filter((i) => i.kind === "memory")).toHaveLength(1);
      // exp of 1,000 values through the unary kernel (opcode 0), from address 2^16 to 2^17.
      const input = new Float32Array(memory.buffer, 1 << 16, 1000);
      for (let i = 0; i < 1000; i++) input[i] = (i - 500) / 50;
      instance(shared, memory).exports.unaryF32!(0, 1000, 0, 0, 1 << 16, 1 << 17);
      return Array.from(new Float32Array(memory.buffer, 1 << 17, 1000));
    });
    expect(results[1]).toEqual(results[0]);
    expect(results[0]![500]).toBe(1);
    expect(results[0]![550]).toBeCloseTo(Math.E, 6);
    // A shared memory does not fit the plain build, nor a plain one the shared build.
    expect(() => instance(false, new wa.Memory({ initial: 1, maximum: 16384, shared: true }))).toThrow();
    expect(() => instance(true, new wa.Memory({ initial: 1, maximum: 16384 }))).toThrow();
  });

  it("the committed binary is what the AssemblyScript source compiles to (deterministic rebuild)", () => {
    const out = execFileSync(process.execPath, ["scripts/build-wasm.mjs", "--check"], { cwd: root, encoding: "utf8" });
    expect(out).toContain("up to date");
  });
});
