/**
 * `exportOnnx`: a model or a function of tensors, recorded on example inputs and written as an ONNX model.
 */
import { Tensor } from "../tensor/tensor.js";
import { gather } from "../ops/movement.js";
import { tensor } from "../tensor/creation.js";
import { withLearningPhase } from "../layers/phase.js";
import type { GraphVar, PrimitiveGraph } from "./graph.js";
import { formatPath, recordProgram, type Recording } from "./record.js";
import { affine, LoweringError, OnnxBuilder, onnxType, type BatchProbe } from "./builder.js";
import { fusions, onnxOperators, unmappedPrimitives } from "./operators.js";
import { ModelProto, type ValueInfoMessage } from "./schema.js";

/**
 * The ONNX operator sets {@link exportOnnx} can write.
 * @category ONNX
 */
export type OnnxOpset = 17 | 18;

/**
 * Options of {@link exportOnnx}.
 * @category ONNX
 */
export interface OnnxExportOptions {
  /**
   * Names of the graph inputs, one per input tensor in argument order (structures flattened depth first).
   * Default: `input` for a single tensor, else `input_0`, `input_1`, …
   */
  inputNames?: readonly string[];
  /** Names of the graph outputs, one per output tensor. Default: `output`, or `output_0`, `output_1`, … */
  outputNames?: readonly string[];
  /**
   * Makes axis 0 of every input a symbolic batch dimension (`true` names it `batch`; a string names it).
   * Every input must then have the same size on axis 0. Default: `false` (every dimension fixed).
   */
  dynamicBatch?: boolean | string;
  /** The ONNX operator set version to write: 17 (default) or 18. */
  opset?: OnnxOpset;
  /**
   * When `f` is a plain function: the model whose tensors it uses, so they become initializers named by
   * their key paths. A layer passed as `f` names its own.
   */
  model?: object;
  /** The graph's name in the file. Default: the model's class name, or `difftypes`. */
  graphName?: string;
}

/**
 * Something with a `callAsFunction` method (every layer).
 * @category ONNX
 */
export interface CallableModel<Input> {
  callAsFunction(input: Input): unknown;
}

const IR_VERSION = 8;
const PRODUCER = "difftypes";

function isCallableModel(f: unknown): f is CallableModel<unknown> {
  return f !== null && typeof f === "object" && typeof (f as { callAsFunction?: unknown }).callAsFunction === "function";
}

/**
 * Exports a model (or any function of tensors) as an ONNX model that ONNX Runtime and other ONNX engines run.
 *
 * The function is traced on the example inputs' shapes and dtypes in the inference phase (dropout off,
 * batch norm with its running statistics), every primitive it applies is recorded, and each is written as ONNX operators (the
 * table is in the guide, "Deploying a model"). The model's tensors become initializers named by their key
 * paths (`layers.0.weight`, running statistics too); other tensors the function uses become initializers
 * named `constant_N`. The file declares opset 17 (or 18) of the default domain, which every ONNX Runtime
 * release since 1.20 implements (the tests run the exports in onnxruntime-node 1.31).
 *
 * The program must not depend on the values of its inputs: `f` is traced over placeholders (the staged
 * tracer of `compile`), so reading a value computed from an input or from the model's tensors (`item()`,
 * `toArray()`, `dataSync()`) inside `f` is an error. A primitive with no ONNX mapping is an error naming it. With `dynamicBatch`, the
 * function is recorded at two batch sizes and every size that follows the batch is written as a
 * run-time dimension; a program whose steps change with the batch size is an error.
 *
 * @param f a layer (its `callAsFunction` is exported) or a function of tensors and structures of tensors,
 *   returning a tensor or an array or plain object of tensors.
 * @param exampleInputs for a layer, its input; for a function, its argument list (a single tensor is taken
 *   as a one-argument list).
 * @param options input and output names, dynamic batch, opset, the model naming a function's parameters.
 * @returns the bytes of an `.onnx` file (a serialized ModelProto).
 * @example
 * ```ts
 * const model = new Sequential(new Dense({ inputSize: 4, outputSize: 8, activation: relu, seed: 0 }), new Dense({ inputSize: 8, outputSize: 3, seed: 1 }));
 * const bytes = exportOnnx(model, zeros([2, 4]), { dynamicBatch: true });
 * // inputs: "input" [batch, 4]; output: "output" [batch, 3];
 * // the parameters are initializers named by their key paths, which another model of the same shape reads back:
 * const copy = new Sequential(new Dense({ inputSize: 4, outputSize: 8, activation: relu }), new Dense({ inputSize: 8, outputSize: 3 }));
 * importOnnxInitializers(bytes, copy).loaded; // ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
 * ```
 * @category ONNX
 */
