/**
 * Compiled float32 exp, log, tanh and sigmoid compute eager's bits: fused loops over tiny arrays call the
 * eager kernels' scalar functions, larger arrays run the kernels themselves; generated code, the interpreter
 * and the fused-loop interpreter all agree with eager bit for bit. Float64 code keeps the Math functions.
 */
import { afterEach, describe, expect, test } from "vitest";
import { compile, randomNormal, type Tensor } from "../../src/index.js";
import { generate, interpret, setCodeGenerationAllowed } from "../../src/staged/execute.js";
import { fuse } from "../../src/staged/fuse.js";
import { trace } from "../../src/staged/tracing.js";
import { WASM_MIN_HEAVY } from "../../src/tensor/wasm/elementwise.js";

afterEach(() => setCodeGenerationAllowed(undefined));

const chain = (v: Tensor): Tensor => v.exp().mul(2).tanh().log().sigmoid();
const bits = (t: Tensor): Uint32Array => new Uint32Array((t.dataSync() as Float32Array).slice().buffer);
/** The first element whose bits differ, or "none". */
function firstDifference(a: Uint32Array, b: Uint32Array): string {
  if (a.length !== b.length) return `length ${a.length} against ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `element ${i}: bits ${a[i]} against ${b[i]}`;
  return "none";
}

describe("compiled float32 transcendental functions", () => {
  for (const n of [10, 100, 100_000]) {
    test(`exp, mul, tanh, log, sigmoid at size ${n}: generated code and interpreter equal eager bit for bit`, () => {
      const x = randomNormal([n], { seed: 5 }).mul(3);
      const eager = bits(chain(x));
      const code = compile(chain);
      expect(firstDifference(bits(code(x)), eager)).toBe("none");
      const source = code.inspect(x).code!;
      expect(source).not.toMatch(/Math\.(exp|tanh|log)\(/);
      // tiny arrays fuse and call the scalar functions; from WASM_MIN_HEAVY elements the kernels run
      if (n < WASM_MIN_HEAVY) expect(source).toMatch(/F0\(.*F2\(.*F1\(.*F3\(/s);
      else expect(source).not.toMatch(/F\d\(/);
      setCodeGenerationAllowed(false);
      const interpreted = compile(chain);
      expect(interpreted.inspect(x).code).toBeNull();
      expect(firstDifference(bits(interpreted(x)), eager)).toBe("none");
    });
  }

  test("a fused loop run by the interpreter (its scalar evaluation) equals eager bit for bit", () => {
    const p = trace((b) => b.finish([chain(b.input([12], "float32"))])).result;
    const fused = fuse(p);
    expect(fused.equations.length).toBe(1);
    const x = randomNormal([12], { seed: 6 }).mul(3);
    const eager = bits(chain(x));
    expect(firstDifference(bits(interpret(fused)([x])[0]!), eager)).toBe("none");
    expect(firstDifference(bits(generate(fused)([x])[0]!), eager)).toBe("none");
  });

  test("float64 code keeps the Math functions", () => {
    const x = randomNormal([50], { seed: 7, dtype: "float64" });
    const code = compile(chain);
    expect(Array.from(code(x).dataSync())).toEqual(Array.from(chain(x).dataSync()));
    expect(code.inspect(x).code).toMatch(/Math\.exp\(.*Math\.tanh\(.*Math\.log\(.*Math\.exp\(/s);
  });
});
