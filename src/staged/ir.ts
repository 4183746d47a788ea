/**
 * The program representation of staged execution: typed variables, equations over primitives, inputs,
 * constants and outputs. It names no device: a program says *what* to compute (primitive, params, shapes,
 * dtypes), and an executor (the interpreter, the JavaScript code generator, later a GPU one) decides how.
 */
import type { Tensor } from "../tensor/tensor.js";
import type { DType } from "../tensor/dtype.js";
import type { Primitive } from "../autodiff/primitive.js";

/** @internal A typed variable of a program: one value with a shape and a dtype, defined once. */
export interface Var {
  /** Unique within its program; also the index of its slot in an executor's environment. */
  readonly id: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** @internal One equation: `out = prim(inputs; params)`. */
export interface Equation {
  readonly prim: Primitive<unknown>;
  readonly inputs: readonly Var[];
  readonly params: unknown;
  readonly out: Var;
}

/** @internal A constant of a program: a concrete tensor captured while tracing. */
export interface Constant {
  readonly v: Var;
  readonly value: Tensor;
}

/**
 * @internal A straight-line program in single-assignment form. Every variable is an input, a constant or
 * the output of exactly one equation, defined before it is used. `size` bounds the variable ids.
 */
export interface Program {
  readonly inputs: readonly Var[];
  readonly constants: readonly Constant[];
  readonly equations: readonly Equation[];
  readonly outputs: readonly Var[];
  readonly size: number;
}

const dtypeNames: Record<DType, string> = { float32: "f32", float64: "f64", int32: "i32" };

/** @internal A variable's type as printed: `f32[2,3]`. */
export function typeOf(v: { readonly shape: readonly number[]; readonly dtype: DType }): string {
  return `${dtypeNames[v.dtype]}[${v.shape.join(",")}]`;
}

/** @internal A variable's printed name: letters in order, `a`…`z`, `ba`…, like JAX's jaxpr printer. */
export function nameOf(v: Var): string {
  let n = v.id;
  let s = "";
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return s;
}

/** @internal A readable rendering of params for the printout (functions and programs by kind only). */
export function formatParams(params: unknown): string {
  if (params === undefined || params === null) return "";
  if (typeof params !== "object") return JSON.stringify(params) ?? "";
  if ("summary" in params && typeof params.summary === "string") return `[${params.summary}]`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
    if (v === undefined) continue;
    if (typeof v === "function") parts.push(`${k}=<fn>`);
    else if (Array.isArray(v) && v.some(isProgram)) parts.push(`${k}=<${v.length} programs>`);
    else if (isProgram(v)) parts.push(`${k}=<program>`);
    else parts.push(`${k}=${JSON.stringify(v, (_k, x: unknown) => (typeof x === "function" ? "<fn>" : x))}`);
  }
  return parts.length > 0 ? `[${parts.join(" ")}]` : "";
}

function isProgram(x: unknown): boolean {
  return typeof x === "object" && x !== null && "equations" in x && "outputs" in x;
}

/** @internal Prints a constant's value when it is small, else its type only. */
function formatConstant(c: Constant): string {
  const t = c.value;
  if (t.size === 1) return String(t._values[0]);
  return `<${typeOf(t)}>`;
}

/**
 * @internal The program as text, one equation per line:
 * ```
 * { lambda a:f32[3] b:f32[] .
 *   c:f32[] = const 2
 *   d:f32[3] = mul a c
 *   in (d) }
 * ```
 */
export function printProgram(p: Program, indent = ""): string {
  const lines: string[] = [];
  lines.push(`${indent}{ lambda ${p.inputs.map((v) => `${nameOf(v)}:${typeOf(v)}`).join(" ")} .`);
  for (const c of p.constants) lines.push(`${indent}  ${nameOf(c.v)}:${typeOf(c.v)} = const ${formatConstant(c)}`);
  for (const e of p.equations) {
    const params = formatParams(e.params);
    lines.push(`${indent}  ${nameOf(e.out)}:${typeOf(e.out)} = ${e.prim.name}${params ? " " + params : ""} ${e.inputs.map(nameOf).join(" ")}`.trimEnd());
  }
  lines.push(`${indent}  in (${p.outputs.map(nameOf).join(", ")}) }`);
  return lines.join("\n");
}

/** @internal How many equations use each variable (outputs count as uses). */
export function useCounts(p: Program): Int32Array {
  const uses = new Int32Array(p.size);
  for (const e of p.equations) for (const v of e.inputs) uses[v.id]!++;
  for (const v of p.outputs) uses[v.id]!++;
  return uses;
}

/** @internal Renumbers a program's variables densely in definition order (after passes removed some). */
export function compact(p: Program): Program {
  const map = new Map<number, Var>();
  let next = 0;
  const re = (v: Var): Var => {
    let r = map.get(v.id);
    if (r === undefined) {
      r = { id: next++, shape: v.shape, dtype: v.dtype };
      map.set(v.id, r);
    }
    return r;
  };
  const inputs = p.inputs.map(re);
  const constants = p.constants.map((c) => ({ v: re(c.v), value: c.value }));
  const equations = p.equations.map((e) => {
    const ins = e.inputs.map((v) => map.get(v.id)!);
    return { prim: e.prim, inputs: ins, params: e.params, out: re(e.out) };
  });
  const outputs = p.outputs.map((v) => map.get(v.id)!);
  return { inputs, constants, equations, outputs, size: next };
}
