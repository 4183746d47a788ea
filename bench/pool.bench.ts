/**
 * Switches of the kernels measured off and on in one process. Storage recycling (`src/tensor/pool.ts`, with
 * storage in the kernels' memory off, as where the memory is not shared): add and exp on 1e6 float32, an
 * Adam step of the MLP 784-256-128-10 (batch 128) and of the CNN c32-pool-c64-pool-d10 (batch 32), each in
 * a loop that yields to the event loop after every call (a training loop awaiting its data, or a browser
 * frame: recycled storage comes back from the second call on) and in one that never yields. Tensor storage
 * in the kernels' memory (`src/tensor/wasm/arena.ts`): the same cases plus sum, at 1 and 2 threads, with
 * inputs and models created afresh under each setting. Adam's SIMD kernel (`src/tensor/wasm/optimizer.ts`):
 * `Adam.update` of the MLP's parameters with a fixed gradient, at 1 and 2 threads.
 *
 * Each round runs off and on, in alternating order. Only the calls are timed (not the yields), by the wall
 * clock and by the process's CPU time (user + system, which counts page faults and the collector's threads,
 * and which a loaded machine disturbs far less than the wall clock). Prints the medians and the median
 * per-round ratio off/on (> 1: faster on); no JSON file.
 *
 * Run alone: `npx tsx bench/pool.bench.ts [--quick] [--case=add] [--rounds=N]`; or `npm run bench -- pool`.
 */
import {
  Adam, add, exp, getThreadCount, randomNormal, randomUniform, setThreadCount, softmaxCrossEntropy, sum, tensor, valueWithGradient,
} from "../src/index.js";
import { setStoragePoolEnabled } from "../src/tensor/pool.js";
import { setResidentStorageEnabled } from "../src/tensor/wasm/arena.js";
import { setWasmOptimizerEnabled } from "../src/tensor/wasm/optimizer.js";
import { workersReady } from "../src/tensor/wasm/threads.js";
import { runIfMain, selected } from "./harness.js";
import { Cnn, Mlp } from "./peers.bench.js";

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const flag = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const quick = process.argv.includes("--quick");
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Times `calls` calls of `run` (each call alone), yielding after each when asked. Returns [wall ms, CPU ms] per call. */
async function batch(run: () => unknown, calls: number, yields: boolean): Promise<[number, number]> {
  let wall = 0, cpu = 0;
  for (let i = 0; i < calls; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    run();
    wall += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpu += (c.user + c.system) / 1e3;
    if (yields) await turn();
  }
  return [wall / calls, cpu / calls];
}

/** One table row: `run` timed with `setOn(false)` and `setOn(true)` in alternating rounds. */
async function row(label: string, run: () => unknown, calls: number, yields: boolean, rounds: number, setOn: (on: boolean) => void | Promise<void>): Promise<void> {
  const wall = { off: [] as number[], on: [] as number[] }, cpu = { off: [] as number[], on: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    // The order alternates, so that neither setting always pays the collector's debt of the other.
    for (const mode of r % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const)) {
      await setOn(mode === "on");
      await batch(run, 2, yields); // untimed: refills the pool, warms the code after a switch
      const [w, c] = await batch(run, quick ? 2 : calls, yields);
      wall[mode].push(w);
      cpu[mode].push(c);
      await turn();
    }
  }
  const ratio = (m: { off: number[]; on: number[] }): string => {
    const rs = m.on.map((v, i) => m.off[i]! / v);
    return `x${median(rs).toFixed(2)} [${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)}]`;
  };
  console.log(`| ${label} | ${median(wall.off).toFixed(2)} | ${median(wall.on).toFixed(2)} | ${ratio(wall)} | ${median(cpu.off).toFixed(2)} | ${median(cpu.on).toFixed(2)} | ${ratio(cpu)} |`);
}

/** One Adam step of a model on its batch (the models and batches of `peers.bench.ts`). */
function trainingStep(kind: "MLP" | "CNN"): () => number {
  const model = kind === "MLP" ? new Mlp() : new Cnn();
  const optimizer = new Adam(model, { learningRate: 1e-3 });
  const batch = kind === "MLP" ? 128 : 32;
  const x = randomNormal(kind === "MLP" ? [batch, 784] : [batch, 28, 28, 1], { seed: kind === "MLP" ? 10 : 11 });
  const labels = tensor(Array.from({ length: batch }, (_, i) => (i * (kind === "MLP" ? 7 : 3)) % 10), { dtype: "int32" });
  return () => {
    const { value, gradient } = valueWithGradient(model, (m) => softmaxCrossEntropy(m.logits(x), labels));
    optimizer.update(model, gradient);
    return value.item();
  };
}

