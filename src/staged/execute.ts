/**
 * Executing a program: the pass pipeline, then either generated JavaScript (straight-line code over typed
 * arrays, fused loops written out, other primitives called through their kernels) or, where code generation
 * is forbidden (a Content-Security-Policy without `unsafe-eval`), an interpreter of the same program.
 */
import { Tensor } from "../tensor/tensor.js";
import { allocate, type DType, type TypedArray } from "../tensor/dtype.js";
import type { Equation, Program, Var } from "./ir.js";
import { nameOf } from "./ir.js";
import { dce, cse, foldConstants } from "./passes.js";
import { allocating, fuse, fusedP, reuseBuffers, runFused, type FusedNode, type FusedParams } from "./fuse.js";
import { FLOAT32_FUNCTIONS, knownPrimitives, roundTo } from "./elementwise.js";
import { backend, cpuBackend } from "../tensor/backend.js";
import type { UnaryKernel } from "../tensor/cpu/elementwise.js";
import { gemm } from "../tensor/cpu/linalg.js";
import { WASM_MIN, WASM_MIN_HEAVY } from "../tensor/wasm/elementwise.js";
import { compileChain, compileLoop, simdAvailable, simdLoopForm, type WasmChain, type WasmLoop } from "./wasm.js";

/**
 * Switches for the optimisations of {@link compile}; all on by default. Turning one off helps to debug a
 * suspected miscompilation: results must not change, only speed.
 * @category Staged execution
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
    q = fuse(q, simdAvailable() ? simdLoopForm : undefined);
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

/** Nodes per generated function in long fused chains (V8 stops optimising very large functions). */
const CHUNK = 128;

/**
 * A kernel the generated code runs itself, writing into an array it chooses (a scratch array when the result
 * stays private): a float32 exp, log, tanh or sigmoid left out of fusion (its SIMD kernel), a small `sum` as
 * the sequential loop of the CPU kernel, a 2-D `matmul` as one call of its GEMM. Each computes exactly what
 * the kernel computes; the generated code skips the op's wrapper (shape logic, a fresh output, its tensor)
 * and, for sums, the kernel's own index bookkeeping.
 */
type Inlined =
  | { readonly kind: "unary"; readonly op: "exp" | "log" | "tanh" | "sigmoid" }
  | { readonly kind: "sum"; readonly rows: number; readonly len: number; readonly along: "rows" | "columns" }
  | { readonly kind: "matmul"; readonly m: number; readonly k: number; readonly n: number; readonly strides: readonly number[] };

const HEAVY: ReadonlySet<string> = new Set(["exp", "log", "tanh", "sigmoid"]);

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** How generated code runs `e` itself, or null to call the primitive. */
function inlined(e: Equation): Inlined | null {
  const k = knownPrimitives();
  if (k === null) return null;
  const op = k.ops.get(e.prim);
  if (op !== undefined && HEAVY.has(op.name) && e.out.dtype === "float32" && e.inputs[0]!.dtype === "float32") {
    return { kind: "unary", op: op.name as "exp" | "log" | "tanh" | "sigmoid" };
  }
  if (e.prim === k.sum) {
    const x = e.inputs[0]!;
    const n = sizeOf(x.shape);
    // From WASM_MIN float32 elements the kernel may run on wasm (another summation order): call it.
    if ((x.dtype === "float32" && n >= WASM_MIN) || n === 0) return null;
    const axes = [...(e.params as { axes: readonly number[] }).axes].sort((a, b) => a - b);
    const r = x.shape.length;
    if (axes.length === 0) return null;
    // Reduced axes leading (sums down the columns) or trailing (sums along rows), as the kernel orders them.
    const split = axes.length;
    if (axes.every((a, i) => a === i)) return { kind: "sum", rows: sizeOf(x.shape.slice(0, split)), len: sizeOf(x.shape.slice(split)), along: "columns" };
    if (axes.every((a, i) => a === r - split + i)) return { kind: "sum", rows: sizeOf(x.shape.slice(0, r - split)), len: sizeOf(x.shape.slice(r - split)), along: "rows" };
    return null;
  }
  if (e.prim === k.matmul) {
    const [a, b] = e.inputs;
    if (a!.shape.length !== 2 || b!.shape.length !== 2) return null;
    const { transposeA, transposeB } = e.params as { transposeA: boolean; transposeB: boolean };
    const m = a!.shape[transposeA ? 1 : 0]!;
    const kk = a!.shape[transposeA ? 0 : 1]!;
    const n = b!.shape[transposeB ? 0 : 1]!;
    // The element strides the CPU kernel passes to its GEMM: A[i, p] and B[p, j].
    const strides = [transposeA ? 1 : kk, transposeA ? m : 1, transposeB ? 1 : n, transposeB ? kk : 1];
    return { kind: "matmul", m, k: kk, n, strides };
  }
  return null;
}

