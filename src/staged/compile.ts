/**
 * `compile(f)`: staged execution. The first call per input signature traces `f` over staged values into a
 * program; later calls with that signature run the optimised program. Under a differential operator the
 * compiled function is one primitive whose derivatives are programs too.
 */
import { Tensor } from "../tensor/tensor.js";
import { settled, isTracer } from "../autodiff/trace.js";
import type { Program } from "./ir.js";
import { printProgram } from "./ir.js";
import { StagedTensor, trace } from "./tracing.js";
import { flatten, unflatten, type Flat, type Node } from "./structure.js";
import { makeExecutable, type CompileOptions, type Executable } from "./execute.js";
import { callProgram } from "./call.js";
import { prune } from "./passes.js";
import { EffectScope, argumentWrites, placesOf, withEffectScope, writeArguments, type ArgumentWrite } from "./effects.js";

/**
 * Counters of a compiled function: how often it traced and built code, and how many signatures it holds.
 * @category Staged execution
 */
export interface CompileStats {
  /** Times `f` was run over staged values (once per new input signature). */
  readonly traces: number;
  /** Executables built (once per signature; none for calls that only run under a differential operator). */
  readonly compilations: number;
  /** Input signatures held (the size of the cache: at most 64, the least recently traced dropped first). */
  readonly signatures: number;
}

/**
 * What {@link CompiledFunction.inspect} shows for one signature.
 * @category Staged execution
 */
export interface CompiledProgramText {
  /** The traced program, one equation per line. */
  readonly program: string;
  /** The program after the passes (folding, CSE, DCE, fusion, buffer reuse). */
  readonly optimized: string;
  /** The generated JavaScript, or null where the program is interpreted. */
  readonly code: string | null;
}

/**
 * What a compiled function's parameters accept: where `f` takes a `Tensor`, a number may be passed (it
 * arrives as a rank-0 float32 tensor, an input of the program like any other, never a baked-in constant).
 * A parameter `f` declares as `number` accepts nothing (`never`): top-level numbers arrive as tensors, so
 * declare it a `Tensor`.
 * @category Staged execution
 */
export type CompiledArgs<A extends readonly unknown[]> = { [K in keyof A]: A[K] extends Tensor ? Tensor | number : A[K] extends number ? never : A[K] };

/**
 * A function returned by {@link compile}: callable like `f`, with counters and a look at its program.
 * @category Staged execution
 */
export interface CompiledFunction<A extends readonly unknown[], R> {
  /** Runs the program for this signature (tracing and compiling it first if the signature is new). */
  (...args: CompiledArgs<A>): R;
  /** Counters of traces, compilations and cached signatures. */
  readonly stats: CompileStats;
  /**
   * The program and generated code for the signature of `args` (tracing it if new).
   * @param args arguments of the signature to show.
   * @returns the program before and after the passes, and the generated code.
   */
  inspect(...args: CompiledArgs<A>): CompiledProgramText;
}

interface Entry {
  readonly program: Program;
  /** The output tree; its leaves index `program.outputs`. Numbers returned by `f` are constants in it. */
  readonly output: Node;
  /** How many of the program's outputs are `f`'s results (the argument writes, effect writes and checks follow). */
  readonly results: number;
  /** Argument leaves `f` replaced, written back after each run. */
  readonly writes: readonly ArgumentWrite[];
  /** State besides the arguments that `f` reads and updates (null when none). */
  readonly effects: EffectScope | null;
  executable: Executable | null;
}

const isConcrete = (t: Tensor): boolean => t._data !== undefined;

/** Signatures kept per compiled function. */
const MAX_SIGNATURES = 64;

