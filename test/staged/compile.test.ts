/**
 * `compile`: one trace per input signature, numbers as inputs, structures and models, nesting with the
 * differential operators, clear errors for what staging cannot do, and the interpreter where code generation
 * is forbidden.
 */
import { afterEach, describe, expect, test } from "vitest";
import {
  compile, tensor, zeros, ones, randomNormal, gradient, valueWithGradient, derivative, customDerivative, withDerivative, Dense, relu,
  Tensor, type TangentVector, NoDerivative, differentiable, noDerivative, mod,
} from "../../src/index.js";
import { setCodeGenerationAllowed } from "../../src/staged/execute.js";
import { setChainWasmAllowed } from "../../src/staged/wasm.js";

afterEach(() => setCodeGenerationAllowed(undefined));

const arr = (t: Tensor): number[] => Array.from(t.dataSync());

describe("signatures", () => {
  test("traces once per signature; a new shape, dtype or structure retraces", () => {
    const f = compile((x: Tensor) => x.mul(2).add(1));
    expect(arr(f(tensor([1, 2])))).toEqual([3, 5]);
    expect(arr(f(tensor([3, 4])))).toEqual([7, 9]);
    expect(f.stats).toEqual({ traces: 1, compilations: 1, signatures: 1 });
    expect(arr(f(tensor([1, 2, 3])))).toEqual([3, 5, 7]);
    expect(f(tensor([1, 2], { dtype: "float64" })).dtype).toBe("float64");
    expect(f.stats).toEqual({ traces: 3, compilations: 3, signatures: 3 });
    for (let i = 0; i < 50; i++) f(tensor([i, i]));
    expect(f.stats.traces).toBe(3);
  });

  test("a number at the top level is an input: a schedule changes it every call without retracing", () => {
    const step = compile((x: Tensor, lr: Tensor, t: Tensor) => x.sub(x.mul(lr).div(t.add(1).sqrt())));
    const x = tensor([1, -2, 3]);
    for (let t = 0; t < 30; t++) {
      const lr = 0.1 * Math.cos(t / 10);
      const eager = x.sub(x.mul(tensor(lr)).div(tensor(t).add(1).sqrt()));
      expect(arr(step(x, lr, t))).toEqual(arr(eager));
    }
    expect(step.stats.traces).toBe(1);
    // The printed program has the learning rate and the step as inputs, not constants.
    expect(step.inspect(x, 0.5, 3).program.split("\n")[0]).toBe("{ lambda a:f32[3] b:f32[] c:f32[] .");
  });

  test("numbers in fields are configuration: part of the signature, so a new value retraces", () => {
    const f = compile((s: { x: Tensor; scale: number }) => s.x.mul(s.scale));
    expect(arr(f({ x: tensor([1, 2]), scale: 2 }))).toEqual([2, 4]);
    expect(arr(f({ x: tensor([1, 2]), scale: 3 }))).toEqual([3, 6]);
    expect(f.stats.traces).toBe(2);
  });

  test("the cache is bounded: a signature that changes every call retraces, and memory stays bounded", () => {
    const f = compile((s: { x: Tensor; scale: number }) => s.x.mul(s.scale));
    for (let i = 0; i < 100; i++) expect(f({ x: tensor([1]), scale: i }).item()).toBe(i);
    expect(f.stats.traces).toBe(100);
    expect(f.stats.signatures).toBe(64);
  });

  test("int32 tensors (labels) are inputs too", () => {
    const f = compile((logits: Tensor, labels: Tensor) => logits.gather(labels, 1).sum());
    const logits = tensor([[1, 2, 3], [4, 5, 6]]);
    for (const rows of [[[2], [0]], [[1], [1]]]) {
      const labels = tensor(rows, { dtype: "int32" });
      expect(f(logits, labels).item()).toBe(logits.gather(labels, 1).sum().item());
    }
    expect(() => f(logits, tensor([[3], [0]], { dtype: "int32" }))).toThrow(/gather: index 3 .* out of range/);
    expect(f.stats.traces).toBe(1);
  });
});

