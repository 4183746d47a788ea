/**
 * Tracing: running ordinary TypeScript over staged values to build a {@link Program}.
 *
 * A staged value is a `Tensor` with a shape and a dtype but no elements. Every op on it reaches `bind`,
 * which finds no differentiation level below and no data, and hands the op to the innermost open
 * {@link ProgramBuilder}, which records an equation and returns a new staged value. Differentiation levels
 * opened while tracing wrap staged values like any other primal, so a pullback computed inside a traced
 * function is itself recorded from the primitives' rules.
 */
import { Tensor, type NestedArray } from "../tensor/tensor.js";
import type { DType, TypedArray } from "../tensor/dtype.js";
import { allocate } from "../tensor/dtype.js";
import { broadcastShapes } from "../tensor/shape.js";
import { staging, currentLevel, isTracer } from "../autodiff/trace.js";
import type { Primitive } from "../autodiff/primitive.js";
import type { Constant, Equation, Program, Var } from "./ir.js";
import { typeOf } from "./ir.js";
import { knownPrimitives } from "./elementwise.js";

const FIX =
  "inside compile, tensors are placeholders for values that exist only when the program runs. " +
  "Use cond(pred, onTrue, onFalse, ...operands) or fori(n, init, body) for control flow that depends on tensor values, " +
  "or call the function without compile (eagerly) to read values";

/** @internal A value being staged: shape and dtype known, elements only when the program runs. */
export class StagedTensor extends Tensor {
  /** @internal The builder that defined this value, and its variable there. */
  constructor(
    readonly _builder: ProgramBuilder,
    readonly _var: Var,
  ) {
    super(_var.shape, _var.dtype, undefined);
  }

  /** @internal A staged value is the bottom of every tracing stack: it stands for itself. */
  override get _concrete(): Tensor {
    return this;
  }

  /** @internal Reading elements is impossible while staging. */
  override get _values(): TypedArray {
    throw this._builder.readError?.("its elements") ?? new TypeError(`reading the elements of a staged tensor ${typeOf(this)}: ${FIX}`);
  }

  override item(): number {
    throw this._builder.readError?.("item()") ?? new TypeError(`item() on a staged tensor ${typeOf(this)}: ${FIX}`);
  }

  override toArray(): NestedArray {
    throw this._builder.readError?.("toArray()") ?? new TypeError(`toArray() on a staged tensor ${typeOf(this)}: ${FIX}`);
  }

  override dataSync(): TypedArray {
    throw this._builder.readError?.("dataSync()") ?? new TypeError(`dataSync() on a staged tensor ${typeOf(this)}: ${FIX}`);
  }

  /** Using a staged tensor as a JavaScript number (`x * 2`, `x < 0`) is an error rather than a silent NaN. */
  override valueOf(): number {
    throw (
      this._builder.readError?.("used as a JavaScript number") ??
      new TypeError(`a staged tensor ${typeOf(this)} was used as a JavaScript number (arithmetic or comparison): ${FIX}`)
    );
  }

  override toString(): string {
    return `StagedTensor(${typeOf(this)})`;
  }
}

/**
 * @internal Records equations for one program. Builders nest (the branches of `cond`, loop bodies): the
 * innermost open one records, and values of enclosing ones are captured as its inputs.
 */
export class ProgramBuilder {
  open = true;
  private next = 0;
  readonly inputs: Var[] = [];
  readonly constants: Constant[] = [];
  readonly equations: Equation[] = [];
  private readonly constantVars = new Map<Tensor, Var>();
  /**
   * Values from outside used here: staged values of enclosing builders and, where allowed, tracers of
   * differentiation levels opened before this trace. They become extra inputs (closure conversion).
   */
  readonly captured: Tensor[] = [];
  private readonly capturedVars = new Map<Tensor, Var>();
  /**
   * The error for reading one of this program's values (`how`: `item()`, `dataSync()`, ...), for tracers
   * with another purpose than `compile` (ONNX export); unset, the error points to cond, fori and eager calls.
   */
  readError: ((how: string) => Error) | undefined;

  constructor(
    /** Whether tracers of enclosing differentiation levels may be captured (cond and fori: bound per call). */
    readonly capturesTracers: boolean,
  ) {}

  newVar(shape: readonly number[], dtype: DType): Var {
    return { id: this.next++, shape, dtype };
  }

