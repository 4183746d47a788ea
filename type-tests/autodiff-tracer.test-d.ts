import { expectType, expectError, expectAssignable } from "tsd";
import {
  Tensor, tensor, gradient, customDerivative, withDerivative, pullback, valueWithPullback, differential, valueWithDifferential,
  derivative, valueWithDerivative, derivativeOf, type CustomVJP, type CustomJVP, type Synchronous,
} from "../dist/index.js";

const t = tensor([1, 2]);

// The published Tensor is the user's value: no tracing machinery and no internal members.
expectError(t._data);
expectError(t._concrete);
expectError(t._values);
expectError(t._trace);
expectError(t._primal);
expectError(t._tangent);
expectError(t._node);
// Its public constructor takes a typed array; a tracer's form (no data) is not published.
expectType<Tensor>(new Tensor([2], "float32", Float32Array.of(1, 2)));
expectError(new Tensor());
expectError(new Tensor([2], "float32", undefined));
// A look-alike object is not a Tensor: the class carries a private brand.
expectError<Tensor>({ shape: [2], dtype: "float32" });

// Inside f, tracers are typed as plain tensors.
gradient(t, (x) => {
  expectType<Tensor>(x);
  return x.sum();
});

// Custom rules: the value and the pullback's cotangents are tensors, one per input (a tuple for several).
const scale = customDerivative((x: Tensor, y: Tensor) => x.mul(y), {
  vjp: (x, y) => ({ value: x.mul(y), pullback: (ct) => [ct.mul(y), ct.mul(x)] }),
  jvp: (x, y) => ({ value: x.mul(y), differential: (dx, dy) => dx.mul(y).add(dy.mul(x)) }),
});
expectType<(x: Tensor, y: Tensor) => Tensor>(scale);
expectAssignable<CustomVJP<[Tensor]>>((x: Tensor) => ({ value: x, pullback: (ct: Tensor) => ct }));
expectAssignable<CustomJVP<[Tensor]>>((x: Tensor) => ({ value: x, differential: (dx: Tensor) => dx }));
// A rule returning something else than a tensor does not compile.
expectError(customDerivative((x: Tensor) => x, { vjp: (x) => ({ value: x, pullback: () => 3 }) }));
expectError(customDerivative((x: Tensor) => x, { jvp: (x) => ({ value: x, differential: () => undefined }) }));
expectError(customDerivative((x: Tensor) => x, { vjp: (x) => ({ value: 1, pullback: (ct) => ct }) }));
expectType<Tensor>(withDerivative(t, (g) => g.clip(-1, 1)));
expectError(withDerivative(t, () => 1));

// Differentiated functions are synchronous: an async one does not compile (and is rejected at run time).
expectType<Tensor>(pullback(t, (x) => x.mul(2))(t));
expectError(pullback(t, async (x) => x.mul(2)));
expectError(valueWithPullback(t, async (x) => x));
expectError(differential(t, async (x) => x));
expectError(valueWithDifferential(t, (x) => Promise.resolve(x)));
expectError(derivative(1, async (x) => x));
expectError(valueWithDerivative(1, async (x) => x));
expectError(derivativeOf(async (x: Tensor) => x));
expectError(gradient(t, async (x) => x.sum()));
expectType<Tensor>(null as unknown as Synchronous<Tensor>);
expectType<{ a: Tensor }>(valueWithPullback(t, (x) => ({ a: x })).value);
expectType<number>(valueWithDifferential(2, (x) => x.item()).value);