describe("structures and models", () => {
  test("arrays and plain objects in and out", () => {
    const f = compile((p: { a: Tensor; b: Tensor[] }) => ({ sum: p.a.add(p.b[0]!), prod: [p.a.mul(p.b[1]!)], label: "ok" }));
    const r = f({ a: tensor([1, 2]), b: [tensor([3, 4]), tensor([5, 6])] });
    expect(arr(r.sum)).toEqual([4, 6]);
    expect(arr(r.prod[0]!)).toEqual([5, 12]);
    expect(r.label).toBe("ok");
  });

  test("a model is an input: its parameters are program inputs, and a new model of the same layout reuses the program", () => {
    const forward = compile((m: Dense, x: Tensor) => m.callAsFunction(x));
    const x = randomNormal([4, 3], { seed: 1 });
    for (const seed of [1, 2, 3]) {
      const m = new Dense({ inputSize: 3, outputSize: 2, activation: relu, seed });
      expect(arr(forward(m, x))).toEqual(arr(m.callAsFunction(x)));
    }
    expect(forward.stats.traces).toBe(1);
  });

  test("valueWithGradient of a model inside compile: the gradient is TangentVector<Model>, equal to eager", () => {
    const m = new Dense({ inputSize: 3, outputSize: 2, activation: relu, seed: 4 });
    const x = randomNormal([5, 3], { seed: 5 });
    const y = randomNormal([5, 2], { seed: 6 });
    const loss = (model: Dense): Tensor => model.callAsFunction(x).sub(y).square().mean();
    const step = compile((model: Dense) => valueWithGradient(model, loss));
    const eager = valueWithGradient(m, loss);
    const staged = step(m);
    expect(staged.value.item()).toBeCloseTo(eager.value.item(), 6);
    const g: TangentVector<Dense> = staged.gradient;
    expect(arr(g.weight)).toEqual(arr(eager.gradient.weight));
    expect(arr(g.bias)).toEqual(arr(eager.gradient.bias));
  });

  test("assigning to an argument is written back after the run, as eager would leave it (more in inplace.test.ts)", () => {
    const f = compile((p: { w: Tensor }) => {
      p.w = p.w.add(1);
      return p.w;
    });
    const s = { w: zeros([2]) };
    const r = f(s);
    expect(s.w).toBe(r);
    expect(arr(s.w)).toEqual([1, 1]);
  });
});

