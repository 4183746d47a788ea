/**
 * Checkpoints: a model's stored properties, by key path, in a safetensors file.
 *
 * - Every tensor reachable through stored properties is an entry named by its key path
 *   (`layers.0.weight`): `@differentiable` parameters, tensors in `NoDerivative` boxes (running
 *   statistics), and int32 tensors held as constants.
 * - Every other stored value that JSON can hold (numbers, strings, booleans, null, and arrays and plain
 *   objects of them) goes into the metadata entry `difftypes.values`, a JSON object from key path to value;
 *   functions (activations) and other objects are not saved.
 * - An optimizer's state (any structure of tensors and JSON values) is saved under `optimizer.<path>` with
 *   its skeleton in `difftypes.optimizer`, and handed back by the loader.
 * - User metadata (strings) is stored as is; keys starting with `difftypes.` are reserved.
 *
 * Loading validates everything before it changes anything: every missing, unexpected, misshapen or
 * mistyped entry is listed in one error and the model is left untouched. This module works on bytes and runs
 * anywhere; the files (atomic writes) are in `files.ts`, behind the Node-only entry `difftypes/node`.
 */
import { Tensor } from "../tensor/tensor.js";
import { describe, isPlainObject, rebuildNode, tieGroups, walk, type Segment } from "../keypaths/walk.js";
import { NoDerivative } from "../protocols/differentiable.js";
import type { OptimizerState } from "../optimizers/state.js";
import { encodeSafetensors, decodeSafetensors, CheckpointError, FORBIDDEN_SEGMENTS } from "./safetensors.js";

const VALUES_KEY = "difftypes.values";
const TIES_KEY = "difftypes.ties";
const OPTIMIZER_KEY = "difftypes.optimizer";
const OPTIMIZER_PREFIX = "optimizer.";

/** A JSON value. */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface TensorSlot {
  readonly key: string;
  readonly value: Tensor;
  readonly set: (t: Tensor) => void;
}

interface ValueSlot {
  readonly key: string;
  readonly value: Json;
  readonly set: (v: Json) => void;
}

// Thrown (and caught) to stop the walk at the first value JSON cannot hold.
const NOT_JSON = new Error("not JSON");
/** A JSON copy of `v` when it holds only JSON data (no tensors, boxes, class instances, functions). */
function asJson(v: unknown): { ok: true; value: Json } | { ok: false } {
  if (v === null || typeof v === "boolean" || typeof v === "string") return { ok: true, value: v };
  if (typeof v === "number") return Number.isFinite(v) ? { ok: true, value: v } : { ok: false };
  if (typeof v !== "object" || !(Array.isArray(v) || isPlainObject(v))) return { ok: false };
  try {
    const value = walk<Json>("checkpoint", "stored", v, {
      leaf(x) {
        if (x === null || typeof x === "boolean" || typeof x === "string" || (typeof x === "number" && Number.isFinite(x))) return x;
        throw NOT_JSON;
      },
      enter(kind, _x, keys) {
        if (kind === "class" || keys.some((k) => FORBIDDEN_SEGMENTS.has(String(k)))) throw NOT_JSON;
      },
      node: (kind, x, keys, results) => rebuildNode(kind, x, keys, results) as Json,
    });
    return { ok: true, value };
  } catch (e) {
    if (e === NOT_JSON) return { ok: false };
    throw e;
  }
}


function checkSegment(path: readonly Segment[], key: string): void {
  if (FORBIDDEN_SEGMENTS.has(key) || key.includes(".") || key.length === 0) {
    throw new CheckpointError(`checkpoint: the stored property '${key}' at '${path.join(".") || "(root)"}' cannot be named in a key path`, [
      `rename it: names must be non-empty, contain no '.', and not be __proto__, constructor or prototype`,
    ]);
  }
}

/** A setter for the value at `path` below `root` (the container is looked up when the setter runs). */
function setterAt(root: object, path: readonly Segment[]): (x: unknown) => void {
  const at = path.slice();
  if (at.length === 0) throw new CheckpointError("checkpoint: the root must be an object (a model), not a bare value", []);
  return (x) => {
    let o = root as Record<Segment, unknown>;
    for (let i = 0; i < at.length - 1; i++) o = o[at[i]!] as Record<Segment, unknown>;
    o[at[at.length - 1]!] = x;
  };
}

