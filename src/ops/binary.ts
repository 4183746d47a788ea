/**
 * Elementwise functions of two tensors, with NumPy broadcasting, and `where`. Each primitive carries its
 * kernel, JVP and VJP together; `clip` is derived. Comparisons and the logical connectives give int32
 * masks and carry no derivative.
 *
 * Conventions at the points where a derivative is not unique: `maximum` and `minimum` send the whole
 * derivative to their first operand on ties, as TensorFlow does (JAX splits it in halves), so `clip` has
 * derivative 1 on the closed interval `[min, max]`, boundaries included; `pow(a, b)` takes `∂/∂b = 0` where `a <= 0`, and its factor
 * `b a^(b-1)` is 0 where `b = 0`, so `x^n` has exact derivatives of every order at `x = 0` (never
 * `0 · ∞ = NaN`); `atan2` has derivative 0 at the origin; `mod(a, b)` has `∂/∂a = 1` and
 * `∂/∂b = -floor(a / b)` (taken also at its jumps).
 *
 * int32 arithmetic wraps around modulo 2³² (two's complement, as C and Java do): `add`, `sub`, `mul`
 * and `neg` give the low 32 bits of the exact result. `pow` on int32 is computed in float64 and wrapped
 * the same way, exact while the true power is below 2⁵³. `div` of int32 operands gives float32.
 */
import { Tensor, type TensorLike } from "../tensor/tensor.js";
import { allocate, allocateForOverwrite, type DType } from "../tensor/dtype.js";
import { broadcastShapes } from "../tensor/shape.js";
import { backend } from "../tensor/backend.js";
import type { BinaryKernel, CompareKernel } from "../tensor/cpu/elementwise.js";
import type { MathBinaryKernel } from "../tensor/cpu/special.js";
import { bind } from "../autodiff/trace.js";
import { definePrimitive, defineNondifferentiable, type Primitive } from "../autodiff/primitive.js";
import { checkTensor, coerce, unbroadcast, bcast } from "./util.js";
import { neg, log, cast, floor } from "./unary.js";
import { scalar } from "../tensor/creation.js";

function run(kernel: BinaryKernel | CompareKernel, a: Tensor, b: Tensor, dtype: DType): Tensor {
  const shape = broadcastShapes(kernel, a.shape, b.shape);
  let size = 1;
  for (const d of shape) size *= d;
  const out = allocateForOverwrite(dtype, size);
  backend().binary(kernel, a._data!, a.shape, b._data!, b.shape, out, shape);
  return new Tensor(shape, dtype, out);
}

function runMath(kernel: MathBinaryKernel, a: Tensor, b: Tensor, dtype: DType): Tensor {
  const shape = broadcastShapes(kernel, a.shape, b.shape);
  let size = 1;
  for (const d of shape) size *= d;
  const out = allocate(dtype, size);
  backend().mathBinary(kernel, a._data!, a.shape, b._data!, b.shape, out, shape);
  return new Tensor(shape, dtype, out);
}

function arithmetic(
  kernel: BinaryKernel,
  jvp: Primitive["jvp"],
  vjp: Primitive["vjp"],
): Primitive {
  return definePrimitive({ name: kernel, impl: ([a, b]) => run(kernel, a!, b!, a!.dtype), jvp, vjp });
}

