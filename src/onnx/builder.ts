/**
 * The ONNX graph under construction: nodes, initializers and fresh names, plus the shapes that depend on a
 * dynamic batch size. Operator lowerings (`operators.ts`) talk only to this.
 */
import type { DType } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";
import type { GraphEquation } from "./graph.js";
import { AttributeType, OnnxType, type AttributeMessage, type NodeMessage, type TensorMessage } from "./schema.js";

/** @internal An attribute value: a number or number list is an int/ints attribute; `{ f }` a float; a string a string. */
export type Attribute = number | readonly number[] | string | { readonly f: number } | { readonly tensor: TensorMessage };

/** @internal The ONNX element type of a difftypes dtype. */
export function onnxType(dtype: DType): number {
  return dtype === "float32" ? OnnxType.FLOAT : dtype === "float64" ? OnnxType.DOUBLE : OnnxType.INT32;
}

/** @internal A tensor's elements as little-endian bytes (ONNX raw_data). */
export function rawBytes(t: Tensor): Uint8Array {
  const v = t._values;
  const width = t.dtype === "float64" ? 8 : 4;
  const bytes = new Uint8Array(v.length * width);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < v.length; i++) {
    if (t.dtype === "float32") view.setFloat32(i * 4, v[i]!, true);
    else if (t.dtype === "float64") view.setFloat64(i * 8, v[i]!, true);
    else view.setInt32(i * 4, v[i]!, true);
  }
  return bytes;
}

/**
 * @internal How a dimension depends on the batch size `b`: `a·b + c`. Found by recording the program at two
 * batch sizes and solving for `a` and `c`.
 */
export interface AffineDim {
  readonly a: number;
  readonly c: number;
}

/** @internal The batch sizes of the two recordings used to find batch-dependent dimensions. */
export interface BatchProbe {
  readonly first: number;
  readonly second: number;
  /** The name of a graph input whose axis 0 is the batch. */
  readonly source: string;
}

/** @internal Raised when a lowering cannot express what the program needs. */
export class LoweringError extends Error {}

/** @internal The graph under construction. */
export class OnnxBuilder {
  readonly nodes: NodeMessage[] = [];
  readonly initializers: TensorMessage[] = [];
  private counter = 0;
  /** Small constants already written, by value: each is written once. */
  private readonly small = new Map<string, string>();
  private batchName: string | undefined;
  /** The ONNX name of each program variable written so far. */
  readonly names = new Map<number, string>();
  /** Set while lowering one equation: its params at the second batch size, if recorded. */
  current: { eq: GraphEquation; alt: unknown; claimed: boolean } | undefined;

  constructor(
    readonly opset: number,
    readonly probe: BatchProbe | undefined,
    private readonly taken: Set<string>,
  ) {}

  /** A name no input, output or initializer uses yet. */
  fresh(hint: string): string {
    let name: string;
    do name = `${hint}_${this.counter++}`;
    while (this.taken.has(name));
    this.taken.add(name);
    return name;
  }

  /** The ONNX name of a variable already written. */
  nameOfVar(v: { readonly id: number }): string {
    return this.names.get(v.id)!;
  }

  /** Adds a node with one output and returns the output's name. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, Attribute> = {}): string {
    return this.nodeOutputs(opType, inputs, 1, attrs)[0]!;
  }

  /** Adds a node with `count` outputs and returns their names. */
  nodeOutputs(opType: string, inputs: readonly string[], count: number, attrs: Record<string, Attribute> = {}): string[] {
    const outputs = Array.from({ length: count }, () => this.fresh(opType));
    const attribute: AttributeMessage[] = [];
    for (const [name, v] of Object.entries(attrs)) {
      if (typeof v === "number") attribute.push({ name, type: AttributeType.INT, i: v });
      else if (typeof v === "string") attribute.push({ name, type: AttributeType.STRING, s: new TextEncoder().encode(v) });
      else if (Array.isArray(v)) attribute.push({ name, type: AttributeType.INTS, ints: [...(v as readonly number[])] });
      else if ("f" in (v as object)) attribute.push({ name, type: AttributeType.FLOAT, f: (v as { f: number }).f });
      else attribute.push({ name, type: AttributeType.TENSOR, t: (v as { tensor: TensorMessage }).tensor });
    }
    this.nodes.push({ input: [...inputs], output: outputs, name: outputs[0]!, opType, attribute });
    return outputs;
  }

