/**
 * Records a function as a {@link PrimitiveGraph} with the staged tracer (`src/staged/tracing.ts`): the
 * function runs once over staged values (shapes and dtypes, no elements), and every primitive it applies
 * becomes an equation of the program, whatever its derivative: comparisons, arg-reductions, casts and a
 * gather's indices are equations like any other, so a mask or an argmax computed from the input follows the
 * input in the file.
 *
 * The model's tensors are staged too, for the duration of the call: they are put in the model's own slots
 * (and put back afterwards, whatever happens), so what the layers compute from their parameters alone (a
 * transposed filter, batch norm's scale over its running variance) is recorded, not folded into an unnamed
 * constant, and each parameter stays one initializer under its key path. Other tensors the function uses
 * (captured, or made inside it) are the program's constants.
 */
import { Tensor } from "../tensor/tensor.js";
import { collectSlots } from "../checkpoint/checkpoint.js";
import { describe, isPlainObject, walk } from "../keypaths/walk.js";
import { trace, type StagedTensor } from "../staged/tracing.js";
import type { Var } from "../staged/ir.js";
import type { GraphConstant, GraphEquation, GraphVar, PrimitiveGraph } from "./graph.js";

/** @internal A leaf of an argument or result structure: where it is, and the tensor there. */
export interface Leaf {
  /** Segments from the argument list or the result (`[0]`, `[0, "ids"]`). */
  readonly path: readonly (string | number)[];
  readonly tensor: Tensor;
}

/** @internal A recording: the graph plus the paths of its inputs and outputs. */
export interface Recording {
  readonly graph: PrimitiveGraph;
  readonly inputLeaves: readonly Leaf[];
  readonly outputLeaves: readonly Leaf[];
}

/**
 * @internal The tensors of a structure (arrays and plain objects, depth first), with their paths: the
 * library's structural walk (stored view) with every other object taken as a leaf. With `strict`, any leaf
 * or constant that is not a tensor is an error (results must be tensors); otherwise it is left alone.
 */
export function tensorLeaves(op: string, value: unknown, what: string, strict: boolean): Leaf[] {
  const out: Leaf[] = [];
  const other = (v: unknown, path: readonly (string | number)[]): void => {
    if (!strict) return;
    if (v instanceof Promise) throw new TypeError(`${op}: the function returned a Promise; an exported function must be synchronous and return its tensors`);
    const where = path.length === 0 ? what : `${what} at ${formatPath(path)}`;
    throw new TypeError(
      `${op}: the ${where} is ${describe(v)}, not a Tensor; an exported function must return a Tensor or an array or plain object of Tensors`,
    );
  };
  walk<void>(op, "stored", value, {
    leaf: (v, path) => (v instanceof Tensor ? void out.push({ path: path.slice(), tensor: v }) : other(v, path)),
    constant: (v, path) => other(v, path),
  }, { leafIf: (v) => !Array.isArray(v) && !isPlainObject(v) });
  return out;
}

/** @internal `[0, "ids"]` as `[0].ids`. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("").replace(/^\./, "");
}

/** A copy of a structure of arrays and plain objects with each tensor replaced (others kept as they are). */
function replaceTensors(value: unknown, replace: (t: Tensor) => Tensor): unknown {
  if (value instanceof Tensor) return replace(value);
  if (Array.isArray(value)) return value.map((v) => replaceTensors(v, replace));
  if (value !== null && typeof value === "object" && isPlainObject(value)) return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, replaceTensors(v, replace)]));
  return value;
}

/**
 * @internal Traces `run` on staged stand-ins of the tensors in `args` and of `model`'s tensors (named by
 * their key paths; a tensor shared by two slots is one parameter, under its first path). Reading a value
 * that the program computes (`item()`, `toArray()`, `dataSync()`, arithmetic in JavaScript) is an error
 * naming `op`: the file could not follow it.
 */
