import { expectType, expectError } from "tsd";
import {
  Tensor, tensor, compile, cond, fori, gradient, Dense, type CompiledFunction, type CompileStats, type CompiledProgramText,
  type TangentVector, valueWithGradient,
} from "../dist/index.js";

const t = tensor([1, 2]);

// Same signature and results as f.
const f = compile((x: Tensor) => x.exp());
expectType<CompiledFunction<[x: Tensor], Tensor>>(f);
expectType<Tensor>(f(t));
// Where f takes a Tensor, a number may be passed (a rank-0 input, not a constant).
const step = compile((x: Tensor, lr: Tensor) => x.mul(lr));
expectType<Tensor>(step(t, 0.1));
expectType<Tensor>(step(t, tensor(0.1)));
expectError(step(t));
expectError(step(t, "0.1"));
// A parameter declared as a number accepts nothing: top-level numbers arrive as tensors.
expectError(compile((x: Tensor, n: number) => x.mul(n))(t, 2));

// Structures and models in and out keep their types.
expectType<{ y: Tensor; n: number }>(compile((p: { w: Tensor }) => ({ y: p.w, n: 1 }))({ w: t }));
const dense = new Dense({ inputSize: 2, outputSize: 1 });
const g = compile((m: Dense, x: Tensor) => valueWithGradient(m, (mm) => mm.callAsFunction(x).sum()))(dense, t.reshape([1, 2]));
expectType<TangentVector<Dense>>(g.gradient);
expectError(compile((m: Dense) => m.weight)(t));

// Counters and the printout.
expectType<CompileStats>(f.stats);
expectType<number>(f.stats.traces);
expectType<CompiledProgramText>(f.inspect(t));
expectType<string | null>(f.inspect(t).code);
expectError((f.stats.traces = 2));

// Options are checked.
compile((x: Tensor) => x, { fuse: false, generateCode: false });
expectError(compile((x: Tensor) => x, { fusion: false }));

// Differential operators compose both ways.
expectType<Tensor>(compile((x: Tensor) => gradient(x, (y) => y.square().sum()))(t));
expectType<Tensor>(gradient(t, (x) => f(x).sum()));

// cond: the branches get the operands and return one type.
expectType<Tensor>(cond(t.sum().greater(0), (x: Tensor) => x, (x: Tensor) => x.neg(), t));
expectType<{ a: Tensor }>(cond(true, () => ({ a: t }), () => ({ a: t.neg() })));
expectError(cond(t.sum(), (x: Tensor) => x, (x: Tensor) => x, "t"));

// fori: the state keeps its type; the index is a Tensor.
expectType<Tensor>(fori(3, t, (i, s) => s.add(i)));
expectType<{ a: Tensor; b: Tensor }>(fori(3, { a: t, b: t }, (_i, s) => ({ a: s.b, b: s.a })));
expectError(fori(3, t, (_i, s) => s.sum().item()));
