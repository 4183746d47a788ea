/**
 * The elementwise primitives, recognised by identity (never by name: a user's custom primitive may share a
 * name), with the scalar expression each one computes. The expressions reproduce the eager kernels exactly
 * (same formula, same rounding on store), which is what makes fused loops bit-identical to eager. Float32
 * exp, log, tanh and sigmoid call the eager kernels' own scalar functions ({@link FLOAT32_FUNCTIONS}, passed
 * into generated code by index), never `Math`.
 */
import type { Primitive } from "../autodiff/primitive.js";
import type { DType } from "../tensor/dtype.js";
import { neg, exp, log, log1p, expm1, sqrt, abs, sign, sin, cos, tan, tanh, sigmoid, relu, cast, step } from "../ops/unary.js";
import { add, sub, mul, div, pow, maximum, minimum, equal, notEqual, less, lessEqual, greater, greaterEqual, where } from "../ops/binary.js";
import { reshape } from "../ops/movement.js";
import { matmul } from "../ops/linalg.js";
import { sum } from "../ops/reduce.js";
import type { Tensor } from "../tensor/tensor.js";
import { trace } from "./tracing.js";
import { expF32, logF32, sigmoidF32, tanhF32 } from "../tensor/cpu/float32-math.js";

/** @internal What a fused loop needs to know about an elementwise primitive. */
export interface ElementwiseOp {
  readonly name: string;
  readonly arity: 1 | 2 | 3;
  /**
   * JavaScript statements computing the result of dtype `dtype` into `r` from operand expressions
   * (identifiers or element reads). Only these fixed templates ever reach generated code; `F0`…`F3` name
   * {@link FLOAT32_FUNCTIONS}.
   */
  readonly code: (r: string, a: string, b: string, c: string, dtype: DType) => string;
  /** The same computation on numbers (the interpreter of fused loops). */
  readonly eval: (a: number, b: number, c: number, dtype: DType) => number;
}

/**
 * @internal The functions generated code may call, `F0`…`F3` in this order: the float32 exp, log, tanh and
 * sigmoid of the eager kernels.
 */
export const FLOAT32_FUNCTIONS: readonly ((x: number) => number)[] = [expF32, logF32, tanhF32, sigmoidF32];

const sig = (v: number): number => {
  const s = 1 / (1 + Math.exp(-Math.abs(v)));
  return v >= 0 ? s : 1 - s;
};

type Unary = [string, (x: Tensor) => Tensor, (r: string, a: string) => string, (a: number) => number];

/** Ops with their own float32 definition: the name and index in FLOAT32_FUNCTIONS. */
const float32Index: Record<string, number> = { exp: 0, log: 1, tanh: 2, sigmoid: 3 };

const unaryOps: Unary[] = [
  ["neg", neg, (r, a) => `${r} = -${a};`, (a) => -a],
  ["exp", exp, (r, a) => `${r} = Math.exp(${a});`, Math.exp],
  ["log", log, (r, a) => `${r} = Math.log(${a});`, Math.log],
  ["log1p", log1p, (r, a) => `${r} = Math.log1p(${a});`, Math.log1p],
  ["expm1", expm1, (r, a) => `${r} = Math.expm1(${a});`, Math.expm1],
  ["sqrt", sqrt, (r, a) => `${r} = Math.sqrt(${a});`, Math.sqrt],
  ["abs", abs, (r, a) => `${r} = Math.abs(${a});`, Math.abs],
  ["sign", sign, (r, a) => `${r} = Math.sign(${a});`, Math.sign],
  ["sin", sin, (r, a) => `${r} = Math.sin(${a});`, Math.sin],
  ["cos", cos, (r, a) => `${r} = Math.cos(${a});`, Math.cos],
  ["tan", tan, (r, a) => `${r} = Math.tan(${a});`, Math.tan],
  ["tanh", tanh, (r, a) => `${r} = Math.tanh(${a});`, Math.tanh],
  ["sigmoid", sigmoid, (r, a) => `{ const s = 1 / (1 + Math.exp(-Math.abs(${a}))); ${r} = ${a} >= 0 ? s : 1 - s; }`, sig],
  // The eager kernel's branch-free form, including its fix-up at -Infinity (NaN stays NaN).
  ["relu", relu, (r, a) => `${r} = ${a} === -Infinity ? 0 : (${a} + Math.abs(${a})) * 0.5;`, (a) => (a === -Infinity ? 0 : (a + Math.abs(a)) * 0.5)],
  ["step", step, (r, a) => `${r} = +(${a} > 0);`, (a) => +(a > 0)],
];