export function exportOnnx<Input>(f: CallableModel<Input>, exampleInputs: Input, options?: OnnxExportOptions): Uint8Array;
/**
 * Exports a function of several arguments (tensors, or structures of them) as an ONNX model, one graph input
 * per tensor; see the layer form above for the rules.
 * @param f the function. @param exampleInputs its argument list.
 * @param options input and output names, dynamic batch, opset, the model naming its parameters.
 * @returns the bytes of an `.onnx` file.
 * @example
 * ```ts
 * const dense = new Dense({ inputSize: 3, outputSize: 2, seed: 0 });
 * // The model's tensors are named by key path when the function is given its model:
 * const bytes = exportOnnx((a: Tensor, b: Tensor) => dense.callAsFunction(a.add(b)), [x, ones([2, 3])], { model: dense });
 * importOnnxInitializers(bytes, new Dense({ inputSize: 3, outputSize: 2 })).loaded; // ["weight", "bias"]
 * ```
 * @category ONNX
 */
export function exportOnnx<Args extends unknown[]>(f: (...args: Args) => unknown, exampleInputs: Args, options?: OnnxExportOptions): Uint8Array;
/**
 * Exports a function of one tensor as an ONNX model, the example input given as the tensor itself.
 * @param f the function. @param exampleInputs its input.
 * @param options input and output names, dynamic batch, opset.
 * @returns the bytes of an `.onnx` file.
 * @example
 * ```ts
 * const bytes = exportOnnx((v: Tensor) => v.tanh().mul(2), zeros([1, 3]), { dynamicBatch: true });
 * bytes.byteLength > 0; // true
 * ```
 * @category ONNX
 */
export function exportOnnx(f: (x: Tensor) => unknown, exampleInputs: Tensor, options?: OnnxExportOptions): Uint8Array;
export function exportOnnx(f: unknown, exampleInputs: unknown, options: OnnxExportOptions = {}): Uint8Array {
  return exportOnnxAs("exportOnnx", f, exampleInputs, options);
}