describe("arguments are walked as every other feature walks structures", () => {
  class Scaled {
    @differentiable w: Tensor;
    @noDerivative factor: number;
    @noDerivative shift: NoDerivative<Tensor>;
    cache: { calls: number } = { calls: 0 }; // not a stored property: carried, never walked
    constructor(w: Tensor, factor: number, shift: Tensor) {
      this.w = w;
      this.factor = factor;
      this.shift = new NoDerivative(shift);
    }
  }

  test("a class contributes its stored properties; a NoDerivative box's tensor is an input, so replacing it does not retrace", () => {
    const f = compile((m: Scaled, x: Tensor) => x.mul(m.w).mul(m.factor).add(m.shift.value));
    const m = new Scaled(tensor([1, 2]), 3, tensor([10, 20]));
    expect(arr(f(m, tensor([1, 1])))).toEqual([13, 26]);
    m.shift.value = tensor([100, 200]);
    m.cache.calls = 5;
    expect(arr(f(m, tensor([1, 1])))).toEqual([103, 206]);
    expect(f.stats.traces).toBe(1);
    m.factor = 4; // configuration: part of the signature
    expect(arr(f(m, tensor([1, 1])))).toEqual([104, 208]);
    expect(f.stats.traces).toBe(2);
  });

  test("a tensor in an undecorated field is the same error as under gradient, not a constant baked into the program", () => {
    class Loose {
      w = tensor([1, 2]);
    }
    const f = compile((m: Loose, x: Tensor) => x.mul(m.w));
    expect(() => f(new Loose(), tensor([1, 1]))).toThrow(/compile: field 'w' of Loose \(at 0\.w\) holds a tensor but is not a stored property; decorate it with @differentiable/);
  });

  test("a tensor reached twice is one input and stays tied inside; a tie is part of the signature", () => {
    const f = compile((p: { a: Tensor; b: Tensor }) => (p.a === p.b ? p.a.mul(2) : p.a.add(p.b).add(1)));
    const t = tensor([1, 2]);
    expect(arr(f({ a: t, b: t }))).toEqual([2, 4]);
    expect(arr(f({ a: t, b: tensor([1, 2]) }))).toEqual([3, 5]);
    expect(f.stats.traces).toBe(2);
    expect(arr(f({ a: tensor([5, 6]), b: tensor([7, 8]) }))).toEqual([13, 15]);
    expect(f.stats.traces).toBe(2);
    const pair = compile((x: Tensor, y: Tensor) => x.add(y));
    expect(arr(pair(t, t))).toEqual([2, 4]);
  });

  test("a cyclic argument is an error naming where the cycle closes", () => {
    const f = compile((p: { w: Tensor }) => p.w.mul(2));
    const p: { w: Tensor; self?: unknown } = { w: tensor([1]) };
    p.self = p;
    expect(() => f(p)).toThrow(/compile: the structure is cyclic: 0\.self is the same object as 0/);
  });

  test("a Map, a Date or a typed array is a constant, by identity", () => {
    const f = compile((p: { w: Tensor; names: Map<string, number>; at: Date; raw: Float32Array }) => p.w.mul(p.names.get("k")!).add(p.raw[0]!));
    const names = new Map([["k", 3]]);
    const at = new Date(0);
    const raw = new Float32Array([1, 2]);
    expect(arr(f({ w: tensor([1, 2]), names, at, raw }))).toEqual([4, 7]);
    expect(arr(f({ w: tensor([2, 2]), names, at, raw }))).toEqual([7, 7]);
    expect(f.stats.traces).toBe(1);
  });
});

