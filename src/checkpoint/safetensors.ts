/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written with nothing but
 * `JSON.parse` and byte copies:
 *
 * ```
 * [8 bytes: N, unsigned little-endian 64-bit] [N bytes: JSON header] [data]
 * header = { "<name>": { "dtype": "F32" | "F64" | "I32", "shape": [..], "data_offsets": [begin, end] }, …,
 *            "__metadata__": { "<key>": "<string>" } }
 * ```
 * Offsets are relative to the start of the data; every tensor is row-major and little-endian. The reader
 * checks everything before it builds a tensor: the header length against the file, the JSON's shape,
 * every dtype, shape and offset pair, that ranges neither overlap nor leave holes, and that names contain
 * no `__proto__`, `constructor` or `prototype` segment.
 */
import { Tensor } from "../tensor/tensor.js";
import type { DType } from "../tensor/dtype.js";

/**
 * A safetensors dtype this library reads and writes.
 * @category Checkpoints
 */
export type SafetensorsDType = "F32" | "F64" | "I32";

const TO_FORMAT: Record<DType, SafetensorsDType> = { float32: "F32", float64: "F64", int32: "I32" };
const FROM_FORMAT: Record<string, DType | undefined> = { F32: "float32", F64: "float64", I32: "int32" };
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

/**
 * The largest header accepted (100 MB, as the reference implementation); a longer declared header is
 * rejected before anything is read.
 * @example
 * ```ts
 * MAX_HEADER_BYTES; // 100000000
 * ```
 * @category Checkpoints
 */
export const MAX_HEADER_BYTES = 100_000_000;

/** @internal Name segments that are never accepted, in a file or in a model. */
export const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Thrown for a file that is not a well-formed safetensors file, or one that does not fit the model. Every
 * problem found is listed in `problems`, and the model is left untouched.
 * @example
 * ```ts
 * // A checkpoint of a layer without biases, loaded into one with biases:
 * const bytes = serializeCheckpoint(new Dense({ inputSize: 3, outputSize: 2, useBias: false, seed: 0 }));
 * let problems: readonly string[] = [];
 * try {
 *   deserializeCheckpoint(bytes, model); // or `await loadCheckpoint(path, model)` from "difftypes/node"
 * } catch (e) {
 *   if (e instanceof CheckpointError) problems = e.problems;
 * }
 * problems; // ["misshapen: 'bias' has shape [0] in the checkpoint but [2] in the model"]
 * ```
 * @category Checkpoints
 */
export class CheckpointError extends Error {
  /** Every problem found, one per line of the message. */
  readonly problems: readonly string[];
  /**
   * @param summary the first line of the message.
   * @param problems the problems, listed below it.
   */
  constructor(summary: string, problems: readonly string[]) {
    super(problems.length === 0 ? summary : `${summary}\n  - ${problems.join("\n  - ")}`);
    this.name = "CheckpointError";
    this.problems = problems;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** @internal The little-endian bytes of a tensor's elements. */
function bytesOf(t: Tensor): Uint8Array {
  const data = t._values;
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.length * BYTES[t.dtype]);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (t.dtype === "float32") view.setFloat32(4 * i, data[i]!, true);
    else if (t.dtype === "float64") view.setFloat64(8 * i, data[i]!, true);
    else view.setInt32(4 * i, data[i]!, true);
  }
  return out;
}

function tensorFrom(bytes: Uint8Array, dtype: DType, shape: readonly number[]): Tensor {
  // A copy with its own, aligned buffer (Buffer#slice would be a view into a shared pool).
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const n = copy.byteLength / BYTES[dtype];
  let data: Float32Array | Float64Array | Int32Array;
  if (LITTLE_ENDIAN) {
    data = dtype === "float32" ? new Float32Array(copy.buffer, 0, n) : dtype === "float64" ? new Float64Array(copy.buffer, 0, n) : new Int32Array(copy.buffer, 0, n);
  } else {
    const view = new DataView(copy.buffer);
    data = dtype === "float32" ? new Float32Array(n) : dtype === "float64" ? new Float64Array(n) : new Int32Array(n);
    for (let i = 0; i < n; i++) {
      data[i] = dtype === "float32" ? view.getFloat32(4 * i, true) : dtype === "float64" ? view.getFloat64(8 * i, true) : view.getInt32(4 * i, true);
    }
  }
  return new Tensor(Object.freeze([...shape]), dtype, data);
}