const arrayType: Record<DType, string> = { float32: "Float32Array", float64: "Float64Array", int32: "Int32Array" };
const dtypeLiteral: Record<DType, string> = { float32: '"float32"', float64: '"float64"', int32: '"int32"' };

/**
 * @internal The code generator. The emitted text is built only from generated identifiers (`v12`, `t3`),
 * indices into the arrays passed in (`P[4]` primitives, `Q[4]` params, `C[2]` constants, `S[1]` shapes,
 * `F` the fixed functions of the float32 elementwise ops), fixed templates of the elementwise ops and integer sizes: nothing a user wrote ever reaches it.
 */
export function generate(p: Program): Executable {
  const P: unknown[] = [];
  const Q: unknown[] = [];
  const C: Tensor[] = [];
  const S: (readonly number[])[] = [];
  const scratch = planScratch(p);
  // Register arrays and chunk functions of long fused chains.
  const R: Float64Array[] = [];
  const chunks: string[] = [];
  const registerSets: string[] = [];
  // Long chains compiled to wasm: W${k} their registers, w${k} their functions; SIMD loops L${k}.
  const W: WasmChain[] = [];
  const L: WasmLoop[] = [];
  let wasm: WasmChain | null;
  // One tensor per scratch-backed variable, over its slot's array: created once, reused by every call.
  const V: Tensor[] = [];
  const slotTensor = new Map<number, number>();
  for (const [id, slot] of scratch.slotOf) {
    const v = scratch.vars.get(id)!;
    slotTensor.set(id, V.length);
    V.push(new Tensor(v.shape, v.dtype, scratch.buffers[slot]));
  }
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
  let direct = false;
  for (const e of p.equations) {
    const inl = e.prim === (fusedP as never) ? null : inlined(e);
    if (inl !== null) {
      direct = true;
      const v = e.out;
      const t = slotTensor.get(v.id);
      const size = int(sizeOf(v.shape));
      lines.push(`  let ${id(v)};`);
      lines.push("  {");
      lines.push(t !== undefined ? `    const o = V[${int(t)}]._data;` : `    const o = new ${arrayType[v.dtype]}(${size});`);
      if (inl.kind === "unary") {
        lines.push(`    U(${JSON.stringify(inl.op)}, ${id(e.inputs[0]!)}._data, o);`);
      } else if (inl.kind === "matmul") {
        const [ars, acs, brs, bcs] = inl.strides.map(int);
        const [a, b] = e.inputs.map(id);
        lines.push(`    G(${a!}._data, 0, ${ars!}, ${acs!}, ${b!}._data, 0, ${brs!}, ${bcs!}, o, 0, ${int(inl.m)}, ${int(inl.k)}, ${int(inl.n)}, false);`);
      } else {
        lines.push(`    const x = ${id(e.inputs[0]!)}._data;`);
        const rows = int(inl.rows), len = int(inl.len);
        if (inl.along === "rows") {
          lines.push(`    for (let r = 0, i = 0; r < ${rows}; r++) { let s = 0; for (let j = 0; j < ${len}; j++, i++) s += x[i]; o[r] = s; }`);
        } else {
          // Each column summed down the rows, in the kernel's order (it adds row after row); four columns at
          // a time, so that four independent sums hide the adder's latency.
          const n = int(inl.rows * inl.len);
          const quads = inl.len - (inl.len % 4);
          if (quads > 0) {
            lines.push(`    for (let j = 0; j < ${int(quads)}; j += 4) {`);
            lines.push(`      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;`);
            lines.push(`      for (let i = j; i < ${n}; i += ${len}) { s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3]; }`);
            lines.push(`      o[j] = s0; o[j + 1] = s1; o[j + 2] = s2; o[j + 3] = s3;`);
            lines.push(`    }`);
          }
          if (quads < inl.len) lines.push(`    for (let j = ${int(quads)}; j < ${len}; j++) { let s = 0; for (let i = j; i < ${n}; i += ${len}) s += x[i]; o[j] = s; }`);
        }
      }
      if (t !== undefined) lines.push(`    ${id(v)} = V[${int(t)}];`);
      else {
        lines.push(`    ${id(v)} = new T(S[${int(S.length)}], ${dtypeLiteral[v.dtype]}, o);`);
        S.push(Object.freeze([...v.shape]));
      }
      lines.push(`  } // ${nameOf(v)} = ${e.prim.name}`);
      continue;
    }
    if (e.prim !== (fusedP as never)) {
      lines.push(`  const ${id(e.out)} = P[${int(P.length)}].impl([${e.inputs.map(id).join(", ")}], Q[${int(Q.length)}]); // ${nameOf(e.out)}`);
      P.push(e.prim);
      Q.push(e.params);
      continue;
    }
    const fp = e.params as FusedParams;
    const nIn = e.inputs.length;
    const inPlace = scratch.inPlace.get(e) ?? fp.inPlace;
    lines.push(`  let ${fp.outVars.map(id).join(", ")};`);
    lines.push("  {");
    lines.push(`    const n = ${int(fp.size)};`);
    e.inputs.forEach((v, j) => {
      lines.push(`    const x${j} = ${id(v)}._data;`);
      if (fp.modes[j] === "scalar") lines.push(`    const s${j} = x${j}[0];`);
    });
    fp.outVars.forEach((v, k) => {
      const t = slotTensor.get(v.id);
      if (t !== undefined) lines.push(`    const o${k} = V[${int(t)}]._data;`);
      else if (k === 0 && inPlace >= 0) lines.push(`    const o0 = x${int(inPlace)};`);
      else lines.push(`    const o${k} = new ${arrayType[v.dtype]}(n);`);
    });
    const simd = fp.size >= WASM_MIN_HEAVY && fp.nodes.some((nd) => nd.op !== null && HEAVY.has(nd.op.name))
      ? compileLoop(fp.nodes, e.inputs.map((v) => v.dtype), fp.modes, fp.stores, fp.size)
      : null;
    if (simd !== null) {
      // A loop around float32 exp, tanh or sigmoid: one SIMD wasm loop, operands copied into its memory.
      const l = int(L.length);
      L.push(simd);
      e.inputs.forEach((_, j) => {
        const at = int(simd.inputs[j]!);
        lines.push(fp.modes[j] === "scalar" ? `    L${l}m[${at}] = s${j};` : `    L${l}m.set(x${j}, ${at});`);
      });
      lines.push(`    L${l}();`);
      fp.stores.forEach((_, k) => lines.push(`    o${k}.set(L${l}m.subarray(${int(simd.outputs[k]!)}, ${int(simd.outputs[k]! + fp.size)}));`));
    }
    // One period shared by every suffix operand gives a row loop without a modulo.
    const periods = new Set(fp.periods.filter((_, j) => fp.modes[j] === "suffix"));
    const rowLoop = periods.size === 1;
    const period = rowLoop ? [...periods][0]! : 0;
    if (simd === null) {
      if (rowLoop) lines.push(`    for (let r = 0, i = 0; r < n; r += ${int(period)}) for (let j = 0; j < ${int(period)}; j++, i++) {`);
      else lines.push("    for (let i = 0; i < n; i++) {");
      const read = (j: number): string => {
        const m = fp.modes[j];
        return m === "full" ? `x${j}[i]` : m === "scalar" ? `s${j}` : rowLoop ? `x${j}[j]` : `x${j}[i % ${int(fp.periods[j]!)}]`;
      };
      const node = (nd: FusedNode, r: string, slot: (k: number) => string): string => {
        const [a, b, c] = [nd.args[0], nd.args[1], nd.args[2]].map((x) => (x === undefined ? "0" : slot(x)));
        const body = nd.op === null ? `${r} = ${a!};` : nd.op.code(r, a!, b!, c!, nd.dtype);
        return `${body} ${roundTo(nd.dtype, r)}`.trimEnd();
      };
      if (fp.nodes.length <= CHUNK) {
        // Locals in one loop body.
        const slot = (k: number): string => (k < nIn ? `a${k}` : `t${k - nIn}`);
        e.inputs.forEach((_, j) => lines.push(`      const a${j} = ${read(j)};`));
        fp.nodes.forEach((nd, k) => lines.push(`      let t${k}; ${node(nd, `t${k}`, slot)}`));
        fp.stores.forEach((s, k) => lines.push(`      o${k}[i] = ${slot(s)};`));
      } else if ((wasm = compileChain(fp.nodes, e.inputs.map((v) => v.dtype), fp.stores)) !== null) {
        // A long chain whose every op has a wasm form: one wasm function per element, operands and stored
        // results through its memory.
        const w = int(W.length);
        W.push(wasm);
        e.inputs.forEach((_, j) => lines.push(`      W${w}[${int(j)}] = ${read(j)};`));
        lines.push(`      w${w}();`);
        fp.stores.forEach((_, k) => lines.push(`      o${k}[i] = W${w}[${int(nIn + k)}];`));
      } else {
        // A long chain (a scalar program's whole gradient) is cut into functions of CHUNK nodes, so that each
        // stays small enough for the optimising compiler. Inside a function values are locals; only values
        // read by a later function (or stored by the loop) go through the register array.
        const regs = int(R.length);
        R.push(new Float64Array(nIn + fp.nodes.length));
        const slot = (k: number): string => `t${int(k)}`;
        const calls: string[] = [];
        const texts = fp.nodes.map((nd, d) => `  let ${slot(nIn + d)}; ${node(nd, slot(nIn + d), slot)}`);
        const starts: number[] = [];
        for (let d = 0; d < texts.length; d += CHUNK) starts.push(d);
        starts.push(texts.length);
        const chunkOf = (k: number): number => (k < nIn ? -1 : Math.floor((k - nIn) / CHUNK));
        const lastChunk = new Int32Array(nIn + fp.nodes.length).fill(-1);
        fp.nodes.forEach((nd, d) => {
          for (const a of nd.args) lastChunk[a] = Math.max(lastChunk[a]!, chunkOf(nIn + d));
        });
        const stored = new Set(fp.stores);
        for (let c = 0; c + 1 < starts.length; c++) {
          const start = starts[c]!;
          const end = starts[c + 1]!;
          const name = `k${int(chunks.length)}`;
          const body: string[] = [];
          const loaded = new Set<number>();
          for (let d = start; d < end; d++) {
            for (const a of fp.nodes[d]!.args) {
              if (chunkOf(a) === c || loaded.has(a)) continue;
              loaded.add(a);
              body.push(`  const ${slot(a)} = R[${int(a)}];`);
            }
          }
          for (let d = start; d < end; d++) {
            const k = nIn + d;
            body.push(texts[d]!);
            if (lastChunk[k]! > c || stored.has(k)) body.push(`  R[${int(k)}] = ${slot(k)};`);
          }
          chunks.push(`function ${name}(R) {\n${body.join("\n")}\n}`);
          calls.push(`${name}(R${regs})`);
        }
        e.inputs.forEach((_, j) => lines.push(`      R${regs}[${int(j)}] = ${read(j)};`));
        lines.push(`      ${calls.join("; ")};`);
        fp.stores.forEach((s, k) => lines.push(`      o${k}[i] = R${regs}[${int(s)}];`));
        registerSets.push(regs);
      }
      lines.push("    }");
    }
    fp.outVars.forEach((v, k) => {
      const t = slotTensor.get(v.id);
      if (t !== undefined) {
        lines.push(`    ${id(v)} = V[${int(t)}];`);
        return;
      }
      lines.push(`    ${id(v)} = new T(S[${int(S.length)}], ${dtypeLiteral[v.dtype]}, o${k});`);
      S.push(fp.shape);
    });
    lines.push(`  } // ${fp.ops.join(" ")}`);
  }
  lines.push(`  return [${p.outputs.map(id).join(", ")}];`);
  lines.push("};");
  const functions = FLOAT32_FUNCTIONS.map((_, k) => `F${int(k)} = F[${int(k)}]`);
  const preamble = [
    `const ${functions.join(", ")};`,
    ...registerSets.map((r) => `const R${r} = R[${r}];`),
    ...W.map((_, k) => `const W${k} = W[${k}].registers, w${k} = W[${k}].run;`),
    ...L.map((_, k) => `const L${k} = L[${k}].run, L${k}m = L[${k}].memory;`),
    ...chunks,
  ];
  const source = [...preamble, ...lines].join("\n");
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from identifiers and integers only (see above)
  const factory = new Function("T", "P", "Q", "C", "S", "V", "R", "F", "W", "L", "G", "U", source) as (...a: unknown[]) => (inputs: readonly Tensor[]) => Tensor[];
  const run = factory(Tensor, P, Q, C, S, V, R, FLOAT32_FUNCTIONS, W, L, gemm, (op: UnaryKernel, x: TypedArray, o: TypedArray) =>
    cpuBackend.unary(op, x, o),
  );
  if (scratch.buffers.length === 0 && W.length === 0 && L.length === 0 && !direct) return Object.assign((inputs: readonly Tensor[]) => run(inputs), { program: p, source });
  // Scratch arrays and wasm registers belong to one run at a time; a nested run of the same program (none
  // is known) would take the interpreter instead of sharing them. So does a run while another backend than
  // the CPU one is in use (inlined kernels are the CPU backend's).
  let busy = false;
  let fallback: Executable | null = null;
  const guarded = (inputs: readonly Tensor[]): Tensor[] => {
    if (busy || (direct && backend() !== cpuBackend)) return (fallback ??= interpret(p))(inputs);
    busy = true;
    try {
      return run(inputs);
    } finally {
      busy = false;
    }
  };
  return Object.assign(guarded, { program: p, source });
}

