/**
 * Each pass on its own, checked on the printed program, and each switch of `compile` changes the program but
 * never the results.
 */
import { describe, expect, test } from "vitest";
import { compile, tensor, randomNormal, Tensor } from "../../src/index.js";
import { trace } from "../../src/staged/tracing.js";
import { printProgram, type Program } from "../../src/staged/ir.js";
import { dce, cse, foldConstants } from "../../src/staged/passes.js";
import { fuse, reuseBuffers } from "../../src/staged/fuse.js";
import { knownPrimitives } from "../../src/staged/elementwise.js";
import { interpret, generate } from "../../src/staged/execute.js";

/** The traced program of `f` on staged inputs of the given shapes (float32). */
function programOf(f: (...xs: Tensor[]) => Tensor | Tensor[], ...shapes: number[][]): Program {
  return trace((b) => {
    const y = f(...shapes.map((s) => b.input(s, "float32")));
    return b.finish(Array.isArray(y) ? y : [y]);
  }).result;
}

const lines = (p: Program): string[] => printProgram(p).split("\n").map((l) => l.trim());

describe("the printout", () => {
  test("one equation per line, typed variables, params, constants", () => {
    const p = programOf((x) => x.mul(2).sum(0), [2, 3]);
    expect(lines(p)).toEqual([
      "{ lambda a:f32[2,3] .",
      "b:f32[] = const 2",
      "c:f32[2,3] = mul a b",
      "d:f32[3] = sum [axes=[0] keepDims=false] c",
      "in (d) }",
    ]);
  });
});

describe("dead-code elimination", () => {
  test("drops equations and constants no output needs", () => {
    const p = programOf((x) => {
      x.exp().mul(3);
      return x.add(1);
    }, [2]);
    expect(printProgram(p)).toContain("exp");
    const q = dce(p);
    expect(lines(q)).toEqual(["{ lambda a:f32[2] .", "e:f32[] = const 1", "f:f32[2] = add a e", "in (f) }"]);
  });
});

describe("common-subexpression elimination", () => {
  test("one equation for the same op on the same inputs; equal scalars merged", () => {
    const p = programOf((x) => x.exp().mul(2).add(x.exp().mul(2)), [2]);
    expect(p.equations.filter((e) => e.prim.name === "exp")).toHaveLength(2);
    const q = dce(cse(p));
    expect(lines(q)).toEqual([
      "{ lambda a:f32[2] .",
      "c:f32[] = const 2",
      "b:f32[2] = exp a",
      "d:f32[2] = mul b c",
      "g:f32[2] = add d d",
      "in (g) }",
    ]);
  });

  test("different params are different expressions", () => {
    const q = cse(programOf((x) => x.sum(0).add(x.sum(1)), [2, 2]));
    expect(q.equations.filter((e) => e.prim.name === "sum")).toHaveLength(2);
  });
});

describe("constant folding", () => {
  test("an equation over constants becomes a constant computed once", () => {
    const exp = [...knownPrimitives()!.ops.entries()].find(([, op]) => op.name === "exp")![0];
    const mul = [...knownPrimitives()!.ops.entries()].find(([, op]) => op.name === "mul")![0];
    const p = trace((b) => {
      const x = b.input([2], "float32");
      const e = b.record(exp, [tensor(0)], undefined);
      return b.finish([b.record(mul, [x, e], undefined)]);
    }).result;
    expect(lines(p)[2]).toBe("c:f32[] = exp b");
    const q = foldConstants(p);
    expect(lines(q)).toEqual(["{ lambda a:f32[2] .", "c:f32[] = const 1", "d:f32[2] = mul a c", "in (d) }"]);
  });
});

