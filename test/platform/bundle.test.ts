/**
 * The package root bundles for browsers: no Node module anywhere in its import graph, no Node types in
 * its declarations, and sizes within budget. The bundled Dense + Adam program also runs in a bare
 * JavaScript context (no `process`, no `require`, no Node globals).
 */
import { readFileSync } from "node:fs";
import * as vm from "node:vm";
import { expect, test } from "vitest";
import { BUDGETS, bundleDenseAdam, bundleForBrowser, bundleLibrary } from "../../scripts/bundle-size.js";

const describeImports = (imports: readonly { importer: string; path: string }[]): string =>
  imports.map((i) => `${i.importer} imports ${i.path}`).join("; ");

test("the package root imports no Node module", async () => {
  const bundle = await bundleLibrary();
  expect(bundle.nodeImports, describeImports(bundle.nodeImports)).toEqual([]);
  expect(bundle.inputs).toContain("src/checkpoint/checkpoint.ts");
  expect(bundle.inputs).toContain("src/layers/phase.ts");
  expect(bundle.inputs).not.toContain("src/checkpoint/files.ts");
  // Besides the sources, only runtime dependencies (package-lock entries not marked dev) are bundled.
  const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as { packages: Record<string, { dev?: boolean }> };
  const runtime = Object.entries(lock.packages).filter(([name, p]) => name !== "" && p.dev !== true).map(([name]) => `${name}/`);
  const foreign = bundle.inputs.filter((f) => !f.startsWith("src/") && !runtime.some((r) => f.startsWith(r)));
  expect(foreign).toEqual([]);
});

test("the check finds Node imports, and names who imports them (difftypes/node is Node-only)", async () => {
  const bundle = await bundleForBrowser({ contents: `export * from "./src/node.ts";` });
  expect(bundle.nodeImports).toEqual(
    expect.arrayContaining([
      { importer: "src/checkpoint/files.ts", path: "node:fs/promises" },
      { importer: "src/checkpoint/files.ts", path: "node:path" },
      { importer: "src/checkpoint/files.ts", path: "node:crypto" },
    ]),
  );
});

test("no module of the root pulls in Node's type declarations", async () => {
  const bundle = await bundleLibrary();
  const withNodeTypes = bundle.inputs.filter((f) => /\/\/\/\s*<reference\s+types="node"/.test(readFileSync(f, "utf8")));
  expect(withNodeTypes).toEqual([]);
});

test("bundle sizes stay within budget (gzipped)", async () => {
  const [full, denseAdam] = await Promise.all([bundleLibrary(), bundleDenseAdam()]);
  expect(full.gzippedBytes).toBeLessThanOrEqual(BUDGETS.fullLibrary);
  expect(denseAdam.gzippedBytes).toBeLessThanOrEqual(BUDGETS.denseAdam);
  // Tree shaking works: a small program carries much less than the whole library.
  expect(denseAdam.minifiedBytes).toBeLessThan(0.8 * full.minifiedBytes);
});

test("the bundled Dense + Adam program trains in a bare JavaScript context", async () => {
  const { code } = await bundleDenseAdam();
  const printed: string[] = [];
  const context = vm.createContext({ console: { log: (s: unknown) => printed.push(String(s)) } });
  vm.runInContext(code, context, { timeout: 30_000 });
  expect(printed).toHaveLength(1);
  const values = [...printed[0]!.matchAll(/-?\d+\.\d+(?:e[+-]?\d+)?/g)].map((m) => Number(m[0]));
  // y = x0 + x1 is linear: 200 Adam steps fit it closely.
  expect(values).toHaveLength(4);
  values.forEach((v, i) => expect(v).toBeCloseTo([0, 1, 1, 2][i]!, 1));
});
