/**
 * The thread pool: the setting, and bit-identical results whatever the thread count for every kernel it
 * splits (matrix products in every operand layout, convolutions forward and both backward passes, 2x2 max
 * pooling, the SIMD elementwise ops, reductions and arg-reductions), at sizes above the parallel thresholds.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  add, conv2d, conv2dBackpropFilter, conv2dBackpropInput, exp, getThreadCount, matmul, max, maxPool2d, mul, randomNormal, setThreadCount,
  sigmoid, sub, sum, tanh, type Tensor,
} from "../../src/index.js";
import { chunksRunByWorkers, threadsSupported, workersReady } from "../../src/tensor/wasm/threads.js";

let initial = 1;
beforeAll(() => {
  initial = getThreadCount();
});
afterAll(() => {
  setThreadCount(initial);
});

/** Runs `f` at `threads` threads (waiting for the workers to start) and returns the raw bits of each result. */
async function at(threads: number, f: () => Tensor[]): Promise<Uint32Array[]> {
  setThreadCount(threads);
  await workersReady();
  return f().map((t) => new Uint32Array(t.dataSync().buffer));
}

/** Where two lists of bit arrays first differ ("none" when they are identical). */
function firstDifference(x: Uint32Array[], y: Uint32Array[]): string {
  if (x.length !== y.length) return `${x.length} results against ${y.length}`;
  for (let r = 0; r < x.length; r++) {
    const a = x[r]!, b = y[r]!;
    if (a.length !== b.length) return `result ${r}: length ${a.length} against ${b.length}`;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `result ${r}, element ${i}: bits ${a[i]} against ${b[i]}`;
  }
  return "none";
}

describe("setThreadCount", () => {
  it("validates its argument and returns the previous setting", () => {
    const before = getThreadCount();
    expect(before).toBeGreaterThanOrEqual(1);
    expect(setThreadCount(1)).toBe(before);
    expect(getThreadCount()).toBe(1);
    expect(() => setThreadCount(0)).toThrow(/setThreadCount: count must be a whole number from 1 to 16, got 0/);
    expect(() => setThreadCount(2.5)).toThrow(/got 2.5/);
    expect(() => setThreadCount(Number.NaN)).toThrow(RangeError);
    expect(getThreadCount()).toBe(1);
    setThreadCount(before);
  });
});