  /** Adds an initializer holding `t` under `name`. */
  initializer(name: string, t: Tensor): string {
    this.initializers.push({ name, dims: t.shape.slice(), dataType: onnxType(t.dtype), rawData: rawBytes(t) });
    return name;
  }

  /** A constant 1-D int64 tensor (one initializer per distinct list). */
  ints(values: readonly number[]): string {
    const key = `ints:${values.join(",")}`;
    let name = this.small.get(key);
    if (name === undefined) {
      name = this.fresh("ints");
      this.small.set(key, name);
      this.initializers.push({ name, dims: [values.length], dataType: OnnxType.INT64, int64Data: [...values] });
    }
    return name;
  }

  /** A constant scalar of `dtype` (one initializer per distinct value and dtype). */
  scalar(value: number, dtype: DType | "int64"): string {
    const key = `${dtype}:${Object.is(value, -0) ? "-0" : String(value)}`;
    let name = this.small.get(key);
    if (name === undefined) {
      name = this.fresh("scalar");
      this.small.set(key, name);
      this.initializers.push(scalarTensor(name, value, dtype));
    }
    return name;
  }

  /** The batch size as a 1-D int64 tensor of one element (read from an input's shape at run time). */
  private batch(): string {
    if (this.batchName === undefined) {
      this.batchName = this.node("Shape", [this.probe!.source], { start: 0, end: 1 });
    }
    return this.batchName;
  }

  /**
   * An int64 1-D tensor of the integers `pick(params)` of the equation being lowered. With a dynamic batch,
   * each integer that differs between the two recordings is written as `a·batch + c`, computed at run time.
   */
  shapeFrom(pick: (params: never) => readonly number[]): string {
    const cur = this.current!;
    cur.claimed = true;
    const first = pick(cur.eq.params as never);
    if (this.probe === undefined || cur.alt === undefined) return this.ints(first);
    const second = pick(cur.alt as never);
    return this.dims(first.map((d, i) => affine(cur.eq.primitive, d, second[i]!, this.probe!)));
  }

  /** An int64 1-D tensor of dimensions that may depend on the batch size. */
  dims(dims: readonly AffineDim[]): string {
    if (dims.every((d) => d.a === 0)) return this.ints(dims.map((d) => d.c));
    const parts: string[] = [];
    let run: number[] = [];
    const flush = (): void => {
      if (run.length > 0) parts.push(this.ints(run));
      run = [];
    };
    for (const d of dims) {
      if (d.a === 0) {
        run.push(d.c);
        continue;
      }
      flush();
      let e = this.batch();
      if (d.a !== 1) e = this.node("Mul", [e, this.ints([d.a])]);
      if (d.c !== 0) e = this.node("Add", [e, this.ints([d.c])]);
      parts.push(e);
    }
    flush();
    return parts.length === 1 ? parts[0]! : this.node("Concat", parts, { axis: 0 });
  }
}

/** @internal A scalar TensorProto. */
export function scalarTensor(name: string, value: number, dtype: DType | "int64"): TensorMessage {
  if (dtype === "int64") return { name, dims: [], dataType: OnnxType.INT64, int64Data: [value] };
  if (dtype === "float64") return { name, dims: [], dataType: OnnxType.DOUBLE, doubleData: [value] };
  if (dtype === "int32") return { name, dims: [], dataType: OnnxType.INT32, int32Data: [value] };
  return { name, dims: [], dataType: OnnxType.FLOAT, floatData: [value] };
}

/** @internal Solves `first = a·b1 + c`, `second = a·b2 + c` for integers `a`, `c`. */
export function affine(op: string, first: number, second: number, probe: BatchProbe): AffineDim {
  if (first === second) return { a: 0, c: first };
  const a = (second - first) / (probe.second - probe.first);
  if (!Number.isInteger(a)) {
    throw new LoweringError(
      `a size in '${op}' is ${first} at batch size ${probe.first} but ${second} at batch size ${probe.second}: it is not a multiple of the ` +
        `batch size plus a constant, so it cannot be written as a dynamic dimension`,
    );
  }
  return { a, c: first - a * probe.first };
}