/** @internal {@link exportOnnx}, with errors naming `op` (the function the user called). */
export function exportOnnxAs(op: string, f: unknown, exampleInputs: unknown, options: OnnxExportOptions = {}): Uint8Array {
  const o = checkOptions(op, options);
  let run: (args: readonly unknown[]) => unknown;
  let args: readonly unknown[];
  let model: object | undefined = o.model;
  if (isCallableModel(f)) {
    const layer = f;
    run = (a) => layer.callAsFunction(a[0]);
    args = [exampleInputs];
    model ??= layer;
  } else if (typeof f === "function") {
    const fn = f as (...a: unknown[]) => unknown;
    run = (a) => fn(...a);
    if (exampleInputs instanceof Tensor) args = [exampleInputs];
    else if (Array.isArray(exampleInputs)) args = exampleInputs as unknown[];
    else {
      throw new TypeError(`${op}: for a function, exampleInputs must be its argument list (an array) or a single Tensor, got ${describe(exampleInputs)}`);
    }
  } else {
    throw new TypeError(`${op}: the first argument must be a layer (with callAsFunction) or a function, got ${describe(f)}`);
  }

  const record = (a: readonly unknown[]): Recording => withLearningPhase("inference", () => recordProgram(op, run, a, model));
  const first = record(args);
  const { graph, inputLeaves, outputLeaves } = first;
  if (inputLeaves.length === 0) throw new TypeError(`${op}: the example inputs hold no Tensor; give at least one tensor input`);

  const inputNames = names(op, "inputNames", "input", o.inputNames, inputLeaves.length, inputLeaves.map((l) => l.path));
  const outputNames = names(op, "outputNames", "output", o.outputNames, outputLeaves.length, outputLeaves.map((l) => l.path));
  const clash = inputNames.find((n) => outputNames.includes(n));
  if (clash !== undefined) throw new RangeError(`${op}: '${clash}' names both an input and an output; give them distinct names`);

  let probe: BatchProbe | undefined;
  let second: PrimitiveGraph | undefined;
  const batchParam = o.dynamicBatch === true ? "batch" : o.dynamicBatch === false || o.dynamicBatch === undefined ? undefined : o.dynamicBatch;
  if (batchParam !== undefined) {
    const b = batchSizeOf(op, inputLeaves.map((l) => l.tensor), inputNames);
    const other = 2 * b + 1;
    probe = { first: b, second: other, source: inputNames[0]! };
    second = record(resized(args, other)).graph;
    compareRecordings(op, graph, second, probe);
  }

  const taken = new Set<string>([...inputNames, ...outputNames]);
  const constantNames = new Map<number, string>();
  let unnamed = 0;
  for (const c of graph.constants) {
    if (c.path === undefined) continue;
    if (taken.has(c.path)) {
      throw new RangeError(`${op}: the parameter '${c.path}' has the same name as an input or output; choose other input/output names`);
    }
    taken.add(c.path);
    constantNames.set(c.variable.id, c.path);
  }
  for (const c of graph.constants) {
    if (c.path !== undefined) continue;
    let name: string;
    do name = `constant_${unnamed++}`;
    while (taken.has(name));
    taken.add(name);
    constantNames.set(c.variable.id, name);
  }

  const g = new OnnxBuilder(o.opset, probe, taken);
  const nameOf = g.names;
  graph.inputs.forEach((v, i) => nameOf.set(v.id, inputNames[i]!));
  graph.constants.forEach((c, i) => {
    const name = constantNames.get(c.variable.id)!;
    nameOf.set(c.variable.id, name);
    const alt = second?.constants[i];
    if (probe !== undefined && alt !== undefined && alt.value.shape.some((d, j) => d !== c.value.shape[j])) {
      // A constant whose shape follows the batch is made at run time, when its contents are a rule of its
      // shape: one value everywhere (an RNN's zero state) or a count along its elements (the row offsets
      // `arange(0, rows)` with which `topk` and `takeAlongAxis` gather).
      const rule = batchConstantRule(c.value, alt.value);
      if (rule === undefined) {
        throw new RangeError(
          `${op}: a constant of shape [${c.value.shape.join(",")}] made inside the function changes shape with the batch size ` +
            `(shape [${alt.value.shape.join(",")}] at batch size ${probe.second}) and is neither filled with one value nor a count ` +
            `(start + i·step) with the same start and step at both sizes, so it cannot be written with a dynamic batch; compute it from the inputs with tensor ops, ` +
            `or export with a fixed batch size`,
        );
      }
      const dtype = c.value.dtype;
      const shape = g.dims(c.value.shape.map((d, j) => affine("constant", d, alt.value.shape[j]!, probe)));
      let made: string;
      if (rule.step === 0) {
        const fill = { name: "", dims: [1], dataType: onnxType(dtype), rawData: rawOne(rule.start, dtype) };
        made = g.node("ConstantOfShape", [shape], { value: { tensor: fill } });
      } else {
        // Range(start, start + count·step, step) over the element count, then the constant's shape.
        const count = g.node("Cast", [g.node("ReduceProd", [shape], { keepdims: 0 })], { to: onnxType(dtype) });
        const limit = g.node("Add", [g.node("Mul", [count, g.scalar(rule.step, dtype)]), g.scalar(rule.start, dtype)]);
        made = g.node("Range", [g.scalar(rule.start, dtype), limit, g.scalar(rule.step, dtype)]);
        if (c.value.rank !== 1) made = g.node("Reshape", [made, shape]);
      }
      nameOf.set(c.variable.id, made);
      return;
    }
    const byBatch =
      probe !== undefined && alt !== undefined && c.path === undefined && c.value._values.some((e, j) => !Object.is(e, alt.value._values[j]))
        ? batchValues(c.value, alt.value, probe)
        : undefined;
    if (byBatch !== undefined) {
      // Values that follow the batch (a count to divide by in `mean`, the offsets of `sort` along the batch
      // axis): slope · batch + intercept, elementwise, with the batch read from the input's shape.
      const b = g.node("Reshape", [g.node("Cast", [g.dims([{ a: 1, c: 0 }])], { to: onnxType(c.value.dtype) }), g.ints([])]);
      const slope = g.initializer(g.fresh(`${name}_slope`), byBatch.slope);
      const intercept = g.initializer(g.fresh(`${name}_intercept`), byBatch.intercept);
      nameOf.set(c.variable.id, g.node("Add", [g.node("Mul", [slope, b]), intercept]));
      return;
    }
    g.initializer(name, c.value);
  });

  const { skip, replace } = fusions(graph.equations, graph.outputs.map((v) => v.id));
  graph.equations.forEach((eq, i) => {
    if (skip.has(i)) return;
    const lower = replace.get(i) ?? onnxOperators.get(eq.primitive);
    if (lower === undefined) {
      const why = unmappedPrimitives.get(eq.primitive);
      throw new TypeError(
        `${op}: the primitive '${eq.primitive}' has no ONNX mapping${why ? ` (${why})` : ""}, so this function cannot be exported; ` +
          `the primitives that export are listed in the guide "Deploying a model"`,
      );
    }
    const alt = second?.equations[i]?.params;
    g.current = { eq, alt, claimed: false };
    let out: string;
    try {
      out = lower(g, eq, eq.inputs.map((v) => nameOf.get(v.id)!));
    } catch (e) {
      if (e instanceof LoweringError) throw new RangeError(`${op}: ${e.message}; export with a fixed batch size (no dynamicBatch)`);
      throw e;
    }
    if (second !== undefined && !g.current.claimed && JSON.stringify(eq.params) !== JSON.stringify(alt)) {
      throw new RangeError(
        `${op}: the settings of '${eq.primitive}' change with the batch size (${JSON.stringify(eq.params)} at batch ${probe!.first}, ` +
          `${JSON.stringify(alt)} at batch ${probe!.second}), so it cannot be written with a dynamic batch; export with a fixed batch size`,
      );
    }
    nameOf.set(eq.output.id, out);
  });
  g.current = undefined;

  const shapeInfo = (v: GraphVar, alt: GraphVar | undefined): ValueInfoMessage["type"] => ({
    tensorType: {
      elemType: onnxType(v.dtype),
      shape: {
        dim: v.shape.map((d, j) => {
          if (probe === undefined || alt === undefined || alt.shape[j] === d) return { dimValue: d };
          const a = affine("output", d, alt.shape[j]!, probe);
          if (a.a === 1 && a.c === 0) return { dimParam: batchParam! };
          // Another size that follows the batch (a flattened [batch·t, d], say) gets a readable symbol.
          return { dimParam: `${a.a === 1 ? "" : `${a.a}*`}${batchParam!}${a.c === 0 ? "" : a.c > 0 ? `+${a.c}` : `${a.c}`}` };
        }),
      },
    },
  });
  const outputs: ValueInfoMessage[] = graph.outputs.map((v, i) => {
    g.nodes.push({ input: [nameOf.get(v.id)!], output: [outputNames[i]!], name: outputNames[i]!, opType: "Identity", attribute: [] });
    return { name: outputNames[i]!, type: shapeInfo(v, second?.outputs[i]) };
  });
  const inputs: ValueInfoMessage[] = graph.inputs.map((v, i) => ({ name: inputNames[i]!, type: shapeInfo(v, second?.inputs[i]) }));

  const message = ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: o.opset }],
    producerName: PRODUCER,
    graph: {
      name: o.graphName ?? (model !== undefined && isClassInstance(model) ? model.constructor.name : PRODUCER),
      node: g.nodes,
      initializer: g.initializers,
      input: inputs,
      output: outputs,
    },
  });
  const encoded = ModelProto.encode(message).finish();
  // A plain Uint8Array of its own (protobufjs hands out a Node Buffer, possibly a slice of a shared pool).
  return new Uint8Array(encoded);
}