describe("differential operators", () => {
  const g = (x: Tensor): Tensor => x.sin().mul(x).exp().sum();

  test("inside: the pullback is staged, equal to eager", () => {
    const x = tensor([0.3, -0.7, 1.1], { dtype: "float64" });
    expect(arr(compile((y: Tensor) => gradient(y, g))(x))).toEqual(arr(gradient(x, g)));
  });

  test("outside, nested to second order, in both modes", () => {
    const cg = compile(g);
    const x = tensor([0.3, -0.7, 1.1], { dtype: "float64" });
    const close = (a: Tensor, b: Tensor): void => arr(a).forEach((v, i) => expect(v).toBeCloseTo(arr(b)[i]!, 10));
    close(gradient(x, cg), gradient(x, g));
    close(gradient(x, (y) => gradient(y, cg).sum()), gradient(x, (y) => gradient(y, g).sum()));
    expect(derivative(0.4, (y) => derivative(y, cg)).item()).toBeCloseTo(derivative(0.4, (y) => derivative(y, g)).item(), 8);
    // One trace per signature ([3] and the scalar): the derivatives are programs cached beside each.
    expect(cg.stats.traces).toBe(2);
  });

  test("compile inside compile is inlined; compile of a gradient of a compiled function", () => {
    const inner = compile((x: Tensor) => x.square());
    const outer = compile((x: Tensor) => inner(x).add(inner(x.mul(2))));
    expect(arr(outer(tensor([1, 2])))).toEqual([5, 20]);
    expect(inner.stats.traces).toBe(0);
    const dd = compile((x: Tensor) => gradient(x, (y) => gradient(y, (z) => inner(z).sum()).sum()));
    expect(arr(dd(tensor([1, 2])))).toEqual([2, 2]);
  });

  test("a custom derivative inside compile keeps its rule", () => {
    const clipped = customDerivative((x: Tensor) => x.mul(3), { vjp: (x) => ({ value: x.mul(3), pullback: (v) => v.clip(-1, 1) }) });
    const f = compile((x: Tensor) => gradient(x, (y) => clipped(y).sum()));
    expect(arr(f(tensor([1, 2])))).toEqual([1, 1]);
  });

  test("a custom derivative inside a compiled function keeps its rules when AD is taken outside compile", () => {
    const scaled = customDerivative((x: Tensor) => x.square(), {
      vjp: (x) => ({ value: x.square(), pullback: (v) => v.mul(100) }),
      jvp: (x) => ({ value: x.square(), differential: (t) => t.mul(-1) }),
    });
    const f = compile((x: Tensor) => scaled(x).sum());
    const x = tensor([1, 2, 3]);
    expect(arr(f(x))).toEqual([14]);
    // Reverse mode (the rule, not 2x) and forward mode (the jvp rule) through the compiled program.
    expect(arr(gradient(x, f))).toEqual([100, 100, 100]);
    expect(arr(gradient(x, (y) => scaled(y).sum()))).toEqual([100, 100, 100]);
    expect(derivative(tensor(2), (y) => f(y))).toEqual(derivative(tensor(2), (y) => scaled(y).sum()));
    expect(arr(derivative(tensor(2), (y) => f(y)))).toEqual([-1]);
    // The program shows the op as one equation named after the function.
    expect(f.inspect(x).program).toMatch(/customDerivative\(anonymous\)/);
    // A hook on the cotangent (withDerivative) is a custom rule too.
    const hooked = compile((y: Tensor) => withDerivative(y, (ct) => ct.clip(-1, 1)).mul(10).sum());
    expect(arr(gradient(tensor([0.5, 2]), hooked))).toEqual([1, 1]);
    // Second order through the rules: the pullback v ↦ 100·v·x makes the gradient 100·x², its own gradient 200·x.
    const cubic = customDerivative((y: Tensor) => y.square(), { vjp: (y) => ({ value: y.square(), pullback: (v) => v.mul(y).mul(y).mul(100) }) });
    const h = compile((y: Tensor) => cubic(y).sum());
    expect(arr(gradient(x, (y) => gradient(y, h).sum()))).toEqual([200, 400, 600]);
  });

  test("int32 mod compiles: its check for a zero divisor needs elements, so only eager calls make it", () => {
    const f = compile((a: Tensor, b: Tensor) => mod(a, b));
    const [a, b] = [tensor([7, -7, 5], { dtype: "int32" }), tensor([3, 3, -2], { dtype: "int32" })];
    expect(arr(f(a, b))).toEqual(arr(mod(a, b)));
    expect(() => mod(a, tensor([3, 0, 1], { dtype: "int32" }))).toThrow(/the int32 divisor is 0 at flat index 1/);
  });
});

describe("errors", () => {
  const fix = /cond\(pred, onTrue, onFalse, \.\.\.operands\) or fori\(n, init, body\).*without compile/;
  test("reading values of a staged tensor names the operation and points to cond and the eager path", () => {
    expect(() => compile((x: Tensor) => x.sum().item())(ones([2]))).toThrow(/^item\(\) on a staged tensor f32\[\]/);
    expect(() => compile((x: Tensor) => x.toArray())(ones([2]))).toThrow(/toArray\(\) on a staged tensor f32\[2\]/);
    expect(() => compile((x: Tensor) => x.dataSync())(ones([2]))).toThrow(fix);
    expect(() => compile((x: Tensor) => (x.greater(0).item() ? x : x.neg()))(ones([2]))).toThrow(/item\(\).*cond/);
    expect(() => compile((x: Tensor) => (x as unknown as number) * 2)(ones([2]))).toThrow(/used as a JavaScript number/);
  });

  test("a staged tensor kept after tracing is an error when used", () => {
    let kept: Tensor | undefined;
    compile((x: Tensor) => (kept = x.add(1)))(ones([2]));
    expect(() => kept!.mul(2)).toThrow(/escaped the compiled function/);
  });

  test("closing over a tensor that is being differentiated outside is an error saying to pass it in", () => {
    const run = (): Tensor => gradient(tensor(2), (w) => compile((x: Tensor) => x.mul(w))(tensor(3)));
    expect(run).toThrow(/being differentiated outside it.*pass it in instead/);
  });
});

