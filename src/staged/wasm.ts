/**
 * WebAssembly for long scalar chains: the body of a fused loop compiled to one wasm function.
 *
 * A scalar program's whole gradient (thousands of elementwise nodes on one element) is bound by the latency
 * of its dependency chain. In JavaScript every float32 step is a double operation followed by
 * `Math.fround`, two conversions on the critical path; wasm has float32 arithmetic, so the same step is one
 * instruction. The results are the same bits: an add, subtract, multiply, divide or square root of float32
 * operands computed in double and rounded to float32 equals the float32 operation (double carries more than
 * 2·24 + 2 bits), and float32 exp, tanh and sigmoid are written here operation for operation as the scalar
 * twins of `src/tensor/cpu/float32-math.ts` (which are those of the SIMD kernels). Every other op is
 * computed in double exactly as the JavaScript template computes it, then rounded once.
 *
 * The module is built byte by byte (the format is small: one memory holding the loop's operands and stored
 * results as float64, one function per helper, one for the chain). Where wasm cannot be compiled
 * synchronously (no WebAssembly, a Content-Security-Policy without `wasm-unsafe-eval`, a runtime refusing
 * a synchronous compile) or an op has no form here, the caller keeps the JavaScript functions.
 */
import type { DType } from "../tensor/dtype.js";
import type { FusedNode } from "./fuse.js";

/** @internal A compiled chain: write the operands into `registers[0..inputs)`, call `run`, read the stores after them. */
export interface WasmChain {
  readonly run: () => void;
  /** Operands first (as float64), then one slot per stored node, in the order of `stores`. */
  readonly registers: Float64Array;
}

// ---- a minimal encoder ----

const F32 = 0x7d;
const F64 = 0x7c;
const I32 = 0x7f;

function uleb(out: number[], n: number): void {
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

function sleb(out: number[], n: number): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

const scratch = new DataView(new ArrayBuffer(8));
function f32const(out: number[], x: number): void {
  scratch.setFloat32(0, x, true);
  out.push(0x43, scratch.getUint8(0), scratch.getUint8(1), scratch.getUint8(2), scratch.getUint8(3));
}

function section(out: number[], id: number, body: number[]): void {
  out.push(id);
  uleb(out, body.length);
  for (const b of body) out.push(b);
}

function vector(out: number[], items: number[][]): void {
  uleb(out, items.length);
  for (const it of items) for (const b of it) out.push(b);
}

/** Locals declared in runs of one type (the format's compressed form). */
function localDecls(types: readonly number[]): number[] {
  const runs: [number, number][] = [];
  for (const t of types) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === t) last[0]++;
    else runs.push([1, t]);
  }
  const out: number[] = [];
  uleb(out, runs.length);
  for (const [n, t] of runs) {
    uleb(out, n);
    out.push(t);
  }
  return out;
}

function funcBody(locals: readonly number[], code: number[]): number[] {
  const body = [...localDecls(locals), ...code, 0x0b];
  const out: number[] = [];
  uleb(out, body.length);
  for (const b of body) out.push(b);
  return out;
}

// Opcodes (WebAssembly core specification, section 5.4).
const op = {
  localGet: 0x20, localSet: 0x21, call: 0x10, select: 0x1b, if: 0x04, else: 0x05, end: 0x0b,
  i32Const: 0x41, i32Add: 0x6a, i32Sub: 0x6b, i32Shl: 0x74, i32ShrS: 0x75, i32Or: 0x72,
  f32Ne: 0x5c, f32Lt: 0x5d, f32Le: 0x5f, f32Ge: 0x60,
  f64Ne: 0x62, f64Le: 0x65, f64Ge: 0x66,
  f32Abs: 0x8b, f32Neg: 0x8c, f32Nearest: 0x90, f32Sqrt: 0x91, f32Add: 0x92, f32Sub: 0x93, f32Mul: 0x94, f32Div: 0x95, f32Copysign: 0x98,
  f64Abs: 0x99, f64Neg: 0x9a, f64Sqrt: 0x9f, f64Add: 0xa0, f64Sub: 0xa1, f64Mul: 0xa2, f64Div: 0xa3,
  f32DemoteF64: 0xb6, f64PromoteF32: 0xbb, f32ReinterpretI32: 0xbe,
  f64Load: 0x2b, f64Store: 0x39,
} as const;
/** `i32.trunc_sat_f32_s` (the saturating truncation: NaN to 0), a two-byte opcode. */
const I32_TRUNC_SAT_F32_S = [0xfc, 0x00];