describe("fusion", () => {
  test("an elementwise chain becomes one loop reading each operand once", () => {
    const q = fuse(programOf((x, y) => x.mul(y).add(1).exp().neg(), [4], [4]));
    expect(lines(q)).toEqual([
      "{ lambda a:f32[4] b:f32[4] .",
      "d:f32[] = const 1",
      "g:f32[4] = fused [mul→add→exp→neg reads=full,full,scalar] a b d",
      "in (g) }",
    ]);
  });

  test("values used outside the chain end it; an intermediate that is also a result is stored by the loop", () => {
    const q = fuse(programOf((x) => {
      const e = x.exp();
      return [e.add(1), e.sum()];
    }, [3]));
    // exp feeds a reduction, so it is materialised by its own loop.
    expect(lines(q).filter((l) => l.includes("fused"))).toEqual(["b:f32[3] = fused [exp reads=full] a", "d:f32[3] = fused [add reads=full,scalar] b c"]);
    const r = fuse(programOf((x) => {
      const e = x.exp();
      return [e.add(1), e];
    }, [3]));
    expect(lines(r).filter((l) => l.includes("fused"))).toEqual(["d:f32[3] = fused [exp→add reads=full,scalar outputs=2] a c"]);
  });

  test("a value read by several loops that only store results merges them into one loop (an optimizer's per-leaf update)", () => {
    // m and v are stored and read again by the update: one loop computes and stores all three.
    const q = fuse(programOf((g, m, v) => {
      const m1 = m.mul(0.9).add(g.mul(0.1));
      const v1 = v.mul(0.99).add(g.square().mul(0.01));
      return [m1.cast("float64"), v1.cast("float64"), m1.div(v1.sqrt().add(1e-8))];
    }, [4], [4], [4]));
    const fused = lines(q).filter((l) => l.includes("fused"));
    expect(fused).toHaveLength(1);
    expect(fused[0]).toMatch(/outputs=3/);
    // A group whose root is read by another equation before the merged loop would run cannot move.
    const r = fuse(programOf((g, m) => {
      const m1 = m.add(g);
      const stored = m1.neg();
      return [stored.sum(), m1.mul(g).add(stored.sum())];
    }, [4], [4]));
    expect(lines(r).filter((l) => l.includes("fused")).length).toBeGreaterThan(1);
    const x = [tensor([1, 2, 3, 4]), tensor([0.5, -1, 2, 0]), tensor([1, 1, 2, 3])];
    for (const p of [q, r]) {
      const want = interpret(p)(x).map((t) => Array.from(t.dataSync()));
      expect(generate(p)(x).map((t) => Array.from(t.dataSync()))).toEqual(want);
    }
  });

  test("matmul + bias + activation: the bias is read as a repeating row and the loop writes into the matmul's output", () => {
    const p = programOf((x, w, b) => x.matmul(w).add(b).relu(), [8, 4], [4, 3], [3]);
    const q = reuseBuffers(fuse(p));
    expect(lines(q)).toEqual([
      "{ lambda a:f32[8,4] b:f32[4,3] c:f32[3] .",
      "d:f32[8,3] = matmul [transposeA=false transposeB=false] a b",
      "f:f32[8,3] = fused [add→relu reads=full,suffix3 inPlace=0] d c",
      "in (f) }",
    ]);
  });

  test("buffer reuse follows liveness: no write into a value still needed, an input, or a shared (reshaped) buffer", () => {
    const live = reuseBuffers(fuse(programOf((x, w) => {
      const m = x.matmul(w);
      return [m.relu(), m];
    }, [2, 2], [2, 2])));
    expect(printProgram(live)).not.toContain("inPlace");
    const input = reuseBuffers(fuse(programOf((x) => x.exp(), [3])));
    expect(printProgram(input)).not.toContain("inPlace");
    const shared = reuseBuffers(fuse(programOf((x, w) => {
      const m = x.matmul(w);
      return [m.relu(), m.reshape([4])];
    }, [2, 2], [2, 2])));
    expect(printProgram(shared)).not.toContain("inPlace");
  });

  test("a fused program gives the same results interpreted and generated, with and without reuse", () => {
    const f = (x: Tensor, w: Tensor, b: Tensor): Tensor[] => {
      const h = x.matmul(w).add(b).tanh();
      return [h.mul(h).sub(h.sigmoid()), h.sum(1)];
    };
    const p = programOf(f, [5, 4], [4, 3], [3]);
    const args = [randomNormal([5, 4], { seed: 1 }), randomNormal([4, 3], { seed: 2 }), randomNormal([3], { seed: 3 })];
    const expected = f(...(args as [Tensor, Tensor, Tensor])).map((t) => Array.from(t.dataSync()));
    for (const q of [p, fuse(p), reuseBuffers(fuse(p))]) {
      for (const run of [interpret(q), generate(q)]) expect(run(args).map((t) => Array.from(t.dataSync()))).toEqual(expected);
    }
  });
});

describe("switches", () => {
  test("turning passes off changes the program, never the results", () => {
    const f = (x: Tensor): Tensor => x.exp().add(x.exp()).mul(2).relu();
    const x = tensor([-1, 0.5, 2]);
    const all = compile(f);
    const none = compile(f, { foldConstants: false, eliminateCommonSubexpressions: false, eliminateDeadCode: false, fuse: false, reuseBuffers: false });
    expect(Array.from(none(x).dataSync())).toEqual(Array.from(all(x).dataSync()));
    expect(all.inspect(x).optimized).toContain("fused");
    expect(none.inspect(x).optimized).not.toContain("fused");
    expect(none.inspect(x).optimized.match(/exp/g)).toHaveLength(2);
    expect(all.inspect(x).optimized.match(/exp/g)).toHaveLength(1);
  });
});
