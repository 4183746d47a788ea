/**
 * Kernels that generated code runs itself: small sums (the CPU kernel's loop and order), 2-D matmuls (one
 * call of the GEMM) and float32 exp, log, tanh and sigmoid left out of fusion (their kernel), each writing
 * into a scratch array when its result stays inside the program. Results are eager's bits, scratch arrays
 * never leak one call's values into the next, and another backend than the CPU one gets every kernel call.
 */
import { afterEach, describe, expect, test } from "vitest";
import { compile, randomNormal, randomUniform, sum, tensor, type Tensor } from "../../src/index.js";
import { matmulT } from "../../src/ops/linalg.js";
import { backend, setBackend, type Backend } from "../../src/tensor/backend.js";
import { WASM_MIN } from "../../src/tensor/wasm/elementwise.js";

const bits = (t: Tensor): string => {
  const v = t.dataSync();
  return Array.from(v, (x) => (x !== x ? "NaN" : Object.is(x, -0) ? "-0" : String(x))).join(",");
};

describe("inlined sums", () => {
  /** `inlined`: in which dtypes generated code runs the sum itself. */
  const cases: { shape: number[]; axes: number[]; keepDims?: boolean; inlined: "all" | "not float32" | "none" }[] = [
    { shape: [32, 16], axes: [0], inlined: "all" }, // columns, four at a time
    { shape: [32, 18], axes: [0], inlined: "all" }, // columns, four at a time and two left
    { shape: [7, 5, 3], axes: [0, 1], keepDims: true, inlined: "all" }, // columns, fewer than four
    { shape: [8, 16], axes: [1], inlined: "all" }, // rows
    { shape: [4, 6, 10], axes: [1, 2], inlined: "all" }, // rows of 60
    { shape: [256], axes: [0], inlined: "all" }, // everything
    { shape: [4, 5, 6], axes: [1], inlined: "none" }, // a middle axis: the kernel
    { shape: [2 * WASM_MIN], axes: [0], inlined: "not float32" }, // float32 from WASM_MIN on: the kernel (wasm)
  ];
  for (const dtype of ["float32", "float64", "int32"] as const) {
    for (const c of cases) {
      const inlined = c.inlined === "all" || (c.inlined === "not float32" && dtype !== "float32");
      test(`${dtype} ${JSON.stringify(c.shape)} over ${JSON.stringify(c.axes)}: eager's bits, ${inlined ? "inlined" : "the kernel"}`, () => {
        const x =
          dtype === "int32"
            ? randomUniform(c.shape, { seed: 3, min: -1000, max: 1000, dtype })
            : randomNormal(c.shape, { seed: 3, dtype }).mul(1e3).exp().mul(randomNormal(c.shape, { seed: 4, dtype })); // wide magnitudes: order matters
        // The sum's input is made inside the program (so it may live in scratch) and its result is read again.
        const f = (t: Tensor): Tensor => sum(t.mul(3), c.axes, c.keepDims ?? false).add(1);
        const g = compile(f);
        expect(bits(g(x))).toBe(bits(f(x)));
        const code = g.inspect(x).code!;
        if (inlined) expect(code).toMatch(/s\d? \+= x\[i/);
        else expect(code).not.toMatch(/s\d? \+= x\[i/);
      });
    }
  }
});

describe("inlined matmuls", () => {
  for (const dtype of ["float32", "float64"] as const) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      test(`${dtype} transposeA=${ta} transposeB=${tb}: eager's bits, one GEMM call`, () => {
        const a = randomNormal(ta ? [20, 12] : [12, 20], { seed: 5, dtype });
        const b = randomNormal(tb ? [9, 20] : [20, 9], { seed: 6, dtype });
        // (transposed operands come from the matmul's derivative rules)
        const f = (p: Tensor, q: Tensor): Tensor => matmulT(p.add(1), q, ta, tb).tanh();
        const g = compile(f);
        expect(bits(g(a, b))).toBe(bits(f(a, b)));
        expect(g.inspect(a, b).code).toMatch(/G\(v\d+\._data, 0, /);
      });
    }
  }

  test("a batched matmul calls its primitive", () => {
    const a = randomNormal([3, 4, 5], { seed: 7 });
    const b = randomNormal([3, 5, 2], { seed: 8 });
    const f = (p: Tensor, q: Tensor): Tensor => p.matmul(q);
    const g = compile(f);
    expect(bits(g(a, b))).toBe(bits(f(a, b)));
    expect(g.inspect(a, b).code).not.toMatch(/G\(/);
  });
});

describe("scratch arrays of inlined kernels", () => {
  test("a float32 log kernel and a matmul write into scratch arrays; a second call sees only its own values", () => {
    const w = randomNormal([16, 16], { seed: 9 });
    const f = (x: Tensor): Tensor => x.matmul(w).abs().log().matmul(w).sum(0);
    const g = compile(f);
    const x1 = randomNormal([32, 16], { seed: 10 });
    const x2 = randomNormal([32, 16], { seed: 11 });
    const first = g(x1);
    const code = g.inspect(x1).code!;
    expect(code).toMatch(/U\("log", v\d+\._data, o\)/);
    // the log, both matmuls and the loop before the log live in scratch (V[k]); the result is new
    expect(code.match(/const o = V\[\d+\]\._data;/g)!.length).toBeGreaterThanOrEqual(2);
    expect(bits(first)).toBe(bits(f(x1)));
    const second = g(x2);
    expect(bits(second)).toBe(bits(f(x2)));
    expect(bits(first)).toBe(bits(f(x1))); // the first result was not overwritten by the second call
  });
});

describe("another backend", () => {
  let previous: Backend | null = null;
  afterEach(() => {
    if (previous !== null) setBackend(previous);
    previous = null;
  });

  test("a program with inlined kernels runs its primitives (the interpreter) while another backend is in use", () => {
    const calls: string[] = [];
    const cpu = backend();
    const counting: Backend = {
      ...cpu,
      name: "counting",
      matmul: (...a) => {
        calls.push("matmul");
        cpu.matmul(...a);
      },
      reduce: (...a) => {
        calls.push("reduce");
        cpu.reduce(...a);
      },
    };
    const f = (x: Tensor): Tensor => x.matmul(x).sum(1);
    const g = compile(f);
    const x = tensor([[1, 2], [3, 4]]);
    expect(bits(g(x))).toBe(bits(f(x)));
    expect(calls).toEqual([]);
    previous = setBackend(counting);
    expect(bits(g(x))).toBe("17,37");
    expect(calls).toEqual(["matmul", "reduce"]);
  });
});
