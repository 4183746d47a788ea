/**
 * Elementwise functions of one tensor. Each primitive carries its value kernel, its JVP and its VJP
 * side by side; the rest (`square`, `rsqrt`, `reciprocal`) are derived from primitives.
 *
 * A function that is smooth at a point gets its exact derivative there, so a smooth function is never
 * assembled from kinked pieces: `softplus` is its own primitive (its derivative is `sigmoid`, 0.5 at 0),
 * where `max(x, 0) + log1p(e^-|x|)` would give the one-sided slopes of `max` and `|x|` at 0.
 * Conventions at the kinks of the functions that have one: `relu'(0) = 0`, `abs'(0) = 0`,
 * `sqrt'(0) = +Infinity`; `floor`, `ceil`, `round` and `sign` have derivative 0 everywhere (also at their
 * jumps), as in JAX and TensorFlow.
 */
import { Tensor } from "../tensor/tensor.js";
import { allocate, allocateForOverwrite, checkDType, isFloat, type DType } from "../tensor/dtype.js";
import { backend } from "../tensor/backend.js";
import type { UnaryKernel } from "../tensor/cpu/elementwise.js";
import type { MathUnaryKernel } from "../tensor/cpu/special.js";
import { bind } from "../autodiff/trace.js";
import { definePrimitive, defineNondifferentiable, type Primitive } from "../autodiff/primitive.js";
import { checkTensor } from "./util.js";
import { add, sub, mul, div } from "./binary.js";

/** Runs a unary kernel on a concrete tensor; float kernels on int32 input produce float32. */
function run(kernel: UnaryKernel, x: Tensor, keepInt = false): Tensor {
  const dtype: DType = x.dtype === "int32" && !keepInt ? "float32" : x.dtype;
  const out = allocateForOverwrite(dtype, x.size);
  backend().unary(kernel, x._data!, out);
  return new Tensor(x.shape, dtype, out);
}

/** Runs one of the later elementwise kernels; `dtype` is the output's (int32 for predicates). */
function runMath(kernel: MathUnaryKernel, x: Tensor, dtype: DType = x.dtype): Tensor {
  const out = allocate(dtype, x.size);
  backend().mathUnary(kernel, x._data!, out);
  return new Tensor(x.shape, dtype, out);
}

/** Defines a float-valued unary primitive from its kernel and its derivative `f'(x)` (given `x`, `y = f(x)`). */
function unaryPrimitive(kernel: UnaryKernel, derivative: (x: Tensor, y: Tensor) => Tensor): Primitive {
  return definePrimitive({
    name: kernel,
    impl: ([x]) => run(kernel, x!),
    jvp: ([x], [t], y) => mul(t!, derivative(x!, y)),
    vjp: (ct, [x], y) => [mul(ct, derivative(x!, y))],
  });
}