// ---- the float32 helpers, transcribed from the scalar twins in src/tensor/cpu/float32-math.ts ----

const fr = Math.fround;
const LOG2E = fr(1.44269504);
const LN2_HI = fr(0.693145751953125);
const LN2_LO = fr(1.42860677e-6);
const E = [fr(1 / 2), fr(1 / 6), fr(1 / 24), fr(1 / 120), fr(1 / 720), fr(1 / 5040), fr(1 / 40320)];
const T = [fr(-0.3333328068256378), fr(0.13331381976604462), fr(-0.05373531952500343), fr(0.020626291632652283), fr(-0.005691985599696636)];

/** Function indices inside the module: the helpers first, then the chain. */
const EXP = 0;
const TANH = 1;
const SIGMOID = 2;

/** exp(x): locals x(0) | xc(1) nf(2) r(3) p(4): f32, n(5) n1(6): i32. */
function expBody(): number[] {
  const c: number[] = [];
  const get = (i: number): void => void c.push(op.localGet, i);
  const set = (i: number): void => void c.push(op.localSet, i);
  const k = (x: number): void => f32const(c, x);
  // xc = x < -104 ? -104 : x; xc = 89 < xc ? 89 : xc (NaN passes through)
  k(-104); get(0); get(0); k(-104); c.push(op.f32Lt, op.select); set(1);
  k(89); get(1); k(89); get(1); c.push(op.f32Lt, op.select); set(1);
  // nf = nearest(xc·log2 e)
  get(1); k(LOG2E); c.push(op.f32Mul, op.f32Nearest); set(2);
  // r = (xc - nf·ln2_hi) - nf·ln2_lo
  get(1); get(2); k(LN2_HI); c.push(op.f32Mul, op.f32Sub); get(2); k(LN2_LO); c.push(op.f32Mul, op.f32Sub); set(3);
  // p = E7 + r·E8, then Horner down to E2
  k(E[5]!); get(3); k(E[6]!); c.push(op.f32Mul, op.f32Add); set(4);
  for (let i = 4; i >= 0; i--) {
    k(E[i]!); get(3); get(4); c.push(op.f32Mul, op.f32Add); set(4);
  }
  // p = 1 + (r + (r·r)·p)
  k(1); get(3); get(3); get(3); c.push(op.f32Mul); get(4); c.push(op.f32Mul, op.f32Add, op.f32Add); set(4);
  // n = trunc_sat(nf); scale by 2^(n >> 1) and 2^(n - (n >> 1))
  get(2); c.push(...I32_TRUNC_SAT_F32_S); set(5);
  get(5); c.push(op.i32Const, 1, op.i32ShrS); set(6);
  const pow2 = (load: () => void): void => {
    load();
    c.push(op.i32Const);
    sleb(c, 127);
    c.push(op.i32Add, op.i32Const, 23, op.i32Shl, op.f32ReinterpretI32);
  };
  get(4); pow2(() => get(6)); c.push(op.f32Mul);
  pow2(() => { get(5); get(6); c.push(op.i32Sub); }); c.push(op.f32Mul);
  return funcBody([F32, F32, F32, F32, I32, I32], c);
}

