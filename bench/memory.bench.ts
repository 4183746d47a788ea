/**
 * Memory over a long training run: Adam steps of a tiny MLP (2-16-16-1, batch 32, tanh, mean squared error),
 * heap and RSS measured after a forced garbage collection at steps 100, 2,000 and 4,000, in a child process
 * per loop started with `--expose-gc` (the growth from step 100 leaves out the one-time costs of start-up: the
 * kernels' wasm memory, the worker threads; a loop run after another would inherit its allocator's state). Two
 * loops: one that never yields to the event loop, one that yields every 100 steps. The target is flat memory:
 * at most 4 MB of growth, heap and RSS, over the first 2,000 steps.
 *
 * Each tiny-MLP loop runs twice: as is, and with V8's optimizing compiler off (`--no-opt`). The library
 * allocates the same arrays in both runs; the difference in RSS growth is V8 compiling hot functions
 * (optimized code and the compiler's own memory), which stops once the code is warm: compare the growth from
 * step 2,000 to 4,000.
 *
 * Then the same for 1,000 calls of `add` on two 1e6-element float32 tensors (4 MB results), from call 100,
 * never yielding and yielding after every call: with JS arrays (storage in the kernels' memory off), then
 * with storage in the kernels' memory (`src/tensor/wasm/arena.ts`), with the size of its region, which never
 * shrinks. Prints its figures (no JSON file).
 *
 * Run alone: `npx tsx bench/memory.bench.ts`; or `npm run bench -- memory`.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Adam, add, differentiable, randomNormal, randomUniform, tensor, valueWithGradient, type Tensor } from "../src/index.js";
import { residentStorageStats, setResidentStorageEnabled } from "../src/tensor/wasm/arena.js";
import { runIfMain, selected } from "./harness.js";

class Tiny {
  @differentiable w1 = randomNormal([2, 16], { seed: 1, stddev: 0.5 });
  @differentiable b1 = randomNormal([16], { seed: 2, stddev: 0.1 });
  @differentiable w2 = randomNormal([16, 16], { seed: 3, stddev: 0.3 });
  @differentiable b2 = randomNormal([16], { seed: 4, stddev: 0.1 });
  @differentiable w3 = randomNormal([16, 1], { seed: 5, stddev: 0.3 });
  @differentiable b3 = randomNormal([1], { seed: 6, stddev: 0.1 });
  call(x: Tensor): Tensor {
    const h = x.matmul(this.w1).add(this.b1).tanh().matmul(this.w2).add(this.b2).tanh();
    return h.matmul(this.w3).add(this.b3);
  }
}

interface Sample {
  readonly loop: string;
  /** Growth from step (or call) 100 to step 2,000 (call 1,000). */
  readonly heapGrowthMB: number;
  readonly rssGrowthMB: number;
  /** Growth from step 2,000 to step 4,000 (warm code; tiny-MLP loops only). */
  readonly heapLaterMB: number | null;
  readonly rssLaterMB: number | null;
  readonly rssMB: number;
  readonly stepsPerSecond: number;
  /** Bytes of tensor storage in the kernels' memory (the region only grows). */
  readonly regionMB: number;
}

const TINY = ["never yields", "yields every 100 steps"] as const;
const ADDS = ["add 1e6, JS arrays, never yields", "add 1e6, JS arrays, yields", "add 1e6, never yields", "add 1e6, yields every call"] as const;
const mb = (b: number): number => b / 2 ** 20;