/** Tensor storage in the kernels' memory off vs on; inputs and models are made afresh under each setting. */
async function residentTable(rounds: number): Promise<void> {
  const n = 1_000_000;
  const initial = getThreadCount();
  type Case = [title: string, calls: number, threads: number, make: () => () => unknown];
  const cases: Case[] = [];
  for (const threads of [1, 2]) {
    const pair = (): [ReturnType<typeof randomUniform>, ReturnType<typeof randomUniform>] =>
      [randomUniform([n], { seed: 5, min: -2, max: 2 }), randomUniform([n], { seed: 6, min: -2, max: 2 })];
    cases.push([`add 1e6 f32, ${threads}t`, 20, threads, () => { const [a, b] = pair(); return () => add(a, b); }]);
    cases.push([`exp 1e6 f32, ${threads}t`, 20, threads, () => { const [a] = pair(); return () => exp(a); }]);
    cases.push([`sum 1e6 f32, ${threads}t`, 40, threads, () => { const [a] = pair(); return () => sum(a); }]);
  }
  cases.push(["MLP 784-256-128-10 b128, Adam step, 2t", 10, 2, () => trainingStep("MLP")]);
  cases.push(["CNN c32-pool-c64-pool-d10 b32, Adam step, 2t", 4, 2, () => trainingStep("CNN")]);
  console.log(`\n## tensor storage in the kernels' memory, off vs on (${rounds} rounds; ms per call, median over rounds)`);
  console.log("| case, loop | wall off | wall on | wall off/on | CPU off | CPU on | CPU off/on |");
  console.log("|---|---|---|---|---|---|---|");
  for (const [title, calls, threads, make] of cases) {
    if (!selected(title)) continue;
    setThreadCount(threads);
    await workersReady();
    for (const yields of [true, false]) {
      let run: () => unknown = () => undefined;
      await row(`${title}, ${yields ? "yields every call" : "never yields"}`, () => run(), calls, yields, rounds, async (on) => {
        setResidentStorageEnabled(on);
        run = make();
        await turn();
      });
    }
  }
  setResidentStorageEnabled(true);
  setThreadCount(initial);
}

export async function main(): Promise<void> {
  const rounds = Number(flag("rounds") ?? (quick ? 2 : 9));
  await residentTable(rounds);
  // The pool serves float32 arrays only where they cannot live in the kernels' memory.
  setResidentStorageEnabled(false);
  const n = 1_000_000;
  const a = randomUniform([n], { seed: 5, min: -2, max: 2 }), b = randomUniform([n], { seed: 6, min: -2, max: 2 });
  const cases: [string, number, () => unknown][] = [
    ["add 1e6 f32", 20, () => add(a, b)],
    ["exp 1e6 f32", 20, () => exp(a)],
  ];
  if (selected("MLP 784-256-128-10")) cases.push(["MLP 784-256-128-10 b128, Adam step", 10, trainingStep("MLP")]);
  if (selected("CNN c32-pool-c64-pool-d10")) cases.push(["CNN c32-pool-c64-pool-d10 b32, Adam step", 4, trainingStep("CNN")]);
  console.log(`\n## storage recycling, pool off vs on (${rounds} rounds; ms per call, median over rounds)`);
  console.log("| case, loop | wall off | wall on | wall off/on | CPU off | CPU on | CPU off/on |");
  console.log("|---|---|---|---|---|---|---|");
  for (const [title, calls, run] of cases) {
    if (!selected(title)) continue;
    for (const yields of [true, false]) {
      await row(`${title}, ${yields ? "yields every call" : "never yields"}`, run, calls, yields, rounds, (on) => { setStoragePoolEnabled(on); });
    }
  }
  setStoragePoolEnabled(true);
  setResidentStorageEnabled(true);

  const title = "MLP 784-256-128-10 parameters, Adam.update";
  if (selected(title)) {
    const model = new Mlp();
    const optimizer = new Adam(model, { learningRate: 1e-3 });
    const g = new Mlp(); // a fixed gradient of the model's shapes
    const initial = getThreadCount();
    console.log(`\n## Adam's SIMD kernel off vs on (${rounds} rounds; ms per call, median over rounds)`);
    console.log("| case, threads | wall off | wall on | wall off/on | CPU off | CPU on | CPU off/on |");
    console.log("|---|---|---|---|---|---|---|");
    for (const threads of [1, 2]) {
      setThreadCount(threads);
      await workersReady();
      await row(`${title}, ${threads} thread${threads > 1 ? "s" : ""}`, () => optimizer.update(model, g), 20, false, rounds, (on) => { setWasmOptimizerEnabled(on); });
    }
    setWasmOptimizerEnabled(true);
    setThreadCount(initial);
  }
}
runIfMain(import.meta.url, main);