const addP = arithmetic(
  "add",
  (_, [ta, tb], out) => (ta && tb ? add(ta, tb) : bcast((ta ?? tb)!, out.shape)),
  (ct, [a, b], _out, _p, [na, nb]) => [na ? unbroadcast(ct, a!.shape) : null, nb ? unbroadcast(ct, b!.shape) : null],
);
const subP = arithmetic(
  "sub",
  (_, [ta, tb], out) => (ta && tb ? sub(ta, tb) : ta ? bcast(ta, out.shape) : bcast(neg(tb!), out.shape)),
  (ct, [a, b], _out, _p, [na, nb]) => [na ? unbroadcast(ct, a!.shape) : null, nb ? unbroadcast(neg(ct), b!.shape) : null],
);
const mulP = definePrimitive({
  name: "mul",
  // int32 products wrap exactly (Math.imul); a float64 product would lose the low bits past 2^53 first.
  impl: ([a, b]) => (a!.dtype === "int32" ? runMath("imul", a!, b!, "int32") : run("mul", a!, b!, a!.dtype)),
  jvp: ([a, b], [ta, tb]) => {
    const da = ta ? mul(ta, b!) : null;
    const db = tb ? mul(a!, tb) : null;
    return da && db ? add(da, db) : (da ?? db)!;
  },
  vjp: (ct, [a, b], _out, _p, [na, nb]) => [
    na ? unbroadcast(mul(ct, b!), a!.shape) : null,
    nb ? unbroadcast(mul(ct, a!), b!.shape) : null,
  ],
});
const divP = arithmetic(
  "div",
  ([, b], [ta, tb], out) => {
    // d(a/b) = da/b - (a/b) db/b
    const da = ta ? div(ta, b!) : null;
    const db = tb ? neg(div(mul(out, tb), b!)) : null;
    return da && db ? add(da, db) : (da ?? db)!;
  },
  (ct, [a, b], out, _p, [na, nb]) => {
    const q = div(ct, b!);
    return [na ? unbroadcast(q, a!.shape) : null, nb ? unbroadcast(neg(mul(q, out)), b!.shape) : null];
  },
);
// d(a^b) = b a^(b-1) da + a^b ln(a) db. Convention: the ln(a) factor is taken as 0 where a <= 0, where
// a^b is only defined for integer b and so has no derivative in b.
const logBase = (a: Tensor): Tensor => log(where(greater(a, 0), a, 1));
// b a^(b-1), taken as 0 where b = 0 (a^0 is constant): otherwise 0 · 0^(-1) would be NaN at a = 0, and
// since every higher derivative goes through this factor again, x^n is exact at 0 to every order. The
// unused branch sees a = 1, so its own derivative (multiplied by a zero cotangent) is finite too.
function powFactor(a: Tensor, b: Tensor): Tensor {
  const constant = equal(b, 0);
  return where(constant, 0, mul(b, pow(where(constant, 1, a), sub(b, 1))));
}
const powP = arithmetic(
  "pow",
  ([a, b], [ta, tb], out) => {
    const da = ta ? mul(ta, powFactor(a!, b!)) : null;
    const db = tb ? mul(tb, mul(out, logBase(a!))) : null;
    return da && db ? add(da, db) : (da ?? db)!;
  },
  (ct, [a, b], out, _p, [na, nb]) => [
    na ? unbroadcast(mul(ct, powFactor(a!, b!)), a!.shape) : null,
    nb ? unbroadcast(mul(ct, mul(out, logBase(a!))), b!.shape) : null,
  ],
);
// Ties send the whole derivative to the first operand (max) so that sub-gradients stay consistent.
const maximumP = arithmetic(
  "maximum",
  ([a, b], [ta, tb], out) => selectTangent(greaterEqual(a!, b!), ta ?? null, tb ?? null, out),
  (ct, [a, b]) => selectCotangent(greaterEqual(a!, b!), ct, a!, b!),
);
const minimumP = arithmetic(
  "minimum",
  ([a, b], [ta, tb], out) => selectTangent(lessEqual(a!, b!), ta ?? null, tb ?? null, out),
  (ct, [a, b]) => selectCotangent(lessEqual(a!, b!), ct, a!, b!),
);

function selectTangent(mask: Tensor, ta: Tensor | null, tb: Tensor | null, out: Tensor): Tensor {
  const z = scalar(0, out.dtype);
  return bcast(where(mask, ta ?? z, tb ?? z), out.shape);
}

function selectCotangent(mask: Tensor, ct: Tensor, a: Tensor, b: Tensor): Tensor[] {
  const z = scalar(0, ct.dtype);
  return [unbroadcast(where(mask, ct, z), a.shape), unbroadcast(where(mask, z, ct), b.shape)];
}

const comparisons = new Map<CompareKernel, Primitive>();
for (const k of ["equal", "notEqual", "less", "lessEqual", "greater", "greaterEqual"] as const) {
  comparisons.set(k, defineNondifferentiable(k, ([a, b]) => run(k, a!, b!, "int32")));
}