/**
 * Stages `f`: returns a function with the same parameters and results that traces `f` once per input
 * signature (the structure of the arguments, the shapes and dtypes of their tensors) into a program, and
 * runs the optimised, compiled program on later calls.
 *
 * - Tensors anywhere in the arguments (arrays, plain objects, models) are program inputs; so is a number
 *   at the top level, which `f` receives as a rank-0 float32 tensor: a learning rate from a schedule or a
 *   step count changes from call to call without retracing. Other values (numbers in fields, strings,
 *   functions) are part of the signature: a new value retraces. Values `f` closes over are read once, while
 *   tracing: pass what changes as an argument.
 * - Differential operators compose in both directions: `compile((x) => gradient(x, g))` stages the pullback
 *   built from the primitives' rules, and `gradient(x, compile(g))` differentiates the program (its
 *   derivatives are programs too, compiled once).
 * - Inside `f`, tensors have shapes and dtypes but no values: reading them (`item()`, `toArray()`,
 *   `dataSync()`, JS arithmetic) is an error; use {@link cond} and {@link fori} for value-dependent control.
 *   Plain recursion and loops over numbers unroll while tracing.
 * - In-place updates are replayed as eager would do them: a tensor `f` assigns into an argument (a field of
 *   a model, an element of an array) becomes an extra output of the program, and after every run its value
 *   is assigned at the same key path of the real argument. An optimizer's `update` inside `f` updates the
 *   model and the optimizer's state this way (its state, step count and learning rate are inputs read at
 *   every run). The writes happen after the whole run and its checks, so a run that throws changes nothing.
 *   Changes that cannot be replayed (a field added or removed, a number in a field changed) are errors
 *   naming the path.
 *
 * @param f the function to stage: tensors (and structures of them) in, tensors (and structures) out.
 * @param options switches for the optimisation passes and code generation (all on by default).
 * @returns the compiled function, with `stats` (traces, compilations, signatures) and `inspect(...args)`.
 * @example
 * ```ts
 * const step = compile((x: Tensor, lr: Tensor) => x.sub(gradient(x, (y) => y.square().sum()).mul(lr)));
 * step(tensor([1, 2]), 0.1);  // [0.8, 1.6]
 * // Same signature (a number argument is an input, not a constant): runs the program, no retrace.
 * step(tensor([3, 4]), 0.05); // [2.7, 3.6]
 * step.stats.traces;          // 1
 * // Another shape is another signature, traced once more:
 * step(tensor([1, 2, 3]), 0.1); // [0.8, 1.6, 2.4]
 * step.stats.traces;            // 2
 * ```
 * @category Staged execution
 */