/**
 * @internal Every tensor and JSON value reachable through the model's stored properties, with setters: a
 * client of the structural walk (stored view), whose leaves are tensors, boxes (looked through) and
 * values; containers holding only JSON data are one value.
 */
export function collectSlots(model: object, prefix: readonly Segment[] = [], into?: { tensors: TensorSlot[]; values: ValueSlot[] }): { tensors: TensorSlot[]; values: ValueSlot[] } {
  if (model === null || typeof model !== "object" || model instanceof Tensor) {
    throw new CheckpointError("checkpoint: the root must be an object (a model), not a bare value", []);
  }
  const out = into ?? { tensors: [], values: [] };
  const keyOf = (path: readonly Segment[]): string => [...prefix, ...path].join(".");
  walk<void>("checkpoint", "stored", model, {
    leaf(v, path) {
      const key = keyOf(path);
      if (v instanceof Tensor) {
        out.tensors.push({ key, value: v, set: setterAt(model, path) });
        return;
      }
      if (v instanceof NoDerivative) {
        const box = v as NoDerivative<unknown>;
        const inner = box.value;
        const set = (x: unknown): void => {
          box.value = x;
        };
        if (inner instanceof Tensor) out.tensors.push({ key, value: inner, set });
        else if (inner !== null && typeof inner === "object" && !asJson(inner).ok) collectSlots(inner, [...prefix, ...path], out);
        else {
          const j = asJson(inner);
          if (j.ok) out.values.push({ key, value: j.value, set });
        }
        return;
      }
      const j = asJson(v);
      if (j.ok) out.values.push({ key, value: j.value, set: setterAt(model, path) });
    },
    enter(_kind, _v, keys, path) {
      for (const k of keys) checkSegment([...prefix, ...path], String(k));
    },
  }, { leafIf: (v) => asJson(v).ok });
  return out;
}

/**
 * @internal The tensors to save: one entry per tensor object (a tensor reached by several paths, a tie,
 * is stored once under its first path), and the other paths of each tie, mapped to that first path.
 */
function tiedEntries(tensors: readonly TensorSlot[]): { entries: Map<string, Tensor>; ties: Record<string, string> } {
  const entries = new Map<string, Tensor>();
  const ties: Record<string, string> = {};
  for (const group of tieGroups(tensors)) {
    const first = tensors[group[0]!]!;
    entries.set(first.key, first.value);
    for (const i of group.slice(1)) ties[tensors[i]!.key] = first.key;
  }
  return { entries, ties };
}

/**
 * Options of {@link serializeCheckpoint}, and of `saveCheckpoint` from `difftypes/node`.
 * @category Checkpoints
 */
export interface SaveCheckpointOptions {
  /** An optimizer's state (e.g. `optimizer.state()`): any structure of tensors and JSON values. */
  optimizerState?: unknown;
  /** Extra string metadata; keys starting with `difftypes.` are reserved. */
  metadata?: Readonly<Record<string, string>>;
}

/**
 * What a load returns besides the restored model.
 * @typeParam Model the model type, so that `optimizer.loadState(loaded.optimizerState)` type-checks.
 * @example
 * ```ts
 * const opt = new Adam(model);
 * opt.update(model, gradient(model, (m) => m.callAsFunction(x).sum()));
 * const bytes = serializeCheckpoint(model, { optimizerState: opt.state(), metadata: { epoch: "1" } });
 * // Resuming into a fresh model and optimizer:
 * const fresh = new Dense({ inputSize: 3, outputSize: 2, seed: 1 });
 * const loaded: LoadedCheckpoint<Dense> = deserializeCheckpoint(bytes, fresh);
 * loaded.metadata["epoch"]; // "1"
 * const resumed = new Adam(fresh);
 * resumed.loadState(loaded.optimizerState);
 * resumed.step; // 1
 * ```
 * @category Checkpoints
 */