/**
 * The rule that makes both recordings of a constant whose shape follows the batch: element `i` (in row-major
 * order) is `start + i·step`, the same integers `start` and `step` in both (`step` 0: filled with one value).
 * Undefined when there is no such rule.
 */
function batchConstantRule(first: Tensor, second: Tensor): { start: number; step: number } | undefined {
  const a = first._values;
  const b = second._values;
  const longer = a.length >= b.length ? a : b;
  if (longer.length === 0) return undefined;
  const start = longer[0]!;
  const same = (v: ArrayLike<number>): boolean => Array.prototype.every.call(v, (e: number) => Object.is(e, start));
  if (same(a) && same(b)) return { start, step: 0 };
  const step = longer[1]! - start;
  if (!Number.isInteger(start) || !Number.isInteger(step) || step === 0) return undefined;
  const follows = (v: ArrayLike<number>): boolean => {
    for (let i = 0; i < v.length; i++) if (v[i] !== start + i * step) return false;
    return true;
  };
  return follows(a) && follows(b) ? { start, step } : undefined;
}

/**
 * A constant of fixed shape whose values differ between the two recordings, when each element is an
 * integer `slope · batch + intercept` (integer slope and intercept): a size that follows the batch, as
 * `mean` divides by, or multiples of it. Undefined otherwise (values drawn at random, say).
 */