const negP = definePrimitive({
  name: "neg",
  impl: ([x]) => run("neg", x!, true),
  jvp: (_, [t]) => neg(t!),
  vjp: (ct) => [neg(ct)],
});
const expP = unaryPrimitive("exp", (_x, y) => y);
const logP = unaryPrimitive("log", (x) => reciprocal(x));
const log1pP = unaryPrimitive("log1p", (x) => reciprocal(add(x, 1)));
const expm1P = unaryPrimitive("expm1", (_x, y) => add(y, 1));
// Convention: d√x/dx at 0 is +Infinity (the one-sided limit), as in JAX and PyTorch.
const sqrtP = unaryPrimitive("sqrt", (_x, y) => div(0.5, y));
const absP = definePrimitive({
  name: "abs",
  impl: ([x]) => run("abs", x!, true),
  // Convention: the derivative of |x| at 0 is 0 (the subgradient of least norm).
  jvp: ([x], [t]) => mul(t!, sign(x!)),
  vjp: (ct, [x]) => [mul(ct, sign(x!))],
});
const signP = defineNondifferentiable("sign", ([x]) => run("sign", x!, true));
const sinP = unaryPrimitive("sin", (x) => cos(x));
const cosP = unaryPrimitive("cos", (x) => neg(sin(x)));
const tanP = unaryPrimitive("tan", (_x, y) => add(mul(y, y), 1));
const tanhP = unaryPrimitive("tanh", (_x, y) => sub(1, mul(y, y)));
const sigmoidP = unaryPrimitive("sigmoid", (_x, y) => mul(y, sub(1, y)));
// Convention: relu'(0) = 0. The mask is a constant, so relu'' = 0 as it should be.
const reluP = definePrimitive({
  name: "relu",
  impl: ([x]) => run("relu", x!, true),
  jvp: ([x], [t]) => mul(t!, step(x!)),
  vjp: (ct, [x]) => [mul(ct, step(x!))],
});
const stepP = defineNondifferentiable("step", ([x]) => run("step", x!));
// softplus' = sigmoid, exact at 0 (0.5) and smooth to every order.
const softplusP = definePrimitive({
  name: "softplus",
  impl: ([x]) => runMath("softplus", x!),
  jvp: ([x], [t]) => mul(t!, sigmoid(x!)),
  vjp: (ct, [x]) => [mul(ct, sigmoid(x!))],
});
// erf' = 2/√π e^(-x²).
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const erfDerivative = (x: Tensor): Tensor => mul(exp(neg(mul(x, x))), TWO_OVER_SQRT_PI);
const erfP = definePrimitive({
  name: "erf",
  impl: ([x]) => runMath("erf", x!),
  jvp: ([x], [t]) => mul(t!, erfDerivative(x!)),
  vjp: (ct, [x]) => [mul(ct, erfDerivative(x!))],
});
// Piecewise-constant functions: derivative 0 everywhere, so their outputs are constants.
const floorP = defineNondifferentiable("floor", ([x]) => runMath("floor", x!));
const ceilP = defineNondifferentiable("ceil", ([x]) => runMath("ceil", x!));
const roundP = defineNondifferentiable("round", ([x]) => runMath("round", x!));
const isFiniteP = defineNondifferentiable("isFinite", ([x]) => runMath("isFinite", x!, "int32"));
const isNaNP = defineNondifferentiable("isNaN", ([x]) => runMath("isNaN", x!, "int32"));
const logicalNotP = defineNondifferentiable("logicalNot", ([x]) => runMath("logicalNot", x!, "int32"));

/** @internal The Heaviside step `x > 0 ? 1 : 0` as a float constant (no derivative). */
export function step(x: Tensor): Tensor {
  return bind(stepP, [x], undefined);
}

function float(op: string, x: Tensor): Tensor {
  checkTensor(op, "x", x);
  return isFloat(x.dtype) ? x : cast(x, "float32");
}

/**
 * Elementwise `-x`.
 * @param x any tensor.
 * @returns the negation, same shape and dtype.
 * @example
 * ```ts
 * neg(tensor([1, -2, 0])); // [-1, 2, -0]
 * ```
 * @category Elementwise operations
 */
export function neg(x: Tensor): Tensor { return bind(negP, [checkTensor("neg", "x", x)], undefined); }
/**
 * Elementwise `e^x`.
 * @param x a tensor (int32 is converted to float32).
 * @returns the exponential.
 * @example
 * ```ts
 * exp(tensor([0, 1, -Infinity])); // [1, 2.7182817, 0]
 * ```
 * @category Elementwise operations
 */
export function exp(x: Tensor): Tensor { return bind(expP, [float("exp", x)], undefined); }
/**
 * Elementwise natural logarithm (NaN below 0, -Infinity at 0).
 * @param x a tensor.
 * @returns `ln x`.
 * @example
 * ```ts
 * log(tensor([1, Math.E, 0])); // [0, 1, -Infinity]
 * log(tensor([-1])); // [NaN]
 * ```
 * @category Elementwise operations
 */
export function log(x: Tensor): Tensor { return bind(logP, [float("log", x)], undefined); }
/**
 * Elementwise `ln(1 + x)`, accurate for small x.
 * @param x a tensor.
 * @returns `log1p x`.
 * @example
 * ```ts
 * log1p(tensor([0, Math.E - 1])); // [0, 1]
 * // Near 0, 1 + x rounds away the digits of x; log1p keeps them.
 * const tiny = tensor([1e-15], { dtype: "float64" });
 * log1p(tiny).item() * 1e15; // 1
 * log(tiny.add(1)).item() * 1e15; // 1.110223
 * ```
 * @category Elementwise operations
 */
