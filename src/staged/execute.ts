/**
 * Executing a program: the pass pipeline, then either generated JavaScript (straight-line code over typed
 * arrays, fused loops written out, other primitives called through their kernels) or, where code generation
 * is forbidden (a Content-Security-Policy without `unsafe-eval`), an interpreter of the same program.
 */
import { Tensor } from "../tensor/tensor.js";
import type { DType } from "../tensor/dtype.js";
import type { Program } from "./ir.js";
import { nameOf } from "./ir.js";
import { dce, cse, foldConstants } from "./passes.js";
import { fuse, fusedP, reuseBuffers, runFused, type FusedParams } from "./fuse.js";
import { roundTo } from "./elementwise.js";

/**
 * Switches for the optimisations of {@link compile}; all on by default. Turning one off helps to debug a
 * suspected miscompilation: results must not change, only speed.
 */
export interface CompileOptions {
  /** Evaluate equations whose inputs are all constants once, at compile time. */
  readonly foldConstants?: boolean;
  /** Drop equations no output depends on. */
  readonly eliminateDeadCode?: boolean;
  /** Merge equations that compute the same thing from the same inputs. */
  readonly eliminateCommonSubexpressions?: boolean;
  /** Fuse elementwise chains into single loops (generated code only). */
  readonly fuse?: boolean;
  /** Let a fused loop write into a dead operand's buffer (generated code only). */
  readonly reuseBuffers?: boolean;
  /** Generate JavaScript (`true`, the default where allowed) or interpret the program (`false`). */
  readonly generateCode?: boolean;
}

/** @internal A program made runnable: concrete inputs in, concrete outputs out. */
export interface Executable {
  (inputs: readonly Tensor[]): Tensor[];
  /** The optimised program it runs. */
  readonly program: Program;
  /** The generated JavaScript, or null when interpreted. */
  readonly source: string | null;
}

let evalAllowed: boolean | undefined;
/** @internal Whether `new Function` works here (it throws an `EvalError` under a strict CSP). */
export function codeGenerationAllowed(): boolean {
  if (evalAllowed === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the probe for code generation itself
      evalAllowed = (new Function("return 1") as () => number)() === 1;
    } catch (e) {
      if (!(e instanceof EvalError)) throw e;
      evalAllowed = false;
    }
  }
  return evalAllowed;
}

/** @internal Test hook: pretend code generation is forbidden (or restore detection with undefined). */
export function setCodeGenerationAllowed(allowed: boolean | undefined): void {
  evalAllowed = allowed;
}

/** @internal Runs the passes the options enable, in order: fold, CSE, DCE, then (for code) fusion and reuse. */
export function optimize(p: Program, o: CompileOptions = {}, forCode = true): Program {
  let q = p;
  if (o.foldConstants !== false) q = foldConstants(q);
  if (o.eliminateCommonSubexpressions !== false) q = cse(q);
  if (o.eliminateDeadCode !== false) q = dce(q);
  if (forCode && o.fuse !== false) {
    q = fuse(q);
    if (o.reuseBuffers !== false) q = reuseBuffers(q);
  }
  return q;
}

/** @internal Builds the executable of a program with the given options. */
export function makeExecutable(p: Program, o: CompileOptions = {}): Executable {
  const codegen = o.generateCode !== false && codeGenerationAllowed();
  const q = optimize(p, o, codegen);
  if (codegen) return generate(q);
  return interpret(q);
}

const cache = new WeakMap<Program, Executable>();
/** @internal The default executable of a program, built once. */
export function executableOf(p: Program): Executable {
  let x = cache.get(p);
  if (x === undefined) cache.set(p, (x = makeExecutable(p)));
  return x;
}

/** @internal The interpreter: one environment slot per variable, each equation run by its kernel. */
export function interpret(p: Program): Executable {
  const run = (inputs: readonly Tensor[]): Tensor[] => {
    const env = new Array<Tensor | undefined>(p.size);
    for (let i = 0; i < p.inputs.length; i++) env[p.inputs[i]!.id] = inputs[i];
    for (const c of p.constants) env[c.v.id] = c.value;
    for (const e of p.equations) {
      const args = e.inputs.map((v) => env[v.id]!);
      if (e.prim === (fusedP as never)) {
        const fp = e.params as FusedParams;
        const outs = runFused(fp, args);
        fp.outVars.forEach((v, k) => (env[v.id] = outs[k]));
      } else env[e.out.id] = e.prim.impl(args, e.params);
    }
    return p.outputs.map((v) => env[v.id]!);
  };
  return Object.assign(run, { program: p, source: null });
}