/** tanh(x): locals x(0) | ax(1) u(2) q(3): f32. */
function tanhBody(): number[] {
  const c: number[] = [];
  const get = (i: number): void => void c.push(op.localGet, i);
  const set = (i: number): void => void c.push(op.localSet, i);
  const k = (x: number): void => f32const(c, x);
  get(0); c.push(op.f32Abs); set(1);
  get(1); k(0.625); c.push(op.f32Ge, op.if, F32);
  // 1 - 2 / (e^(2|x|) + 1)
  k(1); k(2); get(1); get(1); c.push(op.f32Add, op.call, EXP); k(1); c.push(op.f32Add, op.f32Div, op.f32Sub);
  c.push(op.else);
  // |x + x·(u·Q(u))|, u = x², Q by Horner from T4
  get(0); get(0); c.push(op.f32Mul); set(2);
  k(T[3]!); get(2); k(T[4]!); c.push(op.f32Mul, op.f32Add); set(3);
  for (let i = 2; i >= 0; i--) {
    k(T[i]!); get(2); get(3); c.push(op.f32Mul, op.f32Add); set(3);
  }
  get(0); get(0); get(2); get(3); c.push(op.f32Mul, op.f32Mul, op.f32Add, op.f32Abs);
  c.push(op.end);
  // the sign of x put back (tanh(-0) = -0); y is never negative
  get(0); c.push(op.f32Copysign);
  return funcBody([F32, F32, F32], c);
}

/** sigmoid(x) = (x < 0 ? t : 1) / (1 + t), t = e^-|x|: locals x(0) | t(1). */
function sigmoidBody(): number[] {
  const c: number[] = [];
  c.push(op.localGet, 0, op.f32Abs, op.f32Neg, op.call, EXP, op.localSet, 1);
  c.push(op.localGet, 1);
  f32const(c, 1);
  c.push(op.localGet, 0);
  f32const(c, 0);
  c.push(op.f32Lt, op.select);
  f32const(c, 1);
  c.push(op.localGet, 1, op.f32Add, op.f32Div);
  return funcBody([F32], c);
}

// ---- the chain ----

/** Ops computed natively in the node's float type: the JavaScript template is one IEEE operation or a selection. */
const native: Record<string, { f32: number; f64: number } | undefined> = {
  add: { f32: op.f32Add, f64: op.f64Add },
  sub: { f32: op.f32Sub, f64: op.f64Sub },
  mul: { f32: op.f32Mul, f64: op.f64Mul },
  div: { f32: op.f32Div, f64: op.f64Div },
  neg: { f32: op.f32Neg, f64: op.f64Neg },
  abs: { f32: op.f32Abs, f64: op.f64Abs },
  sqrt: { f32: op.f32Sqrt, f64: op.f64Sqrt },
};

/**
 * Emits one node into `c`, reading its operands' locals (`args`, of dtypes `argTypes`); returns false when the op has no
 * form here (then the whole chain stays in JavaScript).
 */
function emitNode(c: number[], nd: FusedNode, args: readonly number[], argTypes: readonly DType[]): boolean {
  const t = nd.dtype;
  const float = t === "float32" ? F32 : F64;
  const get = (k: number): void => {
    c.push(op.localGet);
    uleb(c, args[k]!);
  };
  if (nd.op === null) {
    // a cast: float32 ↔ float64 (a narrowing is Math.fround)
    const from = argTypes[0];
    get(0);
    if (from === "float32" && t === "float64") c.push(op.f64PromoteF32);
    else if (from === "float64" && t === "float32") c.push(op.f32DemoteF64);
    return true;
  }
  if (argTypes.some((a) => a !== t)) return false;
  const name = nd.op.name;
  const n = native[name];
  if (n !== undefined) {
    for (let k = 0; k < nd.op.arity; k++) get(k);
    c.push(float === F32 ? n.f32 : n.f64);
    return true;
  }
  if (name === "maximum" || name === "minimum") {
    // a when a >= b (a <= b) or a is NaN, else b
    get(0); get(1); get(0); get(1);
    c.push(float === F32 ? (name === "maximum" ? op.f32Ge : op.f32Le) : name === "maximum" ? op.f64Ge : op.f64Le);
    get(0); get(0);
    c.push(float === F32 ? op.f32Ne : op.f64Ne, op.i32Or, op.select);
    return true;
  }
  if (t === "float32" && (name === "exp" || name === "tanh" || name === "sigmoid")) {
    get(0);
    c.push(op.call, name === "exp" ? EXP : name === "tanh" ? TANH : SIGMOID);
    return true;
  }
  return false;
}

