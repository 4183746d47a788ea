/// <reference types="node" />
/**
 * ONNX files on disk (Node only; the package root stays free of Node modules). Re-exported by the Node
 * entry `difftypes/node`.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import type { Tensor } from "../tensor/tensor.js";
import { exportOnnxAs, type CallableModel, type OnnxExportOptions } from "./export.js";
import { importOnnxInitializers, type ImportedInitializers } from "./import.js";

/**
 * Exports a model or function as {@link difftypes!exportOnnx} does and writes the `.onnx` file. The file is written
 * whole under a temporary name in the same folder and then renamed, so a reader never sees half a model.
 *
 * @param path where to write, e.g. `"model.onnx"`.
 * @param f a layer or a function of tensors (see {@link difftypes!exportOnnx}).
 * @param exampleInputs the layer's input, or the function's argument list.
 * @param options as for {@link difftypes!exportOnnx}.
 * @returns a promise settled once the file is in place.
 * @example
 * ```ts
 * import { saveOnnx } from "difftypes/node";
 * import { readFile } from "node:fs/promises";
 *
 * const model = new Dense({ inputSize: 784, outputSize: 10, seed: 0 });
 * await saveOnnx("classifier.onnx", model, zeros([1, 784]), { dynamicBatch: true });
 * (await readFile("classifier.onnx")).byteLength > 784 * 10 * 4; // true
 * ```
 * @category ONNX
 */
export async function saveOnnx<Input>(path: string, f: CallableModel<Input>, exampleInputs: Input, options?: OnnxExportOptions): Promise<void>;
/**
 * Exports a function of several arguments as {@link difftypes!exportOnnx} does and writes the `.onnx` file.
 * @param path where to write. @param f the function. @param exampleInputs its argument list.
 * @param options as for {@link difftypes!exportOnnx}.
 * @returns a promise settled once the file is in place.
 * @example
 * ```ts
 * import { saveOnnx } from "difftypes/node";
 *
 * await saveOnnx("sum.onnx", (a: Tensor, b: Tensor) => a.add(b), [x, ones([2, 3])]);
 * ```
 * @category ONNX
 */
export async function saveOnnx<Args extends unknown[]>(path: string, f: (...args: Args) => unknown, exampleInputs: Args, options?: OnnxExportOptions): Promise<void>;
/**
 * Exports a function of one tensor as {@link difftypes!exportOnnx} does and writes the `.onnx` file.
 * @param path where to write. @param f the function. @param exampleInputs its input.
 * @param options as for {@link difftypes!exportOnnx}.
 * @returns a promise settled once the file is in place.
 * @example
 * ```ts
 * import { saveOnnx } from "difftypes/node";
 *
 * await saveOnnx("tanh.onnx", (v: Tensor) => v.tanh(), zeros([1, 3]), { dynamicBatch: true });
 * ```
 * @category ONNX
 */
export async function saveOnnx(path: string, f: (x: Tensor) => unknown, exampleInputs: Tensor, options?: OnnxExportOptions): Promise<void>;
export async function saveOnnx(path: string, f: unknown, exampleInputs: unknown, options?: OnnxExportOptions): Promise<void> {
  if (typeof path !== "string" || path.length === 0) throw new TypeError(`saveOnnx: the path must be a non-empty string, got ${JSON.stringify(path)}`);
  const bytes = exportOnnxAs("saveOnnx", f, exampleInputs, options);
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}

/**
 * Reads an `.onnx` file and loads its initializers into `model` by key path, as
 * {@link importOnnxInitializers} does (all checked first; nothing changes on a problem).
 *
 * @param path the `.onnx` file.
 * @param model the model to update in place.
 * @returns the key paths set and the initializers left unused.
 * @example
 * ```ts
 * import { loadOnnxInitializers, saveOnnx } from "difftypes/node";
 *
 * const trained = new Dense({ inputSize: 784, outputSize: 10, seed: 0 });
 * await saveOnnx("classifier.onnx", trained, zeros([1, 784]), { dynamicBatch: true });
 * const model = new Dense({ inputSize: 784, outputSize: 10, seed: 1 });
 * (await loadOnnxInitializers("classifier.onnx", model)).loaded; // ["weight", "bias"]
 * model.weight.sub(trained.weight).abs().max(); // 0
 * ```
 * @category ONNX
 */
export async function loadOnnxInitializers(path: string, model: object): Promise<ImportedInitializers> {
  const bytes = await readFile(path);
  return importOnnxInitializers(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), model);
}