/**
 * @internal Checks a tensor name: non-empty, and no dotted segment is `__proto__`, `constructor` or `prototype`.
 * @param name the name.
 * @returns a problem description, or `undefined` when the name is acceptable.
 */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return "an empty tensor name";
  for (const s of name.split(".")) {
    if (FORBIDDEN_SEGMENTS.has(s)) return `the name '${name}' contains the forbidden segment '${s}'`;
  }
  return undefined;
}

/**
 * Encodes named tensors and string metadata as safetensors bytes. The tensors are laid out contiguously
 * in the order given (the format allows no holes between them), and the JSON header is padded with spaces
 * to a multiple of 8 bytes, as the reference writer does, so the data starts 8-byte aligned.
 *
 * @param tensors name → tensor (float32, float64 or int32), in the order to write them.
 * @param metadata optional string → string metadata (`__metadata__`).
 * @returns the file's bytes.
 * @throws CheckpointError for a forbidden or reserved name, a value that is not a tensor, or non-string metadata.
 * @example
 * ```ts
 * const bytes = encodeSafetensors(new Map([["w", ones([2, 2])]]), { note: "hello" });
 * decodeSafetensors(bytes).tensors.get("w")!.shape; // [2, 2]
 * // The format: an 8-byte little-endian header length, a JSON header, then the raw data.
 * const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
 * JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))).w.dtype; // "F32"
 * ```
 * @category Checkpoints
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, Tensor>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const header: Record<string, unknown> = {};
  const problems: string[] = [];
  const meta = metadata ?? {};
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v !== "string") problems.push(`metadata '${k}' must be a string, got ${typeof v}`);
    if (FORBIDDEN_SEGMENTS.has(k)) problems.push(`metadata has the forbidden key '${k}'`);
  }
  if (Object.keys(meta).length > 0) header.__metadata__ = { ...meta };
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const bad = nameProblem(name) ?? (name === "__metadata__" ? "the name '__metadata__' is reserved" : undefined);
    if (bad) {
      problems.push(bad);
      continue;
    }
    if (!(t instanceof Tensor)) {
      problems.push(`'${name}' is not a Tensor`);
      continue;
    }
    const bytes = bytesOf(t._concrete);
    header[name] = { dtype: TO_FORMAT[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  if (problems.length > 0) throw new CheckpointError("encodeSafetensors: cannot encode these entries", problems);
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  const pad = (8 - (headerBytes.byteLength % 8)) % 8;
  if (pad > 0) {
    json += " ".repeat(pad);
    headerBytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.byteLength;
  }
  return out;
}

/**
 * The decoded contents of a safetensors file.
 * @category Checkpoints
 */