export function log1p(x: Tensor): Tensor { return bind(log1pP, [float("log1p", x)], undefined); }
/**
 * Elementwise `e^x - 1`, accurate for small x.
 * @param x a tensor.
 * @returns `expm1 x`.
 * @example
 * ```ts
 * expm1(tensor([0, 1])); // [0, 1.7182817]
 * // Near 0, exp(x) - 1 cancels the digits of x; expm1 keeps them.
 * const tiny = tensor([1e-15], { dtype: "float64" });
 * expm1(tiny).item() * 1e15; // 1
 * exp(tiny).sub(1).item() * 1e15; // 1.110223
 * ```
 * @category Elementwise operations
 */
export function expm1(x: Tensor): Tensor { return bind(expm1P, [float("expm1", x)], undefined); }
/**
 * Elementwise square root; the derivative at 0 is +Infinity.
 * @param x a tensor.
 * @returns `√x`.
 * @example
 * ```ts
 * sqrt(tensor([0, 4, 9])); // [0, 2, 3]
 * gradient(tensor([0, 4]), (x) => sqrt(x).sum()); // [Infinity, 0.25]
 * ```
 * @category Elementwise operations
 */
export function sqrt(x: Tensor): Tensor { return bind(sqrtP, [float("sqrt", x)], undefined); }
/**
 * Elementwise absolute value; the derivative at 0 is taken as 0.
 * @param x a tensor.
 * @returns `|x|`.
 * @example
 * ```ts
 * abs(tensor([-3, 0, 2])); // [3, 0, 2]
 * // The derivative at 0 is 0.
 * gradient(tensor([-3, 0, 2]), (x) => abs(x).sum()); // [-1, 0, 1]
 * ```
 * @category Elementwise operations
 */
export function abs(x: Tensor): Tensor { return bind(absP, [checkTensor("abs", "x", x)], undefined); }
/**
 * Elementwise sign: -1, 0 or 1 (no derivative flows through it).
 * @param x a tensor.
 * @returns the sign.
 * @example
 * ```ts
 * sign(tensor([-3, 0, 2])); // [-1, 0, 1]
 * ```
 * @category Elementwise operations
 */
export function sign(x: Tensor): Tensor { return bind(signP, [checkTensor("sign", "x", x)], undefined); }
/**
 * Elementwise sine.
 * @param x a tensor (radians).
 * @returns `sin x`.
 * @example
 * ```ts
 * sin(tensor([0, Math.PI / 6, Math.PI / 2])); // [0, 0.5, 1]
 * ```
 * @category Elementwise operations
 */
export function sin(x: Tensor): Tensor { return bind(sinP, [float("sin", x)], undefined); }
/**
 * Elementwise cosine.
 * @param x a tensor (radians).
 * @returns `cos x`.
 * @example
 * ```ts
 * cos(tensor([0, Math.PI / 3, Math.PI])); // [1, 0.5, -1]
 * ```
 * @category Elementwise operations
 */
export function cos(x: Tensor): Tensor { return bind(cosP, [float("cos", x)], undefined); }
/**
 * Elementwise tangent.
 * @param x a tensor (radians).
 * @returns `tan x`.
 * @example
 * ```ts
 * tan(tensor([0, Math.PI / 4])); // [0, 1]
 * ```
 * @category Elementwise operations
 */
export function tan(x: Tensor): Tensor { return bind(tanP, [float("tan", x)], undefined); }
/**
 * Elementwise hyperbolic tangent.
 * @param x a tensor.
 * @returns `tanh x`.
 * @example
 * ```ts
 * tanh(tensor([-Infinity, 0, 1])); // [-1, 0, 0.7615942]
 * ```
 * @category Elementwise operations
 */
export function tanh(x: Tensor): Tensor { return bind(tanhP, [float("tanh", x)], undefined); }
/**
 * Elementwise logistic sigmoid, stable for large |x|.
 * @param x a tensor.
 * @returns `1 / (1 + e^-x)`.
 * @example
 * ```ts
 * sigmoid(tensor([-Infinity, 0, 2])); // [0, 0.5, 0.8807971]
 * sigmoid(tensor([-1000, 1000])); // [0, 1]
 * ```
 * @category Elementwise operations
 */