export interface LoadedCheckpoint<Model = unknown> {
  /** The user metadata saved with the checkpoint (without the library's own `difftypes.` entries). */
  readonly metadata: Record<string, string>;
  /**
   * The optimizer state saved with the checkpoint (`{ optimizerState: opt.state() }`), rebuilt from plain
   * objects and arrays, or `undefined` when none was saved. Typed as that optimizer's state; `loadState`
   * checks it in full (format, rules, shapes, values) before using it.
   */
  readonly optimizerState: OptimizerState<Model> | undefined;
}

/** Splits an optimizer state into tensors (by path) and a JSON skeleton with `{"$tensor": key}` placeholders. */
function flattenState(state: unknown, tensors: Map<string, Tensor>): Json {
  const where = (path: readonly Segment[]): string => path.join(".");
  return walk<Json>("saveCheckpoint", "stored", state, {
    leaf(v, path) {
      if (v instanceof Tensor) {
        const key = OPTIMIZER_PREFIX + where(path);
        if (tensors.has(key)) throw new CheckpointError(`saveCheckpoint: two tensors of the optimizer state are both named '${key}'`, []);
        tensors.set(key, v);
        return { $tensor: key };
      }
      if (v === undefined) return null;
      const j = asJson(v);
      if (j.ok) return j.value;
      throw new CheckpointError(`saveCheckpoint: the optimizer state at '${where(path)}' holds ${describe(v)}, which cannot be saved`, []);
    },
    enter(kind, v, keys, path) {
      if (kind === "class") throw new CheckpointError(`saveCheckpoint: the optimizer state at '${where(path)}' holds ${describe(v)}, which cannot be saved`, []);
      for (const k of keys) {
        if (typeof k !== "string") continue;
        if (FORBIDDEN_SEGMENTS.has(k)) throw new CheckpointError(`saveCheckpoint: the optimizer state has the forbidden key '${k}'`, []);
        if (k.startsWith("$")) throw new CheckpointError(`saveCheckpoint: the optimizer state key '${k}' is reserved (starts with $)`, []);
      }
    },
    node(kind, _v, keys, results) {
      if (kind === "array") return { $array: results };
      const out: { [k: string]: Json } = {};
      keys.forEach((k, j) => (out[k as string] = results[j]!));
      return out;
    },
  });
}

/** The optimizer state back from its skeleton and the file's tensors; problems are collected, not thrown. */
function rebuildState(op: string, skeleton: unknown, tensors: ReadonlyMap<string, Tensor>, problems: string[]): unknown {
  if (skeleton === null || typeof skeleton !== "object" || Array.isArray(skeleton)) {
    problems.push("the optimizer skeleton is not a JSON object");
    return undefined;
  }
  const isTensorRef = (o: object): boolean => typeof (o as { $tensor?: unknown }).$tensor === "string";
  return walk<unknown>(op, "stored", skeleton, {
    leaf(v) {
      if (v === null || typeof v !== "object") return v;
      const key = (v as { $tensor: string }).$tensor;
      const t = tensors.get(key);
      if (t === undefined) problems.push(`the optimizer state refers to the missing tensor '${key}'`);
      return t;
    },
    enter(kind, _v, keys, path) {
      if (kind === "array" && path[path.length - 1] !== "$array") problems.push("the optimizer skeleton holds a bare array");
      for (const k of keys) if (FORBIDDEN_SEGMENTS.has(String(k))) problems.push(`the optimizer state has the forbidden key '${String(k)}'`);
    },
    node(kind, v, keys, results, _constant, path) {
      if (kind === "array") return path[path.length - 1] === "$array" ? results : null;
      if (keys.length === 1 && keys[0] === "$array" && Array.isArray((v as { $array?: unknown }).$array)) return results[0];
      const out: Record<string, unknown> = {};
      keys.forEach((k, j) => {
        if (!FORBIDDEN_SEGMENTS.has(String(k))) out[k as string] = results[j];
      });
      return out;
    },
  }, { leafIf: isTensorRef });
}