// Shapes are validated by the kernel call at the bottom of `bind`, which runs during this call at every
// level, so errors still surface here, naming the op.
function arith(p: Primitive, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = coerce(p.name, a, b, cast);
  return bind(p, [x, y], undefined);
}

/**
 * Elementwise `a + b` with broadcasting.
 * @param a tensor or number.
 * @param b tensor or number.
 * @returns the sum, shaped by broadcasting.
 * @example
 * ```ts
 * add(tensor([1, 2]), 10); // [11, 12]
 * // A [2, 2] matrix plus a row of 2: the row is added to every row.
 * add(tensor([[1, 2], [3, 4]]), tensor([10, 20])); // [[11, 22], [13, 24]]
 * ```
 * @category Elementwise operations
 */
export function add(a: TensorLike, b: TensorLike): Tensor { return arith(addP, a, b); }
/**
 * Elementwise `a - b` with broadcasting.
 * @param a tensor or number.
 * @param b tensor or number.
 * @returns the difference.
 * @example
 * ```ts
 * sub(10, tensor([1, 2])); // [9, 8]
 * ```
 * @category Elementwise operations
 */
export function sub(a: TensorLike, b: TensorLike): Tensor { return arith(subP, a, b); }
/**
 * Elementwise `a * b` with broadcasting.
 * @param a tensor or number.
 * @param b tensor or number.
 * @returns the product.
 * @example
 * ```ts
 * mul(tensor([[1], [2]]), tensor([1, 10])); // [[1, 10], [2, 20]]
 * ```
 * @category Elementwise operations
 */
export function mul(a: TensorLike, b: TensorLike): Tensor { return arith(mulP, a, b); }
/**
 * Elementwise `a / b` with broadcasting; int32 operands are divided as float32.
 * @param a tensor or number.
 * @param b tensor or number.
 * @returns the quotient.
 * @example
 * ```ts
 * div(tensor([1, 2]), 4); // [0.25, 0.5]
 * div(tensor([1, -1, 0]), 0); // [Infinity, -Infinity, NaN]
 * div(tensor([1, 2], { dtype: "int32" }), 4).dtype; // "float32"
 * ```
 * @category Elementwise operations
 */
export function div(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = coerce("div", a, b, cast);
  const d = x.dtype === "int32" ? "float32" : x.dtype;
  return arith(divP, cast(x, d), cast(y, d));
}
/**
 * Elementwise `a ** b` with broadcasting.
 * @param a the base.
 * @param b the exponent.
 * @returns the power.
 * @example
 * ```ts
 * pow(tensor([2, 3]), 2); // [4, 9]
 * pow(tensor([4, 9]), 0.5); // [2, 3]
 * pow(2, tensor([0, 1, 10])); // [1, 2, 1024]
 * ```
 * @category Elementwise operations
 */
export function pow(a: TensorLike, b: TensorLike): Tensor { return arith(powP, a, b); }
/**
 * Elementwise maximum with broadcasting (NaN propagates).
 * @param a tensor or number.
 * @param b tensor or number.
 * @returns the larger values.
 * @example
 * ```ts
 * maximum(tensor([1, 5]), 3); // [3, 5]
 * maximum(tensor([1, NaN]), 0); // [1, NaN]
 * ```
 * @category Elementwise operations
 */
export function maximum(a: TensorLike, b: TensorLike): Tensor { return arith(maximumP, a, b); }
/**
 * Elementwise minimum with broadcasting (NaN propagates).
 * @param a tensor or number.
 * @param b tensor or number.
 * @returns the smaller values.
 * @example
 * ```ts
 * minimum(tensor([1, 5]), 3); // [1, 3]
 * ```
 * @category Elementwise operations
 */
export function minimum(a: TensorLike, b: TensorLike): Tensor { return arith(minimumP, a, b); }

