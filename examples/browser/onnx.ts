/**
 * The trained model leaves the library: exported to ONNX in the page with `exportOnnx` and run by ONNX
 * Runtime Web (its WebAssembly backend) next to difftypes' own forward pass on the same points. ONNX
 * Runtime Web is loaded on first use, as a chunk of its own; its `.wasm` binary comes from the page's server
 * (`/ort/`, out of node_modules), never from a CDN. No DOM here, so the tests type-check it with the rest.
 */
import { exportOnnx, zeros, type Dense, type Sequential, type Tensor } from "../../src/index.js";

type Model = Sequential<[Dense, Dense, Dense]>;

/** Names of the exported graph's input and output. */
export const INPUT_NAME = "points";
export const OUTPUT_NAME = "logits";

/** What the page compared: both engines' logits on the same points, and how far apart they are. */
export interface OnnxComparison {
  /** Size of the exported `.onnx` file, in bytes. */
  readonly fileBytes: number;
  /** The points both engines ran on, `[n, 2]` flattened row by row. */
  readonly points: readonly number[];
  /** difftypes' logits, `[n, classes]` flattened. */
  readonly difftypes: readonly number[];
  /** ONNX Runtime Web's logits for the same points, `[n, classes]` flattened. */
  readonly onnxRuntime: readonly number[];
  /** The largest `|difftypes − onnxRuntime|` over all logits. */
  readonly maxDifference: number;
  /** Points where both engines pick the same class. */
  readonly sameClass: number;
}

/** The model as an ONNX file: input `points` `[batch, 2]`, output `logits` `[batch, classes]`. */
export function exportModel(model: Model): Uint8Array {
  return exportOnnx(model, zeros([1, 2]), { dynamicBatch: true, inputNames: [INPUT_NAME], outputNames: [OUTPUT_NAME] });
}

/** The `onnxruntime-web/wasm` module. */
export type Ort = typeof import("onnxruntime-web/wasm");
let runtime: Promise<Ort> | undefined;

/** ONNX Runtime Web, loaded and configured once; `wasmUrl` is where its binary is served. */
export function loadRuntime(wasmUrl: string): Promise<Ort> {
  runtime ??= import("onnxruntime-web/wasm").then((ort) => {
    // Its threaded build needs SharedArrayBuffer, which a browser gives only to a cross-origin isolated page
    // (served with COOP and COEP headers); one thread works everywhere and is plenty for this model.
    ort.env.wasm.numThreads = 1;
    // The glue code is in the chunk; only the binary is fetched, from the page's own server.
    ort.env.wasm.wasmPaths = { wasm: wasmUrl };
    return ort;
  });
  return runtime;
}

/**
 * Runs an exported model in ONNX Runtime Web (WebAssembly) on `points` `[n, 2]`; returns its logits.
 * `wasmUrl` is the address of `ort-wasm-simd-threaded.wasm` (read on the first call only).
 */
export async function runInOnnxRuntimeWeb(bytes: Uint8Array, points: Tensor, wasmUrl: string): Promise<Float32Array> {
  const ort = await loadRuntime(wasmUrl);
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  try {
    const feeds = { [INPUT_NAME]: new ort.Tensor("float32", Float32Array.from(points.dataSync()), points.shape.slice()) };
    const result = await session.run(feeds);
    const logits = result[OUTPUT_NAME];
    if (logits === undefined) throw new Error(`the exported model has no output named ${OUTPUT_NAME}`);
    return Float32Array.from(logits.data as Float32Array);
  } finally {
    await session.release();
  }
}

/** Exports `model`, runs the file in ONNX Runtime Web on `points` and compares with difftypes' logits. */
export async function compareWithOnnxRuntime(
  model: Model,
  points: Tensor,
  wasmUrl: string,
): Promise<{ bytes: Uint8Array; comparison: OnnxComparison }> {
  const bytes = exportModel(model);
  const ours = model.callAsFunction(points);
  const classes = ours.shape[1]!;
  const theirs = await runInOnnxRuntimeWeb(bytes, points, wasmUrl);
  const mine = ours.dataSync();
  if (theirs.length !== mine.length) throw new Error(`ONNX Runtime Web gave ${theirs.length} logits, difftypes ${mine.length}`);
  let maxDifference = 0;
  for (let i = 0; i < mine.length; i++) maxDifference = Math.max(maxDifference, Math.abs(mine[i]! - theirs[i]!));
  let sameClass = 0;
  for (let row = 0; row < mine.length / classes; row++) {
    const line = (v: ArrayLike<number>) => Array.from({ length: classes }, (_, c) => v[row * classes + c]!);
    const best = (v: number[]) => v.indexOf(Math.max(...v));
    if (best(line(mine)) === best(line(theirs))) sameClass++;
  }
  const comparison: OnnxComparison = {
    fileBytes: bytes.byteLength,
    points: Array.from(points.dataSync()),
    difftypes: Array.from(mine),
    onnxRuntime: Array.from(theirs),
    maxDifference,
    sameClass,
  };
  return { bytes, comparison };
}