describe("execution", () => {
  test("where code generation is forbidden, the interpreter runs the same program with the same results", () => {
    const f = (x: Tensor, y: Tensor): Tensor => x.mul(y).tanh().add(x.exp()).matmul(y.transpose()).relu();
    const x = randomNormal([3, 4], { seed: 7 });
    const y = randomNormal([3, 4], { seed: 8 });
    const code = compile(f);
    const expected = arr(f(x, y));
    expect(arr(code(x, y))).toEqual(expected);
    expect(code.inspect(x, y).code).toContain("F2("); // float32 tanh: the eager kernels' function
    setCodeGenerationAllowed(false);
    const interpreted = compile(f);
    expect(arr(interpreted(x, y))).toEqual(expected);
    expect(interpreted.inspect(x, y).code).toBeNull();
  });

  test("float32 and int32 chains are bit-identical to eager (rounding on every step, wrap-around, truncation)", () => {
    const x = randomNormal([1000], { seed: 9 }).mul(40);
    const chain = (v: Tensor): Tensor[] => {
      const a = v.exp().mul(1.1).sub(v.sin()).div(v.abs().add(0.5)).sigmoid().log1p().sqrt();
      const i = v.mul(1e6).cast("int32");
      const wrapped = i.add(i).mul(i).sub(7);
      const mask = v.greater(0);
      return [a, wrapped, mask, mask.cast("float32").mul(v).relu().tanh()];
    };
    const eager = chain(x);
    compile(chain)(x).forEach((t, k) => {
      expect(t.dtype).toBe(eager[k]!.dtype);
      expect(arr(t)).toEqual(arr(eager[k]!));
    });
  });

  test("a long scalar chain's gradient is one loop, run as one wasm function or cut into functions, bit-identical to eager", () => {
    const chain = (x: Tensor): Tensor => {
      let y = x;
      for (let i = 0; i < 300; i++) y = y.mul(1.0001).tanh();
      return y;
    };
    const x = tensor(0.5);
    const eager = gradient(x, chain).item();
    const g = compile((x: Tensor) => gradient(x, chain));
    expect(g(x).item()).toBe(eager);
    const { optimized, code } = g.inspect(x);
    expect(optimized.match(/= fused/g)).toHaveLength(1);
    expect(code).toMatch(/^ +w0\(\);$/m);
    expect(code).not.toMatch(/^function k/m);
    // Without wasm: functions of at most 128 nodes over locals.
    setChainWasmAllowed(false);
    try {
      const js = compile((x: Tensor) => gradient(x, chain));
      expect(js(x).item()).toBe(eager);
      const source = js.inspect(x).code!;
      expect(source.match(/^function k\d+\(R\)/gm)!.length).toBeGreaterThan(4);
      expect(source).not.toMatch(/w0\(\)/);
    } finally {
      setChainWasmAllowed(undefined);
    }
  });

  test("generated code holds generated names only, never text from user code", () => {
    const weird = customDerivative((x: Tensor) => x.mul(2), { vjp: (x) => ({ value: x.mul(2), pullback: (v) => v.mul(2) }) });
    const f = compile((x: Tensor) => gradient(x, (y) => weird(y).sum()));
    const { code } = f.inspect(tensor([1]));
    for (const line of code!.split("\n")) expect(line).toMatch(/^[\w\s{}();=[\],.<>+\-*/|!?:"'&%]*$/);
  });
});