/** The child: runs the loop named by `--loop=` and prints its figures as one JSON line. */
async function child(loop: string): Promise<Sample> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const at = new Map<number, NodeJS.MemoryUsage>();
  let t0 = 0, t1 = 0;
  const mark = (i: number, first: number, last: number): void => {
    if (i === last) t1 = performance.now();
    gc();
    at.set(i, process.memoryUsage());
    if (i === first) t0 = performance.now();
  };
  if ((TINY as readonly string[]).includes(loop)) {
    const x = randomNormal([32, 2], { seed: 7 });
    const y = tensor(Array.from({ length: 32 }, (_, i) => Math.sin(i)), { shape: [32, 1] });
    const model = new Tiny();
    const optimizer = new Adam(model, { learningRate: 1e-2 });
    for (let step = 1; step <= 4000; step++) {
      const { gradient } = valueWithGradient(model, (m) => m.call(x).sub(y).square().mean());
      optimizer.update(model, gradient);
      if (step % 100 === 0 && loop !== "never yields") await new Promise((r) => setImmediate(r));
      if (step === 100 || step === 2000 || step === 4000) mark(step, 100, 2000);
    }
    const [m100, m2000, m4000] = [at.get(100)!, at.get(2000)!, at.get(4000)!];
    return {
      loop,
      heapGrowthMB: mb(m2000.heapUsed - m100.heapUsed),
      rssGrowthMB: mb(m2000.rss - m100.rss),
      heapLaterMB: mb(m4000.heapUsed - m2000.heapUsed),
      rssLaterMB: mb(m4000.rss - m2000.rss),
      rssMB: mb(m4000.rss),
      stepsPerSecond: 1900 / ((t1 - t0) / 1e3),
      regionMB: mb(residentStorageStats().regionBytes),
    };
  }
  setResidentStorageEnabled(!loop.includes("JS arrays"));
  const a = randomUniform([1e6], { seed: 8 }), b = randomUniform([1e6], { seed: 9 });
  for (let call = 1; call <= 1000; call++) {
    add(a, b);
    if (!loop.endsWith("never yields")) await new Promise((r) => setImmediate(r));
    if (call === 100 || call === 1000) mark(call, 100, 1000);
  }
  const [m100, m1000] = [at.get(100)!, at.get(1000)!];
  return {
    loop,
    heapGrowthMB: mb(m1000.heapUsed - m100.heapUsed),
    rssGrowthMB: mb(m1000.rss - m100.rss),
    heapLaterMB: null,
    rssLaterMB: null,
    rssMB: mb(m1000.rss),
    stepsPerSecond: 900 / ((t1 - t0) / 1e3),
    regionMB: mb(residentStorageStats().regionBytes),
  };
}

export function main(): Promise<void> {
  const title = "2,000 tiny-MLP Adam steps and 1,000 adds of 1e6: memory growth";
  if (!selected(title)) return Promise.resolve();
  const file = fileURLToPath(import.meta.url);
  const signed = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(2)}`;
  const run = (loop: string, flags: readonly string[]): Sample => {
    const r = spawnSync(process.execPath, ["--expose-gc", ...flags, "--import", "tsx", file, "--child", `--loop=${loop}`], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`memory bench child failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split("\n").find((l) => l.startsWith("{"))!) as Sample;
  };
  const print = (s: Sample): void => {
    const later = s.rssLaterMB === null ? "" : ` then ${signed(s.rssLaterMB)}`;
    const heapLater = s.heapLaterMB === null ? "" : ` then ${signed(s.heapLaterMB)}`;
    console.log(
      `  ${s.loop.padEnd(34)} heap ${signed(s.heapGrowthMB)}${heapLater} MB, rss ${signed(s.rssGrowthMB)}${later} MB ` +
        `(rss ${s.rssMB.toFixed(0)} MB), ${s.stepsPerSecond.toFixed(0)} steps/s, storage region ${s.regionMB.toFixed(0)} MB`,
    );
  };
  console.log(`\n## ${title} (after a forced GC: tiny MLP steps 100 → 2,000, then 2,000 → 4,000; adds 100 → 1,000)`);
  for (const [label, flags] of [["tiny MLP, V8 as is", []], ["tiny MLP, optimizing compiler off (--no-opt)", ["--no-opt"]]] as const) {
    console.log(`${label}:`);
    for (const loop of TINY) print(run(loop, flags));
  }
  console.log("add 1e6 (4 MB results):");
  for (const loop of ADDS) print(run(loop, []));
  return Promise.resolve();
}

const loopArg = process.argv.find((a) => a.startsWith("--loop="));
if (process.argv.includes("--child")) console.log(JSON.stringify(await child(loopArg?.slice("--loop=".length) ?? "")));
else runIfMain(import.meta.url, main);
