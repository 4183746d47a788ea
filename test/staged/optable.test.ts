/**
 * Every row of the gradient-check table, compiled: the forward value, the gradient staged inside (reverse
 * mode), the gradient and the differential taken of the compiled function from outside, agree with eager;
 * and the compiled function passes the finite-difference checker (forward and reverse, second order), which
 * exercises the derivative programs of `call`.
 */
import { describe, expect, test } from "vitest";
import { checkGradients, compile, gradient, differential, Tensor } from "../../src/index.js";
import { setCodeGenerationAllowed } from "../../src/staged/execute.js";
import { uniform, type GradRow } from "../helpers/rows.js";

const families = import.meta.glob<{ rows: GradRow[] }>("../ops/rows/*.ts", { eager: true });

function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

function expectClose(actual: Tensor, expected: Tensor, rel = 1e-10): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = values(actual);
  const e = values(expected);
  for (let i = 0; i < e.length; i++) expect(Math.abs(a[i]! - e[i]!)).toBeLessThanOrEqual(rel * (1 + Math.abs(e[i]!)));
}

/** A fixed weighting of the output, so that every element gets its own cotangent. */
function weightsFor(y: Tensor): Tensor {
  return uniform(y.shape, 99, 0.5, 1.5).cast(y.dtype);
}

for (const [file, mod] of Object.entries(families)) {
  describe(`compiled ${file.replace("../ops/rows/", "").replace(".ts", "")}`, () => {
    test.each(mod.rows.map((r) => [r.name, r] as const))("%s", (_name, row) => {
      const xs = row.inputs();
      const eager = row.f(...xs);
      const f = compile(row.f);

      // Forward: generated code, then the interpreter, both equal to eager to the last bit.
      expect(values(f(...xs))).toEqual(values(eager));
      setCodeGenerationAllowed(false);
      try {
        expect(values(compile(row.f)(...xs))).toEqual(values(eager));
      } finally {
        setCodeGenerationAllowed(undefined);
      }

      const w = weightsFor(eager);
      const loss = (...ys: Tensor[]): Tensor => row.f(...ys).mul(w).sum();
      const expected = gradient(xs, (ys) => loss(...ys));

      // Reverse mode staged inside the program.
      const inside = compile((...ys: Tensor[]) => gradient(ys, (zs) => loss(...zs)));
      inside(...xs).forEach((g, i) => expectClose(g, expected[i]!));
      // Reverse mode of the compiled function (its pullback is a program).
      const outside = gradient(xs, (ys) => f(...ys).mul(w).sum());
      outside.forEach((g, i) => expectClose(g, expected[i]!));
      // Forward mode of the compiled function (its differential is a program).
      const ts = xs.map((x, i) => uniform(x.shape, 200 + i).cast(x.dtype));
      expectClose(differential(xs, (ys) => f(...ys))(ts), differential(xs, (ys) => row.f(...ys))(ts));

      // Finite differences, forward and reverse, to the row's order.
      const report = checkGradients(f, xs, { order: row.firstOrderOnly ? 1 : 2, ...row.options });
      expect(report.maxError).toBeLessThanOrEqual(1);
      // One signature, one trace, whatever the number of calls and derivatives taken.
      expect(f.stats.traces).toBe(1);
    });
  });
}

test("the table is found", () => {
  expect(Object.keys(families).length).toBeGreaterThanOrEqual(4);
});