function batchValues(first: Tensor, second: Tensor, probe: BatchProbe): { slope: Tensor; intercept: Tensor } | undefined {
  const u = first._values;
  const v = second._values;
  const slope: number[] = [];
  const intercept: number[] = [];
  for (let j = 0; j < u.length; j++) {
    const a = (v[j]! - u[j]!) / (probe.second - probe.first);
    if (!Number.isInteger(u[j]!) || !Number.isInteger(v[j]!) || !Number.isInteger(a)) return undefined;
    slope.push(a);
    intercept.push(u[j]! - a * probe.first);
  }
  const options = { shape: first.shape.slice(), dtype: first.dtype };
  return { slope: tensor(slope, options), intercept: tensor(intercept, options) };
}

function rawOne(value: number, dtype: Tensor["dtype"]): Uint8Array {
  const bytes = new Uint8Array(dtype === "float64" ? 8 : 4);
  const view = new DataView(bytes.buffer);
  if (dtype === "float32") view.setFloat32(0, value, true);
  else if (dtype === "float64") view.setFloat64(0, value, true);
  else view.setInt32(0, value, true);
  return bytes;
}

function isClassInstance(x: object): boolean {
  const p = Object.getPrototypeOf(x) as unknown;
  return p !== Object.prototype && p !== null && p !== Array.prototype;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (x instanceof Tensor) return `a Tensor of shape [${x.shape.join(",")}]`;
  if (Array.isArray(x)) return "an array";
  return typeof x === "object" ? `an instance of ${x.constructor?.name ?? "an object"}` : `a ${typeof x}`;
}

function checkOptions(op: string, options: OnnxExportOptions): Required<Pick<OnnxExportOptions, "opset">> & OnnxExportOptions {
  if (options === null || typeof options !== "object") throw new TypeError(`${op}: options must be an object, got ${describe(options)}`);
  const opset = options.opset ?? 17;
  if (opset !== 17 && opset !== 18) {
    throw new RangeError(`${op}: opset ${String(opset)} is not supported; choose 17 (default) or 18`);
  }
  const d = options.dynamicBatch;
  if (d !== undefined && typeof d !== "boolean" && (typeof d !== "string" || d.length === 0)) {
    throw new TypeError(`${op}: dynamicBatch must be true, false or a non-empty dimension name, got ${JSON.stringify(d)}`);
  }
  return { ...options, opset };
}