const binaryOps: [string, (a: Tensor, b: Tensor) => Tensor, string | ((r: string, a: string, b: string) => string), (a: number, b: number) => number][] = [
  ["add", add, "+", (a, b) => a + b],
  ["sub", sub, "-", (a, b) => a - b],
  ["mul", mul, "*", (a, b) => a * b],
  ["div", div, "/", (a, b) => a / b],
  ["pow", pow, (r, a, b) => `${r} = Math.pow(${a}, ${b});`, Math.pow],
  ["maximum", maximum, (r, a, b) => `${r} = ${a} >= ${b} || ${a} !== ${a} ? ${a} : ${b};`, (a, b) => (a >= b || a !== a ? a : b)],
  ["minimum", minimum, (r, a, b) => `${r} = ${a} <= ${b} || ${a} !== ${a} ? ${a} : ${b};`, (a, b) => (a <= b || a !== a ? a : b)],
  ["equal", equal, (r, a, b) => `${r} = +(${a} === ${b});`, (a, b) => +(a === b)],
  ["notEqual", notEqual, (r, a, b) => `${r} = +(${a} !== ${b});`, (a, b) => +(a !== b)],
  ["less", less, (r, a, b) => `${r} = +(${a} < ${b});`, (a, b) => +(a < b)],
  ["lessEqual", lessEqual, (r, a, b) => `${r} = +(${a} <= ${b});`, (a, b) => +(a <= b)],
  ["greater", greater, (r, a, b) => `${r} = +(${a} > ${b});`, (a, b) => +(a > b)],
  ["greaterEqual", greaterEqual, (r, a, b) => `${r} = +(${a} >= ${b});`, (a, b) => +(a >= b)],
];

/** @internal The elementwise primitives by identity; `cast` and `reshape` are returned separately. */
interface Known {
  readonly ops: Map<Primitive<unknown>, ElementwiseOp>;
  readonly cast: Primitive<unknown>;
  readonly reshape: Primitive<unknown>;
  readonly matmul: Primitive<unknown>;
  readonly sum: Primitive<unknown>;
}

let known: Known | null = null;
let building = false;

/** @internal The primitive a public op binds, found by tracing it once on staged values. */
function primOf(body: (b: { input: (s: readonly number[], d: DType) => Tensor }) => unknown): Primitive<unknown> {
  const { builder } = trace((b) => body(b));
  const eqs = builder.equations;
  return eqs[eqs.length - 1]!.prim;
}

/** @internal The table of elementwise primitives (built on first use). */
export function knownPrimitives(): Known | null {
  if (known !== null) return known;
  if (building) return null;
  building = true;
  try {
    const ops = new Map<Primitive<unknown>, ElementwiseOp>();
    for (const [name, f, code, ev] of unaryOps) {
      const k = float32Index[name];
      const op: ElementwiseOp =
        k === undefined
          ? { name, arity: 1, code: (r, a) => code(r, a), eval: (a) => ev(a) }
          : {
              name,
              arity: 1,
              code: (r, a, _b, _c, dtype) => (dtype === "float32" ? `${r} = F${k}(${a});` : code(r, a)),
              eval: (a, _b, _c, dtype) => (dtype === "float32" ? FLOAT32_FUNCTIONS[k]!(a) : ev(a)),
            };
      ops.set(primOf((b) => f(b.input([2], "float32"))), op);
    }
    for (const [name, f, code, ev] of binaryOps) {
      const emit = typeof code === "string" ? (r: string, a: string, b: string) => `${r} = ${a} ${code} ${b};` : code;
      ops.set(primOf((b) => f(b.input([2], "float32"), b.input([2], "float32"))), { name, arity: 2, code: (r, a, b) => emit(r, a, b), eval: ev });
    }
    ops.set(primOf((b) => where(b.input([2], "int32"), b.input([2], "float32"), b.input([2], "float32"))), {
      name: "where",
      arity: 3,
      code: (r, c, a, b) => `${r} = ${c} !== 0 ? ${a} : ${b};`,
      eval: (c, a, b) => (c !== 0 ? a : b),
    });
    known = {
      ops,
      cast: primOf((b) => cast(b.input([2], "float32"), "float64")),
      reshape: primOf((b) => reshape(b.input([2], "float32"), [1, 2])),
      matmul: primOf((b) => matmul(b.input([2, 2], "float32"), b.input([2, 2], "float32"))),
      sum: primOf((b) => sum(b.input([2, 2], "float32"), 0)),
    };
    return known;
  } finally {
    building = false;
  }
}

/** @internal The statement that rounds `r` to what an array of `dtype` stores. */
export function roundTo(dtype: DType, r: string): string {
  if (dtype === "float32") return `${r} = Math.fround(${r});`;
  if (dtype === "int32") return `${r} = ${r} | 0;`;
  return "";
}

/** @internal The number an array of `dtype` stores for `x`. */
export function storeAs(dtype: DType, x: number): number {
  if (dtype === "float32") return Math.fround(x);
  if (dtype === "int32") return x | 0;
  return x;
}