export function compile<A extends readonly unknown[], R>(f: (...args: A) => R, options: CompileOptions = {}): CompiledFunction<A, R> {
  if (typeof f !== "function") throw new TypeError(`compile: the argument must be the function to stage, got ${typeof f}`);
  const cache = new Map<string, Entry>();
  const stats = { traces: 0, compilations: 0, signatures: 0 };

  const entryFor = (flat: Flat): Entry => {
    let e = cache.get(flat.key);
    // State the program reads changed its layout (an optimizer's frozen parameters, a loaded state): trace again.
    if (e !== undefined && e.effects !== null && e.effects.stale.some((s) => s())) {
      cache.delete(flat.key);
      e = undefined;
    }
    if (e === undefined) {
      e = traceEntry(f as unknown as (...a: unknown[]) => unknown, flat);
      stats.traces++;
      // The least recently traced signature goes first, so a signature that changes every call (a number
      // in a field) costs a retrace per call but never unbounded memory.
      if (cache.size >= MAX_SIGNATURES) cache.delete(cache.keys().next().value!);
      cache.set(flat.key, e);
      stats.signatures = cache.size;
    }
    return e;
  };
  const executable = (e: Entry): Executable => {
    if (e.executable === null) {
      e.executable = makeExecutable(e.program, options);
      stats.compilations++;
    }
    return e.executable;
  };

  const call = (...args: unknown[]): unknown => {
    // Fast path: concrete tensors only.
    let simple = true;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (!(a instanceof Tensor) || !isConcrete(a) || args.indexOf(a) !== i) simple = false;
    }
    let flat: Flat;
    if (simple) {
      let key = "A" + String(args.length) + "(";
      for (const a of args as Tensor[]) key += `T${a.dtype}[${a.shape.join(",")}]`;
      flat = { tree: { source: args, numberLeaves: true, single: false }, leaves: args as Tensor[], key: key + ")" };
    } else flat = flatten(args, true);
    const leaves = flat.leaves;
    let staged = false;
    let traced = false;
    for (let i = 0; i < leaves.length; i++) {
      const l = settled(leaves[i]!);
      if (l._concrete instanceof StagedTensor) staged = true;
      else if (isTracer(l)) traced = true;
    }
    // Inside another compiled function: inline (the enclosing program records the ops).
    if (staged) return f(...(unflatten(flat.tree, (i) => leaves[i]) as A));
    const e = entryFor(flat);
    let outs: Tensor[];
    if (traced) {
      if (e.writes.length > 0 || e.effects !== null) {
        throw new TypeError(
          `compile: a compiled function that updates state in place (its arguments, or an optimizer) cannot run under a differential operator ` +
            `(the derivative of an assignment is not defined); differentiate inside the compiled function instead`,
        );
      }
      // Under a differential operator: one `call` per output, each differentiable through its programs.
      outs = e.program.outputs.map((_, k) => callProgram([prune(e.program, [k])], false, leaves));
    } else if (e.effects === null && e.writes.length === 0) {
      outs = executable(e)(leaves);
    } else {
      outs = runWithEffects(e, executable(e), leaves, args);
    }
    const out = e.output;
    if (out.single) return outs[0];
    return unflatten(out, (i) => outs[i]);
  };

  const inspect = (...args: unknown[]): CompiledProgramText => {
    const flat = flatten(args, true);
    const e = entryFor(flat);
    const x = executable(e);
    return { program: printProgram(e.program), optimized: printProgram(x.program), code: x.source };
  };

  const compiled = Object.assign(call as unknown as (...a: CompiledArgs<A>) => R, {
    inspect: inspect as unknown as (...a: CompiledArgs<A>) => CompiledProgramText,
  });
  // A getter (Object.assign would copy the counters' value once).
  Object.defineProperty(compiled, "stats", { get: (): CompileStats => ({ ...stats }), enumerable: true });
  return compiled as CompiledFunction<A, R>;
}

function traceEntry(f: (...a: unknown[]) => unknown, flat: Flat): Entry {
  return trace((b) => {
    const inputs = flat.leaves.map((l) => b.input(l.shape, l.dtype));
    const stagedArgs = unflatten(flat.tree, (i) => inputs[i], true) as unknown[];
    const before = placesOf(stagedArgs);
    const effects = new EffectScope(b);
    const y = withEffectScope(effects, () => f(...stagedArgs));
    // The arguments are copies: what `f` assigned into them is replayed on the real ones after every run.
    const writes = argumentWrites(before, placesOf(stagedArgs));
    const out = flatten(y, false);
    const extra = [...writes.map((w) => w.value), ...effects.writes.map((w) => w.value), ...effects.checks.map((c) => c.value)];
    const program = b.finish([...out.leaves, ...extra]);
    return { program, output: out.tree, results: out.leaves.length, writes, effects: effects.empty ? null : effects, executable: null };
  }).result;
}

/**
 * A run of a program that updates state: reads the state's current values as the extra inputs, runs, checks
 * (a check that throws cancels every write), then writes the argument leaves and the state.
 */
function runWithEffects(e: Entry, run: Executable, leaves: readonly Tensor[], args: readonly unknown[]): Tensor[] {
  const fx = e.effects;
  const inputs = fx === null ? leaves : [...leaves, ...fx.reads.map((r) => r())];
  const outs = run(inputs);
  let k = e.results + e.writes.length;
  if (fx !== null) {
    const c0 = k + fx.writes.length;
    for (let i = 0; i < fx.checks.length; i++) fx.checks[i]!.verify(outs[c0 + i]!);
  }
  writeArguments(args, e.writes, outs, e.results);
  if (fx !== null) {
    for (const w of fx.writes) w.commit(outs[k++]!);
    for (const a of fx.after) a();
  }
  return outs;
}