/**
 * Encodes a model's stored properties (and optionally an optimizer's state) as safetensors bytes,
 * without touching the file system.
 *
 * @param model a layer or any object whose stored properties hold tensors.
 * @param options `optimizerState` and `metadata`.
 * @returns the bytes of a safetensors file.
 * @example
 * ```ts
 * const bytes = serializeCheckpoint(model);
 * bytes instanceof Uint8Array; // true
 * const freshModel = new Dense({ inputSize: 3, outputSize: 2, seed: 1 });
 * deserializeCheckpoint(bytes, freshModel); // freshModel now equals model
 * freshModel.weight.sub(model.weight).abs().max(); // 0
 * // The bytes are a safetensors file, named by key path:
 * [...decodeSafetensors(bytes).tensors.keys()]; // ["weight", "bias"]
 * ```
 * @category Checkpoints
 */
export function serializeCheckpoint(model: object, options: SaveCheckpointOptions = {}): Uint8Array {
  const { tensors, values } = collectSlots(model);
  const { entries, ties } = tiedEntries(tensors);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.metadata ?? {})) {
    if (k.startsWith("difftypes.")) throw new CheckpointError(`saveCheckpoint: the metadata key '${k}' is reserved (keys starting with 'difftypes.')`, []);
    metadata[k] = v;
  }
  const valueRecord: Record<string, Json> = {};
  for (const s of values) valueRecord[s.key] = s.value;
  metadata[VALUES_KEY] = JSON.stringify(valueRecord);
  if (Object.keys(ties).length > 0) metadata[TIES_KEY] = JSON.stringify(ties);
  if (options.optimizerState !== undefined) {
    const stateTensors = new Map<string, Tensor>();
    metadata[OPTIMIZER_KEY] = JSON.stringify(flattenState(options.optimizerState, stateTensors));
    for (const [k, t] of stateTensors) entries.set(k, t);
  }
  return encodeSafetensors(entries, metadata);
}

/** The `difftypes.ties` record (tied path → the path whose entry holds the tensor), checked. */
function readTies(text: string | undefined, problems: string[]): Record<string, string> {
  if (text === undefined) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) && Object.values(parsed).every((v) => typeof v === "string")) {
      return Object.assign(Object.create(null) as object, parsed) as Record<string, string>;
    }
  } catch {
    // reported below
  }
  problems.push(`${TIES_KEY} is not a JSON object from key path to key path`);
  return {};
}

function sameValues(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.size !== b.size) return false;
  const x = a._values;
  const y = b._values;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  return true;
}

function jsonKind(v: Json): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/**
 * Restores a model's stored properties from safetensors bytes, after validating all of them: if any entry
 * is missing, unexpected, misshapen or of another dtype (or a saved value has another JSON type), one
 * {@link CheckpointError} lists every problem and the model is not changed.
 *
 * @param bytes the bytes of a safetensors file.
 * @param model the model to restore into (same architecture as the saved one).
 * @returns the user metadata and the saved optimizer state.
 * @throws CheckpointError when the file is malformed or does not fit the model.
 * @example
 * ```ts
 * const bytes = serializeCheckpoint(model, { optimizerState: new SGD(model).state() });
 * const restored = new Dense({ inputSize: 3, outputSize: 2, seed: 1 });
 * const optimizer = new SGD(restored);
 * const { optimizerState } = deserializeCheckpoint(bytes, restored);
 * if (optimizerState) optimizer.loadState(optimizerState);
 * // A checkpoint of another architecture is refused as a whole, listing every problem:
 * deserializeCheckpoint(bytes, new Dense({ inputSize: 4, outputSize: 2 })); // throws CheckpointError
 * ```
 * @category Checkpoints
 */
export function deserializeCheckpoint<Model extends object>(bytes: Uint8Array, model: Model): LoadedCheckpoint<Model> {
  return restoreCheckpoint("deserializeCheckpoint", bytes, model);
}