const arrayType: Record<DType, string> = { float32: "Float32Array", float64: "Float64Array", int32: "Int32Array" };
const dtypeLiteral: Record<DType, string> = { float32: '"float32"', float64: '"float64"', int32: '"int32"' };

/**
 * @internal The code generator. The emitted text is built only from generated identifiers (`v12`, `t3`),
 * indices into the arrays passed in (`P[4]` primitives, `Q[4]` params, `C[2]` constants, `S[1]` shapes),
 * fixed templates of the elementwise ops and integer sizes: nothing a user wrote ever reaches it.
 */
export function generate(p: Program): Executable {
  const P: unknown[] = [];
  const Q: unknown[] = [];
  const C: Tensor[] = [];
  const S: (readonly number[])[] = [];
  const id = (v: { id: number }): string => `v${v.id}`;
  const int = (n: number): string => {
    if (!Number.isSafeInteger(n)) throw new Error(`generate: ${n} is not an integer`);
    return String(n);
  };
  const lines: string[] = [];
  lines.push("return function run(I) {");
  p.inputs.forEach((v, i) => lines.push(`  const ${id(v)} = I[${int(i)}];`));
  for (const c of p.constants) {
    lines.push(`  const ${id(c.v)} = C[${int(C.length)}];`);
    C.push(c.value);
  }
  for (const e of p.equations) {
    if (e.prim !== (fusedP as never)) {
      lines.push(`  const ${id(e.out)} = P[${int(P.length)}].impl([${e.inputs.map(id).join(", ")}], Q[${int(Q.length)}]); // ${nameOf(e.out)}`);
      P.push(e.prim);
      Q.push(e.params);
      continue;
    }
    const fp = e.params as FusedParams;
    const nIn = e.inputs.length;
    lines.push(`  let ${fp.outVars.map(id).join(", ")};`);
    lines.push("  {");
    lines.push(`    const n = ${int(fp.size)};`);
    e.inputs.forEach((v, j) => {
      lines.push(`    const x${j} = ${id(v)}._data;`);
      if (fp.modes[j] === "scalar") lines.push(`    const s${j} = x${j}[0];`);
    });
    fp.stores.forEach((s, k) => {
      const dt = fp.outVars[k]!.dtype;
      lines.push(k === 0 && fp.inPlace >= 0 ? `    const o0 = x${int(fp.inPlace)};` : `    const o${k} = new ${arrayType[dt]}(n);`);
      void s;
    });
    // One period shared by every suffix operand gives a row loop without a modulo.
    const periods = new Set(fp.periods.filter((_, j) => fp.modes[j] === "suffix"));
    const rowLoop = periods.size === 1;
    const period = rowLoop ? [...periods][0]! : 0;
    if (rowLoop) lines.push(`    for (let r = 0, i = 0; r < n; r += ${int(period)}) for (let j = 0; j < ${int(period)}; j++, i++) {`);
    else lines.push("    for (let i = 0; i < n; i++) {");
    const slot = (k: number): string => (k < nIn ? `a${k}` : `t${k - nIn}`);
    e.inputs.forEach((_, j) => {
      const m = fp.modes[j];
      const read = m === "full" ? `x${j}[i]` : m === "scalar" ? `s${j}` : rowLoop ? `x${j}[j]` : `x${j}[i % ${int(fp.periods[j]!)}]`;
      lines.push(`      const a${j} = ${read};`);
    });
    fp.nodes.forEach((nd, k) => {
      const r = `t${k}`;
      const [a, b, c] = [nd.args[0], nd.args[1], nd.args[2]].map((x) => (x === undefined ? "0" : slot(x)));
      const body = nd.op === null ? `${r} = ${a!};` : nd.op.code(r, a!, b!, c!);
      lines.push(`      let ${r}; ${body} ${roundTo(nd.dtype, r)}`.trimEnd());
    });
    fp.stores.forEach((s, k) => lines.push(`      o${k}[i] = ${slot(s)};`));
    lines.push("    }");
    fp.outVars.forEach((v, k) => {
      lines.push(`    ${id(v)} = new T(S[${int(S.length)}], ${dtypeLiteral[v.dtype]}, o${k});`);
      S.push(fp.shape);
    });
    lines.push(`  } // ${fp.ops.join(" ")}`);
  }
  lines.push(`  return [${p.outputs.map(id).join(", ")}];`);
  lines.push("};");
  const source = lines.join("\n");
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from identifiers and integers only (see above)
  const factory = new Function("T", "P", "Q", "C", "S", source) as (...a: unknown[]) => (inputs: readonly Tensor[]) => Tensor[];
  const run = factory(Tensor, P, Q, C, S);
  return Object.assign((inputs: readonly Tensor[]) => run(inputs), { program: p, source });
}
