/**
 * Memory over a long training run: 2,000 Adam steps of a tiny MLP (2-16-16-1, batch 32, tanh, mean squared
 * error), heap and RSS measured after a forced garbage collection at step 100 and at step 2,000, in a child
 * process started with `--expose-gc` (the growth from step 100 leaves out the one-time costs: compiled
 * code, the kernels' wasm memory, the worker threads). Two loops: one that never yields to the event loop,
 * one that yields every 100 steps. The target is flat memory: at most 4 MB of growth, heap and RSS. Then the
 * same for 1,000 calls of `add` on two 1e6-element float32 tensors (4 MB results), from call 100, never
 * yielding and yielding after every call: with JS arrays (storage in the kernels' memory off), then with
 * storage in the kernels' memory (`src/tensor/wasm/arena.ts`), with the size of its region, which never
 * shrinks.
 * Prints its figures (no JSON file).
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
  readonly heapGrowthMB: number;
  readonly rssGrowthMB: number;
  readonly rssMB: number;
  readonly stepsPerSecond: number;
  /** Bytes of tensor storage in the kernels' memory (the region only grows). */
  readonly regionMB: number;
}

/** The child: runs both loops and prints one JSON line per loop. */
async function child(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const x = randomNormal([32, 2], { seed: 7 });
  const y = tensor(Array.from({ length: 32 }, (_, i) => Math.sin(i)), { shape: [32, 1] });
  for (const loop of ["never yields", "yields every 100 steps"]) {
    const model = new Tiny();
    const optimizer = new Adam(model, { learningRate: 1e-2 });
    let heap0 = 0, rss0 = 0, t0 = 0;
    for (let step = 1; step <= 2000; step++) {
      const { gradient } = valueWithGradient(model, (m) => m.call(x).sub(y).square().mean());
      optimizer.update(model, gradient);
      if (step % 100 === 0 && loop !== "never yields") await new Promise((r) => setImmediate(r));
      if (step === 100) {
        gc();
        heap0 = process.memoryUsage().heapUsed;
        rss0 = process.memoryUsage().rss;
        t0 = performance.now();
      }
    }
    const seconds = (performance.now() - t0) / 1e3;
    gc();
    const m = process.memoryUsage();
    const sample: Sample = {
      loop,
      heapGrowthMB: (m.heapUsed - heap0) / 2 ** 20,
      rssGrowthMB: (m.rss - rss0) / 2 ** 20,
      rssMB: m.rss / 2 ** 20,
      stepsPerSecond: 1900 / seconds,
      regionMB: residentStorageStats().regionBytes / 2 ** 20,
    };
    console.log(JSON.stringify(sample));
  }
  // JS arrays first (storage in the kernels' memory off: the region, which never shrinks, stays empty).
  for (const loop of ["add 1e6, JS arrays, never yields", "add 1e6, JS arrays, yields", "add 1e6, never yields", "add 1e6, yields every call"]) {
    setResidentStorageEnabled(!loop.includes("JS arrays"));
    const a = randomUniform([1e6], { seed: 8 }), b = randomUniform([1e6], { seed: 9 });
    let heap0 = 0, rss0 = 0, t0 = 0;
    for (let call = 1; call <= 1000; call++) {
      add(a, b);
      if (!loop.endsWith("never yields")) await new Promise((r) => setImmediate(r));
      if (call === 100) {
        gc();
        heap0 = process.memoryUsage().heapUsed;
        rss0 = process.memoryUsage().rss;
        t0 = performance.now();
      }
    }
    const seconds = (performance.now() - t0) / 1e3;
    gc();
    const m = process.memoryUsage();
    console.log(JSON.stringify({
      loop,
      heapGrowthMB: (m.heapUsed - heap0) / 2 ** 20,
      rssGrowthMB: (m.rss - rss0) / 2 ** 20,
      rssMB: m.rss / 2 ** 20,
      stepsPerSecond: 900 / seconds,
      regionMB: residentStorageStats().regionBytes / 2 ** 20,
    } satisfies Sample));
  }
}

export function main(): Promise<void> {
  const title = "2,000 tiny-MLP Adam steps and 1,000 adds of 1e6: memory growth";
  if (!selected(title)) return Promise.resolve();
  const file = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", file, "--child"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`memory bench child failed: ${r.stderr}`);
  const samples = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Sample);
  console.log(`\n## ${title} (from step 100 to the last, after a forced GC)`);
  for (const s of samples) {
    console.log(
      `${s.loop.padEnd(34)} heap ${s.heapGrowthMB >= 0 ? "+" : ""}${s.heapGrowthMB.toFixed(2)} MB, ` +
        `rss ${s.rssGrowthMB >= 0 ? "+" : ""}${s.rssGrowthMB.toFixed(2)} MB (rss ${s.rssMB.toFixed(0)} MB), ${s.stepsPerSecond.toFixed(0)} steps/s, ` +
        `storage region ${s.regionMB.toFixed(0)} MB`,
    );
  }
  return Promise.resolve();
}

if (process.argv.includes("--child")) await child();
else runIfMain(import.meta.url, main);
