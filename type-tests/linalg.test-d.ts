import { expectType, expectError } from "tsd";
import {
  Tensor, tensor, gradient, cholesky, triangularSolve, solve, inverse, det, logDet, qr,
  type QRResult, type TriangularSolveOptions,
} from "../dist/index.js";

const a = tensor([[2, 1], [1, 2]], { dtype: "float64" });
const b = tensor([1, 2], { dtype: "float64" });

// Decompositions, solves and determinants: functions and methods.
expectType<Tensor>(cholesky(a));
expectType<Tensor>(a.cholesky());
expectType<Tensor>(triangularSolve(a, b));
expectType<Tensor>(triangularSolve(a, b, { lower: false, transpose: true }));
expectType<Tensor>(solve(a, b));
expectType<Tensor>(a.solve(b));
expectType<Tensor>(inverse(a));
expectType<Tensor>(a.inverse());
expectType<Tensor>(det(a));
expectType<Tensor>(a.det());
expectType<Tensor>(logDet(a));
expectType<Tensor>(a.logDet());
expectType<QRResult>(qr(a));
expectType<Tensor>(qr(a).q);
expectType<Tensor>(qr(a).r);
expectType<Tensor>(gradient(a, (x) => logDet(x)));
const opts: TriangularSolveOptions = { lower: true };
expectType<Tensor>(triangularSolve(a, b, opts));

// What must not compile.
expectError(cholesky([[1, 0], [0, 1]]));
expectError(solve(a, [1, 2]));
expectError(triangularSolve(a, b, { lower: "yes" }));
expectError(triangularSolve(a, b, { upper: true }));
expectError(qr(a).s);
expectError(det(a, 1));