  /** A new input of the program, as a staged value. */
  input(shape: readonly number[], dtype: DType): StagedTensor {
    const v = this.newVar(shape, dtype);
    this.inputs.push(v);
    return new StagedTensor(this, v);
  }

  /** The variable standing for `t` in this program: a constant, one of ours, or a captured outer value. */
  varOf(op: string, t: Tensor): Var {
    if (t instanceof StagedTensor) {
      if (t._builder === this) return t._var;
      if (!t._builder.open) throw escaped(op, t);
      return this.capture(t);
    }
    if (isTracer(t) && this.capturesTracers) return this.capture(t);
    if (isTracer(t)) {
      throw new TypeError(
        `${op}: a staged function (compile, or a cond branch or fori body inside it) uses a tensor that is being ` +
          `differentiated outside it, captured from an enclosing function; pass it in instead: as an argument of the ` +
          `compiled function, an operand of cond, or part of fori's state`,
      );
    }
    let v = this.constantVars.get(t);
    if (v === undefined) {
      v = this.newVar(t.shape, t.dtype);
      this.constantVars.set(t, v);
      this.constants.push({ v, value: t });
    }
    return v;
  }

  /** Records `prim(inputs; params)` and returns its staged output. */
  record(prim: Primitive<unknown>, inputs: readonly Tensor[], params: unknown): StagedTensor {
    const ins = inputs.map((x) => this.varOf(prim.name, x));
    const { shape, dtype } = abstractEval(prim, inputs, params);
    const out = this.newVar(shape, dtype);
    this.equations.push({ prim, inputs: ins, params, out });
    return new StagedTensor(this, out);
  }

  /** A value of an enclosing program or level: passed in as an input. */
  private capture(t: Tensor): Var {
    let v = this.capturedVars.get(t);
    if (v === undefined) {
      v = this.newVar(t.shape, t.dtype);
      this.capturedVars.set(t, v);
      this.captured.push(t);
    }
    return v;
  }

  /** The input variable a captured outer value became here, if it was captured. */
  capturedVar(t: Tensor): Var | undefined {
    return this.capturedVars.get(t);
  }

  /** Closes the builder and returns its program (captured values come after the declared inputs). */
  finish(outputs: readonly Tensor[]): Program {
    const outs = outputs.map((t) => this.varOf("compile", t));
    this.open = false;
    const inputs = [...this.inputs, ...this.captured.map((t) => this.capturedVars.get(t)!)];
    return { inputs, constants: this.constants, equations: this.equations, outputs: outs, size: this.next };
  }
}

function escaped(op: string, t: StagedTensor): TypeError {
  return new TypeError(
    `${op}: a staged tensor ${typeOf(t)} escaped the compiled function that made it (it was stored outside and used ` +
      `after tracing ended); return it from the compiled function instead`,
  );
}

let current: ProgramBuilder | null = null;

/** @internal The innermost open builder (the one recording now), or null outside any trace. */
export function currentBuilder(): ProgramBuilder | null {
  return current;
}

function record(prim: Primitive<unknown>, inputs: readonly Tensor[], params: unknown): Tensor {
  let owner: ProgramBuilder | null = null;
  for (const x of inputs) {
    if (x instanceof StagedTensor) {
      if (!x._builder.open) throw escaped(prim.name, x);
      owner = x._builder;
    }
  }
  // The innermost open builder records; values of enclosing ones are captured by it.
  const b = current ?? owner;
  if (b === null) throw new TypeError(`${prim.name}: a tensor without elements reached an op outside any compiled function`);
  return b.record(prim, inputs, params);
}

/**
 * @internal Runs `body` with a new builder open (nested in the current one) and returns its program. The
 * differentiation levels open now are outside the program: their tracers are inputs (`capturesTracers`) or
 * an error; levels opened by `body` itself differentiate inside it.
 */