export interface DecodedSafetensors {
  /** The tensors, in file order. */
  readonly tensors: Map<string, Tensor>;
  /** The `__metadata__` strings (empty when absent). */
  readonly metadata: Map<string, string>;
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Decodes and validates safetensors bytes. Nothing is built until the whole header has been checked; a
 * malformed file throws one {@link CheckpointError} listing every problem found.
 *
 * @param bytes the file's contents.
 * @returns the tensors and metadata.
 * @throws CheckpointError for a truncated file, a header length past the end of the file or above
 *   {@link MAX_HEADER_BYTES}, invalid JSON or a header that is not an object, an unsupported dtype, a bad
 *   shape, offsets that are not `[begin, end]` integers, lie past the data, disagree with the shape, or
 *   overlap or leave holes, a forbidden name, or non-string metadata.
 * @example
 * ```ts
 * import { readFile } from "node:fs/promises";
 *
 * await saveCheckpoint("model.safetensors", model, { metadata: { epoch: "3" } });
 * const { tensors, metadata } = decodeSafetensors(await readFile("model.safetensors"));
 * [...tensors.keys()]; // ["weight", "bias"]
 * metadata.get("epoch"); // "3"
 * ```
 * @category Checkpoints
 */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  const fail = (p: string | string[]): never => {
    throw new CheckpointError("decodeSafetensors: malformed safetensors data", Array.isArray(p) ? p : [p]);
  };
  if (!(bytes instanceof Uint8Array)) return fail(`expected a Uint8Array, got ${typeof bytes}`);
  if (bytes.byteLength < 8) return fail(`the data has ${bytes.byteLength} bytes, fewer than the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) return fail(`the header length ${n} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  const headerLength = Number(n);
  if (8 + headerLength > bytes.byteLength) {
    return fail(`the header length ${headerLength} runs past the end of the data (${bytes.byteLength - 8} bytes after the length)`);
  }
  if (headerLength < 2) return fail(`the header length ${headerLength} is too short for a JSON object`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    return fail("the header is not valid UTF-8");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return fail("the header is not a JSON object");
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const problems: string[] = [];
  const metadata = new Map<string, string>();
  const specs: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const name of Object.keys(parsed)) {
    const entry = (parsed as Record<string, unknown>)[name];
    if (name === "__metadata__") {
      if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
        problems.push("__metadata__ must be an object of strings");
        continue;
      }
      for (const k of Object.keys(entry)) {
        const v = (entry as Record<string, unknown>)[k];
        if (typeof v !== "string") problems.push(`__metadata__ '${k}' must be a string, got ${v === null ? "null" : typeof v}`);
        else if (FORBIDDEN_SEGMENTS.has(k)) problems.push(`__metadata__ has the forbidden key '${k}'`);
        else metadata.set(k, v);
      }
      continue;
    }
    const bad = nameProblem(name);
    if (bad) {
      problems.push(bad);
      continue;
    }
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
      problems.push(`'${name}': the entry is not an object`);
      continue;
    }
    const e = entry as Record<string, unknown>;
    const extra = Object.keys(e).filter((k) => k !== "dtype" && k !== "shape" && k !== "data_offsets");
    if (extra.length > 0) problems.push(`'${name}': unknown fields ${extra.map((k) => `'${k}'`).join(", ")}`);
    const dtype = typeof e.dtype === "string" && Object.hasOwn(FROM_FORMAT, e.dtype) ? FROM_FORMAT[e.dtype] : undefined;
    if (dtype === undefined) {
      problems.push(`'${name}': unsupported dtype ${JSON.stringify(e.dtype)} (supported: F32, F64, I32)`);
      continue;
    }
    if (!Array.isArray(e.shape) || !e.shape.every(isNonNegInt)) {
      problems.push(`'${name}': the shape ${JSON.stringify(e.shape)} is not an array of non-negative integers`);
      continue;
    }
    const shape = e.shape;
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !isNonNegInt(offs[0]) || !isNonNegInt(offs[1])) {
      problems.push(`'${name}': data_offsets ${JSON.stringify(offs)} must be [begin, end], non-negative integers`);
      continue;
    }
    const [begin, end] = offs as [number, number];
    if (begin > end) {
      problems.push(`'${name}': data_offsets [${begin}, ${end}] has begin after end`);
      continue;
    }
    if (end > dataLength) {
      problems.push(`'${name}': data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes)`);
      continue;
    }
    let size = 1;
    for (const d of shape) size *= d;
    if (!Number.isSafeInteger(size) || size * BYTES[dtype] !== end - begin) {
      problems.push(`'${name}': shape [${shape.join(",")}] of ${e.dtype as string} needs ${size * BYTES[dtype]} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
      continue;
    }
    specs.push({ name, dtype, shape, begin, end });
  }
  const sorted = [...specs].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const s of sorted) {
    if (s.begin < cursor) problems.push(`'${s.name}': data_offsets [${s.begin}, ${s.end}] overlap another entry's range`);
    else if (s.begin > cursor) problems.push(`'${s.name}': a hole of ${s.begin - cursor} bytes precedes data_offsets [${s.begin}, ${s.end}]`);
    cursor = Math.max(cursor, s.end);
  }
  if (problems.length === 0 && cursor !== dataLength) {
    problems.push(`${dataLength - cursor} bytes after the last tensor belong to no entry`);
  }
  if (problems.length > 0) fail(problems);
  const tensors = new Map<string, Tensor>();
  for (const s of specs) tensors.set(s.name, tensorFrom(bytes.subarray(dataStart + s.begin, dataStart + s.end), s.dtype, s.shape));
  return { tensors, metadata };
}
