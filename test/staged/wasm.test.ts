/**
 * Long scalar chains compiled to wasm: the float32 helpers give the scalar twins' bits over a sweep of
 * float32 bit patterns; a long chain of every op with a wasm form gives eager's bits on special values, in
 * float32 and float64; a chain with an op without one stays in JavaScript, and so does everything when
 * wasm is unavailable. Loops over float32 arrays around exp, tanh and sigmoid are SIMD wasm loops with
 * eager's bits.
 */
import { afterEach, describe, expect, test } from "vitest";
import { cast, compile, gradient, maximum, minimum, randomNormal, randomUniform, tensor, type Tensor } from "../../src/index.js";
import { compileChain, setChainWasmAllowed } from "../../src/staged/wasm.js";
import { expF32, sigmoidF32, tanhF32 } from "../../src/tensor/cpu/float32-math.js";
import type { FusedNode } from "../../src/staged/fuse.js";

afterEach(() => setChainWasmAllowed(undefined));

/** Every 2039th float32 bit pattern (both signs, every exponent), dense denormals and the special values. */
function sweep(): Float32Array {
  const stride = 2039;
  const n = Math.floor(2 ** 32 / stride);
  const bits = new Uint32Array(n + 2048);
  for (let i = 0; i < n; i++) bits[i] = i * stride;
  for (let i = 0; i < 1024; i++) {
    bits[n + i] = i * 4096 + 1;
    bits[n + 1024 + i] = (0x80000000 | (i * 4096 + 5)) >>> 0;
  }
  const x = new Float32Array(bits.buffer);
  const special = [0, -0, Infinity, -Infinity, NaN, 0.625, -0.625, 89, -104, 88.72283935546875, -87.33654022216797, 1e-45, -1e-45];
  x.set(special.map(Math.fround), 0);
  return x;
}

const sameBits = (a: number, b: number): boolean => Object.is(a, b) || (a !== a && b !== b);

describe("wasm float32 helpers", () => {
  const x = sweep();
  for (const [name, twin] of [["exp", expF32], ["tanh", tanhF32], ["sigmoid", sigmoidF32]] as const) {
    test(`${name} gives the scalar twin's bits (the SIMD kernel's) on ${x.length} inputs`, () => {
      const node: FusedNode = { op: { name, arity: 1, code: () => "", eval: () => NaN }, args: [0], dtype: "float32" };
      const chain = compileChain([node], ["float32"], [1]);
      expect(chain).not.toBeNull();
      const r = chain!.registers;
      const differing: string[] = [];
      for (let i = 0; i < x.length; i++) {
        r[0] = x[i]!;
        chain!.run();
        const want = twin(x[i]!);
        if (!sameBits(r[1]!, want)) differing.push(`${name}(${x[i]}): wasm ${r[1]}, twin ${want}`);
      }
      expect(differing.slice(0, 5), `${differing.length} differ`).toEqual([]);
    });
  }
});

/** One block of 24 ops with wasm forms (values stay mostly finite, so every op shows in the result); repeated, it makes a chain longer than a generated function. */
function block(y: Tensor): Tensor {
  const a = y.mul(1.3).add(0.2);
  const d = a.tanh().sub(a.exp()).div(a.abs().add(1));
  const e = minimum(maximum(d, y), y.neg().add(2));
  const g = e.sigmoid().sqrt();
  const h = cast(g, "float64").mul(1.1).sub(0.5).neg().div(3).abs().sqrt();
  return cast(h, "float32").add(e.mul(0.01));
}

const specials = [0, -0, 1, -1, 0.5, -3, 20, -20, 1e-40, 3e38, -3e38, Infinity, -Infinity, NaN, 0.7];

function bitsEqual(a: Tensor, b: Tensor): string {
  const x = a.dataSync(), y = b.dataSync();
  if (x.length !== y.length) return `length ${x.length} against ${y.length}`;
  for (let i = 0; i < x.length; i++) if (!sameBits(x[i]!, y[i]!)) return `element ${i}: ${x[i]} against ${y[i]}`;
  return "same";
}

