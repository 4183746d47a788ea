/**
 * The engine's levels: tracer state lives in the engine, not in `Tensor`; a level decides what an op means at
 * it (`Trace.process`), so a new kind of level plugs into `bind` without touching any primitive.
 */
import { describe, expect, test } from "vitest";
import { tensor, zeros, Tensor, gradient, derivative, valueWithPullback, matmul } from "../../src/index.js";
import { Trace, bind, currentLevel, isTracer, settled, traceOf, withLevel } from "../../src/autodiff/trace.js";
import { Tracer } from "../../src/autodiff/tracer.js";
import { TapeTrace, TapeTracer } from "../../src/autodiff/tape.js";
import { JvpTracer } from "../../src/autodiff/forward.js";
import type { Primitive } from "../../src/autodiff/primitive.js";

describe("tracer state is the engine's", () => {
  test("a concrete tensor carries its shape, dtype and data, and no slot for tracing", () => {
    const t = tensor([1, 2]);
    expect(Object.keys(t).sort()).toEqual(["_data", "dtype", "shape"]);
    for (const k of ["_trace", "_primal", "_tangent", "_node"]) expect(k in t).toBe(false);
    expect(isTracer(t)).toBe(false);
    expect(traceOf(t)).toBeUndefined();
  });

  test("inside an operator, inputs are tracers of that operator's level and still Tensors", () => {
    gradient(tensor([1, 2]), (x) => {
      expect(x).toBeInstanceOf(Tensor);
      expect(x).toBeInstanceOf(TapeTracer);
      expect(traceOf(x)!.level).toBe(currentLevel());
      return x.sum();
    });
    derivative(1, (x) => {
      expect(x).toBeInstanceOf(JvpTracer);
      return x;
    });
  });

  test("a closed reverse-mode level lets go of its tape; its tracers settle to their values", () => {
    let kept: Tensor | undefined;
    const { pullback } = valueWithPullback(tensor([1, 2]), (x) => (kept = x.mul(3)));
    const level = traceOf(kept!) as TapeTrace;
    expect(level.active).toBe(false);
    expect(level.tape).toBeNull();
    expect(settled(kept!)).not.toBeInstanceOf(Tracer);
    expect(settled(kept!).toArray()).toEqual([3, 6]);
    expect(pullback(tensor([1, 1])).toArray()).toEqual([3, 3]); // the pullback holds the tape itself
  });
});

// ---------------------------------------------------------------------------------------------------------
// A third kind of level, written here with no change to any primitive: it stages a program. Its tracers have
// a shape and a dtype but no data; `process` records each op and finds the output's shape and dtype by
// running the kernel on zeros (a stand-in for an abstract evaluation rule).

class StagedTracer extends Tracer {
  readonly _primal = undefined;
  constructor(
    trace: StagingTrace,
    shape: readonly number[],
    dtype: Tensor["dtype"],
    readonly id: number,
  ) {
    super(trace, shape, dtype);
  }
}

class StagingTrace extends Trace {
  readonly program: string[] = [];
  private next = 0;

  variable(shape: readonly number[]): StagedTracer {
    return new StagedTracer(this, shape, "float32", this.next++);
  }

  process<P>(prim: Primitive<P>, inputs: readonly Tensor[], params: P): Tensor {
    const examples = inputs.map((x) => (traceOf(x) === this ? zeros(x.shape, { dtype: x.dtype }) : x));
    const out = prim.impl(examples, params);
    const r = new StagedTracer(this, out.shape, out.dtype, this.next++);
    const name = (x: Tensor): string => (traceOf(x) === this ? `v${(x as StagedTracer).id}` : `const[${x.shape.join(",")}]`);
    this.program.push(`v${r.id} = ${prim.name}(${inputs.map(name).join(", ")})`);
    return r;
  }
}

describe("a staging level plugs into bind", () => {
  test("records a program from tracers without data, through the same primitives", () => {
    const program = withLevel(
      (level) => new StagingTrace(level),
      (staging) => {
        const x = staging.variable([2, 3]);
        const w = staging.variable([3, 4]);
        const y = matmul(x, w).tanh().sum(1);
        expect(y.shape).toEqual([2]);
        expect(y.dtype).toBe("float32");
        expect(() => y.toArray()).toThrow(/placeholder while a function is being staged and has no values yet/);
        return staging.program;
      },
    );
    expect(program).toHaveLength(3);
    expect(program[0]).toMatch(/^v2 = matmul\(v0, v1\)$/);
    expect(program[1]).toMatch(/^v3 = tanh\(v2\)$/);
    expect(program[2]).toMatch(/^v4 = sum\(v3\)$/);
  });

  test("derivative levels nest above it: the gradient's own ops are staged too", () => {
    const program = withLevel(
      (level) => new StagingTrace(level),
      (staging) => {
        const x = staging.variable([3]);
        const g = gradient(x, (v) => v.mul(v).sum());
        expect(g.shape).toEqual([3]);
        expect(traceOf(g)).toBe(staging);
        return staging.program;
      },
    );
    // Forward: mul, sum. Backward: sum's VJP broadcasts the seed, mul's VJP multiplies twice and adds.
    expect(program.slice(0, 2).map((l) => l.split(" = ")[1]!.split("(")[0])).toEqual(["mul", "sum"]);
    expect(program.length).toBeGreaterThan(3);
  });

  test("bind sends an op on concrete tensors straight to the kernel, whatever level is open", () => {
    withLevel(
      (level) => new StagingTrace(level),
      (staging) => {
        const c = bind({ name: "twice", impl: ([a]) => a!.mul(2), jvp: () => null, vjp: () => [null] }, [tensor([1])], undefined);
        expect(c.toArray()).toEqual([2]);
        expect(staging.program).toEqual([]);
      },
    );
  });
});
