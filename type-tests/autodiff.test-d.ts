import { expectType, expectError, expectAssignable } from "tsd";
import {
  Tensor, tensor, gradient, valueWithGradient, pullback, valueWithPullback, differential, valueWithDifferential,
  derivative, valueWithDerivative, gradientOf, derivativeOf, withoutDerivative, customDerivative,
  withRecomputationInPullbacks, jacobian, hessian, checkGradients, type GradientCheckReport,
} from "../dist/index.js";

const t = tensor([1, 2]);

// A number in, a number out; a tensor in, a tensor out.
expectType<number>(gradient(3, (x) => x.mul(x)));
expectType<Tensor>(gradient(t, (x) => x.sum()));
// Inside f, a number arrives as a Tensor.
gradient(3, (x) => {
  expectType<Tensor>(x);
  return x;
});
// Several inputs give tuples.
expectType<[number, Tensor]>(gradient(2, t, (x, y) => y.mul(x).sum()));
expectType<[number, number, Tensor]>(gradient(1, 2, t, (x, y, z) => z.mul(x).mul(y).sum()));
expectType<{ value: Tensor; gradient: Tensor }>(valueWithGradient(t, (x) => x.sum()));

// pullback(tensor, f) is (Tensor) => Tensor (numbers are accepted as the cotangent too).
const pb = pullback(t, (x) => x.mul(2));
expectType<Tensor>(pb(t));
expectType<Tensor>(pb(1));
expectAssignable<(ct: Tensor) => Tensor>(pb);
expectType<Tensor>(valueWithPullback(t, (x) => x.exp()).value);

// Forward mode: the tangent type of the output.
expectType<Tensor>(differential(t, (x) => x.exp())(t));
expectType<Tensor>(derivative(2, (x) => x.sin()));
expectType<Tensor>(valueWithDerivative(2, (x) => x.sin()).derivative);
expectType<Tensor>(valueWithDifferential(t, (x) => x.exp()).value);
expectType<number>(gradientOf((x: Tensor) => x.sum())(3));
expectType<Tensor>(derivativeOf((x: Tensor) => x.mul(x))(3));

// Structures map to their tangent types.
expectType<{ w: Tensor; b: Tensor }>(gradient({ w: t, b: t }, (p) => p.w.add(p.b).sum()));
expectType<Tensor[]>(gradient([t, t], (ps) => ps[0]!.sum()));

// gradient needs a scalar-returning function: a string result does not compile.
expectError(gradient(3, () => "loss"));
// derivative needs a scalar point.
expectError(derivative({ a: t }, (x) => x.a));

expectType<Tensor>(withoutDerivative(t));
expectType<(x: Tensor) => Tensor>(customDerivative((x: Tensor) => x, { vjp: (x) => ({ value: x, pullback: (ct) => ct }) }));
expectType<(x: Tensor, y: Tensor) => Tensor>(withRecomputationInPullbacks((x: Tensor, y: Tensor) => x.mul(y)));
// A jvp rule's differential takes one tangent per input.
expectError(customDerivative((x: Tensor) => x, { jvp: (x) => ({ value: x, differential: (a: Tensor, b: Tensor) => a.add(b) }) }));
expectType<Tensor>(jacobian(t, (x) => x.exp()));
expectType<Tensor>(hessian(t, (x) => x.square().sum()));
expectType<GradientCheckReport>(checkGradients((x) => x.exp(), [t]));
import { withDerivative } from "../dist/index.js";
expectType<Tensor>(withDerivative(t, (g) => g.clip(-1, 1)));
expectError(withDerivative(t, (g: Tensor) => "no"));
