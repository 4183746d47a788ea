/**
 * Staged control flow. Outside `compile` (or with a predicate that has a value) `cond` and `fori` are plain
 * `if` and `for`; on staged values their branches and bodies are traced once into programs and run by one
 * equation. Both are differentiable: `cond`'s derivatives are `cond`s of the branches' derivative programs,
 * and `fori`'s are computed over the body program called once per iteration.
 */
import { Tensor } from "../tensor/tensor.js";
import { scalar } from "../tensor/creation.js";
import { bind, settled, traceOf } from "../autodiff/trace.js";
import { withJvpLevel, liftJvpInput, tangentAt } from "../autodiff/forward.js";
import { withTapeLevel, liftTapeInput, nodeAt, sweepBackward } from "../autodiff/tape.js";
import { definePrimitive } from "../autodiff/primitive.js";
import { add } from "../ops/binary.js";
import type { Program, Var } from "./ir.js";
import { typeOf } from "./ir.js";
import { StagedTensor, trace, type ProgramBuilder } from "./tracing.js";
import { flatten, unflatten, type Node } from "./structure.js";
import { callProgram } from "./call.js";
import { prune } from "./passes.js";
import { executableOf } from "./execute.js";

const isStaged = (t: Tensor): boolean => settled(t)._concrete instanceof StagedTensor;

interface Traced {
  readonly program: Program;
  readonly output: Node;
  readonly key: string;
  readonly builder: ProgramBuilder;
  readonly declared: number;
}

/** Traces `f` on staged copies of `leaves` (rebuilt into `tree`), then flattens its result. */
function traceBody(tree: Node, leaves: readonly Tensor[], extra: readonly Var[] | null, f: (args: unknown) => unknown): Traced {
  const r = trace((b) => {
    const pre = extra === null ? [] : extra.map((v) => b.input(v.shape, v.dtype));
    const xs = leaves.map((l) => b.input(l.shape, l.dtype));
    const y = f({ pre, args: unflatten(tree, (i) => xs[i]) });
    const out = flatten(y, false);
    return { program: b.finish(out.leaves), output: out.tree, key: out.key };
  }, true);
  return { ...r.result, builder: r.builder, declared: (extra?.length ?? 0) + leaves.length };
}

/** Gives programs the same inputs: their declared ones, then every value any of them captured. */
function alignCaptures(traced: readonly Traced[]): { programs: Program[]; captured: Tensor[] } {
  const captured: Tensor[] = [];
  for (const t of traced) for (const c of t.builder.captured) if (!captured.includes(c)) captured.push(c);
  const programs = traced.map((t) => {
    let size = t.program.size;
    const inputs = t.program.inputs.slice(0, t.declared);
    for (const c of captured) inputs.push(t.builder.capturedVar(c) ?? { id: size++, shape: c.shape, dtype: c.dtype });
    return { ...t.program, inputs, size };
  });
  return { programs, captured };
}

/**
 * Chooses between two computations by the value of a one-element tensor, and stays one program when staged:
 * inside {@link compile} both branches are traced once and the choice is made when the program runs. Values
 * the branches need are passed as `operands` (closing over staged values of the enclosing function works
 * too; closing over values being differentiated outside does not). Both branches must return the same
 * structure with the same shapes and dtypes. Derivatives flow through the branch taken.
 *
 * @param pred a one-element tensor (non-zero is true), a boolean or a number.
 * @param onTrue the branch taken when `pred` is true, called with the operands.
 * @param onFalse the branch taken otherwise, called with the operands.
 * @param operands the values the branches receive (tensors and structures of them).
 * @returns the chosen branch's result.
 * @example
 * ```ts
 * const safeLog = compile((x: Tensor) => cond(x.greater(0), (y: Tensor) => y.log(), (y: Tensor) => y.neg(), x));
 * safeLog(tensor(Math.E)); // 1
 * safeLog(tensor(-2));     // 2
 * // Outside `compile` it runs the chosen branch directly:
 * cond(true, (v: Tensor) => v.mul(2), (v: Tensor) => v, tensor([1, 2])); // [2, 4]
 * ```
 * @category Staged execution
 */
export function cond<Args extends unknown[], R>(pred: Tensor | boolean | number, onTrue: (...operands: Args) => R, onFalse: (...operands: Args) => R, ...operands: Args): R {
  if (typeof onTrue !== "function" || typeof onFalse !== "function") throw new TypeError("cond: onTrue and onFalse must be functions");
  if (typeof pred === "boolean" || typeof pred === "number") return pred ? onTrue(...operands) : onFalse(...operands);
  if (!(pred instanceof Tensor)) throw new TypeError(`cond: the predicate must be a Tensor, a boolean or a number, got ${typeof pred}`);
  if (pred.size !== 1) throw new RangeError(`cond: the predicate must have one element, got shape [${pred.shape.join(",")}]; reduce it first (any: x.max(), all: x.min())`);
  const p = settled(pred)._concrete;
  const flat = flatten(operands, true);
  if (!(p instanceof StagedTensor)) {
    const v = p._values[0]!;
    if (v !== v) throw new RangeError("cond: the predicate is NaN");
    return v !== 0 ? onTrue(...operands) : onFalse(...operands);
  }
  const run = (g: (...a: Args) => R) => (x: unknown) => g(...((x as { args: unknown }).args as Args));
  const t = traceBody(flat.tree, flat.leaves, null, run(onTrue));
  const f = traceBody(flat.tree, flat.leaves, null, run(onFalse));
  if (t.key !== f.key) {
    throw new TypeError(
      `cond: the branches return different structures, shapes or dtypes (${describeOutputs(t.program)} when true, ` +
        `${describeOutputs(f.program)} when false); make both return the same`,
    );
  }
  const { programs, captured } = alignCaptures([f, t]);
  const args = [p, ...flat.leaves, ...captured];
  const outs = programs[0]!.outputs.map((_, k) => callProgram(programs.map((q) => prune(q, [k])), true, args));
  return unflatten(t.output, (i) => outs[i]) as R;
}

