/**
 * `importOnnxInitializers`: the way back for weights. Reads an ONNX model's initializers into a model by key
 * path, validated as a checkpoint load is: everything is checked first, and on any problem nothing changes.
 */
import { Tensor } from "../tensor/tensor.js";
import type { DType } from "../tensor/dtype.js";
import { collectSlots } from "../checkpoint/checkpoint.js";
import { CheckpointError } from "../checkpoint/safetensors.js";
import { ModelProto, OnnxType, type TensorMessage } from "./schema.js";

const OP = "importOnnxInitializers";

/**
 * What {@link importOnnxInitializers} did.
 * @category ONNX
 */
export interface ImportedInitializers {
  /** The key paths of the model that were set, in the model's order. */
  readonly loaded: readonly string[];
  /** Initializers that name no tensor of the model (the program's own constants), left alone. */
  readonly unused: readonly string[];
}

const dtypeOf = new Map<number, DType | "int64">([
  [OnnxType.FLOAT, "float32"],
  [OnnxType.DOUBLE, "float64"],
  [OnnxType.INT32, "int32"],
  [OnnxType.INT64, "int64"],
]);

function asNumber(v: number | { toNumber(): number }): number {
  return typeof v === "number" ? v : v.toNumber();
}

/** The elements of an initializer as a tensor of the model's dtype, or a problem. */
function decodeTensor(t: TensorMessage, want: DType): Tensor | string {
  const dims = t.dims.map(asNumber);
  const size = dims.reduce((a, b) => a * b, 1);
  const stored = dtypeOf.get(t.dataType);
  if (stored === undefined) return `mistyped: '${t.name}' has ONNX element type ${t.dataType}, which difftypes does not hold (float32, float64, int32)`;
  if (t.dataLocation === 1) return `external: '${t.name}' keeps its data in an external file; load the model with its data embedded`;
  const values: number[] = [];
  const raw = t.rawData;
  if (raw !== undefined && raw.length > 0) {
    const width = stored === "float64" || stored === "int64" ? 8 : 4;
    if (raw.length !== size * width) return `truncated: '${t.name}' holds ${raw.length} bytes, but shape [${dims.join(",")}] needs ${size * width}`;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < size; i++) {
      values.push(
        stored === "float32" ? view.getFloat32(i * 4, true)
        : stored === "float64" ? view.getFloat64(i * 8, true)
        : stored === "int32" ? view.getInt32(i * 4, true)
        : Number(view.getBigInt64(i * 8, true)),
      );
    }
  } else {
    const list = stored === "float32" ? t.floatData : stored === "float64" ? t.doubleData : stored === "int32" ? t.int32Data : t.int64Data;
    for (const v of list ?? []) values.push(asNumber(v));
    if (values.length !== size) return `truncated: '${t.name}' holds ${values.length} elements, but shape [${dims.join(",")}] needs ${size}`;
  }
  const dtype: DType = stored === "int64" ? "int32" : stored;
  if (dtype !== want) return `mistyped: '${t.name}' is ${stored} in the file but ${want} in the model`;
  if (stored === "int64" && values.some((v) => v !== (v | 0))) return `out of range: '${t.name}' holds int64 values that do not fit the model's int32`;
  const data = dtype === "float32" ? Float32Array.from(values) : dtype === "float64" ? Float64Array.from(values) : Int32Array.from(values);
  return new Tensor(Object.freeze(dims), dtype, data);
}

/**
 * Reads the initializers of an ONNX model into `model`, matching initializer names to the model's key paths
 * (`layers.0.weight`; running statistics too), as {@link exportOnnx} names them.
 *
 * Validated like a checkpoint load: every tensor of the model must have an initializer of the same shape
 * and dtype (int64 is accepted for an int32 tensor when the values fit). Every problem is listed in one
 * {@link CheckpointError} and the model is left untouched. Initializers that name no tensor of the model
 * (the program's own constants, such as `constant_0`) are left alone and reported in `unused`. A tensor
 * shared by several fields is set once and stays shared.
 *
 * @param bytes an `.onnx` file's bytes (a serialized ModelProto), with its data embedded.
 * @param model the model to update in place (a layer, or any object of tensors).
 * @returns the key paths that were set and the initializers left unused.
 * @throws CheckpointError when the file is not an ONNX model or does not fit the model.
 * @example
 * ```ts
 * const trained = new Dense({ inputSize: 4, outputSize: 2, seed: 1 });
 * const bytes = exportOnnx(trained, zeros([1, 4]));
 * const fresh = new Dense({ inputSize: 4, outputSize: 2 });
 * importOnnxInitializers(bytes, fresh).loaded; // ["weight", "bias"]
 * // fresh now computes what trained does:
 * const input = tensor([[1, 2, 3, 4]]);
 * fresh.callAsFunction(input).sub(trained.callAsFunction(input)).abs().max(); // 0
 * // A model of another shape is refused as a whole, and left as it was:
 * importOnnxInitializers(bytes, new Dense({ inputSize: 4, outputSize: 3 })); // throws CheckpointError
 * ```
 * @category ONNX
 */
export function importOnnxInitializers(bytes: Uint8Array, model: object): ImportedInitializers {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${OP}: bytes must be a Uint8Array (an .onnx file's contents), got ${typeof bytes}`);
  let initializers: TensorMessage[];
  try {
    const decoded = ModelProto.decode(bytes) as unknown as { graph?: { initializer?: TensorMessage[] } };
    if (decoded.graph === undefined || decoded.graph === null) throw new Error("it has no graph");
    initializers = decoded.graph.initializer ?? [];
  } catch (e) {
    throw new CheckpointError(`${OP}: the bytes are not an ONNX model (${e instanceof Error ? e.message : String(e)})`, []);
  }
  const byName = new Map<string, TensorMessage>();
  for (const t of initializers) byName.set(t.name, t);
  const { tensors } = collectSlots(model);

  // A tensor shared by several fields is stored under its first key path.
  const firstPath = new Map<Tensor, string>();
  for (const s of tensors) if (!firstPath.has(s.value)) firstPath.set(s.value, s.key);
  const problems: string[] = [];
  const decoded = new Map<string, Tensor>();
  for (const [value, key] of firstPath) {
    const t = byName.get(key);
    if (t === undefined) {
      problems.push(`missing: '${key}' (${value.dtype} [${value.shape.join(",")}]) is not an initializer of the file`);
      continue;
    }
    const r = decodeTensor(t, value.dtype);
    if (typeof r === "string") problems.push(r);
    else if (r.rank !== value.rank || r.shape.some((d, i) => d !== value.shape[i])) {
      problems.push(`misshapen: '${key}' has shape [${r.shape.join(",")}] in the file but [${value.shape.join(",")}] in the model`);
    } else decoded.set(key, r);
  }
  if (problems.length > 0) {
    throw new CheckpointError(
      `${OP}: the file does not fit the model (${problems.length} problem${problems.length > 1 ? "s" : ""}); nothing was changed`,
      problems,
    );
  }
  for (const s of tensors) s.set(decoded.get(firstPath.get(s.value)!)!);
  const used = new Set(firstPath.values());
  return { loaded: [...used], unused: initializers.map((t) => t.name).filter((n) => !used.has(n)) };
}
