/**
 * Runs the benchmarks: every `bench/*.bench.ts`, in file-name order, in this one process.
 *
 * Usage: `npm run bench -- [name] [--quick] [--case=TEXT] [--rounds=N] [--target-ms=N]`
 * - `name`: only the bench files whose name contains it (`npm run bench -- tensor`);
 * - `--quick`: 2 rounds of ~50 ms and no `slow` contenders, a smoke test for CI;
 * - `--case=TEXT`: only the cases whose title contains TEXT (`--case=matmul`);
 * - `--rounds`, `--target-ms`: rounds per case and the duration of one timed batch.
 *
 * The convention every bench file follows: it exports `async function main(): Promise<void>`, which runs
 * its cases with the harness and saves `bench/results/<name>.json`, and ends with
 * `runIfMain(import.meta.url, main)`, so that `npx tsx bench/<name>.bench.ts` runs it alone and importing
 * it here runs nothing until `main` is called.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { options } from "./harness.js";

const dir = fileURLToPath(new URL(".", import.meta.url));
const filter = options().positional[0]?.toLowerCase();
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts") && (filter === undefined || f.toLowerCase().includes(filter)))
  .sort();

if (files.length === 0) {
  console.error(`bench: no bench/*.bench.ts file matches '${filter ?? ""}'`);
  process.exitCode = 1;
} else {
  const t0 = performance.now();
  const failed: string[] = [];
  for (const f of files) {
    try {
      const mod = (await import(pathToFileURL(resolve(dir, f)).href)) as { main?: unknown };
      if (typeof mod.main !== "function") throw new TypeError(`${f} must export 'async function main(): Promise<void>'`);
      await (mod.main as () => Promise<void>)();
    } catch (e) {
      console.error(`\nbench ${f} failed:`, e);
      failed.push(f);
    }
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`\nbench: ${files.length - failed.length}/${files.length} files ran in ${secs} s${failed.length ? `; failed: ${failed.join(", ")}` : ""}`);
  if (failed.length > 0) process.exitCode = 1;
}
