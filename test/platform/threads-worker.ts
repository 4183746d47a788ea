/**
 * Loaded by browser-threads.test.ts into a dedicated worker of a cross-origin isolated page (bundled with
 * esbuild): runs the same kernels on one thread and on two, and posts what it saw: whether threads are
 * supported there, whether the helper worker ran chunks, and whether every result has the same bits.
 */
import { Adam, conv2d, differentiable, matmul, randomNormal, relu, softmaxCrossEntropy, tensor, valueWithGradient, type Tensor } from "../../src/index.js";
import { chunksRunByWorkers, setThreadCount, threadsSupported, workersReady } from "../../src/tensor/wasm/threads.js";

class Mlp {
  @differentiable w1 = randomNormal([784, 128], { seed: 1, stddev: 0.05 });
  @differentiable b1 = randomNormal([128], { seed: 2, stddev: 0.01 });
  @differentiable w2 = randomNormal([128, 10], { seed: 3, stddev: 0.05 });
  logits(x: Tensor): Tensor {
    return matmul(relu(matmul(x, this.w1).add(this.b1)), this.w2);
  }
}

/** Every value the kernels produce here, as float32 bits. */
function run(): Float32Array[] {
  const a = randomNormal([512, 512], { seed: 4 });
  const b = randomNormal([512, 512], { seed: 5 });
  const images = randomNormal([8, 14, 14, 32], { seed: 6 });
  const filter = randomNormal([3, 3, 32, 64], { seed: 7, stddev: 0.1 });
  const model = new Mlp();
  const optimizer = new Adam(model, { learningRate: 1e-3 });
  const x = randomNormal([128, 784], { seed: 8 });
  const labels = tensor(Array.from({ length: 128 }, (_, i) => i % 10), { dtype: "int32" });
  for (let step = 0; step < 3; step++) {
    const { gradient } = valueWithGradient(model, (m) => softmaxCrossEntropy(m.logits(x), labels));
    optimizer.update(model, gradient);
  }
  const big = randomNormal([1 << 19], { seed: 9 });
  return [matmul(a, b), conv2d(images, filter, { padding: "same" }), model.w1, model.w2, big.exp(), big.add(big.square())].map(
    (t) => t.dataSync() as Float32Array,
  );
}

/** The worker's `postMessage` (the project's types are Node's and the DOM's, not a worker's). */
const post = (globalThis as unknown as { postMessage(data: unknown): void }).postMessage.bind(globalThis);

async function main(): Promise<void> {
  setThreadCount(1);
  const one = run();
  setThreadCount(2);
  await workersReady();
  const before = chunksRunByWorkers();
  const two = run();
  const same = one.every((r, i) => r.length === two[i]!.length && r.every((v, j) => Object.is(v, two[i]![j])));
  post({ supported: threadsSupported(), chunksByWorker: chunksRunByWorkers() - before, same, outputs: one.length });
}

main().catch((e: unknown) => post({ error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) }));
