/**
 * difftypes/node: what needs Node's file system. Checkpoint files are written atomically and loaded with
 * every check of `deserializeCheckpoint`; ONNX files are written atomically and their initializers read back
 * into a model. Everything else, including checkpoints and ONNX models as bytes, is in the package root
 * (`difftypes`), which runs in browsers too.
 *
 * @example
 * ```ts
 * import { Dense } from "difftypes";
 * import { saveCheckpoint, loadCheckpoint } from "difftypes/node";
 *
 * const model = new Dense({ inputSize: 2, outputSize: 1, seed: 0 });
 * await saveCheckpoint("dense.safetensors", model);
 * const restored = new Dense({ inputSize: 2, outputSize: 1, seed: 1 });
 * await loadCheckpoint("dense.safetensors", restored);
 * restored.weight.sub(model.weight).abs().max(); // 0
 * ```
 *
 * @packageDocumentation
 * @module difftypes/node
 */
export {
  saveCheckpoint,
  loadCheckpoint,
  type SaveCheckpointFileOptions,
  type CheckpointFileSystem,
  type CheckpointFileHandle,
} from "./checkpoint/files.js";
export { saveOnnx, loadOnnxInitializers } from "./onnx/file.js";