export function trace<R>(body: (b: ProgramBuilder) => R, capturesTracers = false): { result: R; builder: ProgramBuilder } {
  staging.record ??= record;
  const b = new ProgramBuilder(capturesTracers);
  const saved = current;
  const savedFloor = staging.floor;
  current = b;
  staging.floor = currentLevel();
  try {
    return { result: body(b), builder: b };
  } finally {
    current = saved;
    staging.floor = savedFloor;
    if (b.open) b.open = false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Shapes and dtypes of an op's output without running it (elementwise ops); other ops run on zeros once.

/** @internal The elementwise unary primitives and whether they keep an int32 input's dtype. */
export const unaryKeepsInt: Readonly<Record<string, boolean>> = {
  neg: true, abs: true, sign: true, relu: true,
  exp: false, log: false, log1p: false, expm1: false, sqrt: false, sin: false, cos: false, tan: false,
  tanh: false, sigmoid: false, step: false,
};
/** @internal The elementwise binary primitives (output dtype of the operands). */
export const binaryArith: ReadonlySet<string> = new Set(["add", "sub", "mul", "div", "pow", "maximum", "minimum"]);
/** @internal The comparisons (int32 output). */
export const comparisons: ReadonlySet<string> = new Set(["equal", "notEqual", "less", "lessEqual", "greater", "greaterEqual"]);

function abstractEval(prim: Primitive<unknown>, inputs: readonly Tensor[], params: unknown): { shape: readonly number[]; dtype: DType } {
  if (prim.shape !== undefined) return prim.shape(inputs, params);
  const name = prim.name;
  const x = inputs[0]!;
  const k = knownPrimitives();
  if (k !== null && prim === k.matmul) return matmulShape(x, inputs[1]!, params as { transposeA: boolean; transposeB: boolean });
  if (k === null || !(k.ops.has(prim) || prim === k.cast || prim === k.reshape)) return evalOnZeros(prim, inputs, params);
  if (name in unaryKeepsInt && inputs.length === 1) {
    return { shape: x.shape, dtype: x.dtype === "int32" && !unaryKeepsInt[name] ? "float32" : x.dtype };
  }
  if (binaryArith.has(name) && inputs.length === 2) return { shape: broadcastShapes(name, x.shape, inputs[1]!.shape), dtype: x.dtype };
  if (comparisons.has(name) && inputs.length === 2) return { shape: broadcastShapes(name, x.shape, inputs[1]!.shape), dtype: "int32" };
  if (name === "where" && inputs.length === 3) {
    return { shape: broadcastShapes(name, broadcastShapes(name, x.shape, inputs[1]!.shape), inputs[2]!.shape), dtype: inputs[1]!.dtype };
  }
  if (name === "cast") return { shape: x.shape, dtype: params as DType };
  if (name === "reshape") return { shape: (params as { shape: readonly number[] }).shape, dtype: x.dtype };
  return evalOnZeros(prim, inputs, params);
}

/** `op(A) · op(B)` over the last two axes of operands of rank ≥ 2, batch axes broadcast (as the kernel does). */
function matmulShape(a: Tensor, b: Tensor, p: { transposeA: boolean; transposeB: boolean }): { shape: readonly number[]; dtype: DType } {
  const sa = a.shape, sb = b.shape;
  const m = sa[sa.length - (p.transposeA ? 1 : 2)]!;
  const n = sb[sb.length - (p.transposeB ? 2 : 1)]!;
  const batch = broadcastShapes("matmul", sa.slice(0, -2), sb.slice(0, -2));
  return { shape: Object.freeze([...batch, m, n]), dtype: a.dtype };
}

/**
 * Anything else: runs the kernel once on stand-ins of the right types (only while tracing). Stand-ins are
 * zeros, except that float inputs whose last two axes are square hold identity matrices there, so that
 * factorizations and solves (which reject singular input) succeed. Float index tensors (which may be square
 * too) reject the identity's ones on an axis of size 1, so a kernel that rejects the identities runs on zeros.
 */
function evalOnZeros(prim: Primitive<unknown>, inputs: readonly Tensor[], params: unknown): { shape: readonly number[]; dtype: DType } {
  let out: Tensor;
  try {
    out = prim.impl(inputs.map((t) => new Tensor(t.shape, t.dtype, standIn(t))), params);
  } catch {
    out = prim.impl(inputs.map((t) => new Tensor(t.shape, t.dtype, allocate(t.dtype, t.size))), params);
  }
  return { shape: out.shape, dtype: out.dtype };
}

/** Zeros of `t`'s type, with identity matrices in the last two axes of a float tensor when they are square. */
function standIn(t: Tensor): TypedArray {
  const data = allocate(t.dtype, t.size);
  const r = t.shape.length;
  const n = r >= 2 ? t.shape[r - 1]! : 0;
  if (t.dtype === "int32" || n === 0 || t.shape[r - 2] !== n) return data;
  for (let start = 0; start < data.length; start += n * n) for (let i = 0; i < n; i++) data[start + i * n + i] = 1;
  return data;
}
