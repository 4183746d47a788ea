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
import { storedProperties } from "../keypaths/decorators.js";
import { isCustomIterable, keyPathChildren } from "../keypaths/walk.js";
import { NoDerivative } from "../protocols/differentiable.js";
import { encodeSafetensors, decodeSafetensors, CheckpointError, FORBIDDEN_SEGMENTS } from "./safetensors.js";

const VALUES_KEY = "difftypes.values";
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

function isPlain(x: object): boolean {
  const p = Object.getPrototypeOf(x) as unknown;
  return p === Object.prototype || p === null;
}

/** A JSON copy of `v` when it holds only JSON data (no tensors, boxes, class instances, functions). */
function asJson(v: unknown, depth = 0): { ok: true; value: Json } | { ok: false } {
  if (v === null || typeof v === "boolean" || typeof v === "string") return { ok: true, value: v };
  if (typeof v === "number") return Number.isFinite(v) ? { ok: true, value: v } : { ok: false };
  if (depth > 16 || typeof v !== "object") return { ok: false };
  if (Array.isArray(v)) {
    const out: Json[] = [];
    for (const e of v) {
      const j = asJson(e, depth + 1);
      if (!j.ok) return j;
      out.push(j.value);
    }
    return { ok: true, value: out };
  }
  if (!isPlain(v)) return { ok: false };
  const out: { [k: string]: Json } = {};
  for (const k of Object.keys(v)) {
    if (FORBIDDEN_SEGMENTS.has(k)) return { ok: false };
    const j = asJson((v as Record<string, unknown>)[k], depth + 1);
    if (!j.ok) return j;
    out[k] = j.value;
  }
  return { ok: true, value: out };
}

function checkSegment(path: readonly string[], key: string): void {
  if (FORBIDDEN_SEGMENTS.has(key) || key.includes(".") || key.length === 0) {
    throw new CheckpointError(`checkpoint: the stored property '${key}' at '${path.join(".") || "(root)"}' cannot be named in a key path`, [
      `rename it: names must be non-empty, contain no '.', and not be __proto__, constructor or prototype`,
    ]);
  }
}

/** @internal Every tensor and JSON value reachable through the model's stored properties, with setters. */
export function collectSlots(model: object): { tensors: TensorSlot[]; values: ValueSlot[] } {
  if (model === null || typeof model !== "object" || model instanceof Tensor) {
    throw new CheckpointError("checkpoint: the root must be an object (a model), not a bare value", []);
  }
  const tensors: TensorSlot[] = [];
  const values: ValueSlot[] = [];
  const onPath = new Set<object>();
  const visit = (v: unknown, path: string[], set: (x: unknown) => void): void => {
    const key = path.join(".");
    if (v instanceof Tensor) {
      tensors.push({ key, value: v, set });
      return;
    }
    if (v instanceof NoDerivative) {
      const box = v as NoDerivative<unknown>;
      visit(box.value, path, (x) => {
        box.value = x;
      });
      return;
    }
    if (v === null || typeof v !== "object") {
      const j = asJson(v);
      if (j.ok) values.push({ key, value: j.value, set });
      return;
    }
    if (onPath.has(v)) throw new CheckpointError(`checkpoint: the model contains a cycle at '${key}'`, []);
    const j = asJson(v);
    if (j.ok) {
      values.push({ key, value: j.value, set });
      return;
    }
    onPath.add(v);
    const child = (container: Record<string | number, unknown>, k: string | number): void => {
      checkSegment(path, String(k));
      visit(container[k], [...path, String(k)], (x) => {
        container[k] = x;
      });
    };
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) child(v as unknown as Record<number, unknown>, i);
    } else if (isPlain(v)) {
      for (const k of Object.keys(v)) child(v as Record<string, unknown>, k);
    } else if (isCustomIterable(v)) {
      for (const k of v[keyPathChildren]()) child(v as unknown as Record<string, unknown>, k);
    } else {
      for (const p of storedProperties(v)) child(v as Record<string, unknown>, p.name);
    }
    onPath.delete(v);
  };
  visit(model, [], () => {
    throw new CheckpointError("checkpoint: the root must be an object (a model), not a bare value", []);
  });
  return { tensors, values };
}

/** Options of {@link serializeCheckpoint}, and of `saveCheckpoint` from `difftypes/node`. */
export interface SaveCheckpointOptions {
  /** An optimizer's state (e.g. `optimizer.state()`): any structure of tensors and JSON values. */
  optimizerState?: unknown;
  /** Extra string metadata; keys starting with `difftypes.` are reserved. */
  metadata?: Readonly<Record<string, string>>;
}

/** What a load returns besides the restored model. */
export interface LoadedCheckpoint {
  /** The user metadata saved with the checkpoint (without the library's own `difftypes.` entries). */
  readonly metadata: Record<string, string>;
  /** The optimizer state saved with the checkpoint, rebuilt from plain objects and arrays, or `undefined`. */
  readonly optimizerState: unknown;
}