/**
 * Clamps every element of `x` into `[min, max]`. The derivative is 1 on the closed interval (boundaries included)
 * and 0 outside it.
 * @param x a tensor.
 * @param min lower bound.
 * @param max upper bound (≥ min).
 * @returns the clipped tensor.
 * @example
 * ```ts
 * clip(tensor([-2, 0, 2]), -1, 1); // [-1, 0, 1]
 * ```
 * @category Elementwise operations
 */
export function clip(x: Tensor, min: number, max: number): Tensor {
  checkTensor("clip", "x", x);
  if (typeof min !== "number" || typeof max !== "number") {
    throw new TypeError(`clip: min and max must be numbers, got ${typeof min} and ${typeof max}`);
  }
  if (!(min <= max)) throw new RangeError(`clip: min (${min}) must be <= max (${max}); swap them`);
  return minimum(maximum(x, min), max);
}

function compare(k: CompareKernel, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = coerce(k, a, b, cast);
  broadcastShapes(k, x.shape, y.shape);
  return bind(comparisons.get(k)!, [x, y], undefined);
}
/**
 * Elementwise `a == b` as an int32 mask.
 * @param a tensor or number.
 * @param b tensor or number.
 * @returns 1 where equal, 0 elsewhere.
 * @example
 * ```ts
 * equal(tensor([1, 2]), 2); // [0, 1]
 * equal(tensor([1, 2]), 2).dtype; // "int32"
 * ```
 * @category Elementwise operations
 */
export function equal(a: TensorLike, b: TensorLike): Tensor { return compare("equal", a, b); }
/**
 * Elementwise `a != b` as an int32 mask.
 * @param a tensor or number.
 * @param b tensor or number.
 * @returns 1 where different.
 * @example
 * ```ts
 * notEqual(tensor([1, 2]), 2); // [1, 0]
 * ```
 * @category Elementwise operations
 */
export function notEqual(a: TensorLike, b: TensorLike): Tensor { return compare("notEqual", a, b); }
/**
 * Elementwise `a < b` as an int32 mask.
 * @param a tensor or number.
 * @param b tensor or number.
 * @returns the mask.
 * @example
 * ```ts
 * less(tensor([1, 2]), 2); // [1, 0]
 * ```
 * @category Elementwise operations
 */
export function less(a: TensorLike, b: TensorLike): Tensor { return compare("less", a, b); }
/**
 * Elementwise `a <= b` as an int32 mask.
 * @param a tensor or number.
 * @param b tensor or number.
 * @returns the mask.
 * @example
 * ```ts
 * lessEqual(tensor([1, 2]), 2); // [1, 1]
 * ```
 * @category Elementwise operations
 */
export function lessEqual(a: TensorLike, b: TensorLike): Tensor { return compare("lessEqual", a, b); }
/**
 * Elementwise `a > b` as an int32 mask.
 * @param a tensor or number.
 * @param b tensor or number.
 * @returns the mask.
 * @example
 * ```ts
 * greater(tensor([1, 2]), 1); // [0, 1]
 * ```
 * @category Elementwise operations
 */
export function greater(a: TensorLike, b: TensorLike): Tensor { return compare("greater", a, b); }
/**
 * Elementwise `a >= b` as an int32 mask.
 * @param a tensor or number.
 * @param b tensor or number.
 * @returns the mask.
 * @example
 * ```ts
 * greaterEqual(tensor([1, 2]), 2); // [0, 1]
 * ```
 * @category Elementwise operations
 */
export function greaterEqual(a: TensorLike, b: TensorLike): Tensor { return compare("greaterEqual", a, b); }

const whereP = definePrimitive({
  name: "where",
  impl: ([c, a, b]) => {
    const shape = broadcastShapes("where", broadcastShapes("where", c!.shape, a!.shape), b!.shape);
    let size = 1;
    for (const d of shape) size *= d;
    const out = allocate(a!.dtype, size);
    backend().where(c!._data!, c!.shape, a!._data!, a!.shape, b!._data!, b!.shape, out, shape);
    return new Tensor(shape, a!.dtype, out);
  },
  jvp: ([c], [, ta, tb], out) => {
    const z = scalar(0, out.dtype);
    return bcast(where(c!, ta ?? z, tb ?? z), out.shape);
  },
  vjp: (ct, [c, a, b]) => {
    const z = scalar(0, ct.dtype);
    return [null, unbroadcast(where(c!, ct, z), a!.shape), unbroadcast(where(c!, z, ct), b!.shape)];
  },
});

