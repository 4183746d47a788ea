/**
 * Loaded into headless Chromium by onnx-web.test.ts (bundled with esbuild): runs ONNX files handed over by
 * the test in ONNX Runtime Web (WebAssembly, one thread), configured as the training page configures it,
 * and hands the outputs back. It exports nothing itself: the files and inputs come from Node.
 */
import { loadRuntime } from "../../examples/browser/onnx.js";

/** A tensor as it crosses between Node and the page: element type, dims, values row by row. */
export interface PlainTensor {
  type: "float32" | "int32";
  dims: number[];
  data: number[];
}

/** What the page offers the test, as `globalThis.onnxWeb`. */
export interface OnnxWebRunner {
  /**
   * Loads the model (`bytes`) in one session and runs it on each input in turn (the graph input `input`);
   * returns the graph output `output` of each run.
   */
  run(bytes: number[], inputs: PlainTensor[]): Promise<PlainTensor[]>;
}

/** Where the test's server serves ONNX Runtime Web's binary, out of node_modules. */
const WASM_URL = new URL("/ort/ort-wasm-simd-threaded.wasm", (globalThis as unknown as { location: { href: string } }).location.href).href;

const runner: OnnxWebRunner = {
  async run(bytes, inputs) {
    const ort = await loadRuntime(WASM_URL);
    const session = await ort.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
    try {
      const outputs: PlainTensor[] = [];
      for (const x of inputs) {
        const data = x.type === "float32" ? Float32Array.from(x.data) : Int32Array.from(x.data);
        const result = await session.run({ input: new ort.Tensor(x.type, data, x.dims) });
        const y = result.output;
        if (y === undefined) throw new Error(`the model has no output named "output"; it has ${Object.keys(result).join(", ")}`);
        if (y.type !== "float32") throw new Error(`the model's output is ${y.type}, the table's are float32`);
        outputs.push({ type: "float32", dims: [...y.dims], data: Array.from(y.data as Float32Array) });
      }
      return outputs;
    } finally {
      await session.release();
    }
  },
};
(globalThis as unknown as { onnxWeb: OnnxWebRunner }).onnxWeb = runner;
