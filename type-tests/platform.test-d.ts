import { expectType, expectError } from "tsd";
import * as root from "../dist/index.js";
import {
  Dense,
  serializeCheckpoint,
  deserializeCheckpoint,
  learningPhaseIsAsyncSafe,
  withLearningPhase,
  tensor,
  type LoadedCheckpoint,
} from "../dist/index.js";
import { saveCheckpoint, loadCheckpoint, type CheckpointFileSystem, type SaveCheckpointFileOptions } from "../dist/node.js";

const model = new Dense({ inputSize: 4, outputSize: 2 });

// Files live in difftypes/node; bytes in the root.
expectType<Promise<void>>(saveCheckpoint("m.safetensors", model, { metadata: { epoch: "1" } }));
expectType<Promise<LoadedCheckpoint<Dense>>>(loadCheckpoint("m.safetensors", model));
expectType<Promise<Record<string, string>>>(loadCheckpoint("m.safetensors", model).then((r) => r.metadata));
expectType<Uint8Array>(serializeCheckpoint(model));
expectType<LoadedCheckpoint<Dense>>(deserializeCheckpoint(serializeCheckpoint(model), model));

// The options accept an injected file system and the byte-level options.
declare const fs: CheckpointFileSystem;
const options: SaveCheckpointFileOptions = { fs, optimizerState: {}, metadata: { note: "x" } };
expectType<Promise<void>>(saveCheckpoint("m.safetensors", model, options));
expectError(saveCheckpoint("m.safetensors", model, { metadata: { epoch: 1 } }));
expectError(loadCheckpoint(new Uint8Array(), model));

// The root has no file functions: it must bundle for browsers.
expectError(root.saveCheckpoint);
expectError(root.loadCheckpoint);

// Platform facts: whether the learning phase survives await here; the phase keeps the body's type.
expectType<boolean>(learningPhaseIsAsyncSafe());
expectType<Promise<number>>(withLearningPhase("training", async () => 1));
expectError(learningPhaseIsAsyncSafe(true));

// Printing: a tensor renders as a string (toString, and util.inspect's hook).
expectType<string>(tensor([1, 2]).toString());
expectType<string>(`${tensor([1, 2])}`);