/** The part of the WebAssembly JS API used here (the ES2022 lib does not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { exports: Record<string, unknown> };
}
const wasmApi = (): WasmApi | undefined => (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let supported: boolean | undefined;
/** Whether this runtime compiles wasm synchronously (probed once with an empty module). */
function wasmAvailable(): boolean {
  if (supported === undefined) {
    try {
      const api = wasmApi();
      supported = api !== undefined && new api.Instance(new api.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))) !== null;
    } catch {
      supported = false;
    }
  }
  return supported;
}

/** @internal Test hook: pretend wasm is unavailable (long chains and SIMD loops stay JavaScript), or restore detection with undefined. */
export function setChainWasmAllowed(allowed: boolean | undefined): void {
  supported = allowed;
}

/**
 * @internal Compiles the nodes of a fused loop, for one element, to a wasm function. `inputTypes` are the
 * dtypes of the loop's operands; `stores` the slots whose values leave the loop. Returns null when a dtype
 * or op has no form here or wasm cannot be compiled synchronously.
 */
export function compileChain(nodes: readonly FusedNode[], inputTypes: readonly DType[], stores: readonly number[]): WasmChain | null {
  if (!wasmAvailable()) return null;
  const nIn = inputTypes.length;
  const types: DType[] = [...inputTypes, ...nodes.map((nd) => nd.dtype)];
  if (types.some((t) => t === "int32") || types.length > 40_000) return null;
  const c: number[] = [];
  const memarg = (offset: number): void => {
    c.push(3);
    uleb(c, offset);
  };
  for (let j = 0; j < nIn; j++) {
    c.push(op.i32Const, 0, op.f64Load);
    memarg(j * 8);
    if (types[j] === "float32") c.push(op.f32DemoteF64);
    c.push(op.localSet);
    uleb(c, j);
  }
  for (let d = 0; d < nodes.length; d++) {
    const nd = nodes[d]!;
    if (!emitNode(c, nd, nd.args, nd.args.map((a) => types[a]!))) return null;
    c.push(op.localSet);
    uleb(c, nIn + d);
  }
  stores.forEach((s, k) => {
    c.push(op.i32Const, 0, op.localGet);
    uleb(c, s);
    if (types[s] === "float32") c.push(op.f64PromoteF32);
    c.push(op.f64Store);
    memarg((nIn + k) * 8);
  });
  // The local indices above count the chain's own locals only (it has no parameters).
  const chainLocals = types.map((t) => (t === "float32" ? F32 : F64));
  const bytes: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  // types: 0 = (f32) -> f32, 1 = () -> ()
  section(bytes, 1, (() => {
    const b: number[] = [];
    vector(b, [[0x60, 1, F32, 1, F32], [0x60, 0, 0]]);
    return b;
  })());
  // functions: exp, tanh, sigmoid (type 0), the chain (type 1)
  section(bytes, 3, [4, 0, 0, 0, 1]);
  // one memory of enough pages for the registers
  const pages = Math.max(1, Math.ceil(((nIn + stores.length) * 8) / 65536));
  section(bytes, 5, (() => {
    const b: number[] = [1, 0];
    uleb(b, pages);
    return b;
  })());
  // exports: "run" (function 3), "memory"
  section(bytes, 7, (() => {
    const b: number[] = [2];
    b.push(3, 0x72, 0x75, 0x6e, 0x00, 3);
    b.push(6, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0);
    return b;
  })());
  section(bytes, 10, (() => {
    const b: number[] = [];
    vector(b, [expBody(), tanhBody(), sigmoidBody(), funcBody(chainLocals, c)]);
    return b;
  })());
  try {
    const api = wasmApi()!;
    const instance = new api.Instance(new api.Module(new Uint8Array(bytes)));
    const run = instance.exports.run as () => void;
    const memory = instance.exports.memory as { buffer: ArrayBuffer };
    return { run, registers: new Float64Array(memory.buffer, 0, nIn + stores.length) };
  } catch {
    // a runtime may refuse a large synchronous compile; a strict CSP refuses any
    return null;
  }
}

// ---- SIMD loops over float32 arrays ----

/**
 * @internal A fused loop compiled to a SIMD128 wasm loop: copy each array operand into `memory` at its
 * offset (in elements), write each scalar operand at its offset, call `run`, read each stored result at its
 * offset. The regions are padded to a multiple of four elements (the padding lanes compute garbage that is
 * never read).
 */