/** @internal {@link deserializeCheckpoint}, with errors naming `op` (the function the user called). */
export function restoreCheckpoint<Model extends object>(op: string, bytes: Uint8Array, model: Model): LoadedCheckpoint<Model> {
  const file = decodeSafetensors(bytes);
  const { tensors, values } = collectSlots(model);
  const problems: string[] = [];
  const fileTies = readTies(file.metadata.get(TIES_KEY), problems);
  const expected = new Set<string>();
  // A tie (one tensor at several paths) is restored as one tensor: the file holds it once (under the
  // first path, the others listed in `difftypes.ties`), or, from other writers, at each path with equal values.
  const tensorUpdates: [number[], Tensor][] = [];
  for (const group of tieGroups(tensors)) {
    const first = tensors[group[0]!]!;
    const found: [string, Tensor][] = [];
    for (const i of group) {
      const key = tensors[i]!.key;
      expected.add(key);
      const source = file.tensors.has(key) ? key : fileTies[key];
      const t = source === undefined ? undefined : file.tensors.get(source);
      if (source !== undefined) expected.add(source);
      if (t !== undefined && !found.some(([, u]) => u === t)) found.push([key, t]);
    }
    if (found.length === 0) {
      problems.push(`missing: '${first.key}' (${first.value.dtype} [${first.value.shape.join(",")}]) is not in the checkpoint`);
      continue;
    }
    const [, t] = found[0]!;
    if (t.dtype !== first.value.dtype) problems.push(`mistyped: '${first.key}' is ${t.dtype} in the checkpoint but ${first.value.dtype} in the model`);
    if (t.rank !== first.value.rank || t.shape.some((d, i) => d !== first.value.shape[i])) {
      problems.push(`misshapen: '${first.key}' has shape [${t.shape.join(",")}] in the checkpoint but [${first.value.shape.join(",")}] in the model`);
    }
    for (const [key, u] of found.slice(1)) {
      if (!sameValues(t, u)) {
        problems.push(`untied: '${found[0]![0]}' and '${key}' are one tensor in the model but differ in the checkpoint`);
      }
    }
    tensorUpdates.push([group, t]);
  }
  for (const k of file.tensors.keys()) {
    if (!expected.has(k) && !k.startsWith(OPTIMIZER_PREFIX)) problems.push(`unexpected: '${k}' is in the checkpoint but not in the model`);
  }
  let saved: Record<string, Json> = {};
  const valuesText = file.metadata.get(VALUES_KEY);
  if (valuesText !== undefined) {
    try {
      const parsed = JSON.parse(valuesText) as unknown;
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) problems.push(`${VALUES_KEY} is not a JSON object`);
      else saved = parsed as Record<string, Json>;
    } catch {
      problems.push(`${VALUES_KEY} is not valid JSON`);
    }
  }
  const valueUpdates: [ValueSlot, Json][] = [];
  for (const s of values) {
    if (!Object.hasOwn(saved, s.key)) continue; // files from other tools carry no values: keep the model's
    const v = saved[s.key]!;
    if (jsonKind(v) !== jsonKind(s.value)) {
      problems.push(`mistyped: the stored value '${s.key}' is a ${jsonKind(v)} in the checkpoint but a ${jsonKind(s.value)} in the model`);
    } else valueUpdates.push([s, v]);
  }
  let optimizerState: unknown;
  const skeletonText = file.metadata.get(OPTIMIZER_KEY);
  if (skeletonText !== undefined) {
    try {
      optimizerState = rebuildState(op, JSON.parse(skeletonText), file.tensors, problems);
    } catch {
      problems.push(`${OPTIMIZER_KEY} is not valid JSON`);
    }
  }
  if (problems.length > 0) {
    throw new CheckpointError(`${op}: the checkpoint does not fit the model (${problems.length} problem${problems.length > 1 ? "s" : ""}); nothing was changed`, problems);
  }
  for (const [group, t] of tensorUpdates) for (const i of group) tensors[i]!.set(t);
  for (const [s, v] of valueUpdates) s.set(v);
  const metadata: Record<string, string> = {};
  for (const [k, v] of file.metadata) if (!k.startsWith("difftypes.")) metadata[k] = v;
  return { metadata, optimizerState: optimizerState as OptimizerState<Model> | undefined };
}