describe("long chains in wasm", () => {
  test("a chain of every op with a wasm form (float32 and float64, casts) gives eager's bits on special values", () => {
    // Every block's result is an output (the blocks contract towards a fixed point, which would hide a wrong op).
    const f = (x: Tensor): Tensor[] => {
      const ys = [x];
      for (let i = 0; i < 8; i++) ys.push(block(ys[i]!));
      return ys.slice(1);
    };
    const x = tensor(specials);
    const c = compile(f);
    const { optimized, code } = c.inspect(x);
    expect(optimized.match(/= fused/g)).toHaveLength(1);
    expect(code).toMatch(/w0\(\);/);
    const check = (v: Tensor): void => {
      const eager = f(v);
      c(v).forEach((t, k) => expect(bitsEqual(t, eager[k]!), `block ${k}`).toBe("same"));
    };
    check(x);
    // and on values where no special case applies
    check(tensor([0.1, -0.2, 0.3, 1.7, -2.5, 0.05]));
  });

  test("a gradient chain in wasm equals the same program in JavaScript functions and eager, bit for bit", () => {
    const f = (x: Tensor): Tensor => {
      let y = x;
      for (let i = 0; i < 60; i++) y = y.mul(1.01).sigmoid().add(y.mul(0.5).tanh()).sub(0.3).exp();
      return y.sum();
    };
    const x = tensor([0.3, -0.8, 1.5, -0.01]);
    const eager = gradient(x, f);
    const wasm = compile((v: Tensor) => gradient(v, f));
    expect(wasm.inspect(x).code).toMatch(/w0\(\);/);
    expect(bitsEqual(wasm(x), eager)).toBe("same");
    setChainWasmAllowed(false);
    const js = compile((v: Tensor) => gradient(v, f));
    expect(js.inspect(x).code).not.toMatch(/w0\(\);/);
    expect(bitsEqual(js(x), eager)).toBe("same");
  });

  test("a chain with an op without a wasm form (log) stays in JavaScript", () => {
    const f = (x: Tensor): Tensor => {
      let y = x;
      for (let i = 0; i < 100; i++) y = y.mul(1.01).add(1).log();
      return y;
    };
    const x = tensor([0.5, 2]);
    const c = compile(f);
    const code = c.inspect(x).code!;
    expect(code).not.toMatch(/w0\(\);/);
    expect(code).toMatch(/^function k0\(R\)/m);
    expect(bitsEqual(c(x), f(x))).toBe("same");
  });

  test("float64 transcendental functions stay in JavaScript (Math's results)", () => {
    const f = (x: Tensor): Tensor => {
      let y = x;
      for (let i = 0; i < 100; i++) y = y.mul(1.01).tanh();
      return y;
    };
    const x = tensor([0.5, -2], { dtype: "float64" });
    const c = compile(f);
    expect(c.inspect(x).code).not.toMatch(/w0\(\);/);
    expect(bitsEqual(c(x), f(x))).toBe("same");
  });
});

describe("SIMD loops in wasm", () => {
  const chain = (t: Tensor, c: Tensor): Tensor => {
    const a = t.mul(1.5).add(c).exp().sub(1).mul(t);
    return minimum(maximum(a.tanh(), t.sigmoid().mul(c)), a.abs().sqrt().neg().div(3));
  };
  for (const n of [16, 17, 1001, 100_000]) {
    test(`a chain around exp, tanh and sigmoid over ${n} float32 elements is one SIMD loop with eager's bits`, () => {
      const values = randomNormal([n], { seed: n }).mul(20).dataSync() as Float32Array;
      values.set(specials.slice(0, Math.min(n, specials.length)).map(Math.fround));
      const x = tensor(values);
      const c = tensor(0.25);
      const g = compile(chain);
      const { optimized, code } = g.inspect(x, c);
      expect(optimized.match(/= fused/g)).toHaveLength(1);
      expect(code).toMatch(/^ +L0\(\);$/m);
      expect(code).not.toMatch(/F\d\(/);
      expect(bitsEqual(g(x, c), chain(x, c))).toBe("same");
      // a second call with other values (the loop's memory is reused)
      const y = randomUniform([n], { seed: 1, min: -3, max: 3 });
      expect(bitsEqual(g(y, tensor(-2)), chain(y, tensor(-2)))).toBe("same");
    });
  }

  test("without a SIMD form (a bias read as a repeating suffix, or log) the heavy op keeps its kernel", () => {
    const b = randomNormal([16], { seed: 2 });
    const f = (x: Tensor): Tensor => x.mul(2).add(b).tanh().add(1);
    const x = randomNormal([32, 16], { seed: 3 });
    const g = compile(f);
    const code = g.inspect(x).code!;
    expect(code).not.toMatch(/L0\(\)/);
    expect(code).toMatch(/U\("tanh"/);
    expect(bitsEqual(g(x), f(x))).toBe("same");
    const h = (t: Tensor): Tensor => t.abs().add(1).log().exp();
    const gh = compile(h);
    const codeH = gh.inspect(x).code!;
    expect(codeH).toMatch(/U\("log"/);
    expect(bitsEqual(gh(x), h(x))).toBe("same");
  });

  test("where wasm is unavailable, heavy ops keep their kernels", () => {
    setChainWasmAllowed(false);
    const x = randomNormal([100], { seed: 4 });
    const c = tensor(0.5);
    const g = compile(chain);
    const code = g.inspect(x, c).code!;
    expect(code).not.toMatch(/L0\(\)/);
    expect(code).toMatch(/U\("exp"/);
    expect(bitsEqual(g(x, c), chain(x, c))).toBe("same");
  });
});