function describeOutputs(p: Program): string {
  return `(${p.outputs.map(typeOf).join(", ")})`;
}

// ---------------------------------------------------------------------------------------------------------
// fori

interface LoopParams {
  readonly body: Program;
  readonly n: number;
  readonly output: number;
}

// The last run of each body program, so that the equations reading the several outputs of one loop run it
// once. Keyed weakly by the program; holds one set of tensors per loop.
const lastRun = new WeakMap<Program, { inputs: readonly Tensor[]; outputs: Tensor[] }>();

function runLoop(p: LoopParams, inputs: readonly Tensor[]): Tensor[] {
  const prev = lastRun.get(p.body);
  if (prev !== undefined && prev.inputs.length === inputs.length && prev.inputs.every((x, i) => x === inputs[i])) return prev.outputs;
  const k = p.body.outputs.length;
  const exec = executableOf(p.body);
  let state = inputs.slice(0, k);
  const rest = inputs.slice(k);
  for (let i = 0; i < p.n; i++) state = exec([scalar(i, "int32"), ...state, ...rest]);
  lastRun.set(p.body, { inputs: inputs.slice(), outputs: state });
  return state;
}

/** The loop unrolled over calls of the body program: what the loop's derivatives are computed on. */
function unrolled(p: LoopParams, inputs: readonly Tensor[]): Tensor[] {
  const k = p.body.outputs.length;
  let state = inputs.slice(0, k);
  const rest = inputs.slice(k);
  const parts = p.body.outputs.map((_, j) => prune(p.body, [j]));
  for (let i = 0; i < p.n; i++) {
    const args = [scalar(i, "int32"), ...state, ...rest];
    state = parts.map((q) => callProgram([q], false, args));
  }
  return state;
}

const loopP = definePrimitive<LoopParams>({
  name: "fori",
  impl: (inputs, p) => runLoop(p, inputs)[p.output]!,
  jvp: (primals, tangents, _out, p) =>
    withJvpLevel((main) => {
      const xs = primals.map((x, i) => (tangents[i] ? liftJvpInput(main, x, tangents[i]) : x));
      const y = unrolled(p, xs)[p.output]!;
      return tangentAt(main, y);
    }),
  vjp: (ct, primals, _out, p, needs) =>
    withTapeLevel((main) => {
      const xs = primals.map((x, i) => (needs[i] ? liftTapeInput(main, x) : x));
      const y = unrolled(p, xs)[p.output]!;
      const wanted = xs.map((x) => nodeAt(main, x));
      if (traceOf(y) !== main) return primals.map(() => null);
      const gs = sweepBackward(main.recording, [{ node: nodeAt(main, y), cotangent: ct }], wanted.filter((w) => w >= 0), add);
      let j = 0;
      return wanted.map((w) => (w >= 0 ? gs[j++] ?? null : null));
    }),
});

/**
 * Runs `body` `n` times on a state: `state = body(i, state)` for `i = 0 … n-1`, and stays one program when
 * staged: inside {@link compile} the body is traced once (whatever `n`), and the loop runs when the program
 * runs. Differentiable in both modes, to any order.
 *
 * @param n the number of iterations (a non-negative integer, fixed when tracing).
 * @param init the initial state: a tensor, or a structure of tensors.
 * @param body the step: the iteration index (an int32 rank-0 tensor) and the state give the next state, of the
 *   same structure, shapes and dtypes.
 * @returns the final state.
 * @example
 * ```ts
 * const power = compile((x: Tensor) => fori(10, x, (_i, y) => y.mul(x)));
 * power(tensor(2)); // 2048
 * power(tensor(3)); // 177147
 * ```
 * @category Staged execution
 */
export function fori<T>(n: number, init: T, body: (i: Tensor, state: T) => T): T {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`fori: the number of iterations must be a non-negative integer, got ${n}`);
  if (typeof body !== "function") throw new TypeError("fori: body must be a function (i, state) => state");
  const flat = flatten(init, false);
  if (!flat.leaves.some(isStaged)) {
    let s = init;
    for (let i = 0; i < n; i++) s = body(scalar(i, "int32"), s);
    return s;
  }
  const t = traceBody(flat.tree, flat.leaves, [{ id: -1, shape: [], dtype: "int32" }], (x) => {
    const { pre, args } = x as { pre: Tensor[]; args: T };
    return body(pre[0]!, args);
  });
  if (t.key !== flat.key) {
    throw new TypeError(
      `fori: the body must return a state of the same structure, shapes and dtypes as the initial one ` +
        `(${flat.leaves.map(typeOf).join(", ")}), got (${t.program.outputs.map(typeOf).join(", ")})`,
    );
  }
  const { programs, captured } = alignCaptures([t]);
  const bodyProgram = programs[0]!;
  const args = [...flat.leaves, ...captured];
  const outs = bodyProgram.outputs.map((_, k) => bind(loopP, args, { body: bodyProgram, n, output: k }));
  return unflatten(flat.tree, (i) => outs[i]) as T;
}