export interface WasmLoop {
  readonly run: () => void;
  readonly memory: Float32Array;
  /** One offset per operand (its array, or its one value), in elements. */
  readonly inputs: readonly number[];
  /** One offset per stored result, in elements. */
  readonly outputs: readonly number[];
}

/** Opcodes after the SIMD prefix 0xfd (WebAssembly SIMD specification). */
const V128_LOAD = 0x00;
const V128_LOAD32_SPLAT = 0x09;
const V128_STORE = 0x0b;
const I32X4_SPLAT = 0x11;
const F32X4_SPLAT = 0x13;
const F32X4_NE = 0x42;
const F32X4_LT = 0x43;
const F32X4_LE = 0x45;
const F32X4_GE = 0x46;
const V128_AND = 0x4e;
const V128_OR = 0x50;
const V128_BITSELECT = 0x52;
const F32X4_NEAREST = 0x6a;
const I32X4_SHL = 0xab;
const I32X4_SHR_S = 0xac;
const I32X4_ADD = 0xae;
const I32X4_SUB = 0xb1;
const F32X4_ABS = 0xe0;
const F32X4_NEG = 0xe1;
const F32X4_SQRT = 0xe3;
const F32X4_ADD = 0xe4;
const F32X4_SUB = 0xe5;
const F32X4_MUL = 0xe6;
const F32X4_DIV = 0xe7;
const F32X4_PMIN = 0xea;
const F32X4_PMAX = 0xeb;
const I32X4_TRUNC_SAT_F32X4_S = 0xf8;
const V128 = 0x7b;

const SIMD_NATIVE: Record<string, number | undefined> = {
  add: F32X4_ADD, sub: F32X4_SUB, mul: F32X4_MUL, div: F32X4_DIV, neg: F32X4_NEG, abs: F32X4_ABS, sqrt: F32X4_SQRT,
};
const SIMD_OPS: ReadonlySet<string> = new Set([...Object.keys(SIMD_NATIVE), "maximum", "minimum", "exp", "tanh", "sigmoid"]);

/** Writes SIMD code: `v(op)` one instruction, `get`/`set` locals, splats of constants. */
class SimdWriter {
  readonly c: number[] = [];
  /** Types of the locals allocated after the fixed ones. */
  readonly extra: number[] = [];
  constructor(private readonly first: number) {}
  v(...ops: number[]): this {
    for (const o of ops) {
      this.c.push(0xfd);
      uleb(this.c, o);
    }
    return this;
  }
  get(i: number): this {
    localOp(this.c, op.localGet, i);
    return this;
  }
  set(i: number): this {
    localOp(this.c, op.localSet, i);
    return this;
  }
  f(x: number): this {
    f32const(this.c, x);
    return this.v(F32X4_SPLAT);
  }
  i(x: number): this {
    this.c.push(op.i32Const);
    sleb(this.c, x);
    return this.v(I32X4_SPLAT);
  }
  local(): number {
    this.extra.push(V128);
    return this.first + this.extra.length - 1;
  }
}

function localOp(c: number[], opcode: number, index: number): void {
  c.push(opcode);
  uleb(c, index);
}

/** e^x of the v128 on the stack, as `exp4` of `assembly/elementwise.ts`; leaves the result on the stack. */
function exp4(w: SimdWriter): void {
  const xc = w.local(), nf = w.local(), r = w.local(), p = w.local(), n = w.local(), n1 = w.local();
  w.f(-104).v(F32X4_PMAX).f(89).v(F32X4_PMIN).set(xc);
  w.get(xc).f(LOG2E).v(F32X4_MUL, F32X4_NEAREST).set(nf);
  w.get(xc).get(nf).f(LN2_HI).v(F32X4_MUL, F32X4_SUB).get(nf).f(LN2_LO).v(F32X4_MUL, F32X4_SUB).set(r);
  w.f(E[5]!).get(r).f(E[6]!).v(F32X4_MUL, F32X4_ADD).set(p);
  for (let i = 4; i >= 0; i--) w.f(E[i]!).get(r).get(p).v(F32X4_MUL, F32X4_ADD).set(p);
  w.get(r).get(r).get(r).v(F32X4_MUL).get(p).v(F32X4_MUL, F32X4_ADD).set(p);
  w.f(1).get(p).v(F32X4_ADD).set(p);
  w.get(nf).v(I32X4_TRUNC_SAT_F32X4_S).set(n);
  w.get(n).c.push(op.i32Const, 1);
  w.v(I32X4_SHR_S).set(n1);
  w.get(p).get(n1).i(127).v(I32X4_ADD);
  w.c.push(op.i32Const, 23);
  w.v(I32X4_SHL, F32X4_MUL);
  w.get(n).get(n1).v(I32X4_SUB).i(127).v(I32X4_ADD);
  w.c.push(op.i32Const, 23);
  w.v(I32X4_SHL, F32X4_MUL);
}