export function sigmoid(x: Tensor): Tensor { return bind(sigmoidP, [float("sigmoid", x)], undefined); }
/**
 * Elementwise `max(x, 0)`; the derivative at 0 is 0.
 * @param x a tensor.
 * @returns the rectified tensor.
 * @example
 * ```ts
 * relu(tensor([-1, 0, 2])); // [0, 0, 2]
 * // The derivative at 0 is 0.
 * gradient(tensor([-1, 0, 2]), (x) => relu(x).sum()); // [0, 0, 1]
 * ```
 * @category Elementwise operations
 */
export function relu(x: Tensor): Tensor { return bind(reluP, [checkTensor("relu", "x", x)], undefined); }

/**
 * Elementwise `x²`.
 * @param x a tensor.
 * @returns the square.
 * @example
 * ```ts
 * square(tensor([-3, 0.5])); // [9, 0.25]
 * ```
 * @category Elementwise operations
 */
export function square(x: Tensor): Tensor {
  checkTensor("square", "x", x);
  return mul(x, x);
}
/**
 * Elementwise `1 / x`.
 * @param x a tensor.
 * @returns the reciprocal.
 * @example
 * ```ts
 * reciprocal(tensor([4, -0.5, 0])); // [0.25, -2, Infinity]
 * ```
 * @category Elementwise operations
 */
export function reciprocal(x: Tensor): Tensor { return div(1, float("reciprocal", x)); }
/**
 * Elementwise `1 / √x`.
 * @param x a tensor.
 * @returns the reciprocal square root.
 * @example
 * ```ts
 * rsqrt(tensor([4, 16])); // [0.5, 0.25]
 * ```
 * @category Elementwise operations
 */
export function rsqrt(x: Tensor): Tensor { return reciprocal(sqrt(float("rsqrt", x))); }
/**
 * Elementwise `ln(1 + e^x)`, computed as `max(x, 0) + log1p(e^-|x|)` so it never overflows. Its derivative
 * is `sigmoid(x)` at every point (0.5 at 0), to every order.
 * @param x a tensor (int32 is converted to float32). @returns the softplus, same shape.
 * @example
 * ```ts
 * softplus(tensor([0])).item();                   // 0.6931472
 * gradient(0, (x) => softplus(x));                // 0.5
 * ```
 * @category Elementwise operations
 */
export function softplus(x: Tensor): Tensor { return bind(softplusP, [float("softplus", x)], undefined); }

/**
 * The error function `erf(x) = 2/√π ∫₀ˣ e^(-t²) dt`, within one ulp in float64 (the kernel uses the
 * piecewise rational approximations of Sun's fdlibm `s_erf.c`). Its derivative is `2/√π e^(-x²)`.
 * @param x a tensor of any shape (int32 is converted to float32). @returns `erf(x)`, same shape.
 * @example
 * ```ts
 * erf(tensor([0, 0.5])).toArray(); // [0, 0.5205]
 * ```
 * @category Elementwise operations
 */
export function erf(x: Tensor): Tensor { return bind(erfP, [float("erf", x)], undefined); }

/**
 * Elementwise floor: the largest integer `<= x`. The derivative is 0 everywhere (also at the jumps).
 * @param x a tensor of any shape (int32 is returned unchanged). @returns `⌊x⌋`, same shape and dtype.
 * @example
 * ```ts
 * floor(tensor([1.5, -1.5])).toArray(); // [1, -2]
 * ```
 * @category Elementwise operations
 */
export function floor(x: Tensor): Tensor { return rounding(floorP, "floor", x); }
/**
 * Elementwise ceiling: the smallest integer `>= x`. The derivative is 0 everywhere (also at the jumps).
 * @param x a tensor of any shape (int32 is returned unchanged). @returns `⌈x⌉`, same shape and dtype.
 * @example
 * ```ts
 * ceil(tensor([1.5, -1.5])).toArray(); // [2, -1]
 * ```
 * @category Elementwise operations
 */
export function ceil(x: Tensor): Tensor { return rounding(ceilP, "ceil", x); }
/**
 * Elementwise rounding to the nearest integer, halves to even (IEEE 754's default, as NumPy, JAX and
 * TensorFlow round; `Math.round` would round halves up). The derivative is 0 everywhere.
 * @param x a tensor of any shape (int32 is returned unchanged). @returns the rounded values, same shape and dtype.
 * @example
 * ```ts
 * round(tensor([0.5, 1.5, 2.5, -0.5, 2.6])).toArray(); // [0, 2, 2, -0, 3]
 * ```
 * @category Elementwise operations
 */