function names(
  op: string,
  option: string,
  base: string,
  given: readonly string[] | undefined,
  count: number,
  paths: readonly (readonly (string | number)[])[],
): string[] {
  if (given === undefined) return count === 1 ? [base] : Array.from({ length: count }, (_, i) => `${base}_${i}`);
  const list: unknown = given;
  if (!Array.isArray(list) || given.length !== count || !given.every((n) => typeof n === "string" && n.length > 0)) {
    const where = paths.map((p) => (p.length === 0 ? "(the value itself)" : formatPath(p))).join(", ");
    throw new RangeError(
      `${op}: ${option} must list ${count} non-empty name${count === 1 ? "" : "s"}, one per tensor (${where}), got ${JSON.stringify(given)}`,
    );
  }
  const dup = given.find((n, i) => given.indexOf(n) !== i);
  if (dup !== undefined) throw new RangeError(`${op}: ${option} lists '${dup}' twice; names must be distinct`);
  return [...given];
}

function batchSizeOf(op: string, tensors: readonly Tensor[], names: readonly string[]): number {
  const sizes = tensors.map((t) => (t.rank === 0 ? -1 : t.shape[0]!));
  const bad = sizes.findIndex((s) => s !== sizes[0] || s < 1);
  if (bad >= 0) {
    const list = tensors.map((t, i) => `${names[i]!} [${t.shape.join(",")}]`).join(", ");
    throw new RangeError(
      `${op}: dynamicBatch needs every input to have the same non-zero size on axis 0 (the batch); got ${list}`,
    );
  }
  return sizes[0]!;
}

/** The arguments with every tensor's axis 0 grown to `size` by cycling through its rows. */
function resized(args: readonly unknown[], size: number): unknown[] {
  const grow = (v: unknown): unknown => {
    if (v instanceof Tensor) {
      const n = v.shape[0]!;
      return gather(v._concrete, Array.from({ length: size }, (_, i) => i % n), 0);
    }
    if (Array.isArray(v)) return v.map(grow);
    if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, grow(e)]));
    }
    return v;
  };
  return args.map(grow);
}

/** Checks that the recording at the second batch size ran the same program (same steps, same wiring). */
function compareRecordings(op: string, a: PrimitiveGraph, b: PrimitiveGraph, probe: BatchProbe): void {
  const differ = (what: string): never => {
    throw new RangeError(
      `${op}: the function runs a different program at batch size ${probe.second} than at ${probe.first} (${what}): its steps depend on ` +
        `the batch size or on the data, so it cannot be exported with a dynamic batch; export with a fixed batch size`,
    );
  };
  if (a.equations.length !== b.equations.length) differ(`${a.equations.length} vs ${b.equations.length} operations`);
  a.equations.forEach((ea, i) => {
    const eb = b.equations[i]!;
    if (ea.primitive !== eb.primitive) differ(`operation ${i} is '${ea.primitive}' vs '${eb.primitive}'`);
    if (ea.inputs.length !== eb.inputs.length || ea.inputs.some((v, j) => v.id !== eb.inputs[j]!.id)) differ(`operation ${i} ('${ea.primitive}') reads other values`);
  });
  if (a.constants.length !== b.constants.length || a.constants.some((c, i) => c.path !== b.constants[i]!.path)) differ("other constants");
  a.constants.forEach((c, i) => {
    const other = b.constants[i]!.value;
    if (c.path !== undefined || other.shape.some((d, j) => d !== c.value.shape[j])) return;
    const u = c.value._values;
    const v = other._values;
    if (u.some((e, j) => !Object.is(e, v[j])) && batchValues(c.value, other, probe) === undefined) {
      throw new RangeError(
        `${op}: a constant of shape [${c.value.shape.join(",")}] made inside the function holds other values at batch size ${probe.second} ` +
          `than at ${probe.first} (drawn at random, or computed from a size that follows the batch), so the file would keep ` +
          `the example's values; compute it with tensor ops on the inputs, or export with a fixed batch size`,
      );
    }
  });
  if (a.outputs.some((v, i) => v.id !== b.outputs[i]?.id)) differ("other outputs");
}