/** tanh of the v128 on the stack, as `tanh4`. */
function tanh4(w: SimdWriter): void {
  const x = w.local(), ax = w.local(), u = w.local(), q = w.local(), sign = w.local(), small = w.local(), big = w.local();
  w.set(x).get(x).v(F32X4_ABS).set(ax);
  w.get(x).get(x).v(F32X4_MUL).set(u);
  w.f(T[3]!).get(u).f(T[4]!).v(F32X4_MUL, F32X4_ADD).set(q);
  for (let i = 2; i >= 0; i--) w.f(T[i]!).get(u).get(q).v(F32X4_MUL, F32X4_ADD).set(q);
  w.get(x).i(-0x80000000).v(V128_AND).set(sign);
  w.get(x).get(x).get(u).get(q).v(F32X4_MUL, F32X4_MUL, F32X4_ADD, F32X4_ABS).get(sign).v(V128_OR).set(small);
  w.get(ax).get(ax).v(F32X4_ADD);
  exp4(w);
  w.set(big).f(1).f(2).get(big).f(1).v(F32X4_ADD, F32X4_DIV, F32X4_SUB).get(sign).v(V128_OR).set(big);
  w.get(big).get(small).get(ax).f(0.625).v(F32X4_GE, V128_BITSELECT);
}

/** sigmoid of the v128 on the stack, as `sigmoid4`. */
function sigmoid4(w: SimdWriter): void {
  const x = w.local(), t = w.local();
  w.set(x).get(x).v(F32X4_ABS, F32X4_NEG);
  exp4(w);
  w.set(t).get(t).f(1).get(x).f(0).v(F32X4_LT, V128_BITSELECT).f(1).get(t).v(F32X4_ADD, F32X4_DIV);
}

/**
 * @internal Whether a fused loop over `size` elements has a SIMD form: float32 throughout, operands whole or scalar,
 * every op known here, and its memory (at most one region per operand and node) within 1 GiB.
 */
export function simdLoopForm(nodes: readonly FusedNode[], inputTypes: readonly DType[], modes: readonly string[], size: number): boolean {
  return (
    (inputTypes.length + nodes.length) * (Math.ceil(size / 4) * 16) <= 2 ** 30 &&
    inputTypes.every((t) => t === "float32") &&
    modes.every((m) => m === "full" || m === "scalar") &&
    nodes.every((nd) => nd.dtype === "float32" && (nd.op === null || SIMD_OPS.has(nd.op.name)))
  );
}

let simdSupported: boolean | undefined;
const PROBE: FusedNode[] = Array.from({ length: 12 }, (_, k) => ({ op: { name: "tanh", arity: 1, code: () => "", eval: Math.tanh }, args: [k], dtype: "float32" }));
/** @internal Whether this runtime compiles wasm SIMD synchronously (probed once). */
export function simdAvailable(): boolean {
  if (!wasmAvailable()) return false;
  // The probe is a loop of twelve tanh (about 6 KB): a browser may refuse a large synchronous compile on
  // its main thread, and then loops must not count on SIMD.
  simdSupported ??= compileLoop(PROBE, ["float32"], ["full"], [12], 4) !== null;
  return simdSupported;
}

/**
 * @internal Compiles a fused loop over `n` float32 elements to a SIMD128 wasm loop, or returns null when it
 * has no SIMD form ({@link simdLoopForm}) or wasm SIMD cannot be compiled here.
 */
