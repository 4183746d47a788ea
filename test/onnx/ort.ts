/**
 * Test helpers: run an exported model in ONNX Runtime (the CPU binaries shipped in onnxruntime-node) and
 * read the file back with the exporter's own schema.
 */
import * as ort from "onnxruntime-node";
import { expect } from "vitest";
import { Tensor } from "../../src/index.js";
import { ModelProto } from "../../src/onnx/schema.js";

/** A difftypes tensor as an ONNX Runtime tensor of the same dtype. */
export function toOrt(t: Tensor): ort.Tensor {
  const type = t.dtype === "float32" ? "float32" : t.dtype === "float64" ? "float64" : "int32";
  return new ort.Tensor(type, t.dataSync(), t.shape.slice());
}

/** Loads the model in ONNX Runtime (which checks it) and runs it on named inputs. */
export async function runOnnx(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: "all" });
  const inputs: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) inputs[k] = toOrt(v);
  const result = await session.run(inputs);
  await session.release();
  return result;
}

/**
 * Expects an ONNX Runtime output (onnxruntime-node's, or onnxruntime-web's as dims and data) to equal a
 * difftypes tensor: same shape, values within float32 tolerance.
 */
export function expectMatches(actual: Pick<ort.Tensor, "dims" | "data"> | undefined, expected: Tensor, tolerance = 1e-4): void {
  expect(actual).toBeDefined();
  expect([...actual!.dims]).toEqual(expected.shape);
  const a = Array.from(actual!.data as Float32Array | Float64Array | Int32Array, Number);
  const e = Array.from(expected.dataSync(), Number);
  expect(a.length).toBe(e.length);
  if (expected.dtype === "int32") {
    expect(a).toEqual(e);
    return;
  }
  // NaN must meet NaN and an infinity the same infinity; finite values agree within the tolerance.
  const special = e.flatMap((v, i) => (Number.isFinite(v) ? [] : [i]));
  expect(special.map((i) => a[i])).toEqual(special.map((i) => e[i]));
  let worst = 0;
  for (let i = 0; i < e.length; i++) {
    if (!Number.isFinite(e[i]!)) continue;
    const err = Math.abs(a[i]! - e[i]!) / Math.max(1, Math.abs(e[i]!));
    if (!(err <= worst)) worst = err;
  }
  expect(worst).toBeLessThanOrEqual(tolerance);
}

/** The value-info of a graph input or output: name, element type and dims (numbers or dim_param names). */
export interface ValueInfo {
  name: string;
  elemType: number;
  dims: (number | string | null)[];
}

/** What a test reads back from a model file. */
export interface DecodedModel {
  opset: number;
  irVersion: number;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, { dims: number[]; dataType: number }>;
  opTypes: string[];
}

interface RawValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim?: { dimValue?: number; dimParam?: string }[] } } };
}

/** Decodes a model file with the exporter's schema. */
export function decodeModel(bytes: Uint8Array): DecodedModel {
  const m = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false }) as {
    irVersion: number;
    opsetImport: { version: number }[];
    graph: {
      input: RawValueInfo[];
      output: RawValueInfo[];
      initializer?: { name: string; dims?: number[]; dataType: number }[];
      node: { opType: string }[];
    };
  };
  const info = (v: RawValueInfo): ValueInfo => ({
    name: v.name,
    elemType: v.type.tensorType.elemType,
    dims: (v.type.tensorType.shape.dim ?? []).map((d) => d.dimValue ?? d.dimParam ?? null),
  });
  return {
    opset: m.opsetImport[0]!.version,
    irVersion: m.irVersion,
    inputs: m.graph.input.map(info),
    outputs: m.graph.output.map(info),
    initializers: new Map((m.graph.initializer ?? []).map((t) => [t.name, { dims: t.dims ?? [], dataType: t.dataType }])),
    opTypes: m.graph.node.map((n) => n.opType),
  };
}
