/**
 * A program as one primitive. `call` runs a program (or, with a selector, one of several: that is `cond`);
 * its JVP and VJP are programs too, built once per program by tracing the primitives' own rules over staged
 * values, and bound as `call`s again, so derivatives of any order stay programs.
 */
import type { Tensor } from "../tensor/tensor.js";
import { zeros } from "../tensor/creation.js";
import { bind, traceOf } from "../autodiff/trace.js";
import { withJvpLevel, liftJvpInput, tangentAt } from "../autodiff/forward.js";
import { withTapeLevel, liftTapeInput, nodeAt, sweepBackward } from "../autodiff/tape.js";
import { definePrimitive } from "../autodiff/primitive.js";
import { add } from "../ops/binary.js";
import type { Program, Var } from "./ir.js";
import { trace } from "./tracing.js";
import { executableOf } from "./execute.js";
import { prune } from "./passes.js";

/** @internal Params of `call`: one program, or with `select` one per selector value (false first). */
export interface CallParams {
  readonly programs: readonly Program[];
  readonly select: boolean;
}

/** @internal Replays a program's equations through `bind` on any values: concrete, traced or staged. */
export function replay(p: Program, inputs: readonly Tensor[]): Tensor[] {
  const env = new Array<Tensor | undefined>(p.size);
  for (let i = 0; i < p.inputs.length; i++) env[p.inputs[i]!.id] = inputs[i];
  for (const c of p.constants) env[c.v.id] = c.value;
  for (const e of p.equations) {
    const args = e.inputs.map((v) => env[v.id]!);
    env[e.out.id] = bind(e.prim, args, e.params);
  }
  return p.outputs.map((v) => env[v.id]!);
}

function chosen(inputs: readonly Tensor[], p: CallParams): { program: Program; args: readonly Tensor[] } {
  if (!p.select) return { program: p.programs[0]!, args: inputs };
  const pred = inputs[0]!._values[0]!;
  if (pred !== pred) throw new RangeError("cond: the predicate is NaN; it must be a number (non-zero means true)");
  return { program: p.programs[pred !== 0 ? 1 : 0]!, args: inputs.slice(1) };
}

/** @internal The `call` primitive (one output per program). */
export const callP = definePrimitive<CallParams>({
  name: "call",
  impl: (inputs, p) => {
    const { program, args } = chosen(inputs, p);
    return executableOf(program)(args)[0]!;
  },
  jvp: (primals, tangents, _out, p) => {
    const off = p.select ? 1 : 0;
    const mask = tangents.slice(off).map((t) => t !== null);
    const programs = p.programs.map((q) => jvpProgram(q, mask));
    const ts = tangents.slice(off).filter((t): t is Tensor => t !== null);
    return callProgram(programs, p.select, [...primals, ...ts]);
  },
  vjp: (ct, primals, _out, p, needs) => {
    const off = p.select ? 1 : 0;
    const mask = needs.slice(off);
    const full = p.programs.map((q) => vjpProgram(q, mask));
    const out: (Tensor | null)[] = p.select ? [null] : [];
    let k = 0;
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) {
        out.push(null);
        continue;
      }
      const j = k++;
      out.push(callProgram(full.map((q) => prune(q, [j])), p.select, [...primals, ct]));
    }
    return out;
  },
});

/** @internal Binds `call` of single-output programs on `inputs` (a selector first when `select`). */
export function callProgram(programs: readonly Program[], select: boolean, inputs: readonly Tensor[]): Tensor {
  return bind(callP, inputs, { programs, select });
}

const jvpCache = new WeakMap<Program, Map<string, Program>>();
const vjpCache = new WeakMap<Program, Map<string, Program>>();

function cached(cache: WeakMap<Program, Map<string, Program>>, p: Program, mask: readonly boolean[], build: () => Program): Program {
  let m = cache.get(p);
  if (m === undefined) cache.set(p, (m = new Map<string, Program>()));
  const key = mask.map((b) => (b ? "1" : "0")).join("");
  let q = m.get(key);
  if (q === undefined) m.set(key, (q = build()));
  return q;
}

const stagedInputs = (b: { input: (s: readonly number[], d: Var["dtype"]) => Tensor }, vs: readonly Var[]): Tensor[] =>
  vs.map((v) => b.input(v.shape, v.dtype));

/**
 * @internal The differential of a single-output program as a program: inputs are the primal inputs, then
 * the tangents of the inputs marked in `mask`; the output is the output's tangent. Built by running the
 * primitives' JVP rules over staged values.
 */
export function jvpProgram(p: Program, mask: readonly boolean[]): Program {
  return cached(jvpCache, p, mask, () => {
    return trace((b) => {
      const xs = stagedInputs(b, p.inputs);
      const ts = stagedInputs(b, p.inputs.filter((_, i) => mask[i]));
      const t = withJvpLevel((main) => {
        let k = 0;
        const lifted = xs.map((x, i) => (mask[i] ? liftJvpInput(main, x, ts[k++] ?? null) : x));
        const y = replay(p, lifted)[0]!;
        return tangentAt(main, y);
      });
      const out = p.outputs[0]!;
      return b.finish([t ?? zeros(out.shape, { dtype: out.dtype })]);
    }).result;
  });
}

/**
 * @internal The pullback of a single-output program as a program: inputs are the primal inputs, then the
 * output's cotangent; outputs are the cotangents of the inputs marked in `mask`, in order. Built by running
 * the primitives' VJP rules over staged values.
 */
export function vjpProgram(p: Program, mask: readonly boolean[]): Program {
  return cached(vjpCache, p, mask, () => {
    return trace((b) => {
      const xs = stagedInputs(b, p.inputs);
      const out = p.outputs[0]!;
      const ct = b.input(out.shape, out.dtype);
      const grads = withTapeLevel((main) => {
        const lifted = xs.map((x, i) => (mask[i] ? liftTapeInput(main, x) : x));
        const y = replay(p, lifted)[0]!;
        const wanted = lifted.filter((_, i) => mask[i]).map((t) => nodeAt(main, t));
        if (traceOf(y) !== main) return wanted.map(() => null);
        return sweepBackward(main.recording, [{ node: nodeAt(main, y), cotangent: ct }], wanted, add);
      });
      const ins = p.inputs.filter((_, i) => mask[i]);
      return b.finish(grads.map((g, i) => g ?? zeros(ins[i]!.shape, { dtype: ins[i]!.dtype })));
    }).result;
  });
}