describe.skipIf(!threadsSupported())("results are bit-identical for any thread count", () => {
  const cases: [string, () => Tensor[]][] = [
    ["matmul 256x300 · 300x200, all transposes", () => {
      const a = randomNormal([256, 300], { seed: 1 }), b = randomNormal([300, 200], { seed: 2 });
      return [matmul(a, b), matmul(a.transpose(), a), matmul(b, b.transpose()), matmul(randomNormal([40, 600], { seed: 3 }), randomNormal([600, 333], { seed: 4 }))];
    }],
    ["conv2d b8 14x14x32→64 forward and both backprops", () => {
      const x = randomNormal([8, 14, 14, 32], { seed: 5 }), w = randomNormal([3, 3, 32, 64], { seed: 6 });
      const y = conv2d(x, w, { padding: "same" });
      return [y, conv2dBackpropInput(y, w, x.shape, { padding: "same" }), conv2dBackpropFilter(x, y, w.shape, { padding: "same" })];
    }],
    ["conv2d b8 28x28x1→32 (few input channels) forward and both backprops", () => {
      const x = randomNormal([8, 28, 28, 1], { seed: 7 }), w = randomNormal([3, 3, 1, 32], { seed: 8 });
      const y = conv2d(x, w, { padding: "same" });
      return [y, conv2dBackpropInput(y, w, x.shape, { padding: "same" }), conv2dBackpropFilter(x, y, w.shape, { padding: "same" })];
    }],
    ["conv2d with strides, dilations, asymmetric padding and ragged channel counts, forward and both backprops", () => {
      const out: Tensor[] = [];
      for (const [xs, ws, o] of [
        [[16, 20, 21, 5], [3, 3, 5, 24], { strides: 2, padding: [[2, 0], [1, 1]] }],
        [[8, 16, 16, 12], [3, 3, 12, 20], { dilations: 2, padding: "same" }],
        [[4, 12, 12, 64], [3, 3, 64, 40], { padding: "same" }],
      ] as const) {
        const x = randomNormal([...xs], { seed: 14 }), w = randomNormal([...ws], { seed: 15 });
        const y = conv2d(x, w, o);
        out.push(y, conv2dBackpropInput(y, w, x.shape, o), conv2dBackpropFilter(x, y, w.shape, o));
      }
      return out;
    }],
    ["2x2 max pooling of b16 28x28x32", () => [maxPool2d(randomNormal([16, 28, 28, 32], { seed: 13 }), { size: 2 })]],
    ["elementwise and reductions on 600k elements", () => {
      const a = randomNormal([600, 1000], { seed: 9 }), b = randomNormal([600, 1000], { seed: 10 }), c = randomNormal([1000], { seed: 11 });
      return [add(a, b), mul(a, c), sub(a, 1), exp(a), tanh(a), sigmoid(a), sum(a), sum(a, 1), sum(a, 0), max(a, 1), sum(a.reshape([600000])), a.argmax(1), a.argmin(0)];
    }],
  ];
  for (const [name, f] of cases) {
    it(name, async () => {
      const one = await at(1, f);
      const two = await at(2, f);
      const three = await at(3, f);
      expect(firstDifference(two, one)).toBe("none");
      expect(firstDifference(three, one)).toBe("none");
    });
  }

  it("worker threads never keep Node alive: a program that used them exits by itself", () => {
    const entry = pathToFileURL(fileURLToPath(new URL("../../src/index.ts", import.meta.url))).href;
    const pool = pathToFileURL(fileURLToPath(new URL("../../src/tensor/wasm/threads.ts", import.meta.url))).href;
    const program = [
      `import { matmul, randomNormal, setThreadCount } from ${JSON.stringify(entry)};`,
      `import { chunksRunByWorkers, workersReady } from ${JSON.stringify(pool)};`,
      "setThreadCount(2);",
      "await workersReady();",
      "const a = randomNormal([512, 512]);",
      "for (let i = 0; i < 20 && chunksRunByWorkers() === 0; i++) matmul(a, a);",
      "console.log(`workers ran ${chunksRunByWorkers() > 0 ? 'some' : 'no'} chunks`);",
    ].join("\n");
    // A file, not `-e`: under `-e` tsx loads the two imports as separate module instances.
    const dir = mkdtempSync(join(tmpdir(), "difftypes-threads-"));
    const file = join(dir, "program.mjs");
    writeFileSync(file, program);
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const r = spawnSync(process.execPath, ["--import", "tsx", file], { cwd: root, encoding: "utf8", timeout: 60_000 });
    rmSync(dir, { recursive: true, force: true });
    expect(r.stdout.trim()).toBe("workers ran some chunks");
    expect(r.status).toBe(0); // null if the timeout had to kill it
  });

  it("the workers take part in convolutions, forward and filter gradient", async () => {
    setThreadCount(2);
    await workersReady();
    const x = randomNormal([8, 14, 14, 32], { seed: 16 }), w = randomNormal([3, 3, 32, 64], { seed: 17 });
    for (const pass of [() => conv2d(x, w, { padding: "same" }), () => conv2dBackpropFilter(x, conv2d(x, w, { padding: "same" }), w.shape, { padding: "same" })]) {
      const before = chunksRunByWorkers();
      for (let i = 0; i < 20 && chunksRunByWorkers() === before; i++) pass();
      expect(chunksRunByWorkers()).toBeGreaterThan(before);
    }
  });

  it("the workers take part in large products", async () => {
    setThreadCount(2);
    await workersReady();
    const before = chunksRunByWorkers();
    const a = randomNormal([512, 512], { seed: 12 });
    for (let i = 0; i < 20 && chunksRunByWorkers() === before; i++) matmul(a, a);
    expect(chunksRunByWorkers()).toBeGreaterThan(before);
  });
});