/**
 * Chooses elementwise between `a` (where `cond` is non-zero) and `b`, broadcasting all three. The derivative flows
 * to the chosen operand only; `cond` carries none.
 * @param cond a mask (any dtype; non-zero means true), e.g. from a comparison.
 * @param a values where true (tensor or number).
 * @param b values where false (tensor or number).
 * @returns the selection, shaped by broadcasting the three.
 * @example
 * ```ts
 * where(tensor([1, 0]), tensor([1, 2]), 0); // [1, 0]
 * // Replace the negative entries with 0.
 * const x = tensor([-2, 3, -1]);
 * where(x.less(0), 0, x); // [0, 3, 0]
 * ```
 * @category Elementwise operations
 */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkTensor("where", "cond", cond);
  const [x, y] = coerce("where", a, b, cast);
  broadcastShapes("where", broadcastShapes("where", cond.shape, x.shape), y.shape);
  return bind(whereP, [cond._concrete, x, y], undefined);
}

// ---------------------------------------------------------------------------------------------------
// mod, atan2, logical connectives

// mod(a, b) = a - b floor(a / b): ∂/∂a = 1, ∂/∂b = -floor(a / b), constant between the jumps.
const modP = definePrimitive({
  name: "mod",
  // The zero check is part of the kernel, so a compiled program makes it on the values it is given.
  impl: ([a, b]) => {
    if (b!.dtype === "int32") checkIntDivisor(b!);
    return runMath("mod", a!, b!, a!.dtype);
  },
  shape: ([a, b]) => ({ shape: broadcastShapes("mod", a!.shape, b!.shape), dtype: a!.dtype }),
  jvp: ([a, b], [ta, tb], out) => {
    const db = tb ? mul(tb, neg(floor(div(a!, b!)))) : null;
    return ta && db ? add(ta, db) : ta ? bcast(ta, out.shape) : bcast(db!, out.shape);
  },
  vjp: (ct, [a, b], _out, _p, [na, nb]) => [
    na ? unbroadcast(ct, a!.shape) : null,
    nb ? unbroadcast(mul(ct, neg(floor(div(a!, b!)))), b!.shape) : null,
  ],
});

// atan2(y, x): ∂/∂y = x / (x² + y²), ∂/∂x = -y / (x² + y²); 0 at the origin, where no limit exists.
function atan2Weights(y: Tensor, x: Tensor): [Tensor, Tensor] {
  const r2 = add(mul(x, x), mul(y, y));
  const zero = equal(r2, 0);
  const safe = where(zero, 1, r2);
  return [where(zero, 0, div(x, safe)), where(zero, 0, neg(div(y, safe)))];
}
const atan2P = definePrimitive({
  name: "atan2",
  impl: ([y, x]) => runMath("atan2", y!, x!, y!.dtype),
  jvp: ([y, x], [ty, tx], out) => {
    const [wy, wx] = atan2Weights(y!, x!);
    const dy = ty ? mul(ty, wy) : null;
    const dx = tx ? mul(tx, wx) : null;
    return bcast(dy && dx ? add(dy, dx) : (dy ?? dx)!, out.shape);
  },
  vjp: (ct, [y, x], _out, _p, [ny, nx]) => {
    const [wy, wx] = atan2Weights(y!, x!);
    return [ny ? unbroadcast(mul(ct, wy), y!.shape) : null, nx ? unbroadcast(mul(ct, wx), x!.shape) : null];
  },
});

const logicalAndP = defineNondifferentiable("logicalAnd", ([a, b]) => runMath("logicalAnd", a!, b!, "int32"));
const logicalOrP = defineNondifferentiable("logicalOr", ([a, b]) => runMath("logicalOr", a!, b!, "int32"));