export function round(x: Tensor): Tensor { return rounding(roundP, "round", x); }

function rounding(p: Primitive, op: string, x: Tensor): Tensor {
  checkTensor(op, "x", x);
  return x.dtype === "int32" ? x : bind(p, [x], undefined);
}

/**
 * Elementwise test for a finite value (neither NaN nor ±Infinity), as an int32 mask; no derivative.
 * @param x a tensor of any shape and dtype. @returns int32, 1 where finite and 0 elsewhere.
 * @example
 * ```ts
 * isFinite(tensor([1, NaN, Infinity])).toArray(); // [1, 0, 0]
 * ```
 * @category Elementwise operations
 */
export function isFinite(x: Tensor): Tensor { return bind(isFiniteP, [checkTensor("isFinite", "x", x)], undefined); }
/**
 * Elementwise test for NaN, as an int32 mask; no derivative.
 * @param x a tensor of any shape and dtype. @returns int32, 1 where NaN and 0 elsewhere.
 * @example
 * ```ts
 * isNaN(tensor([1, NaN, Infinity])).toArray(); // [0, 1, 0]
 * ```
 * @category Elementwise operations
 */
export function isNaN(x: Tensor): Tensor { return bind(isNaNP, [checkTensor("isNaN", "x", x)], undefined); }
/**
 * Elementwise logical negation: 1 where `x` is 0, 0 elsewhere (any non-zero value, NaN included, is
 * true, as in C and NumPy's `logical_not`); no derivative.
 * @param x a tensor of any shape and dtype (typically an int32 mask). @returns an int32 mask, same shape.
 * @example
 * ```ts
 * logicalNot(tensor([0, 1, 2], { dtype: "int32" })).toArray(); // [1, 0, 0]
 * ```
 * @category Elementwise operations
 */
export function logicalNot(x: Tensor): Tensor { return bind(logicalNotP, [checkTensor("logicalNot", "x", x)], undefined); }

const castP = definePrimitive<DType>({
  name: "cast",
  impl: ([x], dtype) => {
    const out = allocate(dtype, x!.size);
    if (dtype === "int32" && x!.dtype !== "int32") {
      const bad = backend().castToInt32(x!._data!, out as Int32Array);
      if (bad >= 0) {
        const v = x!._data![bad]!;
        throw new RangeError(
          `cast: value ${v} at flat index ${bad} of a ${x!.dtype} tensor of shape [${x!.shape.join(",")}] has no int32 value ` +
            `(after truncation toward zero it must be an integer in [${INT32_MIN}, ${INT32_MAX}]); ` +
            (Number.isNaN(v)
              ? "replace NaN first, e.g. where(isNaN(x), 0, x)"
              : `clip it first, e.g. x.clip(${INT32_MIN}, ${INT32_MAX})`),
        );
      }
    } else {
      backend().cast(x!._data!, out);
    }
    return new Tensor(x!.shape, dtype, out);
  },
  jvp: ([x], [t], out) => (isFloat(out.dtype) && isFloat(x!.dtype) ? cast(t!, out.dtype) : null),
  vjp: (ct, [x], out) => [isFloat(out.dtype) && isFloat(x!.dtype) ? cast(ct, x!.dtype) : null],
});

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * Converts a tensor to another dtype. Between float dtypes the derivative flows through (float64 to
 * float32 rounds to nearest). Float to int32 truncates toward zero and carries no derivative; a value
 * that has no int32 (NaN, ±Infinity, or outside `[-2147483648, 2147483647]` after truncation) is an
 * error naming it, never a wrapped or saturated number: the same values that `tensor()` rejects for int32.
 * @param x a tensor. @param dtype the target dtype. @returns the converted tensor (x itself if already of that dtype).
 * @throws RangeError for NaN, infinite or out-of-range values cast to int32.
 * @example
 * ```ts
 * cast(tensor([1.7, -1.7]), "int32").toArray(); // [1, -1]
 * cast(tensor([NaN]), "int32");                 // throws RangeError: cast: value NaN...
 * ```
 * @category Elementwise operations
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor("cast", "x", x);
  const d = checkDType("cast", dtype);
  if (x.dtype === d) return x;
  if (d === "int32" || x.dtype === "int32") return bind(castP, [x._concrete], d);
  return bind(castP, [x], d);
}
