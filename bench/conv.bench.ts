/**
 * The float32 convolution kernels against each other, in one process: the WebAssembly implicit GEMM
 * (`src/tensor/wasm/conv.ts`: patch panels packed straight from the input, on every thread) and the
 * TypeScript im2col feeding the WebAssembly GEMM (the path it replaced, still the one for float64), at 1 and
 * at 2 threads, for the forward pass and both backprops of three layers: the first layer of an MNIST network
 * (1 input channel), of an RGB one (3), and the second layer of the benchmark CNN (32 → 64). The reference
 * is the im2col path at 1 thread.
 *
 * Run alone: `npx tsx bench/conv.bench.ts [--quick] [--case=filter]`; or `npm run bench -- conv`.
 */
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput, randomNormal, setThreadCount, getThreadCount } from "../src/index.js";
import { setWasmConvEnabled } from "../src/tensor/wasm/conv.js";
import { workersReady } from "../src/tensor/wasm/threads.js";
import { Suite, runIfMain, selected, type Contender } from "./harness.js";

/** The four contenders of one case: each kernel at 1 and at 2 threads, switched in the untimed setup. */
function contenders(run: () => unknown): Contender[] {
  const out: Contender[] = [];
  for (const implicit of [false, true]) {
    for (const threads of [1, 2]) {
      out.push({
        name: `${implicit ? "implicit GEMM" : "im2col + GEMM"} ${threads}t`,
        setup: async () => {
          setWasmConvEnabled(implicit);
          setThreadCount(threads);
          await workersReady();
        },
        run,
      });
    }
  }
  return out;
}

export async function main(): Promise<void> {
  const suite = new Suite("conv");
  const initialThreads = getThreadCount();
  const layers = [
    { name: "b32 28x28x1->32", x: [32, 28, 28, 1], w: [3, 3, 1, 32] },
    { name: "b32 32x32x3->32", x: [32, 32, 32, 3], w: [3, 3, 3, 32] },
    { name: "b32 14x14x32->64", x: [32, 14, 14, 32], w: [3, 3, 32, 64] },
  ] as const;
  for (const layer of layers) {
    const x = randomNormal(layer.x, { seed: 1 }), w = randomNormal(layer.w, { seed: 2, stddev: 0.1 });
    const o = { padding: "same" } as const;
    const dy = conv2d(x, w, o);
    const work = 2 * dy.size * layer.w[0] * layer.w[1] * layer.w[2];
    const passes: [string, () => unknown][] = [
      ["forward", () => conv2d(x, w, o)],
      ["input gradient", () => conv2dBackpropInput(dy, w, layer.x, o)],
      ["filter gradient", () => conv2dBackpropFilter(x, dy, layer.w, o)],
    ];
    for (const [pass, run] of passes) {
      const title = `conv2d ${layer.name} 3x3 same, ${pass}`;
      if (!selected(title)) continue;
      // Both kernels give the same values to float32 precision.
      setWasmConvEnabled(false);
      const before = (run() as { dataSync(): Float32Array }).dataSync();
      setWasmConvEnabled(true);
      suite.check(`${title}: implicit GEMM = im2col + GEMM`, (run() as { dataSync(): Float32Array }).dataSync(), before, 1e-3);
      await suite.compare(title, {
        reference: "im2col + GEMM 1t", unit: "GFLOP/s", work,
        note: layer.x[3] === 1 && pass === "input gradient" ? "one input channel: both run the TypeScript col2im" : undefined,
        contenders: contenders(run),
      });
    }
  }
  setWasmConvEnabled(true);
  setThreadCount(initialThreads);
  suite.save();
}
runIfMain(import.meta.url, main);