/**
 * Floored modulo with broadcasting: `a - b · floor(a / b)`, whose sign follows the divisor `b` (Python's
 * `%`, NumPy's and JAX's `mod`, TensorFlow.js's `mod`; JavaScript's `%` would follow `a`). Float division
 * by 0 gives NaN, as in IEEE 754; int32 division by 0 is an error (int32 has no NaN).
 * Derivatives: 1 in `a` and `-floor(a / b)` in `b`.
 * @param a the dividend (tensor or number). @param b the divisor (tensor or number).
 * @returns the remainder, shaped by broadcasting, in the operands' common dtype.
 * @example
 * ```ts
 * mod(tensor([5, -5, 5.5]), 3).toArray(); // [2, 1, 2.5]
 * mod(tensor([5, -5]), -3).toArray();     // [-1, -2]
 * ```
 * @category Elementwise operations
 */
export function mod(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = coerce("mod", a, b, cast);
  broadcastShapes("mod", x.shape, y.shape);
  return bind(modP, [x, y], undefined);
}

function checkIntDivisor(y: Tensor): void {
  const v = y._values;
  for (let i = 0; i < v.length; i++) {
    if (v[i] === 0) {
      throw new RangeError(`mod: the int32 divisor is 0 at flat index ${i} (shape [${y.shape.join(",")}]); int32 has no NaN to return, so cast to float32 or mask the zeros first`);
    }
  }
}

/**
 * The angle of the point `(x, y)` from the positive x axis, in `(-π, π]`, elementwise with broadcasting
 * (`Math.atan2(y, x)`; note the order: `y` first). int32 operands give float32. The derivative at the
 * origin, where the angle has no limit, is taken as 0.
 * @param y the ordinate (tensor or number). @param x the abscissa (tensor or number).
 * @returns the angle in radians, shaped by broadcasting.
 * @example
 * ```ts
 * // π/4, 3π/4 and -π/2: the quadrant comes from the signs of both arguments.
 * atan2(tensor([1, 1, -1]), tensor([1, -1, 0])); // [0.7853982, 2.3561945, -1.5707964]
 * ```
 * @category Elementwise operations
 */
export function atan2(y: TensorLike, x: TensorLike): Tensor {
  const [p, q] = coerce("atan2", y, x, cast);
  broadcastShapes("atan2", p.shape, q.shape);
  const d = p.dtype === "int32" ? "float32" : p.dtype;
  return bind(atan2P, [cast(p, d), cast(q, d)], undefined);
}

function logical(p: Primitive, op: string, a: TensorLike, b: TensorLike): Tensor {
  const x = typeof a === "number" ? scalar(a, "float64") : checkTensor(op, "the first operand", a);
  const y = typeof b === "number" ? scalar(b, "float64") : checkTensor(op, "the second operand", b);
  broadcastShapes(op, x.shape, y.shape);
  return bind(p, [x._concrete, y._concrete], undefined);
}
/**
 * Elementwise logical AND with broadcasting: 1 where both operands are non-zero (NaN counts as true, as
 * in C and NumPy), 0 elsewhere; no derivative.
 * @param a a mask or any tensor (or number). @param b a mask or any tensor (or number); dtypes may differ.
 * @returns an int32 mask, shaped by broadcasting.
 * @example
 * ```ts
 * logicalAnd(tensor([1, 1, 0]), tensor([1, 0, 0])).toArray(); // [1, 0, 0]
 * ```
 * @category Elementwise operations
 */
export function logicalAnd(a: TensorLike, b: TensorLike): Tensor { return logical(logicalAndP, "logicalAnd", a, b); }
/**
 * Elementwise logical OR with broadcasting: 1 where either operand is non-zero, 0 elsewhere; no derivative.
 * @param a a mask or any tensor (or number). @param b a mask or any tensor (or number); dtypes may differ.
 * @returns an int32 mask, shaped by broadcasting.
 * @example
 * ```ts
 * logicalOr(tensor([1, 1, 0]), tensor([1, 0, 0])).toArray(); // [1, 1, 0]
 * ```
 * @category Elementwise operations
 */
export function logicalOr(a: TensorLike, b: TensorLike): Tensor { return logical(logicalOrP, "logicalOr", a, b); }
