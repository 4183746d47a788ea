/**
 * Memory over a long training run: Adam steps of a tiny MLP (2-16-16-1, batch 32, tanh, mean squared error),
 * heap and RSS measured after a forced garbage collection at steps 100, 2,000 and 4,000, in a child process
 * per loop started with `--expose-gc` (the growth from step 100 leaves out the one-time costs of start-up: the kernels'
 * wasm memory, the worker threads). Two loops: one that never yields to the event loop, one that yields every
 * 100 steps. The target is flat memory: at most 4 MB of growth, heap and RSS, over the first 2,000 steps.
 *
 * Each child runs twice: as is, and with V8's optimizing compiler off (`--no-opt`). The library allocates the
 * same arrays in both runs; the difference in RSS growth is V8 compiling hot functions (optimized code and the
 * compiler's own memory), which stops once the code is warm: compare the growth from step 2,000 to 4,000.
 * Prints its figures (no JSON file).
 *
 * Run alone: `npx tsx bench/memory.bench.ts`; or `npm run bench -- memory`.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Adam, differentiable, randomNormal, tensor, valueWithGradient, type Tensor } from "../src/index.js";
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
  /** Growth from step 100 to step 2,000. */
  readonly heapGrowthMB: number;
  readonly rssGrowthMB: number;
  /** Growth from step 2,000 to step 4,000 (warm code). */
  readonly heapLaterMB: number;
  readonly rssLaterMB: number;
  readonly rssMB: number;
  readonly stepsPerSecond: number;
}

const LOOPS = ["never yields", "yields every 100 steps"] as const;

/** The child: runs the loop named by `--loop=` and prints its figures as one JSON line. */
async function child(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const x = randomNormal([32, 2], { seed: 7 });
  const y = tensor(Array.from({ length: 32 }, (_, i) => Math.sin(i)), { shape: [32, 1] });
  // One loop per process: a loop run after another one inherits its heap and allocator state.
  for (const loop of LOOPS.filter((l) => process.argv.includes(`--loop=${l}`))) {
    const model = new Tiny();
    const optimizer = new Adam(model, { learningRate: 1e-2 });
    const at = new Map<number, NodeJS.MemoryUsage>();
    let t0 = 0, t1 = 0;
    for (let step = 1; step <= 4000; step++) {
      const { gradient } = valueWithGradient(model, (m) => m.call(x).sub(y).square().mean());
      optimizer.update(model, gradient);
      if (step % 100 === 0 && loop !== "never yields") await new Promise((r) => setImmediate(r));
      if (step === 100 || step === 2000 || step === 4000) {
        if (step === 2000) t1 = performance.now();
        gc();
        at.set(step, process.memoryUsage());
        if (step === 100) t0 = performance.now();
      }
    }
    const [m100, m2000, m4000] = [at.get(100)!, at.get(2000)!, at.get(4000)!];
    const mb = (b: number): number => b / 2 ** 20;
    const sample: Sample = {
      loop,
      heapGrowthMB: mb(m2000.heapUsed - m100.heapUsed),
      rssGrowthMB: mb(m2000.rss - m100.rss),
      heapLaterMB: mb(m4000.heapUsed - m2000.heapUsed),
      rssLaterMB: mb(m4000.rss - m2000.rss),
      rssMB: mb(m4000.rss),
      stepsPerSecond: 1900 / ((t1 - t0) / 1e3),
    };
    console.log(JSON.stringify(sample));
  }
}

export function main(): Promise<void> {
  const title = "2,000 tiny-MLP Adam steps: memory growth";
  if (!selected(title)) return Promise.resolve();
  const file = fileURLToPath(import.meta.url);
  const signed = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(2)}`;
  console.log(`\n## ${title} (after a forced GC: steps 100 → 2,000, then 2,000 → 4,000)`);
  for (const [label, flags] of [["V8 as is", []], ["optimizing compiler off (--no-opt)", ["--no-opt"]]] as const) {
    console.log(`${label}:`);
    const samples = LOOPS.map((loop) => {
      const r = spawnSync(process.execPath, ["--expose-gc", ...flags, "--import", "tsx", file, "--child", `--loop=${loop}`], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`memory bench child failed: ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split("\n").find((l) => l.startsWith("{"))!) as Sample;
    });
    for (const s of samples) {
      console.log(
        `  ${s.loop.padEnd(24)} heap ${signed(s.heapGrowthMB)} then ${signed(s.heapLaterMB)} MB, ` +
          `rss ${signed(s.rssGrowthMB)} then ${signed(s.rssLaterMB)} MB (rss ${s.rssMB.toFixed(0)} MB), ${s.stepsPerSecond.toFixed(0)} steps/s`,
      );
    }
  }
  return Promise.resolve();
}

if (process.argv.includes("--child")) await child();
else runIfMain(import.meta.url, main);