export function compileLoop(nodes: readonly FusedNode[], inputTypes: readonly DType[], modes: readonly string[], stores: readonly number[], n: number): WasmLoop | null {
  if (!wasmAvailable() || !simdLoopForm(nodes, inputTypes, modes, n)) return null;
  const nIn = inputTypes.length;
  const n4 = Math.ceil(n / 4) * 4;
  // Regions (in elements): scalars (4 each), arrays, then results.
  const inputs: number[] = [];
  let at = 0;
  for (let j = 0; j < nIn; j++) {
    inputs.push(at);
    at += modes[j] === "scalar" ? 4 : n4;
  }
  const outputs = stores.map((_, k) => at + k * n4);
  at += stores.length * n4;
  // Locals: i (i32), then one v128 per slot, then the helpers' temporaries.
  const slot = (s: number): number => 1 + s;
  const w = new SimdWriter(1 + nIn + nodes.length);
  const c = w.c;
  // alignment 2^4 for whole vectors, 2^2 for the one float of a splat
  const memarg = (offset: number, align = 4): void => {
    c.push(align);
    uleb(c, offset);
  };
  for (let j = 0; j < nIn; j++) {
    if (modes[j] !== "scalar") continue;
    c.push(op.i32Const, 0);
    w.v(V128_LOAD32_SPLAT);
    memarg(inputs[j]! * 4, 2);
    w.set(slot(j));
  }
  c.push(0x02, 0x40, 0x03, 0x40); // block, loop
  w.get(0);
  c.push(op.i32Const);
  sleb(c, n4 * 4);
  c.push(0x4f, 0x0d, 1); // i32.ge_u, br_if 1
  for (let j = 0; j < nIn; j++) {
    if (modes[j] === "scalar") continue;
    w.get(0).v(V128_LOAD);
    memarg(inputs[j]! * 4);
    w.set(slot(j));
  }
  for (let d = 0; d < nodes.length; d++) {
    const nd = nodes[d]!;
    const args = nd.args.map(slot);
    if (nd.op === null) w.get(args[0]!);
    else {
      const name = nd.op.name;
      const native = SIMD_NATIVE[name];
      if (native !== undefined) {
        for (const a of args) w.get(a);
        w.v(native);
      } else if (name === "maximum" || name === "minimum") {
        // a where a >= b (a <= b) or a is NaN, else b
        w.get(args[0]!).get(args[1]!).get(args[0]!).get(args[1]!).v(name === "maximum" ? F32X4_GE : F32X4_LE);
        w.get(args[0]!).get(args[0]!).v(F32X4_NE, V128_OR, V128_BITSELECT);
      } else {
        w.get(args[0]!);
        if (name === "exp") exp4(w);
        else if (name === "tanh") tanh4(w);
        else sigmoid4(w);
      }
    }
    w.set(slot(nIn + d));
  }
  stores.forEach((s, k) => {
    w.get(0).get(slot(s)).v(V128_STORE);
    memarg(outputs[k]! * 4);
  });
  w.get(0);
  c.push(op.i32Const, 16, op.i32Add);
  w.set(0);
  c.push(0x0c, 0, op.end, op.end); // br 0, end loop, end block
  const locals = [I32, ...new Array<number>(nIn + nodes.length).fill(V128), ...w.extra];
  const bytes: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  section(bytes, 1, [1, 0x60, 0, 0]);
  section(bytes, 3, [1, 0]);
  section(bytes, 5, (() => {
    const b: number[] = [1, 0];
    uleb(b, Math.max(1, Math.ceil((at * 4) / 65536)));
    return b;
  })());
  section(bytes, 7, [2, 3, 0x72, 0x75, 0x6e, 0x00, 0, 6, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0]);
  section(bytes, 10, (() => {
    const b: number[] = [];
    vector(b, [funcBody(locals, c)]);
    return b;
  })());
  try {
    const api = wasmApi()!;
    const instance = new api.Instance(new api.Module(new Uint8Array(bytes)));
    const memory = instance.exports.memory as { buffer: ArrayBuffer };
    return { run: instance.exports.run as () => void, memory: new Float32Array(memory.buffer), inputs, outputs };
  } catch {
    return null;
  }
}
