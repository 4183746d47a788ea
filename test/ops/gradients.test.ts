/**
 * The gradient-check table: every primitive (and the derived ops built on them) checked against central
 * finite differences in float64, forward and reverse mode, first and second order, by the library's own
 * public checker. Each family contributes its rows in `rows/`; a new op is one row.
 */
import { describe, expect, test } from "vitest";
import { checkGradients } from "../../src/index.js";
import type { GradRow } from "../helpers/rows.js";

const families = import.meta.glob<{ rows: GradRow[] }>("./rows/*.ts", { eager: true });

for (const [file, mod] of Object.entries(families)) {
  describe(file.replace("./rows/", "").replace(".ts", ""), () => {
    test.each(mod.rows.map((r) => [r.name, r] as const))("%s", (_name, row) => {
      const report = checkGradients(row.f, row.inputs(), { order: row.firstOrderOnly ? 1 : 2, ...row.options });
      expect(report.maxError).toBeLessThanOrEqual(1);
    });
  });
}

test("the table covers every family", () => {
  expect(Object.keys(families).length).toBeGreaterThanOrEqual(1);
});