/**
 * @internal Buffer reuse across calls, from liveness: a fused loop's result that is neither a program output
 * nor seen by anything that could keep it (only fused loops and kernels that write new arrays read it) lives
 * in a scratch array owned by the executable. Results whose lifetimes do not overlap share one array. A loop
 * writing in place into a scratch-backed operand keeps that array only if its own result may live there.
 */
function planScratch(p: Program): {
  slotOf: Map<number, number>;
  vars: Map<number, Var>;
  buffers: TypedArray[];
  inPlace: Map<Equation, number>;
} {
  const n = p.equations.length;
  const lastUse = new Int32Array(p.size).fill(-1);
  const privateVar = new Uint8Array(p.size).fill(1);
  p.equations.forEach((e, i) => {
    const reads = e.prim === (fusedP as never) || allocating.has(e.prim.name) || inlined(e) !== null;
    for (const v of e.inputs) {
      lastUse[v.id] = i;
      if (!reads) privateVar[v.id] = 0;
    }
  });
  for (const v of p.outputs) {
    lastUse[v.id] = n;
    privateVar[v.id] = 0;
  }
  const slotOf = new Map<number, number>();
  const vars = new Map<number, Var>();
  const buffers: TypedArray[] = [];
  const inPlace = new Map<Equation, number>();
  const free: number[] = [];
  /** The variable currently living in each slot. */
  const owner: number[] = [];
  const take = (v: Var): number => {
    let size = 1;
    for (const d of v.shape) size *= d;
    const k = free.findIndex((s) => buffers[s]!.length === size && arrayDType(buffers[s]!) === v.dtype);
    if (k >= 0) {
      const [slot] = free.splice(k, 1);
      return slot!;
    }
    buffers.push(allocate(v.dtype, size));
    return buffers.length - 1;
  };
  p.equations.forEach((e, i) => {
    if (e.prim !== (fusedP as never) && inlined(e) !== null) {
      const v = e.out;
      if (privateVar[v.id] && lastUse[v.id]! >= 0) {
        const slot = take(v);
        slotOf.set(v.id, slot);
        owner[slot] = v.id;
        vars.set(v.id, v);
      }
    } else if (e.prim === (fusedP as never)) {
      const fp = e.params as FusedParams;
      fp.outVars.forEach((v, k) => {
        if (k === 0 && fp.inPlace >= 0) {
          const src = e.inputs[fp.inPlace]!;
          const slot = slotOf.get(src.id);
          if (slot === undefined) return; // writing into a per-call array: nothing to plan
          if (privateVar[v.id]) {
            // The result takes over the operand's array (the operand dies here).
            slotOf.set(v.id, slot);
            owner[slot] = v.id;
            vars.set(v.id, v);
          } else inPlace.set(e, -1); // the result escapes: it gets a new array, the scratch stays private
          return;
        }
        if (!privateVar[v.id] || lastUse[v.id]! < 0) return;
        const slot = take(v);
        slotOf.set(v.id, slot);
        owner[slot] = v.id;
        vars.set(v.id, v);
      });
    }
    // Operands whose last reader this is give their arrays back (after the results took theirs).
    for (const v of e.inputs) {
      if (lastUse[v.id] !== i) continue;
      const slot = slotOf.get(v.id);
      if (slot !== undefined && owner[slot] === v.id) free.push(slot);
    }
  });
  return { slotOf, vars, buffers, inPlace };
}

function arrayDType(a: TypedArray): DType {
  return a instanceof Float32Array ? "float32" : a instanceof Float64Array ? "float64" : "int32";
}
