/**
 * Loaded into headless Chromium by browser.test.ts (bundled with esbuild): exercises the pieces of the
 * root that used to need Node (the learning phase, checkpoints as bytes), tensor printing and the wasm
 * kernel, and leaves what it saw in `globalThis.probe`.
 */
import {
  Dense,
  Dropout,
  deserializeCheckpoint,
  learningPhase,
  learningPhaseIsAsyncSafe,
  ones,
  serializeCheckpoint,
  tensor,
  withLearningPhase,
} from "../../src/index.js";
import { wasmGemmAvailable } from "../../src/tensor/wasm/gemm.js";

function message(f: () => unknown): string {
  try {
    f();
    return "no error";
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

const dropout = new Dropout({ probability: 0.5, seed: 3 });
const x = ones([1000]);
const trained = new Dense({ inputSize: 3, outputSize: 2, seed: 0 });
const fresh = new Dense({ inputSize: 3, outputSize: 2, seed: 1 });
const input = tensor([[1, 2, 3]]);
const bytes = serializeCheckpoint(trained, { metadata: { where: "browser" } });
const loaded = deserializeCheckpoint(bytes, fresh);

(globalThis as unknown as { probe: unknown }).probe = {
  asyncSafe: learningPhaseIsAsyncSafe(),
  phaseOutside: learningPhase(),
  phaseInside: withLearningPhase("training", () => learningPhase()),
  phaseNested: withLearningPhase("training", () => withLearningPhase("inference", () => learningPhase())),
  phaseAfter: learningPhase(),
  asyncBody: message(() => withLearningPhase("training", () => Promise.resolve(0))),
  droppedInTraining: withLearningPhase("training", () => dropout.callAsFunction(x).equal(0).sum().item()),
  droppedInInference: dropout.callAsFunction(x).equal(0).sum().item(),
  checkpointBytes: bytes.byteLength,
  checkpointMetadata: loaded.metadata,
  restoredOutput: fresh.callAsFunction(input).toArray(),
  trainedOutput: trained.callAsFunction(input).toArray(),
  printed: String(tensor([[1, 2], [3, 4]], { dtype: "int32" })),
  // The SIMD kernel, inlined in the bundle, runs in the page; a product large enough to use it.
  wasmKernel: wasmGemmAvailable(),
  product: ones([64, 64]).matmul(ones([64, 64]).mul(0.5)).sum().item(),
};
