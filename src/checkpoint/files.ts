/// <reference types="node" />
/**
 * Checkpoint files, for Node: the bytes of `serializeCheckpoint` written atomically (a temporary file in
 * the same folder, written in full, fsynced, then renamed over the target), and read back through
 * `deserializeCheckpoint`. This is the only module that imports Node's file system; it is exported from
 * the Node-only entry `difftypes/node`, so the package root stays browser-safe.
 */
import * as nodeFs from "node:fs/promises";
import * as nodePath from "node:path";
import { randomBytes } from "node:crypto";
import { serializeCheckpoint, restoreCheckpoint, type SaveCheckpointOptions, type LoadedCheckpoint } from "./checkpoint.js";

/**
 * The file operations a checkpoint needs: a subset of `node:fs/promises`, replaceable in tests.
 * @category Checkpoints
 */
export interface CheckpointFileSystem {
  /** Opens a file (`'wx'` to create the temporary file, `'r'` to fsync a folder). */
  open(path: string, flags: string): Promise<CheckpointFileHandle>;
  /** Renames atomically within a folder. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file. */
  unlink(path: string): Promise<void>;
  /** Reads a whole file. */
  readFile(path: string): Promise<Uint8Array>;
}

/**
 * An open file, as {@link CheckpointFileSystem.open} returns it.
 * @category Checkpoints
 */
export interface CheckpointFileHandle {
  /** Writes `length` bytes of `data` from `offset` at file `position`. */
  write(data: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  /** Flushes the file to the storage device. */
  sync(): Promise<void>;
  /** Closes the file. */
  close(): Promise<void>;
}

/**
 * Options of {@link saveCheckpoint}.
 * @category Checkpoints
 */
export interface SaveCheckpointFileOptions extends SaveCheckpointOptions {
  /** The file operations (default `node:fs/promises`). */
  fs?: CheckpointFileSystem;
}

const CHUNK = 1 << 24;

/**
 * Saves a model's stored properties (and optionally an optimizer's state) to a safetensors file,
 * atomically: the bytes go to a temporary file in the same folder, which is fsynced and then renamed
 * over `path`. If anything fails midway the temporary file is removed and a previous file at `path`
 * is left as it was.
 *
 * @param path the file to write (conventionally `*.safetensors`).
 * @param model the model.
 * @param options `optimizerState`, `metadata`, and `fs` (for tests).
 * @returns when the file is in place.
 * @example
 * ```ts
 * import { saveCheckpoint } from "difftypes/node";
 *
 * const optimizer = new Adam(model);
 * optimizer.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * await saveCheckpoint("mnist.safetensors", model, { optimizerState: optimizer.state(), metadata: { epoch: "3" } });
 * ```
 * @category Checkpoints
 */
export async function saveCheckpoint(path: string, model: object, options: SaveCheckpointFileOptions = {}): Promise<void> {
  const fs = options.fs ?? (nodeFs);
  const bytes = serializeCheckpoint(model, options);
  const dir = nodePath.dirname(path);
  const tmp = nodePath.join(dir, `.${nodePath.basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await fs.open(tmp, "wx");
  try {
    let pos = 0;
    while (pos < bytes.byteLength) {
      const { bytesWritten } = await handle.write(bytes, pos, Math.min(CHUNK, bytes.byteLength - pos), pos);
      if (!(bytesWritten > 0)) throw new Error(`saveCheckpoint: writing ${tmp} made no progress at byte ${pos}`);
      pos += bytesWritten;
    }
    await handle.sync();
    await handle.close();
  } catch (e) {
    await handle.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw e;
  }
  try {
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.unlink(tmp).catch(() => undefined);
    throw e;
  }
  // Persist the rename itself (best effort: not every platform can fsync a folder).
  try {
    const d = await fs.open(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* ignore */
  }
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint} (or any safetensors file whose names are the
 * model's key paths) into `model`, validating everything first: a malformed file, or any missing,
 * unexpected, misshapen or mistyped entry, throws one {@link difftypes!CheckpointError} listing every problem, and the
 * model is left untouched.
 *
 * @param path the file.
 * @param model the model to restore into.
 * @param options `fs` (for tests).
 * @returns the user metadata and the saved optimizer state.
 * @example
 * ```ts
 * import { loadCheckpoint } from "difftypes/node";
 *
 * await saveCheckpoint("mnist.safetensors", model);
 * const fresh = new Dense({ inputSize: 3, outputSize: 2, seed: 1 });
 * await loadCheckpoint("mnist.safetensors", fresh);
 * fresh.weight.sub(model.weight).abs().max(); // 0
 * // A file that does not fit the model changes nothing:
 * await loadCheckpoint("mnist.safetensors", new Dense({ inputSize: 3, outputSize: 4 })); // throws CheckpointError
 * ```
 * @category Checkpoints
 */
export async function loadCheckpoint<Model extends object>(
  path: string,
  model: Model,
  options: { fs?: CheckpointFileSystem } = {},
): Promise<LoadedCheckpoint<Model>> {
  const fs = options.fs ?? (nodeFs);
  const bytes = await fs.readFile(path);
  return restoreCheckpoint("loadCheckpoint", bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), model);
}