export function recordProgram(op: string, run: (args: readonly unknown[]) => unknown, args: readonly unknown[], model?: object): Recording {
  const inputLeaves = tensorLeaves(op, args, "input", false);
  const slots = model === undefined ? [] : collectSlots(model).tensors;
  const seen = new Set<Tensor>();
  for (const leaf of inputLeaves) {
    if (seen.has(leaf.tensor)) {
      throw new TypeError(`${op}: the input at ${formatPath(leaf.path)} is the same Tensor object as an earlier input; pass distinct tensors`);
    }
    if (slots.some((s) => s.value === leaf.tensor)) {
      throw new TypeError(`${op}: the input at ${formatPath(leaf.path)} is a tensor of the model; pass a separate tensor (a copy) as the input`);
    }
    seen.add(leaf.tensor);
  }

  const { result } = trace((b) => {
    b.readError = (how) =>
      new Error(
        `${op}: the function read the values of a tensor computed from its inputs or the model's tensors (${how}), so ` +
          `its result would depend on the example's data in a way the exported program cannot follow (data-dependent ` +
          `control flow, or a number taken out of a tensor). Express the choice with tensor ops instead (where, maximum, ` +
          `a mask) and export again`,
      );
    const staged = new Map<Tensor, StagedTensor>();
    for (const leaf of inputLeaves) staged.set(leaf.tensor, b.input(leaf.tensor.shape, leaf.tensor.dtype));
    const parameters: { path: string; value: Tensor; stand: StagedTensor }[] = [];
    for (const slot of slots) {
      if (staged.has(slot.value)) continue;
      const stand = b.input(slot.value.shape, slot.value.dtype);
      staged.set(slot.value, stand);
      parameters.push({ path: slot.key, value: slot.value, stand });
    }
    const stagedArgs = replaceTensors(args, (t) => staged.get(t) ?? t) as readonly unknown[];

    // The model holds its staged stand-ins only while the function runs; its own tensors go back in every case.
    const swapped: (typeof slots)[number][] = [];
    let output: unknown;
    try {
      for (const slot of slots) {
        slot.set(staged.get(slot.value)!);
        swapped.push(slot);
      }
      output = run(stagedArgs);
    } finally {
      for (const slot of swapped) slot.set(slot.value);
    }
    const outputLeaves = tensorLeaves(op, output, "result", true);
    if (outputLeaves.length === 0) throw new TypeError(`${op}: the function returned no Tensor; it must return a Tensor or a structure of them`);
    const program = b.finish(outputLeaves.map((l) => l.tensor));
    if (program.inputs.length > inputLeaves.length + parameters.length) {
      throw new TypeError(
        `${op}: the function uses a tensor that is being differentiated outside the export (exportOnnx was called inside ` +
          `gradient or a similar operator); export outside any differential operator`,
      );
    }
    return { program, parameters, outputLeaves };
  });

  const { program, parameters, outputLeaves } = result;
  const used = new Set<number>();
  for (const e of program.equations) for (const v of e.inputs) used.add(v.id);
  for (const v of program.outputs) used.add(v.id);
  const graphVar = (v: Var): GraphVar => ({ id: v.id, dtype: v.dtype, shape: v.shape });
  // A parameter the function does not use is not part of the program (as any unused constant).
  const constants: GraphConstant[] = [];
  parameters.forEach((p, i) => {
    const v = program.inputs[inputLeaves.length + i]!;
    if (used.has(v.id)) constants.push({ variable: graphVar(v), value: p.value, path: p.path });
  });
  for (const c of program.constants) constants.push({ variable: graphVar(c.v), value: c.value, path: undefined });
  const equations: GraphEquation[] = program.equations.map((e) => ({
    primitive: e.prim.name,
    params: e.params,
    inputs: e.inputs.map(graphVar),
    output: graphVar(e.out),
  }));
  const graph: PrimitiveGraph = {
    inputs: program.inputs.slice(0, inputLeaves.length).map(graphVar),
    constants,
    equations,
    outputs: program.outputs.map(graphVar),
  };
  return { graph, inputLeaves, outputLeaves };
}
