/**
 * Records a function as a {@link PrimitiveGraph} by running it once on example values and watching every
 * primitive applied to concrete tensors (the observer hook of `bind`).
 *
 * Why the concrete level and not a tape level: a tape records only what can be differentiated, so
 * comparisons, arg-reductions, casts to int32 and the indices of a gather would be frozen into constants,
 * and a mask or an argmax computed from the input would be exported as the example's mask. Every op, with
 * or without a derivative, bottoms out in one concrete application, so watching there misses nothing; a
 * tensor's identity tells which variable it is. This is the one file that a staged tracer replaces.
 */
import { Tensor } from "../tensor/tensor.js";
import { withApplyObserver } from "../autodiff/trace.js";
import { describe, isPlainObject, walk } from "../keypaths/walk.js";
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

/**
 * @internal Runs `run` with `args`, recording every primitive applied. `parameters` names the model's
 * tensors by key path; any other tensor that an op reads but that no op produced is a constant.
 */
export function recordProgram(
  op: string,
  run: (args: readonly unknown[]) => unknown,
  args: readonly unknown[],
  parameters: ReadonlyMap<Tensor, string>,
): Recording {
  const inputLeaves = tensorLeaves(op, args, "input", false);
  const vars = new Map<Tensor, GraphVar>();
  const fromInput = new Set<GraphVar>();
  const inputs: GraphVar[] = [];
  const constants: GraphConstant[] = [];
  const equations: GraphEquation[] = [];
  let next = 0;
  const newVar = (t: Tensor): GraphVar => ({ id: next++, dtype: t.dtype, shape: t.shape.slice() });

  for (const leaf of inputLeaves) {
    const t = leaf.tensor._concrete;
    if (vars.has(t)) {
      throw new TypeError(`${op}: the input at ${formatPath(leaf.path)} is the same Tensor object as an earlier input; pass distinct tensors`);
    }
    const v = newVar(t);
    vars.set(t, v);
    fromInput.add(v);
    inputs.push(v);
  }
  const varOf = (t: Tensor): GraphVar => {
    let v = vars.get(t);
    if (v === undefined) {
      v = newVar(t);
      vars.set(t, v);
      constants.push({ variable: v, value: t, path: parameters.get(t) });
    }
    return v;
  };

  const result = withApplyObserver(
    {
      applied(prim, ins, params, out) {
        const vs = ins.map(varOf);
        const o = newVar(out);
        vars.set(out, o);
        if (vs.some((v) => fromInput.has(v))) fromInput.add(o);
        equations.push({ primitive: prim.name, params, inputs: vs, output: o });
      },
      read(x, how) {
        const v = vars.get(x._concrete);
        if (v !== undefined && fromInput.has(v)) {
          throw new Error(
            `${op}: the function read the values of a tensor computed from its inputs (${how}), so its result depends on the ` +
              `example's data in a way a traced program cannot follow (data-dependent control flow, or a number taken out ` +
              `of a tensor). Express the choice with tensor ops instead (where, maximum, a mask) and export again`,
          );
        }
      },
    },
    () => run(args),
  );

  const outputLeaves = tensorLeaves(op, result, "result", true);
  if (outputLeaves.length === 0) throw new TypeError(`${op}: the function returned no Tensor; it must return a Tensor or a structure of them`);
  const outputs = outputLeaves.map((l) => varOf(l.tensor._concrete));
  return { graph: { inputs, constants, equations, outputs }, inputLeaves, outputLeaves };
}