/** Splits an optimizer state into tensors (by path) and a JSON skeleton with `{"$tensor": key}` placeholders. */
function flattenState(state: unknown, tensors: Map<string, Tensor>): Json {
  const go = (v: unknown, path: string[], depth: number): Json => {
    if (v instanceof Tensor) {
      const key = OPTIMIZER_PREFIX + path.join(".");
      if (tensors.has(key)) throw new CheckpointError(`saveCheckpoint: two tensors of the optimizer state are both named '${key}'`, []);
      tensors.set(key, v);
      return { $tensor: key };
    }
    if (v === undefined) return null;
    const j = asJson(v);
    if (j.ok && (v === null || typeof v !== "object")) return j.value;
    if (typeof v !== "object" || v === null || depth > 32) {
      throw new CheckpointError(`saveCheckpoint: the optimizer state at '${path.join(".")}' holds ${typeof v}, which cannot be saved`, []);
    }
    if (Array.isArray(v)) return { $array: v.map((e, i) => go(e, [...path, String(i)], depth + 1)) };
    const out: { [k: string]: Json } = {};
    for (const k of Object.keys(v)) {
      if (FORBIDDEN_SEGMENTS.has(k)) throw new CheckpointError(`saveCheckpoint: the optimizer state has the forbidden key '${k}'`, []);
      if (k.startsWith("$")) throw new CheckpointError(`saveCheckpoint: the optimizer state key '${k}' is reserved (starts with $)`, []);
      out[k] = go((v as Record<string, unknown>)[k], [...path, k], depth + 1);
    }
    return out;
  };
  return go(state, [], 0);
}

function rebuildState(skeleton: unknown, tensors: ReadonlyMap<string, Tensor>, problems: string[]): unknown {
  const go = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== "object") return v;
    if (depth > 64) {
      problems.push("the optimizer state is nested too deeply");
      return null;
    }
    if (Array.isArray(v)) {
      problems.push("the optimizer skeleton holds a bare array");
      return null;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.$tensor === "string") {
      const t = tensors.get(o.$tensor);
      if (t === undefined) problems.push(`the optimizer state refers to the missing tensor '${o.$tensor}'`);
      return t;
    }
    if (Array.isArray(o.$array)) return o.$array.map((e) => go(e, depth + 1));
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o)) {
      if (FORBIDDEN_SEGMENTS.has(k)) {
        problems.push(`the optimizer state has the forbidden key '${k}'`);
        continue;
      }
      out[k] = go(o[k], depth + 1);
    }
    return out;
  };
  return go(skeleton, 0);
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
 * deserializeCheckpoint(bytes, freshModel); // freshModel now equals model
 * ```
 */
export function serializeCheckpoint(model: object, options: SaveCheckpointOptions = {}): Uint8Array {
  const { tensors, values } = collectSlots(model);
  const entries = new Map<string, Tensor>();
  for (const s of tensors) entries.set(s.key, s.value);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.metadata ?? {})) {
    if (k.startsWith("difftypes.")) throw new CheckpointError(`saveCheckpoint: the metadata key '${k}' is reserved (keys starting with 'difftypes.')`, []);
    metadata[k] = v;
  }
  const valueRecord: Record<string, Json> = {};
  for (const s of values) valueRecord[s.key] = s.value;
  metadata[VALUES_KEY] = JSON.stringify(valueRecord);
  if (options.optimizerState !== undefined) {
    const stateTensors = new Map<string, Tensor>();
    metadata[OPTIMIZER_KEY] = JSON.stringify(flattenState(options.optimizerState, stateTensors));
    for (const [k, t] of stateTensors) entries.set(k, t);
  }
  return encodeSafetensors(entries, metadata);
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
 * const { optimizerState } = deserializeCheckpoint(bytes, model);
 * if (optimizerState) optimizer.loadState(optimizerState);
 * ```
 */
export function deserializeCheckpoint(bytes: Uint8Array, model: object): LoadedCheckpoint {
  const file = decodeSafetensors(bytes);
  const { tensors, values } = collectSlots(model);
  const problems: string[] = [];
  const expected = new Set<string>();
  for (const s of tensors) {
    expected.add(s.key);
    const t = file.tensors.get(s.key);
    if (t === undefined) {
      problems.push(`missing: '${s.key}' (${s.value.dtype} [${s.value.shape.join(",")}]) is not in the checkpoint`);
      continue;
    }
    if (t.dtype !== s.value.dtype) problems.push(`mistyped: '${s.key}' is ${t.dtype} in the checkpoint but ${s.value.dtype} in the model`);
    if (t.rank !== s.value.rank || t.shape.some((d, i) => d !== s.value.shape[i])) {
      problems.push(`misshapen: '${s.key}' has shape [${t.shape.join(",")}] in the checkpoint but [${s.value.shape.join(",")}] in the model`);
    }
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
      optimizerState = rebuildState(JSON.parse(skeletonText), file.tensors, problems);
    } catch {
      problems.push(`${OPTIMIZER_KEY} is not valid JSON`);
    }
  }
  if (problems.length > 0) {
    throw new CheckpointError(`loadCheckpoint: the checkpoint does not fit the model (${problems.length} problem${problems.length > 1 ? "s" : ""}); nothing was changed`, problems);
  }
  for (const s of tensors) s.set(file.tensors.get(s.key)!);
  for (const [s, v] of valueUpdates) s.set(v);
  const metadata: Record<string, string> = {};
  for (const [k, v] of file.metadata) if (!k.startsWith("difftypes.")) metadata[k] = v;
  return { metadata, optimizerState };
}
